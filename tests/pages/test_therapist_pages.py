"""The therapist's pages through AppTest: set, change and end homework, record a session,
acknowledge a risk flag, the same 4-week compliance on the caseload and the client page."""

import json
from datetime import date

import pytest

from data_layer import homework, measures
from tests.conftest import logged_in, open_page
from tests.data_layer.test_recent_compliance import (
    CLIENT_A_LAST_4_WEEKS,
    ONCE_OFF_TITLE,
    give_client_a_a_recent_history,
)


def button(app, label):
    return next(widget for widget in app.button if widget.label == label)


def field(widgets, label):
    return next(widget for widget in widgets if widget.label == label)


def open_client_a(app):
    logged_in(app, "therapist_a")
    return open_page(app, "pages/therapist_client.py")


@pytest.mark.slow
def test_the_client_page_tells_the_story(app):
    open_client_a(app)
    assert not app.exception
    assert [title.value for title in app.title] == ["Alice Client"]
    assert len(app.get("plotly_chart")) == 1


@pytest.mark.slow
def test_therapist_sets_changes_and_ends_homework(app, cur, world):
    open_client_a(app)
    field(app.selectbox, "Start from a template").set_value("Breathing practice").run()
    assert field(app.text_input, "Title").value == "Breathing practice"
    button(app, "Set homework").click().run()
    assert not app.exception
    assert "The homework is set; the client sees it on their Today page." in [m.value for m in app.success]
    titles = set(homework.list_active_assignments(cur, world.client_a, client_id=world.client_a.user_id)["title"])
    assert "Breathing practice" in titles

    field(app.selectbox, "Homework").set_value(
        int(cur.execute("SELECT id FROM assignments WHERE title = 'Breathing practice'").fetchone()[0])
    ).run()
    edit_titles = [widget for widget in app.text_input if widget.label == "Title"]
    edit_titles[-1].input("Breathing, slower")
    [widget for widget in app.button if widget.label == "Save changes"][-1].click().run()
    assert "The homework is changed." in [m.value for m in app.success]
    # The therapist is told that a change applies from today and leaves past weeks as they were.
    assert any(
        caption.value.startswith("A change applies from today: past weeks keep the schedule they had")
        for caption in app.caption
    )
    button(app, "End this homework today").click().run()
    assignment_id, ends_on = cur.execute(
        "SELECT id, ends_on FROM assignments WHERE title = 'Breathing, slower'"
    ).fetchone()
    assert ends_on == date.today()
    # Set, changed and ended on one day: one schedule version, the last one.
    assert cur.execute(
        "SELECT valid_from, ends_on FROM assignment_schedules WHERE assignment_id = ?", [assignment_id]
    ).fetchall() == [(date.today(), date.today())]


@pytest.mark.slow
def test_a_new_homework_without_a_title_keeps_the_form(app, cur):
    open_client_a(app)
    title = field(app.text_input, "Title")
    title.input("   ")
    field(app.text_area, "Instructions").input("Keep me")
    button(app, "Set homework").click().run()
    assert "Give the homework a title." in [error.value for error in app.error]
    assert field(app.text_area, "Instructions").value == "Keep me"
    assert cur.execute("SELECT count(*) FROM assignments WHERE instructions = 'Keep me'").fetchone() == (0,)


@pytest.mark.slow
def test_therapist_records_a_session(app, cur, world):
    open_client_a(app)
    button(app, "Record session").click().run()
    assert any("recorded" in message.value for message in app.success)
    assert cur.execute(
        "SELECT attended FROM therapy_sessions WHERE client_id = ?", [world.client_a.user_id]
    ).fetchall() == [(True,)]


@pytest.mark.slow
def test_therapist_acknowledges_a_risk_flag(app, cur, world):
    measures.submit_questionnaire(cur, world.client_a, instrument="PHQ-9", answers=[0] * 8 + [1])
    open_client_a(app)
    assert any("risk flag(s) to follow up" in error.value for error in app.error)
    field(app.text_area, "Follow-up note").input("Phoned, safe, plan reviewed")
    button(app, "Acknowledge").click().run()
    assert "Risk flag acknowledged." in [m.value for m in app.success]
    assert not any("risk flag(s) to follow up" in error.value for error in app.error)
    assert cur.execute("SELECT note FROM risk_acknowledgements").fetchall() == [("Phoned, safe, plan reviewed",)]


@pytest.mark.slow
def test_each_run_of_the_client_page_audits_one_view_of_the_client(app, cur, world):
    def views():
        return cur.execute(
            "SELECT count(*) FROM audit_log WHERE action LIKE 'view%' AND client_id = ?", [world.client_a.user_id]
        ).fetchone()[0]

    open_client_a(app)
    before = views()
    app.run()
    app.run()
    # One row per run says the therapist viewed the record, not one per query the page made.
    assert views() - before == 2
    assert not app.exception


def test_another_therapist_cannot_see_that_client(app, world):
    logged_in(app, "therapist_b")
    open_page(app, "pages/therapist_client.py")
    assert [title.value for title in app.title] == ["Foreign Client Bee"]
    assert "Alice Client" not in [option for box in app.selectbox for option in box.options]


def test_the_cached_caseload_never_serves_data_older_than_the_last_write(app, cur, world):
    logged_in(app, "therapist_a")
    assert not any("RISK" in widget.label for widget in app.button)
    measures.submit_questionnaire(cur, world.client_a, instrument="PHQ-9", answers=[0] * 8 + [2])
    app.run()
    assert any(widget.label.startswith("Alice Client: RISK") for widget in app.button)


@pytest.mark.slow
def test_needs_attention_opens_the_client(app, world):
    logged_in(app, "therapist_a")
    next(widget for widget in app.button if widget.label.startswith("Alice Client:")).click().run()
    assert not app.exception
    assert [title.value for title in app.title] == ["Alice Client"]


@pytest.mark.slow
def test_caseload_and_client_page_show_the_same_4_weeks(app, cur, world):
    give_client_a_a_recent_history(cur, world)
    logged_in(app, "therapist_a")
    caseload = app.dataframe[0].value.set_index("Client")
    assert caseload.loc["Alice Client", "Homework, last 4 weeks"] == pytest.approx(100 * CLIENT_A_LAST_4_WEEKS)

    open_page(app, "pages/therapist_client.py")
    assert not app.exception
    assert [metric.value for metric in app.metric if metric.label == "Homework, last 4 weeks"] == ["35%"]
    homework_table = next(frame.value for frame in app.dataframe if "Homework" in frame.value.columns)
    # The once-off reading was done on the Friday before the Tuesday it was due: all of it.
    assert homework_table.set_index("Homework").loc[ONCE_OFF_TITLE, "Compliance"] == 100


def test_the_caseload_puts_risk_first_in_the_error_colour_and_pins_the_client(app, cur, world):
    measures.submit_questionnaire(cur, world.client_a, instrument="PHQ-9", answers=[0] * 8 + [1])
    logged_in(app, "therapist_a")
    assert not app.exception
    assert [error.value for error in app.error] == ["1 client answered PHQ-9 item 9 above 0: follow up first."]
    table = app.dataframe[0].value
    # The columns that matter first: a 1280 px laptop shows them without scrolling.
    assert list(table.columns[:6]) == ["Client", "Flags", "Outcome so far", "Homework, last 4 weeks", "PHQ-9", "GAD-7"]
    assert json.loads(app.dataframe[0].proto.columns)["Client"]["pinned"] is True  # stays when the rest scrolls
