"""Two browser sessions of the same client save a mood check-in at the same moment: both are kept."""

from playwright.sync_api import expect

from tests.e2e.conftest import log_in, wait_until_idle


def moods_today(page, app_url):
    page.goto(f"{app_url}/client_entries")
    wait_until_idle(page)
    page.get_by_role("tab", name="Mood").click()
    return page.get_by_role("tabpanel", name="Mood").get_by_text("Today · Mood")


def test_two_sessions_of_one_client_saving_at_once_keep_both_entries(browser, app_url):
    phone, laptop = (browser.new_context().new_page() for _ in range(2))
    for page in (phone, laptop):
        log_in(page, app_url, "client05")
    before = moods_today(phone, app_url).count()
    for page in (phone, laptop):
        page.goto(app_url)
        wait_until_idle(page)
    buttons = [page.get_by_role("button", name="Save mood") for page in (phone, laptop)]
    for button in buttons:
        button.scroll_into_view_if_needed()
    for button in buttons:  # the second click lands while the first save is still running
        button.click(no_wait_after=True)
    for page in (phone, laptop):
        wait_until_idle(page)
        # In the confirmation that stands where the form was (a toast repeats it).
        expect(page.get_by_test_id("stAlert").get_by_text("Mood saved: 5 out of 10")).to_be_visible()
    expect(moods_today(phone, app_url)).to_have_count(before + 2)
