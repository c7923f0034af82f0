"""Reminders at the client's local time (issue #16, point 7) and when a questionnaire is due (point 3),
ops/scheduler.py against a real SMTP server (aiosmtpd, the `inbox` fixture of test_scheduler.py), on a fake
clock: no test sleeps.

The world (tests/conftest.py): client_a in care with therapist_a, weekly "Thought record" 3 times a week
and no log, no questionnaire yet.
"""

from datetime import date, datetime, time, timedelta

import pytest

from data_layer import measures, reminders
from data_layer.core import db
from data_layer.core.migrations import MIGRATIONS
from ops import mailer, scheduler
from tests.conftest import add_pair, add_questionnaire
from tests.ops.test_scheduler import inbox, reminders_only  # noqa: F401 (the fixtures; reminders_only: no risk alert here)

EVERY_DAY = [1, 2, 3, 4, 5, 6, 7]


def turn_on(cur, client, address, *, send_at=time(18, 0), days=EVERY_DAY, time_zone=None):
    cur.execute("UPDATE users SET email = ? WHERE id = ?", [address, client.user_id])
    reminders.set_reminders(cur, client, enabled=True, send_at=send_at, days=list(days), time_zone=time_zone)


def tick(cur, now):
    return scheduler.tick(cur, now, mailer.send_message)


def reminders_of(cur, client):
    """(local date in the key, due_at, status, sent_at) of the client's reminders, in order."""
    return [
        (key.rsplit(":", 1)[1], due_at, status, sent_at)
        for key, due_at, status, sent_at in cur.execute(
            """SELECT message_key, due_at, status, sent_at FROM outbox
               WHERE recipient_id = ? AND kind = 'client_reminder' ORDER BY id""",
            [client.user_id],
        ).fetchall()
    ]


def minutes(start, end, step):
    """Every `step` minutes from `start` up to and including `end`."""
    now = start
    while now <= end:
        yield now
        now += timedelta(minutes=step)


# ---------------------------------------------------------------- the client's local time


@pytest.mark.parametrize(
    "day,utc_time",
    [
        (date(2027, 1, 13), time(18, 0)),  # winter: London is on GMT
        (date(2027, 7, 14), time(17, 0)),  # summer: British Summer Time, UTC+1
    ],
)
def test_london_gets_it_at_18_local_in_winter_and_summer(cur, world, inbox, day, utc_time):  # noqa: F811
    turn_on(cur, world.client_a, "alice@example.org", time_zone="Europe/London")
    at = datetime.combine(day, utc_time)
    assert tick(cur, at - timedelta(minutes=1))["queued"] == 0
    assert tick(cur, at)["sent"] == 1
    assert reminders_of(cur, world.client_a) == [(day.isoformat(), at, "sent", at)]
    assert [envelope.rcpt_tos for envelope in inbox.received] == [["alice@example.org"]]


def test_new_york_monday_evening_is_monday_though_it_is_tuesday_in_utc(cur, world, inbox):  # noqa: F811
    tuesday_1am_utc = datetime(2027, 1, 12, 1, 0)  # Monday 11 January, 20:00 in New York (EST, UTC-5)
    turn_on(cur, world.client_a, "alice@example.org", send_at=time(20), days=[2], time_zone="America/New_York")
    assert tick(cur, tuesday_1am_utc)["queued"] == 0  # Tuesday only: not yet, it is Monday there
    turn_on(cur, world.client_a, "alice@example.org", send_at=time(20), days=[1], time_zone="America/New_York")
    assert tick(cur, tuesday_1am_utc)["sent"] == 1
    assert reminders_of(cur, world.client_a) == [("2027-01-11", tuesday_1am_utc, "sent", tuesday_1am_utc)]
    # Tuesday 20:00 there (Wednesday 01:00 UTC) is Tuesday, not chosen.
    assert tick(cur, tuesday_1am_utc + timedelta(days=1))["queued"] == 0


