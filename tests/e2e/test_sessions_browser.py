"""Sessions against a real server in real Chromium, with the production login throttle: a copied
re-login cookie stops working after logout, a password reset, a deactivation (and stays dead after
reactivation), a lock-out and idle expiry, on a warm server and on a freshly started one; a cookie
signed with another key or naming a made-up session never works; a login submitted in the first
seconds of a new server goes through.

These tests lock and deactivate demo accounts, so they run on their own demo databases and
servers (module-scoped), never on the shared `app_url` of tests/e2e/conftest.py.
"""

import base64
import contextlib
import json
import re
import secrets
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from urllib.parse import urlsplit

import jwt
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, serve, settle_after_login, wait_until_idle
from ui.auth import COOKIE_LIFETIME, COOKIE_NAME

COOKIE_KEY = secrets.token_urlsafe(48)
running = contextlib.contextmanager(serve)  # a server for one block of a test
WRONG = "The username or password is incorrect."
# Long enough that a login and a first page on a busy 2-core machine fit inside it.
IDLE = timedelta(seconds=12)


@pytest.fixture(scope="module")
def sessions_database(tmp_path_factory):
    path = tmp_path_factory.mktemp("sessions") / "demo.duckdb"
    subprocess.run([sys.executable, "-m", "ops.demo", str(path)], cwd=ROOT, check=True, capture_output=True)
    # A pristine copy for the idle server, taken before any server opens the file.
    shutil.copy(path, path.with_name("idle.duckdb"))
    return path


@pytest.fixture(scope="module")
def sessions_url(sessions_database):
    yield from serve(sessions_database, HOMEWORK_COOKIE_KEY=COOKIE_KEY)


@pytest.fixture(scope="module")
def idle_url(sessions_database):
    yield from serve(
        sessions_database.with_name("idle.duckdb"),
        HOMEWORK_COOKIE_KEY=COOKIE_KEY,
        HOMEWORK_IDLE_MINUTES=str(IDLE / timedelta(minutes=1)),
    )


class Browsers:
    """Fresh browser contexts (no cookies, no storage), all closed when the test ends."""

    def __init__(self, browser):
        self.browser, self.contexts = browser, []

    def page(self, cookie=None, url=None):
        context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        self.contexts.append(context)
        if cookie:
            context.add_cookies([{"name": COOKIE_NAME, "value": cookie, "url": url}])
        return context.new_page()

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def fresh(browser):
    browsers = Browsers(browser)
    yield browsers
    browsers.close()


