from datetime import datetime, timedelta

import pytest

from data_layer import caseload, users
from data_layer.core.access import LOGIN
from data_layer.core.validation import InvalidInput
from data_layer.reports import metrics
from tests.conftest import PASSWORD
from ui.auth import cookie_key_problem


def count(cur, sql, params=()):
    return cur.execute(sql, list(params)).fetchone()[0]


def audit_actions(cur):
    return [action for (action,) in cur.execute("SELECT action FROM audit_log ORDER BY id").fetchall()]


def test_admin_creates_an_account_that_can_log_in(cur, world):
    user_id = users.create_user(
        cur, world.admin, username=" New.Client ", display_name="Nia New", role="client", password="a-long-password"
    )
    result = users.verify_login(cur, LOGIN, username="new.client", password="a-long-password")
    assert result.user.id == user_id
    assert result.user.role == "client"
    assert "create_user" in audit_actions(cur)


@pytest.mark.parametrize(
    "field,changes,message",
    [
        ("username", {"username": "client_a"}, "already taken"),
        ("username", {"username": "x"}, "3 to 40 characters"),
        ("display_name", {"display_name": "   "}, "Enter a name"),
        ("password", {"password": "short"}, "at least 10"),
        ("role", {"role": "superuser"}, "Choose one of"),
        ("email", {"email": "casey"}, "like name@example.org"),
        ("email", {"email": "casey@clinic"}, "like name@example.org"),
        ("email", {"email": "casey @clinic.org"}, "like name@example.org"),
        ("email", {"email": "casey@@clinic.org"}, "like name@example.org"),
        ("email", {"email": "casey..new@clinic.org"}, "like name@example.org"),
        ("email", {"email": "casey@clinic.org\r\nBcc: everyone@example.org"}, "like name@example.org"),
        ("email", {"email": "Casey <casey@clinic.org>"}, "like name@example.org"),
    ],
)
def test_bad_account_input_names_the_field_and_writes_nothing(cur, world, field, changes, message):
    before = count(cur, "SELECT count(*) FROM users")
    arguments = (
        dict(username="fresh.user", display_name="Fresh User", role="client", password="a-long-password") | changes
    )
    with pytest.raises(InvalidInput) as raised:
        users.create_user(cur, world.admin, **arguments)
    assert message in raised.value.errors[field]
    assert count(cur, "SELECT count(*) FROM users") == before


@pytest.mark.parametrize("email", ["casey@clinic.org", " casey.new+reminders@mail.clinic.co.uk ", "", None])
def test_an_email_address_or_none_is_accepted(cur, world, email):
    user_id = users.create_user(
        cur, world.admin, username="casey", display_name="Casey", role="client", password="a-long-password", email=email
    )
    stored = count(cur, "SELECT email FROM users WHERE id = ?", [user_id])
    assert stored == ((email or "").strip() or None)


def test_wrong_password_and_unknown_user_look_the_same_and_are_audited(cur, world):
    wrong = users.verify_login(cur, LOGIN, username="client_a", password="not-the-password")
    unknown = users.verify_login(cur, LOGIN, username="nobody", password="not-the-password")
    assert wrong == unknown == users.LoginResult(user=None, locked_until=None)
    assert count(cur, "SELECT count(*) FROM audit_log WHERE action = 'login_failed'") == 2


@pytest.mark.slow
def test_five_failures_lock_the_account_for_fifteen_minutes_even_with_the_right_password(cur, world):
    for _ in range(4):
        assert users.verify_login(cur, LOGIN, username="client_a", password="wrong").locked_until is None
    locked = users.verify_login(cur, LOGIN, username="client_a", password="wrong")
    assert timedelta(minutes=14) < locked.locked_until - datetime.now() <= timedelta(minutes=15)
    right = users.verify_login(cur, LOGIN, username="client_a", password=PASSWORD)
    assert right.user is None and right.locked_until == locked.locked_until


def test_the_lock_ends_by_itself(cur, world):
    cur.execute("UPDATE users SET locked_until = now() - INTERVAL 1 MINUTE WHERE username = 'client_a'")
    assert users.verify_login(cur, LOGIN, username="client_a", password=PASSWORD).user is not None


@pytest.mark.slow
def test_reset_password_lifts_the_lock(cur, world):
    for _ in range(5):
        users.verify_login(cur, LOGIN, username="client_a", password="wrong")
    users.reset_password(cur, world.admin, user_id=world.client_a.user_id, new_password="brand-new-password")
    assert users.verify_login(cur, LOGIN, username="client_a", password="brand-new-password").user is not None
    with pytest.raises(InvalidInput, match="at least 10"):
        users.reset_password(cur, world.admin, user_id=world.client_a.user_id, new_password="short")


