"""Accounts: creation and maintenance by the admin, and the login gate's checks."""
from dataclasses import dataclass
from datetime import datetime, timedelta

import bcrypt
import duckdb

from data_layer import audit, db, validation
from data_layer.access import ROLES, Principal, allowed_roles, deny

MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)
# Checked against unknown usernames so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt()).decode()


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
    sessions_valid_after: datetime

    @property
    def principal(self):
        return Principal(user_id=self.id, role=self.role, display_name=self.display_name)


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a password check: `user` when it succeeded, `locked_until` when locked."""

    user: SessionUser | None
    locked_until: datetime | None = None


def hash_password(password):
    """Return the bcrypt hash of `password` as text."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def _now():
    return datetime.now()


def _session_user(cur, where_sql, value):
    row = cur.execute(
        "SELECT id, username, display_name, email, role, active, locked_until, "
        "sessions_valid_after FROM users WHERE " + where_sql,
        [value],
    ).fetchone()
    return SessionUser(*row) if row else None


@allowed_roles("admin")
def create_user(cur, principal, *, username, display_name, role, password, email=None):
    """Create an account of any role with an initial password; return its id.

    Admin only. Raises InvalidInput (nothing written) for a bad or taken username,
    an empty name, an unknown role or a password under 10 characters.
    """
    return _create_account(cur, principal, username=username, display_name=display_name,
                           role=role, password=password, email=email)


def _create_account(cur, principal, *, username, display_name, role, password, email=None):
    username = (username or "").strip().lower()
    validation.raise_if_any(validation.errors_of(
        username=validation.check_username(username),
        display_name=validation.check_display_name(display_name),
        password=validation.check_password(password),
        role=None if role in ROLES else f"Choose one of: {', '.join(ROLES)}.",
    ))
    password_hash = hash_password(password)

    def insert(cur):
        taken = cur.execute("SELECT count(*) FROM users WHERE username = ?", [username]).fetchone()[0]
        if taken:
            raise validation.InvalidInput({"username": "This username is already taken."})
        (user_id,) = cur.execute(
            """INSERT INTO users (username, display_name, email, role, password_hash,
                                  sessions_valid_after)
               VALUES (?, ?, ?, ?, ?, ?) RETURNING id""",
            [username, display_name.strip(), (email or "").strip() or None, role,
             password_hash, _now()],
        ).fetchone()
        audit.record_event(cur, principal, "create_user", record_kind="user",
                           record_id=user_id, detail=role)
        return user_id

    try:
        return db.write(cur, insert)
    except duckdb.ConstraintException as error:
        # Two admins creating the same username at once: the unique index decides.
        raise validation.InvalidInput({"username": "This username is already taken."}) from error


def _require_account(cur, principal, user_id, action):
    found = cur.execute("SELECT count(*) FROM users WHERE id = ?", [user_id]).fetchone()[0]
    if not found:
        deny(cur, principal, action, detail=f"no user {user_id}")


@allowed_roles("admin")
def deactivate_user(cur, principal, *, user_id):
    """Deactivate an account and end all its sessions. Admin only; not their own account."""
    _require_account(cur, principal, user_id, "deactivate_user")
    if user_id == principal.user_id:
        raise validation.InvalidInput({"user_id": "You cannot deactivate your own account."})

    def update(cur):
        cur.execute("UPDATE users SET active = false, sessions_valid_after = ? WHERE id = ?",
                    [_now(), user_id])
        audit.record_event(cur, principal, "deactivate_user", record_kind="user", record_id=user_id)

    db.write(cur, update)


@allowed_roles("admin")
def reactivate_user(cur, principal, *, user_id):
    """Let a deactivated account log in again. Admin only."""
    _require_account(cur, principal, user_id, "reactivate_user")

    def update(cur):
        cur.execute("UPDATE users SET active = true WHERE id = ?", [user_id])
        audit.record_event(cur, principal, "reactivate_user", record_kind="user", record_id=user_id)

    db.write(cur, update)


@allowed_roles("admin")
def reset_password(cur, principal, *, user_id, new_password):
    """Set a new password, lift any lock and end all sessions of the account. Admin only.

    Raises InvalidInput for a password under 10 characters (nothing changed).
    """
    _require_account(cur, principal, user_id, "reset_password")
    validation.raise_if_any(validation.errors_of(new_password=validation.check_password(new_password)))
    password_hash = hash_password(new_password)

    def update(cur):
        cur.execute(
            """UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL,
                                sessions_valid_after = ? WHERE id = ?""",
            [password_hash, _now(), user_id],
        )
        audit.record_event(cur, principal, "reset_password", record_kind="user", record_id=user_id)

    db.write(cur, update)


@allowed_roles("admin")
def list_users(cur, principal):
    """Return every account (no password hashes) as a DataFrame, newest role groups first.

    Admin only. Columns: id, username, display_name, email, role, active, locked_until, created_at.
    """
    return cur.execute(
        """SELECT id, username, display_name, email, role, active, locked_until, created_at
           FROM users ORDER BY role, display_name"""
    ).df()


