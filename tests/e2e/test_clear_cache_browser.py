"""Streamlit's clear-cache message, sent by a visitor who never logged in, changes nothing that
matters: sessions, the demo cookie key, the database connection, the backup socket and the
server's threads all stay as they were (they live in module state, not in st.cache_resource).
"""

import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from streamlit.proto.BackMsg_pb2 import BackMsg
from websockets.sync.client import connect

from ops.backup_service import socket_path
from tests.e2e.conftest import ROOT, log_in, serve, wait_until_idle
from ui.auth import COOKIE_NAME


@pytest.fixture(scope="module")
def demo_key_server(tmp_path_factory):
    """A demo clinic with no configured cookie key: the app makes one per process."""
    path = tmp_path_factory.mktemp("clear-cache") / "demo.duckdb"
    subprocess.run([sys.executable, "-m", "ops.demo", str(path)], cwd=ROOT, check=True, capture_output=True)
    environment = {"HOMEWORK_COOKIE_KEY": ""}
    for url in serve(path, **environment):
        yield url, path


def server_pid(url):
    """The process id of the app's server (`python -m ui.serve`) listening on `url`'s port."""
    port = str(urlsplit(url).port)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"ui.serve" in arguments and port.encode() in arguments:  # bench.server's `python -m ui.serve`
            return int(entry.name)
    raise AssertionError(f"no streamlit server on port {port}")


def thread_count(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def send_clear_cache_anonymously(url):
    """Open a websocket as a new visitor (no login cookie) and send Streamlit's clear-cache message."""
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as response:
        set_cookie = response.headers.get("Set-Cookie") or ""
    xsrf = set_cookie.split("_streamlit_xsrf=", 1)[1].split(";", 1)[0] if "_streamlit_xsrf=" in set_cookie else ""
    host = urlsplit(url).netloc
    message = BackMsg()
    message.clear_cache = True
    with connect(
        f"ws://{host}/_stcore/stream",
        origin=url,
        subprotocols=["streamlit", xsrf] if xsrf else ["streamlit"],
        additional_headers={"Cookie": f"_streamlit_xsrf={xsrf}"} if xsrf else None,
    ) as websocket:
        websocket.send(message.SerializeToString())
        ping = BackMsg()
        ping.app_heartbeat = True  # answered after the clear-cache message: it has been handled
        websocket.send(ping.SerializeToString())
        while True:
            websocket.recv(timeout=10)
            break


MESSAGES = 20


def test_an_anonymous_clear_cache_message_changes_nothing(browser, demo_key_server):
    url, database = demo_key_server
    context = browser.new_context()
    page = context.new_page()
    log_in(page, url, "client01")
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    cookie = next(c for c in context.cookies() if c["name"] == COOKIE_NAME)
    pid = server_pid(url)
    socket_before = os.stat(socket_path(database)).st_ino
    threads_before = thread_count(pid)

    for _ in range(MESSAGES):
        send_clear_cache_anonymously(url)

    page.get_by_role("link", name="My entries").first.click()  # the open session goes on
    wait_until_idle(page)
    expect(page.get_by_role("heading", name="My entries", exact=True)).to_be_visible()
    other = browser.new_context()  # the cookie still verifies: the demo key did not change
    other.add_cookies([{**cookie}])
    copy = other.new_page()
    copy.goto(url)
    wait_until_idle(copy)
    expect(copy.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    assert os.stat(socket_path(database)).st_ino == socket_before  # the backup service was not re-created
    # No thread per message: two browser sessions came, and the server's executors may start a few
    # threads of their own on demand (asyncio's default pool holds up to 6 on two cores).
    assert thread_count(pid) < threads_before + MESSAGES // 2
    for each in (context, other):
        each.close()
