"""Password spraying in server mode: the login throttle's buckets are the database's, so failures
through one app process hold up logins through every other, and failures landing at the same moment
from several processes all count."""

import threading

import pytest

from data_layer.core import login_throttle

# Server mode's throttle: these tests take a PostgreSQL database (tests/conftest.py).
ENGINES = ["postgres"]


def test_failures_through_one_process_hold_up_logins_through_another(conn):
    first, second = (login_throttle.throttle_for(conn.cursor()) for _ in range(2))  # two processes' sessions
    for _ in range(login_throttle.PER_ADDRESS_BURST):
        assert second.wait_seconds("10.0.0.1") == 0
        first.record_failure("10.0.0.1")
    wait = second.wait_seconds("10.0.0.1")
    assert login_throttle.PER_ADDRESS_SECONDS_PER_TOKEN - 5 < wait <= login_throttle.PER_ADDRESS_SECONDS_PER_TOKEN
    assert second.wait_seconds("10.0.0.2") == 0  # another address is not held up


def test_failures_at_the_same_moment_from_eight_sessions_all_count(conn):
    sessions = [login_throttle.throttle_for(conn.cursor()) for _ in range(8)]
    together = threading.Barrier(len(sessions))

    def fail(throttle):
        together.wait()
        throttle.record_failure("10.0.0.3")

    threads = [threading.Thread(target=fail, args=(throttle,)) for throttle in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    (tokens,) = conn.execute("SELECT tokens FROM login_throttle WHERE bucket = 'address:10.0.0.3'").fetchone()
    # 10 - 8, plus what refilled while they ran (one token per 30 s): no failure was lost.
    assert tokens == pytest.approx(2, abs=0.2)
    for _ in range(2):
        sessions[0].record_failure("10.0.0.3")
    assert sessions[1].wait_seconds("10.0.0.3") > login_throttle.PER_ADDRESS_SECONDS_PER_TOKEN - 5
