"""The admin's view of the audit log: who did what, to which client, and when.

Read-only: nothing here changes or deletes an event. The audit_log table stays complete
(a compliance record); this view of it is restricted so that the admin learns no clinical
fact and cannot pair a username with the pseudonym supervisors see:

- Risk-flag events (raised when PHQ-9 item 9 is above 0, acknowledged by the therapist)
  are left out: their existence alone is a clinical fact about that client. Without them
  a questionnaire that raised a flag looks exactly like one that did not.
- The client column (the supervisors' pseudonym, a keyed hash) is filled only on rows
  acted by clinical staff (therapists, supervisors) on a client's record. A client's own
  actions show their username but no pseudonym, record id or detail (ids and details
  could be matched with staff rows); the admin's own rows (e.g. caseload links, made by
  username) show no pseudonym either. Filters work on the shown columns only, so no
  combination of them pairs a username with a pseudonym.
"""

from datetime import date

import duckdb
import pandas as pd

from data_layer.core import audit, validation
from data_layer.core.access import Principal, allowed_roles, pseudonym_sql

MAX_EVENTS = 10_000

# The same label supervisors see.
_PSEUDONYM = pseudonym_sql("a.client_id")
# Events whose existence tells that PHQ-9 item 9 was answered above 0 (see module docstring).
HIDDEN_ACTIONS = (
    "raise_risk_flag",
    "acknowledge_risk_flag",
    "list_unassigned_risk_flags",
    "view_unassigned_risk_flag",
    "acknowledge_unassigned_risk_flag",
    "send_risk_alert",  # ops/scheduler.py: a risk alert sent, failed or not sent
    "skip_risk_alert",
)
HIDDEN_RECORD_KINDS = ("risk_flag",)
# Rows acted by these roles name the client by pseudonym; nobody else's rows do.
PSEUDONYMOUS_CLIENT_ROLES = ("therapist", "supervisor")
# The conditions that keep hidden events out, shared by the event list and the action list.
_SHOWN_EVENT = (
    "NOT list_contains($hidden_actions, a.action) AND NOT list_contains($hidden_kinds, coalesce(a.record_kind, ''))"
)
_HIDDEN_PARAMETERS = {"hidden_actions": list(HIDDEN_ACTIONS), "hidden_kinds": list(HIDDEN_RECORD_KINDS)}


def _normalised_pseudonym(text: str | None) -> str | None:
    text = (text or "").strip().upper()
    if not text:
        return None
    return text if text.startswith("C-") else f"C-{text}"


def _check_filters(date_from: date | None, date_to: date | None, limit: int) -> None:
    errors = validation.errors_of(
        date_from=None if date_from is None or isinstance(date_from, date) else "Choose a date.",
        date_to=None if date_to is None or isinstance(date_to, date) else "Choose a date.",
        limit=validation.check_whole_number(limit, 1, MAX_EVENTS, "The number of events"),
    )
    if not errors and date_from and date_to and date_to < date_from:
        errors["date_to"] = "The end of the range cannot be before its start."
    validation.raise_if_any(errors)


@allowed_roles("admin")
def list_audit_events(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    actor: str | None = None,
    client_pseudonym: str | None = None,
    action: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 1000,
) -> pd.DataFrame:
    """Return audit events, newest first, as a DataFrame. Admin only (AccessDenied otherwise).

    Limited to what the admin may see (module docstring): no risk-flag events; the client
    pseudonym only on therapists' and supervisors' rows; a client's own rows without
    pseudonym, record id or detail. Filters (all optional) apply to those shown columns:
    `actor`, part of the acting user's username (any case); `client_pseudonym`, e.g.
    "C-1A2B3C" (the "C-" may be left out); `action`, exactly; `date_from` and `date_to`,
    inclusive days. At most `limit` (1-10,000) events. Raises InvalidInput for a bad limit
    or a range that ends before it starts.
    Columns: occurred_at, username (None for the login gate and set-up), role, action,
    outcome, record_kind, record_id, client (pseudonym or None), detail.
    The viewing itself is audited as view_audit_log.
    """
    _check_filters(date_from, date_to, limit)
    parameters = {
        "actor": (actor or "").strip().lower() or None,
        "client": _normalised_pseudonym(client_pseudonym),
        "action": (action or "").strip() or None,
        "date_from": date_from,
        "date_to": date_to,
        "limit": int(limit),
    }
    shown = {name: value for name, value in parameters.items() if value is not None and name != "limit"}
    sql = f"""
        WITH events AS (
            SELECT a.id, a.occurred_at, u.username, a.actor_role AS role, a.action, a.outcome,
                   a.record_kind,
                   CASE WHEN a.actor_role = 'client' THEN NULL ELSE a.record_id END AS record_id,
                   CASE WHEN a.client_id IS NOT NULL AND list_contains($staff_roles, a.actor_role)
                        THEN {_PSEUDONYM} END AS client,
                   CASE WHEN a.actor_role = 'client' THEN NULL ELSE a.detail END AS detail
            FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
            WHERE {_SHOWN_EVENT}
              AND (CAST($actor AS VARCHAR) IS NULL OR strpos(lower(u.username), $actor) > 0)
              AND (CAST($action AS VARCHAR) IS NULL OR a.action = $action)
              AND (CAST($date_from AS DATE) IS NULL OR a.occurred_at >= CAST($date_from AS DATE))
              AND (CAST($date_to AS DATE) IS NULL
                   OR a.occurred_at < CAST($date_to AS DATE) + INTERVAL 1 DAY)
        )
        SELECT occurred_at, username, role, action, outcome, record_kind, record_id, client, detail
        FROM events
        WHERE CAST($client AS VARCHAR) IS NULL OR client = $client
        ORDER BY occurred_at DESC, id DESC
        LIMIT $limit
    """
    frame = cur.execute(sql, {**parameters, **_HIDDEN_PARAMETERS, "staff_roles": list(PSEUDONYMOUS_CLIENT_ROLES)}).df()
    audit.record_event(
        cur,
        principal,
        "view_audit_log",
        detail=(" ".join(f"{name}={value}" for name, value in shown.items()) + f" -> {len(frame)} events").strip()[
            :300
        ],
    )
    return frame


@allowed_roles("admin")
def list_audit_actions(cur: duckdb.DuckDBPyConnection, principal: Principal) -> list[str]:
    """Return the names of the actions that occur in the audit log, sorted. Admin only.

    Limited to the actions list_audit_events shows: risk-flag events are left out.
    """
    sql = f"SELECT DISTINCT a.action FROM audit_log a WHERE {_SHOWN_EVENT} ORDER BY a.action"
    return [action for (action,) in cur.execute(sql, _HIDDEN_PARAMETERS).fetchall()]
