"""The audit log: who did what to which record, and when. Never clinical content."""

from collections.abc import Sequence
from typing import Protocol

import duckdb


class Actor(Protocol):
    """Who acts: an access.Principal (not imported here: access imports this module)."""

    @property
    def user_id(self) -> int | None: ...

    @property
    def role(self) -> str: ...


def record_event(
    cur: duckdb.DuckDBPyConnection,
    principal: Actor,
    action: str,
    *,
    client_id: int | None = None,
    record_kind: str | None = None,
    record_id: int | None = None,
    outcome: str = "ok",
    detail: str | None = None,
) -> None:
    """Append one event done by `principal` (the actor is always the principal itself).

    `detail` is for non-clinical context only (a username typed at login, a role).
    Runs inside the caller's transaction when there is one.
    """
    cur.execute(
        """
        INSERT INTO audit_log (actor_id, actor_role, action, client_id,
                               record_kind, record_id, outcome, detail)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [principal.user_id, principal.role, action, client_id, record_kind, record_id, outcome, detail],
    )


def record_views(cur: duckdb.DuckDBPyConnection, principal: Actor, views: Sequence[tuple[str, int | None]]) -> None:
    """Append one "ok" event per (action, client_id) of `views`, all done by `principal`, in one
    statement: one commit for a page run's reads (each commit costs about 3 ms)."""
    cur.execute(
        """
        INSERT INTO audit_log (actor_id, actor_role, action, client_id, outcome)
        SELECT $actor_id, $actor_role, unnest($actions::VARCHAR[]), unnest($client_ids::BIGINT[]), 'ok'
        """,
        {
            "actor_id": principal.user_id,
            "actor_role": principal.role,
            "actions": [action for action, _ in views],
            "client_ids": [client_id for _, client_id in views],
        },
    )
