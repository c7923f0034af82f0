"""Schedule versions (docs/clinical-rules.md, "Homework and compliance"): a change of schedule applies
from the day of the change, past weeks keep the schedule they had, so editing never rewrites history.

Dates are relative to today (a change is always made today). "Week 1-3" are the three complete ISO weeks
before this one; k is the number of days of this week before today (0 on a Monday)."""

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_layer import homework
from data_layer.core import db
from data_layer.core.access import Principal
from data_layer.core.migrations import MIGRATIONS
from data_layer.reports import metrics
from tests.conftest import add_user

TODAY = date.today()
MONDAY = TODAY - timedelta(days=TODAY.weekday())  # this week's
K = TODAY.weekday()
WEEK_1, WEEK_2, WEEK_3 = (MONDAY - timedelta(weeks=n) for n in (3, 2, 1))


@pytest.fixture
def client(cur, world):
    """A client of therapist_a with no homework yet."""
    client = add_user(cur, "client_v", "Vera Client", "client")
    cur.execute(
        "INSERT INTO caseload (client_id, therapist_id, started_on) VALUES (?, ?, ?)",
        [client.user_id, world.therapist_a.user_id, WEEK_1 - timedelta(weeks=1)],
    )
    return client


def new_homework(cur, world, client, *, set_on, **schedule):
    """Homework for `client`, set by therapist_a through the data layer as if on the day `set_on`."""
    fields = {"title": "Thought record", "category": "thought_record", "schedule": "weekly", "starts_on": set_on}
    fields |= schedule
    if fields["schedule"] == "once" and fields["due_on"] < TODAY:
        # New homework cannot be due in the past: set it due today, then date it back with its version.
        assignment_id = homework.create_assignment(
            cur, world.therapist_a, client_id=client.user_id, **(fields | {"due_on": TODAY})
        )
        cur.execute("UPDATE assignments SET due_on = ? WHERE id = ?", [fields["due_on"], assignment_id])
        cur.execute(
            "UPDATE assignment_schedules SET due_on = ? WHERE assignment_id = ?", [fields["due_on"], assignment_id]
        )
    else:
        assignment_id = homework.create_assignment(cur, world.therapist_a, client_id=client.user_id, **fields)
    date_back(cur, assignment_id, set_on)
    return assignment_id


def date_back(cur, assignment_id, set_on):
    """Make the assignment's latest schedule version (and, for its first, the assignment) date from `set_on`."""
    cur.execute(
        """UPDATE assignment_schedules SET valid_from = ?
                   WHERE assignment_id = ? AND valid_from = (SELECT max(valid_from) FROM assignment_schedules
                                                             WHERE assignment_id = ?)""",
        [set_on, assignment_id, assignment_id],
    )
    cur.execute(
        """UPDATE assignments SET created_at = ?
                   WHERE id = ? AND (SELECT count(*) FROM assignment_schedules WHERE assignment_id = ?) = 1""",
        [set_on, assignment_id, assignment_id],
    )


def change(cur, world, client, assignment_id, **changes):
    """update_assignment with the assignment's current values, some of them changed."""
    row = (
        homework.list_assignments(cur, world.therapist_a, client_id=client.user_id)
        .set_index("assignment_id")
        .loc[assignment_id]
    )
    fields = {
        "title": row["title"],
        "category": row["category"],
        "instructions": row["instructions"],
        "schedule": row["schedule"],
        "times_per_week": None if row.isna()["times_per_week"] else int(row["times_per_week"]),
        "due_on": None if row.isna()["due_on"] else row["due_on"].date(),
        "starts_on": row["starts_on"].date(),
        "ends_on": None if row.isna()["ends_on"] else row["ends_on"].date(),
    }
    homework.update_assignment(cur, world.therapist_a, assignment_id=assignment_id, **(fields | changes))


