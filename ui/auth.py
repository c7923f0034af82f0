"""Who the user is: login form, server-side sessions, logout, require_role.

A login starts a session on the server (data_layer/login_sessions.py). Its random token
lives in this browser session's state and, signed, in the re-login cookie; every run checks
it against the sessions table, which logout, password reset, deactivation, lock-out and idle
expiry end. Anything missing or ended shows the login form (docs/architecture.md, "Authentication").
Passwords are checked by the data layer (lock-out and audit live there). streamlit-authenticator
0.4.2 draws the cookie component (it sets and deletes the cookie in the browser) and the
logout button; it decides nothing.
"""

import secrets
import time
from datetime import datetime, timedelta

import jwt
import streamlit as st
import streamlit_authenticator as stauth

from data_layer import clinic, login_sessions, users
from data_layer.core import access, db, login_throttle, settings
from data_layer.core.access import LOGIN
from data_layer.core.postgres import is_postgres_url
from ui import cache
from ui.db import close_run_cursors, cursor
from ui.widgets import escape_markdown

COOKIE_NAME = "homework_session"
COOKIE_LIFETIME = timedelta(hours=12)
MIN_COOKIE_KEY_LENGTH = 32
MIN_DISTINCT_KEY_CHARACTERS = 16
PLACEHOLDER_KEYS = {
    "some_key",
    "changeme",
    "change-me",
    "secret",
    "your-secret-key",
    "replace-me-with-a-random-key-of-at-least-32-characters",
}


def configured_cookie_key():
    """Return the cookie key from $HOMEWORK_COOKIE_KEY or secrets.toml (`cookie_key`), or None."""
    key = settings.cookie_key()
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


# Demo mode without a configured key: a random key per process (cookies end on restart). Not in
# server mode: there every app process must accept the cookies the others signed, so even a demo
# clinic needs HOMEWORK_COOKIE_KEY.
# Module state, so that Streamlit's clear-cache message cannot change it.
_DEMO_COOKIE_KEY = secrets.token_urlsafe(48)
# This browser session's login token (st.session_state key).
SESSION_TOKEN = "login_session"


