"""The audit log: who did what to which record, and when. Never clinical content."""


def record_event(
    cur, principal, action, *, client_id=None, record_kind=None, record_id=None, outcome="ok", detail=None
):
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
