"""Reminders at the client's local time (issue #16, point 7) and when a questionnaire is due (point 3),
ops/scheduler.py against a real SMTP server (aiosmtpd, tests/ops/test_scheduler.py's `inbox`), on a fake
clock: no test sleeps.

The world (tests/conftest.py): client_a in care with therapist_a, weekly "Thought record" 3 times a week
and no log, no questionnaire yet.
"""

from datetime import time

from data_layer.core import db
from data_layer.core.migrations import MIGRATIONS

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
        assert db.applied_migrations(conn)[-1] == "010_reminder_time_zones"
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
