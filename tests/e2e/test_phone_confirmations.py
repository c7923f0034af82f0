"""On a 390x844 phone, what a save did is shown where the client is looking (issue #12, item 1):
the confirmation of a homework log, a mood check-in, a PHQ-9 and a GAD-7 is inside the viewport
right after submit, and after PHQ-9 item 9 above 0 the crisis resources come first, on screen.
Also the mood slider's scale words are visible text, not only on hover (item 8)."""

from playwright.sync_api import expect

from data_layer.core.settings import crisis_text
from tests.e2e.conftest import PHONE, go_to, log_first_homework_done, log_in, submit_gad7, wait_until_idle


def assert_on_screen(locator):
    """`locator` is visible and lies wholly inside the phone's viewport (no scrolling needed)."""
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box is not None
    assert 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"], f"off screen: {box}"


def test_every_save_is_confirmed_on_screen_and_crisis_text_comes_first(phone, app_url):
    page = phone
    log_in(page, app_url, "client02")
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()

    # The mood scale's two ends are written out, without hovering over the slider.
    mood_form = page.locator("[data-testid=stForm]").filter(has=page.get_by_role("button", name="Save mood"))
    expect(mood_form.get_by_test_id("stCaptionContainer").filter(has_text="0 very low")).to_be_visible()
    expect(mood_form.get_by_test_id("stCaptionContainer").filter(has_text="10 very good")).to_be_visible()

    title = log_first_homework_done(page, "Went for a walk after lunch")
    assert_on_screen(page.get_by_test_id("stAlert").filter(has_text=f"Saved: {title} (done)"))
    expect(page.get_by_test_id("stToast").filter(has_text=f"Saved: {title} (done)")).to_be_visible()

    page.get_by_role("button", name="Save mood").click()
    wait_until_idle(page)
    assert_on_screen(page.get_by_test_id("stAlert").filter(has_text="Mood saved: 5 out of 10"))

    go_to(page, app_url, "client_questionnaires")
    phq_panel = page.get_by_role("tabpanel", name="PHQ-9 (mood)")
    expect(phq_panel.get_by_role("radiogroup")).to_have_count(10)
    groups = phq_panel.get_by_role("radiogroup").all()
    for group in groups[:8]:
        group.get_by_text("Not at all").click()
    groups[8].get_by_text("Several days").click()
    phq_panel.get_by_role("button", name="Submit PHQ-9").click()
    wait_until_idle(page)
    crisis = page.get_by_test_id("stAlert").filter(has_text="Samaritans")
    result = page.get_by_test_id("stAlert").filter(has_text="Your PHQ-9 total is 1: minimal")
    assert_on_screen(crisis)
    assert_on_screen(result)
    assert "Samaritans" in crisis_text()
    # First: nothing of the page's own content comes above the crisis resources.
    crisis_top = crisis.bounding_box()["y"]
    for element in page.locator("[data-testid=stMain] [data-testid=stElementContainer]:visible").all():
        box = element.bounding_box()
        text = element.inner_text().strip()  # (the cookie component's container shows nothing)
        assert not (text and box and box["y"] < crisis_top - 1), f"above the crisis text: {text!r}"

    page.get_by_role("button", name="Back to the questionnaires").click()
    wait_until_idle(page)
    submit_gad7(page)  # every answer "Several days": total 7
    assert_on_screen(page.get_by_test_id("stAlert").filter(has_text="Your GAD-7 total is 7: mild"))
    expect(page.get_by_text("Samaritans")).to_have_count(0)
