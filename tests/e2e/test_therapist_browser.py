"""The demo therapist triages the caseload, opens a flagged client, sets homework from a
template, and the client then sees it on their Today page."""

from datetime import date

from playwright.sync_api import expect

from ops.demo import build_clinic
from tests.e2e.conftest import log_in, wait_until_idle


def display_name(username):
    users = build_clinic(today=date.today())["users"]
    return users.set_index("username").loc[username, "display_name"]


def test_therapist_triages_and_sets_homework_the_client_then_sees(browser, app_url):
    risk_client = display_name("client02")
    therapist = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    log_in(therapist, app_url, "therapist1")
    attention = therapist.locator("[class*=st-key-attention_] button")
    expect(attention.first).to_contain_text("RISK")
    expect(attention.nth(1)).to_contain_text("RISK")

    therapist.get_by_role("button", name=f"{risk_client}: RISK", exact=False).click()
    wait_until_idle(therapist)
    expect(therapist.get_by_role("heading", name=risk_client, exact=True)).to_be_visible()
    expect(therapist.locator(".js-plotly-plot")).to_have_count(1)
    expect(therapist.get_by_text("risk flag(s) to follow up")).to_be_visible()

    therapist.get_by_text("Set new homework").click()
    therapist.get_by_role("combobox", name="Start from a template").click()
    therapist.get_by_role("option", name="Breathing practice").click()
    wait_until_idle(therapist)
    expect(therapist.get_by_role("textbox", name="Title")).to_have_value("Breathing practice")
    therapist.get_by_role("button", name="Set homework").click()
    wait_until_idle(therapist)
    expect(therapist.get_by_text("The homework is set")).to_be_visible()

    client = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(client, app_url, "client02")
    expect(client.get_by_role("heading", name="Breathing practice")).to_be_visible()
