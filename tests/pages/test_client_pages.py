"""The client's pages through AppTest: logging, questionnaires with the crisis text, entries,
once-off homework done early, and their 4-week compliance."""

from datetime import date, timedelta

from data_layer import homework, measures, mood
from tests.conftest import logged_in, open_page
from tests.data_layer.test_recent_compliance import (
    CLIENT_A_LAST_4_WEEKS,
    give_client_a_a_recent_history,
    insert_assignment,
    insert_log,
)
from ui.navigation import PAGES

# The links to the client's own pages at the top of each page (ui/navigation.page_links).
PAGE_TITLES = {title for _, title, _ in PAGES["client"]}
CLIENT_PAGES = [
    "pages/client_today.py",
    "pages/client_questionnaires.py",
    "pages/client_progress.py",
    "pages/client_entries.py",
    "pages/client_reminders.py",
]


def button(app, label):
    return next(widget for widget in app.button if widget.label == label)


def test_every_client_page_renders(app):
    logged_in(app, "client_a")
    for page in CLIENT_PAGES:
        open_page(app, page)
        assert not app.exception, page


def test_client_logs_homework_and_mood_from_today(app, cur, world):
    logged_in(app, "client_a")
    app.segmented_control[0].set_value("done")
    button(app, "Save").click().run()
    assert not app.exception
    assert any("Saved: Thought record (done)" in message.value for message in app.success)
    assert "1 of 3 this week" in [bar.proto.text for bar in app.get("progress")]
    app.select_slider[0].set_value(7)
    button(app, "Save mood").click().run()
    assert any("Mood saved: 7 out of 10" in message.value for message in app.success)
    since = date.today()
    assert len(homework.list_homework_logs(cur, world.client_a, client_id=world.client_a.user_id, since=since)) == 1
    assert list(mood.list_mood_logs(cur, world.client_a, client_id=world.client_a.user_id, since=since)["mood"]) == [7]


def test_a_log_without_a_status_is_explained_and_nothing_is_saved(app, cur):
    logged_in(app, "client_a")
    app.text_area[0].input("keep this text")
    button(app, "Save").click().run()
    assert "Choose done, partly done or not done." in [error.value for error in app.error]
    assert app.text_area[0].value == "keep this text"
    assert cur.execute(
        "SELECT count(*) FROM homework_logs WHERE client_id = (SELECT id FROM users WHERE username = 'client_a')"
    ).fetchone() == (0,)


def test_phq9_with_item_9_shows_crisis_resources_and_flags_the_therapist(app, cur, world):
    logged_in(app, "client_a")
    open_page(app, "pages/client_questionnaires.py")
    phq_radios = app.radio[:9]
    for radio in phq_radios[:8]:
        radio.set_value(0)
    phq_radios[8].set_value(1)
    button(app, "Submit PHQ-9").click().run()
    assert not app.exception
    assert any("Samaritans" in error.value for error in app.error)
    assert any("Your PHQ-9 total is 1: minimal" in message.value for message in app.success)
    assert cur.execute(
        "SELECT client_id, therapist_id FROM risk_flags WHERE client_id = ?", [world.client_a.user_id]
    ).fetchall() == [(world.client_a.user_id, world.therapist_a.user_id)]


def test_a_questionnaire_with_missing_answers_marks_them_and_keeps_the_others(app, cur):
    logged_in(app, "client_a")
    open_page(app, "pages/client_questionnaires.py")
    gad_radios = app.radio[10:17]
    for radio in gad_radios[:5]:
        radio.set_value(2)
    button(app, "Submit GAD-7").click().run()
    errors = [error.value for error in app.error]
    assert errors.count("Please answer this question.") == 2
    assert [radio.value for radio in app.radio[10:15]] == [2] * 5
    assert cur.execute("SELECT count(*) FROM questionnaires").fetchone() == (1,)  # only team b's


def test_another_client_sees_none_of_these_entries(app, cur, world):
    homework.log_homework(
        cur,
        world.client_a,
        assignment_id=world.assignment_a,
        log_date=date.today(),
        status="done",
        note="private note of A",
    )
    logged_in(app, "client_b")
    open_page(app, "pages/client_entries.py")
    assert not app.exception
    shown = " ".join(markdown.value for markdown in app.markdown)
    assert "Bee note" in shown
    assert "private note of A" not in shown
    assert "Thought record" not in shown


