"""The client's forms never lose what was typed (issue #12, items 4 and 5): two entries with
identical content can each be changed, an empty note reads as empty (never "nan"), and bad
input gets the server's message next to the field with the text kept (no widget limit that
swallows input silently)."""

from datetime import date

from data_layer import mood
from tests.conftest import logged_in, open_page


def mood_entries(cur, client):
    return cur.execute(
        "SELECT id, mood, note FROM mood_logs WHERE client_id = ? ORDER BY id", [client.user_id]
    ).fetchall()


def test_the_second_of_two_identical_entries_is_the_one_changed(app, cur, world):
    for _ in range(2):
        mood.log_mood(cur, world.client_a, log_date=date.today(), mood=7)
    (first, _, _), (second, _, _) = mood_entries(cur, world.client_a)
    logged_in(app, "client_a")
    open_page(app, "pages/client_entries.py")
    # client_a has no homework logs: the only entry chooser and note field are the mood tab's.
    [choice] = [box for box in app.selectbox if box.label == "Change an entry"]
    assert len(set(choice.options)) == 2, choice.options  # two labels a client can tell apart
    choice.set_value(second).run()
    assert not app.exception
    [note] = [area for area in app.text_area if area.label == "Note"]
    assert note.value == ""  # an empty note is empty, not "nan"
    note.input("Second one, changed")
    [button for button in app.button if button.label == "Save changes"][0].click().run()
    assert not app.exception
    assert mood_entries(cur, world.client_a) == [(first, 7, None), (second, 7, "Second one, changed")]
    assert any("Your change is saved" in message.value for message in app.success)


def homework_logs(cur):
    return cur.execute(
        "SELECT count(*) FROM homework_logs WHERE client_id = (SELECT id FROM users WHERE username = 'client_a')"
    ).fetchone()[0]


def save(app, label):
    next(button for button in app.button if button.label == label).click().run()


def test_minutes_out_of_range_get_a_message_by_the_field_and_nothing_is_saved(app, cur):
    logged_in(app, "client_a")
    app.segmented_control[0].set_value("done")
    for minutes in (-5, 700):
        next(box for box in app.number_input if box.label == "Minutes spent").set_value(minutes)
        save(app, "Save")
        assert not app.exception
        assert any("Minutes" in error.value and "600" in error.value for error in app.error), minutes
        assert next(box for box in app.number_input if box.label == "Minutes spent").value == minutes
    assert homework_logs(cur) == 0


def test_a_long_pasted_note_is_kept_and_the_message_says_how_much_to_cut(app, cur):
    logged_in(app, "client_a")
    app.segmented_control[0].set_value("done")
    pasted = "x" * 2500
    app.text_area[0].input(pasted)
    save(app, "Save")
    assert "Keep the note to 2,000 characters (it has 2,500)." in [error.value for error in app.error]
    assert app.text_area[0].value == pasted
    assert homework_logs(cur) == 0
