"""Risk alerts (issue #16): a new PHQ-9 item-9 flag emails the client's therapist, or the clinic's
safety contacts when the client has none, at the next scheduler tick, against a real SMTP server
(aiosmtpd on 127.0.0.1, the `inbox` fixture of test_scheduler.py) on a fake clock.

The world (tests/conftest.py): client_a in care with therapist_a; client_b with therapist_b, whose
risk flag (risk_flag_b) is already raised. The admin and supervisors a and b are the safety contacts.
"""

from datetime import datetime, timedelta

import duckdb
import pytest

from data_layer import audit_log, measures, reminders
from data_layer.core import db
from data_layer.core.migrations import MIGRATIONS
from ops import mailer, scheduler
from tests.ops.test_scheduler import inbox  # noqa: F401 (the fixture)

ITEM_9 = [2, 2, 2, 2, 2, 2, 2, 2, 1]  # total 17, item 9 answered 1
EMAILS = {
    "admin": "ada@example.org",
    "therapist_a": "tom@example.org",
    "supervisor_a": "sue@example.org",
    "supervisor_b": "sb@example.org",
    "therapist_b": "tb@example.org",
    "client_a": "alice@example.org",
}


def give_emails(cur, world):
    for name, address in EMAILS.items():
        cur.execute("UPDATE users SET email = ? WHERE id = ?", [address, getattr(world, name).user_id])


def flag_of(cur, client):
    """Raise a flag as the client does (PHQ-9 with item 9 = 1); return (flag id, a `now` just after it)."""
    assert measures.submit_questionnaire(cur, client, instrument="PHQ-9", answers=ITEM_9).risk_flag_raised
    flag_id, raised_at = cur.execute(
        "SELECT id, raised_at FROM risk_flags WHERE client_id = ? ORDER BY id DESC LIMIT 1", [client.user_id]
    ).fetchone()
    return flag_id, raised_at + timedelta(seconds=30)


def forget_older_flags(cur, world):
    """The world's flag of client_b is raised now too: acknowledge it, so that only the test's flag counts."""
    cur.execute(
        "INSERT INTO risk_acknowledgements (risk_flag_id, therapist_id, note) VALUES (?, ?, 'seen')",
        [world.risk_flag_b, world.therapist_b.user_id],
    )


def alerts(cur):
    return cur.execute(
        """SELECT recipient_id, status, last_error, message_key FROM outbox WHERE kind = 'risk_alert' ORDER BY id"""
    ).fetchall()


def assert_no_client_details(sent, world, total="17"):
    text = sent["Subject"] + "\n" + sent.get_body().get_content()
    for detail in ("Alice", "Client A", world.client_a.display_name, "client_a", "alice@", "item 9", "Item 9", "PHQ"):
        assert detail not in text, detail
    assert total not in text


def test_a_new_item_9_flag_reaches_the_therapist_within_one_tick_and_once(cur, world, inbox):  # noqa: F811
    give_emails(cur, world)
    forget_older_flags(cur, world)
    flag_id, now = flag_of(cur, world.client_a)
    counts = scheduler.tick(cur, now, mailer.send_message)
    assert (counts["queued"], counts["sent"]) == (1, 1)
    [sent] = inbox.emails()
    assert inbox.received[0].rcpt_tos == ["tom@example.org"]
    assert sent["Subject"] == "A client on your caseload needs attention"
    body = sent.get_body().get_content().replace("\r\n", "\n")
    assert body.strip() == (
        "A client on your caseload answered a questionnaire in a way that needs your attention today.\n\n"
        "Open the app: https://homework.example.org\n\n"
        "This email holds no client details; the app shows who and why."
    )
    assert_no_client_details(sent, world)
    assert alerts(cur) == [
        (world.therapist_a.user_id, "sent", None, f"risk_alert:{flag_id}:{world.therapist_a.user_id}")
    ]
    # The next ticks send nothing more.
    for minutes in (1, 60, 23 * 60):
        assert scheduler.tick(cur, now + timedelta(minutes=minutes), mailer.send_message)["sent"] == 0
    assert len(inbox.received) == 1


