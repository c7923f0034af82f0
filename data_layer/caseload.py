"""Who treats whom and who supervises whom: the links, and the lists built on them."""
from datetime import date

from data_layer import audit, db, validation
from data_layer.access import (allowed_roles, client_scope, current_link, deny, require_client, scope_parameters,
                               therapist_scope)


def _require_role(cur, principal, user_id, role, field, action):
    row = cur.execute("SELECT role, active FROM users WHERE id = ?", [user_id]).fetchone()
    if row is None:
        deny(cur, principal, action, detail=f"no user {user_id}")
    if row[0] != role or not row[1]:
        raise validation.InvalidInput({field: f"Choose an active {role} account."})


# The two kinds of link: (table, member column and role, head column and role, message when repeated).
_LINKS = {
    "caseload": ("client_id", "client", "therapist_id", "therapist",
                 "This client is already in this therapist's caseload."),
    "supervision": ("therapist_id", "therapist", "supervisor_id", "supervisor",
                    "This supervisor already supervises this therapist."),
}


def _link(cur, principal, table, member_id, head_id, started_on, action):
    """Link a member (client or therapist) to a head (therapist or supervisor) from started_on,
    ending the member's current link of that kind the day before; return the new link's id."""
    member_column, member_role, head_column, head_role, repeated = _LINKS[table]
    started_on = started_on or date.today()
    _require_role(cur, principal, member_id, member_role, member_column, action)
    _require_role(cur, principal, head_id, head_role, head_column, action)

    def insert(cur):
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
        (link_id,) = cur.execute(
            f"INSERT INTO {table} ({member_column}, {head_column}, started_on) VALUES (?, ?, ?) RETURNING id",
            [member_id, head_id, started_on],
        ).fetchone()
        audit.record_event(cur, principal, action, client_id=member_id if member_role == "client" else None,
                           record_kind=table, record_id=link_id)
        return link_id

    return db.write(cur, insert)


@allowed_roles("admin")
def link_client_to_therapist(cur, principal, *, client_id, therapist_id, started_on=None):
    """Start an episode of care: the client joins the therapist's caseload; return its id.

    Admin only. A client has one current therapist: a current link to another therapist
    ends the day before. Raises InvalidInput when the accounts have the wrong roles.
    """
    return _link(cur, principal, "caseload", client_id, therapist_id, started_on, "link_client_to_therapist")


@allowed_roles("admin")
def link_therapist_to_supervisor(cur, principal, *, therapist_id, supervisor_id, started_on=None):
    """Put a therapist under a supervisor (ending any current supervision); return the link id.

    Admin only. Raises InvalidInput when the accounts have the wrong roles.
    """
    return _link(cur, principal, "supervision", therapist_id, supervisor_id, started_on,
                 "link_therapist_to_supervisor")


@allowed_roles("admin")
def list_links(cur, principal):
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


@allowed_roles("therapist")
def list_caseload(cur, principal):
    """Return the therapist's current clients as a DataFrame, one row each.

    Limited to clients currently in the principal's caseload. Columns: client_id,
    name, in_care_since, active_assignments, last_homework_log, last_mood_log.
    """
    sql = f"""
        WITH scope AS ({client_scope(principal)})
        SELECT u.id AS client_id, u.display_name AS name, l.started_on AS in_care_since,
               (SELECT count(*) FROM assignments a
                 WHERE a.client_id = u.id AND a.starts_on <= current_date
                   AND coalesce(a.ends_on, a.due_on, DATE '9999-12-31') >= current_date) AS active_assignments,
               (SELECT max(h.log_date) FROM homework_logs h WHERE h.client_id = u.id) AS last_homework_log,
               (SELECT max(m.log_date) FROM mood_logs m WHERE m.client_id = u.id) AS last_mood_log
        FROM users u
        JOIN caseload l ON l.client_id = u.id AND l.therapist_id = $principal_id AND {current_link('l')}
        WHERE u.id IN (SELECT client_id FROM scope)
        ORDER BY u.display_name
    """
    frame = cur.execute(sql, scope_parameters(principal)).df()
    audit.record_event(cur, principal, "view_caseload", detail=f"{len(frame)} clients")
    return frame


@allowed_roles("supervisor")
def list_supervised_therapists(cur, principal):
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
def open_client(cur, principal, *, client_id):
    """Return the header of a client's record: name, in_care_since, questionnaire_every_days.

    Limited to clients currently in the principal's caseload (AccessDenied otherwise);
    every opening of a record is audited.
    """
    require_client(cur, principal, client_id, "view_client_record")
    sql = f"""
        SELECT u.display_name AS name, c.started_on AS in_care_since, c.questionnaire_every_days
        FROM users u JOIN caseload c ON c.client_id = u.id AND c.therapist_id = $principal_id AND {current_link('c')}
        WHERE u.id = $client_id AND u.id IN ({client_scope(principal)})
    """
    name, in_care_since, every_days = cur.execute(
        sql, scope_parameters(principal, client_id=client_id)).fetchone()
    return {"name": name, "in_care_since": in_care_since, "questionnaire_every_days": every_days}
