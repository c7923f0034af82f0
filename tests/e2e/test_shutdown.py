"""SIGTERM (systemctl stop, container stop) ends the real server cleanly within SHUTDOWN_SECONDS
in every state, round after round (issue #10, defect 11). serve()'s teardown sends SIGTERM and
fails the test when the server has to be killed; a clean exit also removes the backup socket."""

import socket
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from ops import backup_service
from tests.e2e.conftest import ROOT, log_in, serve, wait_until_idle

ROUNDS = 2


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    path = tmp_path_factory.mktemp("shutdown") / "demo.duckdb"
    subprocess.run([sys.executable, "-m", "ops.demo", str(path)], cwd=ROOT, check=True, capture_output=True)
    return path


def just_started(page, url, database, backups):
    """No visitor yet: the server opened the database, its scheduler and its backup socket as it started."""


def logged_in_session_open(page, url, database, backups):
    """A therapist is logged in and the tab stays open while the server stops."""
    log_in(page, url, "therapist1")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def after_a_backup_over_the_socket(page, url, database, backups):
    """`make backup` asked the running app for a snapshot (the backup thread has served)."""
    page.goto(url)
    wait_until_idle(page)
    counts = backup_service.request_backup(database, backups / "while-running")
    assert counts["users"] > 0


def listening(url):
    address = urlsplit(url)
    with socket.socket() as probe:
        return probe.connect_ex((address.hostname, address.port)) == 0


@pytest.mark.parametrize(
    "state", [just_started, logged_in_session_open, after_a_backup_over_the_socket], ids=lambda state: state.__name__
)
def test_sigterm_ends_the_server_cleanly_in_every_state(page, database, tmp_path, state):
    for round_ in range(ROUNDS):
        backups = tmp_path / f"backups-{round_}"
        running = serve(database, HOMEWORK_BACKUP_DIR=str(backups))
        url = next(running)
        try:
            state(page, url, database, backups)
        except BaseException:
            running.close()  # stop this server now, not when the generator is collected in a later test
            raise
        next(running, None)  # SIGTERM; fails the test unless the server exits in time
        assert not listening(url)
        assert not backup_service.socket_path(database).exists()
