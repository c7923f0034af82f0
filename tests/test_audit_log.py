"""The admin's audit-log viewer: admin only, clients as pseudonyms, filters, read-only page,
and no clinical content in the log."""
import csv
import io
import re
from datetime import date, datetime, timedelta

import pytest

from data_layer import audit_log, cohort, homework, measures, mood
from data_layer.access import AccessDenied
from tests.conftest import logged_in, open_page
from ui.exports import csv_bytes

COLUMNS = ["occurred_at", "username", "role", "action", "outcome", "record_kind", "record_id", "client", "detail"]
NAMES = ["Ada Admin", "Alice Client", "Tom Therapist", "Sue Supervisor", "Foreign Client Bee",
         "Foreign Therapist Bee", "Foreign Supervisor Bee"]


def supervisor_pseudonym(cur, world):
    episodes = cohort.episode_summaries(cur, world.supervisor_a, window_start=date.today() - timedelta(days=60),
                                        window_end=date.today())
    (label,) = episodes["client"]
    return label


@pytest.mark.parametrize("role", ["client_a", "therapist_a", "supervisor_a"])
def test_only_the_admin_may_read_the_audit_log_and_refusals_are_audited(cur, world, role):
    principal = getattr(world, role)
    for function in (audit_log.list_audit_events, audit_log.list_audit_actions):
        with pytest.raises(AccessDenied):
            function(cur, principal)
    denied = cur.execute("SELECT action FROM audit_log WHERE actor_id = ? AND outcome = 'denied' ORDER BY id",
                         [principal.user_id]).fetchall()
    assert denied == [("list_audit_events",), ("list_audit_actions",)]


def test_events_say_who_did_what_to_which_pseudonym_newest_first(cur, world):
    homework.log_homework(cur, world.client_a, assignment_id=world.assignment_a, log_date=date.today(),
                          status="done")
    homework.list_homework_logs(cur, world.therapist_a, client_id=world.client_a.user_id, since=date.today())
    events = audit_log.list_audit_events(cur, world.admin)
    assert list(events.columns) == COLUMNS
    assert list(events["occurred_at"]) == sorted(events["occurred_at"], reverse=True)
    newest = events.iloc[0]
    assert (newest["username"], newest["role"], newest["action"], newest["outcome"]) == (
        "therapist_a", "therapist", "view_homework_logs", "ok")
    logged = events[events["action"] == "log_homework"].iloc[0]
    assert (logged["username"], logged["role"], logged["record_kind"]) == ("client_a", "client", "homework_log")
    assert logged["record_id"] == cur.execute("SELECT max(id) FROM homework_logs WHERE client_id = ?",
                                              [world.client_a.user_id]).fetchone()[0]
    # The client is the same pseudonym the supervisor sees, never a name.
    pseudonym = supervisor_pseudonym(cur, world)
    assert re.fullmatch(r"C-[0-9A-F]{8}", pseudonym)
    assert set(events.loc[events["client"].notna(), "client"]) == {pseudonym}
    shown = events.to_csv()
    assert not [name for name in NAMES if name in shown]


def test_viewing_the_log_is_itself_audited(cur, world):
    audit_log.list_audit_events(cur, world.admin, actor="client_a")
    newest = audit_log.list_audit_events(cur, world.admin, action="view_audit_log")
    assert newest.iloc[-1]["username"] == "admin"
    assert "actor=client_a" in newest.iloc[-1]["detail"]


def test_filters_by_user_client_action_and_date(cur, world):
    homework.log_homework(cur, world.client_a, assignment_id=world.assignment_a, log_date=date.today(),
                          status="done")
    mood.log_mood(cur, world.client_b, log_date=date.today(), mood=6)
    cur.execute("""INSERT INTO audit_log (occurred_at, actor_id, actor_role, action, client_id, outcome)
                   VALUES (?, ?, 'client', 'log_mood', ?, 'ok')""",
                [datetime.now() - timedelta(days=40), world.client_a.user_id, world.client_a.user_id])
    pseudonym = supervisor_pseudonym(cur, world)

    by_user = audit_log.list_audit_events(cur, world.admin, actor="  CLIENT_A ")
    assert set(by_user["username"]) == {"client_a"}
    by_client = audit_log.list_audit_events(cur, world.admin, client_pseudonym=pseudonym)
    assert set(by_client["client"]) == {pseudonym} and len(by_client) == 2
    for spelling in (pseudonym.lower(), pseudonym[2:], f" {pseudonym} "):
        assert len(audit_log.list_audit_events(cur, world.admin, client_pseudonym=spelling)) == 2
    by_action = audit_log.list_audit_events(cur, world.admin, action="log_mood")
    assert set(by_action["username"]) == {"client_a", "client_b"}
    recent = audit_log.list_audit_events(cur, world.admin, action="log_mood",
                                         date_from=date.today() - timedelta(days=7))
    assert list(recent["username"]) == ["client_b"]
    old = audit_log.list_audit_events(cur, world.admin, date_to=date.today() - timedelta(days=39))
    assert list(old["action"]) == ["log_mood"]
    assert len(audit_log.list_audit_events(cur, world.admin, limit=1)) == 1
    assert "log_mood" in audit_log.list_audit_actions(cur, world.admin)


