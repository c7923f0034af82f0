"""The delivery engine of reminders and risk alerts (issue #16): queue who is due, send, retry.

Design
------
Two steps, each safe to run again at any moment, on a clock that is passed in (`now`, a naive
UTC datetime), so tests never sleep:

1. `queue_due_reminders(cur, now)`: ONE SQL statement finds the clients who get a reminder at
   now, each on their own clock (below), and inserts one outbox row each, keyed
   'reminder:<client_id>:<local date>'. The key is unique and the insert skips keys already there
   (ON CONFLICT DO NOTHING): however often it runs in a day, a client gets at most one reminder
   that day, even after it was sent, failed or cancelled.
2. `deliver_due(cur, now, send)`: every queued message whose next attempt is due is checked
   again (account active, still in care, reminders still on, its local day not over) and then handed
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

Nudges (issue #16): a therapist queues one from the Client page (data_layer.reminders.send_nudge, kind
'nudge', keyed 'nudge:<client_id>:<date>', due at once); deliver_due re-checks it as a reminder
(active, in care, reminders still on, its day not over).

Weekly digests (issue #16): `queue_digests(cur, now)`, ONE SQL statement, queues for each active
therapist who turned the digest on a message on their chosen ISO weekday once their time is reached,
keyed 'digest:<therapist_id>:<ISO year>-W<week>' (one a week). Its body is built when it is sent, from
the therapist's caseload as the Caseload page reads it (`digest_counts`); deliver_due re-checks the
therapist active, the digest still on and its ISO week not over.

`tick` queues risk alerts, then reminders, then digests, then delivers; `start(conn)` runs `tick` every minute,
at :00, on a daemon thread of the app's process with its own cursor (ui/db.py starts it with the
process's one connection, which ui/serve.py opens as the server starts).

Time: `now`, due_at, next_attempt_at and sent_at are naive UTC. A client's reminder time and days are
on their own clock: the time zone they chose (reminder_preferences.time_zone), else the clinic's
(HOMEWORK_TIMEZONE, default UTC). Their "today" (its weekday, its ISO week for the weekly target, a
break, being in care, a questionnaire due, the day a queued reminder was for) is their local date,
converted in SQL by DuckDB's ICU time zones (built into the duckdb wheel, nothing downloaded). Daylight
saving neither skips nor doubles a reminder (QUEUE_SQL says how). Risk alerts go at once, whatever the
hour; their "today" (the therapist's link in force) is the UTC date.

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

from data_layer.core import audit, db, settings
from data_layer.core.access import SCHEDULER, Principal, current_link, record_view
from data_layer.core.questionnaire_sql import questionnaire_due_sql
from data_layer.reminders import DIGEST_TURNED_OFF, TURNED_OFF
from data_layer.reports import metrics
from ops import mailer

MAX_ATTEMPTS = 10
MAX_BACKOFF_MINUTES = 60
MAX_ERROR_LENGTH = 500
NO_MAIL_SERVER = "not sent: no mail server configured"
FLAG_ACKNOWLEDGED = "flag already acknowledged"
TICK_SECONDS = 60
# A digest reads its therapist's whole caseload (about 0.75 s each at size L, measured on 2 busy cores):
# at most this many a tick, so that many therapists choosing the same minute do not hold up the next
# ticks' risk alerts for minutes; the rest stay queued and go at the following ticks.
MAX_DIGESTS_PER_TICK = 20
STOP_SECONDS = 5
_log = logging.getLogger(__name__)

Send = Callable[[mailer.Message], None]


# A client's date and time now, on the clock of `zone` (an IANA name): $now is naive UTC, so it is read
# as UTC (timezone('UTC', ...) gives the instant) and shown on the zone's clock (a naive local
# timestamp). Neither step depends on the connection's TimeZone setting.
def _local_now(zone: str) -> str:
    return f"timezone({zone}, timezone('UTC', CAST($now AS TIMESTAMP)))"


# A reminder's zone: the client's own, or the clinic's ($clinic_zone, HOMEWORK_TIMEZONE), with _ZONE_JOIN
# on reminder_preferences p. A stored name that DuckDB's ICU does not know (the data layer checks names
# against zoneinfo's; a later tzdata may drop one) counts as the clinic's: it would otherwise stop the
# one statement that queues every client's reminders.
_ZONE_JOIN = "LEFT JOIN pg_timezone_names() tz ON tz.name = p.time_zone"
_ZONE = "coalesce(tz.name, $clinic_zone)"

# Who gets a reminder at $now, on their own clock: reminders on, their local date one of their days,
# their time reached on their clock, an active client account, in care on their local date (a caseload
# row in force), not paused that day, and either some weekly homework in force whose target for their
# local ISO week is not met yet, or a questionnaire (PHQ-9 or GAD-7) due or overdue that day by the
# therapist's cadence (data_layer/core/questionnaire_sql.py, the rule the client's pages show).
#
# Time zones: now on each zone's clock is worked out once per zone in use (`zones`), not per client.
# The key holds the local date, so a local hour that comes twice (the clocks going back) queues
# nothing more. A local hour that does not exist (the clocks going forward, e.g. 01:30 in London on
# the last Sunday of March) is reached at the first tick after it (02:00 local), since the chosen
# time is compared with the local time. due_at is naive UTC: the chosen time on the local date,
# converted back; ICU reads a time that does not exist as one hour later, so it is capped at $now
# (it is due when queued).
#
# "Not met yet" counts this ISO week's logs (Monday to today) marked done or partly against the
# assignment's times_per_week (the current schedule, on the assignments row). Not the compliance
# SQL of data_layer/core/compliance_sql.py: that one judges days up to DuckDB's current_date
# (never a given `now`), pro-rates what a week expects to the days gone and scores 'partly' as
# half. A reminder asks whether there is still something to log this week, so a logged 'partly'
# counts as logged, and the whole week's target counts from Monday on.
QUEUE_SQL = f"""
INSERT INTO outbox (message_key, recipient_id, kind, due_at, status)
WITH chosen AS (
    SELECT p.client_id, p.send_at, p.days, {_ZONE} AS zone
    FROM reminder_preferences p
    JOIN users u ON u.id = p.client_id
    {_ZONE_JOIN}
    WHERE p.enabled AND u.active AND u.role = 'client'
), zones AS (
    SELECT zone, {_local_now("zone")} AS local_now FROM (SELECT DISTINCT zone FROM chosen)
), local_clock AS (
    SELECT c.client_id, c.send_at, c.days, c.zone,
           CAST(z.local_now AS DATE) AS today, CAST(z.local_now AS TIME) AS local_time
    FROM chosen c JOIN zones z ON z.zone = c.zone
), questionnaire_due AS (
    SELECT DISTINCT client_id
    FROM ({questionnaire_due_sql("SELECT client_id, today AS day FROM local_clock")})
    WHERE next_due <= day
)
SELECT 'reminder:' || l.client_id || ':' || CAST(l.today AS VARCHAR),
       l.client_id, 'client_reminder',
       least(timezone('UTC', timezone(l.zone, l.today + l.send_at)), CAST($now AS TIMESTAMP)), 'queued'
