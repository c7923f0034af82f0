"""The demo therapist triages the caseload, opens a flagged client, sets homework from a
template, and the client then sees it on their Today page."""

import html
from datetime import date
from pathlib import Path

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


def test_the_exports_are_made_when_their_button_is_clicked(browser, app_url):
    therapist = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True).new_page()
    log_in(therapist, app_url, "therapist1")
    therapist.get_by_role("link", name="Client").first.click()
    wait_until_idle(therapist)
    client_name = therapist.get_by_role("heading", level=1).inner_text()
    therapist.get_by_role("tab", name="Export").click()

    with therapist.expect_download() as csv_download:
        therapist.get_by_role("button", name="Download the client's data (CSV)").click()
    rows = Path(csv_download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("Record,Date,Homework,Category,Status")
    assert {row.split(",")[0] for row in rows[1:]} >= {"Homework assignment", "Homework log", "Mood", "Questionnaire"}

    with therapist.expect_download() as summary_download:
        therapist.get_by_role("button", name="Download a printable session summary (HTML)").click()
    summary = Path(summary_download.value.path()).read_text()
    assert html.escape(client_name) in summary
    assert "In care since" in summary and "plotly" in summary
