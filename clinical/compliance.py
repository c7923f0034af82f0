"""Streaks that follow each assignment's own schedule, and the weeks of "Compliance, last 4 weeks"
(docs/clinical-rules.md, "Homework and compliance")."""

from collections.abc import Iterable
from datetime import date, timedelta

RECENT_WEEKS = 4


def last_complete_weeks(today: date, weeks: int = RECENT_WEEKS) -> tuple[date, date]:
    """Return (first Monday, last Sunday) of the `weeks` most recent complete ISO weeks before `today`.

    The week holding `today` is still in progress, so it is never one of them.
    """
    this_monday = today - timedelta(days=today.weekday())
    return this_monday - timedelta(weeks=weeks), this_monday - timedelta(days=1)


def current_streak(weeks_met: Iterable[bool | None], current_week_open: bool = True) -> int:
    """Return how many scheduled weeks in a row ended with the homework met, up to now.

    `weeks_met` is oldest first: True (credit reached what was expected), False, or
    None (nothing expected, e.g. a paused week: skipped without breaking the streak).
    The current week, still open, only adds to the streak once it is met.
    """
    weeks = list(weeks_met)
    if current_week_open and weeks and weeks[-1] is False:
        weeks.pop()
    streak = 0
    for met in reversed(weeks):
        if met is None:
            continue
        if not met:
            break
        streak += 1
    return streak
