"""Streaks that follow each assignment's own schedule (CLINICAL.md, "Homework and compliance")."""


def current_streak(weeks_met, current_week_open=True):
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
