"""Reminders (issue #16): a client's own choice of reminder, and the outbox the admin watches.

The messages themselves are queued and sent by ops/scheduler.py; this module holds what the request
path reads and writes. A reminder says only that there is something to log today: no homework, no
score, no therapist, so the outbox holds no clinical data (the admin may read it).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import duckdb
import pandas as pd

from data_layer.core import audit, db, validation
from data_layer.core.access import Principal, allowed_roles, client_scope, record_view, require_client, scope_parameters

ISO_WEEKDAYS = range(1, 8)  # 1 = Monday ... 7 = Sunday, as DuckDB's isodow
DEFAULT_SEND_AT = time(18, 0)
# A queued reminder of a client who turns reminders off ends with this reason.
TURNED_OFF = "reminders turned off"
OUTBOX_LIMIT = 1000
# The therapist sees the reminders of this many recent days.
RECENT_REMINDER_DAYS = 14


@dataclass(frozen=True)
class ReminderSettings:
    """A client's reminder choice: on or off, the time and the ISO weekdays, both in `time_zone` (an
    IANA name; None: the clinic's, HOMEWORK_TIMEZONE)."""

    enabled: bool
    send_at: time
    days: tuple[int, ...]
    time_zone: str | None = None


DEFAULT_SETTINGS = ReminderSettings(enabled=False, send_at=DEFAULT_SEND_AT, days=tuple(ISO_WEEKDAYS))


def _settings_of(row: tuple[Any, ...] | None) -> ReminderSettings:
    """The ReminderSettings of a reminder_preferences row (enabled, send_at, days, time_zone), or the
    defaults when there is none."""
    if row is None:
        return DEFAULT_SETTINGS
    enabled, send_at, days, time_zone = row
    return ReminderSettings(enabled=bool(enabled), send_at=send_at, days=tuple(sorted(days)), time_zone=time_zone)


@allowed_roles("client")
def reminder_settings(cur: duckdb.DuckDBPyConnection, principal: Principal) -> ReminderSettings:
    """Return the client's own reminder settings, or the defaults (off, 18:00, every day, the
    clinic's time zone) when they never chose any.

    Limited to the calling client's own row (client only; other roles are refused and audited).
    """
    return _settings_of(
        cur.execute(
            "SELECT enabled, send_at, days, time_zone FROM reminder_preferences WHERE client_id = ?",
            [principal.user_id],
        ).fetchone()
    )


def _check(enabled: object, send_at: object, days: object, time_zone: object) -> tuple[int, ...]:
    """Return the chosen days, sorted and each once; raise InvalidInput naming each bad field."""
    chosen: list[object] = list(days) if isinstance(days, Sequence) and not isinstance(days, str) else [days]
    days_error = None
    if any(isinstance(day, bool) or not isinstance(day, int) or day not in ISO_WEEKDAYS for day in chosen):
        days_error = "Days are 1 (Monday) to 7 (Sunday)."
    elif enabled and not chosen:
        days_error = "Choose at least one day."
    validation.raise_if_any(
        validation.errors_of(
            enabled=None if isinstance(enabled, bool) else "Choose on or off.",
            send_at=None if isinstance(send_at, time) else "Choose a time.",
            days=days_error,
            time_zone=None if time_zone is None else validation.check_time_zone(time_zone),
        )
    )
    return tuple(sorted({int(day) for day in chosen if isinstance(day, int)}))


