"""Who may do what: the principal, its scope in SQL, and the one AccessDenied error.

Every public data-layer function is wrapped by `allowed_roles(...)`, takes
`(cur, principal, *, ...)` and limits its SQL with the scopes below.
"""

import functools
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar, cast

import duckdb

from data_layer.core import audit, db
from data_layer.core.validation import InvalidInput

CLINICAL_ROLES = ("client", "therapist", "supervisor")
ROLES = CLINICAL_ROLES + ("admin",)
# A data-layer function, (cur, principal, **arguments) -> result: the decorator keeps its signature.
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Principal:
    """The user a call is made for. `role` is one of ROLES, or "login" for the login gate."""

    user_id: int | None
    role: str
    display_name: str = ""


# The login gate acts before anyone is logged in: it may check passwords and
# load the session user, nothing else.
LOGIN = Principal(user_id=None, role="login", display_name="login service")
# The reminder scheduler (ops/scheduler.py) acts for nobody: it is only ever named as the actor of
# the audit rows of the messages it sends (each send, failure and message left unsent).
SCHEDULER = Principal(user_id=None, role="scheduler", display_name="reminder scheduler")


class AccessDenied(Exception):
    """The principal may not do this. Pages turn it into a friendly message."""


def deny(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    action: str,
    *,
    client_id: int | None = None,
    detail: str | None = None,
) -> NoReturn:
    """Audit a refused call, then raise AccessDenied."""
    audit.record_event(cur, principal, action, client_id=client_id, outcome="denied", detail=detail)
    raise AccessDenied(f"You do not have access to this ({action}).")


