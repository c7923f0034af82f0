"""Does reminding help? (issue #16) on the therapist's Insights and the supervisor's Cohort, through
AppTest: numbers on the demo clinic, and a small group as each role sees it."""

import re
from datetime import date, datetime, time, timedelta

import pytest

from tests.conftest import add_homework_log, add_reminder, add_user, logged_in, open_page, turn_on_reminders
from ui.db import cursor
from ui.insights import TOO_FEW_WITH_REMINDERS, comparison_clients_text

SHARE_LABEL = "Reminded days with homework logged within 24 hours"


def section_text(app):
    """Everything the page wrote as text (captions, infos, markdown), in one string."""
    return " ".join(element.value for kind in ("caption", "info", "markdown") for element in app.get(kind))


@pytest.mark.slow
def test_the_supervisor_sees_the_reminder_figures_of_the_demo_without_clients(demo_app):
    logged_in(demo_app, "supervisor")
    assert not demo_app.exception
    assert "Does reminding help?" in [header.value for header in demo_app.header]
    metrics = {metric.label: metric.value for metric in demo_app.metric}
    assert metrics[SHARE_LABEL].endswith("%")
    assert {"Compliance, 4 weeks before", "Compliance, 4 weeks after", "Mean difference"} <= set(metrics)
    text = section_text(demo_app)
    assert TOO_FEW_WITH_REMINDERS not in text
    assert "reminded days" in text and "paired t" in text and "not a cause" in text
    assert "client0" not in text


@pytest.mark.slow
def test_the_therapist_sees_their_own_clients_reminder_figures_on_the_demo(demo_app):
    logged_in(demo_app, "therapist1")
    open_page(demo_app, "pages/therapist_insights.py")
    assert not demo_app.exception
    assert "Does reminding help?" in [header.value for header in demo_app.header]
    assert SHARE_LABEL in {metric.label for metric in demo_app.metric}
    # The app's own connection to the demo file (AppTest runs the app in this process).
    (own,) = (
        cursor()
        .execute(
            """SELECT count(*) FROM reminder_preferences p
               JOIN caseload c ON c.client_id = p.client_id AND c.ended_on IS NULL
               JOIN users t ON t.id = c.therapist_id AND t.username = 'therapist1'
               WHERE p.enabled"""
        )
        .fetchone()
    )
    found = re.search(r"n = (\d+) clients?\b", section_text(demo_app))
    assert found and int(found[1]) == own >= 1  # therapist1's own clients with reminders on, and no others


@pytest.fixture
def one_reminded_client(cur, world):
    """client_a turned reminders on 10 days ago and was reminded twice, once followed by homework."""
    turn_on_reminders(cur, world.client_a, date.today() - timedelta(days=10))
    for back in (3, 2):
        add_reminder(cur, world.client_a, datetime.combine(date.today() - timedelta(days=back), time(18)))
    add_homework_log(
        cur, world.assignment_a, world.client_a, datetime.combine(date.today() - timedelta(days=3), time(20))
    )
    return world


@pytest.mark.slow
def test_one_client_with_reminders_is_too_few_for_the_supervisor(app, one_reminded_client):
    logged_in(app, "supervisor_a")
    assert not app.exception
    assert "Does reminding help?" in [header.value for header in app.header]
    assert TOO_FEW_WITH_REMINDERS in [info.value for info in app.info]
    assert SHARE_LABEL not in {metric.label for metric in app.metric}


@pytest.mark.slow
def test_the_therapist_sees_their_one_client_with_n(app, one_reminded_client):
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_insights.py")
    assert not app.exception
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics[SHARE_LABEL] == "50%"
    text = section_text(app)
    assert "1 of 2 reminded days" in text and "1 client;" in text
    assert TOO_FEW_WITH_REMINDERS not in text
    # Turned on 10 days ago: the 4 complete weeks after are not over, so nothing to compare yet.
    assert "Too few clients with homework in the 4 complete weeks before" in text


@pytest.mark.slow
def test_six_reminded_clients_show_the_supervisor_their_share_but_not_a_comparison_of_none(
    app, cur, one_reminded_client
):
    world = one_reminded_client
    for number in range(5):
        client = add_user(cur, f"client_r{number}", f"Reminded {number}", "client")
        cur.execute(
            "INSERT INTO caseload (client_id, therapist_id, started_on) VALUES (?, ?, current_date - 30)",
            [client.user_id, world.therapist_a.user_id],
        )
        turn_on_reminders(cur, client, date.today() - timedelta(days=10))
        add_reminder(cur, client, datetime.combine(date.today() - timedelta(days=2), time(18)))
    logged_in(app, "supervisor_a")
    assert not app.exception
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics[SHARE_LABEL] == "14%"  # 1 of 7 reminded days
    text = section_text(app)
    assert "1 of 7 reminded days" in text and "6 clients" in text
    assert TOO_FEW_WITH_REMINDERS not in text
    assert "Too few clients with homework in the 4 complete weeks before" in text
    assert "Reminded 0" not in text


@pytest.mark.parametrize(
    "compared, followed, suppress, shown",
    [
        (7, 9, True, "5 or more clients"),  # 2 clients apart: the supervisor does not get the exact n
        (5, 10, True, "5 clients"),
        (9, 9, True, "9 clients"),
        (14, 8, True, "14 clients"),  # more clients compared than followed, 6 apart
        (7, 9, False, "7 clients"),  # the therapist's own clients: exact
        (1, 3, False, "1 client"),
    ],
)
def test_the_comparisons_n_is_exact_unless_it_would_single_out_a_few_for_a_supervisor(
    compared, followed, suppress, shown
):
    assert comparison_clients_text(compared, followed, suppress) == shown
