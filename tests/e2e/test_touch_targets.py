"""Every control a client uses on a phone is at least 44 x 44 px to the finger (issue #12, item 6):
questionnaire answers, status and rating choices, steppers, dates, buttons and page links."""

from tests.e2e.conftest import go_to, log_in, page_paths

MINIMUM = 44
# What a finger hits, per kind of control (the element that takes the tap).
CONTROLS = {
    "answer": "[data-testid=stRadio] label",
    "choice": "[data-testid=stButtonGroup] button",
    "stepper": "[data-testid=stNumberInput] button",
    "number": "[data-testid=stNumberInput] input",
    "date": "[data-testid=stDateInput] input",
    "button": "[data-testid=stButton] button, [data-testid=stFormSubmitButton] button",
    "link": ".st-key-page_links a",
    "expander": "[data-testid=stExpander] summary",
    "tab": "button[role=tab]",
}
PAGES = page_paths("client")


def small_controls(page):
    """[(page kind, width, height)] of the visible controls smaller than 44 px either way."""
    found = []
    for kind, selector in CONTROLS.items():
        for control in page.locator(selector).all():
            if not control.is_visible():
                continue
            box = control.bounding_box()
            if box and (box["width"] < MINIMUM - 0.5 or box["height"] < MINIMUM - 0.5):
                found.append((kind, round(box["width"]), round(box["height"])))
    return found


def test_every_client_control_is_44_px_to_the_finger(phone, app_url):
    log_in(phone, app_url, "client01")
    # Open what the Today page hides at first: a homework's log form and its details.
    card = phone.locator("[class*=st-key-assignment_]").first
    card.get_by_text("Log it", exact=True).click()
    card.get_by_text("Add details (optional)").click()
    problems = {"today": small_controls(phone)}
    for path in PAGES[1:]:
        go_to(phone, app_url, path)
        problems[path] = small_controls(phone)
    problems = {path: sorted(set(found)) for path, found in problems.items() if found}
    assert not problems, problems