def log(cur, client, assignment_id, days, status="done"):
    for day in days:
        cur.execute(
            "INSERT INTO homework_logs (assignment_id, client_id, log_date, status) VALUES (?, ?, ?, ?)",
            [assignment_id, client.user_id, day, status],
        )


def three_a_week_done(cur, client, assignment_id):
    """Done on Monday, Wednesday and Friday of weeks 1-3."""
    log(cur, client, assignment_id, [week + timedelta(days=d) for week in (WEEK_1, WEEK_2, WEEK_3) for d in (0, 2, 4)])


def weeks(cur, world, client, first=WEEK_1):
    """{week_start: (expected, credit)} of `client` from `first` to today."""
    frame = metrics.weekly_compliance(
        cur, world.therapist_a, client_id=client.user_id, window_start=first, window_end=TODAY
    )
    return {row.week_start.date(): (row.expected, row.credit) for row in frame.itertuples()}


def versions(cur, assignment_id):
    return cur.execute(
        """SELECT valid_from, schedule, times_per_week, due_on, starts_on, ends_on
                          FROM assignment_schedules WHERE assignment_id = ? ORDER BY valid_from""",
        [assignment_id],
    ).fetchall()


def test_raising_3_to_7_a_week_today_leaves_the_past_weeks_at_100_percent(cur, world, client):
    task = new_homework(cur, world, client, set_on=WEEK_1, times_per_week=3)
    three_a_week_done(cur, client, task)
    log(cur, client, task, [TODAY])
    assert weeks(cur, world, client)[WEEK_3] == (3.0, 3.0)

    change(cur, world, client, task, times_per_week=7)

    by_week = weeks(cur, world, client)
    # Weeks 1-3 keep 3 a week, all done: 100% (editing the assignment in place read 3 of 7 = 43%).
    assert [by_week[week] for week in (WEEK_1, WEEK_2, WEEK_3)] == [(3.0, 3.0)] * 3
    # This week: its k days before today at 3 a week, today at 7 a week: 3k/7 + 1 (on a Thursday,
    # 9/7 + 1 = 16/7), in 14ths 6k + 14; one done today. Days after today are not expected yet.
    assert by_week[MONDAY] == pytest.approx(((6 * K + 14) / 14, 1.0))
    assert sorted(by_week) == [WEEK_1, WEEK_2, WEEK_3, MONDAY]
    recent = metrics.recent_compliance(cur, world.therapist_a, client_id=client.user_id).iloc[0]
    assert (recent["expected_4w"], recent["credit_4w"], recent["compliance_4w"]) == (9.0, 9.0, 1.0)
    # The assignment itself now says 7 a week; its history keeps both versions.
    assert (
        homework.list_assignments(cur, world.therapist_a, client_id=client.user_id)
        .set_index("assignment_id")
        .loc[task, "times_per_week"]
        == 7
    )
    assert [(valid_from, times) for valid_from, _, times, *_ in versions(cur, task)] == [(WEEK_1, 3), (TODAY, 7)]


def test_a_week_split_by_a_change_on_wednesday_adds_up_its_parts(cur, world, client):
    task = new_homework(cur, world, client, set_on=WEEK_1, times_per_week=3)
    change(cur, world, client, task, times_per_week=7)
    date_back(cur, task, WEEK_2 + timedelta(days=2))  # as if changed on Wednesday of week 2
    log(cur, client, task, [WEEK_2 + timedelta(days=d) for d in (0, 3, 4, 5)])
    by_week = weeks(cur, world, client)
    assert by_week[WEEK_1] == (3.0, 0.0)
    # Mon-Tue at 3 a week (2 x 3 x 2 = 12), Wed-Sun at 7 (2 x 7 x 5 = 70): 82/14 = 41/7 expected, 4 done.
    assert by_week[WEEK_2] == (82 / 14, 4.0)
    assert by_week[WEEK_3] == (7.0, 0.0)


