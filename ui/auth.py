"""Who the user is: login form, cookie re-login, session checks, logout, require_role.

streamlit-authenticator 0.4.2 keeps the session state (authentication_status,
username, name, roles, logout) and the signed re-login cookie. Passwords are
checked by the data layer (lock-out and audit live there), and every run checks
that the session is still valid (DESIGN.md, "Authentication").
"""
import os
import secrets
import time
from datetime import datetime, timedelta

import jwt
import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities.exceptions import LoginError

from data_layer import clinic, users
from data_layer.access import LOGIN
from ui.db import cursor
from ui.widgets import escape_markdown

COOKIE_NAME = "homework_session"
COOKIE_LIFETIME = timedelta(hours=12)
MIN_COOKIE_KEY_LENGTH = 32
MIN_DISTINCT_KEY_CHARACTERS = 16
PLACEHOLDER_KEYS = {"some_key", "changeme", "change-me", "secret", "your-secret-key",
                    "replace-me-with-a-random-key-of-at-least-32-characters"}


def idle_limit():
    """Return how long a session may sit unused: $HOMEWORK_IDLE_MINUTES, default 30 minutes."""
    return timedelta(minutes=float(os.environ.get("HOMEWORK_IDLE_MINUTES", "30")))


def _login_sleep_seconds():
    # The throttle stays on in production; tests set it to 0.
    return float(os.environ.get("HOMEWORK_LOGIN_SLEEP_SECONDS", "0.7"))


def configured_cookie_key():
    """Return the cookie key from $HOMEWORK_COOKIE_KEY or secrets.toml (`cookie_key`), or None."""
    key = os.environ.get("HOMEWORK_COOKIE_KEY")
    if key:
        return key
    try:
        return st.secrets.get("cookie_key")
    except FileNotFoundError:
        return None


def cookie_key_problem(key):
    """Return why `key` is unfit to sign login cookies, or None when it is fit."""
    if not key:
        return "No cookie key is configured."
    if key.strip().lower() in PLACEHOLDER_KEYS:
        return "The cookie key is a known placeholder."
    if len(key) < MIN_COOKIE_KEY_LENGTH:
        return f"The cookie key is shorter than {MIN_COOKIE_KEY_LENGTH} characters."
    if len(set(key)) < MIN_DISTINCT_KEY_CHARACTERS:
        return "The cookie key is not random: it repeats too few different characters."
    return None


@st.cache_resource(show_spinner=False)
def _demo_cookie_key():
    # Demo mode without a configured key: a random key per process (cookies end on restart).
    return secrets.token_urlsafe(48)


