"""Server mode in real Chromium (issue #15): two app processes (`python -m ui.serve`, as a load
balancer would run them) and a worker (`python -m ops.worker`) on one PostgreSQL database holding the
demo clinic, with the production login throttle.

Every role logs in and out and opens each of its pages; a client's log saved through one process shows
at once on the other (the dashboard caches there are keyed on the database's data version, not on a
count in the process); logging out through one process ends the session on the other; a PHQ-9 with
item 9 above 0 saved through an app process is emailed by the worker within one tick.
"""

import secrets
from datetime import date

import pytest
from playwright.sync_api import expect

from bench.server import ServerError, running_server, running_worker
from ops.demo import build_clinic
from ops.demo.load import create_demo_database
from tests.e2e.conftest import LOGINS, go_to, log_first_homework_done, log_in, page_paths, wait_until_idle
from tests.e2e.test_login_browser import test_demo_role_logs_in_sees_home_logs_out_and_stays_out  # noqa: F401
from tests.e2e.test_risk_alert_server import (  # noqa: F401 (sink is a fixture)
    assert_alert_without_client_details,
    leave_nothing_to_email,
    mail_settings,
    outbox_statuses,
    sink,
    submit_phq9_with_item_9,
    wait_for_mail,
)

# Every app process must accept the login cookies the others signed: one key for all of them.
COOKIE_KEY = secrets.token_urlsafe(48)


@pytest.fixture(scope="module")
def server_database(postgres):
    """The demo clinic in a new PostgreSQL database, its open risk flags acknowledged and reminders off
    (so that the alert test's flag is the only thing the worker emails); returns the database's URL."""
    url = postgres.create_database("server_mode_demo")
    create_demo_database(url)
    leave_nothing_to_email(url)
    return url


@pytest.fixture(scope="module")
def processes(server_database):
    """The URLs of two app processes on the server-mode database."""
    try:
        with (
            running_server(server_database, HOMEWORK_COOKIE_KEY=COOKIE_KEY) as first,
            running_server(server_database, HOMEWORK_COOKIE_KEY=COOKIE_KEY) as second,
        ):
            yield first.url, second.url
    except ServerError as error:
        pytest.fail(str(error))


@pytest.fixture
def app_url(processes):
    """The first app process: the imported login test runs against it."""
    return processes[0]


def display_name(username):
    users = build_clinic(today=date.today())["users"]
    return users.set_index("username").loc[username, "display_name"]


@pytest.mark.parametrize("role", LOGINS)
def test_every_page_of_each_role_opens_in_server_mode(browser, processes, role):
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    second = processes[1]
    log_in(page, second, LOGINS[role])
    for path in page_paths(role):
        go_to(page, second, path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.context.close()


def test_a_log_saved_through_one_process_shows_at_once_on_the_other(browser, processes):
    first, second = processes
    therapist = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    log_in(therapist, second, "therapist1")
    go_to(therapist, second, "therapist_client")
    therapist.get_by_role("combobox", name="Client").click()
    therapist.get_by_role("option", name=display_name("client01")).click()
    wait_until_idle(therapist)
    expect(therapist.get_by_role("heading", name="Recent homework notes")).to_be_visible()
    note = f"Walked to the park {secrets.token_hex(4)}"
    expect(therapist.get_by_text(note)).to_have_count(0)  # the record is now in this process's cache

    client = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(client, first, "client01")
    title = log_first_homework_done(client, note)
    client.context.close()

    # The same browser session on the second process opens the client again, as the therapist would.
    therapist.get_by_role("link", name="Caseload").click()
    wait_until_idle(therapist)
    therapist.get_by_role("link", name="Client").first.click()
    wait_until_idle(therapist)
    expect(therapist.get_by_text(f"{title}: {note}")).to_be_visible()
    therapist.context.close()


def test_logging_out_through_one_process_ends_the_session_on_the_other(browser, processes):
    first, second = processes
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    on_first, on_second = context.new_page(), context.new_page()
    log_in(on_first, first, "therapist2")
    # A second tab that the load balancer sends to the other process: the re-login cookie logs it in there.
    go_to(on_second, second, "")
    expect(on_second.get_by_role("button", name="Log out")).to_be_visible()

    on_first.get_by_role("button", name="Log out").click()
    wait_until_idle(on_first)
    expect(on_first.get_by_text("You have logged out.")).to_be_visible()

    on_second.get_by_role("link", name="Client").first.click()  # the next run on the other process
    wait_until_idle(on_second)
    expect(on_second.get_by_role("textbox", name="Password")).to_be_visible()
    expect(on_second.get_by_role("button", name="Log out")).to_have_count(0)
    on_second.reload()
    wait_until_idle(on_second)
    expect(on_second.get_by_role("textbox", name="Password")).to_be_visible()
    context.close()


def test_the_worker_emails_a_phq9_alert_saved_through_an_app_process_within_one_tick(
    page,
    processes,
    server_database,
    sink,  # noqa: F811
):
    # The app processes start no scheduler in server mode: the worker alone sends.
    with running_worker(server_database, **mail_settings(sink)) as worker:
        submit_phq9_with_item_9(page, processes[0])
        [alert] = wait_for_mail(sink, worker)
    assert_alert_without_client_details(alert, 18)
    assert outbox_statuses(server_database) == [("risk_alert", "sent")]
