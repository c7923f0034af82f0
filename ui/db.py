"""The app's one DuckDB connection per database file, and a cursor per script run."""

import threading

from data_layer.core import db, settings
from data_layer.core.postgres import is_postgres_url
from ops import backup_service, scheduler

# Module state, not st.cache_resource: any visitor, logged in or not, can send Streamlit's
# clear-cache message, which empties st.cache_resource for the whole process (docs/architecture.md).
_connections = {}
_connections_lock = threading.Lock()


def _connection(path):
    # One connection per file for the whole process; DuckDB connections are not
    # thread-safe, so each script run works on its own cursor (docs/architecture.md).
    with _connections_lock:
        conn = _connections.get(path)
        if conn is None:
            # A clinic time zone that is no zone stops the app here, before the scheduler would
            # fail at every tick (app.py shows the message).
            settings.clinic_time_zone()
            conn = db.connect(path)
            if not is_postgres_url(path):
                # `make backup` asks this process for snapshots while it holds the file.
                backup_service.serve(conn, path)
                # Reminders and risk alerts are queued and sent every minute from here on
                # (ops/scheduler.py). ui/serve.py opens this first connection as the server starts,
                # before any page request. In server mode neither runs in an app process (#15).
                scheduler.start(conn)
            _connections[path] = conn
        return conn


# The cursors each thread (a page run's script thread) has asked for since close_run_cursors.
_run_cursors = threading.local()


def cursor():
    """Return a fresh cursor on the configured database (HOMEWORK_DB), closed when the page run that
    asked for it ends (close_run_cursors)."""
    cur = _connection(str(settings.database_path())).cursor()
    if not hasattr(_run_cursors, "opened"):
        _run_cursors.opened = []
    _run_cursors.opened.append(cur)
    return cur


def close_run_cursors():
    """Close every cursor this thread asked for since the last call (app.py, as each page run ends).

    Without it a run's cursors live until the garbage collector finds them (a page script's
    functions and its globals, `cur` among them, form a cycle), and in server mode each holds a
    database connection that long.
    """
    opened = getattr(_run_cursors, "opened", [])
    _run_cursors.opened = []
    for cur in opened:
        cur.close()


def close_connections():
    """Stop the scheduler and close every connection this process opened (ui/serve.py when the
    server stops; benchmarks and tests that reuse files)."""
    scheduler.stop()
    with _connections_lock:
        for conn in _connections.values():
            conn.close()
        _connections.clear()
