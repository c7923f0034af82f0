"""Reminders (issue #16): a client's own choice of reminder, a therapist's nudge and weekly digest,
and the outbox the admin watches.

The messages themselves are queued and sent by ops/scheduler.py; this module holds what the request
path reads and writes. A reminder or a nudge says only that there is something to log: no homework,
no score, no therapist; a digest only counts; so the outbox holds no clinical data (the admin may
read it).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import duckdb
import pandas as pd

from data_layer.core import audit, db, validation
from data_layer.core.access import (
    Principal,
    allowed_roles,
    client_scope,
    deny,
    record_view,
    require_client,
    scope_parameters,
)

ISO_WEEKDAYS = range(1, 8)  # 1 = Monday ... 7 = Sunday, as DuckDB's isodow
DEFAULT_SEND_AT = time(18, 0)
# A queued reminder of a client who turns reminders off ends with this reason.
TURNED_OFF = "reminders turned off"
DIGEST_TURNED_OFF = "weekly digest turned off"
OUTBOX_LIMIT = 1000
# The therapist sees the reminders of this many recent days.
RECENT_REMINDER_DAYS = 14
# Why a therapist cannot nudge a client: consent to reminder emails is the client's own choice.
NUDGE_NEEDS_REMINDERS = "This client has not turned reminders on: a nudge goes only to a client who has."
DEFAULT_DIGEST_AT = time(8, 0)


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
    turning reminders on, or a day outside 1-7 (days), a name that is no time zone (time_zone).
    Turning reminders off cancels the client's queued reminders and nudges not sent yet (status
    'not_sent', reason "reminders turned off"). Turning them on or off (not a change of time or
    days) adds a row to reminder_history, in the same transaction. Audited as set_reminders.
    """
    chosen = _check(enabled, send_at, days, time_zone)

    def save(cur: duckdb.DuckDBPyConnection) -> None:
        # Before the upsert, which overwrites the choice this compares with.
        cur.execute(
            """INSERT INTO reminder_history (client_id, enabled, changed_by)
               SELECT $client, $enabled, $client
               WHERE $enabled IS DISTINCT FROM
                     coalesce((SELECT enabled FROM reminder_preferences WHERE client_id = $client), false)""",
            {"client": principal.user_id, "enabled": enabled},
        )
        cur.execute(
            """INSERT INTO reminder_preferences (client_id, enabled, send_at, days, time_zone, updated_at,
                                                updated_by)
               VALUES ($client, $enabled, $send_at, CAST($days AS INTEGER[]), $time_zone, current_timestamp, $client)
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
                       WHERE recipient_id = ? AND kind IN ('client_reminder', 'nudge') AND status = 'queued'
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
    """Return the client's reminders and nudges in the outbox due on or after `since` (default: the
    last 14 days), latest first.

    Limited to a client currently in the therapist's caseload (therapist only; AccessDenied,
    audited, otherwise). No body is stored. Columns: kind ('client_reminder' or 'nudge'), due_at,
    status, sent_at, last_error.
    Audited as a view of the client's record (view_reminders).
    """
    require_client(cur, principal, client_id, "view_reminders")
    if since is None:
        since = date.today() - timedelta(days=RECENT_REMINDER_DAYS)
    return cur.execute(
        f"""SELECT o.kind, o.due_at, o.status, o.sent_at, o.last_error
            FROM outbox o
            WHERE o.recipient_id = $client_id AND o.kind IN ('client_reminder', 'nudge')
              AND o.recipient_id IN ({client_scope(principal)})
              AND o.due_at >= CAST($since AS TIMESTAMP)
            ORDER BY o.due_at DESC, o.id DESC""",
        scope_parameters(principal, client_id=client_id, since=since),
    ).df()


def _nudge_key(client_id: int, day: date) -> str:
    """Return the outbox key of a client's nudge on `day`: one a client a day."""
    return f"nudge:{client_id}:{day.isoformat()}"


@dataclass(frozen=True)
class Nudge:
    """A client's nudge of the day: when it was queued (naive UTC), and whether this call queued it
    (False: one was queued earlier that day, and this call stored nothing)."""

    queued_at: datetime
    new: bool