@allowed_roles("login")
def load_session_user(cur, principal, *, username):
    """Return the SessionUser for `username`, or None. Login gate only."""
    return _session_user(cur, "username = ?", (username or "").strip().lower())


@allowed_roles("login")
def login_credentials(cur, principal, *, username):
    """Return {"usernames": {username: {name, email, roles}}} when that account is active and
    unlocked, else {"usernames": {}}. No password hash leaves this function.

    Login gate only: this is the one account streamlit-authenticator may accept a cookie for.
    """
    row = cur.execute(
        """SELECT username, display_name, email, role FROM users
           WHERE username = ? AND active AND (locked_until IS NULL OR locked_until <= ?)""",
        [(username or "").strip().lower(), _now()],
    ).fetchone()
    if row is None:
        return {"usernames": {}}
    name, display_name, email, role = row
    return {"usernames": {name: {"name": display_name, "email": email, "roles": [role]}}}


@allowed_roles("login")
def verify_login(cur, principal, *, username, password):
    """Check a username and password; count failures, lock after 5 for 15 minutes, audit all.

    Login gate only. Returns LoginResult: `user` on success; `locked_until` when the
    account is locked (the password is not even checked then); neither for a wrong
    password or an unknown or deactivated username, which look alike to the caller:
    an unknown name also "locks" after 5 failures, so the lock reveals nothing either.
    """
    typed = (username or "").strip().lower()
    user = _session_user(cur, "username = ? AND active", typed)
    if user is None:
        bcrypt.checkpw((password or "").encode()[:72], _DUMMY_HASH.encode())
        return LoginResult(user=None, locked_until=_fail_unknown_username(cur, principal, typed))
    actor = user.principal
    now = _now()
    if user.locked_until and user.locked_until > now:
        audit.record_event(cur, actor, "login_while_locked", outcome="denied")
        return LoginResult(user=None, locked_until=user.locked_until)
    (password_hash,) = cur.execute("SELECT password_hash FROM users WHERE id = ?", [user.id]).fetchone()
    if bcrypt.checkpw((password or "").encode()[:72], password_hash.encode()):
        def record_success(cur):
            cur.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?", [user.id])
            audit.record_event(cur, actor, "login")
        db.write(cur, record_success)
        return LoginResult(user=user)

    def record_failure(cur):
        # No RETURNING: DuckDB refuses UPDATE ... RETURNING on a table that foreign keys reference.
        cur.execute("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ?", [user.id])
        (failures,) = cur.execute("SELECT failed_logins FROM users WHERE id = ?", [user.id]).fetchone()
        audit.record_event(cur, actor, "login_failed", outcome="failed")
        if failures < MAX_FAILED_LOGINS:
            return None
        locked_until = now + LOCK_DURATION
        cur.execute("UPDATE users SET failed_logins = 0, locked_until = ? WHERE id = ?",
                    [locked_until, user.id])
        audit.record_event(cur, actor, "account_locked", outcome="denied")
        return locked_until

    return LoginResult(user=None, locked_until=db.write(cur, record_failure))


def _fail_unknown_username(cur, principal, typed):
    """Audit a failed login for a name that is no active account; return when its "lock" ends.

    The audit keeps a keyed hash of what was typed, not the text: people type passwords
    into the username box. Five failures in 15 minutes "lock" the name like an account.
    """
    (digest,) = cur.execute(
        "SELECT left(sha256((SELECT pseudonym_secret FROM clinic_settings) || ?), 16)", [typed]).fetchone()
    detail = f"unknown username {digest}"
    since = _now() - LOCK_DURATION

    def record(cur):
        audit.record_event(cur, principal, "login_failed", outcome="failed", detail=detail)
        failures, latest = cur.execute(
            """SELECT count(*), max(occurred_at) FROM audit_log
               WHERE action = 'login_failed' AND actor_id IS NULL AND detail = ? AND occurred_at > ?""",
            [detail, since]).fetchone()
        return latest + LOCK_DURATION if failures >= MAX_FAILED_LOGINS else None

    return db.write(cur, record)


@allowed_roles(*ROLES)
def end_my_sessions(cur, principal):
    """Log the principal out everywhere: no cookie issued before now logs in again."""
    def update(cur):
        cur.execute("UPDATE users SET sessions_valid_after = ? WHERE id = ?", [_now(), principal.user_id])
        audit.record_event(cur, principal, "logout")

    db.write(cur, update)


def create_first_admin(cur, *, username, display_name, password):
    """Create the first admin of an empty clinic and return its id (infrastructure, no principal).

    Refuses (InvalidInput) once any admin exists: from then on admins create accounts.
    """
    (admins,) = cur.execute("SELECT count(*) FROM users WHERE role = 'admin'").fetchone()
    if admins:
        raise validation.InvalidInput({"username": "This clinic already has an administrator."})
    bootstrap = Principal(user_id=None, role="admin", display_name="first-admin setup")
    return _create_account(cur, bootstrap, username=username, display_name=display_name,
                           role="admin", password=password)
