"""Not on track on the pages (issue #17): the caseload's flag with its reason, the client page's
judgement and expected range on the timeline, the supervisor's shares with small cells hidden."""

import base64
import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from data_layer import checklists
from tests.conftest import logged_in, open_page
from tests.data_layer.test_expected_curves import add_questionnaire
from ui.tracking import track_table

TODAY = date.today()
STARTED = TODAY - timedelta(days=30)  # the world's episodes began 30 days ago


def client_a_stays_where_they_started(cur, world):
    """PHQ-9 20 at the intake and 22 four weeks later: above the built-in upper bound at week 4
    for an intake of 20 (about 19.7)."""
    add_questionnaire(cur, world.client_a, "PHQ-9", STARTED, 20)
    add_questionnaire(cur, world.client_a, "PHQ-9", STARTED + timedelta(weeks=3), 21)
    add_questionnaire(cur, world.client_a, "PHQ-9", STARTED + timedelta(weeks=4), 22)


def values(array):
    """A figure's array as Plotly's JSON holds it: a list, or typed binary data."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def table_column(app, column):
    return app.dataframe[0].value[column].tolist()


@pytest.mark.slow
def test_the_caseload_flags_a_client_off_their_expected_course_and_says_why(app, cur, world):
    client_a_stays_where_they_started(cur, world)
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_caseload.py")
    assert not app.exception
    # Homework is set and nothing was ever logged: off track and disengaging, both in words.
    assert table_column(app, "Flags")[0].endswith("not on track, homework slipping")
    [reason] = table_column(app, "Not on track because")
    assert reason.startswith("PHQ-9 22 at week 4 is above the expected")
    assert "for an intake of 20" in reason
    assert reason.endswith("homework is slipping: homework is set and the client has never logged any.")
    assert any("not on track" in button.label for button in app.button)
    # The curves are the built-in ones in a new clinic, and the page says so.
    assert any("Built-in curve" in caption.value for caption in app.caption)


@pytest.mark.slow
def test_the_client_page_shows_the_judgement_and_the_expected_range(app, cur, world):
    client_a_stays_where_they_started(cur, world)
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_client.py")
    assert not app.exception
    assert any(warning.value.startswith("Not on track: PHQ-9 22 at week 4") for warning in app.warning)
    figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    traces = {trace.get("name"): trace for trace in figure["data"]}
    upper = values(traces["PHQ-9 expected range"]["y"])
    # The band runs from the intake week to a week past the latest score, and the client's 22
    # at week 4 lies above its upper bound there.
    assert len(upper) == 6
    assert upper[0] == 20 and upper[4] < 22
    assert "GAD-7 expected range" not in traces  # no GAD-7 intake: no range to draw


@pytest.mark.slow
def test_the_client_page_says_why_there_is_no_judgement_yet(app, cur, world):
    add_questionnaire(cur, world.client_a, "PHQ-9", STARTED, 20)
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_client.py")
    assert not app.exception
    assert not app.warning
    assert any(
        caption.value.startswith("Expected course: no judgement yet.")
        and "Only the intake PHQ-9 so far" in caption.value
        for caption in app.caption
    )


@pytest.mark.slow
def test_the_supervisor_sees_the_shares_with_small_cells_hidden(app, cur, world):
    client_a_stays_where_they_started(cur, world)
    logged_in(app, "supervisor_a")
    open_page(app, "pages/supervisor_therapists.py")
    assert not app.exception
    table = app.dataframe[1].value
    assert table["Therapist"].tolist() == ["Tom Therapist"]
    assert table["Not on track"].tolist() == ["<5"]
    assert "Alice" not in table.to_string()


def field(widgets, label):
    [widget] = [widget for widget in widgets if widget.label == label]
    return widget


def stored_checklists(cur):
    return cur.execute("SELECT reviewed, changes FROM support_checklists ORDER BY id").fetchall()


@pytest.mark.slow
def test_the_therapist_records_a_checklist_for_a_client_not_on_track(app, cur, world):
    client_a_stays_where_they_started(cur, world)
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_client.py")
    assert "Clinical support checklist" in [header.value for header in app.header]
    field(app.text_area, "What did you change?").input("Smaller *homework*")
    field(app.button, "Save checklist").click().run()
    assert [error.value for error in app.error] == ["Tick at least one thing you reviewed."]
    assert field(app.text_area, "What did you change?").value == "Smaller *homework*", "what was typed is kept"
    assert stored_checklists(cur) == []

    field(app.checkbox, "Homework fit and difficulty").check()
    field(app.checkbox, "Therapeutic alliance").check()
    field(app.button, "Save checklist").click().run()
    assert not app.exception and not app.error
    assert stored_checklists(cur) == [(["alliance", "homework_fit"], "Smaller *homework*")]
    assert "Clinical support checklist saved: 2 items reviewed." in [message.value for message in app.success]
    assert field(app.text_area, "What did you change?").value == "", "the form is empty again"
    listed = " ".join(element.value for element in app.markdown)
    assert "Therapeutic alliance, Homework fit and difficulty" in listed
    assert r"Smaller \*homework\*" in listed, "the therapist's text is shown as typed, not as Markdown"
    # The flag stays until the scores are back inside the expected range.
    assert any(warning.value.startswith("Not on track: PHQ-9 22 at week 4") for warning in app.warning)


@pytest.mark.slow
def test_no_checklist_form_for_a_client_on_track_but_earlier_checklists_stay(app, cur, world):
    add_questionnaire(cur, world.client_a, "PHQ-9", STARTED, 20)
    add_questionnaire(cur, world.client_a, "PHQ-9", STARTED + timedelta(weeks=4), 12)
    checklists.record_support_checklist(
        cur, world.therapist_a, client_id=world.client_a.user_id, reviewed=["life_events"], changes="<b>x</b>"
    )
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_client.py")
    assert not app.exception
    assert not app.warning and not any(box.label == "Life events" for box in app.checkbox)
    assert any(caption.value.startswith("Expected course: on track.") for caption in app.caption)
    listed = " ".join(element.value for element in app.markdown)
    assert "Life events" in listed and r"\<b\>x\</b\>" in listed


def test_the_supervisors_table_hides_counts_that_subtract_to_a_few_clients():
    counts = pd.DataFrame(
        {
            "therapist_id": [1, 2, 3, 4],
            "therapist": ["A", "B", "C", "D"],
            "judged": [20, 9, 12, 30],
            "not_on_track": [6, 6, 2, 8],  # B: 6 of 9 leaves 3 on track, a small cell
            "with_checklist": [6, 0, 0, 5],  # D: 5 of 8 leaves 3 without a checklist
        }
    )
    table = track_table(counts).set_index("Therapist")
    assert table.loc["A", "Not on track"] == "6" and table.loc["A", "Share not on track"] == "30%"
    assert table.loc["B", "Not on track"] == "<5" and table.loc["B", "Share not on track"] == ""
    assert table.loc["C", "Not on track"] == "<5"
    assert table.loc["D", "Not on track"] == "8" and table.loc["D", "Not on track, checklist done"] == "<5"
    # Every cell under 5 reads "<5", and no shown pair of counts in a row differs by 1-4.
    for row in table.itertuples():
        assert row[1] == "<5" or int(row[1]) >= 5
