"""The delivery engine of reminders and risk alerts (issue #16): queue who is due, send, retry.

Design
------
Two steps, each safe to run again at any moment, on a clock that is passed in (`now`, a naive
UTC datetime), so tests never sleep:

1. `queue_due_reminders(cur, now)`: ONE SQL statement finds the clients who get a reminder on
   now's date and inserts one outbox row each, keyed 'reminder:<client_id>:<date>'. The key is
   unique and the insert skips keys already there (ON CONFLICT DO NOTHING): however often it
   runs in a day, a client gets at most one reminder that day, even after it was sent, failed
   or cancelled.
2. `deliver_due(cur, now, send)`: every queued message whose next attempt is due is checked
   again (account active, still in care, reminders still on, its day not over) and then handed
   to `send`, a callable that returns once the mail server took it and raises otherwise. No
   transaction is held while sending: the row is marked afterwards, so a crash between the
   two sends that message again on the next tick (at least once, never lost).
   A failure is recorded (attempts, last_error) and tried again after 1, 2, 4, ... minutes, at
   most 60; after 10 attempts, or at once when `send` says it never can succeed
   (mailer.Undeliverable, e.g. no email address), the message is 'failed'. Nothing is ever
   deleted: the admin sees every message and how it ended (data_layer.reminders.list_outbox).
   With no mail server configured (HOMEWORK_SMTP_HOST unset), due messages end 'not_sent'
   ("not sent: no mail server configured") and `send` is never called: nothing leaves the
   machine.

Risk alerts (issue #16): `queue_risk_alerts(cur, now)`, ONE SQL statement as well, queues one
message per recipient (the client's therapist, or the safety contacts when there is none) for every
PHQ-9 item-9 flag raised in the 24 hours before `now` and not acknowledged, keyed
'risk_alert:<flag_id>:<recipient_id>' (RISK_QUEUE_SQL says why 24 hours). deliver_due sends them
first, re-checked by their own rule: the recipient active, the flag still unacknowledged.

`tick` queues risk alerts, then reminders, then delivers; `start(conn)` runs `tick` every minute,
at :00, on a daemon thread of the app's process with its own cursor (ui/db.py starts it with the
process's one connection, which ui/serve.py opens as the server starts).

Time: everything is UTC in this slice, the reminder times the clients choose included. The clinic's
time zone (and each client's) is left for later (issue #16 asks for it).

These functions take no principal: they are the app's own machinery, not a user's request, and
are declared infrastructure in tests/data_layer/test_access.py. What they write holds no clinical
data (the outbox stores no message body).
"""

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import duckdb

from data_layer.core import db, settings
from data_layer.core.access import current_link
from data_layer.reminders import TURNED_OFF
from ops import mailer

MAX_ATTEMPTS = 10
MAX_BACKOFF_MINUTES = 60
MAX_ERROR_LENGTH = 500
NO_MAIL_SERVER = "not sent: no mail server configured"
FLAG_ACKNOWLEDGED = "flag already acknowledged"
TICK_SECONDS = 60
STOP_SECONDS = 5
_log = logging.getLogger(__name__)

Send = Callable[[mailer.Message], None]

