"""A real Streamlit server on the demo clinic, driven by Debian's Chromium through Playwright."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bench.server import ServerError, running_server
from ui.auth import COOKIE_NAME
from ui.navigation import PAGES

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # playwright install cannot download browsers here: use Debian's Chromium.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory):
    path = tmp_path_factory.mktemp("e2e") / "demo.duckdb"
    subprocess.run([sys.executable, "-m", "ops.demo", str(path)], cwd=ROOT, check=True, capture_output=True)
    return path


def serve(database, **env):
    """Start the app's server (`python -m ui.serve`) on `database` (extra environment `env`, the production
    login throttle); yield its URL; stop it afterwards. For module- or session-scoped
    fixtures. A server that does not start, or ignores SIGTERM, fails the test."""
    try:
        with running_server(database, **env) as server:
            yield server.url
    except ServerError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def app_url(demo_database):
    yield from serve(demo_database)


def wait_until_idle(page, quiet_ms=600, timeout_s=30):
    """Wait until the script has been idle for `quiet_ms` (logins trigger extra reruns)."""
    idle = page.locator("[data-testid=stApp][data-test-script-state=notRunning]")
    deadline = time.monotonic() + timeout_s
    idle_since = None
    while time.monotonic() < deadline:
        if idle.count():
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= quiet_ms / 1000:
                return
        else:
            idle_since = None
        page.wait_for_timeout(100)
    raise AssertionError("the app kept running")


def log_in(page, url, username, password="homework-demo"):
    page.goto(url)
    wait_until_idle(page)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    settle_after_login(page)


def settle_after_login(page, timeout_s=15):
    """Wait for the outcome of a submitted login (the app, or a message in the form), until
    the app is quiet; after a successful login, also until the cookie component has set the
    re-login cookie and the reruns its replies cause are done."""
    logged_in = page.get_by_role("button", name="Log out")
    # Not just "quiet": on a busy machine the click's run may not have started yet.
    expect(logged_in.or_(page.locator("[data-testid=stForm] [data-testid=stAlert]"))).to_be_visible(
        timeout=timeout_s * 1000
    )
    wait_until_idle(page)
    if not logged_in.count():
        return
    deadline = time.monotonic() + timeout_s
    while not any(cookie["name"] == COOKIE_NAME for cookie in page.context.cookies()):
        if time.monotonic() > deadline:
            raise AssertionError("the re-login cookie was never set")
        page.wait_for_timeout(100)
    wait_until_idle(page)


PHONE = {"width": 390, "height": 844}

# One demo account of each role (password homework-demo).
LOGINS = {"client": "client01", "therapist": "therapist1", "supervisor": "supervisor", "admin": "admin"}


def page_paths(role):
    """The URL path of each of `role`'s pages, in menu order, for `go_to`: the first (the role's
    landing page) is the app's root, ""."""
    paths = [Path(path).stem for path, _title, _icon in PAGES[role]]
    return ["", *paths[1:]]


@pytest.fixture
def phone(browser):
    """A page in a phone-sized, touch browser context (390x844)."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


def go_to(page, app_url, path):
    page.goto(f"{app_url}/{path}")
    wait_until_idle(page)


def log_first_homework_done(page, note):
    """On Today, log the first homework card as done with `note`; return the homework's title."""
    card = page.locator("[class*=st-key-assignment_]").first
    title = card.get_by_role("heading").first.inner_text()
    card.get_by_text("Log it", exact=True).click()
    card.get_by_role("radio", name="Done", exact=True).click()
    card.get_by_text("Add details (optional)").click()
    card.get_by_label("Note").fill(note)
    card.get_by_role("button", name="Save", exact=True).click()
    wait_until_idle(page)
    return title


def submit_gad7(page):
    """On the questionnaires page, answer every GAD-7 item "Several days" (total 7) and submit."""
    page.get_by_role("tab", name="GAD-7 (anxiety)").click()
    gad_panel = page.get_by_role("tabpanel", name="GAD-7 (anxiety)")
    for group in gad_panel.get_by_role("radiogroup").all():
        group.get_by_text("Several days").click()
    gad_panel.get_by_role("button", name="Submit GAD-7").click()
    wait_until_idle(page)
