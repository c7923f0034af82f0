"""Back up the database to Parquet files with a manifest, and restore a backup into a new file.

    python -m ops.backup backup SOURCE_DB TARGET_DIR
    python -m ops.backup restore BACKUP_DIR TARGET_DB [--overwrite]

(the command line is __main__.py beside this file).

TARGET_DIR must be a new folder inside the backup directory ($HOMEWORK_BACKUP_DIR, default
backups/); every way of taking a backup refuses any other target.

A backup is a directory holding one Parquet file per table and `manifest.json`: the row
count, columns and SHA-256 of each file, the schema migrations applied and the value of
every id sequence. All tables are read in ONE transaction, so the backup is a consistent
snapshot even while other cursors of the same connection keep writing.

Why the backup reads rows through Python instead of `EXPORT DATABASE` or `COPY` (checked on
DuckDB 2.0.1):
- The app's connection has `enable_external_access = false` and `lock_configuration = true`,
  so EXPORT DATABASE, COPY ... TO and ATTACH fail there ("file system operations are
  disabled by configuration"), and a second connect() in the same process shares that
  locked configuration (a read-only connect in that process is refused outright).
- DuckDB lets one process hold a file: while the app runs, every open from another process
  fails ("Could not set lock on file ... Conflicting lock is held in ... (PID n)"), even
  `read_only=True` and `ATTACH ... (READ_ONLY)`.
- Copying the file (and its .wal) while the app writes is not a backup: such copies
  sometimes fail to open ("Failure while replaying WAL file").
So there are two honest ways, sharing one code path (rows fetched as Arrow, which the
lockdown allows, and written by pyarrow):
- the app is stopped: `backup_database(path, dir)` (the command line) opens the file
  read-only with its own plain connection; if the app holds it, it stops with
  DatabaseLocked and says so;
- the app is running: the app process calls `backup_connection(conn, dir)` on its own
  connection.

Restore creates a NEW file with `db.connect` (migrated and locked down), then copies the
rows in with register + INSERT ... SELECT on that connection, table by table in foreign-key
order, in one transaction, and advances every id sequence to where the backup left it
(never below the largest id), so no id is ever handed out twice. It writes to a temporary
file beside the target and renames it into place only when every row count matches.
"""

import contextlib
import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from data_layer.core import db, settings
from data_layer.core.migrations import MIGRATIONS

FORMAT = "homework-tracker-backup"
FORMAT_VERSION = 1
# Server mode's backups (ops/backup/postgres.py: pg_dump) say so in their manifest.
POSTGRES_FORMAT = "homework-tracker-postgres-backup"
MANIFEST = "manifest.json"
BATCH_ROWS = 256_000


class BackupError(Exception):
    """A backup could not be taken or restored; the message says why and what to do."""


# ---------------------------------------------------------------- backup


def backup_database(source_path, target_dir):
    """Back up the database file at `source_path` into the new directory `target_dir`.

    For when the app is stopped: the file is opened read-only with a plain connection.
    Raises db.DatabaseLocked when another process (the running app) holds the file, and
    BackupError for a missing source, a target outside the backup directory
    (settings.backup_directory()) or a target that exists and is not empty.
    Returns the manifest (a dict).
    """
    source = Path(source_path)
    if not source.is_file():
        raise BackupError(f"There is no database file at {source}.")
    _check_new_directory(inside_backup_directory(target_dir))
    try:
        conn = duckdb.connect(str(source), read_only=True)
    except duckdb.IOException as error:
        raise db.DatabaseLocked(
            f"The database {source} is open in another process (probably the running app), "
            f"and DuckDB lets only one process use a file. Stop the app and run the backup "
            f"again, or take the backup inside the app process with "
            f"ops.backup.backup_connection(conn, target_dir). ({error})"
        ) from error
    except duckdb.ConnectionException as error:
        raise db.DatabaseLocked(
            f"The database {source} is already open in this process: back it up through that "
            f"connection with ops.backup.backup_connection(conn, target_dir). ({error})"
        ) from error
    try:
        return backup_connection(conn, target_dir, source=str(source))
    finally:
        conn.close()


