"""A therapist's one-off nudge to a client and weekly digest of their caseload (issue #16), through the
outbox, against a real SMTP server (aiosmtpd on 127.0.0.1, the `inbox` fixture of test_scheduler.py)
on a fake clock.

The world (tests/conftest.py): client_a in care with therapist_a, weekly "Thought record" and no log;
client_b with therapist_b (its risk flag acknowledged here by test_scheduler's `reminders_only`).
"""

from datetime import date, datetime, time, timedelta

import duckdb
import pytest

from data_layer import caseload, reminders
from data_layer.core import db
from data_layer.core.access import AccessDenied
from data_layer.core.migrations import MIGRATIONS
from data_layer.core.validation import InvalidInput
from ops import mailer, scheduler
from tests.conftest import add_attended_sessions, add_pair, add_questionnaire, add_user
from tests.ops.test_scheduler import inbox, reminders_only, turn_on  # noqa: F401 (fixtures)

TODAY = date.today()
NOON = datetime.combine(TODAY, time(12, 0))
NINE = datetime.combine(TODAY, time(9, 0))
WEEKDAY = TODAY.isoweekday()


def messages(cur, kind):
    return cur.execute(
        "SELECT recipient_id, status, last_error, message_key FROM outbox WHERE kind = ? ORDER BY id", [kind]
    ).fetchall()


def body_of(sent):
    return sent.get_body().get_content().replace("\r\n", "\n")


def audit_rows(cur, action):
    return cur.execute(
        "SELECT actor_id, client_id, outcome, detail FROM audit_log WHERE action = ? ORDER BY id", [action]
    ).fetchall()


# ---------------------------------------------------------------- nudges


def test_a_nudge_reaches_the_client_at_the_next_tick_saying_nothing_clinical(cur, world, inbox):  # noqa: F811
    turn_on(cur, world.client_a, "alice@example.org")
    add_questionnaire(cur, world.client_a, "PHQ-9", TODAY, 17)
    nudge = reminders.send_nudge(cur, world.therapist_a, client_id=world.client_a.user_id, now=NOON)
    assert nudge == reminders.Nudge(queued_at=NOON, new=True)
    assert scheduler.tick(cur, NOON + timedelta(minutes=1), mailer.send_message)["sent"] == 1
    [sent] = inbox.emails()
    assert (sent["Subject"], sent["From"], sent["To"]) == (
        "A reminder from your clinic",
        "clinic@example.org",
        "alice@example.org",
    )
    assert sent["Auto-Submitted"] == "auto-generated"
    assert inbox.received[0].rcpt_tos == ["alice@example.org"]
    assert body_of(sent).strip() == (
        "Your therapist sent you a reminder: you have something to log.\n\n"
        "Open the app: https://homework.example.org\n\n"
        "This reminder comes from your clinic's homework app. "
        "To stop reminders, open Reminders in the app and turn them off."
    )
    for clinical in ("Thought record", "Tom Therapist", "Alice", "PHQ"):
        assert clinical not in sent.as_string()
    assert "17" not in body_of(sent) + sent["Subject"]
    key = f"nudge:{world.client_a.user_id}:{TODAY.isoformat()}"
    assert messages(cur, "nudge") == [(world.client_a.user_id, "sent", None, key)]
    assert audit_rows(cur, "send_nudge") == [(world.therapist_a.user_id, world.client_a.user_id, "ok", "queued")]


def test_a_second_nudge_the_same_day_stores_nothing_and_says_so(cur, world, inbox):  # noqa: F811
    turn_on(cur, world.client_a, "alice@example.org")
    reminders.send_nudge(cur, world.therapist_a, client_id=world.client_a.user_id, now=NOON)
    again = reminders.send_nudge(
        cur, world.therapist_a, client_id=world.client_a.user_id, now=NOON + timedelta(hours=3)
    )
    assert again == reminders.Nudge(queued_at=NOON, new=False)
    for minutes in (1, 2, 240):
        scheduler.tick(cur, NOON + timedelta(minutes=minutes), mailer.send_message)
    assert len(inbox.received) == 1
    assert len(messages(cur, "nudge")) == 1
    assert [detail for *_, detail in audit_rows(cur, "send_nudge")] == [
        "queued",
        "already nudged today: nothing queued",
    ]
    # The next day is a new day.
    tomorrow = NOON + timedelta(days=1)
    assert reminders.send_nudge(cur, world.therapist_a, client_id=world.client_a.user_id, now=tomorrow).new


def test_another_therapists_client_is_refused_and_audited(cur, world, inbox):  # noqa: F811
    turn_on(cur, world.client_a, "alice@example.org")
    with pytest.raises(AccessDenied):
        reminders.send_nudge(cur, world.therapist_b, client_id=world.client_a.user_id, now=NOON)
    assert audit_rows(cur, "send_nudge") == [(world.therapist_b.user_id, world.client_a.user_id, "denied", None)]
    assert messages(cur, "nudge") == []