FROM local_clock l
WHERE list_contains(l.days, CAST(extract(isodow FROM l.today) AS INTEGER))
  AND l.send_at <= l.local_time
  AND EXISTS (SELECT 1 FROM caseload c WHERE c.client_id = l.client_id AND {current_link("c", "l.today")})
  AND NOT EXISTS (SELECT 1 FROM paused_periods pp
                  WHERE pp.client_id = l.client_id AND l.today BETWEEN pp.starts_on AND pp.ends_on)
  AND (EXISTS (
           SELECT 1 FROM assignments a
           WHERE a.client_id = l.client_id AND a.schedule = 'weekly'
             AND a.starts_on <= l.today AND (a.ends_on IS NULL OR a.ends_on >= l.today)
             AND (SELECT count(*) FROM homework_logs h
                  WHERE h.assignment_id = a.id AND h.status IN ('done', 'partly')
                    AND h.log_date BETWEEN CAST(date_trunc('week', l.today) AS DATE) AND l.today) < a.times_per_week)
       OR l.client_id IN (SELECT client_id FROM questionnaire_due))
ORDER BY l.client_id
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

# A day's ISO week as '2026-W49', in SQL both engines run alike (not strftime's %G-W%V: sqlglot writes it
# as a PostgreSQL pattern that means something else).
_ISO_WEEK = (
    "CAST(CAST(extract(isoyear FROM {day}) AS INTEGER) AS VARCHAR) || '-W' "
    "|| lpad(CAST(CAST(extract(week FROM {day}) AS INTEGER) AS VARCHAR), 2, '0')"
)

