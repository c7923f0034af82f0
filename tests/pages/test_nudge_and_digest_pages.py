"""A therapist's nudge (the Client page's Reminders tab), weekly digest settings (the Caseload page) and
the admin's Outbox showing both kinds (issue #16), through the real app."""

from datetime import UTC, datetime, time

from data_layer import reminders
from tests.conftest import logged_in, open_page


def buttons(app, label):
    return [widget for widget in app.button if widget.label == label]


def nudges(cur):
    return cur.execute("SELECT recipient_id, status FROM outbox WHERE kind = 'nudge'").fetchall()


def open_client_page(app):
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_client.py")
    assert not app.exception


def test_the_nudge_button_queues_one_and_is_replaced_by_when_it_went(app, cur, world):
    reminders.set_reminders(cur, world.client_a, enabled=True, send_at=time(18, 0), days=[1, 2, 3, 4, 5, 6, 7])
    open_client_page(app)
    [nudge] = buttons(app, "Send a nudge")
    assert not nudge.disabled
    nudge.click().run()
    assert not app.exception
    assert nudges(cur) == [(world.client_a.user_id, "queued")]
    assert buttons(app, "Send a nudge") == []
    [message] = [success.value for success in app.success if "Nudged today at" in success.value]
    (queued_at,) = cur.execute("SELECT due_at FROM outbox WHERE kind = 'nudge'").fetchone()
    assert f"Nudged today at {queued_at:%H:%M} (UTC). One nudge per client per day (UTC)." == message
    # Listed beside the reminders.
    [table] = [frame.value for frame in app.dataframe if "last_error" in frame.value.columns]
    assert list(table["kind"]) == ["Nudge"] and list(table["status"]) == ["Queued"]


def test_a_second_click_the_same_day_stores_nothing_and_says_so(app, cur, world):
    reminders.set_reminders(cur, world.client_a, enabled=True, send_at=time(18, 0), days=[1, 2, 3, 4, 5, 6, 7])
    open_client_page(app)
    # Nudged from another tab meanwhile, so this page still shows the button.
    reminders.send_nudge(cur, world.therapist_a, client_id=world.client_a.user_id)
    buttons(app, "Send a nudge")[0].click().run()
    assert not app.exception
    assert len(nudges(cur)) == 1
    [info] = [info.value for info in app.info if "Already nudged today" in info.value]
    assert "this click sent nothing" in info


def test_a_click_after_the_client_turned_reminders_off_sends_nothing_and_says_why(app, cur, world):
    reminders.set_reminders(cur, world.client_a, enabled=True, send_at=time(18, 0), days=[1, 2, 3, 4, 5, 6, 7])
    open_client_page(app)
    reminders.set_reminders(cur, world.client_a, enabled=False, send_at=time(18, 0), days=[1])
    buttons(app, "Send a nudge")[0].click().run()
    assert not app.exception
    assert nudges(cur) == []
    assert reminders.NUDGE_NEEDS_REMINDERS in [error.value for error in app.error]
    assert buttons(app, "Send a nudge")[0].disabled


def test_a_client_with_reminders_off_cannot_be_nudged_and_the_page_says_why(app, cur, world):
    open_client_page(app)
    [nudge] = buttons(app, "Send a nudge")
    assert nudge.disabled
    assert reminders.NUDGE_NEEDS_REMINDERS in [caption.value for caption in app.caption]
    assert nudges(cur) == []


def test_a_therapist_turns_the_weekly_digest_on_from_the_caseload_page(app, cur, world):
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_caseload.py")
    assert not app.exception
    assert "The weekly digest is off." in [caption.value for caption in app.caption]
    next(toggle for toggle in app.toggle if toggle.label == "Email me a weekly digest").set_value(True)
    next(box for box in app.selectbox if box.label == "Day").set_value(5)
    next(box for box in app.time_input if box.label == "Time of day (UTC, the clinic's time zone)").set_value(
        time(7, 30)
    )
    buttons(app, "Save digest settings")[0].click().run()
    assert not app.exception
    assert reminders.digest_settings(cur, world.therapist_a) == reminders.DigestSettings(True, 5, time(7, 30))
    assert any("The weekly digest is on: Fridays at 07:30 (UTC)." in success.value for success in app.success)
    assert cur.execute("SELECT detail FROM audit_log WHERE action = 'set_digest'").fetchall() == [("on",)]


def test_the_admin_outbox_names_nudges_and_digests(app, cur, world):
    now = datetime.now(UTC).replace(tzinfo=None)
    cur.execute(
        """INSERT INTO outbox (message_key, recipient_id, kind, due_at, status) VALUES
           (?, ?, 'nudge', ?, 'sent'), (?, ?, 'therapist_digest', ?, 'queued')""",
        ["nudge:x", world.client_a.user_id, now, "digest:x", world.therapist_a.user_id, now],
    )
    logged_in(app, "admin")
    open_page(app, "pages/admin_outbox.py")
    assert not app.exception
    assert sorted(app.dataframe[0].value["kind"]) == ["Nudge from a therapist", "Therapist's weekly digest"]
    next(box for box in app.selectbox if box.label == "Kind").set_value("therapist_digest").run()
    assert not app.exception
    [row] = app.dataframe[0].value.itertuples()
    assert (row.kind, row.recipient) == ("Therapist's weekly digest", "Tom Therapist")
