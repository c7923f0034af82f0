"""Each demo role logs in through the real form, sees real data, logs out, and stays out."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in, wait_until_idle

ROLES = {
    # username: (home page title, something only real demo data shows)
    "client01": ("Today", re.compile(r"\d+(\.5)? of \d+ this week")),
    "therapist1": ("Caseload", re.compile(r"\d+ current clients")),
    "supervisor": ("Cohort", re.compile(r"Reliable improvement")),
    "admin": ("Accounts", re.compile(r"All accounts")),
}


@pytest.mark.parametrize("username", ROLES)
def test_demo_role_logs_in_sees_home_logs_out_and_stays_out(page, app_url, username):
    title, evidence = ROLES[username]
    log_in(page, app_url, username)
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    expect(page.get_by_text(evidence).first).to_be_visible()
    expect(page.get_by_text("Demo clinic: made-up data")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    wait_until_idle(page)
    expect(page.get_by_text("You have logged out.")).to_be_visible()
    expect(page.get_by_role("textbox", name="Password")).to_be_visible()

    page.reload()
    wait_until_idle(page)
    expect(page.get_by_role("textbox", name="Password")).to_be_visible()
    expect(page.get_by_role("heading", name=title, exact=True)).to_have_count(0)


def test_wrong_password_says_so_and_does_not_log_in(page, app_url):
    log_in(page, app_url, "client01", password="not-the-password")
    expect(page.get_by_text("The username or password is incorrect.")).to_be_visible()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_have_count(0)


def test_login_screen_lists_no_pages(page, app_url):
    page.goto(app_url)
    wait_until_idle(page)
    expect(page.get_by_role("textbox", name="Password")).to_be_visible()
    expect(page.get_by_text("Accounts")).to_have_count(0)
    expect(page.get_by_text("Caseload")).to_have_count(0)
