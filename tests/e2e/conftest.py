"""A real Streamlit server on the demo clinic, driven by Debian's Chromium through Playwright."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # playwright install cannot download browsers here: use Debian's Chromium.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"],
    }


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory):
    path = tmp_path_factory.mktemp("e2e") / "demo.duckdb"
    subprocess.run([sys.executable, "-m", "data_layer.demo", str(path)], cwd=ROOT, check=True,
                   capture_output=True)
    return path


def serve(database, **env):
    """Start `streamlit run app.py` on `database` (extra environment `env`); yield its URL;
    stop it afterwards. For module- or session-scoped fixtures."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "HOMEWORK_DB": str(database), "HOMEWORK_LOGIN_SLEEP_SECONDS": "0", **env},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"streamlit did not start:\n{server.stdout.read().decode()}")
            time.sleep(0.3)
    yield url
    server.terminate()
    server.wait(timeout=20)


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
    wait_until_idle(page)