def test_a_change_on_a_paused_day_applies_after_the_pause(cur, world, client):
    task = new_homework(cur, world, client, set_on=WEEK_1, times_per_week=3)
    change(cur, world, client, task, times_per_week=7)
    date_back(cur, task, WEEK_2 + timedelta(days=2))  # changed on Wednesday of week 2, a paused day
    cur.execute(
        "INSERT INTO paused_periods (client_id, starts_on, ends_on, created_by) VALUES (?, ?, ?, ?)",
        [client.user_id, WEEK_2 + timedelta(days=2), WEEK_2 + timedelta(days=3), client.user_id],
    )
    log(cur, client, task, [WEEK_2 + timedelta(days=d) for d in (0, 4, 5)])
    frame = metrics.weekly_compliance(
        cur, world.therapist_a, client_id=client.user_id, window_start=WEEK_2, window_end=WEEK_2 + timedelta(days=6)
    ).iloc[0]
    # Mon-Tue at 3 a week (12), Wed-Thu paused (0), Fri-Sun at 7 (42): 54/14 = 27/7 expected, 3 done = 42/54.
    assert (frame["expected"], frame["credit"], frame["paused_days"]) == (54 / 14, 3.0, 2)
    assert frame["compliance"] == pytest.approx(7 / 9)


def test_two_changes_on_one_day_make_one_version(cur, world, client):
    task = new_homework(cur, world, client, set_on=WEEK_1, times_per_week=3)
    three_a_week_done(cur, client, task)
    change(cur, world, client, task, times_per_week=7)
    change(cur, world, client, task, times_per_week=5)
    assert [(valid_from, times) for valid_from, _, times, *_ in versions(cur, task)] == [(WEEK_1, 3), (TODAY, 5)]
    by_week = weeks(cur, world, client)
    assert [by_week[week] for week in (WEEK_1, WEEK_2, WEEK_3)] == [(3.0, 3.0)] * 3
    assert by_week[MONDAY][0] == pytest.approx((6 * K + 10) / 14)  # k days at 3 a week, today at 5
    # Undone the same day: back to one version, and this week reads 3 a week throughout.
    change(cur, world, client, task, times_per_week=3)
    assert [(valid_from, times) for valid_from, _, times, *_ in versions(cur, task)] == [(WEEK_1, 3)]
    assert weeks(cur, world, client)[MONDAY][0] == pytest.approx((6 * K + 6) / 14)


def test_homework_set_and_changed_the_same_day_is_one_version_from_its_start(cur, world, client):
    task = homework.create_assignment(
        cur,
        world.therapist_a,
        client_id=client.user_id,
        title="Walk",
        category="behavioural_activation",
        schedule="weekly",
        times_per_week=3,
        starts_on=WEEK_3,
    )
    change(cur, world, client, task, times_per_week=7)  # a correction of what was just set
    assert versions(cur, task) == [(TODAY, "weekly", 7, None, WEEK_3, None)]
    assert weeks(cur, world, client)[WEEK_3] == (7.0, 0.0)


def test_a_change_of_title_only_keeps_one_version(cur, world, client):
    task = new_homework(cur, world, client, set_on=WEEK_1, times_per_week=3)
    change(cur, world, client, task, title="Thought record, two columns")
    assert versions(cur, task) == [(WEEK_1, "weekly", 3, None, WEEK_1, None)]


def test_once_to_weekly_keeps_the_once_off_week_and_expects_weekly_from_today(cur, world, client):
    reading = new_homework(cur, world, client, set_on=WEEK_1, schedule="once", due_on=WEEK_2 + timedelta(days=1))
    log(cur, client, reading, [WEEK_1 + timedelta(days=4)])  # done early, on Friday of week 1
    change(cur, world, client, reading, schedule="weekly", times_per_week=2)
    by_week = weeks(cur, world, client)
    assert by_week[WEEK_2] == (1.0, 1.0)  # due on Tuesday of week 2, done: still 1 of 1
    assert WEEK_1 not in by_week and WEEK_3 not in by_week  # nothing expected in the other past weeks
    assert by_week[MONDAY] == pytest.approx((4 / 14, 0.0))  # today only, at 2 a week: 2 x 2 x 1


