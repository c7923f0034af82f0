"""Dashboard results cached by principal, arguments, day and data version (docs/architecture.md).

`cached(function, cur, principal, **arguments)` takes the data-layer function itself. The
cache key names it (module and qualified name) beside the principal, the database file,
the data version (every write through `db.write` changes it, in any process), today's date and the
arguments; the function object goes along unhashed and is called on a miss only.

What every call does, hit or miss, so that both leave the same audit trail:
- the role check of the function's `allowed_roles` (a refusal is audited and raised);
- one audit row named after the function (e.g. "caseload_summary"), once the result is
  in hand, and once per page run (`access.record_view`): what was viewed, not each query.
  It is the only row: a function read through here writes none itself.

What a miss alone does: the checks inside the function (cohort's therapist filter: a
supervisor's own therapists only) and the scope in its SQL. A hit may skip them: their
outcome depends only on the principal, the arguments, the database's contents and the day
(the scopes follow caseload and supervision links in force today), all of them in the key.
So a hit is served only where the same checks passed on the same data the same day; a
refused call raises, and an exception is never cached.

A client's record (a call with `client_id`) is checked and audited here, hit or miss, by
`access.require_client` as "view_client_record": in SQL and once per page run for that
client (docs/architecture.md, "Access model"), so a client moved to another therapist is
refused on the next run even when the result is cached. Such a read writes no row of its
own: the run's one view row of the client says what was viewed.
"""

import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from datetime import date

import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from data_layer.core import access, db, settings
from ui.db import cursor

# The most reads `prefetch` runs at once, each on a cursor of its own: PostgreSQL runs a query on one
# core, so reads side by side use a server's cores as DuckDB does within each query. Four: the three
# cohort reads built on the same compliance wait for the one of them that works it out
# (data_layer.reports.cohort), and the fourth keeps the page's other reads going meanwhile; more would
# take more of the connection pool (data_layer/core/postgres.py) for little.
PREFETCH_THREADS = 4

# The oldest data version this page run's reads through `cached` were made at (None: no read
# yet, or outside a page run). `derived` keeps its results under it, never under a newer one:
# a write landing between a read and the work on it would otherwise store a result worked out
# from the older data under the newer version, and serve it until the next write.
_oldest_version_read: ContextVar[int | None] = ContextVar("oldest_version_read", default=None)


def begin_page_run():
    """Start a page run in this context (the login gate calls this at the top of every run)."""
    _oldest_version_read.set(None)


@st.cache_data(show_spinner=False, max_entries=512, ttl=3600)
def _cached_call(key, principal, database, data_version, today, arguments, _function, _cur):
    """Return `_function(_cur, principal, **arguments)`; `key` names `_function` for the cache,
    which hashes neither `_function` nor `_cur` (leading underscore)."""
    return _function(_cur, principal, **dict(arguments))


def _key(function):
    return f"{function.__module__}.{function.__qualname__}"


def cached(function, cur, principal, **arguments):
    """Return `function(cur, principal, **arguments)`, from the cache when nothing was written
    since, and audit the read (module docstring: the same on a hit and a miss)."""
    if principal.role not in function.allowed_roles:
        access.deny(cur, principal, function.__name__, detail=f"role {principal.role}")
    client_id = arguments.get("client_id")
    if client_id is not None:
        access.require_client(cur, principal, client_id, "view_client_record")
    version = db.data_version(cur)
    oldest = _oldest_version_read.get()
    _oldest_version_read.set(version if oldest is None else min(oldest, version))
    result = _cached_call(
        _key(function),
        principal,
        str(settings.database_path()),
        version,
        date.today(),
        tuple(sorted(arguments.items())),
        _function=function,
        _cur=cur,
    )
    if client_id is None:
        # After the read, so that a call refused inside the function leaves its denied row only.
        access.record_view(cur, principal, function.__name__)
    return result


def prefetch(cur, principal, calls):
    """Work out, side by side, results the page then reads through `cached` in its own order.

    `calls`: (function, arguments) pairs, each exactly as the page passes it to `cached` (the same
    keyword arguments, defaults included, or the page's read is a miss and does the work again).
    Up to PREFETCH_THREADS at once, each on a cursor of its own, into the cache `cached` reads:
    nothing is returned, audited or checked here beyond the role; the page's `cached` calls do all
    that, hit or miss, as before. Calls with `client_id` (checked before the read) and calls the
    principal's role may not make are left to `cached`. A read that fails here is dropped: the
    page's own call makes it again and fails there, where the page handles it.
    """
    calls = [
        (function, arguments)
        for function, arguments in calls
        if principal.role in function.allowed_roles and "client_id" not in arguments
    ]
    if not calls:
        return
    context = get_script_run_ctx()
    version = db.data_version(cur)
    database = str(settings.database_path())
    today = date.today()
    cursors = queue.SimpleQueue()
    opened = [cur.cursor() for _ in range(min(PREFETCH_THREADS, len(calls)))]
    for own in opened:
        cursors.put(own)

    def read(function, arguments):
        add_script_run_ctx(threading.current_thread(), context)
        own = cursors.get()
        try:
            _cached_call(
                _key(function),
                principal,
                database,
                version,
                today,
                tuple(sorted(arguments.items())),
                _function=function,
                _cur=own,
            )
        finally:
            cursors.put(own)

    try:
        with ThreadPoolExecutor(len(opened)) as pool:
            for future in [pool.submit(read, function, arguments) for function, arguments in calls]:
                future.exception()
    finally:
        for own in opened:
            own.close()


@st.cache_resource(show_spinner=False, max_entries=256, ttl=3600)
def _derived_result(name, principal, database, data_version, today, choices, _compute):
    """Return `_compute()`; `name` and `choices` stand for it in the key (it is not hashed)."""
    return _compute()


def derived(name, principal, choices, compute):
    """Return `compute()`, kept by `name`, the principal, the data version, today and `choices`.

    For a pure function of data this page run read through `cached` (so determined by the same
    principal, data version and day) and of the page's `choices` (a hashable: every choice the
    data were read with or the result depends on). Nothing is hashed by content and nothing is
    copied: a hit costs almost nothing, even for a Plotly figure, and the caller must never
    change what it gets. No audit row: the reads through `cached` wrote theirs.
    """
    version = _oldest_version_read.get()
    return _derived_result(
        name,
        principal,
        str(settings.database_path()),
        db.data_version(cursor()) if version is None else version,
        date.today(),
        choices,
        _compute=compute,
    )
