"""The break form is one (ui/breaks.py), drawn for a client's own homework and for a therapist's
client: each keeps its texts, shows a field's message under it with what was typed kept, and
confirms a save where that page confirms (the client: in the form's place; the therapist: on top)."""

from datetime import date, timedelta

import pytest

from tests.conftest import logged_in, open_page


def breaks_of(cur, client):
    return cur.execute(
        "SELECT starts_on, ends_on, reason, created_by FROM paused_periods WHERE client_id = ? ORDER BY id",
        [client.user_id],
    ).fetchall()


def field(widgets, label):
    [widget] = [widget for widget in widgets if widget.label == label]
    return widget


def add_break(app):
    field(app.button, "Add break").click().run()
    assert not app.exception


def test_a_client_adds_a_break_and_reads_the_confirmation_in_the_forms_place(app, cur, world):
    logged_in(app, "client_a")
    open_page(app, "pages/client_entries.py")
    before = breaks_of(cur, world.client_a)
    start = date.today() + timedelta(days=3)
    field(app.date_input, "From").set_value(start)
    field(app.date_input, "Until (inclusive)").set_value(start + timedelta(days=2))
    field(app.text_input, "Reason (optional)").input("Holiday")
    add_break(app)
    assert breaks_of(cur, world.client_a) == [
        *before,
        (start, start + timedelta(days=2), "Holiday", world.client_a.user_id),
    ]
    assert f"Break saved: {start:%d %b} to {start + timedelta(days=2):%d %b}." in [
        message.value for message in app.success
    ]
    assert not [button for button in app.button if button.label == "Add break"], "the confirmation stands instead"
    field(app.button, "Add another break").click().run()
    assert field(app.text_input, "Reason (optional)").value == ""


@pytest.mark.slow
def test_a_therapist_gets_the_message_under_the_field_then_adds_the_break(app, cur, world):
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_client.py")
    before = breaks_of(cur, world.client_a)
    start = date.today() + timedelta(days=3)
    field(app.date_input, "From").set_value(start)
    field(app.date_input, "Until (inclusive)").set_value(start - timedelta(days=1))
    field(app.text_input, "Reason").input("Hospital stay")
    add_break(app)
    assert any("on or after the start" in error.value for error in app.error)
    assert breaks_of(cur, world.client_a) == before
    assert field(app.text_input, "Reason").value == "Hospital stay", "what was typed is kept"
    field(app.date_input, "Until (inclusive)").set_value(start + timedelta(days=1))
    add_break(app)
    assert breaks_of(cur, world.client_a) == [
        *before,
        (start, start + timedelta(days=1), "Hospital stay", world.therapist_a.user_id),
    ]
    assert "Break added." in [message.value for message in app.success]
    assert field(app.text_input, "Reason").value == "", "a fresh form after the save"