def test_a_client_with_no_therapist_alerts_each_active_safety_contact(cur, world, inbox):  # noqa: F811
    give_emails(cur, world)
    forget_older_flags(cur, world)
    cur.execute("DELETE FROM caseload WHERE client_id = ?", [world.client_a.user_id])
    cur.execute("UPDATE users SET active = false WHERE id = ?", [world.supervisor_b.user_id])
    flag_id, now = flag_of(cur, world.client_a)
    assert cur.execute("SELECT therapist_id FROM risk_flags WHERE id = ?", [flag_id]).fetchone() == (None,)
    assert scheduler.tick(cur, now, mailer.send_message)["sent"] == 2
    assert sorted(envelope.rcpt_tos[0] for envelope in inbox.received) == ["ada@example.org", "sue@example.org"]
    for sent in inbox.emails():
        assert sent["Subject"] == "A client with no current therapist needs attention"
        assert sent.get_body().get_content().startswith("A client with no current therapist answered")
        assert_no_client_details(sent, world)
    assert {recipient for recipient, *_ in alerts(cur)} == {world.admin.user_id, world.supervisor_a.user_id}
    scheduler.tick(cur, now + timedelta(minutes=1), mailer.send_message)
    assert len(inbox.received) == 2


def test_a_deactivated_therapist_leaves_the_alert_to_the_safety_contacts(cur, world, inbox):  # noqa: F811
    give_emails(cur, world)
    forget_older_flags(cur, world)
    _, now = flag_of(cur, world.client_a)
    cur.execute("UPDATE users SET active = false WHERE id = ?", [world.therapist_a.user_id])
    assert scheduler.tick(cur, now, mailer.send_message)["sent"] == 3
    assert sorted(envelope.rcpt_tos[0] for envelope in inbox.received) == [
        "ada@example.org",
        "sb@example.org",
        "sue@example.org",
    ]


def test_a_flag_acknowledged_before_the_alert_goes_is_not_sent(cur, world, inbox):  # noqa: F811
    give_emails(cur, world)
    forget_older_flags(cur, world)
    flag_id, now = flag_of(cur, world.client_a)
    assert scheduler.queue_risk_alerts(cur, now) == 1
    measures.acknowledge_risk_flag(cur, world.therapist_a, risk_flag_id=flag_id, note="Phoned, safe.")
    counts = scheduler.tick(cur, now, mailer.send_message)
    assert (counts["queued"], counts["sent"], counts["not_sent"]) == (0, 0, 1)
    assert alerts(cur)[0][1:3] == ("not_sent", "not sent: flag already acknowledged")
    assert inbox.received == []


def test_a_flag_acknowledged_before_the_tick_queues_nothing(cur, world, inbox):  # noqa: F811
    give_emails(cur, world)
    forget_older_flags(cur, world)
    flag_id, now = flag_of(cur, world.client_a)
    measures.acknowledge_risk_flag(cur, world.therapist_a, risk_flag_id=flag_id, note="Seen in session.")
    assert scheduler.tick(cur, now, mailer.send_message)["queued"] == 0
    assert inbox.received == []


def test_a_flag_older_than_24_hours_queues_nothing(cur, world, inbox):  # noqa: F811
    give_emails(cur, world)
    forget_older_flags(cur, world)
    _, now = flag_of(cur, world.client_a)
    assert scheduler.tick(cur, now + timedelta(hours=24, minutes=1), mailer.send_message)["queued"] == 0
    assert alerts(cur) == []
    assert inbox.received == []


def test_the_world_flag_of_client_b_alerts_therapist_b(cur, world, inbox):  # noqa: F811
    give_emails(cur, world)
    (raised_at,) = cur.execute("SELECT raised_at FROM risk_flags WHERE id = ?", [world.risk_flag_b]).fetchone()
    scheduler.tick(cur, raised_at + timedelta(minutes=1), mailer.send_message)
    assert [envelope.rcpt_tos for envelope in inbox.received] == [["tb@example.org"]]


def test_without_a_mail_server_the_alert_is_not_sent_with_the_reason(cur, world, monkeypatch):
    monkeypatch.delenv("HOMEWORK_SMTP_HOST", raising=False)
    give_emails(cur, world)
    forget_older_flags(cur, world)
    _, now = flag_of(cur, world.client_a)
    calls = []
    counts = scheduler.tick(cur, now, calls.append)
    assert (counts["queued"], counts["not_sent"]) == (1, 1)
    assert calls == []
    assert alerts(cur)[0][1:3] == ("not_sent", scheduler.NO_MAIL_SERVER)


def test_reminder_rechecks_do_not_apply_to_a_risk_alert(cur, world, inbox):  # noqa: F811
    """A therapist has no reminder settings and is in no one's care: the alert still goes, even a day later."""
    give_emails(cur, world)
    forget_older_flags(cur, world)
    _, now = flag_of(cur, world.client_a)
    inbox.refuse = "451 Try again later"
    assert scheduler.tick(cur, now, mailer.send_message)["retry"] == 1
    inbox.refuse = None
    cur.execute("UPDATE outbox SET next_attempt_at = ?", [now + timedelta(days=1)])
    assert scheduler.tick(cur, now + timedelta(days=1), mailer.send_message)["sent"] == 1


