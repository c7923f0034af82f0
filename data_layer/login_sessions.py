"""Login sessions kept on the server: started at login, checked on every script run, ended by
logout, password reset, deactivation, lock-out, idle time and age.

The re-login cookie carries a random session token; only its SHA-256 is stored, so the
table holds nothing a reader could replay. Anything missing or ended fails closed: the
caller shows the login form (DESIGN.md, "Authentication").
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from data_layer.core import audit, db
from data_layer.core.access import ROLES, Principal, allowed_roles

# The last-seen time is written at most this often per session (idle expiry is that precise):
# a write on every run would cost every page run a commit.
MAX_TOUCH_INTERVAL = timedelta(seconds=60)

ENDED = "Your session has ended. Please log in again."
NOT_ACTIVE = "Your account is not active. Please contact your clinic."


@dataclass(frozen=True)
class SessionUser:
    """What the app needs to know about a logged-in user on every run."""

    id: int
    username: str
    display_name: str
    email: str | None
    role: str
    active: bool
    locked_until: datetime | None

    @property
    def principal(self) -> Principal:
        return Principal(user_id=self.id, role=self.role, display_name=self.display_name)


@dataclass(frozen=True)
class SessionCheck:
    """The outcome of a session check: `user` when the session goes on, else `problem` (words
    for the person at the browser)."""

    user: SessionUser | None
    problem: str | None = None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now()


@allowed_roles("login")
def start_login_session(
    cur: duckdb.DuckDBPyConnection, principal: Principal, *, user_id: int, lifetime: timedelta
) -> str:
    """Start a session for `user_id` lasting at most `lifetime`; return its token (the secret the
    cookie carries). Login gate only, after the password was checked."""
    token = secrets.token_urlsafe(32)
    now = _now()

    def insert(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute(
            """INSERT INTO login_sessions (token_hash, user_id, started_at, last_seen_at, expires_at)
               VALUES (?, ?, ?, ?, ?)""",
            [_hash(token), user_id, now, now, now + lifetime],
        )

    db.write(cur, insert)
    return token


def _idle_words(limit: timedelta) -> str:
    minutes = limit / timedelta(minutes=1)
    if minutes >= 1:
        return f"{minutes:g} minute{'s' if minutes != 1 else ''}"
    return f"{limit.total_seconds():g} seconds"


def _ended_problem(reason: str | None, user: SessionUser, idle_limit: timedelta) -> str:
    if reason == "logout":
        return "You have logged out."
    if reason == "deactivated":
        return NOT_ACTIVE
    if reason == "locked":
        if user.locked_until and user.locked_until > _now():
            return f"This account is locked until {user.locked_until:%H:%M}."
        return ENDED
    if reason == "idle":
        return f"You were logged out after {_idle_words(idle_limit)} without activity."
    return ENDED


@allowed_roles("login")
def check_login_session(
    cur: duckdb.DuckDBPyConnection, principal: Principal, *, token: str, idle_limit: timedelta
) -> SessionCheck:
    """Return a SessionCheck for the session of `token`: its user while the session is open, the
    account active and unlocked, its last run within `idle_limit` and its lifetime not over.

    Login gate only. A session found idle or too old is ended here, so it stays ended; a
    live one has its last-seen time moved on (at most every MAX_TOUCH_INTERVAL).
    """
    row = cur.execute(
        """SELECT u.id, u.username, u.display_name, u.email, u.role, u.active, u.locked_until,
                  s.last_seen_at, s.expires_at, s.end_reason, s.ended_at IS NOT NULL
           FROM login_sessions s JOIN users u ON u.id = s.user_id
           WHERE s.token_hash = ?""",
        [_hash(token or "")],
    ).fetchone()
    if row is None:
        return SessionCheck(user=None, problem=ENDED)
    user = SessionUser(*row[:7])
    last_seen, expires_at, end_reason, ended = row[7:]
    now = _now()
    if ended:
        return SessionCheck(user=None, problem=_ended_problem(end_reason, user, idle_limit))
    if not user.active:
        return SessionCheck(user=None, problem=NOT_ACTIVE)
    if user.locked_until and user.locked_until > now:
        return SessionCheck(user=None, problem=f"This account is locked until {user.locked_until:%H:%M}.")
    for reason, over in (("idle", now - last_seen > idle_limit), ("expired", now >= expires_at)):
        if over:
            _end(cur, token, reason)
            return SessionCheck(user=None, problem=_ended_problem(reason, user, idle_limit))
    if now - last_seen >= min(MAX_TOUCH_INTERVAL, idle_limit / 10):
        _touch(cur, token, now)
    return SessionCheck(user=user)


def _touch(cur: duckdb.DuckDBPyConnection, token: str, now: datetime) -> None:
    # Not through db.write: a last-seen time is no data that dashboards show, so it must not
    # empty their caches. One statement commits on its own.
    try:
        cur.execute(
            "UPDATE login_sessions SET last_seen_at = ? WHERE token_hash = ? AND ended_at IS NULL", [now, _hash(token)]
        )
    except db.CONFLICT_ERRORS:
        pass  # another run of this session touched or ended it at the same moment: either will do


def _end(cur: duckdb.DuckDBPyConnection, token: str, reason: str) -> None:
    def update(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute(
            "UPDATE login_sessions SET ended_at = ?, end_reason = ? WHERE token_hash = ? AND ended_at IS NULL",
            [_now(), reason, _hash(token)],
        )

    db.write(cur, update)


@allowed_roles(*ROLES)
def end_login_session(cur: duckdb.DuckDBPyConnection, principal: Principal, *, token: str) -> None:
    """Log out: end the principal's own session of `token` (a token of anyone else's is ignored)."""

    def update(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute(
            "UPDATE login_sessions SET ended_at = ?, end_reason = 'logout' "
            "WHERE token_hash = ? AND user_id = ? AND ended_at IS NULL",
            [_now(), _hash(token or ""), principal.user_id],
        )
        audit.record_event(cur, principal, "logout")

    db.write(cur, update)


def end_sessions_of_user(cur: duckdb.DuckDBPyConnection, user_id: int, reason: str) -> None:
    """End every open session of `user_id` for `reason` (password_reset, deactivated, locked).

    Plumbing for data_layer/users.py: call it inside the transaction that changes the account.
    """
    cur.execute(
        "UPDATE login_sessions SET ended_at = ?, end_reason = ? WHERE user_id = ? AND ended_at IS NULL",
        [_now(), reason, user_id],
    )
