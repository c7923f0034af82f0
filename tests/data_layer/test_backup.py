"""Backup to Parquet and restore into a new file: every row comes back exactly, nothing is overwritten by accident."""

import json
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from data_layer import homework, mood
from data_layer.core import db
from data_layer.core.access import Principal
from data_layer.core.migrations import MIGRATIONS
from ops import backup, backup_service, demo, maintenance

PROJECT = Path(__file__).resolve().parents[2]
OUTSIDE = "Backups are written only into a new folder inside the backup directory"


@pytest.fixture(autouse=True)
def backup_directory(tmp_path, monkeypatch):
    """Each test's own folder is the configured backup directory (HOMEWORK_BACKUP_DIR)."""
    monkeypatch.setenv("HOMEWORK_BACKUP_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The demo clinic, plus entries made, changed and deleted through the data layer
    (audit rows, updated_at, NULLs, and a sequence that is ahead of the largest id)."""
    path = tmp_path_factory.mktemp("backup") / "source.duckdb"
    demo.create_demo_database(path)
    conn = db.connect(path)
    cur = conn.cursor()
    me = client01(cur)
    first = mood.log_mood(cur, me, log_date=date.today(), mood=7, note="Ünïcode 🙂 and 'quotes'")
    mood.update_mood_log(cur, me, mood_log_id=first, mood=6, anxiety=None, note="Ünïcode 🙂 and 'quotes', edited")
    last = mood.log_mood(cur, me, log_date=date.today(), mood=2)
    mood.delete_mood_log(cur, me, mood_log_id=last)  # the sequence is now past max(id)
    assignment = int(homework.list_active_assignments(cur, me, client_id=me.user_id)["assignment_id"].iloc[0])
    homework.log_homework(
        cur, me, assignment_id=assignment, log_date=date.today(), status="partly", minutes=None, note="half of it"
    )
    conn.close()
    return path


def client01(cur):
    user_id, name = cur.execute("SELECT id, display_name FROM users WHERE username = 'client01'").fetchall()[0]
    return Principal(user_id=user_id, role="client", display_name=name)


def contents(path):
    """Every table's column types and rows (ordered by id, else by all columns), and the sequences."""
    conn = duckdb.connect(str(path), read_only=True)
    try:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1"
            ).fetchall()
        ]
        found = {}
        for table in tables:
            columns = conn.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index",
                [table],
            ).fetchall()
            order = "id" if ("id", "BIGINT") in columns else "ALL"
            rows_sql = f'SELECT * FROM "{table}" ORDER BY {order}'  # a table of the catalogue, not a value
            found[table] = (columns, conn.execute(rows_sql).fetchall())
        sequences = conn.execute("SELECT sequence_name, last_value FROM duckdb_sequences() ORDER BY 1").fetchall()
        return found, sequences
    finally:
        conn.close()


def test_every_row_of_every_table_round_trips_exactly(source, tmp_path):
    manifest = backup.backup_database(source, tmp_path / "backup")
    counts = backup.restore_database(tmp_path / "backup", tmp_path / "restored.duckdb")

    before, sequences_before = contents(source)
    after, sequences_after = contents(tmp_path / "restored.duckdb")
    assert set(after) == set(before) and len(before) >= 14
    for table in before:
        assert after[table] == before[table], table
    assert sequences_after == sequences_before
    assert counts == manifest["row_counts"] == {table: len(rows) for table, (_, rows) in before.items()}
    # The round trip covered the awkward values: NULLs, Unicode, an edited entry, audit rows.
    names = [name for name, _ in before["mood_logs"][0]]
    edited = [row for row in before["mood_logs"][1] if "🙂" in (row[names.index("note")] or "")]
    assert len(edited) == 1 and edited[0][names.index("updated_at")] is not None
    assert edited[0][names.index("anxiety")] is None
    action = [name for name, _ in before["audit_log"][0]].index("action")
    assert {row[action] for row in before["audit_log"][1]} >= {"log_mood", "update_mood_log", "delete_mood_log"}


