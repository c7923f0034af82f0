"""My entries: an edit is never silently lost (issue #12, item 4): two entries with identical
content can each be changed, and an empty note reads as empty, never "nan"."""
from datetime import date

from data_layer import mood
from tests.conftest import logged_in, open_page


def mood_entries(cur, client):
    return cur.execute("SELECT id, mood, note FROM mood_logs WHERE client_id = ? ORDER BY id",
                       [client.user_id]).fetchall()


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