def session_cookie(page):
    """The re-login cookie, as the browser holds it (set by JavaScript shortly after login)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        cookies = [cookie for cookie in page.context.cookies() if cookie["name"] == COOKIE_NAME]
        if cookies:
            return cookies[0]
        page.wait_for_timeout(100)
    raise AssertionError("no re-login cookie was set")


def open_with_cookie(fresh, url, value):
    """Open the app in a fresh browser that holds only the re-login cookie `value`."""
    page = fresh.page(cookie=value, url=url)
    page.goto(url)
    wait_until_idle(page)
    return page


def is_logged_in(page, home="Today"):
    return page.get_by_role("heading", name=home, exact=True).count() == 1


def assert_logged_out(page, home="Today"):
    assert page.locator("[data-testid=stException]").count() == 0, "an error instead of the login form"
    expect(page.get_by_role("textbox", name="Password")).to_be_visible()
    expect(page.get_by_role("heading", name=home, exact=True)).to_have_count(0)


def login_errors(page):
    return [
        text for text in page.locator("[data-testid=stAlert]").all_inner_texts() if not text.startswith("Demo clinic")
    ]


def submit_login_form(page, url, username, password):
    page.goto(url)
    # Not before the app is quiet: a rerun (the cookie component's first reply) can drop what was typed.
    wait_until_idle(page)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def sign_in(page, url, username, password="homework-demo"):
    """conftest's log_in, on these tests' own server."""
    submit_login_form(page, url, username, password)
    settle_after_login(page)


def refused_login(page, url, username, password):
    """Submit the login form and return the error messages, without waiting for a quiet app."""
    submit_login_form(page, url, username, password)
    expect(page.locator("[data-testid=stAlert]").filter(has_text=re.compile("incorrect|locked until"))).to_be_visible()
    return login_errors(page)


def next_run(page):
    """Make the open session run again, as any click does."""
    page.get_by_role("link", name="My entries").first.click()
    wait_until_idle(page)


def forged(username, key, **claims):
    exp_date = time.time() + COOKIE_LIFETIME.total_seconds() - 60  # as if issued a minute ago
    return jwt.encode({"username": username, "exp_date": exp_date, **claims}, key, algorithm="HS256")


def claims_of(cookie):
    return jwt.decode(cookie, COOKIE_KEY, algorithms=["HS256"])


def assert_replays_fail(fresh, url, cookie, home="Today", tries=3):
    for _ in range(tries):
        assert_logged_out(open_with_cookie(fresh, url, cookie), home)


# ---------------------------------------------------------------- (a) logout


def test_a_cookie_copied_before_logout_no_longer_logs_in(fresh, sessions_url):
    page = fresh.page()
    sign_in(page, sessions_url, "client01")
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    cookie = session_cookie(page)["value"]
    # Control: while the session lives, the copy logs in anywhere (which is why logout must end it).
    assert is_logged_in(open_with_cookie(fresh, sessions_url, cookie))

    page.get_by_role("button", name="Log out").click()
    wait_until_idle(page)
    expect(page.get_by_text("You have logged out.")).to_be_visible()
    assert_replays_fail(fresh, sessions_url, cookie)
    page.reload()
    wait_until_idle(page)
    assert_logged_out(page)


# ---------------------------------------------------------------- (b) reset and deactivation


def admin_maintains(admin, username, button, new_password=None):
    """On the admin's Accounts page (their home): choose `username` under "Deactivate or reset",
    press `button`."""
    expect(admin.get_by_role("heading", name="Accounts", exact=True)).to_be_visible()
    admin.get_by_role("tab", name="Deactivate or reset").click()
    admin.get_by_role("combobox", name="Account").click()
    admin.keyboard.type(username)
    admin.get_by_role("option", name=re.compile(rf"\({re.escape(username)}, client")).click()
    if new_password:
        admin.get_by_label("New password (for a reset)").fill(new_password)
    admin.get_by_role("button", name=button, exact=True).click()
    wait_until_idle(admin)


def test_a_password_reset_or_a_deactivation_by_the_admin_ends_existing_sessions(fresh, sessions_url):
    reset_client, deactivated_client = fresh.page(), fresh.page()
    sign_in(reset_client, sessions_url, "client03")
    sign_in(deactivated_client, sessions_url, "client04")
    reset_cookie = session_cookie(reset_client)["value"]
    deactivated_cookie = session_cookie(deactivated_client)["value"]
    assert is_logged_in(reset_client) and is_logged_in(deactivated_client)

    admin = fresh.page()
    sign_in(admin, sessions_url, "admin")
    admin_maintains(admin, "client03", "Reset password", new_password="a-brand-new-password")
    expect(admin.get_by_text("Password reset for")).to_be_visible()
    admin_maintains(admin, "client04", "Deactivate")
    expect(admin.get_by_text("Deactivated")).to_be_visible()

    assert_replays_fail(fresh, sessions_url, reset_cookie)
    assert_replays_fail(fresh, sessions_url, deactivated_cookie)
    next_run(reset_client)
    expect(reset_client.get_by_text("Your session has ended. Please log in again.")).to_be_visible()
    assert_logged_out(reset_client)
    reset_client.reload()  # the user's own tab, reloaded, does not get back in either
    wait_until_idle(reset_client)
    assert_logged_out(reset_client)
    next_run(deactivated_client)
    expect(deactivated_client.get_by_text("Your account is not active.")).to_be_visible()
    assert_logged_out(deactivated_client)

    admin_maintains(admin, "client04", "Reactivate")
    assert_replays_fail(fresh, sessions_url, deactivated_cookie)  # reactivation revives no session
    sign_in(deactivated_client, sessions_url, "client04")  # the password works again
    assert is_logged_in(deactivated_client)


# ---------------------------------------------------------------- (c) forged cookies


def test_only_a_cookie_of_a_live_session_signed_with_the_key_logs_in(fresh, sessions_url):
    page = fresh.page()
    sign_in(page, sessions_url, "client06")
    token = claims_of(session_cookie(page)["value"])["session"]
    # Control: the live session's token, signed with the server's key, logs in anywhere.
    assert is_logged_in(open_with_cookie(fresh, sessions_url, forged("client06", COOKIE_KEY, session=token)))
    one_character_off = COOKIE_KEY[:-1] + ("y" if COOKIE_KEY.endswith("x") else "x")
    for key in ("wrong-key-" + secrets.token_urlsafe(32), one_character_off):
        assert_logged_out(open_with_cookie(fresh, sessions_url, forged("client06", key, session=token)))
    # The key alone is not enough either: a made-up session, or none, is no session.
    for claims in ({}, {"session": secrets.token_urlsafe(32)}, {"session": None}):
        assert_logged_out(open_with_cookie(fresh, sessions_url, forged("client06", COOKIE_KEY, **claims)))


def _unsigned(claims):
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_a_malformed_cookie_shows_the_login_form_not_an_error(fresh, sessions_url):
    future = time.time() + 3600
    for token in (
        _unsigned({"username": "client06", "exp_date": future}),
        jwt.encode({"username": "client06", "exp_date": future}, COOKIE_KEY, algorithm="HS384"),
        jwt.encode(
            {"username": "client06", "exp_date": future, "exp": int(time.time()) - 10}, COOKIE_KEY, algorithm="HS256"
        ),
        jwt.encode({"username": "client06"}, COOKIE_KEY, algorithm="HS256"),
    ):
        assert_logged_out(open_with_cookie(fresh, sessions_url, token))


# ---------------------------------------------------------------- (d) lock-out


def test_five_wrong_passwords_lock_the_account_even_against_an_earlier_cookie(fresh, sessions_url):
    before = fresh.page()
    sign_in(before, sessions_url, "client07")
    cookie = session_cookie(before)["value"]
    messages = []
    for attempt in range(5):
        page = fresh.page()
        messages.append(refused_login(page, sessions_url, "client07", f"wrong-password-{attempt}"))
    assert messages[:4] == [[WRONG]] * 4
    assert len(messages[4]) == 1 and "locked until" in messages[4][0]

    right = fresh.page()
    [message] = refused_login(right, sessions_url, "client07", "homework-demo")  # the right password
    assert "locked until" in message
    wait_until_idle(right)
    assert_logged_out(right)
    assert_replays_fail(fresh, sessions_url, cookie)
    next_run(before)  # the session opened before the lock ends too
    expect(before.get_by_text("This account is locked until")).to_be_visible()
    assert_logged_out(before)


def test_an_unknown_username_gets_the_same_answer_as_a_wrong_password(fresh, sessions_url):
    # A wrong password for a real account gets WRONG: see the lock-out test above.
    page = fresh.page()
    assert refused_login(page, sessions_url, "nobody-of-that-name", "not-the-password") == [WRONG]


# ---------------------------------------------------------------- (e) idle timeout


def test_an_idle_session_ends_on_its_next_run_and_stays_ended(fresh, idle_url):
    page = fresh.page()
    sign_in(page, idle_url, "client01")
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    next_run(page)  # activity within the limit keeps the session
    expect(page.get_by_role("heading", name="My entries", exact=True)).to_be_visible()
    page.wait_for_timeout(IDLE / timedelta(milliseconds=1) + 1500)
    page.get_by_role("link", name="Today").first.click()
    wait_until_idle(page)
    expect(page.get_by_text("You were logged out after")).to_be_visible()
    assert_logged_out(page)
    page.reload()  # the cookie went with the session
    wait_until_idle(page)
    assert_logged_out(page)


# ---------------------------------------------------------------- third parties


def test_a_new_tab_after_the_idle_limit_does_not_log_back_in_with_the_cookie(fresh, idle_url):
    page = fresh.page()
    sign_in(page, idle_url, "client02")
    cookie = session_cookie(page)["value"]
    page.wait_for_timeout(IDLE / timedelta(milliseconds=1) + 1500)
    # No run of the idle page happened, so its cookie is still in the browser: a new tab, a
    # reload or another browser must not count as activity.
    assert_replays_fail(fresh, idle_url, cookie)
    page.reload()
    wait_until_idle(page)
    assert_logged_out(page)


# ---------------------------------------------------------------- a freshly started server


@pytest.fixture
def restart_database(tmp_path):
    path = tmp_path / "restart.duckdb"
    subprocess.run([sys.executable, "-m", "ops.demo", str(path)], cwd=ROOT, check=True, capture_output=True)
    return path


def first_login(page, url, username):
    """Log in the moment the form shows, as a person on a just-started server would."""
    page.goto(url)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill("homework-demo")
    page.get_by_role("button", name="Log in").click()
    settle_after_login(page)


def test_a_freshly_started_server_takes_the_first_login_and_no_ended_session(fresh, restart_database):
    with running(restart_database, HOMEWORK_COOKIE_KEY=COOKIE_KEY) as url:
        first = fresh.page()
        first_login(first, url, "client01")
        expect(first.get_by_role("heading", name="Today", exact=True)).to_be_visible()
        logged_out_cookie = session_cookie(first)["value"]
        first.get_by_role("button", name="Log out").click()
        wait_until_idle(first)
        live = fresh.page()
        sign_in(live, url, "client02")
        live_cookie = session_cookie(live)["value"]

    with running(restart_database, HOMEWORK_COOKIE_KEY=COOKIE_KEY) as url:
        assert_replays_fail(fresh, url, logged_out_cookie)
        assert is_logged_in(open_with_cookie(fresh, url, live_cookie))  # a live session outlives a restart


def test_the_browser_contacts_no_third_party(fresh, sessions_url):
    page = fresh.page()
    hosts = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname))
    page.goto(sessions_url)
    wait_until_idle(page)
    assert hosts == {"127.0.0.1"}
