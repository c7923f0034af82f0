"""Server mode's worker: the reminder scheduler as a process of its own, `python -m ops.worker`.

With the embedded DuckDB file the scheduler runs inside the app process (ui/db.py), the file's one
owner. In server mode (HOMEWORK_DB a postgresql:// URL) the app processes start no scheduler; one
or more workers run it instead, and a lease in the database (a PostgreSQL advisory lock held for
the length of a tick) lets one worker at a time queue and send, so two workers never send the same
message. A second worker is a standby: it takes over at the next minute when the first stops.
"""

import logging
import signal
import sys
import threading
from datetime import datetime

from data_layer.core import db, settings
from data_layer.core.postgres import is_postgres_url
from ops import mailer, scheduler

# The advisory lock that is the scheduler's lease (any number that no other lock of the app uses).
SCHEDULER_LEASE = 7_130_016_002
_log = logging.getLogger(__name__)


def leased_tick(cur: db.Cursor, now: datetime, send: scheduler.Send) -> dict[str, int] | None:
    """Run the scheduler's tick for `now` (queue, then deliver what is due) unless another worker is
    running one: return its counts, or None when another worker holds the lease."""
    (held,) = db.one_row(cur.execute("SELECT pg_try_advisory_lock(?)", [SCHEDULER_LEASE]))  # type: ignore[arg-type]
    if not held:
        return None
    try:
        return scheduler.tick(cur, now, send)  # type: ignore[arg-type]
    finally:
        cur.execute("SELECT pg_advisory_unlock(?)", [SCHEDULER_LEASE])


def main() -> int:
    """Run the scheduler every minute against HOMEWORK_DB until SIGTERM or SIGINT; return the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    target = settings.database_path()
    if not is_postgres_url(target):
        print(
            "ops.worker is for server mode (HOMEWORK_DB a postgresql:// URL). With the DuckDB file the "
            "scheduler runs inside the app process: `make run` or `python -m ui.serve`.",
            file=sys.stderr,
        )
        return 2
    settings.clinic_time_zone()  # a zone that is no zone stops the worker here, with the setting's message
    conn = db.connect(target)
    stopping = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stopping.set())
    _log.info("worker started: the reminder scheduler runs every minute while it holds the lease")
    scheduler.run_forever(conn, mailer.send_message, stopping, run_tick=leased_tick)  # type: ignore[arg-type]
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
