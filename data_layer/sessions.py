"""Therapy sessions (needed for "finished treatment"). The questionnaire cadence is in measures.py."""

from datetime import date

import duckdb
import pandas as pd

from data_layer.core import audit, db, validation
from data_layer.core.access import Principal, allowed_roles, client_scope, require_client, scope_parameters


@allowed_roles("therapist")
def record_session(
    cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int, session_date: date, attended: bool
) -> int:
    """Record a therapy session with a client in the therapist's caseload; return its id.

    Limited to the principal's current clients (AccessDenied otherwise). Raises
    InvalidInput for a date in the future or before the episode began, a missing
    attended answer, and for a client the therapist has discharged (a session belongs
    to the episode whose dates contain it: there is none after a discharge).
    """
    episode = cur.execute(
        """SELECT started_on, ended_on FROM caseload
           WHERE client_id = ? AND therapist_id = ? AND started_on <= current_date
           ORDER BY started_on DESC, id DESC LIMIT 1""",
        [client_id, principal.user_id],
    ).fetchone()
    if episode and episode[1] is not None and episode[1] <= date.today():
        raise validation.InvalidInput(
            {
                "session_date": f"This client's episode with you ended on {episode[1]:%d %b %Y}: "
                "sessions can no longer be added."
            }
        )
    require_client(cur, principal, client_id, "record_session")
    assert episode is not None  # the client is in the therapist's caseload now: an episode began
    validation.raise_if_any(
        validation.errors_of(
            session_date=(
                "Choose the session date."
                if session_date is None
                else "A session cannot be in the future."
                if session_date > date.today()
                else f"This episode began on {episode[0]:%d %b %Y}: a session cannot be before that."
                if session_date < episode[0]
                else None
            ),
            attended=None if attended in (True, False) else "Say whether the client attended.",
        )
    )

    def insert(cur: duckdb.DuckDBPyConnection) -> int:
        (session_id,) = db.one_row(
            cur.execute(
                """INSERT INTO therapy_sessions (client_id, therapist_id, session_date, attended)
               VALUES (?, ?, ?, ?) RETURNING id""",
                [client_id, principal.user_id, session_date, attended],
            )
        )
        audit.record_event(
            cur, principal, "record_session", client_id=client_id, record_kind="therapy_session", record_id=session_id
        )
        return session_id

    return db.write(cur, insert)


@allowed_roles("client", "therapist")
def list_sessions(cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int) -> pd.DataFrame:
    """Return the client's therapy sessions, newest first.

    Limited to a client in the principal's scope (AccessDenied otherwise). Columns:
    session_date, attended, therapist.
    """
    require_client(cur, principal, client_id, "view_sessions")
    sql = f"""
        SELECT s.session_date, s.attended, t.display_name AS therapist
        FROM therapy_sessions s JOIN users t ON t.id = s.therapist_id
        WHERE s.client_id = $client_id AND s.client_id IN ({client_scope(principal)})
        ORDER BY s.session_date DESC
    """
    return cur.execute(sql, scope_parameters(principal, client_id=client_id)).df()
