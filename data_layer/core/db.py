"""Open the database, lock it down, apply migrations, and run writes in retrying transactions."""

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import duckdb
import psycopg

from data_layer.core.migrations import MIGRATIONS, POSTGRES_MIGRATIONS
from data_layer.core.postgres import PostgresCursor, is_postgres_url

WRITE_ATTEMPTS = 5
# Only the owner may read or write files this process creates: group and other get nothing.
OWNER_ONLY_UMASK = 0o077
_log = logging.getLogger(__name__)
_version_lock = threading.Lock()
_data_version = 0
T = TypeVar("T")


def one_row(result: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """Return the first row of a statement that always yields one (count(*), an aggregate,
    INSERT ... RETURNING). Only the type differs from `result.fetchone()`: the row is not
    checked, so a missing row fails in the caller as before (None)."""
    return cast(tuple[Any, ...], result.fetchone())


# What a concurrent write raises on either engine (DuckDB's optimistic concurrency, PostgreSQL's
# REPEATABLE READ), and what a broken UNIQUE, CHECK or FOREIGN KEY constraint raises.
CONFLICT_ERRORS = (
    duckdb.TransactionException,
    psycopg.errors.SerializationFailure,
    psycopg.errors.DeadlockDetected,
    psycopg.errors.LockNotAvailable,
)
CONSTRAINT_ERRORS = (duckdb.ConstraintException, psycopg.errors.IntegrityError)
DATABASE_ERRORS = (duckdb.Error, psycopg.Error)
# Any session holding this advisory lock is migrating the PostgreSQL database (server mode: several
# processes may start together; one migrates, the others wait and then find nothing to do).
MIGRATION_LOCK = 7_130_016_001
Cursor = duckdb.DuckDBPyConnection | PostgresCursor


class DatabaseLocked(Exception):
    """Another process holds the database file (DuckDB allows one writer per file)."""


class WriteConflict(Exception):
    """A write kept conflicting with concurrent writes and was given up; nothing was saved."""


def connect(path: str | Path) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database at `path`, migrated and locked down: a DuckDB file,
    or in server mode a `postgresql://` URL (an existing database, migrated here).

    Returns a connection. Hand each thread its own `conn.cursor()`.
    Raises DatabaseLocked when another process has the file: its message is fit for any
    visitor; the path and the holder (executable, PID) go to the log for the operator.
    """
    if is_postgres_url(path):
        server = PostgresCursor(str(path))
        migrate(server)  # type: ignore[arg-type]
        return server  # type: ignore[return-value]
    path = Path(path)
    in_memory = str(path) == ":memory:"
    new_file = not in_memory and not path.exists()
    restrict_new_files()
    if new_file:
        # Mental-health records: only the app's own user may read the file.
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        conn = duckdb.connect(str(path))
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            _log.error("Cannot open the database %s: another process holds it. %s", path, error)
            raise DatabaseLocked(
                "The database is in use by another process. Only one app process may open it "
                "at a time; please tell the clinic's administrator."
            ) from error
        raise
    if new_file:
        path.chmod(0o600)
    migrate(conn)
    lock_down(conn)
    return conn


def restrict_new_files() -> None:
    """Make every file this process creates from now on readable by its owner only.

    DuckDB creates the database's .wal (and spill files) with the process umask, not the
    main file's mode: 0644 under the usual umask, so other local users could read clients'
    notes from it. The same holds for backups and the backup socket.
    """
    os.umask(OWNER_ONLY_UMASK)


def lock_down(conn: duckdb.DuckDBPyConnection) -> None:
    """Switch off what the app never needs from SQL: files, URLs, extensions, Python variables.

    A second connect() to the same file in one process shares the first one's
    database, whose configuration is then already locked.
    """
    (locked,) = one_row(conn.execute("SELECT current_setting('lock_configuration')"))
    if locked:
        return
    conn.execute("SET enable_external_access = false")
    conn.execute("SET autoinstall_known_extensions = false")
    conn.execute("SET autoload_known_extensions = false")
    conn.execute("SET python_enable_replacements = false")
    conn.execute("SET lock_configuration = true")


def migrate(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations not yet recorded in schema_migrations, each in one transaction.

    Returns the names applied by this call. On PostgreSQL the processes that start together take
    turns under an advisory lock, and a migration written for PostgreSQL replaces DuckDB's text.
    """
    if isinstance(conn, PostgresCursor):
        conn.execute("SELECT pg_advisory_lock(?)", [MIGRATION_LOCK])
        try:
            return _apply_migrations(conn)
        finally:
            conn.execute("SELECT pg_advisory_unlock(?)", [MIGRATION_LOCK])
    return _apply_migrations(conn)


def _apply_migrations(conn: duckdb.DuckDBPyConnection) -> list[str]:
    conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               name VARCHAR PRIMARY KEY,
               applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"""
    )
    done = {name for (name,) in conn.execute("SELECT name FROM schema_migrations").fetchall()}
    applied = []
    for name, sql in MIGRATIONS:
        if name in done:
            continue
        conn.execute("BEGIN TRANSACTION")
        try:
            if isinstance(conn, PostgresCursor) and name in POSTGRES_MIGRATIONS:
                conn.execute_native(POSTGRES_MIGRATIONS[name])
            elif sql:
                conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations (name) VALUES (?)", [name])
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied


def applied_migrations(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Return the names of the applied migrations, in the order they were applied."""
    rows = conn.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()
    return [name for (name,) in rows]


@contextlib.contextmanager
def transaction(cur: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction: all of it is saved, or none of it."""
    cur.execute("BEGIN TRANSACTION")
    try:
        yield cur
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    cur.execute("COMMIT")


def data_version(cur: Cursor) -> int:
    """Return a number that changes after every committed write through `write`.

    Dashboard caches key on it, so they never serve data older than the last write. The embedded
    file has one process (DuckDB allows one writer), which counts its writes in memory; in server
    mode every process writes, and the count is the database's `data_version` sequence.
    """
    if isinstance(cur, PostgresCursor):
        (version,) = cur.execute("SELECT last_value FROM data_version").fetchone() or (0,)
        return int(version)
    return _data_version


def _bump_data_version(cur: Cursor) -> None:
    # After the commit: a read made before it is then kept under an older number than the write's.
    if isinstance(cur, PostgresCursor):
        cur.execute("SELECT nextval('data_version')")
        return
    global _data_version
    with _version_lock:
        _data_version += 1


def write(
    cur: duckdb.DuckDBPyConnection, work: Callable[[duckdb.DuckDBPyConnection], T], *, cached_data: bool = True
) -> T:
    """Run `work(cur)` in a transaction, retrying a bounded number of times on write conflicts.

    Returns what `work` returns. Raises WriteConflict when every attempt conflicted.
    `cached_data=False` is for writes to tables that no cached view reads (the outbox, written by
    the scheduler every minute): the data version stays, so dashboard caches are kept.
    """
    last_conflict = None
    for attempt in range(WRITE_ATTEMPTS):
        try:
            with transaction(cur):
                result = work(cur)
        except CONFLICT_ERRORS as conflict:
            last_conflict = conflict
            time.sleep(0.01 * 2**attempt)
            continue
        if cached_data:
            _bump_data_version(cur)
        return result
    raise WriteConflict(
        "The change could not be saved because of concurrent changes. Please try again."
    ) from last_conflict


# Entries that carry a submission id (one per form showing), unique per client: a client's own
# entries, and a therapist's support checklists for a client.
_ONCE_TABLES = {"homework_logs", "mood_logs", "questionnaires", "support_checklists"}


def write_once(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    client_id: int | None,
    submission_id: str | None,
    work: Callable[[duckdb.DuckDBPyConnection], int],
) -> int:
    """Like `write`, for a new entry in `table` about client `client_id`: returns the new entry's
    id, but a repeated `submission_id` (a double click, a resent form) writes nothing and returns
    the id of the entry it first made. A unique index settles two submissions racing each other.
    """
    if table not in _ONCE_TABLES:
        raise ValueError(f"not a client entry table: {table}")
    # `table` is one of the constants above, never user text.
    existing_sql = f"SELECT id FROM {table} WHERE client_id = ? AND submission_id = ?"

    def insert_unless_seen(cur: duckdb.DuckDBPyConnection) -> int:
        if submission_id:
            existing = cur.execute(existing_sql, [client_id, submission_id]).fetchone()
            if existing:
                return existing[0]
        return work(cur)

    for attempt in range(WRITE_ATTEMPTS):
        try:
            return write(cur, insert_unless_seen)
        except CONSTRAINT_ERRORS:
            if not submission_id or attempt == WRITE_ATTEMPTS - 1:
                raise
            # The same submission is being stored by another request that has not committed
            # yet: wait for it, then return its entry.
            time.sleep(0.01 * 2**attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")