def test_the_manifest_lists_tables_migrations_and_checksums(source, tmp_path):
    manifest = backup.backup_database(source, tmp_path / "backup")
    on_disk = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert on_disk == json.loads(json.dumps(manifest, default=str))
    conn = duckdb.connect(str(source), read_only=True)
    assert on_disk["migrations"] == db.applied_migrations(conn) == [name for name, _ in MIGRATIONS]
    conn.close()
    names = [table["name"] for table in on_disk["tables"]]
    # Parents before the tables that refer to them.
    assert names.index("users") < names.index("assignments") < names.index("homework_logs")
    assert names.index("questionnaires") < names.index("risk_flags") < names.index("risk_acknowledgements")
    for table in on_disk["tables"]:
        assert pq.read_metadata(tmp_path / "backup" / table["file"]).num_rows == table["rows"]
    assert (tmp_path / "backup").stat().st_mode & 0o777 == 0o700


def test_the_restored_database_is_migrated_locked_down_and_hands_out_new_ids(source, tmp_path):
    backup.backup_database(source, tmp_path / "backup")
    backup.restore_database(tmp_path / "backup", tmp_path / "restored.duckdb")
    _, mood_rows = contents(source)[0]["mood_logs"]
    conn = db.connect(tmp_path / "restored.duckdb")
    try:
        cur = conn.cursor()
        assert cur.execute("SELECT current_setting('enable_external_access')").fetchall() == [(False,)]
        me = client01(cur)
        new_id = mood.log_mood(cur, me, log_date=date.today(), mood=5)
        # The deleted entry's id is not handed out again (the audit log still names it).
        assert new_id > max(row[0] for row in mood_rows) + 1
    finally:
        conn.close()


@pytest.mark.slow
def test_restore_never_overwrites_an_existing_file_by_accident(source, tmp_path):
    backup.backup_database(source, tmp_path / "backup")
    target = tmp_path / "existing.duckdb"
    conn = db.connect(target)
    conn.close()
    original = target.read_bytes()
    with pytest.raises(FileExistsError, match="already exists.*--overwrite"):
        backup.restore_database(tmp_path / "backup", target)
    assert target.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup", "existing.duckdb"]

    counts = backup.restore_database(tmp_path / "backup", target, overwrite=True)
    assert contents(target)[0]["mood_logs"] == contents(source)[0]["mood_logs"]
    assert counts["mood_logs"] == len(contents(source)[0]["mood_logs"][1])


def test_a_damaged_backup_is_refused_and_nothing_is_created(source, tmp_path):
    backup.backup_database(source, tmp_path / "backup")
    damaged = tmp_path / "backup" / "mood_logs.parquet"
    damaged.write_bytes(damaged.read_bytes()[:-100])
    with pytest.raises(backup.BackupError, match="damaged.*mood_logs.parquet"):
        backup.restore_database(tmp_path / "backup", tmp_path / "restored.duckdb")
    assert not (tmp_path / "restored.duckdb").exists()
    with pytest.raises(backup.BackupError, match="not a backup"):
        backup.restore_database(tmp_path, tmp_path / "restored.duckdb")


def test_backup_refuses_a_directory_that_holds_files(source, tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "other.txt").write_text("keep me")
    with pytest.raises(backup.BackupError, match="not an empty directory"):
        backup.backup_database(source, tmp_path / "busy")
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["other.txt"]