def allowed_roles(*roles: str) -> Callable[[F], F]:
    """Decorate a data-layer function so that only principals of `roles` may call it."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def guarded(cur: duckdb.DuckDBPyConnection, principal: Principal, **kwargs: Any) -> Any:
            if principal.role not in roles:
                deny(cur, principal, function.__name__, detail=f"role {principal.role}")
            return function(cur, principal, **kwargs)

        # Function attributes have no place in a function's type (PEP 484): the one ignore here.
        guarded.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return cast(F, guarded)

    return decorate


def current_link(alias: str, day: str = "current_date") -> str:
    """Return the SQL condition that the caseload or supervision row `alias` is in force today,
    or on `day` (SQL for a DATE, e.g. a parameter `$today`: the scheduler judges its own clock)."""
    return f"{alias}.started_on <= {day} AND ({alias}.ended_on IS NULL OR {alias}.ended_on > {day})"


def client_scope(principal: Principal) -> str:
    """Return SQL selecting the client ids whose records the principal may read.

    It takes the named parameter $principal_id (pass `scope_parameters(principal)`).
    A client reaches only themself; a therapist the clients currently in their
    caseload; supervisors and admins no client record at all (supervisors read
    aggregates through `therapist_scope`).
    """
    if principal.role == "client":
        return "SELECT CAST($principal_id AS BIGINT) AS client_id"
    if principal.role == "therapist":
        return f"SELECT client_id FROM caseload c WHERE c.therapist_id = $principal_id AND {current_link('c')}"
    return "SELECT CAST($principal_id AS BIGINT) AS client_id WHERE false"


def therapist_scope(principal: Principal) -> str:
    """Return SQL selecting the therapist ids a supervisor currently supervises ($principal_id).

    Any other role gets an empty scope.
    """
    if principal.role == "supervisor":
        return f"SELECT therapist_id FROM supervision s WHERE s.supervisor_id = $principal_id AND {current_link('s')}"
    return "SELECT CAST($principal_id AS BIGINT) AS therapist_id WHERE false"


PSEUDONYM_DIGITS = 8


def pseudonym_sql(client_id_column: str) -> str:
    """Return SQL for a client's stable pseudonym, e.g. 'C-4F2A91B0': a hash of the clinic's
    own secret and the client id, so it cannot be worked out from the username without the
    secret. Eight hex digits keep collisions rare even in a clinic of 10,000 clients."""
    return (
        f"'C-' || upper(left(sha256((SELECT pseudonym_secret FROM clinic_settings) "
        f"|| CAST({client_id_column} AS VARCHAR)), {PSEUDONYM_DIGITS}))"
    )


def scope_parameters(principal: Principal, **values: Any) -> dict[str, Any]:
    """Return the named parameters for SQL built on the scopes above, plus `values`."""
    return {"principal_id": principal.user_id, **values}


@dataclass
class _PageRun:
    """What one page run has read: the clients whose records it was allowed to read (client id)
    and the dashboards it viewed (action name), by principal; and their audit rows, not yet
    written (end_page_run writes them all in one statement)."""

    viewed: set[tuple[int | None, int | str]] = field(default_factory=set)
    to_audit: dict[Principal, list[tuple[str, int | None]]] = field(default_factory=dict)


# Set by begin_page_run; None outside a page run (scripts, tests of the data layer, a download
# made in Streamlit's own thread), where every call checks and audits at once.
_this_run: ContextVar[_PageRun | None] = ContextVar("this_run", default=None)


def begin_page_run() -> None:
    """Start a page run in this context: from now on, reading one client's records is checked
    in SQL once per run (the first read's action), and each client or dashboard read is
    audited once per run, with one commit at its end (end_page_run), not once per query.
    Writes, and refusals, are checked and audited every time, at once. The login gate calls
    this at the top of every run."""
    _this_run.set(_PageRun())


def end_page_run(cursor: Callable[[], duckdb.DuckDBPyConnection]) -> None:
    """Write the audit rows of this page run's reads, in one statement (one commit: each
    commit costs a page run about 3 ms), and end the run. `cursor` is called only when there
    is something to write (a run that could not open the database has not). The app calls
    this when every page run ends, however it ends (a finished page, st.stop, a rerun, an error)."""
    run = _this_run.get()
    _this_run.set(None)
    if run is None or not run.to_audit:
        return
    cur = cursor()
    for principal, views in run.to_audit.items():  # one principal in a page run
        audit.record_views(cur, principal, views)


def require_client(cur: duckdb.DuckDBPyConnection, principal: Principal, client_id: int, action: str) -> None:
    """Check in SQL that `client_id` is in the principal's client scope, and audit the access.

    Raises AccessDenied (audited) when it is not. Reads by anyone other than the
    client themself are audited as `action`; within a page run (begin_page_run) a read
    ("view_..." action) of a client already read in that run is neither checked nor audited
    again, and its one audit row is written when the run ends.
    """
    run = _this_run.get()
    remember = run if run is not None and action.startswith("view_") else None
    if remember is not None and (principal.user_id, client_id) in remember.viewed:
        return
    # The scope is one of the constant fragments above; values go in as parameters.
    sql = f"SELECT count(*) FROM ({client_scope(principal)}) scope WHERE scope.client_id = $client_id"
    (found,) = db.one_row(cur.execute(sql, scope_parameters(principal, client_id=client_id)))
    if not found:
        deny(cur, principal, action, client_id=client_id)
    if remember is None:
        if principal.user_id != client_id:
            audit.record_event(cur, principal, action, client_id=client_id)
        return
    remember.viewed.add((principal.user_id, client_id))
    if principal.user_id != client_id:
        remember.to_audit.setdefault(principal, []).append((action, client_id))


def record_view(cur: duckdb.DuckDBPyConnection, principal: Principal, action: str) -> None:
    """Audit that the principal viewed `action` (a dashboard's read, of no one client's record):
    once per page run (begin_page_run), written when the run ends; at once outside a run."""
    run = _this_run.get()
    if run is None:
        audit.record_event(cur, principal, action)
    elif (principal.user_id, action) not in run.viewed:
        run.viewed.add((principal.user_id, action))
        run.to_audit.setdefault(principal, []).append((action, None))


# Entries a client may still change: made within this many days.
EDIT_DAYS = 7
_CLIENT_ENTRY_TABLES = {"homework_logs", "mood_logs"}


def require_own_recent_entry(
    cur: duckdb.DuckDBPyConnection, principal: Principal, table: str, entry_id: int, action: str
) -> None:
    """Check that entry `entry_id` of `table` is the principal's own and made in the last 7 days.

    Raises AccessDenied (audited) for someone else's or a missing entry, and
    InvalidInput (field "entry") for one that is too old to change.
    """
    if table not in _CLIENT_ENTRY_TABLES:
        raise ValueError(f"not a client entry table: {table}")
    row = cur.execute(
        f"""SELECT created_at >= now() - INTERVAL {EDIT_DAYS} DAY
            FROM {table} WHERE id = ? AND client_id = ?""",
        [entry_id, principal.user_id],
    ).fetchone()
    if row is None:
        deny(cur, principal, action, detail=f"{table} {entry_id}")
    if not row[0]:
        raise InvalidInput({"entry": f"Entries can be changed for {EDIT_DAYS} days after they are made."})
