"""A demo client on a phone-sized screen logs homework and mood, submits a GAD-7, and sees progress."""

from playwright.sync_api import expect

from tests.e2e.conftest import go_to, log_first_homework_done, log_in, submit_gad7, wait_until_idle


def test_client_logs_on_a_phone_and_entries_are_there_once_after_reload(phone, app_url):
    page = phone
    log_in(page, app_url, "client01")
    go_to(page, app_url, "client_entries")
    page.get_by_role("tab", name="Mood").click()
    moods_today = page.get_by_role("tabpanel", name="Mood").get_by_text("Today · Mood")
    moods_before = moods_today.count()
    go_to(page, app_url, "")
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()

    title = log_first_homework_done(page, "Phone test <b>note</b>")
    # (the alert in the form's place; a toast says it too)
    expect(page.get_by_test_id("stAlert").get_by_text(f"Saved: {title} (done)")).to_be_visible()

    page.get_by_role("button", name="Save mood").click()
    wait_until_idle(page)
    expect(page.get_by_test_id("stAlert").get_by_text("Mood saved: 5 out of 10")).to_be_visible()

    go_to(page, app_url, "client_questionnaires")
    submit_gad7(page)  # every answer "Several days": total 7
    expect(page.get_by_text("Your GAD-7 total is 7: mild")).to_be_visible()

    page.reload()
    wait_until_idle(page)
    go_to(page, app_url, "client_entries")
    # Once in the list of entries (the edit form below may hold it too, as the newest entry).
    listed = page.get_by_test_id("stMarkdownContainer").filter(has_text="Phone test <b>note</b>")
    expect(listed).to_have_count(1)
    page.get_by_role("tab", name="Mood").click()
    expect(moods_today).to_have_count(moods_before + 1)

    go_to(page, app_url, "client_progress")
    expect(page.locator(".js-plotly-plot")).to_have_count(4)
