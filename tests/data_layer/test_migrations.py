import os
import subprocess
import sys
from datetime import datetime

import duckdb
import psycopg
import pytest

from data_layer.core import db
from data_layer.core.migrations import MIGRATIONS
from data_layer.core.postgres import PostgresCursor, is_postgres_url

EXPECTED = [
    "001_initial_schema",
    "002_pseudonym_secret",
    "003_unique_submissions",
    "004_login_sessions",
    "005_discharges",
    "006_schedule_versions",
    "007_support_checklists",
    "008_reminders",
    "009_risk_alerts",
    "010_reminder_time_zones",
    "011_nudges_and_digests",
    "012_reminder_history",
    "013_server_mode_state",
    "014_postgres_indexes",
]


def test_fresh_database_gets_exactly_the_expected_migrations(tmp_path):
    conn = db.connect(tmp_path / "fresh.duckdb")
    assert db.applied_migrations(conn) == EXPECTED


def test_running_migrations_again_changes_nothing(tmp_path):
    path = tmp_path / "again.duckdb"
    conn = db.connect(path)
    tables_before = conn.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()
    assert db.migrate(conn) == []
    conn.close()
    conn = db.connect(path)  # reopening migrates again
    assert db.applied_migrations(conn) == EXPECTED
    assert conn.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall() == tables_before
    assert conn.execute("SELECT count(*) FROM clinic_settings").fetchone() == (1,)


def test_a_second_process_gets_a_clear_message_not_a_stack_trace(tmp_path):
    path = tmp_path / "locked.duckdb"
    holder = db.connect(path)
    try:
        script = (
            "import sys\n"
            "from data_layer.core import db\n"
            "try:\n"
            f"    db.connect({str(path)!r})\n"
            "except db.DatabaseLocked as error:\n"
            "    print(error); sys.exit(3)\n"
        )
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    finally:
        holder.close()
    assert result.returncode == 3, result.stderr
    assert "in use by another process" in result.stdout


def test_sql_cannot_read_files(conn):
    if isinstance(conn, PostgresCursor):
        # Server mode: the app's role is no superuser, so the server's files stay closed to it.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT pg_read_file('/etc/passwd')").fetchall()
        return
    with pytest.raises(duckdb.Error, match="disabled"):
        conn.execute("SELECT * FROM read_text('/etc/passwd')").fetchall()
    with pytest.raises(duckdb.Error):
        conn.execute("SET enable_external_access = true")


@pytest.mark.slow
def test_an_empty_production_clinic_starts_with_one_admin(database, tmp_path):
    # A new file; in server mode an existing, empty database (the fixture's has the schema, no users).
    path = database if is_postgres_url(database) else tmp_path / "clinic.duckdb"
    command = [sys.executable, "-m", "ops.new_clinic", str(path), "boss", "Ada Admin"]
    environment = {**os.environ, "HOMEWORK_ADMIN_PASSWORD": "a-long-admin-password"}
    created = subprocess.run(command, capture_output=True, text=True, timeout=60, env=environment)
    assert created.returncode == 0, created.stderr
    conn = db.connect(path)
    assert conn.execute("SELECT username, role FROM users").fetchall() == [("boss", "admin")]
    assert conn.execute("SELECT demo FROM clinic_settings").fetchone() == (False,)
    conn.close()
    again = subprocess.run(command, capture_output=True, text=True, timeout=60, env=environment)
    refusal = "already has an administrator" if is_postgres_url(database) else "already exists"
    assert again.returncode != 0 and refusal in again.stderr


def test_the_reminder_history_starts_from_the_clients_who_have_reminders_on(tmp_path, monkeypatch):
    path = tmp_path / "existing.duckdb"
    monkeypatch.setattr(db, "MIGRATIONS", [m for m in MIGRATIONS if m[0] <= "009_risk_alerts"])
    conn = db.connect(path)
    conn.execute("""INSERT INTO users (id, username, display_name, role, password_hash) VALUES
                    (10, 'on', 'On', 'client', 'x'), (11, 'off', 'Off', 'client', 'x'),
                    (12, 'never', 'Never', 'client', 'x')""")
    conn.execute(
        """INSERT INTO reminder_preferences (client_id, enabled, updated_at, updated_by) VALUES
           (10, true, TIMESTAMP '2026-10-05 08:30', 10), (11, false, TIMESTAMP '2026-10-06 09:00', 11)"""
    )
    conn.close()

    monkeypatch.setattr(db, "MIGRATIONS", MIGRATIONS)
    conn = db.connect(path)
    try:
        assert db.applied_migrations(conn) == EXPECTED
        # The client with reminders on turned them on when last saved; an off row tells no change.
        assert conn.execute("SELECT client_id, enabled, changed_at, changed_by FROM reminder_history").fetchall() == [
            (10, True, datetime(2026, 10, 5, 8, 30), 10)
        ]
        (new_id,) = conn.execute(
            "INSERT INTO reminder_history (client_id, enabled) VALUES (11, true) RETURNING id"
        ).fetchone()
        assert new_id == 2
    finally:
        conn.close()