def test_the_week_and_the_break_are_the_client_s_local_ones(cur, world, inbox):  # noqa: F811
    sunday = date(2027, 1, 17)
    monday_1am_utc = datetime(2027, 1, 18, 1, 0)  # still Sunday 20:00 in New York
    turn_on(cur, world.client_a, "alice@example.org", send_at=time(20), time_zone="America/New_York")
    add_pair(cur, world.client_a, sunday, 5, 5)  # no questionnaire due
    for _ in range(3):  # this (local) week's target of 3 is met
        cur.execute(
            "INSERT INTO homework_logs (assignment_id, client_id, log_date, status) VALUES (?, ?, ?, 'done')",
            [world.assignment_a, world.client_a.user_id, sunday - timedelta(days=2)],
        )
    assert tick(cur, monday_1am_utc)["queued"] == 0  # in UTC a new week would have begun
    # A break on Monday, their Monday: nothing on Monday evening there either.
    cur.execute(
        """INSERT INTO paused_periods (client_id, starts_on, ends_on, reason, created_by)
           VALUES (?, ?, ?, 'Trip', ?)""",
        [world.client_a.user_id, sunday + timedelta(days=1), sunday + timedelta(days=1), world.client_a.user_id],
    )
    assert tick(cur, monday_1am_utc + timedelta(days=1))["queued"] == 0
    assert tick(cur, monday_1am_utc + timedelta(days=2))["sent"] == 1  # Tuesday evening there
    assert [row[0] for row in reminders_of(cur, world.client_a)] == ["2027-01-19"]


def test_the_clinic_s_zone_applies_to_a_client_who_chose_none(cur, world, inbox, monkeypatch):  # noqa: F811
    monkeypatch.setenv("HOMEWORK_TIMEZONE", "America/New_York")
    turn_on(cur, world.client_a, "alice@example.org")  # the clinic's zone
    turn_on(cur, world.client_b, "bee@example.org", time_zone="Europe/London")  # their own
    cur.execute("DELETE FROM paused_periods WHERE client_id = ?", [world.client_b.user_id])
    day = date(2027, 1, 13)
    assert tick(cur, datetime.combine(day, time(18)))["sent"] == 1  # London's 18:00
    assert tick(cur, datetime.combine(day, time(22, 59)))["queued"] == 0
    assert tick(cur, datetime.combine(day, time(23)))["sent"] == 1  # New York's 18:00
    assert [envelope.rcpt_tos for envelope in inbox.received] == [["bee@example.org"], ["alice@example.org"]]


def test_a_stored_zone_the_database_does_not_know_counts_as_the_clinic_s_and_stops_no_one(cur, world, inbox):  # noqa: F811
    turn_on(cur, world.client_a, "alice@example.org", time_zone="Europe/Oslo")
    turn_on(cur, world.client_b, "bee@example.org", time_zone="Europe/London")
    cur.execute("DELETE FROM paused_periods WHERE client_id = ?", [world.client_b.user_id])
    # As if a tzdata update had withdrawn the name client_a once chose.
    cur.execute(
        "UPDATE reminder_preferences SET time_zone = 'Mars/Olympus_Mons' WHERE client_id = ?", [world.client_a.user_id]
    )
    summer_evening = datetime(2027, 7, 14, 17, 0)  # 18:00 in London, 17:00 UTC (the clinic's zone)
    assert tick(cur, summer_evening - timedelta(minutes=1))["queued"] == 0
    assert tick(cur, summer_evening)["sent"] == 1
    assert tick(cur, datetime(2027, 7, 14, 18, 0))["sent"] == 1
    assert [envelope.rcpt_tos for envelope in inbox.received] == [["bee@example.org"], ["alice@example.org"]]


def test_a_queued_reminder_s_day_is_over_when_the_client_s_local_day_is(cur, world, inbox):  # noqa: F811
    turn_on(cur, world.client_a, "alice@example.org", send_at=time(20), time_zone="America/New_York")
    inbox.refuse = "451 Try again later"
    monday_evening = datetime(2027, 1, 12, 1, 0)  # Monday 20:00 there, already Tuesday in UTC
    assert tick(cur, monday_evening)["retry"] == 1
    inbox.refuse = None
    # Tuesday 01:01 UTC is still Monday there: the retry goes.
    assert tick(cur, monday_evening + timedelta(minutes=1))["sent"] == 1

    turn_on(cur, world.client_a, "alice@example.org", send_at=time(23, 58), time_zone="America/New_York")
    inbox.refuse = "451 Try again later"
    late = datetime(2027, 1, 13, 4, 58)  # Tuesday 23:58 there
    assert tick(cur, late)["retry"] == 1
    inbox.refuse = None
    assert tick(cur, late + timedelta(minutes=7))["not_sent"] == 1  # Wednesday 00:05 there
    assert reminders_of(cur, world.client_a)[-1][2] == "not_sent"
    assert len(inbox.received) == 1


