"""Password spraying: failed logins on many usernames from one address, or across the clinic,
are throttled before any password is checked, the right one included."""

import pytest

from data_layer.core import login_throttle
from data_layer.core.login_throttle import LoginThrottle
from tests.conftest import PASSWORD
from tests.pages.test_pages import submit_login, titles

TOO_MANY = "Too many failed logins"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


def test_an_address_may_fail_ten_times_then_waits(clock):
    throttle = LoginThrottle(clock)
    for _ in range(login_throttle.PER_ADDRESS_BURST):
        assert throttle.wait_seconds("10.0.0.1") == 0
        throttle.record_failure("10.0.0.1")
    assert throttle.wait_seconds("10.0.0.1") == pytest.approx(login_throttle.PER_ADDRESS_SECONDS_PER_TOKEN)
    assert throttle.wait_seconds("10.0.0.2") == 0  # another address is not held up
    clock.now += login_throttle.PER_ADDRESS_SECONDS_PER_TOKEN
    assert throttle.wait_seconds("10.0.0.1") == 0
    throttle.record_failure("10.0.0.1")
    assert throttle.wait_seconds("10.0.0.1") > 0


def test_many_addresses_together_meet_the_clinic_limit(clock):
    throttle = LoginThrottle(clock)
    for number in range(login_throttle.CLINIC_BURST):
        address = f"10.0.{number // 5}.{number % 5}"  # five failures each: no address is held up
        assert throttle.wait_seconds(address) == 0
        throttle.record_failure(address)
    assert throttle.wait_seconds("192.0.2.1") > 0
    clock.now += login_throttle.CLINIC_SECONDS_PER_TOKEN
    assert throttle.wait_seconds("192.0.2.1") == 0


def test_making_room_for_new_addresses_forgets_no_failure(clock, monkeypatch):
    monkeypatch.setattr(login_throttle, "MAX_ADDRESSES", 3)
    throttle = LoginThrottle(clock)
    for _ in range(login_throttle.PER_ADDRESS_BURST - 1):
        throttle.record_failure("sprayer")
    for address in ("a", "b", "c", "d"):  # more addresses than are kept
        throttle.wait_seconds(address)
    throttle.record_failure("sprayer")
    assert throttle.wait_seconds("sprayer") > 0


@pytest.mark.slow
def test_forty_usernames_then_the_right_password_from_one_browser_are_refused(app, clock, monkeypatch):
    monkeypatch.setattr(login_throttle, "THROTTLE", LoginThrottle(clock))
    app.run()
    for number in range(40):
        submit_login(app, f"sprayed{number}", "Winter2026!")
    submit_login(app, "client_a", PASSWORD)
    assert titles(app) == ["Log in"]  # the login page
    assert any(TOO_MANY in error.value for error in app.error)
    clock.now += login_throttle.PER_ADDRESS_SECONDS_PER_TOKEN
    submit_login(app, "client_a", PASSWORD)
    assert titles(app) == ["Today"]