# Who gets a reminder on $today at $now: reminders on, today one of their days, their time reached,
# an active client account, in care today (a caseload row in force), not paused today, and some
# weekly homework in force today whose target for this ISO week is not met yet.
#
# "Not met yet" counts this ISO week's logs (Monday to today) marked done or partly against the
# assignment's times_per_week (the current schedule, on the assignments row). Not the compliance
# SQL of data_layer/core/compliance_sql.py: that one judges days up to DuckDB's current_date
# (never a given `now`), pro-rates what a week expects to the days gone and scores 'partly' as
# half. A reminder asks whether there is still something to log this week, so a logged 'partly'
# counts as logged, and the whole week's target counts from Monday on.
QUEUE_SQL = f"""
INSERT INTO outbox (message_key, recipient_id, kind, due_at, status)
SELECT 'reminder:' || p.client_id || ':' || strftime(CAST($today AS DATE), '%Y-%m-%d'),
       p.client_id, 'client_reminder', CAST($today AS DATE) + p.send_at, 'queued'
FROM reminder_preferences p
JOIN users u ON u.id = p.client_id
WHERE p.enabled
  AND u.active AND u.role = 'client'
  AND list_contains(p.days, isodow(CAST($today AS DATE)))
  AND p.send_at <= CAST(CAST($now AS TIMESTAMP) AS TIME)
  AND EXISTS (SELECT 1 FROM caseload c
              WHERE c.client_id = p.client_id AND {current_link("c", "CAST($today AS DATE)")})
  AND NOT EXISTS (SELECT 1 FROM paused_periods pp
                  WHERE pp.client_id = p.client_id AND CAST($today AS DATE) BETWEEN pp.starts_on AND pp.ends_on)
  AND EXISTS (
      SELECT 1 FROM assignments a
      WHERE a.client_id = p.client_id AND a.schedule = 'weekly'
        AND a.starts_on <= CAST($today AS DATE)
        AND (a.ends_on IS NULL OR a.ends_on >= CAST($today AS DATE))
        AND (SELECT count(*) FROM homework_logs h
             WHERE h.assignment_id = a.id AND h.status IN ('done', 'partly')
               AND h.log_date BETWEEN CAST(date_trunc('week', CAST($today AS DATE)) AS DATE)
                                  AND CAST($today AS DATE)) < a.times_per_week)
ON CONFLICT (message_key) DO NOTHING
RETURNING id
"""

# A risk alert (issue #16): a PHQ-9 item-9 flag raised in the last 24 hours and not acknowledged yet
# gets one message per recipient, keyed 'risk_alert:<flag_id>:<recipient_id>' (so each recipient gets
# it once, however often this runs). The recipient is the flag's therapist when that account is active
# and still the client's therapist today (so the flag is on their caseload in the app); otherwise
# (no therapist when it was raised, a link since ended, an account deactivated) the clinic's safety
# contacts: every active supervisor and admin, who read the flags of clients with no current therapist
# (data_layer.measures.list_unassigned_risk_flags). The 24-hour window: flags raised before this
# existed, or before a server was started again after a long stop, are already on the caseload pages
# and in the safety contacts' list; an email days later would say "today" of something old.
RISK_QUEUE_SQL = f"""
INSERT INTO outbox (message_key, recipient_id, kind, due_at, status)
WITH open_flags AS (
    SELECT f.id, f.therapist_id,
           EXISTS (SELECT 1 FROM users t JOIN caseload c ON c.therapist_id = t.id
                   WHERE t.id = f.therapist_id AND t.active AND c.client_id = f.client_id
                     AND {current_link("c", "CAST($today AS DATE)")}) AS to_therapist
    FROM risk_flags f
    WHERE f.raised_at >= CAST($now AS TIMESTAMP) - INTERVAL 24 HOUR
      AND NOT EXISTS (SELECT 1 FROM risk_acknowledgements a WHERE a.risk_flag_id = f.id)
)
SELECT 'risk_alert:' || f.id || ':' || r.id, r.id, 'risk_alert', CAST($now AS TIMESTAMP), 'queued'
FROM open_flags f
JOIN users r ON CASE WHEN f.to_therapist THEN r.id = f.therapist_id
                     ELSE r.active AND r.role IN ('supervisor', 'admin') END
ORDER BY f.id, r.id
ON CONFLICT (message_key) DO NOTHING
RETURNING id
"""

# The flag a risk alert is about: the second part of its key 'risk_alert:<flag_id>:<recipient_id>'.
_ALERT_FLAG = "TRY_CAST(split_part(o.message_key, ':', 2) AS BIGINT)"

