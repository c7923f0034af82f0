"""HTML in a client's notes stays text in a real browser: on the client's entries page and on the
therapist's client page nothing runs, and the notes read exactly as typed."""

from datetime import date

import pytest
from playwright.sync_api import expect

from ops.demo import build_clinic
from tests.e2e.conftest import log_in, wait_until_idle

CLIENT, THERAPIST = "client05", "therapist1"  # client05 is in therapist1's caseload; no other test uses it
NOTES = ['<img src=x onerror="window.__xss=1">', "<script>window.__xss=2</script>"]


def display_name(username):
    users = build_clinic(today=date.today())["users"]
    return users.set_index("username").loc[username, "display_name"]


def assert_nothing_ran_and_notes_read_as_typed(page, where):
    assert page.evaluate("typeof window.__xss") == "undefined", where
    assert page.locator('img[src="x"]').count() == 0, where
    assert page.locator("script", has_text="window.__xss").count() == 0, where
    for note in NOTES:
        expect(page.get_by_text(note, exact=False).first).to_be_visible()


@pytest.fixture
def new_page(browser):
    contexts = []

    def open_page():
        contexts.append(browser.new_context(viewport={"width": 1280, "height": 1000}))
        return contexts[-1].new_page()

    yield open_page
    for context in contexts:
        context.close()


def test_html_in_notes_stays_text_for_the_client_and_the_therapist(new_page, app_url):
    client = new_page()
    log_in(client, app_url, CLIENT)
    expect(client.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    card = client.locator("[class*=st-key-assignment_]").first
    for note in NOTES:
        again = card.get_by_role("button", name="Log it again")
        if again.count():  # the last save's confirmation stands where the form was
            again.click()
            wait_until_idle(client)
        if not card.get_by_role("radio", name="Done", exact=True).is_visible():
            card.get_by_text("Log it", exact=True).click()
        card.get_by_role("radio", name="Done", exact=True).click()
        if not card.get_by_label("Note").is_visible():
            card.get_by_text("Add details (optional)").click()
        card.get_by_label("Note").fill(note)
        card.get_by_role("button", name="Save", exact=True).click()
        wait_until_idle(client)
        # On a busy machine the save's run may start after wait_until_idle saw a quiet page.
        expect(card.get_by_test_id("stAlert").get_by_text("Well done for logging.")).to_be_visible(timeout=20_000)
    assert client.evaluate("typeof window.__xss") == "undefined"

    client.goto(f"{app_url}/client_entries")
    wait_until_idle(client)
    expect(client.get_by_role("heading", name="My entries", exact=True)).to_be_visible()
    assert_nothing_ran_and_notes_read_as_typed(client, "the client's entries")

    therapist = new_page()
    log_in(therapist, app_url, THERAPIST)
    therapist.goto(f"{app_url}/therapist_client")
    wait_until_idle(therapist)
    therapist.get_by_role("combobox", name="Client").click()
    therapist.get_by_role("option", name=display_name(CLIENT), exact=True).click()
    wait_until_idle(therapist)
    expect(therapist.get_by_role("heading", name=display_name(CLIENT), exact=True)).to_be_visible()
    expect(therapist.get_by_text("Recent homework notes")).to_be_visible()
    assert_nothing_ran_and_notes_read_as_typed(therapist, "the therapist's client page")
