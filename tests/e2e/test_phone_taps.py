"""On a phone, the client's common tasks take few taps from the landing page (issue #12, item 2):
a mood check-in at most 2, a homework "done" at most 3, a whole PHQ-9 at most 11 (one tap to the
page, nine answers, submit). Every page is one tap away: links at the top, not behind the menu."""

from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, log_in, wait_until_idle


class Taps:
    """Taps on the screen, counted."""

    def __init__(self, page):
        self.page, self.count = page, 0

    def __call__(self, locator, **options):
        locator.click(**options)
        self.count += 1
        wait_until_idle(self.page)


def landing(phone, app_url):
    log_in(phone, app_url, "client01")
    expect(phone.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    return Taps(phone)


def test_a_mood_check_in_takes_two_taps(phone, app_url):
    tap = landing(phone, app_url)
    track = phone.locator("[data-testid=stSlider] [data-orientation=horizontal]").first
    box = track.bounding_box()
    tap(track, position={"x": box["width"] * 0.8, "y": box["height"] / 2})  # a good day: 8 of 10
    tap(phone.get_by_role("button", name="Save mood"))
    expect(phone.get_by_test_id("stAlert").get_by_text("Mood saved: 8 out of 10")).to_be_visible()
    assert tap.count <= 2


def test_homework_done_takes_three_taps(phone, app_url):
    tap = landing(phone, app_url)
    card = phone.locator("[class*=st-key-assignment_]").first
    tap(card.get_by_text("Log it", exact=True))
    tap(card.get_by_role("radio", name="Done", exact=True))
    tap(card.get_by_role("button", name="Save", exact=True))
    expect(card.get_by_test_id("stAlert").get_by_text("Well done for logging.")).to_be_visible()
    assert tap.count <= 3


def test_a_whole_phq9_takes_eleven_taps_from_the_landing_page(phone, app_url):
    tap = landing(phone, app_url)
    links = phone.locator(".st-key-page_links")
    link = links.get_by_role("link", name="Questionnaires")
    box = link.bounding_box()
    assert box and box["y"] + box["height"] <= PHONE["height"], "the link is on screen, no menu to open"
    tap(link)
    panel = phone.get_by_role("tabpanel", name="PHQ-9 (mood)")
    for group in panel.get_by_role("radiogroup").all()[:9]:
        tap(group.get_by_text("Not at all"))
    tap(panel.get_by_role("button", name="Submit PHQ-9"))
    expect(phone.get_by_text("Your PHQ-9 total is 0")).to_be_visible()
    assert tap.count <= 11


def test_the_menu_closes_after_a_choice_on_a_phone(phone, app_url):
    landing(phone, app_url)
    sidebar = phone.get_by_test_id("stSidebar")
    phone.get_by_test_id("stExpandSidebarButton").click()
    expect(sidebar).to_have_attribute("data-collapsed", "false")
    sidebar.get_by_role("link", name="My progress").click()
    wait_until_idle(phone)
    expect(phone.get_by_role("heading", name="My progress", exact=True)).to_be_visible()
    expect(sidebar).to_have_attribute("data-collapsed", "true")  # the page, not the menu, is in view
