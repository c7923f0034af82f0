"""Server mode: a PostgreSQL database behind the cursor interface the data layer uses with DuckDB.

The data layer writes each statement once, in DuckDB's dialect. sqlglot (a maintained SQL
transpiler) translates it to PostgreSQL's, once per statement text; psycopg 3 runs it with
PostgreSQL's own `$n` placeholders. Statements that no translation can carry are written for
each engine where they live, named as such (docs/architecture.md, "Beyond one machine").
"""

import datetime
import functools
import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import sqlglot
from psycopg.adapt import Loader
from psycopg.sql import SQL, Identifier
from psycopg_pool import ConnectionPool, PoolTimeout
from sqlglot import exp

# Where DuckDB's snapshot isolation makes a concurrent write fail and retry (db.write), so does
# REPEATABLE READ here. A row another transaction holds is waited for up to a second, then counts as a
# conflict too (DuckDB fails at once; an unbounded wait would hang the page). Sessions run in UTC as
# the embedded engine does. No JIT compilation: it pays off for queries that run for seconds, and the
# app's run for milliseconds (it added 35 ms to one of the Cohort page's, which ran in 14 without).
_SESSION_OPTIONS = "-c TimeZone=UTC -c default_transaction_isolation=repeatable\\ read -c lock_timeout=1s -c jit=off"
# PostgreSQL type oids whose values pandas holds as datetime64, and as numbers (NULL as NaN), as
# DuckDB's df() does.
_DATE_OIDS = {1082, 1114}
_NUMBER_OIDS = {20, 21, 23, 700, 701, 1700}
# The most connections one process's cursors hold at once (a page run holds one or two); a cursor asked
# for beyond it waits for one to come back, up to POOL_WAIT_SECONDS. Every app process and worker has
# its own pool: their sum must stay below the server's max_connections (README, "Server mode").
POOL_SIZE = 40
POOL_WAIT_SECONDS = 30


def is_postgres_url(target: object) -> bool:
    """Return whether HOMEWORK_DB names a PostgreSQL server rather than a DuckDB file."""
    return str(target).startswith(("postgresql://", "postgres://"))


class _NumberLoader(Loader):
    """NUMERIC as DuckDB would hand it back: whole numbers (sum of BIGINT) as int, others as float.

    psycopg's default, Decimal, does not mix with the floats the rest of the app computes with.
    """

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        return float(text) if "." in text or "e" in text.lower() or text == "NaN" else int(text)


@functools.lru_cache(maxsize=4096)
def to_postgres(sql: str) -> tuple[str, tuple[int | str, ...]]:
    """Return `sql` (DuckDB's dialect, `?`, `$1` or `$name` parameters) in PostgreSQL's dialect
    with `$1`, `$2`... placeholders, and for each placeholder the parameter it takes: a position
    in a parameter list, or a name in a parameter mapping."""
    keys: list[int | str] = []
    unnamed = 0
    statements = []
    for statement in sqlglot.parse(sql, read="duckdb"):
        if statement is None:
            continue
        _name_subqueries(statement)
        # Depth first: the placeholders in the order they are written, as `?` counts them.
        for placeholder in list(statement.find_all(exp.Placeholder, bfs=False)):
            name = placeholder.name
            if not name or name == "?":
                key: int | str = unnamed
                unnamed += 1
            elif name.isdigit():
                key = int(name) - 1
            else:
                key = name
            if key not in keys:
                keys.append(key)
            placeholder.replace(exp.var(f"${keys.index(key) + 1}"))
        statements.append(statement.sql(dialect="postgres"))
    return ";\n".join(statements), tuple(keys)


def _name_subqueries(statement: exp.Expr) -> None:
    """Give every unnamed subquery in FROM or JOIN a name: PostgreSQL before 16 requires one,
    DuckDB does not."""
    for number, subquery in enumerate(statement.find_all(exp.Subquery)):
        if not subquery.alias and isinstance(subquery.parent, (exp.From, exp.Join)):
            subquery.set("alias", exp.TableAlias(this=exp.to_identifier(f"_subquery_{number}")))


