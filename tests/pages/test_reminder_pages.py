"""The views of reminders (issue #16): the client's Reminders page, the therapist's Reminders tab on
the Client page, and the admin's Outbox, through the real app."""

from datetime import date, time

import pytest

from data_layer import reminders
from data_layer.core.access import AccessDenied
from tests.conftest import logged_in, open_page


def button(app, label):
    return next(widget for widget in app.button if widget.label == label)


def queue(cur, client, day, status="queued", last_error=None):
    cur.execute(
        """INSERT INTO outbox (message_key, recipient_id, kind, due_at, status, last_error)
           VALUES (?, ?, 'client_reminder', CAST(? AS DATE) + TIME '18:00', ?, ?)""",
        [f"reminder:{client.user_id}:{day}", client.user_id, day, status, last_error],
    )


def open_reminders(app):
    logged_in(app, "client_a")
    open_page(app, "pages/client_reminders.py")
    assert not app.exception


def test_a_client_turns_reminders_on_then_off_and_it_is_stored(app, cur, world):
    cur.execute("UPDATE users SET email = 'alice@example.org' WHERE id = ?", [world.client_a.user_id])
    open_reminders(app)
    assert any("alice@example\\.org" in text.value for text in app.markdown)  # shown escaped, as typed
    assert app.toggle[0].value is False  # off by default
    assert app.selectbox[0].value is None  # the clinic's time zone
    assert app.selectbox[0].format_func(None) == "The clinic's time zone (UTC)"
    app.toggle[0].set_value(True)
    app.time_input[0].set_value(time(7, 30))
    app.pills[0].set_value([1, 3, 5])
    button(app, "Save").click().run()
    assert not app.exception
    assert reminders.reminder_settings(cur, world.client_a) == reminders.ReminderSettings(True, time(7, 30), (1, 3, 5))
    [confirmation] = [message.value for message in app.success]
    assert "Reminders are on: Mon, Wed, Fri at 07:30 (UTC)" in confirmation
    assert "Save" not in [widget.label for widget in app.button]  # the confirmation stands in the form's place
    button(app, "Change reminders").click().run()
    assert app.toggle[0].value is True and app.pills[0].value == [1, 3, 5]
    app.toggle[0].set_value(False)
    button(app, "Save").click().run()
    assert not app.exception
    assert reminders.reminder_settings(cur, world.client_a).enabled is False
    assert any("Reminders are off." in message.value for message in app.success)


def test_no_day_chosen_is_explained_by_the_field_and_nothing_is_stored(app, cur, world):
    open_reminders(app)
    app.toggle[0].set_value(True)
    app.time_input[0].set_value(time(20, 15))
    app.pills[0].set_value([])
    button(app, "Save").click().run()
    assert not app.exception
    assert [error.value for error in app.error] == ["Choose at least one day."]
    assert app.time_input[0].value == time(20, 15)  # what was chosen is kept
    assert app.toggle[0].value is True
    assert cur.execute("SELECT count(*) FROM reminder_preferences").fetchone() == (0,)


def zone_field(app):
    return next(box for box in app.selectbox if box.label == "Time zone")


def test_a_client_chooses_their_time_zone_and_the_therapist_reads_it(app, cur, world, monkeypatch):
    monkeypatch.setenv("HOMEWORK_TIMEZONE", "Europe/Paris")
    open_reminders(app)
    assert zone_field(app).format_func(zone_field(app).value) == "The clinic's time zone (Europe/Paris)"
    assert any("at the time you choose in your time zone" in caption.value for caption in app.caption)
    app.toggle[0].set_value(True)
    app.time_input[0].set_value(time(7, 30))
    zone_field(app).set_value("America/New_York")
    button(app, "Save").click().run()
    assert not app.exception
    assert reminders.reminder_settings(cur, world.client_a).time_zone == "America/New_York"
    [confirmation] = [message.value for message in app.success]
    assert "at 07:30 (America/New_York)" in confirmation
    button(app, "Change reminders").click().run()
    assert zone_field(app).value == "America/New_York"
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_client.py")
    assert not app.exception
    assert "Reminders on: Mon, Tue, Wed, Thu, Fri, Sat, Sun at 07:30 (America/New_York)." in [
        info.value for info in app.info
    ]


def test_a_stored_zone_no_longer_known_is_shown_and_refused_at_its_field(app, cur, world):
    # As if a tzdata update had withdrawn the name the client once chose.
    reminders.set_reminders(cur, world.client_a, enabled=True, send_at=time(9), days=[1], time_zone="Europe/Oslo")
    cur.execute("UPDATE reminder_preferences SET time_zone = 'Mars/Olympus_Mons'")
    open_reminders(app)
    assert zone_field(app).value == "Mars/Olympus_Mons"
    app.time_input[0].set_value(time(10, 15))
    button(app, "Save").click().run()
    assert not app.exception
    assert [error.value for error in app.error] == ["Choose a time zone from the list, e.g. Europe/London."]
    assert zone_field(app).value == "Mars/Olympus_Mons" and app.time_input[0].value == time(10, 15)  # kept
    assert cur.execute("SELECT send_at, time_zone FROM reminder_preferences").fetchall() == [
        (time(9), "Mars/Olympus_Mons")
    ]
    zone_field(app).set_value("Europe/Oslo")
    button(app, "Save").click().run()
    assert reminders.reminder_settings(cur, world.client_a).time_zone == "Europe/Oslo"


def test_a_client_without_an_email_address_is_told_and_can_still_save(app, cur, world):
    open_reminders(app)
    assert "Your account has no email address: ask your clinic to add one." in [w.value for w in app.warning]
    app.toggle[0].set_value(True)
    button(app, "Save").click().run()
    assert not app.exception
    assert reminders.reminder_settings(cur, world.client_a).enabled is True


def test_the_therapist_sees_the_clients_reminders_and_another_therapist_cannot(app, cur, world):
    reminders.set_reminders(cur, world.client_a, enabled=True, send_at=time(18, 0), days=[2, 4])
    queue(cur, world.client_a, date.today(), status="not_sent", last_error="no mail server configured")
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_client.py")
    assert not app.exception
    assert "Reminders on: Tue, Thu at 18:00 (the clinic's time zone, UTC)." in [info.value for info in app.info]
    tables = [frame.value for frame in app.dataframe if "last_error" in frame.value.columns]
    assert len(tables) == 1 and list(tables[0]["last_error"]) == ["no mail server configured"]
    assert (
        cur.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'view_client_record' AND actor_id = ? AND client_id = ?",
            [world.therapist_a.user_id, world.client_a.user_id],
        ).fetchone()[0]
        >= 1
    )
    with pytest.raises(AccessDenied):
        reminders.list_client_reminders(cur, world.therapist_b, client_id=world.client_a.user_id)


def test_the_admin_sees_the_outbox_and_the_status_filter_narrows_it(app, cur, world):
    queue(cur, world.client_a, date.today(), status="not_sent", last_error="no mail server configured")
    queue(cur, world.client_b, date.today(), status="sent")
    logged_in(app, "admin")
    open_page(app, "pages/admin_outbox.py")
    assert not app.exception
    assert any("No message body is stored" in caption.value for caption in app.caption)
    assert len(app.dataframe[0].value) == 2
    next(box for box in app.selectbox if box.label == "Status").set_value("not_sent").run()
    assert not app.exception
    [row] = app.dataframe[0].value.itertuples()
    assert (
        row.recipient == "Alice Client" and row.delivery == "Not sent" and row.last_error == "no mail server configured"
    )