@pytest.mark.parametrize("hostile", ["' OR 1=1--", "%", "%_%", "client_a' --", "C-' OR 'x'='x"])
def test_filter_text_is_data_not_sql(cur, world, hostile):
    homework.log_homework(cur, world.client_a, assignment_id=world.assignment_a, log_date=date.today(),
                          status="done")
    for filters in ({"actor": hostile}, {"client_pseudonym": hostile}, {"action": hostile}):
        assert audit_log.list_audit_events(cur, world.admin, **filters).empty, filters


def test_bad_filters_are_refused(cur, world):
    with pytest.raises(ValueError, match="before its start"):
        audit_log.list_audit_events(cur, world.admin, date_from=date.today(), date_to=date.today() - timedelta(days=1))
    for limit in (0, 10_001, "10; DROP TABLE users"):
        with pytest.raises(ValueError):
            audit_log.list_audit_events(cur, world.admin, limit=limit)


def test_the_admin_page_filters_shows_pseudonyms_and_offers_no_edit(app, cur, world):
    homework.log_homework(cur, world.client_a, assignment_id=world.assignment_a, log_date=date.today(),
                          status="done")
    logged_in(app, "admin")
    open_page(app, "pages/admin_audit.py")
    assert not app.exception
    assert [title.value for title in app.title] == ["Audit log"]
    table = app.dataframe[0].value
    assert "log_homework" in set(table["action"])
    assert supervisor_pseudonym(cur, world) in set(table["client"])
    assert not [name for name in NAMES if name in table.to_csv()]
    # Read-only: no editable table, and the only button is the CSV download.
    assert not app.get("data_editor")
    assert [button.label for button in app.main.button] == []
    assert [button.proto.label for button in app.get("download_button")] == ["Download these events (CSV)"]

    next(field for field in app.text_input if field.label == "User").input("client_a").run()
    assert set(app.dataframe[0].value["username"]) == {"client_a"}
    next(box for box in app.selectbox if box.label == "Action").set_value("log_homework").run()
    assert list(app.dataframe[0].value["action"]) == ["log_homework"]


def test_the_csv_download_holds_the_same_events(cur, world):
    homework.log_homework(cur, world.client_a, assignment_id=world.assignment_a, log_date=date.today(),
                          status="done")
    events = audit_log.list_audit_events(cur, world.admin)
    rows = list(csv.DictReader(io.StringIO(csv_bytes(events).decode("utf-8-sig"))))
    assert [row["action"] for row in rows] == list(events["action"])
    assert list(rows[0]) == COLUMNS


def button(app, label):
    return next(widget for widget in app.button if widget.label == label)


def test_the_log_holds_no_clinical_content_after_a_client_logs_everything(app, cur, world):
    homework_note = "Felt the panic rise at the bus stop, stayed 10 minutes"
    mood_note = "Argued with my sister, could not sleep"
    ack_note = "Phoned the client, safety plan reviewed"
    logged_in(app, "client_a")
    app.segmented_control[0].set_value("done")
    next(area for area in app.text_area if area.label == "Note").input(homework_note)
    button(app, "Save").click().run()
    assert any("Saved: Thought record" in message.value for message in app.success)
    app.select_slider[0].set_value(9)
    next(area for area in app.text_area if area.label == "Note (optional)").input(mood_note)
    button(app, "Save mood").click().run()
    assert any("Mood saved: 9 out of 10" in message.value for message in app.success)
    open_page(app, "pages/client_questionnaires.py")
    for radio, answer in zip(app.radio[:9], [3, 3, 3, 3, 3, 2, 2, 2, 2]):
        radio.set_value(answer)
    button(app, "Submit PHQ-9").click().run()
    assert any("Your PHQ-9 total is 23" in message.value for message in app.success)
    for radio, answer in zip(app.radio[10:17], [3, 3, 3, 3, 3, 2, 2]):
        radio.set_value(answer)
    button(app, "Submit GAD-7").click().run()
    assert any("Your GAD-7 total is 19" in message.value for message in app.success)
    # The therapist reads everything and acknowledges the risk flag with a note.
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_client.py")
    next(area for area in app.text_area if area.label == "Follow-up note").input(ack_note)
    button(app, "Acknowledge").click().run()
    assert "Risk flag acknowledged." in [message.value for message in app.success]

    actions = {action for (action,) in cur.execute("SELECT action FROM audit_log").fetchall()}
    assert {"log_homework", "log_mood", "submit_questionnaire", "raise_risk_flag", "acknowledge_risk_flag",
            "view_client_record", "view_homework_logs"} <= actions
    rows = cur.execute("SELECT * FROM audit_log").df()
    text = rows.astype(str).to_csv()
    for secret in (homework_note, mood_note, ack_note, "panic", "sister", "safety plan"):
        assert secret not in text
    details = " ".join(rows["detail"].dropna())
    for score in ("23", "19", "PHQ", "GAD", "mood 9", "item"):
        assert not re.search(rf"\b{score}\b", details), score
    # The viewer shows the same events without any of it either.
    viewer = audit_log.list_audit_events(cur, world.admin).astype(str).to_csv()
    assert not [secret for secret in (homework_note, mood_note, ack_note, "Alice Client") if secret in viewer]
    # Sanity: the notes were stored where they belong.
    assert measures.list_risk_flags(cur, world.therapist_a, client_id=world.client_a.user_id)["note"].tolist() == [
        ack_note]