def _arguments(keys: tuple[int | str, ...], parameters: Sequence[Any] | Mapping[str, Any] | None) -> list[Any] | None:
    if parameters is None:
        return None
    if isinstance(parameters, Mapping):
        return [parameters[str(key)] for key in keys]
    return [parameters[int(key)] for key in keys]


def _column_type(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(values):
        return "BIGINT"
    if pd.api.types.is_float_dtype(values):
        return "DOUBLE PRECISION"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "TIMESTAMP"
    present = values.dropna()
    sample = present.iloc[0] if len(present) else None
    if isinstance(sample, datetime.datetime):
        return "TIMESTAMP"
    if isinstance(sample, datetime.date):
        return "DATE"
    if isinstance(sample, datetime.time):
        return "TIME"
    if isinstance(sample, (list, tuple, np.ndarray)):
        # A list column (Arrow's list type, reminder days): an array of its first element's type.
        element = _column_type(pd.Series([item for value in present for item in value][:1]))
        return f"{element}[]"
    return "TEXT"


def _connect_options() -> dict[str, Any]:
    return {"autocommit": True, "options": _SESSION_OPTIONS, "cursor_factory": psycopg.RawCursor}


def _configure(connection: psycopg.Connection[Any]) -> None:
    connection.adapters.register_loader("numeric", _NumberLoader)


class _Pool:
    """The connections of one database's cursors in this process, reused: opening one costs a few
    milliseconds, and a page run asks for several cursors.

    psycopg_pool keeps them, and checks each before handing it out (so a server restart costs no
    page). A cursor gives its connection back when closed or dropped; dropped means __del__, which
    the garbage collector may run while this thread is inside the pool (holding its lock), so
    connections given back are queued, and the next `take` resets them and returns them to the pool,
    outside any collector run.
    """

    def __init__(self, url: str) -> None:
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=POOL_SIZE,
            timeout=POOL_WAIT_SECONDS,
            kwargs=_connect_options(),
            configure=_configure,
            check=ConnectionPool.check_connection,
            open=True,
        )
        self._given_back: deque[psycopg.Connection[Any]] = deque()

    def take(self) -> psycopg.Connection[Any]:
        """Return a connection of the pool for one cursor, waiting up to POOL_WAIT_SECONDS while all
        POOL_SIZE are out (then PoolTimeout)."""
        deadline = time.monotonic() + POOL_WAIT_SECONDS
        while True:
            # Connections given back while this waits are only queued: return them every second.
            self._return_given_back()
            try:
                return self._pool.getconn(timeout=1)
            except PoolTimeout:
                if time.monotonic() >= deadline:
                    raise PoolTimeout(f"no database connection came free in {POOL_WAIT_SECONDS} s") from None

    def _return_given_back(self) -> None:
        while self._given_back:
            connection = self._given_back.popleft()
            try:
                if not connection.closed:
                    _reset(connection)
            except psycopg.Error:
                connection.close()  # the pool opens another in its place
            self._pool.putconn(connection)

    def give_back(self, connection: psycopg.Connection[Any]) -> None:
        """Queue a cursor's connection for the pool (safe from __del__: a deque append takes no lock)."""
        self._given_back.append(connection)

    def put_back(self, connection: psycopg.Connection[Any]) -> None:
        """Return a closed cursor's connection to the pool now (never from __del__)."""
        self.give_back(connection)
        self._return_given_back()

    def close(self) -> None:
        """Close every connection of the pool."""
        self._return_given_back()
        self._pool.close()


def _reset(connection: psycopg.Connection[Any]) -> None:
    """Make a connection given back as it was made: no open transaction (a page run that failed
    between BEGIN and COMMIT), and no temporary tables (register), session settings or advisory locks
    (the worker's lease) of the cursor that had it. Not DISCARD ALL: it also drops the statements
    psycopg has prepared, which psycopg would go on using."""
    if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        connection.rollback()
    for statement in (b"RESET ALL", b"DISCARD TEMP", b"SELECT pg_advisory_unlock_all()"):
        connection.execute(statement)


