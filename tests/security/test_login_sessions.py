"""Server-side login sessions: what ends them, and that an ended one stays ended."""

from datetime import datetime, timedelta

import pytest

from data_layer import login_sessions, users
from data_layer.core import db
from data_layer.core.access import LOGIN
from tests.conftest import PASSWORD

IDLE = timedelta(minutes=30)
LIFETIME = timedelta(hours=12)


@pytest.fixture
def clock(monkeypatch):
    """The sessions' and accounts' "now", moved by the test."""
    now = [datetime(2026, 11, 30, 9, 0)]
    monkeypatch.setattr(login_sessions, "_now", lambda: now[0])
    monkeypatch.setattr(users, "_now", lambda: now[0])
    return now


def start(cur, world, who="client_a"):
    return login_sessions.start_login_session(cur, LOGIN, user_id=getattr(world, who).user_id, lifetime=LIFETIME)


def check(cur, token):
    return login_sessions.check_login_session(cur, LOGIN, token=token, idle_limit=IDLE)


def test_a_live_session_names_its_user(cur, world, clock):
    token = start(cur, world)
    assert check(cur, token).user.principal == world.client_a


@pytest.mark.parametrize("token", [None, "", "made-up-token"])
def test_a_missing_or_unknown_token_fails_closed(cur, world, token):
    result = check(cur, token)
    assert result.user is None and result.problem == login_sessions.ENDED


def test_the_token_itself_is_not_stored(cur, world, clock):
    token = start(cur, world)
    rows = cur.execute("SELECT * FROM login_sessions").fetchall()
    assert not any(token in str(value) for row in rows for value in row)


def test_logout_ends_only_this_session_and_it_stays_ended(cur, world, clock):
    this, other = start(cur, world), start(cur, world)
    login_sessions.end_login_session(cur, world.client_a, token=this)
    assert check(cur, this).problem == "You have logged out."
    clock[0] += timedelta(minutes=1)
    assert check(cur, this).user is None
    assert check(cur, other).user is not None


def test_nobody_can_log_out_someone_elses_session(cur, world, clock):
    token = start(cur, world)
    login_sessions.end_login_session(cur, world.client_b, token=token)
    assert check(cur, token).user is not None


def test_a_password_reset_ends_every_session_of_the_account(cur, world, clock):
    tokens = [start(cur, world), start(cur, world)]
    unrelated = start(cur, world, "client_b")
    users.reset_password(cur, world.admin, user_id=world.client_a.user_id, new_password="brand-new-password")
    assert [check(cur, token).problem for token in tokens] == [login_sessions.ENDED] * 2
    assert check(cur, unrelated).user is not None


def test_a_deactivation_ends_sessions_for_good_even_after_reactivation(cur, world, clock):
    token = start(cur, world)
    users.deactivate_user(cur, world.admin, user_id=world.client_a.user_id)
    assert check(cur, token).problem == login_sessions.NOT_ACTIVE
    users.reactivate_user(cur, world.admin, user_id=world.client_a.user_id)
    assert check(cur, token).user is None
    assert users.verify_login(cur, LOGIN, username="client_a", password=PASSWORD).user is not None


@pytest.mark.slow
def test_a_lock_out_ends_sessions_opened_before_it(cur, world, clock):
    token = start(cur, world)
    for _ in range(5):
        users.verify_login(cur, LOGIN, username="client_a", password="wrong")
    assert check(cur, token).problem == "This account is locked until 09:15."
    clock[0] += timedelta(minutes=20)  # the lock is over, the session stays ended
    assert check(cur, token).problem == login_sessions.ENDED


def test_an_idle_session_ends_and_stays_ended(cur, world, clock):
    token = start(cur, world)
    clock[0] += IDLE - timedelta(minutes=1)
    assert check(cur, token).user is not None  # a run within the limit moves the clock on
    clock[0] += IDLE - timedelta(minutes=1)
    assert check(cur, token).user is not None
    clock[0] += IDLE + timedelta(seconds=1)
    assert check(cur, token).problem == "You were logged out after 30 minutes without activity."
    clock[0] += timedelta(seconds=1)
    assert check(cur, token).user is None
    assert cur.execute("SELECT end_reason FROM login_sessions").fetchall() == [("idle",)]


def test_a_session_ends_at_its_lifetime_however_active(cur, world, clock):
    token = start(cur, world)
    for _ in range(12 * 2):
        clock[0] += timedelta(minutes=29)
        if clock[0] >= datetime(2026, 11, 30, 21, 0):
            break
        assert check(cur, token).user is not None
    clock[0] = datetime(2026, 11, 30, 21, 0)
    assert check(cur, token).problem == login_sessions.ENDED


def test_checking_a_session_leaves_dashboard_caches_alone(cur, world, clock):
    token = start(cur, world)
    version = db.data_version(cur)
    for _ in range(3):
        clock[0] += timedelta(minutes=5)
        assert check(cur, token).user is not None
    assert db.data_version(cur) == version
    (last_seen,) = cur.execute("SELECT last_seen_at FROM login_sessions").fetchone()
    assert last_seen == clock[0]