def test_today_says_when_questionnaires_are_due(app, cur, world):
    logged_in(app, "client_a")
    assert [link.label for link in app.get("page_link") if link.label not in PAGE_TITLES] == [
        "PHQ-9 and GAD-7 are due: it takes a few minutes"
    ]
    measures.submit_questionnaire(cur, world.client_a, instrument="GAD-7", answers=[0] * 7)
    app.run()
    assert [link.label for link in app.get("page_link") if link.label not in PAGE_TITLES] == [
        "PHQ-9 is due: it takes a few minutes"
    ]


def test_progress_shows_the_same_4_weeks_as_the_therapist_sees(app, cur, world):
    give_client_a_a_recent_history(cur, world)
    logged_in(app, "client_a")
    open_page(app, "pages/client_progress.py")
    assert not app.exception
    shown = [metric.value for metric in app.metric if metric.label == "Homework, last 4 weeks"]
    assert shown == [f"{CLIENT_A_LAST_4_WEEKS:.0%}"] == ["35%"]


def test_a_once_off_done_last_week_is_done_this_week(app, cur, world):
    this_monday = date.today() - timedelta(days=date.today().weekday())
    reading = insert_assignment(
        cur, world.client_a, world.therapist_a, "Read the leaflet", this_monday - timedelta(days=5), due_on=date.today()
    )
    insert_log(cur, world.client_a, reading, this_monday - timedelta(days=3))  # last Friday
    logged_in(app, "client_a")
    assert not app.exception
    assert [bar.proto.text for bar in app.get("progress")] == ["0 of 3 this week", "Done"]


def test_a_save_is_confirmed_in_the_forms_place_with_a_toast_until_the_client_goes_on(app):
    logged_in(app, "client_a")
    assert {"0 very low", "10 very good"} <= {caption.value for caption in app.caption}, "the mood scale, in words"
    button(app, "Save mood").click().run()
    assert not app.exception
    assert [message.value for message in app.success] == ["Mood saved: 5 out of 10. Thank you for checking in."]
    assert [toast.value for toast in app.toast] == ["Mood saved: 5 out of 10. Thank you for checking in."]
    assert "Save mood" not in [widget.label for widget in app.button], "the confirmation stands in its place"
    app.run()  # a rerun (a cookie reply) keeps it, without a second toast
    assert len(app.success) == 1 and not app.toast
    button(app, "Check in again").click().run()
    assert not app.success
    assert "Save mood" in [widget.label for widget in app.button]


def shown_in_order(app):
    """The texts of the main area's elements that show text, top to bottom."""
    return [node.value for node in app.main if isinstance(getattr(node, "value", None), str) and node.value]


def test_a_questionnaires_result_page_puts_the_crisis_resources_first(app):
    logged_in(app, "client_a")
    open_page(app, "pages/client_questionnaires.py")
    for radio in app.radio[:8]:
        radio.set_value(0)
    app.radio[8].set_value(2)
    button(app, "Submit PHQ-9").click().run()
    assert not app.exception
    assert "Samaritans" in shown_in_order(app)[0], "before anything else"
    assert not app.radio, "the result alone: no form below to scroll past"
    assert [toast.value for toast in app.toast] == ["Your PHQ-9 is saved."]
    app.run()
    assert "Samaritans" in shown_in_order(app)[0], "it stays until the client moves on"
    button(app, "Back to the questionnaires").click().run()
    assert not app.error and len(app.radio) > 9


def test_an_edited_entry_is_confirmed_in_the_edit_forms_place(app, cur, world):
    homework.log_homework(cur, world.client_a, assignment_id=world.assignment_a, log_date=date.today(), status="partly")
    logged_in(app, "client_a")
    open_page(app, "pages/client_entries.py")
    app.segmented_control[0].set_value("done")
    button(app, "Save changes").click().run()
    assert not app.exception
    assert [message.value for message in app.success] == ["Your change is saved: Today, Thought record."]
    assert "Change an entry" not in [box.label for box in app.selectbox]
    button(app, "Change another entry").click().run()
    assert "Change an entry" in [box.label for box in app.selectbox]


def test_every_client_page_starts_with_one_tap_links_to_the_others(app):
    logged_in(app, "client_a")
    for page in CLIENT_PAGES:
        open_page(app, page)
        assert not app.exception
        assert [link.label for link in app.get("page_link")][:5] == [
            "Today",
            "Questionnaires",
            "My progress",
            "My entries",
            "Reminders",
        ], page