def test_a_client_with_reminders_off_gets_no_nudge(cur, world, inbox):  # noqa: F811
    cur.execute("UPDATE users SET email = 'alice@example.org' WHERE id = ?", [world.client_a.user_id])
    with pytest.raises(InvalidInput) as refused:  # never turned on: off by default
        reminders.send_nudge(cur, world.therapist_a, client_id=world.client_a.user_id, now=NOON)
    assert refused.value.errors == {"nudge": reminders.NUDGE_NEEDS_REMINDERS}
    assert messages(cur, "nudge") == []
    # Queued, then the client turns reminders off before it goes: cancelled.
    turn_on(cur, world.client_a, "alice@example.org")
    reminders.send_nudge(cur, world.therapist_a, client_id=world.client_a.user_id, now=NOON)
    reminders.set_reminders(cur, world.client_a, enabled=False, send_at=time(18, 0), days=[1])
    scheduler.tick(cur, NOON + timedelta(minutes=1), mailer.send_message)
    assert inbox.received == []
    [(_, status, error, _)] = messages(cur, "nudge")
    assert (status, error) == ("not_sent", reminders.TURNED_OFF)


def test_a_discharged_client_gets_no_nudge(cur, world, inbox):  # noqa: F811
    turn_on(cur, world.client_a, "alice@example.org")
    reminders.send_nudge(cur, world.therapist_a, client_id=world.client_a.user_id, now=NOON)
    caseload.discharge_client(
        cur, world.therapist_a, client_id=world.client_a.user_id, ended_on=TODAY, reason="completed"
    )
    scheduler.tick(cur, NOON + timedelta(minutes=1), mailer.send_message)
    assert inbox.received == []
    [(_, status, error, _)] = messages(cur, "nudge")
    assert (status, error) == ("not_sent", "not sent: no longer in care")
    with pytest.raises(AccessDenied):  # and no new one: no longer the therapist's client
        reminders.send_nudge(cur, world.therapist_a, client_id=world.client_a.user_id, now=NOON + timedelta(days=1))


def test_a_deactivated_client_gets_no_nudge(cur, world, inbox):  # noqa: F811
    turn_on(cur, world.client_a, "alice@example.org")
    reminders.send_nudge(cur, world.therapist_a, client_id=world.client_a.user_id, now=NOON)
    cur.execute("UPDATE users SET active = false WHERE id = ?", [world.client_a.user_id])
    scheduler.tick(cur, NOON + timedelta(minutes=1), mailer.send_message)
    assert inbox.received == []
    assert messages(cur, "nudge")[0][1:3] == ("not_sent", "not sent: the account is deactivated")


# ---------------------------------------------------------------- weekly digests


def ago(days):
    return TODAY - timedelta(days=days)


def new_client(cur, therapist, username, name):
    client = add_user(cur, username, name, "client")
    cur.execute(
        "INSERT INTO caseload (client_id, therapist_id, started_on) VALUES (?, ?, ?)",
        [client.user_id, therapist.user_id, ago(30)],
    )
    return client


def mood(cur, client, days_ago):
    cur.execute("INSERT INTO mood_logs (client_id, log_date, mood) VALUES (?, ?, 5)", [client.user_id, ago(days_ago)])


@pytest.fixture
def caseload_a(cur, world):
    """therapist_a's four clients, each carrying one flag of the Caseload page or none:
    client_a (homework set, last log 8 days ago), Risky Rae (an open risk flag), Dee Clining (reliable
    deterioration: PHQ-9 10 -> 16 over 3 sessions) and Fine Fay (logged yesterday, no homework)."""
    therapist = world.therapist_a
    mood(cur, world.client_a, 8)
    rae = new_client(cur, therapist, "rae", "Risky Rae")
    mood(cur, rae, 1)
    (questionnaire,) = cur.execute(
        """INSERT INTO questionnaires (client_id, instrument, taken_on, item_1, item_2, item_3, item_4, item_5,
               item_6, item_7, item_8, item_9, total)
           VALUES (?, 'PHQ-9', ?, 1, 1, 1, 1, 1, 1, 1, 1, 2, 10) RETURNING id""",
        [rae.user_id, ago(1)],
    ).fetchone()
    cur.execute(
        "INSERT INTO risk_flags (client_id, therapist_id, questionnaire_id, item_9_answer, raised_at) "
        "VALUES (?, ?, ?, 2, ?)",
        [rae.user_id, therapist.user_id, questionnaire, datetime.combine(ago(3), time(9))],
    )
    dee = new_client(cur, therapist, "dee", "Dee Clining")
    mood(cur, dee, 1)
    add_pair(cur, dee, ago(20), 10, 6)
    add_pair(cur, dee, ago(3), 16, 7)
    add_attended_sessions(cur, dee, therapist, 1, 8, 15)
    fay = new_client(cur, therapist, "fay", "Fine Fay")
    mood(cur, fay, 1)
    for name in ("therapist_a", "therapist_b"):
        cur.execute("UPDATE users SET email = ? WHERE id = ?", [f"{name}@example.org", getattr(world, name).user_id])


