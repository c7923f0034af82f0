"""The concurrency benchmark's load generator (bench/concurrency.py) against the real server at
size S with two sessions per page: it logs in by cookie, every run finishes, none fails.
Timings are the benchmark's business, never asserted here."""

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench import concurrency, scale
from bench.server import running_server
from ui.auth import signed_login_cookie

pytestmark = pytest.mark.slow


def in_own_loop(coroutine):
    """Run `coroutine` to the end in a thread of its own: in a worker that ran a browser test
    first, Playwright's sync API leaves an event loop running in this thread."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="module")
def clinic_s(tmp_path_factory):
    path = tmp_path_factory.mktemp("concurrency") / "clinic-S.duckdb"
    scale.create_scaled_database(path, "S")
    return path


def test_two_sessions_per_page_log_in_by_cookie_and_every_run_finishes(clinic_s):
    key = secrets.token_urlsafe(48)
    cookies = {
        page: concurrency.login_cookies(clinic_s, concurrency.usernames(clinic_s, target.role, 2), key)
        for page, target in concurrency.TARGETS.items()
    }
    with running_server(clinic_s, HOMEWORK_COOKIE_KEY=key) as server:
        rows = {
            page: in_own_loop(
                concurrency.run_level(
                    [server.url], cookies[page], target, think=0.0, duration=2.0, pids=[server.process.pid]
                )
            )
            for page, target in concurrency.TARGETS.items()
        }
        one_each = {page: cookies[page][0] for page in concurrency.TARGETS}
        memory = in_own_loop(concurrency.long_run_memory(server.url, one_each, 30, server.process.pid))
        idle = in_own_loop(
            concurrency.idle_session_memory(server.url, cookies["today"], server.process.pid, settle_seconds=1)
        )
        forged = signed_login_cookie(secrets.token_urlsafe(48), "therapist1", "not-a-session")[0]
        with pytest.raises(RuntimeError, match="login form shown"):
            in_own_loop(concurrency.open_session(server.url, forged, concurrency.TARGETS["client"]))

    for page, row in rows.items():
        assert row["sessions"] == 2, page
        assert row["runs"] >= 2, page
        assert row["errors"] == 0, (page, row["first_error"])
        assert row["rss_mb"] > 0 and row["cpu_percent"] > 0, page
    assert memory["runs"] == 30 and memory["errors"] == 0
    assert memory["warm_rss_mb"] > 0 and memory["end_rss_mb"] > 0
    assert idle["sessions"] == 1 and idle["rss_after_mb"] > 0  # one to warm up, one measured


def test_the_usernames_repeat_when_the_clinic_has_fewer_people_than_sessions(clinic_s):
    therapists = concurrency.usernames(clinic_s, "therapist", 5)
    assert therapists == ["therapist1", "therapist2", "therapist1", "therapist2", "therapist1"]
    assert concurrency.usernames(clinic_s, "client", 2) == [
        scale.client_username("S", 1),
        scale.client_username("S", 2),
    ]