@allowed_roles("client")
def set_reminders(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    enabled: bool,
    send_at: time | None,
    days: Sequence[int],
    time_zone: str | None = None,
) -> ReminderSettings:
    """Save the client's own reminder settings and return them as saved. `send_at` and `days` are
    in `time_zone`, an IANA name (None: the clinic's time zone, HOMEWORK_TIMEZONE).

    Limited to the calling client themself (client only: there is no client to name, so no one
    sets another's). Raises InvalidInput per field: no time (send_at), no day chosen while
    turning reminders on, or a day outside 1-7 (days), a name that is no time zone (time_zone). Turning reminders off cancels the
    client's queued reminders not sent yet (status 'not_sent', reason "reminders turned off").
    Audited as set_reminders.
    """
    chosen = _check(enabled, send_at, days, time_zone)

    def save(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute(
            """INSERT INTO reminder_preferences (client_id, enabled, send_at, days, time_zone, updated_at,
                                                updated_by)
               VALUES ($client, $enabled, $send_at, $days, $time_zone, current_timestamp, $client)
               ON CONFLICT (client_id) DO UPDATE
               SET enabled = excluded.enabled, send_at = excluded.send_at, days = excluded.days,
                   time_zone = excluded.time_zone, updated_at = excluded.updated_at, updated_by = excluded.updated_by""",
            {
                "client": principal.user_id,
                "enabled": enabled,
                "send_at": send_at,
                "days": list(chosen),
                "time_zone": time_zone,
            },
        )
        cancelled = 0
        if not enabled:
            cancelled = len(
                cur.execute(
                    """UPDATE outbox SET status = 'not_sent', last_error = ?, next_attempt_at = NULL
                       WHERE recipient_id = ? AND kind = 'client_reminder' AND status = 'queued'
                       RETURNING id""",
                    [TURNED_OFF, principal.user_id],
                ).fetchall()
            )
        detail = "on" if enabled else f"off; {cancelled} queued cancelled"
        audit.record_event(
            cur,
            principal,
            "set_reminders",
            client_id=principal.user_id,
            record_kind="reminder_preferences",
            record_id=principal.user_id,
            detail=detail,
        )

    db.write(cur, save)
    assert isinstance(send_at, time)  # checked above
    return ReminderSettings(enabled=enabled, send_at=send_at, days=chosen, time_zone=time_zone)


@allowed_roles("client")
def my_email(cur: duckdb.DuckDBPyConnection, principal: Principal) -> str | None:
    """Return the calling client's own email address (where reminders go), or None when the
    account has none.

    Limited to the calling client's own row (client only; other roles are refused and audited).
    """
    row = cur.execute("SELECT email FROM users WHERE id = ?", [principal.user_id]).fetchone()
    return None if row is None or not row[0] else str(row[0])


@allowed_roles("therapist")
def client_reminder_settings(
    cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int
) -> ReminderSettings:
    """Return a client's reminder choice (or the defaults, off, when they never chose), with the
    client's time zone (None: the clinic's).

    Limited to a client currently in the therapist's caseload (therapist only; AccessDenied,
    audited, otherwise). Audited as a view of the client's record (view_reminders).
    """
    require_client(cur, principal, client_id, "view_reminders")
    return _settings_of(
        cur.execute(
            f"""SELECT enabled, send_at, days, time_zone FROM reminder_preferences
                WHERE client_id = $client_id AND client_id IN ({client_scope(principal)})""",
            scope_parameters(principal, client_id=client_id),
        ).fetchone()
    )


@allowed_roles("therapist")
def list_client_reminders(
    cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int, since: date | None = None
) -> pd.DataFrame:
    """Return the client's reminders in the outbox due on or after `since` (default: the last
    14 days), latest first.

    Limited to a client currently in the therapist's caseload (therapist only; AccessDenied,
    audited, otherwise). No body is stored. Columns: due_at, status, sent_at, last_error.
    Audited as a view of the client's record (view_reminders).
    """
    require_client(cur, principal, client_id, "view_reminders")
    if since is None:
        since = date.today() - timedelta(days=RECENT_REMINDER_DAYS)
    return cur.execute(
        f"""SELECT o.due_at, o.status, o.sent_at, o.last_error
            FROM outbox o
            WHERE o.recipient_id = $client_id AND o.kind = 'client_reminder'
              AND o.recipient_id IN ({client_scope(principal)})
              AND o.due_at >= CAST($since AS TIMESTAMP)
            ORDER BY o.due_at DESC, o.id DESC""",
        scope_parameters(principal, client_id=client_id, since=since),
    ).df()


@allowed_roles("admin")
def list_outbox(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    status: str | None = None,
    kind: str | None = None,
    since: date | datetime | None = None,
    limit: int = OUTBOX_LIMIT,
) -> pd.DataFrame:
    """Return the outbox's messages, latest due first, at most `limit` (1,000) rows: optionally
    only those of one status, one kind, or due at or after `since`.

    Limited to the admin (other roles are refused and audited), who manages the accounts: the
    recipient is shown by display name. No message holds clinical data (no body is stored;
    a reminder names no homework). A risk alert (kind 'risk_alert') is shown without its
    recipient and with its times to the day only: who was alerted at which minute, beside the
    audit log's questionnaire submissions, would point at the client who raised the flag, which
    the admin's audit viewer hides. Its status, attempts and error stay, so a mail server that
    fails alerts is seen. Columns: id, kind, recipient, due_at, status, attempts,
    next_attempt_at, last_error, sent_at. Audited once per page run as view_outbox.
    """
    record_view(cur, principal, "view_outbox")
    return cur.execute(
        """SELECT o.id, o.kind,
                  CASE WHEN o.kind = 'risk_alert' THEN '(not shown: risk alert)' ELSE u.display_name END
                      AS recipient,
                  CASE WHEN o.kind = 'risk_alert' THEN date_trunc('day', o.due_at) ELSE o.due_at END AS due_at,
                  o.status, o.attempts,
                  CASE WHEN o.kind = 'risk_alert' THEN date_trunc('day', o.next_attempt_at)
                       ELSE o.next_attempt_at END AS next_attempt_at,
                  o.last_error,
                  CASE WHEN o.kind = 'risk_alert' THEN date_trunc('day', o.sent_at) ELSE o.sent_at END AS sent_at
           FROM outbox o JOIN users u ON u.id = o.recipient_id
           WHERE ($status IS NULL OR o.status = $status)
             AND ($kind IS NULL OR o.kind = $kind)
             AND ($since IS NULL OR o.due_at >= CAST($since AS TIMESTAMP))
           ORDER BY o.due_at DESC, o.id DESC
           LIMIT $limit""",
        {"status": status, "kind": kind, "since": since, "limit": limit},
    ).df()