def hold_open(path):
    """A child process holding the database file open, as the running app does."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline().strip() == "ready"
    return child


@pytest.mark.slow
def test_a_file_held_by_the_running_app_is_neither_backed_up_nor_overwritten(source, tmp_path):
    held = tmp_path / "held.duckdb"
    backup.backup_database(source, tmp_path / "backup")
    backup.restore_database(tmp_path / "backup", held)
    original = held.read_bytes()
    child = hold_open(held)
    try:
        with pytest.raises(db.DatabaseLocked, match="another process.*Stop the app"):
            backup.backup_database(held, tmp_path / "second")
        with pytest.raises(db.DatabaseLocked, match="another process"):
            backup.restore_database(tmp_path / "backup", held, overwrite=True)
    finally:
        child.stdin.close()
        child.wait(timeout=10)
    assert held.read_bytes() == original
    assert not (tmp_path / "second").exists()


@pytest.mark.slow
def test_the_app_process_can_back_up_a_consistent_snapshot_while_it_writes(source, tmp_path):
    """Inside the app (locked-down connection) backup_connection works; each backup is one
    snapshot: every mood log it holds has its audit event, and no audit event lacks its log."""
    backup.backup_database(source, tmp_path / "backup")
    backup.restore_database(tmp_path / "backup", tmp_path / "live.duckdb")
    conn = db.connect(tmp_path / "live.duckdb")
    stop = threading.Event()
    written = []

    def keep_writing():
        cur = conn.cursor()
        me = client01(cur)
        while not stop.is_set():
            written.append(mood.log_mood(cur, me, log_date=date.today(), mood=len(written) % 11))

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        snapshots = [backup.backup_connection(conn, tmp_path / f"snapshot{k}") for k in range(4)]
    finally:
        stop.set()
        writer.join()
    try:
        assert len(written) > 10
        seen = set()
        for k, manifest in enumerate(snapshots):
            folder = tmp_path / f"snapshot{k}"
            logs = set(pq.read_table(folder / "mood_logs.parquet", columns=["id"])["id"].to_pylist())
            audit = pq.read_table(folder / "audit_log.parquet").to_pylist()
            logged = {row["record_id"] for row in audit if row["action"] == "log_mood"}
            deleted = {row["record_id"] for row in audit if row["action"] == "delete_mood_log"}
            assert logged - deleted <= logs and logs & set(written) <= logged, f"snapshot {k}"
            seen.add(manifest["row_counts"]["mood_logs"])
        assert len(seen) > 1  # the writer really wrote during the backups
        backup.restore_database(tmp_path / "snapshot3", tmp_path / "from_snapshot.duckdb")
    finally:
        conn.close()


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "ops.backup", *map(str, args)], cwd=PROJECT, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_command_line_backs_up_and_restores(source, tmp_path):
    done = run_cli("backup", source, tmp_path / "backup")
    assert done.returncode == 0, done.stderr
    assert "mood_logs" in done.stdout

    done = run_cli("restore", tmp_path / "backup", tmp_path / "restored.duckdb")
    assert done.returncode == 0, done.stderr
    assert contents(tmp_path / "restored.duckdb") == contents(source)

    before = (tmp_path / "restored.duckdb").read_bytes()
    refused = run_cli("restore", tmp_path / "backup", tmp_path / "restored.duckdb")
    assert refused.returncode != 0
    assert "already exists" in refused.stderr and "--overwrite" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert (tmp_path / "restored.duckdb").read_bytes() == before

    done = run_cli("restore", tmp_path / "backup", tmp_path / "restored.duckdb", "--overwrite")
    assert done.returncode == 0, done.stderr
    assert contents(tmp_path / "restored.duckdb") == contents(source)

    refused = run_cli("backup", source, tmp_path / "backup")
    assert refused.returncode != 0 and "not an empty directory" in refused.stderr


@pytest.mark.slow
def test_the_admin_backs_up_while_the_app_runs_and_it_restores(tmp_path, monkeypatch):
    source = tmp_path / "live.duckdb"
    demo.create_demo_database(source)
    live = db.connect(source)  # the app's connection stays open throughout
    monkeypatch.setenv("HOMEWORK_BACKUP_DIR", str(tmp_path / "backups"))
    admin_id = live.execute("SELECT id FROM users WHERE username = 'admin'").fetchone()[0]
    folder, counts = maintenance.back_up_now(live.cursor(), Principal(admin_id, "admin"))
    assert folder.parent == tmp_path / "backups"
    restored = backup.restore_database(folder, tmp_path / "restored.duckdb")
    assert restored == counts
    live.close()


@pytest.mark.slow
def test_make_backup_asks_the_running_app_for_the_snapshot(tmp_path):
    source = tmp_path / "app.duckdb"
    demo.create_demo_database(source)
    app_connection = db.connect(source)  # as the app holds it: no other process may open the file
    backup_service.serve(app_connection, source)
    homework_logs = app_connection.execute("SELECT count(*) FROM homework_logs").fetchone()[0]
    result = subprocess.run(
        [sys.executable, "-m", "ops.backup", "backup", str(source), str(tmp_path / "snapshot")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    assert f"{homework_logs} homework_logs" in result.stdout
    counts = backup.restore_database(tmp_path / "snapshot", tmp_path / "restored.duckdb")
    assert counts["homework_logs"] == homework_logs
    audited = app_connection.execute("SELECT actor_role FROM audit_log WHERE action = 'back_up_database'").fetchall()
    assert audited == [("system",)]
    backup_service.stop()
    assert not backup_service.socket_path(source).exists()
    app_connection.close()


@pytest.fixture
def escapes(tmp_path, monkeypatch):
    """The backup directory tmp_path/backups, and targets that lie outside it, by name."""
    allowed = tmp_path / "backups"
    elsewhere = tmp_path / "elsewhere"
    allowed.mkdir()
    elsewhere.mkdir()
    (allowed / "link").symlink_to(elsewhere, target_is_directory=True)
    monkeypatch.setenv("HOMEWORK_BACKUP_DIR", str(allowed))
    return {
        "outside": elsewhere / "dump",
        "dot-dot": allowed / ".." / "elsewhere" / "dump",
        "symlink": allowed / "link" / "dump",
        "the directory itself": allowed,
        "relative": Path("dump"),  # the working directory (the project) is not the backup directory
    }


def nothing_written(tmp_path):
    """True when no backup landed anywhere: the backup directory holds only its symlink, the
    folder outside stays empty, and the project folder has no stray dump."""
    return (
        [p.name for p in (tmp_path / "backups").iterdir()] == ["link"]
        and not any((tmp_path / "elsewhere").iterdir())
        and not (PROJECT / "dump").exists()
    )


@pytest.mark.parametrize("where", ["outside", "dot-dot", "symlink", "the directory itself", "relative"])
def test_every_way_of_backing_up_refuses_a_target_outside_the_backup_directory(source, tmp_path, escapes, where):
    target = escapes[where]
    with pytest.raises(backup.BackupError, match=OUTSIDE):
        backup.backup_database(source, target)
    conn = db.connect(tmp_path / "live.duckdb")
    try:
        with pytest.raises(backup.BackupError, match=OUTSIDE):
            backup.backup_connection(conn, target)
        with pytest.raises(backup.BackupError, match=OUTSIDE):
            maintenance.back_up_now(conn.cursor(), Principal(None, "admin"), target_dir=target)
    finally:
        conn.close()
    assert nothing_written(tmp_path)


@pytest.mark.slow
def test_the_backup_socket_and_the_command_line_refuse_targets_outside_the_backup_directory(tmp_path, escapes):
    source = tmp_path / "app.duckdb"
    demo.create_demo_database(source)
    for where in ("outside", "symlink"):
        refused = run_cli("backup", source, escapes[where])  # the app is stopped: the CLI itself refuses
        assert refused.returncode == 1 and OUTSIDE in refused.stderr and "Traceback" not in refused.stderr
    app_connection = db.connect(source)
    backup_service.serve(app_connection, source)
    try:
        for where in ("outside", "dot-dot", "symlink"):
            with pytest.raises(backup.BackupError, match=f"running app could not write the backup: {OUTSIDE}"):
                backup_service.request_backup(source, escapes[where])
            refused = run_cli("backup", source, escapes[where])  # the app answers, and refuses
            assert refused.returncode == 1 and OUTSIDE in refused.stderr
        assert nothing_written(tmp_path)
        assert backup_service.request_backup(source, tmp_path / "backups" / "fine")["users"] > 0
    finally:
        backup_service.stop()
        app_connection.close()


@pytest.mark.slow
def test_make_backup_writes_into_the_backup_directory_and_refuses_elsewhere(source, tmp_path):
    backups = tmp_path / "backups"
    make = [
        "make",
        "--no-print-directory",
        "-o",
        ".venv/.installed",
        "backup",
        f"HOMEWORK_DB={source}",
        f"HOMEWORK_BACKUP_DIR={backups}",
    ]
    done = subprocess.run(make, cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    [taken] = backups.iterdir()
    assert (taken / backup.MANIFEST).is_file()

    refused = subprocess.run(
        [*make, f"BACKUP_DIR={tmp_path / 'elsewhere'}"], cwd=PROJECT, capture_output=True, text=True, timeout=120
    )
    assert refused.returncode != 0 and OUTSIDE in refused.stderr
    assert not (tmp_path / "elsewhere").exists()
