"""Who treats whom and who supervises whom: the links, and the lists built on them."""

from datetime import date, timedelta
from typing import Any

import duckdb
import pandas as pd

from clinical.episodes import DISCHARGE_REASONS
from data_layer.core import audit, db, validation
from data_layer.core.access import (
    Principal,
    allowed_roles,
    client_scope,
    current_link,
    deny,
    require_client,
    scope_parameters,
    therapist_scope,
)


def _require_role(
    cur: duckdb.DuckDBPyConnection, principal: Principal, user_id: int, role: str, field: str, action: str
) -> None:
    row = cur.execute("SELECT role, active FROM users WHERE id = ?", [user_id]).fetchone()
    if row is None:
        deny(cur, principal, action, detail=f"no user {user_id}")
    if row[0] != role or not row[1]:
        raise validation.InvalidInput({field: f"Choose an active {role} account."})


# The two kinds of link: (table, member column and role, head column and role, message when repeated).
_LINKS = {
    "caseload": (
        "client_id",
        "client",
        "therapist_id",
        "therapist",
        "This client is already in this therapist's caseload.",
    ),
    "supervision": (
        "therapist_id",
        "therapist",
        "supervisor_id",
        "supervisor",
        "This supervisor already supervises this therapist.",
    ),
}


def _link(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    table: str,
    member_id: int,
    head_id: int,
    started_on: date | None,
    action: str,
) -> int:
    """Link a member (client or therapist) to a head (therapist or supervisor) from started_on,
    ending the member's current link of that kind the day before; return the new link's id."""
    member_column, member_role, head_column, head_role, repeated = _LINKS[table]
    started_on = started_on or date.today()
    _require_role(cur, principal, member_id, member_role, member_column, action)
    _require_role(cur, principal, head_id, head_role, head_column, action)

    def insert(cur: duckdb.DuckDBPyConnection) -> int:
        # Table and column names come from _LINKS above, never from user text.
        current = cur.execute(
            f"SELECT {head_column} FROM {table} l WHERE {member_column} = ? AND {current_link('l')}", [member_id]
        ).fetchone()
        if current and current[0] == head_id:
            raise validation.InvalidInput({head_column: repeated})
        cur.execute(
            f"""UPDATE {table} l SET ended_on = greatest(started_on, CAST(? AS DATE) - 1)
                WHERE {member_column} = ? AND {current_link('l')}""",
            [started_on, member_id],
        )
        if table == "caseload" and current:
            _end_open_assignments(cur, member_id, current[0], started_on - timedelta(days=1))
        (link_id,) = db.one_row(
            cur.execute(
                f"INSERT INTO {table} ({member_column}, {head_column}, started_on) VALUES (?, ?, ?) RETURNING id",
                [member_id, head_id, started_on],
            )
        )
        audit.record_event(
            cur,
            principal,
            action,
            client_id=member_id if member_role == "client" else None,
            record_kind=table,
            record_id=link_id,
        )
        return link_id

    return db.write(cur, insert)


@allowed_roles("admin")
def link_client_to_therapist(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    client_id: int,
    therapist_id: int,
    started_on: date | None = None,
) -> int:
    """Start an episode of care: the client joins the therapist's caseload; return its id.

    Admin only. A client has one current therapist: a current link to another therapist
    ends the day before. Raises InvalidInput when the accounts have the wrong roles.
    """
    return _link(cur, principal, "caseload", client_id, therapist_id, started_on, "link_client_to_therapist")


@allowed_roles("admin")
def link_therapist_to_supervisor(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    therapist_id: int,
    supervisor_id: int,
    started_on: date | None = None,
) -> int:
    """Put a therapist under a supervisor (ending any current supervision); return the link id.

    Admin only. Raises InvalidInput when the accounts have the wrong roles.
    """
    return _link(cur, principal, "supervision", therapist_id, supervisor_id, started_on, "link_therapist_to_supervisor")


