"""Server mode's backup (ops/backup/postgres.py): `make backup` runs pg_dump on one snapshot while the
app keeps writing, and a restore into a new PostgreSQL database holds every row and sequence of the
source, checked against the manifest; a damaged backup or a target that is not empty is refused."""

import subprocess
import threading
from datetime import date

import psycopg
import pytest
from psycopg.sql import SQL, Identifier

from data_layer import mood
from data_layer.core import db
from ops import demo
from ops.backup import postgres as postgres_backup
from tests.data_layer.test_backup import PROJECT, client01, run_cli

ENGINES = ["postgres"]


@pytest.fixture(autouse=True)
def backup_directory(tmp_path, monkeypatch):
    """Each test's own folder is the configured backup directory (HOMEWORK_BACKUP_DIR)."""
    monkeypatch.setenv("HOMEWORK_BACKUP_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def clinic(database):
    """The demo clinic in the test's PostgreSQL database, plus an edited entry; returns its URL."""
    demo.create_demo_database(database)
    conn = db.connect(database)
    cur = conn.cursor()
    me = client01(cur)
    first = mood.log_mood(cur, me, log_date=date.today(), mood=7, note="Ünïcode 🙂 and 'quotes'")
    mood.update_mood_log(cur, me, mood_log_id=first, mood=6, anxiety=None, note="edited")
    conn.close()
    return database


def contents(url):
    """Every table's rows (ordered by all their columns) and every sequence's value."""
    with psycopg.connect(url) as conn:
        found = {}
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").fetchall()
        for (table,) in tables:
            result = conn.execute(SQL("SELECT * FROM {} LIMIT 0").format(Identifier(table)))
            order = SQL(", ").join(SQL(str(position)) for position in range(1, len(result.description) + 1))
            found[table] = conn.execute(SQL("SELECT * FROM {} ORDER BY {}").format(Identifier(table), order)).fetchall()
        found["sequences"] = conn.execute("SELECT sequencename, last_value FROM pg_sequences ORDER BY 1").fetchall()
    return found


def make_backup(url, backups):
    make = ["make", "--no-print-directory", "-o", ".venv/.installed", "backup", f"HOMEWORK_DB={url}"]
    return subprocess.run(
        [*make, f"HOMEWORK_BACKUP_DIR={backups}"], cwd=PROJECT, capture_output=True, text=True, timeout=120
    )


def test_make_backup_dumps_the_database_and_it_restores_row_for_row_into_a_new_one(clinic, postgres, tmp_path):
    done = make_backup(clinic, tmp_path / "backups")
    assert done.returncode == 0, done.stderr
    [taken] = (tmp_path / "backups").iterdir()
    assert sorted(path.name for path in taken.iterdir()) == ["database.dump", "manifest.json"]
    assert oct(taken.joinpath("database.dump").stat().st_mode & 0o777) == "0o600"

    restored = postgres.create_database("restored_clinic")
    done = run_cli("restore", taken, restored)
    assert done.returncode == 0, done.stderr
    assert "mood_logs" in done.stdout
    assert contents(restored) == contents(clinic)

    conn = db.connect(restored)  # the restored clinic works, and hands out new ids
    cur = conn.cursor()
    (largest,) = cur.execute("SELECT max(id) FROM mood_logs").fetchone()
    assert mood.log_mood(cur, client01(cur), log_date=date.today(), mood=4) > largest
    conn.close()


def test_a_damaged_backup_and_a_target_that_holds_tables_are_refused(clinic, postgres, tmp_path):
    postgres_backup.backup_postgres(clinic, tmp_path / "taken")
    refused = run_cli("restore", tmp_path / "taken", clinic)
    assert refused.returncode != 0 and "already holds tables" in refused.stderr
    assert "Traceback" not in refused.stderr

    into_file = run_cli("restore", tmp_path / "taken", tmp_path / "clinic.duckdb")
    assert into_file.returncode != 0 and "server-mode (PostgreSQL) backup" in into_file.stderr
    assert not (tmp_path / "clinic.duckdb").exists()

    dump = tmp_path / "taken" / "database.dump"
    damaged = bytearray(dump.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    dump.write_bytes(bytes(damaged))
    empty = postgres.create_database("never_restored")
    refused = run_cli("restore", tmp_path / "taken", empty)
    assert refused.returncode != 0 and "damaged" in refused.stderr
    assert contents(empty) == {"sequences": []}


def test_the_backup_is_one_snapshot_while_the_app_keeps_writing(clinic, postgres, tmp_path):
    conn = db.connect(clinic)
    (before,) = conn.execute("SELECT count(*) FROM mood_logs").fetchone()
    writing = threading.Event()
    stop = threading.Event()
    written = []

    def writer():
        cur = conn.cursor()
        me = client01(cur)
        while not stop.is_set():
            written.append(mood.log_mood(cur, me, log_date=date.today(), mood=len(written) % 11))
            writing.set()

    thread = threading.Thread(target=writer)
    thread.start()
    writing.wait(30)
    try:
        manifest = postgres_backup.backup_postgres(clinic, tmp_path / "taken")
    finally:
        stop.set()
        thread.join(30)
    # Taken in the middle of the writing: some of the new entries are in it, and some came after.
    assert before < manifest["row_counts"]["mood_logs"] < before + len(written)
    # The restore checks every table's count against the manifest: the dump is the counted snapshot.
    restored = postgres.create_database("restored_snapshot")
    assert postgres_backup.restore_postgres(tmp_path / "taken", restored) == manifest["row_counts"]
    conn.close()