def backup_connection(conn, target_dir, *, source=None):
    """Back up the database behind `conn` (e.g. the app's own connection) into `target_dir`,
    a new directory inside the backup directory (else BackupError, nothing written).

    Every table is read in one transaction on a new cursor: a consistent snapshot while
    other cursors write. The files are written to a temporary directory beside the target,
    which is renamed to `target_dir` when complete (so a half-written backup never has the
    final name). Returns the manifest (a dict).
    """
    with new_backup_directory(target_dir) as partial:
        cur = conn.cursor()
        try:
            cur.execute("BEGIN TRANSACTION")
            try:
                manifest = _write_snapshot(cur, partial, source)
            finally:
                cur.execute("ROLLBACK")  # read only: nothing to keep
        finally:
            cur.close()
        _write_json(partial / MANIFEST, manifest)
    return manifest


@contextlib.contextmanager
def new_backup_directory(target_dir):
    """Check `target_dir` (inside the backup directory, new or empty: else BackupError, nothing
    written) and yield a private temporary directory beside it to write the backup into, renamed
    to `target_dir` when the block completes and removed when it fails: a half-written backup
    never has the final name."""
    target = inside_backup_directory(target_dir)
    _check_new_directory(target)
    db.restrict_new_files()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    _remove_tree(partial)
    partial.mkdir(mode=0o700)
    try:
        yield partial
        if target.exists():
            target.rmdir()  # empty, checked above
        partial.rename(target)
    except BaseException:
        _remove_tree(partial)
        raise