# A therapist's weekly digest: on their chosen ISO weekday, once their time is reached, both on the clinic's
# clock (HOMEWORK_TIMEZONE), for an active therapist with the digest on; keyed by the clinic's ISO week
# ('digest:<therapist_id>:2026-W49'), so a therapist gets one a week however often this runs, even after
# changing the day within the week. due_at as in QUEUE_SQL (naive UTC, capped at $now).
DIGEST_QUEUE_SQL = f"""
INSERT INTO outbox (message_key, recipient_id, kind, due_at, status)
WITH clinic_clock AS (
    SELECT CAST(local_now AS DATE) AS today, CAST(local_now AS TIME) AS local_time
    FROM (SELECT {_local_now("$clinic_zone")} AS local_now)
)
SELECT 'digest:' || d.therapist_id || ':' || {_ISO_WEEK.format(day='l.today')},
       d.therapist_id, 'therapist_digest',
       least(timezone('UTC', timezone($clinic_zone, l.today + d.send_at)), CAST($now AS TIMESTAMP)), 'queued'
FROM digest_preferences d
JOIN users u ON u.id = d.therapist_id
CROSS JOIN clinic_clock l
WHERE d.enabled AND u.active AND u.role = 'therapist'
  AND d.weekday = CAST(extract(isodow FROM l.today) AS INTEGER)
  AND d.send_at <= l.local_time
ON CONFLICT (message_key) DO NOTHING
RETURNING id
"""

# The flag a risk alert is about: the second part of its key 'risk_alert:<flag_id>:<recipient_id>'.
_ALERT_FLAG = "TRY_CAST(split_part(o.message_key, ':', 2) AS BIGINT)"
# The day a message was due, on its recipient's clock: for a reminder, the local date in its key (due_at is
# the chosen time on that date, or the tick that queued it, the same local day). Read from due_at rather
# than the key, so that it holds for any message a client is sent.
_DUE_DAY = f"CAST(timezone({_ZONE}, timezone('UTC', o.due_at)) AS DATE)"

# The queued messages whose attempt is due, each with the reason it must not go any more (NULL: send),
# risk alerts first. The re-check depends on the kind: a risk alert goes while its recipient is active
# and its flag unacknowledged; a therapist's digest while the therapist is active, has the digest on and
# its ISO week is not over; a client reminder or a therapist's nudge while the client is active, in care
# on their local date, has reminders on and the local day it was for is not over. `safety_contact`: a
# risk alert to a supervisor or admin (its own wording).
DUE_SQL = f"""
SELECT o.id, o.message_key, o.kind, o.recipient_id, u.email, o.due_at, o.attempts,
       CASE
           WHEN NOT u.active THEN 'not sent: the account is deactivated'
           WHEN o.kind = 'risk_alert' THEN
               CASE WHEN EXISTS (SELECT 1 FROM risk_acknowledgements a WHERE a.risk_flag_id = {_ALERT_FLAG})
                    THEN 'not sent: {FLAG_ACKNOWLEDGED}' END
           WHEN o.kind = 'therapist_digest' THEN
               CASE WHEN NOT coalesce(d.enabled, false) THEN 'not sent: {DIGEST_TURNED_OFF}'
                    WHEN date_trunc('week', {_DUE_DAY}) < date_trunc('week', l.today)
                        THEN 'not sent: the week it was for is over' END
           WHEN NOT coalesce(p.enabled, false) THEN 'not sent: {TURNED_OFF}'
           WHEN NOT EXISTS (SELECT 1 FROM caseload c
                            WHERE c.client_id = o.recipient_id AND {current_link("c", "l.today")})
               THEN 'not sent: no longer in care'
           WHEN {_DUE_DAY} < l.today THEN 'not sent: the day it was for is over'
       END AS reason,
       o.kind = 'risk_alert' AND u.role IN ('supervisor', 'admin') AS safety_contact
FROM outbox o
JOIN users u ON u.id = o.recipient_id
LEFT JOIN reminder_preferences p ON p.client_id = o.recipient_id
LEFT JOIN digest_preferences d ON d.therapist_id = o.recipient_id
{_ZONE_JOIN}
CROSS JOIN LATERAL (SELECT CAST({_local_now(_ZONE)} AS DATE) AS today) AS l
WHERE o.status = 'queued' AND o.due_at <= $now
  AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= $now)
ORDER BY o.kind = 'risk_alert' DESC, o.due_at, o.id
"""