def digest_on(cur, therapist, *, weekday=WEEKDAY, send_at=time(9, 0)):
    reminders.set_digest(cur, therapist, enabled=True, weekday=weekday, send_at=send_at)


def test_one_digest_a_week_at_the_chosen_time_with_the_caseloads_counts(cur, world, caseload_a, inbox):  # noqa: F811
    digest_on(cur, world.therapist_a)
    assert scheduler.tick(cur, NINE - timedelta(minutes=1), mailer.send_message)["queued"] == 0
    assert scheduler.tick(cur, NINE, mailer.send_message)["sent"] == 1
    [sent] = inbox.emails()
    assert (sent["Subject"], sent["To"]) == ("Your weekly caseload digest", "therapist_a@example.org")
    assert body_of(sent).strip() == (
        "Your weekly digest from the clinic's homework app.\n\n"
        "Your current clients: 4. Of them:\n"
        "- with an open risk flag: 1\n"
        "- homework set but no log for 7 days or more: 1\n"
        "- reliable deterioration: 1\n\n"
        "Open the app: https://homework.example.org\n\n"
        "This email holds counts only; the app's Caseload page shows who. "
        "To stop this digest, turn it off on the Caseload page."
    )
    for detail in ("Alice", "Rae", "Dee", "Fay", "Thought record", "PHQ"):
        assert detail not in sent.as_string(), detail
    assert "16" not in body_of(sent) + sent["Subject"]  # Dee's latest PHQ-9 (a Date header may hold any digits)
    iso_year, iso_week, _ = TODAY.isocalendar()
    key = f"digest:{world.therapist_a.user_id}:{iso_year}-W{iso_week:02d}"
    assert messages(cur, "therapist_digest") == [(world.therapist_a.user_id, "sent", None, key)]
    assert audit_rows(cur, "caseload_digest") == [(world.therapist_a.user_id, None, "ok", None)]
    # Later that day, and after moving the time within the same week: not again.
    assert scheduler.tick(cur, NINE + timedelta(hours=3), mailer.send_message)["queued"] == 0
    digest_on(cur, world.therapist_a, send_at=time(15, 0))
    assert scheduler.tick(cur, NINE + timedelta(hours=6), mailer.send_message)["queued"] == 0
    assert len(inbox.received) == 1
    # The same day next week: the next one.
    assert scheduler.tick(cur, NINE + timedelta(days=7, hours=6), mailer.send_message)["sent"] == 1


def test_a_therapist_with_the_digest_off_gets_none(cur, world, caseload_a, inbox):  # noqa: F811
    digest_on(cur, world.therapist_a, weekday=WEEKDAY % 7 + 1)  # tomorrow
    for hours in range(0, 24, 3):
        scheduler.tick(cur, datetime.combine(TODAY, time(0)) + timedelta(hours=hours), mailer.send_message)
    assert messages(cur, "therapist_digest") == []  # therapist_b never turned it on; a's day is tomorrow
    digest_on(cur, world.therapist_a)
    scheduler.tick(cur, NINE - timedelta(minutes=1), mailer.send_message)
    scheduler.tick(cur, NINE, mailer.send_message)
    assert len(inbox.received) == 1
    # Turned off while its digest waits for a retry: it goes no more.
    cur.execute("UPDATE outbox SET status = 'queued', sent_at = NULL")
    reminders.set_digest(cur, world.therapist_a, enabled=False, weekday=1, send_at=time(9, 0))
    scheduler.tick(cur, NINE + timedelta(minutes=1), mailer.send_message)
    assert len(inbox.received) == 1
    assert messages(cur, "therapist_digest")[0][1:3] == ("not_sent", reminders.DIGEST_TURNED_OFF)
    assert [detail for *_, detail in audit_rows(cur, "set_digest")] == ["on", "on", "off; 1 queued cancelled"]


