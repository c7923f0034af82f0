"""ui/client_checklist.py on its own (the client page does not draw it yet: the lead wires it in
under the timeline): the alert and the form, a field's message under it with what was typed kept,
the confirmation, and earlier checklists shown as typed."""

import pytest
from streamlit.testing.v1 import AppTest

from data_layer import checklists
from ui.widgets import escape_markdown

ALERT = "PHQ-9 14 at week 5 is above the expected 11 (upper bound 13.0) for an intake of 18"


def checklist_section(client_id, therapist_id, alert):
    """The section alone, as the therapist's client page would draw it (with its flash message)."""
    from types import SimpleNamespace

    from data_layer.core.access import Principal
    from ui.client_checklist import show_support_checklist
    from ui.db import cursor
    from ui.widgets import show_flash

    show_flash()
    principal = Principal(user_id=therapist_id, role="therapist", display_name="Tom Therapist")
    show_support_checklist(cursor(), principal, SimpleNamespace(client_id=client_id, header={}), alert)


@pytest.fixture
def section(tmp_path, monkeypatch, world):
    monkeypatch.setenv("HOMEWORK_DB", str(tmp_path / "test.duckdb"))

    def run(alert):
        arguments = (world.client_a.user_id, world.therapist_a.user_id, alert)
        return AppTest.from_function(checklist_section, args=arguments, default_timeout=30).run()

    return run


def field(widgets, label):
    [widget] = [widget for widget in widgets if widget.label == label]
    return widget


def stored(cur):
    return cur.execute("SELECT reviewed, changes FROM support_checklists ORDER BY id").fetchall()


def test_nothing_is_drawn_without_an_alert_or_a_checklist(section):
    app = section(None)
    assert not app.exception
    assert not app.header and not app.checkbox and not app.warning


def test_the_alert_and_the_form_a_message_under_the_field_then_the_save(section, cur):
    app = section(ALERT)
    assert not app.exception
    assert [header.value for header in app.header] == ["Clinical support checklist"]
    assert app.warning[0].value == escape_markdown(ALERT), "the reason is shown as worded"
    assert [box.label for box in app.checkbox][0] == "Therapeutic alliance"
    field(app.text_area, "What did you change?").input("Smaller *homework*")
    field(app.button, "Save checklist").click().run()
    assert [error.value for error in app.error] == ["Tick at least one thing you reviewed."]
    assert field(app.text_area, "What did you change?").value == "Smaller *homework*", "what was typed is kept"
    assert stored(cur) == []

    field(app.checkbox, "Homework fit and difficulty").check()
    field(app.checkbox, "Therapeutic alliance").check()
    field(app.button, "Save checklist").click().run()
    assert not app.exception and not app.error
    assert stored(cur) == [(["alliance", "homework_fit"], "Smaller *homework*")]
    assert "Clinical support checklist saved: 2 items reviewed." in [message.value for message in app.success]
    assert field(app.text_area, "What did you change?").value == "", "the form is empty again"
    assert not any(box.value for box in app.checkbox)
    listed = " ".join(element.value for element in app.markdown)
    assert "Therapeutic alliance, Homework fit and difficulty" in listed
    assert r"Smaller \*homework\*" in listed, "the therapist's text is shown as typed, not as Markdown"


def test_earlier_checklists_are_listed_without_the_form_once_the_alert_is_gone(section, cur, world):
    checklists.record_support_checklist(
        cur, world.therapist_a, client_id=world.client_a.user_id, reviewed=["life_events"], changes="<b>x</b>"
    )
    app = section(None)
    assert not app.exception
    assert not app.checkbox and not app.warning
    assert [header.value for header in app.header] == ["Clinical support checklist"]
    listed = " ".join(element.value for element in app.markdown)
    assert "Life events" in listed and r"\<b\>x\</b\>" in listed
