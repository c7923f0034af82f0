"""Episodes that end, through the pages: the therapist's discharge form and what the cohort says
when nothing has ended yet."""

from datetime import date, timedelta

import pytest

from data_layer import caseload
from tests.conftest import add_attended_sessions, add_pair, add_user, logged_in, open_page
from tests.data_layer.test_episodes import ago
from tests.pages.test_therapist_pages import button, field, open_client_a


def discharges(cur):
    return cur.execute("SELECT count(*) FROM discharges").fetchone()[0]


@pytest.mark.slow
def test_a_discharge_without_a_reason_is_refused_by_the_field_and_keeps_the_date(app, cur):
    open_client_a(app)
    last_day = date.today() - timedelta(days=2)
    field(app.date_input, "Last day of the episode").set_value(last_day)
    button(app, "Discharge").click().run()
    assert not app.exception
    assert "Choose why the episode ended." in [error.value for error in app.error]
    assert field(app.date_input, "Last day of the episode").value == last_day
    assert discharges(cur) == 0


@pytest.mark.slow
def test_a_discharge_takes_the_therapist_to_the_caseload_with_a_confirmation(app, cur, world):
    open_client_a(app)
    field(app.selectbox, "Reason").set_value("completed")
    button(app, "Discharge").click().run()
    assert not app.exception
    assert [title.value for title in app.title] == ["Caseload"]
    assert any("Alice Client was discharged (completed treatment)" in message.value for message in app.success)
    assert discharges(cur) == 1
    assert "No clients are in your caseload yet" in " ".join(info.value for info in app.info)


def test_the_cohort_says_no_episode_has_finished_yet_instead_of_a_rate(app):
    logged_in(app, "supervisor_a")
    assert not app.exception
    assert any("No episodes ended in this period yet" in info.value for info in app.info)
    shown = {metric.label: metric.value for metric in app.metric}
    assert shown["Finished treatment"] == "no data"  # not 0% or NaN, and not "<5": nobody is in it
    assert "0%" not in shown.values()


def test_the_therapist_sees_their_discharged_clients_in_their_insights(app, cur, world):
    cur.execute("UPDATE caseload SET ended_on = current_date - 1 WHERE client_id = ?", [world.client_a.user_id])
    cur.execute(
        "INSERT INTO discharges (caseload_id, reason, discharged_by) "
        "SELECT id, 'dropped_out', ? FROM caseload WHERE client_id = ?",
        [world.therapist_a.user_id, world.client_a.user_id],
    )
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_insights.py")
    assert not app.exception
    assert not any("None of your episodes" in info.value for info in app.info)


def test_the_admin_can_end_an_episode_and_is_told_what_is_missing(app, cur, world):
    logged_in(app, "admin")
    assert not app.exception
    discharge = next(widget for widget in app.button if widget.label == "Discharge")
    discharge_client_field(app).set_value(world.client_b.user_id)
    discharge.click().run()
    assert "Choose why the episode ended." in [error.value for error in app.error]
    assert discharges(cur) == 0
    assert discharge_client_field(app).value == world.client_b.user_id  # the form keeps the choice
    field(app.selectbox, "Reason").set_value("referred_on")
    next(widget for widget in app.button if widget.label == "Discharge").click().run()
    assert not app.exception
    assert discharges(cur) == 1
    # Markdown-escaped on the page: "Foreign Client Bee (client_b)" as the admin reads it.
    assert any("Foreign Client Bee" in message.value and "episode ended on" in message.value for message in app.success)
    assert cur.execute("SELECT reason FROM discharges").fetchall() == [("referred_on",)]


def discharge_client_field(app):
    # The link form above has a "Client" field too: the discharge form's is the last one.
    return [widget for widget in app.selectbox if widget.label == "Client"][-1]


@pytest.mark.slow
def test_the_client_page_outcome_counts_only_this_episode(app, earlier_episode_elsewhere):
    open_client_a(app)
    assert not app.exception
    captions = " ".join(caption.value for caption in app.caption)
    assert "Outcome so far: not enough data (1 questionnaire pairs, 0 sessions attended" in captions


def test_a_discharged_client_is_told_their_care_ended_instead_of_waiting_for_homework(app, cur, world):

    caseload.discharge_client(
        cur, world.therapist_a, client_id=world.client_a.user_id, ended_on=ago(3), reason="completed"
    )
    logged_in(app, "client_a")
    assert not app.exception
    texts = " ".join(info.value for info in app.info)
    assert f"Your episode of care ended on {ago(3):%d %B %Y}" in texts
    assert "Your therapist will set some with you" not in texts


@pytest.mark.slow
def test_the_cohort_counts_each_ended_episode_whole_from_its_first_pair(app, cur, world):
    # Issue #11, case 2: five episodes began 250 days ago with pairs (20, 15), (8, 6) and (6, 5)
    # and 4 attended sessions, and ended today. A range that clipped them would judge them from
    # their last two pairs (no reliable change); counted whole they all improved and recovered.

    clients = [world.client_a] + [add_user(cur, f"long{n}", f"Long Course {n}", "client") for n in range(4)]
    for client in clients[1:]:
        cur.execute(
            "INSERT INTO caseload (client_id, therapist_id, started_on) VALUES (?, ?, ?)",
            [client.user_id, world.therapist_a.user_id, ago(250)],
        )
    cur.execute("UPDATE caseload SET started_on = ? WHERE client_id = ?", [ago(250), world.client_a.user_id])
    for client in clients:
        add_pair(cur, client, ago(250), 20, 15)
        add_pair(cur, client, ago(100), 8, 6)
        add_pair(cur, client, ago(20), 6, 5)
        add_attended_sessions(cur, client, world.therapist_a, 240, 200, 120, 30)
        caseload.discharge_client(
            cur, world.therapist_a, client_id=client.user_id, ended_on=date.today(), reason="completed"
        )
    logged_in(app, "supervisor_a")
    assert not app.exception
    shown = {metric.label: metric.value for metric in app.metric}
    assert (shown["Finished treatment"], shown["Reliable improvement"], shown["Recovery"]) == ("100%", "100%", "100%")
    details = " ".join(caption.value for caption in app.caption)
    assert "5 of 5 ended episodes" in details and "5 of 5 who finished as a case" in details