def backoff(attempts: int) -> timedelta:
    """Return the wait before the next attempt after `attempts` failed ones: 1, 2, 4, ... minutes,
    at most 60."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), MAX_BACKOFF_MINUTES))


def queue_due_reminders(cur: duckdb.DuckDBPyConnection, now: datetime) -> int:
    """Queue the day's reminder for every client due one at `now` (naive UTC; each client's day and
    time are on their own clock, QUEUE_SQL); return how many were new. Running it again the same
    local day queues no one twice (see the module's docstring)."""
    parameters = {"now": now, "clinic_zone": settings.clinic_time_zone()}

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


def queue_digests(cur: duckdb.DuckDBPyConnection, now: datetime) -> int:
    """Queue this week's digest for every therapist due one at `now` (naive UTC); return how many were
    new. Running it again in the same ISO week queues no one twice (DIGEST_QUEUE_SQL)."""
    parameters = {"now": now, "clinic_zone": settings.clinic_time_zone()}

    def insert(cur: duckdb.DuckDBPyConnection) -> int:
        return len(cur.execute(DIGEST_QUEUE_SQL, parameters).fetchall())

    return db.write(cur, insert, cached_data=False)


def digest_counts(cur: duckdb.DuckDBPyConnection, therapist_id: int) -> mailer.DigestCounts:
    """Return the therapist's current clients and how many carry each flag of the Caseload page: an
    open risk flag, homework set but no log for 7+ days, reliable deterioration.

    The counts come from the Caseload page's own read (metrics.caseload_summary and its flags), made
    as the therapist: the digest tells them what their page shows, by one definition. Audited as the
    therapist's caseload_digest, like a read of their caseload page.
    """
    therapist = Principal(user_id=therapist_id, role="therapist")
    record_view(cur, therapist, "caseload_digest")
    summary = metrics.caseload_summary(cur, therapist)
    return mailer.DigestCounts(
        clients=len(summary),
        risk=int(summary["flag_risk"].sum()),
        inactive=int(summary["flag_inactive"].sum()),
        deteriorating=int(summary["flag_deterioration"].sum()),
    )


_MARK_SQL = """
    UPDATE outbox
    SET status = $status, attempts = coalesce($attempts, attempts), last_error = coalesce($last_error, last_error),
        next_attempt_at = $next_attempt_at, sent_at = $sent_at
    WHERE id = $id AND status = 'queued'
    RETURNING kind"""

# How each way a delivery attempt ends is audited: (verb, outcome), by the status it leaves. The action
# is '<verb>_message', or '<verb>_risk_alert' for a risk alert: an event the admin's audit viewer hides
# (data_layer.audit_log.HIDDEN_ACTIONS), as the outbox hides a risk alert's recipient and minute, since
# one sent a minute after a client's questionnaire would tell that item 9 was answered above 0.
_AUDITED = {
    "sent": ("send", "ok"),
    "queued": ("send", "failed"),  # failed this time, tried again later
    "failed": ("send", "failed"),  # given up
    "not_sent": ("skip", "ok"),
}


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
    have cancelled it); attempts and last_error stay as they were when not given. Audited in the
    same transaction, by the scheduler: the message's kind, and why it failed or was not sent
    (never a body: the outbox has none)."""
    parameters = {
        "id": message_id,
        "status": status,
        "attempts": attempts,
        "last_error": last_error,
        "next_attempt_at": next_attempt_at,
        "sent_at": sent_at,
    }

    def mark(cur: duckdb.DuckDBPyConnection) -> None:
        marked = cur.execute(_MARK_SQL, parameters).fetchone()
        if marked is None:
            return  # no longer queued: whoever changed it audited that
        verb, outcome = _AUDITED[status]
        action = f"{verb}_risk_alert" if marked[0] == "risk_alert" else f"{verb}_message"
        retry = f"; next attempt {next_attempt_at:%Y-%m-%d %H:%M} UTC" if status == "queued" else ""
        audit.record_event(
            cur,
            SCHEDULER,
            action,
            record_kind="outbox",
            record_id=message_id,
            outcome=outcome,
            detail=f"{marked[0]}: {status}" + (f": {last_error}" if status != "sent" and last_error else "") + retry,
        )

    db.write(cur, mark, cached_data=False)


def _error_text(error: Exception) -> str:
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return text[:MAX_ERROR_LENGTH]


def deliver_due(cur: duckdb.DuckDBPyConnection, now: datetime, send: Send) -> dict[str, int]:
    """Send the queued messages due at `now` (naive UTC) with `send`, and record how each went.

    Returns counts by outcome: sent, retry (failed this time, tried again later), failed (given
    up: 10 attempts, or undeliverable) and not_sent (no longer wanted, or no mail server). Digests
    beyond the first 20 due are left queued for the next tick (MAX_DIGESTS_PER_TICK).
    """
    counts = {"sent": 0, "retry": 0, "failed": 0, "not_sent": 0}
    due = cur.execute(DUE_SQL, {"now": now, "clinic_zone": settings.clinic_time_zone()}).fetchall()
    no_mail_server = settings.SMTP_HOST.value() is None
    digests = 0
    for message_id, key, kind, recipient_id, email, due_at, attempts, reason, safety_contact in due:
        if reason is None and no_mail_server:
            reason = NO_MAIL_SERVER
        if reason is not None:
            _mark(cur, message_id, "not_sent", last_error=reason)
            counts["not_sent"] += 1
            continue
        if kind == "therapist_digest":
            digests += 1
            if digests > MAX_DIGESTS_PER_TICK:
                continue  # still queued and due: the next tick sends it
        try:
            digest = digest_counts(cur, recipient_id) if kind == "therapist_digest" else None
            message = mailer.Message(message_id, key, kind, recipient_id, email, due_at, bool(safety_contact), digest)
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
    """Queue the risk alerts of new flags, then the reminders and digests due at `now`, then deliver
    what is due (risk alerts first); return deliver_due's counts plus `queued` (how many messages were
    newly queued, of every kind). A flag saved before this tick is in someone's inbox by its end."""
    queued = queue_risk_alerts(cur, now)
    queued += queue_due_reminders(cur, now)
    queued += queue_digests(cur, now)
    return {"queued": queued, **deliver_due(cur, now, send)}