def test_once_changed_to_weekly_before_its_due_date_expects_nothing_before_the_change(cur, world, client):
    reading = new_homework(cur, world, client, set_on=WEEK_1, schedule="once", due_on=TODAY + timedelta(days=14))
    log(cur, client, reading, [WEEK_2])
    change(cur, world, client, reading, schedule="weekly", times_per_week=7)
    log(cur, client, reading, [TODAY])
    # 7 a week from today; the log made early for the once-off counts nowhere (nothing was due).
    assert weeks(cur, world, client) == {MONDAY: (1.0, 1.0)}


def test_weekly_to_once_due_today_does_not_count_the_weekly_logs_toward_it(cur, world, client):
    task = new_homework(cur, world, client, set_on=WEEK_1, times_per_week=3)
    three_a_week_done(cur, client, task)
    change(cur, world, client, task, schedule="once", due_on=TODAY)
    by_week = weeks(cur, world, client)
    assert [by_week[week] for week in (WEEK_1, WEEK_2, WEEK_3)] == [(3.0, 3.0)] * 3
    # This week: k days at 3 a week (6k/14) plus the once-off due today (1); the nine weekly logs,
    # all between its start and its due date, were made under the weekly schedule: none counts.
    assert by_week[MONDAY] == pytest.approx(((6 * K + 14) / 14, 0.0))
    log(cur, client, task, [TODAY])
    assert weeks(cur, world, client)[MONDAY] == pytest.approx(((6 * K + 14) / 14, 1.0))


def test_a_once_off_due_date_moved_later_still_counts_work_done_early(cur, world, client):
    reading = new_homework(cur, world, client, set_on=WEEK_1, schedule="once", due_on=WEEK_3 + timedelta(days=2))
    log(cur, client, reading, [WEEK_2])  # done early
    change(cur, world, client, reading, due_on=TODAY)
    date_back(cur, reading, WEEK_3)  # as if moved on Monday of week 3, before it was due
    # Only the version in force on its due date expects it: nothing in week 3, 1 this week, met by
    # the log of week 2.
    assert weeks(cur, world, client) == {MONDAY: (1.0, 1.0)}


def test_a_new_due_date_set_after_one_had_passed_needs_new_work(cur, world, client):
    reading = new_homework(cur, world, client, set_on=WEEK_1, schedule="once", due_on=WEEK_2 + timedelta(days=1))
    log(cur, client, reading, [WEEK_1 + timedelta(days=4)])  # done for the first due date
    change(cur, world, client, reading, due_on=WEEK_3 + timedelta(days=1))
    date_back(cur, reading, WEEK_2 + timedelta(days=2))  # as if set again on Wednesday of week 2
    # The first due date was met and stays met; the log counts toward the earliest due date it meets,
    # not toward the second as well.
    assert weeks(cur, world, client) == {WEEK_2: (1.0, 1.0), WEEK_3: (1.0, 0.0)}


def test_a_start_moved_later_keeps_the_weeks_already_expected(cur, world, client):
    task = new_homework(cur, world, client, set_on=WEEK_1, times_per_week=3)
    three_a_week_done(cur, client, task)
    change(cur, world, client, task, starts_on=MONDAY + timedelta(days=7))
    by_week = weeks(cur, world, client)
    assert [by_week[week] for week in (WEEK_1, WEEK_2, WEEK_3)] == [(3.0, 3.0)] * 3
    # This week: the k days before today at 3 a week; from today it has not started yet.
    assert by_week.get(MONDAY, (0.0, 0.0))[0] == pytest.approx(6 * K / 14)


