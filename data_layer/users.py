"""Accounts: creation and maintenance by the admin, and the login gate's checks."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import bcrypt
import duckdb
import pandas as pd

from data_layer.core import audit, db, validation
from data_layer.core.access import ROLES, Principal, allowed_roles, deny
from data_layer.login_sessions import SessionUser, end_sessions_of_user

MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)
# Checked against unknown usernames so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt()).decode()


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a password check: `user` when it succeeded, `locked_until` when locked."""

    user: SessionUser | None
    locked_until: datetime | None = None


def hash_password(password: str) -> str:
    """Return the bcrypt hash of `password` as text."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def _now() -> datetime:
    return datetime.now()


def _session_user(cur: duckdb.DuckDBPyConnection, where_sql: str, value: str) -> SessionUser | None:
    row = cur.execute(
        "SELECT id, username, display_name, email, role, active, locked_until FROM users WHERE " + where_sql,
        [value],
    ).fetchone()
    return SessionUser(*row) if row else None


@allowed_roles("admin")
def create_user(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    username: str,
    display_name: str,
    role: str,
    password: str,
    email: str | None = None,
) -> int:
    """Create an account of any role with an initial password; return its id.

    Admin only. Raises InvalidInput (nothing written) for a bad or taken username,
    an empty name, an unknown role, a password under 10 characters or an email that is
    given but is no address.
    """
    return _create_account(
        cur, principal, username=username, display_name=display_name, role=role, password=password, email=email
    )


def _create_account(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    username: str,
    display_name: str,
    role: str,
    password: str,
    email: str | None = None,
) -> int:
    username = (username or "").strip().lower()
    validation.raise_if_any(
        validation.errors_of(
            username=validation.check_username(username),
            display_name=validation.check_display_name(display_name),
            password=validation.check_password(password),
            role=None if role in ROLES else f"Choose one of: {', '.join(ROLES)}.",
            email=validation.check_email(email),
        )
    )
    password_hash = hash_password(password)

    def insert(cur: duckdb.DuckDBPyConnection) -> int:
        taken = db.one_row(cur.execute("SELECT count(*) FROM users WHERE username = ?", [username]))[0]
        if taken:
            raise validation.InvalidInput({"username": "This username is already taken."})
        (user_id,) = db.one_row(
            cur.execute(
                """INSERT INTO users (username, display_name, email, role, password_hash)
               VALUES (?, ?, ?, ?, ?) RETURNING id""",
                [username, display_name.strip(), (email or "").strip() or None, role, password_hash],
            )
        )
        audit.record_event(cur, principal, "create_user", record_kind="user", record_id=user_id, detail=role)
        return user_id

    try:
        return db.write(cur, insert)
    except db.CONSTRAINT_ERRORS as error:
        # Two admins creating the same username at once: the unique index decides.
        raise validation.InvalidInput({"username": "This username is already taken."}) from error


def _require_account(cur: duckdb.DuckDBPyConnection, principal: Principal, user_id: int, action: str) -> None:
    found = db.one_row(cur.execute("SELECT count(*) FROM users WHERE id = ?", [user_id]))[0]
    if not found:
        deny(cur, principal, action, detail=f"no user {user_id}")


@allowed_roles("admin")
def deactivate_user(cur: duckdb.DuckDBPyConnection, principal: Principal, *, user_id: int) -> None:
    """Deactivate an account and end all its sessions. Admin only; not their own account."""
    _require_account(cur, principal, user_id, "deactivate_user")
    if user_id == principal.user_id:
        raise validation.InvalidInput({"user_id": "You cannot deactivate your own account."})

    def update(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute("UPDATE users SET active = false WHERE id = ?", [user_id])
        end_sessions_of_user(cur, user_id, "deactivated")
        audit.record_event(cur, principal, "deactivate_user", record_kind="user", record_id=user_id)

    db.write(cur, update)


@allowed_roles("admin")
def reactivate_user(cur: duckdb.DuckDBPyConnection, principal: Principal, *, user_id: int) -> None:
    """Let a deactivated account log in again with its password. Admin only. Sessions ended by
    the deactivation stay ended."""
    _require_account(cur, principal, user_id, "reactivate_user")

    def update(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute("UPDATE users SET active = true WHERE id = ?", [user_id])
        audit.record_event(cur, principal, "reactivate_user", record_kind="user", record_id=user_id)

    db.write(cur, update)


@allowed_roles("admin")
def reset_password(cur: duckdb.DuckDBPyConnection, principal: Principal, *, user_id: int, new_password: str) -> None:
    """Set a new password, lift any lock and end all sessions of the account. Admin only.

    Raises InvalidInput for a password under 10 characters (nothing changed).
    """
    _require_account(cur, principal, user_id, "reset_password")
    validation.raise_if_any(validation.errors_of(new_password=validation.check_password(new_password)))
    password_hash = hash_password(new_password)

    def update(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute(
            "UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL WHERE id = ?",
            [password_hash, user_id],
        )
        end_sessions_of_user(cur, user_id, "password_reset")
        audit.record_event(cur, principal, "reset_password", record_kind="user", record_id=user_id)

    db.write(cur, update)


@allowed_roles("admin")
def list_users(cur: duckdb.DuckDBPyConnection, principal: Principal) -> pd.DataFrame:
    """Return every account (no password hashes) as a DataFrame, newest role groups first.

    Admin only. Columns: id, username, display_name, email, role, active, locked_until, created_at.
    """
    return cur.execute(
        """SELECT id, username, display_name, email, role, active, locked_until, created_at
           FROM users ORDER BY role, display_name"""
    ).df()


@allowed_roles("login")
def load_session_user(cur: duckdb.DuckDBPyConnection, principal: Principal, *, username: str) -> SessionUser | None:
    """Return the SessionUser for `username`, or None. Login gate only."""
    return _session_user(cur, "username = ?", (username or "").strip().lower())


@allowed_roles("login")
def verify_login(cur: duckdb.DuckDBPyConnection, principal: Principal, *, username: str, password: str) -> LoginResult:
    """Check a username and password; count failures, lock after 5 for 15 minutes, audit all.

    Login gate only. Returns LoginResult: `user` on success; `locked_until` when the name is
    locked (the password is not even checked then); neither for a wrong password. An unknown
    or deactivated username gets the same answers as an account, in the same time: its
    failures are counted under a keyed hash of the name, it locks after 5 in the same way,
    and its lock, like an account's, does not move on with later tries. A lock ends every
    session of the account.
    """
    typed = (username or "").strip().lower()
    user = _session_user(cur, "username = ? AND active", typed)
    counter: tuple[str, object]
    if user is None:
        digest = _name_digest(cur, typed)
        counter, actor, detail = ("unknown name", digest), principal, f"unknown username {digest}"
        password_hash = _DUMMY_HASH
    else:
        counter, actor, detail = ("account", user.id), user.principal, None
        (password_hash,) = db.one_row(cur.execute("SELECT password_hash FROM users WHERE id = ?", [user.id]))
    now = _now()
    locked_until = _locked_until(cur, counter)
    if locked_until and locked_until > now:
        audit.record_event(cur, actor, "login_while_locked", outcome="denied", detail=detail)
        return LoginResult(user=None, locked_until=locked_until)
    if bcrypt.checkpw((password or "").encode()[:72], password_hash.encode()) and user is not None:

        def record_success(cur: duckdb.DuckDBPyConnection) -> None:
            cur.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?", [user.id])
            audit.record_event(cur, actor, "login")

        db.write(cur, record_success)
        return LoginResult(user=user)

    def record_failure(cur: duckdb.DuckDBPyConnection) -> datetime | None:
        audit.record_event(cur, actor, "login_failed", outcome="failed", detail=detail)
        locked_until = _count_failure(cur, counter, now)
        if locked_until:
            audit.record_event(cur, actor, "account_locked", outcome="denied", detail=detail)
            if user is not None:
                end_sessions_of_user(cur, user.id, "locked")
        return locked_until

    return LoginResult(user=None, locked_until=db.write(cur, record_failure))


def _name_digest(cur: duckdb.DuckDBPyConnection, typed: str) -> str:
    # A keyed hash, not the text: people type passwords into the username box.
    (digest,) = db.one_row(
        cur.execute("SELECT left(sha256((SELECT pseudonym_secret FROM clinic_settings) || ?), 16)", [typed])
    )
    return digest


# Where failures are counted: an account's own row, or, for a name that is no active account,
# a row of unknown_login_names keyed by the name's hash. The SQL is built once from these constants.
_COUNTERS = {"account": ("users", "id"), "unknown name": ("unknown_login_names", "name_digest")}
_COUNTER_SQL = {
    kind: {
        "locked_until": f"SELECT locked_until FROM {table} WHERE {column} = ?",
        "count": f"UPDATE {table} SET failed_logins = failed_logins + 1 WHERE {column} = ?",
        "failures": f"SELECT failed_logins FROM {table} WHERE {column} = ?",
        "lock": f"UPDATE {table} SET failed_logins = 0, locked_until = ? WHERE {column} = ?",
    }
    for kind, (table, column) in _COUNTERS.items()
}


def _locked_until(cur: duckdb.DuckDBPyConnection, counter: tuple[str, object]) -> datetime | None:
    kind, key = counter
    row = cur.execute(_COUNTER_SQL[kind]["locked_until"], [key]).fetchone()
    return row[0] if row else None


def _count_failure(cur: duckdb.DuckDBPyConnection, counter: tuple[str, object], now: datetime) -> datetime | None:
    """Count one failure; at the fifth, lock for 15 minutes and return when the lock ends."""
    kind, key = counter
    sql = _COUNTER_SQL[kind]
    if kind == "unknown name":
        cur.execute("INSERT INTO unknown_login_names (name_digest) VALUES (?) ON CONFLICT DO NOTHING", [key])
    # No RETURNING: DuckDB refuses UPDATE ... RETURNING on a table that foreign keys reference.
    cur.execute(sql["count"], [key])
    (failures,) = db.one_row(cur.execute(sql["failures"], [key]))
    if failures < MAX_FAILED_LOGINS:
        return None
    locked_until = now + LOCK_DURATION
    cur.execute(sql["lock"], [locked_until, key])
    return locked_until


def create_first_admin(cur: duckdb.DuckDBPyConnection, *, username: str, display_name: str, password: str) -> int:
    """Create the first admin of an empty clinic and return its id (infrastructure, no principal).

    Refuses (InvalidInput) once any admin exists: from then on admins create accounts.
    """
    (admins,) = db.one_row(cur.execute("SELECT count(*) FROM users WHERE role = 'admin'"))
    if admins:
        raise validation.InvalidInput({"username": "This clinic already has an administrator."})
    bootstrap = Principal(user_id=None, role="admin", display_name="first-admin setup")
    return _create_account(
        cur, bootstrap, username=username, display_name=display_name, role="admin", password=password
    )