def _cookie_key(demo):
    key = configured_cookie_key()
    problem = cookie_key_problem(key)
    if problem is None:
        return key
    if demo:
        return _demo_cookie_key()
    st.error(
        f"{problem} Set HOMEWORK_COOKIE_KEY (or `cookie_key` in .streamlit/secrets.toml) to a "
        "random value of at least 32 characters, e.g. the output of "
        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`, and restart the app."
    )
    st.stop()


def _cookie_username(key):
    """The username in this browser's re-login cookie, if it carries a valid signature."""
    token = st.context.cookies.get(COOKIE_NAME)
    if not token:
        return None
    try:
        return jwt.decode(token, key, algorithms=["HS256"]).get("username")
    except jwt.PyJWTError:
        return None


def _authenticator(cur, demo):
    # Built on every run: it renders the cookie component. It is given only the account
    # this session or its cookie names (not every account: that costs time on every run
    # in a large clinic), in a fresh dict each time, since it mutates the dict.
    key = _cookie_key(demo)
    username = st.session_state.get("username") or _cookie_username(key)
    return stauth.Authenticate(
        users.login_credentials(cur, LOGIN, username=username),
        cookie_name=COOKIE_NAME,
        cookie_key=key,
        cookie_expiry_days=COOKIE_LIFETIME / timedelta(days=1),
        auto_hash=False,
        login_sleep_time=_login_sleep_seconds(),
    )


def _login_with_cookie(authenticator):
    """Log in from a valid re-login cookie, remembering when the cookie was issued."""
    try:
        authenticator.login(location="unrendered")
    except (LoginError, jwt.PyJWTError, KeyError, TypeError, ValueError):
        # A cookie for an account that is deactivated or locked, or one that is not ours
        # (unsigned, another algorithm, expired, malformed): forget it, show the login form.
        st.session_state["authentication_status"] = None
        authenticator.cookie_controller.delete_cookie()
        return
    if st.session_state.get("authentication_status"):
        token = authenticator.cookie_controller.get_cookie()
        issued = datetime.fromtimestamp(token["exp_date"]) - COOKIE_LIFETIME
        # A new tab or a reload is not activity: the idle clock runs on from the user's last
        # run in this process (or from the cookie's issue, after a restart).
        _start_session(issued, last_activity=_last_runs().get(token["username"], issued))


@st.cache_resource(show_spinner=False)
def _last_runs():
    """username -> when any session of that user last ran in this process (idle expiry)."""
    return {}


def _start_session(started_at, last_activity=None):
    st.session_state["session_started_at"] = started_at
    st.session_state["last_activity"] = last_activity or datetime.now()


def _end_session(authenticator, message):
    """Forget the login in this browser (state and cookie) and say why."""
    authenticator.authentication_controller.logout()
    authenticator.cookie_controller.delete_cookie()
    _forget_session(message)


def _forget_session(message):
    for key in ("session_started_at", "last_activity", "principal"):
        st.session_state.pop(key, None)
    st.session_state["login_message"] = message


def _login_form(cur, authenticator):
    """Show the login form; on a correct password, start the session and return True."""
    # Kept until the next login: the cookie component's reply reruns the script.
    message = st.session_state.get("login_message")
    if message:
        st.info(message)
    form_area = st.empty()
    with form_area.form("login"):
        st.subheader("Log in", anchor=False)
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Log in", type="primary")
        feedback = st.empty()
    if not submitted:
        return False
    result = users.verify_login(cur, LOGIN, username=username, password=password)
    if result.user is None:
        time.sleep(_login_sleep_seconds())
        if result.locked_until:
            feedback.error(
                "Too many failed attempts: this account is locked until "
                f"{result.locked_until:%H:%M} ({result.locked_until:%d %b}). Try again then, "
                "or ask your clinic's administrator to reset your password."
            )
        else:
            feedback.error("The username or password is incorrect.")
        return False
    user = result.user
    st.session_state.update(
        authentication_status=True, username=user.username, name=user.display_name,
        roles=[user.role], email=user.email, logout=None, login_message=None,
    )
    authenticator.cookie_controller.set_cookie()
    _start_session(datetime.now())
    form_area.empty()
    return True


def _session_problem(user):
    """Return why the current session may not go on, or None."""
    now = datetime.now()
    if user is None or not user.active:
        return "Your account is not active. Please contact your clinic."
    if user.locked_until and user.locked_until > now:
        return f"This account is locked until {user.locked_until:%H:%M}."
    started = st.session_state.setdefault("session_started_at", now)
    if started < user.sessions_valid_after:
        return "Your session has ended. Please log in again."
    last = st.session_state.setdefault("last_activity", now)
    if now - last > idle_limit():
        return f"You were logged out after {_duration(idle_limit())} without activity."
    return None


def _duration(span):
    minutes = span / timedelta(minutes=1)
    if minutes >= 1:
        return f"{minutes:g} minute{'s' if minutes != 1 else ''}"
    return f"{span.total_seconds():g} seconds"


def current_principal():
    """Return the logged-in user's Principal, or None while the login form is showing.

    Logs in from the form or the re-login cookie, checks the session on every run,
    and renders the sidebar with the user's name, the demo notice and the logout button.
    """
    cur = cursor()
    demo = clinic.is_demo(cur, LOGIN)
    authenticator = _authenticator(cur, demo)
    if not st.session_state.get("authentication_status"):
        _login_with_cookie(authenticator)
    if not st.session_state.get("authentication_status"):
        if demo:
            st.info("Demo clinic: all data are made up. Logins are listed in the README.")
        if not _login_form(cur, authenticator):
            return None
    user = users.load_session_user(cur, LOGIN, username=st.session_state["username"])
    problem = _session_problem(user)
    if problem:
        _end_session(authenticator, problem)
        _login_form(cur, authenticator)
        return None
    st.session_state["last_activity"] = _last_runs()[user.username] = datetime.now()
    principal = user.principal
    st.session_state["principal"] = principal
    if _sidebar_says_logout(cur, authenticator, principal, demo):
        _forget_session("You have logged out.")
        _login_form(cur, authenticator)
        return None
    return principal


def _sidebar_says_logout(cur, authenticator, principal, demo):
    """Render the sidebar (name, demo notice, logout button); return True on logout."""
    with st.sidebar:
        st.markdown(f"**{escape_markdown(principal.display_name)}**  \n{principal.role.capitalize()}")
        if demo:
            st.warning("Demo clinic: made-up data, not for real clients.")

    def end_sessions(_details):
        users.end_my_sessions(cur, principal)

    authenticator.logout("Log out", location="sidebar", key="logout_button", callback=end_sessions)
    # The run must end without st.rerun: a rerun would drop the cookie deletion (DESIGN.md).
    return not st.session_state.get("authentication_status")


def logged_out():
    """The only page while nobody is logged in (the login form is drawn before it)."""


def require_role(*roles):
    """Return the logged-in principal if their role is one of `roles`; otherwise stop the page."""
    principal = st.session_state.get("principal")
    if principal is None or principal.role not in roles:
        st.error("This page is not available for your account.")
        st.stop()
    return principal