def _cookie_key(demo):
    key = configured_cookie_key()
    problem = cookie_key_problem(key)
    if problem is None:
        return key
    if demo and not is_postgres_url(settings.database_path()):
        return _DEMO_COOKIE_KEY
    st.error(
        f"{problem} Set HOMEWORK_COOKIE_KEY (or `cookie_key` in .streamlit/secrets.toml) to a "
        "random value of at least 32 characters, e.g. the output of "
        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`, and restart the app."
    )
    st.stop()


def _cookie_token(key):
    """The session token in this browser's re-login cookie, if the cookie carries our signature."""
    cookie = st.context.cookies.get(COOKIE_NAME)
    if not cookie:
        return None
    try:
        token = jwt.decode(cookie, key, algorithms=["HS256"]).get("session")
    except jwt.PyJWTError:
        return None
    return token if isinstance(token, str) else None


# The cookie component that sets the re-login cookie reports True here once it has.
COOKIE_SET = "cookie_set"


def signed_login_cookie(key, username, token):
    """The signed re-login cookie for `token` and when it expires (the session's own limit)."""
    expires_at = datetime.now() + COOKIE_LIFETIME
    value = jwt.encode(
        {"username": username, "session": token, "exp_date": expires_at.timestamp()}, key, algorithm="HS256"
    )
    return value, expires_at


def _set_cookie_until_done(authenticator):
    """Draw the component that sets the pending re-login cookie on every run until it reports
    that it has: drawn once, a rerun could remove it before the browser ran it."""
    pending = st.session_state.get("pending_cookie")
    if pending is None:
        return
    if st.session_state.get(COOKIE_SET) is True:
        del st.session_state["pending_cookie"]
        return
    value, expires_at = pending
    # The library's set_cookie signs only a username; its cookie manager is the component we need.
    authenticator.cookie_controller.cookie_model.cookie_manager.set(
        COOKIE_NAME, value, key=COOKIE_SET, expires_at=expires_at
    )


def _authenticator(key):
    # Built on every run that has a session token: it renders the cookie component. It is given
    # no accounts: it checks no password and no cookie, it only sets and deletes the cookie
    # and logs out.
    return stauth.Authenticate(
        {"usernames": {}},
        cookie_name=COOKIE_NAME,
        cookie_key=key,
        cookie_expiry_days=COOKIE_LIFETIME / timedelta(days=1),
        auto_hash=False,
    )


def _enter(user, token):
    """Record in this browser session who is logged in, as streamlit-authenticator expects it.

    One update with no Streamlit call inside: a rerun can interrupt a run only at a Streamlit
    call, so the session is never left half-recorded.
    """
    st.session_state.update(
        {
            SESSION_TOKEN: token,
            "authentication_status": True,
            "username": user.username,
            "name": user.display_name,
            "roles": [user.role],
            "email": user.email,
            "logout": None,
            "login_message": None,
            "login_error": None,
            "principal": user.principal,
        }
    )


def _forget_session(message, token):
    """Forget the login of this browser session, keep why for the login form, and remember
    that `token` has ended (the cookie still offers it until the page is loaded again)."""
    for key in (
        SESSION_TOKEN,
        "principal",
        "authentication_status",
        "username",
        "name",
        "roles",
        "email",
        "pending_cookie",
    ):
        st.session_state.pop(key, None)
    st.session_state["login_message"] = message
    st.session_state["ended_token"] = token


def _client_address():
    """The address a login comes from: the peer, or behind the local reverse proxy (the peer
    is then loopback, which Streamlit reports as None) the address the proxy forwards."""
    address = st.context.ip_address
    if not isinstance(address, str):  # None on loopback (AppTest has no address at all)
        forwarded = st.context.headers.get("X-Forwarded-For") or ""
        address = forwarded.split(",")[-1].strip() or "local"
    return address


def _wait_words(seconds):
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _try_login():
    """The login form's on-click callback: check the password and, if right, start a session.

    A callback runs at the start of the run that the click causes, before any Streamlit call,
    so no rerun (the cookie component's first reply, on a fresh page) can drop the click.
    The outcome waits in session state for the run to show.
    """
    username = st.session_state.get("login_username", "")
    password = st.session_state.get("login_password", "")
    st.session_state["login_password"] = ""  # never kept past the attempt
    st.session_state["login_error"] = None
    address = _client_address()
    cur = cursor()
    throttle = login_throttle.throttle_for(cur)
    wait = throttle.wait_seconds(address)
    if wait:
        st.session_state["login_error"] = f"Too many failed logins. Please wait {_wait_words(wait)} and try again."
        return
    result = users.verify_login(cur, LOGIN, username=username, password=password)
    if result.user is None:
        throttle.record_failure(address)
        time.sleep(settings.login_sleep_seconds())
        st.session_state["login_error"] = (
            "Too many failed attempts: this account is locked until "
            f"{result.locked_until:%H:%M} ({result.locked_until:%d %b}). Try again then, "
            "or ask your clinic's administrator to reset your password."
            if result.locked_until
            else "The username or password is incorrect."
        )
        return
    token = login_sessions.start_login_session(cur, LOGIN, user_id=result.user.id, lifetime=COOKIE_LIFETIME)
    _enter(result.user, token)
    # The form shows only when the cookie key is fit (current_principal stops otherwise).
    st.session_state["pending_cookie"] = signed_login_cookie(
        _cookie_key(clinic.is_demo(cur, LOGIN)), result.user.username, token
    )


def _login_form():
    """Show the login form (its button logs in through _try_login) with the last outcome."""
    # Kept until the next login: the cookie component's reply reruns the script.
    message = st.session_state.get("login_message")
    if message:
        st.info(message)
    with st.form("login"):
        st.text_input("Username", autocomplete="username", key="login_username")
        st.text_input("Password", type="password", autocomplete="current-password", key="login_password")
        st.form_submit_button("Log in", type="primary", on_click=_try_login)
        if st.session_state.get("login_error"):
            st.error(st.session_state["login_error"])


def _session_token(key):
    """This browser session's login token: from its state, or else from the re-login cookie,
    unless that cookie's session was already found ended in this browser session."""
    token = st.session_state.get(SESSION_TOKEN)
    if token:
        return token
    cookie_token = _cookie_token(key)
    return None if cookie_token == st.session_state.get("ended_token") else cookie_token


def current_principal():
    """Return the logged-in user's Principal, or None when nobody is (then show `logged_out`).

    Logs in from the re-login cookie (the form's callback starts sessions), checks the
    server-side session on every run, and renders the sidebar with the user's name, the
    demo notice and the logout button. A session that has ended, or any other problem,
    forgets the login here and in the cookie.
    """
    # The cookie components live in this one container at the top, drawn or not: the page
    # below then keeps its place from run to run, and no element shows twice during a rerun.
    cookie_area = st.container()
    access.begin_page_run()
    cache.begin_page_run()
    cur = cursor()
    demo = _is_demo(str(settings.database_path()), db.data_version(cur), cur)
    key = _cookie_key(demo)
    token = _session_token(key)
    if not token:
        # No cookie component either: its first reply reruns the script, and on a fresh page
        # that rerun would drop a login submitted in the first seconds.
        return None
    with cookie_area:
        authenticator = _authenticator(key)
    check = login_sessions.check_login_session(cur, LOGIN, token=token, idle_limit=settings.idle_limit())
    if check.user is None:
        _forget_session(check.problem, token)
        with cookie_area:
            authenticator.cookie_controller.delete_cookie()
        return None
    _enter(check.user, token)
    with cookie_area:
        _set_cookie_until_done(authenticator)
        logging_out = _sidebar_says_logout(cur, authenticator, check.user.principal, demo)
    if logging_out:
        _forget_session("You have logged out.", token)
        return None
    return check.user.principal


@st.cache_data(show_spinner=False, max_entries=4)
def _is_demo(database, data_version, _cur):
    # Asked on every run of every page: kept until the data change.
    return clinic.is_demo(_cur, LOGIN)


def end_page_run():
    """End the page run that current_principal began: write its reads' audit rows
    (data_layer.core.access.end_page_run), then close the run's cursors."""
    try:
        access.end_page_run(cursor)
    finally:
        close_run_cursors()


def _sidebar_says_logout(cur, authenticator, principal, demo):
    """Render the sidebar (name, demo notice, logout button); return True on logout."""
    with st.sidebar:
        st.markdown(f"**{escape_markdown(principal.display_name)}**  \n{principal.role.capitalize()}")
        if demo:
            st.warning("Demo clinic: made-up data, not for real clients.")
    token = st.session_state.get(SESSION_TOKEN)

    def end_session(_details):
        login_sessions.end_login_session(cur, principal, token=token)

    authenticator.logout("Log out", location="sidebar", key="logout_button", callback=end_session)
    # The run must end without st.rerun: a rerun would drop the cookie deletion (docs/architecture.md).
    return not st.session_state.get("authentication_status")


def logged_out():
    """The only page while nobody is logged in: the login form.

    Drawn inside this page, not before st.navigation: a widget's identity includes the page
    it is drawn on, and drawn before navigation the form's fields were new widgets, emptied,
    after the first rerun of a fresh page (the cookie component's reply).
    """
    st.title("Log in", anchor=False)  # the page's h1, as on every page (docs/accessibility.md)
    if clinic.is_demo(cursor(), LOGIN):
        st.info("Demo clinic: all data are made up. Logins are listed in the README.")
    _login_form()


def require_role(*roles):
    """Return the logged-in principal if their role is one of `roles`; otherwise stop the page."""
    principal = st.session_state.get("principal")
    if principal is None or principal.role not in roles:
        st.error("This page is not available for your account.")
        st.stop()
    return principal
