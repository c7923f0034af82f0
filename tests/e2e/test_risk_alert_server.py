"""Risk alerts from the real server (issue #16) into a real mail server (aiosmtpd on 127.0.0.1, plain
SMTP: HOMEWORK_SMTP_SECURITY=none): the scheduler runs from the server's start, before any page is
requested, and a client's PHQ-9 with item 9 above 0, submitted in Chromium, reaches the therapist's
inbox within one scheduler tick (every minute at :00) without the client's name or score.

The clinic is a copy of the demo whose open risk flags are acknowledged and whose clients' reminders are
off (the demo's come at 08:00, 12:00, 17:00 and 18:00 UTC, and a server started later in the day sends
that day's at once), so that the test's flag is the only thing emailed. client01 (Zainab and an initial) is in therapist1's caseload.
"""

import shutil
import time

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from bench.server import running_server
from data_layer import measures
from data_layer.core import db
from data_layer.core.access import Principal
from ops import backup_service
from tests.e2e.conftest import go_to, log_in, wait_until_idle
from tests.ops.test_scheduler import Inbox, free_port

THERAPIST_EMAIL = "therapist1@demo.invalid"
CLIENT_DETAILS = ("Zainab", "client01", "PHQ", "item 9", "Item 9")
# The next tick is at most 60 s away; the rest is slack for a busy machine, never a timing asserted.
TICK_WAIT_SECONDS = 80
ALERT_SUBJECT = "A client on your caseload needs attention"


@pytest.fixture
def clinic(tmp_path, demo_database):
    path = tmp_path / "clinic.duckdb"
    shutil.copyfile(demo_database, path)
    leave_nothing_to_email(path)
    return path


def leave_nothing_to_email(database):
    """Acknowledge every open risk flag of the clinic at `database` (a file or a URL) and turn every
    client's reminders off, so that the test's flag is the only thing the scheduler emails, whatever
    the time of day."""
    conn = db.connect(database)
    try:
        conn.execute("UPDATE reminder_preferences SET enabled = false")
        conn.execute(
            """INSERT INTO risk_acknowledgements (risk_flag_id, therapist_id, note)
               SELECT f.id, coalesce(f.therapist_id, (SELECT id FROM users WHERE username = 'admin')), 'seen'
               FROM risk_flags f
               WHERE NOT EXISTS (SELECT 1 FROM risk_acknowledgements a WHERE a.risk_flag_id = f.id)"""
        )
    finally:
        conn.close()


@pytest.fixture
def sink():
    """A mail server on 127.0.0.1 keeping what it receives; `mail_settings(sink)` points the app at it."""
    handler = Inbox()
    handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


def mail_settings(sink):
    return {
        "HOMEWORK_SMTP_HOST": "127.0.0.1",
        "HOMEWORK_SMTP_PORT": str(sink.port),
        "HOMEWORK_SMTP_SECURITY": "none",
        "HOMEWORK_MAIL_FROM": "clinic@example.org",
        "HOMEWORK_PUBLIC_URL": "https://homework.example.org",
    }


def wait_for_mail(sink, server):
    """Wait up to TICK_WAIT_SECONDS for the first email; return every email received by then."""
    deadline = time.monotonic() + TICK_WAIT_SECONDS
    while not sink.received:
        if time.monotonic() > deadline:
            raise AssertionError(f"no email within {TICK_WAIT_SECONDS} s; the server said:\n{server.output()}")
        time.sleep(0.5)
    time.sleep(1)  # anything else the same tick sends
    return sink.emails()


def client01(conn):
    user_id, display_name = conn.execute("SELECT id, display_name FROM users WHERE username = 'client01'").fetchone()
    return Principal(user_id=user_id, role="client", display_name=display_name)


def assert_alert_without_client_details(alert, total):
    assert alert["To"] == THERAPIST_EMAIL
    assert alert["Subject"] == ALERT_SUBJECT
    text = alert["Subject"] + "\n" + alert.get_body().get_content()
    for detail in CLIENT_DETAILS:
        assert detail not in text, detail
    assert f" {total}" not in text and f"{total}/" not in text
    assert "https://homework.example.org" in text


def outbox_statuses(path):
    conn = db.connect(path)
    try:
        return conn.execute("SELECT kind, status FROM outbox WHERE kind = 'risk_alert' ORDER BY id").fetchall()
    finally:
        conn.close()


def test_the_server_sends_a_due_alert_from_its_start_with_no_page_ever_requested(clinic, sink):
    conn = db.connect(clinic)
    try:
        # Item 9 answered "More than half the days": total 18, raised before the server starts.
        measures.submit_questionnaire(conn.cursor(), client01(conn), instrument="PHQ-9", answers=[2] * 9)
    finally:
        conn.close()
    with running_server(clinic, **mail_settings(sink)) as server:
        # No browser: the only request is bench.server's health check, which runs no app code.
        assert backup_service.socket_path(clinic).exists()  # the database was opened at the start
        [alert] = wait_for_mail(sink, server)
    assert_alert_without_client_details(alert, 18)
    assert outbox_statuses(clinic) == [("risk_alert", "sent")]


def test_a_phq9_with_item_9_above_0_reaches_the_therapists_inbox_within_one_tick(page, clinic, sink):
    with running_server(clinic, **mail_settings(sink)) as server:
        submit_phq9_with_item_9(page, server.url)
        [alert] = wait_for_mail(sink, server)
    assert_alert_without_client_details(alert, 18)
    assert outbox_statuses(clinic) == [("risk_alert", "sent")]


def submit_phq9_with_item_9(page, url):
    """As client01 on the server at `url`, submit a PHQ-9 answered "More than half the days" on every
    item, item 9 included (total 18)."""
    log_in(page, url, "client01")
    go_to(page, url, "client_questionnaires")
    panel = page.get_by_role("tabpanel", name="PHQ-9 (mood)")
    expect(panel.get_by_role("radiogroup")).to_have_count(10)
    groups = panel.get_by_role("radiogroup").all()
    for group in groups[:9]:
        group.get_by_text("More than half the days").click()
    panel.get_by_role("button", name="Submit PHQ-9").click()
    wait_until_idle(page)
    expect(page.get_by_test_id("stAlert").filter(has_text="Your PHQ-9 total is 18")).to_be_visible()