def test_a_start_moved_earlier_does_not_make_past_weeks_expected(cur, world, client):
    task = new_homework(cur, world, client, set_on=WEEK_2, times_per_week=3)
    log(cur, client, task, [WEEK_1, WEEK_2])
    change(cur, world, client, task, starts_on=WEEK_1)
    by_week = weeks(cur, world, client)
    assert WEEK_1 not in by_week  # the schedule in force in week 1 had not started: it stays so
    assert by_week[WEEK_2] == (3.0, 1.0)


def test_ending_today_keeps_the_past_weeks(cur, world, client):
    task = new_homework(cur, world, client, set_on=WEEK_1, times_per_week=3)
    three_a_week_done(cur, client, task)
    homework.end_assignment(cur, world.therapist_a, assignment_id=task)
    by_week = weeks(cur, world, client)
    assert [by_week[week] for week in (WEEK_1, WEEK_2, WEEK_3)] == [(3.0, 3.0)] * 3
    assert by_week[MONDAY][0] == pytest.approx((6 * K + 6) / 14)  # today is its last day
    assert [ends_on for *_, ends_on in versions(cur, task)] == [None, TODAY]


def test_ending_homework_whose_end_has_passed_changes_nothing(cur, world, client):
    task = new_homework(cur, world, client, set_on=WEEK_1, times_per_week=3, ends_on=WEEK_2 + timedelta(days=6))
    homework.end_assignment(cur, world.therapist_a, assignment_id=task)
    assert versions(cur, task) == [(WEEK_1, "weekly", 3, None, WEEK_1, WEEK_2 + timedelta(days=6))]
    assert sorted(weeks(cur, world, client)) == [WEEK_1, WEEK_2]


def test_once_off_homework_ended_before_its_due_date_expects_nothing(cur, world, client):
    reading = new_homework(cur, world, client, set_on=WEEK_3, schedule="once", due_on=TODAY + timedelta(days=1))
    homework.end_assignment(cur, world.therapist_a, assignment_id=reading)
    assert weeks(cur, world, client) == {}  # it can no longer be logged after today, so it is not expected
    assert [ends_on for *_, ends_on in versions(cur, reading)] == [None, TODAY]


def test_homework_written_without_a_version_gets_its_history_on_the_first_change(cur, world):
    client = world.client_a
    # world.assignment_a is inserted by hand (3 a week, created now): it has no version yet.
    cur.execute(
        "UPDATE assignments SET created_at = ?, starts_on = ? WHERE id = ?", [WEEK_1, WEEK_1, world.assignment_a]
    )
    three_a_week_done(cur, client, world.assignment_a)
    assert versions(cur, world.assignment_a) == []
    assert weeks(cur, world, client)[WEEK_3] == (3.0, 3.0)  # read from its row meanwhile
    change(cur, world, client, world.assignment_a, times_per_week=7)
    assert [(valid_from, times) for valid_from, _, times, *_ in versions(cur, world.assignment_a)] == [
        (WEEK_1, 3),
        (TODAY, 7),
    ]
    by_week = weeks(cur, world, client)
    assert [by_week[week] for week in (WEEK_1, WEEK_2, WEEK_3)] == [(3.0, 3.0)] * 3


# ---------------------------------------------------------------- the migration

BEFORE_VERSIONS = [migration for migration in MIGRATIONS if migration[0] < "006_schedule_versions"]