# The queued messages whose attempt is due, each with the reason it must not go any more (NULL: send),
# risk alerts first. The re-check depends on the kind: a risk alert goes while its recipient is active
# and its flag unacknowledged; a client reminder while the client is active, in care, has reminders on
# and its day is not over. `safety_contact`: a risk alert to a supervisor or admin (its own wording).
DUE_SQL = f"""
SELECT o.id, o.message_key, o.kind, o.recipient_id, u.email, o.due_at, o.attempts,
       CASE
           WHEN NOT u.active THEN 'not sent: the account is deactivated'
           WHEN o.kind = 'risk_alert' THEN
               CASE WHEN EXISTS (SELECT 1 FROM risk_acknowledgements a WHERE a.risk_flag_id = {_ALERT_FLAG})
                    THEN 'not sent: {FLAG_ACKNOWLEDGED}' END
           WHEN NOT coalesce(p.enabled, false) THEN 'not sent: {TURNED_OFF}'
           WHEN NOT EXISTS (SELECT 1 FROM caseload c
                            WHERE c.client_id = o.recipient_id AND {current_link("c", "CAST($today AS DATE)")})
               THEN 'not sent: no longer in care'
           WHEN CAST(o.due_at AS DATE) < CAST($today AS DATE) THEN 'not sent: the day it was for is over'
       END AS reason,
       o.kind = 'risk_alert' AND u.role IN ('supervisor', 'admin') AS safety_contact
FROM outbox o
JOIN users u ON u.id = o.recipient_id
LEFT JOIN reminder_preferences p ON p.client_id = o.recipient_id
WHERE o.status = 'queued' AND o.due_at <= $now
  AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= $now)
ORDER BY o.kind = 'risk_alert' DESC, o.due_at, o.id
"""


