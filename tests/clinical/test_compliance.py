"""Compliance arithmetic of docs/clinical-rules.md, computed by the SQL in data_layer/reports/metrics.py,
against hand-computed cases. Weeks are ISO weeks starting on Monday 5 January 2026."""

import math
from datetime import date, timedelta

import pytest

from clinical.compliance import current_streak
from data_layer.reports import metrics
from tests.conftest import add_user

MONDAY = date(2026, 1, 5)


def day(offset):
    return MONDAY + timedelta(days=offset)


@pytest.fixture
def client(cur, world):
    client = add_user(cur, "client_c", "Carla Client", "client")
    cur.execute(
        "INSERT INTO caseload (client_id, therapist_id, started_on) VALUES (?, ?, ?)",
        [client.user_id, world.therapist_a.user_id, day(-30)],
    )
    return client


def assign(cur, client, starts_on, times_per_week=None, ends_on=None, due_on=None, title="Task"):
    schedule = "once" if due_on else "weekly"
    (assignment_id,) = cur.execute(
        """INSERT INTO assignments (client_id, therapist_id, title, category, schedule,
                                    times_per_week, due_on, starts_on, ends_on)
           VALUES (?, (SELECT therapist_id FROM caseload WHERE client_id = ?), ?, 'other', ?, ?, ?, ?, ?)
           RETURNING id""",
        [client.user_id, client.user_id, title, schedule, times_per_week, due_on, starts_on, ends_on],
    ).fetchone()
    return assignment_id


def log(cur, client, assignment_id, days, status="done"):
    for offset in days:
        cur.execute(
            "INSERT INTO homework_logs (assignment_id, client_id, log_date, status) VALUES (?, ?, ?, ?)",
            [assignment_id, client.user_id, day(offset), status],
        )


def pause(cur, client, first, last):
    cur.execute(
        "INSERT INTO paused_periods (client_id, starts_on, ends_on, created_by) VALUES (?, ?, ?, ?)",
        [client.user_id, day(first), day(last), client.user_id],
    )


def weeks(cur, client, first=0, last=6):
    frame = metrics.weekly_compliance(
        cur, client, client_id=client.user_id, window_start=day(first), window_end=day(last)
    )
    return frame.set_index("week_start")


def only_week(cur, client, first=0, last=6):
    frame = weeks(cur, client, first, last)
    assert len(frame) == 1
    return frame.iloc[0]


def test_daily_task_done_every_day_is_full_compliance(cur, client):
    task = assign(cur, client, day(0), times_per_week=7)
    log(cur, client, task, range(7))
    assert only_week(cur, client)["compliance"] == 1.0


def test_partly_done_counts_half(cur, client):
    task = assign(cur, client, day(0), times_per_week=3)
    log(cur, client, task, [0, 2])
    log(cur, client, task, [4], status="partly")
    week = only_week(cur, client)
    assert (week["expected"], week["credit"]) == (3.0, 2.5)
    assert week["compliance"] == pytest.approx(2.5 / 3)


def test_not_done_counts_nothing(cur, client):
    task = assign(cur, client, day(0), times_per_week=2)
    log(cur, client, task, [0, 1], status="not_done")
    log(cur, client, task, [2])
    assert only_week(cur, client)["compliance"] == 0.5


def test_over_logging_is_capped_at_what_was_expected(cur, client):
    task = assign(cur, client, day(0), times_per_week=3)
    log(cur, client, task, range(6))
    assert only_week(cur, client)["credit"] == 3.0
    assert only_week(cur, client)["compliance"] == 1.0


def test_partial_first_week_expects_only_the_days_inside(cur, client):
    task = assign(cur, client, day(3), times_per_week=7)  # starts on Thursday: 4 days
    log(cur, client, task, [3, 4])
    week = only_week(cur, client)
    assert week["expected"] == 4.0
    assert week["compliance"] == 0.5


def test_partial_last_week_expects_only_the_days_inside(cur, client):
    task = assign(cur, client, day(-7), times_per_week=3, ends_on=day(1))  # ends on Tuesday
    log(cur, client, task, [0])
    week = only_week(cur, client)
    assert week["expected"] == pytest.approx(3 * 2 / 7)
    assert week["compliance"] == 1.0  # one done, capped at 6/7


def test_paused_days_are_not_expected(cur, client):
    task = assign(cur, client, day(0), times_per_week=7)
    pause(cur, client, 0, 2)  # Monday to Wednesday off
    log(cur, client, task, [4, 5])
    week = only_week(cur, client)
    assert (week["expected"], week["paused_days"]) == (4.0, 3)
    assert week["compliance"] == 0.5