# ---------------------------------------------------------------- the migration

UP_TO_REMINDERS = [migration for migration in MIGRATIONS if migration[0] <= "008_reminders"]


def test_the_migration_keeps_the_outbox_rows_and_allows_risk_alerts(tmp_path, monkeypatch):
    path = tmp_path / "existing.duckdb"
    monkeypatch.setattr(db, "MIGRATIONS", UP_TO_REMINDERS)
    conn = db.connect(path)
    assert db.applied_migrations(conn)[-1] == "008_reminders"
    conn.execute("""INSERT INTO users (id, username, display_name, role, password_hash) VALUES
                    (10, 'c', 'Client', 'client', 'x'), (11, 't', 'Therapist', 'therapist', 'x')""")
    conn.execute(
        """INSERT INTO outbox (message_key, recipient_id, kind, due_at, status, attempts, last_error, sent_at)
           VALUES ('reminder:10:2026-11-01', 10, 'client_reminder', TIMESTAMP '2026-11-01 18:00', 'sent', 1, NULL,
                   TIMESTAMP '2026-11-01 18:00'),
                  ('reminder:10:2026-11-02', 10, 'client_reminder', TIMESTAMP '2026-11-02 18:00', 'not_sent', 0,
                   'not sent: no mail server configured', NULL)"""
    )
    try:
        conn.execute(
            "INSERT INTO outbox (message_key, recipient_id, kind, due_at) VALUES ('x', 11, 'risk_alert', now())"
        )
        raise AssertionError("008's outbox took a risk alert")
    except duckdb.ConstraintException:
        pass
    before = conn.execute("SELECT * FROM outbox ORDER BY id").fetchall()
    conn.close()

    monkeypatch.setattr(db, "MIGRATIONS", MIGRATIONS)
    conn = db.connect(path)
    try:
        assert "009_risk_alerts" in db.applied_migrations(conn)
        assert conn.execute("SELECT * FROM outbox ORDER BY id").fetchall() == before
        (new_id,) = conn.execute(
            """INSERT INTO outbox (message_key, recipient_id, kind, due_at)
               VALUES ('risk_alert:1:11', 11, 'risk_alert', TIMESTAMP '2026-11-03 09:00') RETURNING id"""
        ).fetchone()
        assert new_id > max(row[0] for row in before)  # the same sequence goes on
        # The constraints came along: a unique key, a known kind, an existing recipient.
        for bad in (
            ["risk_alert:1:11", 11, "risk_alert"],
            ["other", 11, "newsletter"],
            ["ghost", 99, "risk_alert"],
        ):
            with pytest.raises(duckdb.ConstraintException):
                conn.execute(
                    "INSERT INTO outbox (message_key, recipient_id, kind, due_at) VALUES (?, ?, ?, now())", bad
                )
        # Users referenced by the rebuilt outbox can still be updated (deactivated).
        conn.execute("UPDATE users SET active = false WHERE id = 11")
        assert "outbox_new" not in {
            name for (name,) in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
    finally:
        conn.close()


def test_the_admin_sees_risk_alerts_in_the_outbox_beside_reminders(cur, world, inbox):  # noqa: F811
    give_emails(cur, world)
    forget_older_flags(cur, world)
    _, now = flag_of(cur, world.client_a)
    scheduler.tick(cur, now, mailer.send_message)
    [row] = reminders.list_outbox(cur, world.admin, kind="risk_alert").to_dict("records")
    assert (row["status"], row["kind"]) == ("sent", "risk_alert")
    assert len(reminders.list_outbox(cur, world.admin)) == 1
    # Who was alerted at which minute would point at the client: the recipient is not shown and
    # the times are to the day.
    assert row["recipient"] == "(not shown: risk alert)"
    assert row["sent_at"] == datetime.combine(now.date(), datetime.min.time())
    assert "Tom" not in str(row)


def test_a_risk_alert_is_audited_but_never_shown_in_the_admins_audit_viewer(cur, world, inbox):  # noqa: F811
    give_emails(cur, world)
    forget_older_flags(cur, world)
    _, now = flag_of(cur, world.client_a)
    scheduler.tick(cur, now, mailer.send_message)
    assert cur.execute("SELECT actor_role, action, outcome FROM audit_log WHERE record_kind = 'outbox'").fetchall() == [
        ("scheduler", "send_risk_alert", "ok")
    ]
    # Sent a minute after client_a's questionnaire, it would tell the admin that item 9 was above 0.
    shown = audit_log.list_audit_events(cur, world.admin)
    assert not set(shown["action"]) & {"send_risk_alert", "skip_risk_alert"}
    assert "send_risk_alert" not in audit_log.list_audit_actions(cur, world.admin)