def test_deactivated_accounts_cannot_log_in(cur, world):
    users.deactivate_user(cur, world.admin, user_id=world.client_a.user_id)
    assert users.verify_login(cur, LOGIN, username="client_a", password=PASSWORD).user is None
    assert users.load_session_user(cur, LOGIN, username="client_a").active is False
    users.reactivate_user(cur, world.admin, user_id=world.client_a.user_id)
    assert users.verify_login(cur, LOGIN, username="client_a", password=PASSWORD).user is not None


def test_admin_cannot_deactivate_themself(cur, world):
    with pytest.raises(InvalidInput, match="your own account"):
        users.deactivate_user(cur, world.admin, user_id=world.admin.user_id)


def test_linking_moves_a_client_to_the_new_therapist(cur, world):
    caseload.link_client_to_therapist(
        cur, world.admin, client_id=world.client_b.user_id, therapist_id=world.therapist_a.user_id
    )
    names = set(metrics.caseload_summary(cur, world.therapist_a)["name"])
    assert names == {"Alice Client", "Foreign Client Bee"}
    assert metrics.caseload_summary(cur, world.therapist_b).empty
    with pytest.raises(InvalidInput, match="already in this therapist's caseload"):
        caseload.link_client_to_therapist(
            cur, world.admin, client_id=world.client_b.user_id, therapist_id=world.therapist_a.user_id
        )


def test_links_need_the_right_roles(cur, world):
    with pytest.raises(InvalidInput, match="active therapist"):
        caseload.link_client_to_therapist(
            cur, world.admin, client_id=world.client_a.user_id, therapist_id=world.supervisor_a.user_id
        )
    with pytest.raises(InvalidInput, match="active supervisor"):
        caseload.link_therapist_to_supervisor(
            cur, world.admin, therapist_id=world.therapist_a.user_id, supervisor_id=world.client_a.user_id
        )


def test_supervisor_sees_their_therapists_with_client_counts(cur, world):
    caseload.link_therapist_to_supervisor(
        cur, world.admin, therapist_id=world.therapist_b.user_id, supervisor_id=world.supervisor_a.user_id
    )
    therapists = caseload.list_supervised_therapists(cur, world.supervisor_a)
    assert dict(zip(therapists["therapist"], therapists["active_clients"])) == {
        "Tom Therapist": 1,
        "Foreign Therapist Bee": 1,
    }
    assert caseload.list_supervised_therapists(cur, world.supervisor_b).empty


def test_first_admin_only_once(cur):
    users.create_first_admin(cur, username="boss", display_name="Boss", password="a-long-password")
    with pytest.raises(InvalidInput, match="already has an administrator"):
        users.create_first_admin(cur, username="boss2", display_name="Boss 2", password="a-long-password")


@pytest.mark.slow
def test_an_unknown_username_locks_like_an_account_and_is_not_stored_as_typed(cur, world):
    results = [users.verify_login(cur, LOGIN, username="MyPassword123", password="x") for _ in range(5)]
    assert [result.locked_until is None for result in results] == [True] * 4 + [False]
    assert timedelta(minutes=14) < results[4].locked_until - datetime.now() <= timedelta(minutes=15)
    details = [
        detail for (detail,) in cur.execute("SELECT detail FROM audit_log WHERE action = 'login_failed'").fetchall()
    ]
    assert len(details) == 5 and len(set(details)) == 1
    assert not any("mypassword123" in detail.lower() for detail in details)


@pytest.mark.slow
def test_a_locked_unknown_name_keeps_its_lock_time_like_an_account(cur, world, monkeypatch):
    """The lock message must not tell which names exist: later tries move neither lock on."""
    clock = [datetime(2026, 11, 30, 9, 0)]
    monkeypatch.setattr(users, "_now", lambda: clock[0])
    locks = {}
    for name in ("client_a", "nobody-of-that-name"):
        for _ in range(5):
            clock[0] += timedelta(seconds=30)
            result = users.verify_login(cur, LOGIN, username=name, password="wrong")
        locks[name] = [result.locked_until]
        for _ in range(3):
            clock[0] += timedelta(minutes=2)
            locks[name].append(users.verify_login(cur, LOGIN, username=name, password="wrong").locked_until)
    for name, times in locks.items():
        assert len(set(times)) == 1, name
    account, unknown = (locks[name][0] for name in ("client_a", "nobody-of-that-name"))
    assert account - datetime(2026, 11, 30, 9, 2, 30) == unknown - datetime(2026, 11, 30, 9, 11, 0)
    # After the lock: five fresh failures are needed again, for both.
    clock[0] += timedelta(minutes=16)
    for name in locks:
        assert users.verify_login(cur, LOGIN, username=name, password="wrong").locked_until is None


def test_the_cookie_key_must_look_random():
    assert "not random" in cookie_key_problem("k" * 40)
    assert cookie_key_problem("test-only-cookie-key-0123456789-abcdefghijklmnop") is None