def test_the_migration_gives_every_existing_assignment_one_version_and_changes_no_compliance(tmp_path, monkeypatch):
    path = tmp_path / "existing.duckdb"
    monkeypatch.setattr(db, "MIGRATIONS", BEFORE_VERSIONS)
    conn = db.connect(path)
    tables = {name for (name,) in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "assignments" in tables and "assignment_schedules" not in tables
    client, therapist = 10, 11
    conn.execute("""INSERT INTO users (id, username, display_name, role, password_hash) VALUES
                    (10, 'c', 'Client', 'client', 'x'), (11, 't', 'Therapist', 'therapist', 'x')""")
    conn.execute(
        "INSERT INTO caseload (client_id, therapist_id, started_on) VALUES (?, ?, ?)", [client, therapist, WEEK_1]
    )
    rows = [  # created on, schedule, times_per_week, due_on, starts_on, ends_on
        (WEEK_1, "weekly", 3, None, WEEK_1, None),
        (WEEK_1, "weekly", 7, None, WEEK_1 + timedelta(days=3), WEEK_2 + timedelta(days=1)),
        (WEEK_2 + timedelta(days=2), "once", None, WEEK_3 + timedelta(days=1), WEEK_2, None),
    ]
    ids = [
        conn.execute(
            """INSERT INTO assignments (client_id, therapist_id, title, category, created_at, schedule,
                                                    times_per_week, due_on, starts_on, ends_on)
                           VALUES (?, ?, 'Task', 'other', ?, ?, ?, ?, ?, ?) RETURNING id""",
            [client, therapist, *row],
        ).fetchone()[0]
        for row in rows
    ]
    for assignment_id, day in [
        (ids[0], WEEK_1),
        (ids[0], WEEK_2),
        (ids[0], WEEK_2 + timedelta(days=1)),
        (ids[1], WEEK_1 + timedelta(days=3)),
        (ids[2], WEEK_2 + timedelta(days=5)),
    ]:
        conn.execute(
            "INSERT INTO homework_logs (assignment_id, client_id, log_date, status) VALUES (?, ?, ?, 'done')",
            [assignment_id, client, day],
        )
    conn.close()

    monkeypatch.setattr(db, "MIGRATIONS", MIGRATIONS)
    conn = db.connect(path)
    try:
        assert "006_schedule_versions" in db.applied_migrations(conn)  # later migrations apply too
        stored = conn.execute("""SELECT assignment_id, valid_from, schedule, times_per_week, due_on, starts_on, ends_on
                                 FROM assignment_schedules ORDER BY assignment_id""").fetchall()
        assert stored == [(assignment_id, *row) for assignment_id, row in zip(ids, rows)]
        # Compliance by the rules, as the database read before: week 1: 3 a week (3) + 7 a week Thu-Sun
        # (4) = 7 expected, 2 done; week 2: 3 + 7 a week Mon-Tue (2) = 5 expected, 2 done; week 3: 3 +
        # the once-off due Tuesday (1) = 4, 1 done (on Saturday of week 2, early); this week: 3 a week
        # over its k days and today.
        therapist_principal = Principal(user_id=therapist, role="therapist", display_name="Therapist")
        frame = metrics.weekly_compliance(
            conn.cursor(), therapist_principal, client_id=client, window_start=WEEK_1, window_end=TODAY
        )
        by_week = {row.week_start.date(): (row.expected, row.credit) for row in frame.itertuples()}
        assert by_week == {
            WEEK_1: (7.0, 2.0),
            WEEK_2: (5.0, 2.0),
            WEEK_3: (4.0, 1.0),
            MONDAY: pytest.approx((3 * (K + 1) / 7, 0.0)),
        }
    finally:
        conn.close()


def test_the_demo_clinic_has_one_version_per_assignment_but_one(demo_path):
    # build_clinic's assignments each get one version as they were set; create_demo_database then
    # changes one schedule from 3 weeks ago (tests/data_layer/test_demo.py checks that change).
    conn = db.connect(demo_path)
    try:
        assert conn.execute("""SELECT count(*) FROM assignments a
                               WHERE (SELECT count(*) FROM assignment_schedules v WHERE v.assignment_id = a.id) <> 1
                            """).fetchone() == (1,)
        assert conn.execute("""SELECT count(*) FROM assignments a JOIN assignment_schedules v ON v.assignment_id = a.id
                               WHERE v.valid_from = CAST(a.created_at AS DATE) AND (v.schedule <> a.schedule
                                  OR v.due_on IS DISTINCT FROM a.due_on OR v.starts_on <> a.starts_on
                                  OR v.ends_on IS DISTINCT FROM a.ends_on
                                  OR (v.times_per_week IS DISTINCT FROM a.times_per_week
                                      AND (SELECT count(*) FROM assignment_schedules w
                                           WHERE w.assignment_id = a.id) = 1))""").fetchone() == (0,)
    finally:
        conn.close()


# ---------------------------------------------------------------- property: the SQL against the rule, day by day

WINDOW_FIRST = WEEK_1 - timedelta(weeks=3)  # six complete weeks, all in the past
WINDOW_LAST = WINDOW_FIRST + timedelta(days=41)
CREDIT14 = {"done": 14, "partly": 7, "not_done": 0}


def on_day(offset):
    return WINDOW_FIRST + timedelta(days=offset)


def week_of(day):
    return day - timedelta(days=day.weekday())


version_plans = st.fixed_dictionaries(
    {
        "set": st.integers(-10, 45),
        "once": st.booleans(),
        "times_per_week": st.integers(1, 14),
        "start": st.integers(-10, 45),
        "length": st.none() | st.integers(0, 30),
        "due_after": st.integers(0, 12),
    }
)
assignment_plans = st.fixed_dictionaries(
    {
        "versions": st.lists(version_plans, min_size=1, max_size=3, unique_by=lambda plan: plan["set"]),
        "stored": st.booleans(),
    }
)
log_plans = st.lists(st.tuples(st.integers(0, 1), st.integers(-10, 41), st.sampled_from(list(CREDIT14))), max_size=30)
pause_plans = st.lists(st.tuples(st.integers(-5, 41), st.integers(0, 6)), max_size=2)


def version_of(plan):
    starts_on = on_day(plan["start"])
    if plan["once"]:
        return {
            "valid_from": on_day(plan["set"]),
            "schedule": "once",
            "times_per_week": None,
            "due_on": starts_on + timedelta(days=plan["due_after"]),
            "starts_on": starts_on,
            "ends_on": None,
        }
    ends_on = None if plan["length"] is None else starts_on + timedelta(days=plan["length"])
    return {
        "valid_from": on_day(plan["set"]),
        "schedule": "weekly",
        "times_per_week": plan["times_per_week"],
        "due_on": None,
        "starts_on": starts_on,
        "ends_on": ends_on,
    }


def by_the_rule(assignments, logs, paused):
    """{week: (expected14, credit14, paused_days)} computed day by day from docs/clinical-rules.md."""
    weeks = {}
    for versions, own_logs in ((a, [log for log in logs if log[0] is a]) for a in assignments):

        def in_force(day, versions=versions):
            earlier = [v for v in versions if v["valid_from"] <= day]
            return earlier[-1] if earlier else versions[0]

        weekly_expected, weekly_paused, once_expected = {}, {}, {}
        day = WINDOW_FIRST
        while day <= WINDOW_LAST:
            v = in_force(day)
            if v["schedule"] == "weekly" and v["starts_on"] <= day <= (v["ends_on"] or day):
                week = week_of(day)
                weekly_expected[week] = weekly_expected.get(week, 0) + (0 if day in paused else 2 * v["times_per_week"])
                weekly_paused[week] = weekly_paused.get(week, 0) + (day in paused)
            day += timedelta(days=1)
        # Once-off due dates that count: the version is in force on its due date, not ended before it.
        due = sorted(
            v["due_on"]
            for v in versions
            if v["schedule"] == "once" and in_force(v["due_on"]) is v and v["due_on"] <= (v["ends_on"] or v["due_on"])
        )
        for due_on in due:
            if week_of(WINDOW_FIRST) <= week_of(due_on) <= WINDOW_LAST:
                once_expected[week_of(due_on)] = once_expected.get(week_of(due_on), 0) + 14
        weekly_credit, once_credit = {}, {}
        for _, log_date, status in own_logs:
            if log_date > WINDOW_LAST:
                continue
            if in_force(log_date)["schedule"] == "weekly":
                if log_date >= WINDOW_FIRST:
                    weekly_credit[week_of(log_date)] = weekly_credit.get(week_of(log_date), 0) + CREDIT14[status]
            else:
                met = [
                    v["due_on"]
                    for v in versions
                    if v["schedule"] == "once" and v["due_on"] in due and v["starts_on"] <= log_date <= v["due_on"]
                ]
                if met:
                    once_credit[week_of(min(met))] = once_credit.get(week_of(min(met)), 0) + CREDIT14[status]
        for week in set(weekly_expected) | set(once_expected):
            expected = weekly_expected.get(week, 0) + once_expected.get(week, 0)
            credit = min(weekly_credit.get(week, 0), weekly_expected.get(week, 0)) + min(
                once_credit.get(week, 0), once_expected.get(week, 0)
            )
            before = weeks.get(week, (0, 0, 0))
            weeks[week] = (before[0] + expected, before[1] + credit, before[2] + weekly_paused.get(week, 0))
    return weeks


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plans=st.lists(assignment_plans, min_size=1, max_size=2), log_plan=log_plans, pause_plan=pause_plans)
def test_any_history_of_versions_gives_the_rule_day_by_day(cur, world, client, plans, log_plan, pause_plan):
    cur.execute("DELETE FROM homework_logs WHERE client_id = ?", [client.user_id])
    cur.execute(
        "DELETE FROM assignment_schedules WHERE assignment_id IN (SELECT id FROM assignments WHERE client_id = ?)",
        [client.user_id],
    )
    cur.execute("DELETE FROM assignments WHERE client_id = ?", [client.user_id])
    cur.execute("DELETE FROM paused_periods WHERE client_id = ?", [client.user_id])
    assignments, ids = [], {}
    for plan in plans:
        versions = sorted((version_of(p) for p in plan["versions"]), key=lambda v: v["valid_from"])
        current = versions[-1]
        (assignment_id,) = cur.execute(
            """INSERT INTO assignments (client_id, therapist_id, title, category, schedule, times_per_week, due_on,
                                        starts_on, ends_on, created_at)
               VALUES (?, ?, 'Task', 'other', ?, ?, ?, ?, ?, ?) RETURNING id""",
            [
                client.user_id,
                world.therapist_a.user_id,
                current["schedule"],
                current["times_per_week"],
                current["due_on"],
                current["starts_on"],
                current["ends_on"],
                versions[0]["valid_from"],
            ],
        ).fetchone()
        if plan["stored"] or len(versions) > 1:
            for v in versions:
                cur.execute(
                    """INSERT INTO assignment_schedules (assignment_id, valid_from, schedule, times_per_week,
                                                                 due_on, starts_on, ends_on)
                               VALUES (?, ?, ?, ?, ?, ?, ?)""",
                    [
                        assignment_id,
                        v["valid_from"],
                        v["schedule"],
                        v["times_per_week"],
                        v["due_on"],
                        v["starts_on"],
                        v["ends_on"],
                    ],
                )
        assignments.append(versions)
        ids[id(versions)] = assignment_id
    logs = []
    for index, offset, status in log_plan:
        versions = assignments[index % len(assignments)]
        log(cur, client, ids[id(versions)], [on_day(offset)], status)
        logs.append((versions, on_day(offset), status))
    paused = set()
    for start, length in pause_plan:
        cur.execute(
            "INSERT INTO paused_periods (client_id, starts_on, ends_on, created_by) VALUES (?, ?, ?, ?)",
            [client.user_id, on_day(start), on_day(start + length), client.user_id],
        )
        paused |= {on_day(start + n) for n in range(length + 1)}

    frame = metrics.weekly_compliance(
        cur, world.therapist_a, client_id=client.user_id, window_start=WINDOW_FIRST, window_end=WINDOW_LAST
    )
    from_sql = {
        row.week_start.date(): (round(row.expected * 14), round(row.credit * 14), row.paused_days)
        for row in frame.itertuples()
    }
    assert from_sql == by_the_rule(assignments, logs, paused)