def _write_snapshot(cur, directory, source):
    tables = _tables_in_dependency_order(cur)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now().isoformat(timespec="seconds"),
        "source": source,
        "duckdb_version": duckdb.__version__,
        "migrations": [name for (name,) in cur.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()],
        "row_counts": {},
        "tables": [],
        "sequences": {
            name: value
            for name, value in cur.execute(
                "SELECT sequence_name, last_value FROM duckdb_sequences() "
                "WHERE database_name = current_database() AND schema_name = 'main' ORDER BY 1"
            ).fetchall()
        },
    }
    for table in tables:
        columns = _columns(cur, table)
        order = "id" if "id" in dict(columns) else "ALL"
        file = directory / f"{table}.parquet"
        reader = cur.sql(f"SELECT * FROM {_quoted(table)} ORDER BY {order}").to_arrow_reader(BATCH_ROWS)
        rows = 0
        with pq.ParquetWriter(file, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
                rows += batch.num_rows
        file.chmod(0o600)
        manifest["row_counts"][table] = rows
        manifest["tables"].append(
            {"name": table, "file": file.name, "rows": rows, "columns": columns, "sha256": _sha256(file)}
        )
    return manifest


# ---------------------------------------------------------------- restore


def restore_database(backup_dir, target_path, *, overwrite=False):
    """Restore the backup in `backup_dir` into a new database file at `target_path`.

    Refuses (FileExistsError, file untouched) when the target exists, unless `overwrite`;
    refuses (db.DatabaseLocked) to overwrite a file another process has open. Raises
    BackupError for a damaged or incompatible backup (a changed file, another schema
    version). Until the end the existing target is left as it was: the restore is built
    in a temporary file beside it and renamed into place. Returns the restored row counts.
    """
    backup = Path(backup_dir)
    target = Path(target_path)
    manifest = read_manifest(backup)
    wal = target.with_name(target.name + ".wal")
    if target.is_dir():
        raise BackupError(f"{target} is a directory; give the path of a database file.")
    if (target.exists() or wal.exists()) and not overwrite:
        raise FileExistsError(
            f"{target} already exists. Restore into a new path, or pass --overwrite (overwrite=True) to replace it."
        )
    if target.exists():
        _check_not_in_use(target)

    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(f".{target.name}.restoring-{os.getpid()}")
    building_wal = building.with_name(building.name + ".wal")
    for leftover in (building, building_wal):
        leftover.unlink(missing_ok=True)
    try:
        conn = db.connect(building)
        try:
            counts = _load(conn, backup, manifest)
            conn.execute("CHECKPOINT")
        finally:
            conn.close()
        wal.unlink(missing_ok=True)  # an old WAL must never be replayed onto the new file
        os.replace(building, target)
    except BaseException:
        for leftover in (building, building_wal):
            leftover.unlink(missing_ok=True)
        raise
    return counts


def read_manifest(backup_dir):
    """Return the manifest of the backup in `backup_dir`, after checking every file against it.

    Raises BackupError when the manifest is missing or not ours, or a file is missing or changed.
    """
    backup = Path(backup_dir)
    manifest = _read_json(backup)
    if manifest.get("format") == POSTGRES_FORMAT:
        raise BackupError(
            f"{backup} is a server-mode (PostgreSQL) backup: restore it into a new PostgreSQL database "
            "(TO=postgresql://...), not into a DuckDB file."
        )
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{backup} was not written by this version of the backup command.")
    for table in manifest["tables"]:
        file = backup / table["file"]
        if not file.is_file():
            raise BackupError(f"The backup in {backup} is incomplete: {table['file']} is missing.")
        if _sha256(file) != table["sha256"]:
            raise BackupError(
                f"The backup in {backup} is damaged: {table['file']} has changed since the backup was taken."
            )
    return manifest


def _read_json(backup):
    try:
        return json.loads((backup / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{backup} is not a backup: it has no {MANIFEST}.") from None
    except ValueError as error:
        raise BackupError(f"The manifest of {backup} is damaged ({error}).") from error


def _load(conn, backup, manifest):
    expected_migrations = [name for name, _ in MIGRATIONS]
    if manifest["migrations"] != expected_migrations:
        raise BackupError(
            f"The backup has the schema migrations {manifest['migrations']}, this version of the "
            f"app has {expected_migrations}. Restore it with the version of the app that made it."
        )
    cur = conn.cursor()
    with db.transaction(cur):
        for table in manifest["tables"]:
            have = _columns(cur, table["name"])
            if have != table["columns"]:
                raise BackupError(
                    f"Table {table['name']} differs between the backup and this schema; nothing was restored."
                )
        # Rows that the migrations seed (e.g. schema_migrations, clinic_settings) are replaced.
        for table in reversed(manifest["tables"]):
            # Identifiers only (checked against this schema above, and quoted); no values.
            name = _quoted(table["name"])
            count_sql, delete_sql = f"SELECT count(*) FROM {name}", f"DELETE FROM {name}"
            [(present,)] = cur.execute(count_sql).fetchall()
            if present:
                cur.execute(delete_sql)
        counts = {}
        for table in manifest["tables"]:
            counts[table["name"]] = _insert_file(cur, table, backup / table["file"])
            if counts[table["name"]] != table["rows"]:
                raise BackupError(
                    f"Table {table['name']}: {counts[table['name']]} rows restored, "
                    f"the backup says {table['rows']}; nothing was restored."
                )
        _advance_sequences(cur, manifest)
    return counts


def _insert_file(cur, table, file):
    # Identifiers only (checked against this schema, and quoted); the rows come through Arrow.
    columns = ", ".join(_quoted(name) for name, _ in table["columns"])
    view = "restore_batch"
    insert_sql = f"INSERT INTO {_quoted(table['name'])} ({columns}) SELECT {columns} FROM {view}"
    count_sql = f"SELECT count(*) FROM {_quoted(table['name'])}"
    for batch in pq.ParquetFile(file).iter_batches(batch_size=BATCH_ROWS):
        cur.register(view, pa.Table.from_batches([batch]))
        try:
            cur.execute(insert_sql)
        finally:
            cur.unregister(view)
    [(rows,)] = cur.execute(count_sql).fetchall()
    return rows


def _advance_sequences(cur, manifest):
    """Move every id sequence to where the backup's was, and never below a column's largest value."""
    wanted = {name: value or 0 for name, value in manifest["sequences"].items()}
    for table, column, sequence in _sequence_columns(cur):
        largest_sql = f"SELECT coalesce(max({_quoted(column)}), 0) FROM {_quoted(table)}"
        [(largest,)] = cur.execute(largest_sql).fetchall()
        wanted[sequence] = max(wanted.get(sequence, 0), largest)
    current = dict(
        cur.execute(
            "SELECT sequence_name, coalesce(last_value, 0) FROM duckdb_sequences() "
            "WHERE database_name = current_database() AND schema_name = 'main'"
        ).fetchall()
    )
    for sequence, value in wanted.items():
        if sequence not in current:
            raise BackupError(f"The backup has a sequence {sequence} that this schema lacks.")
        steps = value - current[sequence]
        if steps > 0:
            # DuckDB has no setval: draw the sequence forward (about 40 M values a second).
            # `sequence` is one of this schema's own sequence names (checked just above).
            draw_sql = f"SELECT max(nextval('{sequence}')) FROM range(?)"
            cur.execute(draw_sql, [steps])


# ---------------------------------------------------------------- catalog helpers


def _tables_in_dependency_order(cur):
    """The base tables of the main schema, each after the tables its foreign keys refer to."""
    tables = sorted(
        name
        for (name,) in cur.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND NOT temporary"
        ).fetchall()
    )
    refers = {table: set() for table in tables}
    for table, referenced in cur.execute(
        "SELECT table_name, referenced_table FROM duckdb_constraints() "
        "WHERE database_name = current_database() AND schema_name = 'main' "
        "AND constraint_type = 'FOREIGN KEY'"
    ).fetchall():
        if referenced != table:
            refers[table].add(referenced)
    ordered = []
    while refers:
        ready = sorted(table for table, needs in refers.items() if not needs - set(ordered))
        if not ready:
            raise BackupError(f"Circular foreign keys among {sorted(refers)}.")
        ordered += ready
        for table in ready:
            del refers[table]
    return ordered


def _columns(cur, table):
    return [
        [name, data_type]
        for name, data_type in cur.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
            [table],
        ).fetchall()
    ]


def _sequence_columns(cur):
    """(table, column, sequence) for every column whose default draws from a sequence."""
    found = []
    for table, column, default in cur.execute(
        "SELECT table_name, column_name, column_default FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main' "
        "AND column_default LIKE 'nextval(%'"
    ).fetchall():
        found.append((table, column, default.split("'")[1]))
    return found


def _quoted(identifier):
    return '"' + identifier.replace('"', '""') + '"'


# ---------------------------------------------------------------- files


def inside_backup_directory(target_dir):
    """Return `target_dir` as an absolute path with symlinks and `..` resolved, if it lies
    below the configured backup directory (settings.backup_directory()).

    Raises BackupError otherwise: a full dump of clinical data must never land where its
    caller names (another user's folder, a web root), only where the operator keeps backups.
    """
    allowed = settings.backup_directory().resolve()
    target = Path(target_dir).resolve()
    if not target.is_relative_to(allowed) or target == allowed:
        raise BackupError(
            f"Backups are written only into a new folder inside the backup directory {allowed} "
            f"(set HOMEWORK_BACKUP_DIR to change it); {target_dir} is not inside it."
        )
    return target


def _check_new_directory(target):
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} already exists and is not an empty directory. Back up into a new directory.")


def _check_not_in_use(target):
    try:
        duckdb.connect(str(target), read_only=True).close()
    except duckdb.IOException as error:
        raise db.DatabaseLocked(
            f"{target} is open in another process (probably the running app). "
            f"Stop it before restoring over this file. ({error})"
        ) from error
    except duckdb.ConnectionException as error:
        raise db.DatabaseLocked(
            f"{target} is open in this process. Close it before restoring over it. ({error})"
        ) from error
    except duckdb.Error:
        pass  # not a readable database: nothing can be using it


def _sha256(file):
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json(file, data):
    file.write_text(json.dumps(data, indent=2, default=str) + "\n")
    file.chmod(0o600)


def _remove_tree(directory):
    if directory.is_dir():
        for child in directory.iterdir():
            child.unlink()
        directory.rmdir()
