"""Paused periods (holiday, illness): days excluded from what homework expects."""

from datetime import date, timedelta

import duckdb
import pandas as pd

from data_layer.core import audit, db, validation
from data_layer.core.access import Principal, allowed_roles, client_scope, deny, require_client, scope_parameters

MAX_PAUSE_DAYS = 90
PLAN_AHEAD_DAYS = 180


@allowed_roles("client", "therapist")
def add_paused_period(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    client_id: int,
    starts_on: date,
    ends_on: date,
    reason: str = "",
) -> int:
    """Pause the client's homework from starts_on to ends_on (inclusive); return the period's id.

    Limited to a client in the principal's scope: a client pauses only their own,
    a therapist those of their current clients (AccessDenied otherwise). Raises
    InvalidInput for an end before the start, a start over 7 days back or over 180
    days ahead, a period over 90 days, or a reason over 2,000 characters.
    """
    require_client(cur, principal, client_id, "add_paused_period")
    today = date.today()
    errors = validation.errors_of(
        starts_on=(
            None
            if starts_on
            and today - timedelta(days=validation.DAYS_BACK_ALLOWED)
            <= starts_on
            <= today + timedelta(days=PLAN_AHEAD_DAYS)
            else f"Choose a start from {validation.DAYS_BACK_ALLOWED} days ago to {PLAN_AHEAD_DAYS} days ahead."
        ),
        ends_on=(
            None
            if starts_on and ends_on and 0 <= (ends_on - starts_on).days < MAX_PAUSE_DAYS
            else f"Choose an end on or after the start, at most {MAX_PAUSE_DAYS} days later."
        ),
        reason=validation.check_note(reason),
    )
    validation.raise_if_any(errors)

    def insert(cur: duckdb.DuckDBPyConnection) -> int:
        (period_id,) = db.one_row(
            cur.execute(
                """INSERT INTO paused_periods (client_id, starts_on, ends_on, reason, created_by)
               VALUES (?, ?, ?, ?, ?) RETURNING id""",
                [client_id, starts_on, ends_on, reason or "", principal.user_id],
            )
        )
        audit.record_event(
            cur, principal, "add_paused_period", client_id=client_id, record_kind="paused_period", record_id=period_id
        )
        return period_id

    return db.write(cur, insert)


@allowed_roles("client", "therapist")
def list_paused_periods(cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int) -> pd.DataFrame:
    """Return the client's paused periods, latest first.

    Limited to a client in the principal's scope (AccessDenied otherwise). Columns:
    paused_period_id, starts_on, ends_on, reason, set_by (name), created_at.
    """
    require_client(cur, principal, client_id, "view_paused_periods")
    sql = f"""
        SELECT p.id AS paused_period_id, p.starts_on, p.ends_on, p.reason,
               u.display_name AS set_by, p.created_at
        FROM paused_periods p JOIN users u ON u.id = p.created_by
        WHERE p.client_id = $client_id AND p.client_id IN ({client_scope(principal)})
        ORDER BY p.starts_on DESC
    """
    return cur.execute(sql, scope_parameters(principal, client_id=client_id)).df()


@allowed_roles("client", "therapist")
def delete_paused_period(cur: duckdb.DuckDBPyConnection, principal: Principal, *, paused_period_id: int) -> None:
    """Remove a paused period that has not ended yet (a cancelled holiday).

    Limited to periods of clients in the principal's scope (AccessDenied otherwise).
    Raises InvalidInput for a period that is already over: history stays as it was.
    """
    sql = f"""SELECT client_id, ends_on FROM paused_periods
              WHERE id = $paused_period_id AND client_id IN ({client_scope(principal)})"""
    row = cur.execute(sql, scope_parameters(principal, paused_period_id=paused_period_id)).fetchone()
    if row is None:
        deny(cur, principal, "delete_paused_period", detail=f"paused_period {paused_period_id}")
    client_id, ends_on = row
    if ends_on < date.today():
        raise validation.InvalidInput({"paused_period_id": "A break that is over stays in the record."})

    def delete(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute("DELETE FROM paused_periods WHERE id = ?", [paused_period_id])
        audit.record_event(
            cur,
            principal,
            "delete_paused_period",
            client_id=client_id,
            record_kind="paused_period",
            record_id=paused_period_id,
        )

    db.write(cur, delete)