class PostgresCursor:
    """One PostgreSQL connection with the methods the data layer calls on a DuckDB cursor:
    `execute` (returning itself), `fetchone`, `fetchall`, `df`, `cursor` and `close`.

    Like a DuckDB cursor, it belongs to one thread: `cursor()` returns another on a connection of
    its own, from a pool that the cursor it was made from and all cursors made from those share.
    Transactions are the data layer's own BEGIN/COMMIT statements (autocommit otherwise).
    """

    def __init__(self, url: str, pool: _Pool | None = None) -> None:
        self._url = url
        self._pool = pool
        self._pooled = pool is not None
        if pool is None:
            self._connection = psycopg.connect(url, **_connect_options())
            _configure(self._connection)
        else:
            self._connection = pool.take()
        self._closed = False
        self._result: psycopg.Cursor[Any] | None = None

    def cursor(self) -> "PostgresCursor":
        """Return a cursor on a connection of its own to the same database, from the pool."""
        if self._pool is None:
            self._pool = _Pool(self._url)
        return PostgresCursor(self._url, self._pool)

    def execute(self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] | None = None) -> "PostgresCursor":
        """Run `sql`, written in DuckDB's dialect, and keep its result for the fetch methods."""
        statement, keys = to_postgres(sql)
        self._result = self._connection.execute(statement, _arguments(keys, parameters))
        return self

    def execute_native(self, sql: str, parameters: Sequence[Any] | None = None) -> "PostgresCursor":
        """Run `sql`, written in PostgreSQL's own dialect with `$1`, `$2`... placeholders (the
        migrations written for PostgreSQL, server mode's own state), and keep its result."""
        self._result = self._connection.execute(sql.encode() if parameters is None else sql, parameters)
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        """Return the next row of the last result, or None when there is none."""
        return self._last().fetchone()

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Return the remaining rows of the last result."""
        return self._last().fetchall()

    def df(self) -> pd.DataFrame:
        """Return the last result as a DataFrame, dates and timestamps as datetime64 (as DuckDB does)."""
        result = self._last()
        columns = [column.name for column in result.description or []]
        frame = pd.DataFrame(result.fetchall(), columns=columns)
        for column in result.description or []:
            if column.type_code in _DATE_OIDS:
                frame[column.name] = pd.to_datetime(frame[column.name])
            elif column.type_code in _NUMBER_OIDS:
                frame[column.name] = pd.to_numeric(frame[column.name])
        return frame

    def register(self, name: str, data: Any) -> None:
        """Make `data` (a DataFrame, or an Arrow table) readable as table `name` in this session, as
        DuckDB's `register` does: a temporary table, filled in bulk by COPY."""
        frame = data if isinstance(data, pd.DataFrame) else data.to_pandas()
        columns = SQL(", ").join(
            SQL("{} {}").format(Identifier(str(column)), SQL(_column_type(frame[column]))) for column in frame.columns
        )
        table = Identifier(name)
        self._connection.execute(SQL("CREATE TEMPORARY TABLE {} ({})").format(table, columns))
        with self._connection.cursor().copy(SQL("COPY {} FROM STDIN").format(table)) as copy:
            for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False):
                copy.write_row([value.tolist() if isinstance(value, np.ndarray) else value for value in row])

    def unregister(self, name: str) -> None:
        """Drop what `register` made readable as `name`."""
        self._connection.execute(SQL("DROP TABLE IF EXISTS {}").format(Identifier(name)))

    def close(self) -> None:
        """Close this cursor: a pooled one's connection goes back to its pool; the first cursor (made
        by db.connect) closes its connection and the pool of the cursors made from it."""
        if self._closed:
            return
        self._closed = True
        if self._pool is not None and self._pooled:
            self._pool.put_back(self._connection)
            return
        self._connection.close()
        if self._pool is not None:
            self._pool.close()

    def _last(self) -> "psycopg.Cursor[Any]":
        if self._result is None:
            raise RuntimeError("no statement has been executed on this cursor")
        return self._result

    def __del__(self) -> None:
        # A DuckDB cursor is dropped, never closed, by the code that used it; so are these. Only the
        # connection goes back or is closed here.
        if getattr(self, "_closed", True):
            return
        self._closed = True
        if self._pool is not None and self._pooled:
            self._pool.give_back(self._connection)
        elif not self._connection.closed:
            self._connection.close()
