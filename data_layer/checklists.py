"""The clinical support checklist (issue #17; clinical/support_checklist.py): for a client who is
not on track, what the therapist reviewed and what they changed, kept against the episode of
care (its caseload row). The not-on-track flag is not stored here and a checklist does not clear
it: the flag stays while the client's scores lie above the band. For the supervisor's view, how
many checklists each episode in progress has, with no client identity.
"""

from collections.abc import Sequence

import duckdb
import pandas as pd

from clinical.support_checklist import SUPPORT_ITEMS
from data_layer.core import audit, db, validation
from data_layer.core.access import (
    Principal,
    allowed_roles,
    client_scope,
    current_link,
    require_client,
    scope_parameters,
    therapist_scope,
)


def _check_checklist(reviewed: Sequence[str] | None, changes: str | None) -> tuple[list[str], str]:
    """Return (the ticked item keys in the form's order, each once; `changes` stripped), or raise
    InvalidInput for nothing ticked, an item that is not on the checklist or over-long changes."""
    ticked = [] if reviewed is None else [reviewed] if isinstance(reviewed, str) else list(reviewed)
    changes = (changes or "").strip()
    validation.raise_if_any(
        validation.errors_of(
            reviewed=(
                "Tick at least one thing you reviewed."
                if not ticked
                else "Choose only the items of the checklist."
                if any(key not in SUPPORT_ITEMS for key in ticked)
                else None
            ),
            changes=validation.check_note(changes),
        )
    )
    return [key for key in SUPPORT_ITEMS if key in ticked], changes


@allowed_roles("therapist")
def record_support_checklist(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    client_id: int,
    reviewed: Sequence[str],
    changes: str,
    submission_id: str | None = None,
) -> int:
    """Record a clinical support checklist for the client's current episode: the items the
    therapist reviewed (keys of clinical.support_checklist.SUPPORT_ITEMS) and what they changed;
    return the checklist's id.

    Limited to the principal's current clients (AccessDenied, audited, otherwise), and stored
    against the episode with that therapist in progress today. Raises InvalidInput (nothing
    written) for no item ticked, an item that is not on the checklist, changes over 2,000
    characters (they are stored stripped), and for an episode that ended meanwhile. A repeated
    `submission_id` (a double click, a resent form) writes nothing and returns the first id.
    """
    items, changes = _check_checklist(reviewed, changes)
    require_client(cur, principal, client_id, "record_support_checklist")
    sql = f"""
        INSERT INTO support_checklists (caseload_id, client_id, therapist_id, reviewed, changes, submission_id)
        SELECT c.id, c.client_id, c.therapist_id, CAST($reviewed AS VARCHAR[]), $changes, $submission_id
        FROM caseload c
        WHERE c.client_id = $client_id AND c.therapist_id = $principal_id AND {current_link("c")}
          AND c.client_id IN ({client_scope(principal)})
        ORDER BY c.started_on DESC, c.id DESC
        LIMIT 1
        RETURNING id
    """
    parameters = scope_parameters(
        principal, client_id=client_id, reviewed=items, changes=changes, submission_id=submission_id
    )

    def insert(cur: duckdb.DuckDBPyConnection) -> int:
        row = cur.execute(sql, parameters).fetchone()
        if row is None:  # the episode ended since require_client looked
            raise validation.InvalidInput(
                {"client_id": "This client is no longer in your caseload: the checklist was not saved."}
            )
        (checklist_id,) = row
        audit.record_event(
            cur,
            principal,
            "record_support_checklist",
            client_id=client_id,
            record_kind="support_checklist",
            record_id=checklist_id,
        )
        return checklist_id

    return db.write_once(cur, "support_checklists", client_id, submission_id, insert)


@allowed_roles("therapist")
def list_support_checklists(cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int) -> pd.DataFrame:
    """Return the support checklists of the client's current episode with the therapist, newest first.

    Limited to the principal's current clients (AccessDenied otherwise) and to the episode in
    progress with them (not an earlier episode, nor one with another therapist). Columns:
    checklist_id, recorded_at, reviewed (a list of item keys, in the form's order), changes.
    """
    require_client(cur, principal, client_id, "view_support_checklists")
    sql = f"""
        SELECT s.id AS checklist_id, s.recorded_at, s.reviewed, s.changes
        FROM support_checklists s
        JOIN caseload c ON c.id = s.caseload_id AND c.therapist_id = $principal_id AND {current_link("c")}
        WHERE s.client_id = $client_id AND s.client_id IN ({client_scope(principal)})
        ORDER BY s.recorded_at DESC, s.id DESC
    """
    checklists = cur.execute(sql, scope_parameters(principal, client_id=client_id)).df()
    checklists["reviewed"] = checklists["reviewed"].map(list)  # DuckDB gives numpy arrays
    return checklists


@allowed_roles("therapist", "supervisor")
def checklists_by_episode(cur: duckdb.DuckDBPyConnection, principal: Principal) -> pd.DataFrame:
    """Return, for every episode in progress, how many support checklists it has and when the last
    was recorded. No client identity: an episode is its id and its therapist.

    Limited to a therapist's own episodes in progress, or a supervisor's therapists' (those they
    supervise today). Columns: episode_id, therapist_id, checklists (0 when none),
    last_recorded_at (NaT when none); by therapist, then episode.
    """
    therapists = "$principal_id" if principal.role == "therapist" else therapist_scope(principal)
    sql = f"""
        SELECT c.id AS episode_id, c.therapist_id, count(s.id) AS checklists, max(s.recorded_at) AS last_recorded_at
        FROM caseload c
        LEFT JOIN support_checklists s ON s.caseload_id = c.id
        WHERE c.therapist_id IN ({therapists}) AND {current_link("c")}
        GROUP BY c.id, c.therapist_id
        ORDER BY c.therapist_id, c.id
    """
    return cur.execute(sql, scope_parameters(principal)).df()