@allowed_roles("therapist")
def send_nudge(
    cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int, now: datetime | None = None
) -> Nudge:
    """Queue one email to the client now (naive UTC `now`, default the clock), saying that their
    therapist sent a reminder that there is something to log; ops.scheduler sends it within a
    minute. At most one a client a day (UTC): a second call that day stores nothing and returns the
    first with new=False.

    Limited to a client currently in the therapist's caseload (therapist only; AccessDenied,
    audited, otherwise) who has turned reminders on (InvalidInput on field "nudge" otherwise: a
    nudge is a reminder email, and the client's consent to those is theirs to give). Audited as
    send_nudge, whether queued or already sent that day.
    """
    now = now or datetime.now(UTC).replace(tzinfo=None)
    scope = client_scope(principal)
    key = _nudge_key(client_id, now.date())
    parameters = scope_parameters(principal, client_id=client_id, key=key, now=now)
    consent = cur.execute(
        f"""SELECT coalesce(p.enabled, false) FROM ({scope}) s
            LEFT JOIN reminder_preferences p ON p.client_id = s.client_id
            WHERE s.client_id = $client_id""",
        scope_parameters(principal, client_id=client_id),
    ).fetchone()
    if consent is None:
        deny(cur, principal, "send_nudge", client_id=client_id)
    if not consent[0]:
        raise validation.InvalidInput({"nudge": NUDGE_NEEDS_REMINDERS})

    def queue(cur: duckdb.DuckDBPyConnection) -> Nudge:
        # The scope and the consent are checked again in the insert: either may have changed since.
        inserted = cur.execute(
            f"""INSERT INTO outbox (message_key, recipient_id, kind, due_at, status)
                SELECT $key, p.client_id, 'nudge', CAST($now AS TIMESTAMP), 'queued'
                FROM reminder_preferences p
                WHERE p.client_id = $client_id AND p.enabled AND p.client_id IN ({scope})
                ON CONFLICT (message_key) DO NOTHING
                RETURNING id, due_at""",
            parameters,
        ).fetchone()
        row = inserted or cur.execute("SELECT id, due_at FROM outbox WHERE message_key = ?", [key]).fetchone()
        if row is None:
            raise validation.InvalidInput({"nudge": NUDGE_NEEDS_REMINDERS})
        audit.record_event(
            cur,
            principal,
            "send_nudge",
            client_id=client_id,
            record_kind="outbox",
            record_id=row[0],
            detail="queued" if inserted else "already nudged today: nothing queued",
        )
        return Nudge(queued_at=row[1], new=inserted is not None)

    return db.write(cur, queue)


@dataclass(frozen=True)
class DigestSettings:
    """A therapist's weekly digest: on or off, the ISO weekday (1 = Monday) and the time (on the clinic's clock, HOMEWORK_TIMEZONE)."""

    enabled: bool
    weekday: int
    send_at: time


DEFAULT_DIGEST = DigestSettings(enabled=False, weekday=1, send_at=DEFAULT_DIGEST_AT)


@allowed_roles("therapist")
def digest_settings(cur: duckdb.DuckDBPyConnection, principal: Principal) -> DigestSettings:
    """Return the therapist's own weekly digest settings, or the defaults (off, Monday 08:00).

    Limited to the calling therapist's own row (therapist only; other roles are refused and audited).
    """
    row = cur.execute(
        "SELECT enabled, weekday, send_at FROM digest_preferences WHERE therapist_id = ?", [principal.user_id]
    ).fetchone()
    if row is None:
        return DEFAULT_DIGEST
    return DigestSettings(enabled=bool(row[0]), weekday=int(row[1]), send_at=row[2])


@allowed_roles("therapist")
def set_digest(
    cur: duckdb.DuckDBPyConnection, principal: Principal, *, enabled: bool, weekday: int | None, send_at: time | None
) -> DigestSettings:
    """Save the therapist's own weekly digest settings and return them as saved.

    Limited to the calling therapist themself (therapist only). Raises InvalidInput per field: on
    or off not chosen (enabled), a weekday outside 1-7 (weekday), no time (send_at). Turning the
    digest off cancels a queued digest not sent yet (status 'not_sent'). Audited as set_digest.
    """
    weekday_ok = isinstance(weekday, int) and not isinstance(weekday, bool) and weekday in ISO_WEEKDAYS
    validation.raise_if_any(
        validation.errors_of(
            enabled=None if isinstance(enabled, bool) else "Choose on or off.",
            weekday=None if weekday_ok else "Choose a day of the week.",
            send_at=None if isinstance(send_at, time) else "Choose a time.",
        )
    )
    assert isinstance(weekday, int) and isinstance(send_at, time)  # checked above

    def save(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute(
            """INSERT INTO digest_preferences (therapist_id, enabled, weekday, send_at, updated_at)
               VALUES ($therapist, $enabled, $weekday, $send_at, current_timestamp)
               ON CONFLICT (therapist_id) DO UPDATE
               SET enabled = excluded.enabled, weekday = excluded.weekday, send_at = excluded.send_at,
                   updated_at = excluded.updated_at""",
            {"therapist": principal.user_id, "enabled": enabled, "weekday": weekday, "send_at": send_at},
        )
        cancelled = 0
        if not enabled:
            cancelled = len(
                cur.execute(
                    """UPDATE outbox SET status = 'not_sent', last_error = ?, next_attempt_at = NULL
                       WHERE recipient_id = ? AND kind = 'therapist_digest' AND status = 'queued'
                       RETURNING id""",
                    [DIGEST_TURNED_OFF, principal.user_id],
                ).fetchall()
            )
        audit.record_event(
            cur,
            principal,
            "set_digest",
            record_kind="digest_preferences",
            record_id=principal.user_id,
            detail="on" if enabled else f"off; {cancelled} queued cancelled",
        )

    db.write(cur, save)
    return DigestSettings(enabled=enabled, weekday=weekday, send_at=send_at)


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
           WHERE (CAST($status AS VARCHAR) IS NULL OR o.status = $status)
             AND (CAST($kind AS VARCHAR) IS NULL OR o.kind = $kind)
             AND (CAST($since AS TIMESTAMP) IS NULL OR o.due_at >= CAST($since AS TIMESTAMP))
           ORDER BY o.due_at DESC, o.id DESC
           LIMIT $limit""",
        {"status": status, "kind": kind, "since": since, "limit": limit},
    ).df()
