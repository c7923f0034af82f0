"""Server mode's backup (issue #15): pg_dump of one consistent snapshot, and a restore with
pg_restore into a new, empty PostgreSQL database, checked against the manifest as the embedded
file's restore is.

    python -m ops.backup backup postgresql://... TARGET_DIR
    python -m ops.backup restore BACKUP_DIR postgresql://.../new_database

A backup is a directory (inside the backup directory, as for the DuckDB file) holding `database.dump`
(pg_dump's custom format) and `manifest.json`: the dump's SHA-256, the schema migrations applied and
every table's row count. The counts and the dump come from the same snapshot: this module opens a
REPEATABLE READ transaction, exports its snapshot (pg_export_snapshot), counts the rows in it and has
pg_dump read that snapshot (--snapshot) while the transaction stays open, so app processes and the
worker keep writing meanwhile.

pg_dump and pg_restore are PostgreSQL's own client programs (Debian's postgresql-client, which the
server package brings): found on PATH or in /usr/lib/postgresql/<version>/bin, the newest version.
"""

import glob
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg.sql import SQL, Identifier

from data_layer.core import db
from data_layer.core.migrations import MIGRATIONS
from ops.backup import (
    MANIFEST,
    POSTGRES_FORMAT,
    BackupError,
    _read_json,
    _sha256,
    _write_json,
    new_backup_directory,
)

FORMAT = POSTGRES_FORMAT
FORMAT_VERSION = 1
DUMP = "database.dump"


def backup_postgres(url, target_dir):
    """Back up the PostgreSQL database at `url` into `target_dir`, a new directory inside the backup
    directory (the DuckDB backup's rules); return the manifest. Raises BackupError for a refused
    target, or when pg_dump fails (nothing is left behind)."""
    with new_backup_directory(target_dir) as partial, psycopg.connect(url) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        (snapshot,) = conn.execute("SELECT pg_export_snapshot()").fetchone()
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": datetime.now().isoformat(timespec="seconds"),
            "postgresql_version": conn.info.server_version,
            "migrations": [name for (name,) in conn.execute("SELECT name FROM schema_migrations ORDER BY name")],
            "row_counts": _row_counts(conn),
        }
        dump = partial / DUMP
        _run("pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={dump}", f"--dbname={url}")
        conn.rollback()
        dump.chmod(0o600)
        manifest["sha256"] = _sha256(dump)
        _write_json(partial / MANIFEST, manifest)
    return manifest


def read_postgres_manifest(backup_dir):
    """Return the manifest of the server-mode backup in `backup_dir`, after checking the dump against
    it. Raises BackupError when the manifest is missing or not such a backup's, or the dump is missing
    or changed."""
    backup = Path(backup_dir)
    manifest = _read_json(backup)
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{backup} is not a server-mode (PostgreSQL) backup of this version of the app.")
    dump = backup / DUMP
    if not dump.is_file():
        raise BackupError(f"The backup in {backup} is incomplete: {DUMP} is missing.")
    if _sha256(dump) != manifest["sha256"]:
        raise BackupError(f"The backup in {backup} is damaged: {DUMP} has changed since the backup was taken.")
    return manifest


def restore_postgres(backup_dir, url):
    """Restore the server-mode backup in `backup_dir` (checked by read_postgres_manifest) into the
    PostgreSQL database at `url`, which must hold no tables yet; return the restored row counts.

    Raises BackupError when the target is not empty or pg_restore fails (nothing restored: it runs
    in one transaction), or when a table's row count differs from the manifest's (the message says
    not to use the database).
    """
    backup = Path(backup_dir)
    manifest = read_postgres_manifest(backup)
    expected_migrations = [name for name, _ in MIGRATIONS]
    if manifest["migrations"] != expected_migrations:
        raise BackupError(
            f"The backup has the schema migrations {manifest['migrations']}, this version of the "
            f"app has {expected_migrations}. Restore it with the version of the app that made it."
        )
    with psycopg.connect(url) as conn:
        (tables,) = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
    if tables:
        raise BackupError("The target database already holds tables. Restore into a new, empty database.")
    _run(
        "pg_restore",
        "--no-owner",
        "--exit-on-error",
        "--single-transaction",
        f"--dbname={url}",
        str(backup / DUMP),
    )
    with psycopg.connect(url) as conn:
        counts = _row_counts(conn)
    if counts != manifest["row_counts"]:
        differing = sorted(set(counts.items()) ^ set(manifest["row_counts"].items()))
        raise BackupError(
            f"The restored database does not match the backup ({differing}): do not use it; drop it and "
            "restore again into a new database."
        )
    db.connect(url).close()  # the app opens it as it will: migrated (nothing to do) and checked
    return counts


def _row_counts(conn):
    tables = [
        name for (name,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    ]
    counts = {}
    for table in tables:
        (counts[table],) = conn.execute(SQL("SELECT count(*) FROM {}").format(Identifier(table))).fetchone()
    return counts


def postgres_program(name):
    """Return the path of PostgreSQL's program `name` (pg_dump, initdb...): Debian's newest version
    in /usr/lib/postgresql/<version>/bin, else one on PATH, else None."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda path: int(path.split("/")[4]))
    return found[-1] if found else shutil.which(name)


def _run(name, *arguments):
    program = postgres_program(name)
    if program is None:
        raise BackupError(f"{name} is not installed: install PostgreSQL's client programs (Debian: postgresql-client).")
    result = subprocess.run([program, *arguments], capture_output=True, text=True)
    if result.returncode:
        raise BackupError(f"{name} failed: {result.stderr.strip()}")