@allowed_roles("admin")
def list_links(cur: duckdb.DuckDBPyConnection, principal: Principal) -> pd.DataFrame:
    """Return the current links as a DataFrame: kind, person, linked_to, since.

    Admin only; names and dates, no clinical data.
    """
    return cur.execute(
        f"""SELECT 'client → therapist' AS kind, c.display_name AS person,
                   t.display_name AS linked_to, l.started_on AS since
            FROM caseload l JOIN users c ON c.id = l.client_id JOIN users t ON t.id = l.therapist_id
            WHERE {current_link('l')}
            UNION ALL
            SELECT 'therapist → supervisor', t.display_name, s.display_name, l.started_on
            FROM supervision l JOIN users t ON t.id = l.therapist_id JOIN users s ON s.id = l.supervisor_id
            WHERE {current_link('l')}
            ORDER BY kind, linked_to, person"""
    ).df()


@allowed_roles("supervisor")
def list_supervised_therapists(cur: duckdb.DuckDBPyConnection, principal: Principal) -> pd.DataFrame:
    """Return the therapists the supervisor currently supervises, with their client counts.

    Limited to the principal's supervision links; no client identities. Columns:
    therapist_id, therapist, active_clients.
    """
    sql = f"""
        WITH scope AS ({therapist_scope(principal)})
        SELECT t.id AS therapist_id, t.display_name AS therapist,
               count(l.client_id) AS active_clients
        FROM users t
        LEFT JOIN caseload l ON l.therapist_id = t.id AND {current_link('l')}
        WHERE t.id IN (SELECT therapist_id FROM scope)
        GROUP BY t.id, t.display_name
        ORDER BY t.display_name
    """
    return cur.execute(sql, scope_parameters(principal)).df()


@allowed_roles("therapist")
def open_client(cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int) -> dict[str, Any]:
    """Return the header of a client's record: name, episode_id (the current episode),
    in_care_since, questionnaire_every_days.

    Limited to clients currently in the principal's caseload (AccessDenied otherwise);
    every opening of a record is audited.
    """
    require_client(cur, principal, client_id, "view_client_record")
    sql = f"""
        SELECT u.display_name AS name, c.id AS episode_id, c.started_on AS in_care_since, c.questionnaire_every_days
        FROM users u JOIN caseload c ON c.client_id = u.id AND c.therapist_id = $principal_id AND {current_link('c')}
        WHERE u.id = $client_id AND u.id IN ({client_scope(principal)})
    """
    name, episode_id, in_care_since, every_days = db.one_row(
        cur.execute(sql, scope_parameters(principal, client_id=client_id))
    )
    return {
        "name": name,
        "episode_id": episode_id,
        "in_care_since": in_care_since,
        "questionnaire_every_days": every_days,
    }


def _latest_episode(
    cur: duckdb.DuckDBPyConnection, principal: Principal, client_id: int, action: str
) -> tuple[Any, ...] | None:
    """Return (episode id, started_on, ended_on, therapist_id) of the client's latest episode
    that the principal may end: a therapist's own with this client, an admin's any. Denies
    (audited) a therapist who never treated the client; None for a client with no episode."""
    row = cur.execute(
        """SELECT id, started_on, ended_on, therapist_id FROM caseload
           WHERE client_id = $client_id AND started_on <= current_date
             AND (CAST($therapist_id AS BIGINT) IS NULL OR therapist_id = $therapist_id)
           ORDER BY started_on DESC, id DESC LIMIT 1""",
        {"client_id": client_id, "therapist_id": principal.user_id if principal.role == "therapist" else None},
    ).fetchone()
    if row is None and principal.role == "therapist":
        deny(cur, principal, action, client_id=client_id)
    return row


def _check_discharge(
    cur: duckdb.DuckDBPyConnection,
    client_id: int,
    episode: tuple[Any, ...] | None,
    ended_on: date | None,
    reason: str | None,
) -> dict[str, str]:
    if episode is None:
        return {"client_id": "This client has no episode of care to end."}
    _, started_on, episode_end, therapist_id = episode
    if episode_end is not None and episode_end <= date.today():
        return {"ended_on": f"This episode already ended on {episode_end:%d %b %Y}."}
    (last_session,) = db.one_row(
        cur.execute(
            "SELECT max(session_date) FROM therapy_sessions WHERE client_id = ? AND therapist_id = ? AND session_date >= ?",
            [client_id, therapist_id, started_on],
        )
    )
    return validation.errors_of(
        ended_on="Choose the date the episode ended."
        if ended_on is None
        else "The end date cannot be in the future."
        if ended_on > date.today()
        else f"The episode began on {started_on:%d %b %Y}: the end cannot be before that."
        if ended_on < started_on
        else (
            f"A session on {last_session:%d %b %Y} was recorded after that date: choose that day or later."
            if last_session is not None and ended_on < last_session
            else None
        ),
        reason=None if reason in DISCHARGE_REASONS else "Choose why the episode ended.",
    )