def test_a_deactivated_therapist_gets_no_digest(cur, world, caseload_a, inbox):  # noqa: F811
    digest_on(cur, world.therapist_a)
    cur.execute("UPDATE users SET active = false WHERE id = ?", [world.therapist_a.user_id])
    assert scheduler.tick(cur, NINE, mailer.send_message)["queued"] == 0
    # Queued while active, deactivated before it went: not sent.
    cur.execute("UPDATE users SET active = true WHERE id = ?", [world.therapist_a.user_id])
    inbox.refuse = "451 Try again later"
    assert scheduler.tick(cur, NINE, mailer.send_message)["retry"] == 1
    cur.execute("UPDATE users SET active = false WHERE id = ?", [world.therapist_a.user_id])
    inbox.refuse = None
    scheduler.tick(cur, NINE + timedelta(minutes=1), mailer.send_message)
    assert inbox.received == []
    assert messages(cur, "therapist_digest")[0][1:3] == ("not_sent", "not sent: the account is deactivated")


def test_digests_beyond_a_ticks_share_wait_for_the_next_tick(cur, world, caseload_a, inbox, monkeypatch):  # noqa: F811
    monkeypatch.setattr(scheduler, "MAX_DIGESTS_PER_TICK", 1)
    digest_on(cur, world.therapist_a)
    digest_on(cur, world.therapist_b)
    assert scheduler.tick(cur, NINE, mailer.send_message)["sent"] == 1
    assert [status for _, status, *_ in messages(cur, "therapist_digest")] == ["sent", "queued"]
    assert scheduler.tick(cur, NINE + timedelta(minutes=1), mailer.send_message)["sent"] == 1
    assert sorted(message["To"] for message in inbox.emails()) == ["therapist_a@example.org", "therapist_b@example.org"]


def test_digest_settings_refuse_a_day_outside_the_week(cur, world):
    with pytest.raises(InvalidInput) as refused:
        reminders.set_digest(cur, world.therapist_a, enabled=True, weekday=8, send_at=None)
    assert set(refused.value.errors) == {"weekday", "send_at"}
    assert reminders.digest_settings(cur, world.therapist_a) == reminders.DEFAULT_DIGEST


# ---------------------------------------------------------------- the migration

UP_TO_RISK_ALERTS = [migration for migration in MIGRATIONS if migration[0] <= "009_risk_alerts"]


def test_a_database_at_009_migrates_keeping_its_outbox(tmp_path, monkeypatch):
    path = tmp_path / "existing.duckdb"
    monkeypatch.setattr(db, "MIGRATIONS", UP_TO_RISK_ALERTS)
    conn = db.connect(path)
    assert db.applied_migrations(conn)[-1] == "009_risk_alerts"
    conn.execute("""INSERT INTO users (id, username, display_name, role, password_hash) VALUES
                    (10, 'c', 'Client', 'client', 'x'), (11, 't', 'Therapist', 'therapist', 'x')""")
    conn.execute(
        """INSERT INTO outbox (message_key, recipient_id, kind, due_at, status, attempts, last_error, sent_at)
           VALUES ('reminder:10:2026-11-01', 10, 'client_reminder', TIMESTAMP '2026-11-01 18:00', 'sent', 1, NULL,
                   TIMESTAMP '2026-11-01 18:00'),
                  ('risk_alert:1:11', 11, 'risk_alert', TIMESTAMP '2026-11-02 09:00', 'failed', 10, 'refused', NULL)"""
    )
    with pytest.raises(duckdb.ConstraintException):
        conn.execute("INSERT INTO outbox (message_key, recipient_id, kind, due_at) VALUES ('n', 10, 'nudge', now())")
    before = conn.execute("SELECT * FROM outbox ORDER BY id").fetchall()
    conn.close()

    monkeypatch.setattr(db, "MIGRATIONS", MIGRATIONS)
    conn = db.connect(path)
    try:
        assert "011_nudges_and_digests" in db.applied_migrations(conn)
        assert conn.execute("SELECT * FROM outbox ORDER BY id").fetchall() == before
        for key, recipient, kind in (
            ("nudge:10:2026-11-03", 10, "nudge"),
            ("digest:11:2026-W45", 11, "therapist_digest"),
        ):
            (new_id,) = conn.execute(
                "INSERT INTO outbox (message_key, recipient_id, kind, due_at) VALUES (?, ?, ?, now()) RETURNING id",
                [key, recipient, kind],
            ).fetchone()
            assert new_id > max(row[0] for row in before)
        for bad in (["nudge:10:2026-11-03", 10, "nudge"], ["other", 11, "newsletter"], ["ghost", 99, "nudge"]):
            with pytest.raises(duckdb.ConstraintException):
                conn.execute(
                    "INSERT INTO outbox (message_key, recipient_id, kind, due_at) VALUES (?, ?, ?, now())", bad
                )
        conn.execute("INSERT INTO digest_preferences (therapist_id, enabled) VALUES (11, true)")
        assert conn.execute("SELECT weekday, send_at FROM digest_preferences").fetchall() == [(1, time(8, 0))]
    finally:
        conn.close()