def backoff(attempts: int) -> timedelta:
    """Return the wait before the next attempt after `attempts` failed ones: 1, 2, 4, ... minutes,
    at most 60."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), MAX_BACKOFF_MINUTES))


def queue_due_reminders(cur: duckdb.DuckDBPyConnection, now: datetime) -> int:
    """Queue today's reminder for every client due one at `now` (naive UTC); return how many
    were new. Running it again the same day queues no one twice (see the module's docstring)."""
    parameters = {"today": now.date(), "now": now}

    def insert(cur: duckdb.DuckDBPyConnection) -> int:
        return len(cur.execute(QUEUE_SQL, parameters).fetchall())

    # No cached view reads the outbox: dashboards keep their caches (db.write's cached_data).
    return db.write(cur, insert, cached_data=False)


def queue_risk_alerts(cur: duckdb.DuckDBPyConnection, now: datetime) -> int:
    """Queue one risk alert per recipient for every open risk flag raised in the 24 hours before
    `now` (naive UTC); return how many were new. Running it again queues no one twice
    (RISK_QUEUE_SQL says who the recipients are)."""
    parameters = {"today": now.date(), "now": now}

    def insert(cur: duckdb.DuckDBPyConnection) -> int:
        return len(cur.execute(RISK_QUEUE_SQL, parameters).fetchall())

    return db.write(cur, insert, cached_data=False)


_MARK_SQL = """
    UPDATE outbox
    SET status = $status, attempts = coalesce($attempts, attempts), last_error = coalesce($last_error, last_error),
        next_attempt_at = $next_attempt_at, sent_at = $sent_at
    WHERE id = $id AND status = 'queued'"""


def _mark(
    cur: duckdb.DuckDBPyConnection,
    message_id: int,
    status: str,
    *,
    attempts: int | None = None,
    last_error: str | None = None,
    next_attempt_at: datetime | None = None,
    sent_at: datetime | None = None,
) -> None:
    """Record how one message went, if it is still queued (a client turning reminders off may
    have cancelled it); attempts and last_error stay as they were when not given."""
    parameters = {
        "id": message_id,
        "status": status,
        "attempts": attempts,
        "last_error": last_error,
        "next_attempt_at": next_attempt_at,
        "sent_at": sent_at,
    }
    db.write(cur, lambda cur: cur.execute(_MARK_SQL, parameters), cached_data=False)


def _error_text(error: Exception) -> str:
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return text[:MAX_ERROR_LENGTH]


def deliver_due(cur: duckdb.DuckDBPyConnection, now: datetime, send: Send) -> dict[str, int]:
    """Send the queued messages due at `now` (naive UTC) with `send`, and record how each went.

    Returns counts by outcome: sent, retry (failed this time, tried again later), failed (given
    up: 10 attempts, or undeliverable) and not_sent (no longer wanted, or no mail server).
    """
    counts = {"sent": 0, "retry": 0, "failed": 0, "not_sent": 0}
    due = cur.execute(DUE_SQL, {"today": now.date(), "now": now}).fetchall()
    no_mail_server = settings.SMTP_HOST.value() is None
    for message_id, key, kind, recipient_id, email, due_at, attempts, reason, safety_contact in due:
        if reason is None and no_mail_server:
            reason = NO_MAIL_SERVER
        if reason is not None:
            _mark(cur, message_id, "not_sent", last_error=reason)
            counts["not_sent"] += 1
            continue
        message = mailer.Message(message_id, key, kind, recipient_id, email, due_at, bool(safety_contact))
        try:
            send(message)
        except Exception as error:  # any failure of the mail server or the network is recorded
            attempts += 1
            if attempts >= MAX_ATTEMPTS or isinstance(error, mailer.Undeliverable):
                _mark(cur, message_id, "failed", attempts=attempts, last_error=_error_text(error))
                counts["failed"] += 1
            else:
                _mark(
                    cur,
                    message_id,
                    "queued",
                    attempts=attempts,
                    last_error=_error_text(error),
                    next_attempt_at=now + backoff(attempts),
                )
                counts["retry"] += 1
            continue
        _mark(cur, message_id, "sent", attempts=attempts + 1, sent_at=now)
        counts["sent"] += 1
    return counts


def tick(cur: duckdb.DuckDBPyConnection, now: datetime, send: Send) -> dict[str, int]:
    """Queue the risk alerts of new flags, then the reminders due at `now`, then deliver what is due
    (risk alerts first); return deliver_due's counts plus `queued` (how many messages were newly
    queued, of both kinds). A flag saved before this tick is in someone's inbox by its end."""
    queued = queue_risk_alerts(cur, now)
    queued += queue_due_reminders(cur, now)
    return {"queued": queued, **deliver_due(cur, now, send)}


# The scheduler threads of this process by connection (id), with the event that stops each.
_running: dict[int, tuple[threading.Thread, threading.Event]] = {}
_running_lock = threading.Lock()


def start(conn: duckdb.DuckDBPyConnection, send: Send = mailer.send_message) -> threading.Thread:
    """Run `tick` every minute, at :00 UTC, on a daemon thread working on its own cursor of `conn`;
    return the thread. A second call for the same connection returns the running thread.

    The thread logs a failed tick and carries on at the next minute; it ends when `conn` is
    closed or on stop(). ui/db.py starts it with the process's first connection to the database,
    which the server command (ui/serve.py) opens before Streamlit serves anyone: a server that
    nobody opens still sends reminders and alerts.
    """
    with _running_lock:
        running = _running.get(id(conn))
        if running is not None and running[0].is_alive():
            return running[0]
        stopping = threading.Event()
        thread = threading.Thread(
            target=_run_forever, args=(conn, send, stopping), daemon=True, name="reminder-scheduler"
        )
        _running[id(conn)] = (thread, stopping)
        thread.start()
        return thread


def stop(timeout: float = STOP_SECONDS) -> None:
    """Stop every scheduler thread of this process: each ends at once when waiting for its next
    minute, or when its current tick is done; wait up to `timeout` seconds in all for them to end
    (a server must stop within seconds: a tick still sending then is cut short by the process's exit,
    and its message goes again after the restart, at least once)."""
    with _running_lock:
        running = list(_running.values())
        _running.clear()
    for _thread, stopping in running:
        stopping.set()
    deadline = time.monotonic() + timeout
    for thread, _stopping in running:
        thread.join(max(deadline - time.monotonic(), 0))


def _seconds_to_next_minute() -> float:
    return TICK_SECONDS - time.time() % TICK_SECONDS


def _run_forever(conn: duckdb.DuckDBPyConnection, send: Send, stopping: threading.Event) -> None:
    while not stopping.wait(_seconds_to_next_minute()):
        try:
            cur = conn.cursor()
        except duckdb.ConnectionException:
            return  # the connection was closed: nothing left to serve
        try:
            counts = tick(cur, datetime.now(UTC).replace(tzinfo=None), send)
            if any(counts.values()):
                _log.info("reminders: %s", counts)
        except duckdb.ConnectionException:
            return
        except Exception:  # logged; the next minute tries again
            _log.exception("The reminder scheduler's tick failed; it tries again in a minute.")
        finally:
            with contextlib.suppress(duckdb.Error):
                cur.close()