@allowed_roles("therapist", "admin")
def discharge_client(
    cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int, ended_on: date | None, reason: str | None
) -> int:
    """End the client's episode of care on `ended_on` (its last day) for `reason`; return its id.

    Limited to a therapist's own client (AccessDenied for anyone else's), or any client for
    an admin; a discharge from today on takes the client off the caseload. The client's
    homework with that therapist ends on the same day. Raises InvalidInput (nothing
    written) for no date or reason, a date before the episode began, in the future or
    before a session already recorded, and for an episode that has already ended.
    """
    episode = _latest_episode(cur, principal, client_id, "discharge_client")
    validation.raise_if_any(_check_discharge(cur, client_id, episode, ended_on, reason))
    assert episode is not None and ended_on is not None  # _check_discharge refused either missing
    episode_id, _, _, therapist_id = episode

    def update(cur: duckdb.DuckDBPyConnection) -> int:
        # Checked again inside the transaction: two discharges racing end the episode once.
        ended = cur.execute(
            """UPDATE caseload SET ended_on = ? WHERE id = ? AND (ended_on IS NULL OR ended_on > current_date)
               RETURNING id""",
            [ended_on, episode_id],
        ).fetchall()
        if not ended:
            raise validation.InvalidInput({"ended_on": "This episode has already ended."})
        cur.execute(
            "INSERT INTO discharges (caseload_id, reason, discharged_by) VALUES (?, ?, ?)",
            [episode_id, reason, principal.user_id],
        )
        _end_open_assignments(cur, client_id, therapist_id, ended_on)
        audit.record_event(
            cur, principal, "discharge_client", client_id=client_id, record_kind="caseload", record_id=episode_id
        )
        return episode_id

    return db.write(cur, update)


def _end_open_assignments(cur: duckdb.DuckDBPyConnection, client_id: int, therapist_id: int, last_day: date) -> None:
    """End the therapist's homework for the client that runs past `last_day` (an episode's end):
    nothing is expected of a client after their care with that therapist ended.

    Unlike a therapist's change of schedule (which applies from today), an episode's end is a
    fact about the past: every schedule version of the homework ends by that day too, so the
    days after it are expected under none of them (docs/clinical-rules.md).
    """
    runs_past = "coalesce(ends_on, due_on, DATE '9999-12-31') > CAST($last_day AS DATE)"
    end_versions = f"""
        UPDATE assignment_schedules SET ends_on = greatest(starts_on, CAST($last_day AS DATE))
        WHERE {runs_past} AND assignment_id IN (
            SELECT id FROM assignments WHERE client_id = $client_id AND therapist_id = $therapist_id)"""
    end_assignments = f"""
        UPDATE assignments SET ends_on = greatest(starts_on, CAST($last_day AS DATE))
        WHERE client_id = $client_id AND therapist_id = $therapist_id AND {runs_past}"""
    parameters = {"last_day": last_day, "client_id": client_id, "therapist_id": therapist_id}
    cur.execute(end_versions, parameters)
    cur.execute(end_assignments, parameters)


@allowed_roles("client")
def my_care(cur: duckdb.DuckDBPyConnection, principal: Principal) -> dict[str, Any]:
    """Return the client's own care as {"therapist": name or None, "ended_on": date or None}:
    their current therapist, or, when they have none, the last day of their latest episode
    (None if they never had one). Limited to the principal themself."""
    current_sql = f"""SELECT t.display_name FROM caseload c JOIN users t ON t.id = c.therapist_id
                      WHERE c.client_id = ? AND {current_link('c')}"""
    row = cur.execute(current_sql, [principal.user_id]).fetchone()
    if row:
        return {"therapist": row[0], "ended_on": None}
    (ended_on,) = db.one_row(
        cur.execute(
            "SELECT max(ended_on) FROM caseload WHERE client_id = ? AND ended_on <= current_date", [principal.user_id]
        )
    )
    return {"therapist": None, "ended_on": ended_on}