# ---------------------------------------------------------------- daylight saving


@pytest.mark.parametrize(
    "night,expected_a,expected_b",
    [
        # Spring forward, Sunday 28 March 2027: at 01:00 UTC London goes from 01:00 GMT to 02:00 BST, so
        # 01:30 does not exist that night; the first tick after it (02:00 BST, 01:00 UTC) sends it.
        (
            date(2027, 3, 28),
            [datetime(2027, 3, 28, 1, 0), datetime(2027, 3, 29, 0, 30)],
            [datetime(2027, 3, 28, 1, 30), datetime(2027, 3, 29, 1, 30)],
        ),
        # Fall back, Sunday 31 October 2027: at 01:00 UTC London goes from 02:00 BST back to 01:00 GMT, so
        # 01:30 comes twice (00:30 and 01:30 UTC); only the first sends.
        (
            date(2027, 10, 31),
            [datetime(2027, 10, 31, 0, 30), datetime(2027, 11, 1, 1, 30)],
            [datetime(2027, 10, 31, 2, 30), datetime(2027, 11, 1, 2, 30)],
        ),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_a_change_of_clocks_neither_skips_nor_doubles_a_reminder(cur, world, inbox, night, expected_a, expected_b):  # noqa: F811
    turn_on(cur, world.client_a, "alice@example.org", send_at=time(1, 30), time_zone="Europe/London")
    turn_on(cur, world.client_b, "bee@example.org", send_at=time(2, 30), time_zone="Europe/London")
    midnight = datetime.combine(night, time(0))
    next_morning = datetime.combine(night + timedelta(days=1), time(4))
    # Every 15 minutes from midnight UTC on the night of the change to the next morning, and every minute
    # in the hour around the change (01:00 UTC both times).
    around = midnight + timedelta(hours=1)
    clock = sorted(
        {
            *minutes(midnight, next_morning, 15),
            *minutes(around - timedelta(minutes=15), around + timedelta(minutes=45), 1),
        }
    )
    for now in clock:
        tick(cur, now)
    local_days = [night.isoformat(), (night + timedelta(days=1)).isoformat()]  # one each: none skipped
    for client, expected in ((world.client_a, expected_a), (world.client_b, expected_b)):
        assert reminders_of(cur, client) == [
            (day, sent_at, "sent", sent_at) for day, sent_at in zip(local_days, expected, strict=True)
        ]
    assert len(inbox.received) == 4


def test_new_york_s_2_30_on_the_spring_forward_night_goes_at_3_local(cur, world, inbox):  # noqa: F811
    # Sunday 14 March 2027: at 07:00 UTC New York goes from 02:00 EST to 03:00 EDT.
    turn_on(cur, world.client_a, "alice@example.org", send_at=time(2, 30), time_zone="America/New_York")
    for now in minutes(datetime(2027, 3, 14, 6, 30), datetime(2027, 3, 14, 7, 30), 1):
        tick(cur, now)
    three_local = datetime(2027, 3, 14, 7, 0)
    assert reminders_of(cur, world.client_a) == [("2027-03-14", three_local, "sent", three_local)]


# ---------------------------------------------------------------- questionnaires due


def no_weekly_homework(cur, world, before):
    cur.execute("UPDATE assignments SET ends_on = ? WHERE id = ?", [before - timedelta(days=1), world.assignment_a])


def test_a_questionnaire_due_by_the_cadence_gets_a_reminder_without_homework(cur, world, inbox):  # noqa: F811
    turn_on(cur, world.client_a, "alice@example.org")
    measures.set_questionnaire_cadence(cur, world.therapist_a, client_id=world.client_a.user_id, every_days=14)
    taken = date(2027, 2, 1)
    no_weekly_homework(cur, world, taken)
    add_questionnaire(cur, world.client_a, "PHQ-9", taken, 17)
    add_questionnaire(cur, world.client_a, "GAD-7", taken + timedelta(days=5), 12)
    for days in range(14):  # nothing due and no homework: no reminder
        assert tick(cur, datetime.combine(taken + timedelta(days=days), time(18, 5)))["queued"] == 0, days
    due = taken + timedelta(days=14)
    assert tick(cur, datetime.combine(due, time(18, 5)))["sent"] == 1  # PHQ-9 due today
    assert tick(cur, datetime.combine(due + timedelta(days=3), time(18, 5)))["sent"] == 1  # overdue
    assert [row[0] for row in reminders_of(cur, world.client_a)] == [due.isoformat(), "2027-02-18"]
    [first, _] = inbox.emails()
    assert first["Subject"] == mailer.SUBJECT
    body = first.get_body().get_content()
    assert body.startswith("You have something to log today.")
    for clinical in ("PHQ", "GAD", "questionnaire", "17", "12"):
        assert clinical not in body + first["Subject"]
    # Once taken again, nothing is due for another 14 days.
    add_questionnaire(cur, world.client_a, "PHQ-9", date(2027, 2, 19), 15)
    assert tick(cur, datetime(2027, 2, 19, 18, 5))["queued"] == 0  # GAD-7 not due until 20 February
    assert tick(cur, datetime(2027, 2, 20, 18, 5))["sent"] == 1


def test_homework_unmet_and_a_questionnaire_due_make_one_email_a_day(cur, world, inbox):  # noqa: F811
    turn_on(cur, world.client_a, "alice@example.org")  # no questionnaire ever taken: both due
    day = date(2027, 2, 1)
    for now in minutes(datetime.combine(day, time(18)), datetime.combine(day, time(23, 59)), 29):
        tick(cur, now)
    assert [row[0] for row in reminders_of(cur, world.client_a)] == [day.isoformat()]
    assert len(inbox.received) == 1


UP_TO_RISK_ALERTS = [migration for migration in MIGRATIONS if migration[0] <= "009_risk_alerts"]


def test_the_migration_keeps_every_choice_and_gives_it_the_clinic_s_zone(tmp_path, monkeypatch):
    path = tmp_path / "existing.duckdb"
    monkeypatch.setattr(db, "MIGRATIONS", UP_TO_RISK_ALERTS)
    conn = db.connect(path)
    assert db.applied_migrations(conn)[-1] == "009_risk_alerts"
    conn.execute("""INSERT INTO users (id, username, display_name, role, password_hash) VALUES
                    (10, 'c', 'Client', 'client', 'x'), (11, 'd', 'Dee', 'client', 'x')""")
    conn.execute(
        """INSERT INTO reminder_preferences (client_id, enabled, send_at, days) VALUES
           (10, true, TIME '07:45', [1, 3, 5]), (11, false, TIME '18:00', [2])"""
    )
    conn.execute(
        """INSERT INTO outbox (message_key, recipient_id, kind, due_at, status)
           VALUES ('reminder:10:2026-11-30', 10, 'client_reminder', TIMESTAMP '2026-11-30 07:45', 'sent')"""
    )
    before = conn.execute("SELECT * FROM reminder_preferences ORDER BY client_id").fetchall()
    outbox_before = conn.execute("SELECT * FROM outbox").fetchall()
    conn.close()

    monkeypatch.setattr(db, "MIGRATIONS", MIGRATIONS)
    conn = db.connect(path)
    try:
        assert "010_reminder_time_zones" in db.applied_migrations(conn)
        after = conn.execute("SELECT * FROM reminder_preferences ORDER BY client_id").fetchall()
        assert [row[:-1] for row in after] == before
        assert [row[-1] for row in after] == [None, None]  # the clinic's zone
        assert after[0][1:4] == (True, time(7, 45), [1, 3, 5])
        assert conn.execute("SELECT * FROM outbox").fetchall() == outbox_before
        conn.execute("UPDATE reminder_preferences SET time_zone = 'Europe/London' WHERE client_id = 10")
        assert conn.execute("SELECT time_zone FROM reminder_preferences WHERE client_id = 10").fetchone() == (
            "Europe/London",
        )
    finally:
        conn.close()