# What run_forever calls each minute: `tick`, or in server mode ops.worker's leased tick (None when
# another worker held the lease).
Tick = Callable[[duckdb.DuckDBPyConnection, datetime, Send], dict[str, int] | None]

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
            target=run_forever, args=(conn, send, stopping), daemon=True, name="reminder-scheduler"
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


def run_forever(conn: duckdb.DuckDBPyConnection, send: Send, stopping: threading.Event, run_tick: Tick = tick) -> None:
    """Call `run_tick` (default `tick`) at every minute on a fresh cursor of `conn` until `stopping`
    is set or the connection is closed; a failed tick is logged and the next minute tries again."""
    while not stopping.wait(_seconds_to_next_minute()):
        try:
            cur = conn.cursor()
        except duckdb.ConnectionException:
            return  # the connection was closed: nothing left to serve
        try:
            counts = run_tick(cur, datetime.now(UTC).replace(tzinfo=None), send)
            if counts and any(counts.values()):
                _log.info("reminders: %s", counts)
        except duckdb.ConnectionException:
            return
        except Exception:  # logged; the next minute tries again
            _log.exception("The reminder scheduler's tick failed; it tries again in a minute.")
        finally:
            with contextlib.suppress(*db.DATABASE_ERRORS):
                cur.close()