def test_a_fully_paused_week_is_paused_not_missed(cur, client):
    assign(cur, client, day(0), times_per_week=3)
    pause(cur, client, -2, 9)
    week = only_week(cur, client)
    assert week["status"] == "paused"
    assert math.isnan(week["compliance"])


def test_once_assignment_expects_one_in_the_week_it_is_due(cur, client):
    done = assign(cur, client, day(-10), due_on=day(2), title="Read leaflet")
    assign(cur, client, day(-10), due_on=day(9), title="Due next week")
    log(cur, client, done, [1])
    frame = weeks(cur, client, first=0, last=13)
    assert list(frame["expected"]) == [1.0, 1.0]
    assert list(frame["compliance"]) == [1.0, 0.0]


def test_once_assignment_done_the_friday_before_a_tuesday_due_date_is_fully_done(cur, client):
    reading = assign(cur, client, day(0), due_on=day(8), title="Read leaflet")  # due Tuesday of week 2
    log(cur, client, reading, [4])  # Friday of week 1
    frame = weeks(cur, client, first=0, last=13)
    assert [week.date() for week in frame.index] == [day(7)]  # before its due week it expects nothing
    assert (frame.iloc[0]["expected"], frame.iloc[0]["credit"], frame.iloc[0]["compliance"]) == (1.0, 1.0, 1.0)
    # Also when the window starts in the due week, after the day it was done.
    row = metrics.compliance_by_assignment(
        cur, client, client_id=client.user_id, window_start=day(7), window_end=day(13)
    ).iloc[0]
    assert (row["compliance"], list(row["met"])) == (1.0, [True])


def test_once_assignment_partly_done_early_and_partly_in_its_week_adds_up(cur, client):
    reading = assign(cur, client, day(0), due_on=day(8), title="Read leaflet")
    log(cur, client, reading, [2, 7], status="partly")  # Wednesday of week 1, Monday of week 2
    assert only_week(cur, client, first=7, last=13)[["expected", "credit"]].tolist() == [1.0, 1.0]


def test_once_assignment_logged_after_its_due_date_or_before_its_start_counts_nothing(cur, client):
    reading = assign(cur, client, day(3), due_on=day(8), title="Read leaflet")
    log(cur, client, reading, [2, 9])  # the day before it was set, and the day after it was due
    week = only_week(cur, client, first=7, last=13)
    assert (week["expected"], week["compliance"]) == (1.0, 0.0)


def test_several_assignments_add_up_before_dividing(cur, client):
    daily = assign(cur, client, day(0), times_per_week=7)
    assign(cur, client, day(0), times_per_week=1)
    log(cur, client, daily, range(7))
    assert only_week(cur, client)["compliance"] == pytest.approx(7 / 8)


def test_nothing_expected_is_undefined_not_zero(cur, client):
    assert weeks(cur, client).empty
    frame = metrics.compliance_by_assignment(
        cur, client, client_id=client.user_id, window_start=day(0), window_end=day(6)
    )
    assert frame.empty


def test_compliance_over_a_window_sums_weeks_before_dividing(cur, client):
    task = assign(cur, client, day(0), times_per_week=3)
    log(cur, client, task, [0, 1, 2, 3])  # week 1: 4 logged, capped at 3
    log(cur, client, task, [9])  # week 2: 1 of 3
    frame = metrics.compliance_by_assignment(
        cur, client, client_id=client.user_id, window_start=day(0), window_end=day(13)
    )
    row = frame.iloc[0]
    assert (row["expected"], row["credit"]) == (6.0, 4.0)
    assert row["compliance"] == pytest.approx(4 / 6)
    assert list(row["met"]) == [True, False]


def test_days_after_today_are_not_expected_yet(cur, client):
    today = date.today()
    task = assign(cur, client, today, times_per_week=7)
    cur.execute(
        "INSERT INTO homework_logs (assignment_id, client_id, log_date, status) VALUES (?, ?, ?, 'done')",
        [task, client.user_id, today],
    )
    frame = metrics.weekly_compliance(
        cur, client, client_id=client.user_id, window_start=today, window_end=today + timedelta(days=6)
    )
    assert list(frame["expected"]) == [1.0]
    assert list(frame["compliance"]) == [1.0]


@pytest.mark.parametrize(
    "weeks_met,streak",
    [
        ([True, True, True], 3),
        ([True, False, True, True], 2),
        ([True, True, False], 2),  # this week is still open
        ([True, None, True], 2),  # a paused week neither counts nor breaks
        ([False], 0),
        ([], 0),
    ],
)
def test_streaks_follow_the_schedule(weeks_met, streak):
    assert current_streak(weeks_met) == streak


def test_a_closed_week_that_was_missed_breaks_the_streak():
    assert current_streak([True, True, False], current_week_open=False) == 0
