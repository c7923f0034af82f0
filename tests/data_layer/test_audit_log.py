"""The admin's audit-log viewer: admin only, clients as pseudonyms, filters, read-only page,
and no clinical content in the log."""

import csv
import io
import re
from datetime import date, datetime, timedelta

import pytest

from data_layer import audit_log, caseload, homework, measures, mood
from data_layer.core.access import AccessDenied, pseudonym_sql
from data_layer.reports import cohort
from tests.conftest import add_user, logged_in, open_page
from ui.exports import csv_bytes

COLUMNS = ["occurred_at", "username", "role", "action", "outcome", "record_kind", "record_id", "client", "detail"]
NAMES = [
    "Ada Admin",
    "Alice Client",
    "Tom Therapist",
    "Sue Supervisor",
    "Foreign Client Bee",
    "Foreign Therapist Bee",
    "Foreign Supervisor Bee",
]


def supervisor_pseudonym(cur, world):
    episodes = cohort.episode_summaries(
        cur, world.supervisor_a, window_start=date.today() - timedelta(days=60), window_end=date.today()
    )
    (label,) = episodes["client"]
    return label


@pytest.mark.parametrize("role", ["client_a", "therapist_a", "supervisor_a"])
def test_only_the_admin_may_read_the_audit_log_and_refusals_are_audited(cur, world, role):
    principal = getattr(world, role)
    for function in (audit_log.list_audit_events, audit_log.list_audit_actions):
        with pytest.raises(AccessDenied):
            function(cur, principal)
    denied = cur.execute(
        "SELECT action FROM audit_log WHERE actor_id = ? AND outcome = 'denied' ORDER BY id", [principal.user_id]
    ).fetchall()
    assert denied == [("list_audit_events",), ("list_audit_actions",)]


def test_events_say_who_did_what_to_which_pseudonym_newest_first(cur, world):
    homework.log_homework(cur, world.client_a, assignment_id=world.assignment_a, log_date=date.today(), status="done")
    homework.list_homework_logs(cur, world.therapist_a, client_id=world.client_a.user_id, since=date.today())
    events = audit_log.list_audit_events(cur, world.admin)
    assert list(events.columns) == COLUMNS
    assert list(events["occurred_at"]) == sorted(events["occurred_at"], reverse=True)
    newest = events.iloc[0]
    assert (newest["username"], newest["role"], newest["action"], newest["outcome"]) == (
        "therapist_a",
        "therapist",
        "view_homework_logs",
        "ok",
    )
    logged = events[events["action"] == "log_homework"].iloc[0]
    assert (logged["username"], logged["role"], logged["record_kind"]) == ("client_a", "client", "homework_log")
    # A client's own row carries no pseudonym, record id or detail (they could be matched with staff rows).
    assert logged[["record_id", "client", "detail"]].isna().all()
    # The therapist's read names the client by the pseudonym the supervisor sees, never by name.
    pseudonym = supervisor_pseudonym(cur, world)
    assert re.fullmatch(r"C-[0-9A-F]{8}", pseudonym)
    assert newest["client"] == pseudonym
    assert set(events.loc[events["client"].notna(), "client"]) == {pseudonym}
    shown = events.to_csv()
    assert not [name for name in NAMES if name in shown]


def test_viewing_the_log_is_itself_audited(cur, world):
    audit_log.list_audit_events(cur, world.admin, actor="client_a")
    newest = audit_log.list_audit_events(cur, world.admin, action="view_audit_log")
    assert newest.iloc[-1]["username"] == "admin"
    assert "actor=client_a" in newest.iloc[-1]["detail"]


def test_filters_by_user_client_action_and_date(cur, world):
    homework.log_homework(cur, world.client_a, assignment_id=world.assignment_a, log_date=date.today(), status="done")
    mood.log_mood(cur, world.client_b, log_date=date.today(), mood=6)
    cur.execute(
        """INSERT INTO audit_log (occurred_at, actor_id, actor_role, action, client_id, outcome)
                   VALUES (?, ?, 'client', 'log_mood', ?, 'ok')""",
        [datetime.now() - timedelta(days=40), world.client_a.user_id, world.client_a.user_id],
    )
    pseudonym = supervisor_pseudonym(cur, world)

    by_user = audit_log.list_audit_events(cur, world.admin, actor="  CLIENT_A ")
    assert set(by_user["username"]) == {"client_a"}
    homework.list_homework_logs(cur, world.therapist_a, client_id=world.client_a.user_id, since=date.today())
    mood.list_mood_logs(cur, world.therapist_a, client_id=world.client_a.user_id, since=date.today())
    by_client = audit_log.list_audit_events(cur, world.admin, client_pseudonym=pseudonym)
    assert set(by_client["client"]) == {pseudonym} and set(by_client["username"]) == {"therapist_a"}
    assert len(by_client) == 2
    for spelling in (pseudonym.lower(), pseudonym[2:], f" {pseudonym} "):
        assert len(audit_log.list_audit_events(cur, world.admin, client_pseudonym=spelling)) == 2
    by_action = audit_log.list_audit_events(cur, world.admin, action="log_mood")
    assert set(by_action["username"]) == {"client_a", "client_b"}
    recent = audit_log.list_audit_events(
        cur, world.admin, action="log_mood", date_from=date.today() - timedelta(days=7)
    )
    assert list(recent["username"]) == ["client_b"]
    old = audit_log.list_audit_events(cur, world.admin, date_to=date.today() - timedelta(days=39))
    assert list(old["action"]) == ["log_mood"]
    assert len(audit_log.list_audit_events(cur, world.admin, limit=1)) == 1
    assert "log_mood" in audit_log.list_audit_actions(cur, world.admin)


@pytest.mark.parametrize("hostile", ["' OR 1=1--", "%", "%_%", "client_a' --", "C-' OR 'x'='x"])
def test_filter_text_is_data_not_sql(cur, world, hostile):
    homework.log_homework(cur, world.client_a, assignment_id=world.assignment_a, log_date=date.today(), status="done")
    for filters in ({"actor": hostile}, {"client_pseudonym": hostile}, {"action": hostile}):
        assert audit_log.list_audit_events(cur, world.admin, **filters).empty, filters


def test_bad_filters_are_refused(cur, world):
    with pytest.raises(ValueError, match="before its start"):
        audit_log.list_audit_events(cur, world.admin, date_from=date.today(), date_to=date.today() - timedelta(days=1))
    for limit in (0, 10_001, "10; DROP TABLE users"):
        with pytest.raises(ValueError):
            audit_log.list_audit_events(cur, world.admin, limit=limit)


def test_the_admin_page_filters_shows_pseudonyms_and_offers_no_edit(app, cur, world):
    homework.log_homework(cur, world.client_a, assignment_id=world.assignment_a, log_date=date.today(), status="done")
    homework.list_homework_logs(cur, world.therapist_a, client_id=world.client_a.user_id, since=date.today())
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
    homework.log_homework(cur, world.client_a, assignment_id=world.assignment_a, log_date=date.today(), status="done")
    events = audit_log.list_audit_events(cur, world.admin)
    rows = list(csv.DictReader(io.StringIO(csv_bytes(events).decode("utf-8-sig"))))
    assert [row["action"] for row in rows] == list(events["action"])
    assert list(rows[0]) == COLUMNS


def button(app, label):
    return next(widget for widget in app.button if widget.label == label)


@pytest.mark.slow
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
    button(app, "Back to the questionnaires").click().run()  # the result stands alone until then
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
    assert {
        "log_homework",
        "log_mood",
        "submit_questionnaire",
        "raise_risk_flag",
        "acknowledge_risk_flag",
        "view_client_record",
    } <= actions
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
        ack_note
    ]


ORDINARY_PHQ9 = [1, 1, 1, 1, 1, 1, 1, 1, 0]
RISK_PHQ9 = [1, 1, 1, 1, 1, 1, 1, 1, 2]


def one_risk_and_one_ordinary_questionnaire(cur, world):
    """client_a answers PHQ-9 item 9 above 0, client_b does not; each therapist then does the
    same reads, therapist_a acknowledges the flag and therapist_b tries to (refused)."""
    assert measures.submit_questionnaire(cur, world.client_a, instrument="PHQ-9", answers=RISK_PHQ9).risk_flag_raised
    assert not measures.submit_questionnaire(
        cur, world.client_b, instrument="PHQ-9", answers=ORDINARY_PHQ9
    ).risk_flag_raised
    flags = {}
    for therapist, client in ((world.therapist_a, world.client_a), (world.therapist_b, world.client_b)):
        measures.list_questionnaires(cur, therapist, client_id=client.user_id)
        flags[client] = measures.list_risk_flags(cur, therapist, client_id=client.user_id)["risk_flag_id"]
    (flag_a,) = flags[world.client_a]
    measures.acknowledge_risk_flag(cur, world.therapist_a, risk_flag_id=int(flag_a), note="Phoned the client")
    with pytest.raises(AccessDenied):
        measures.acknowledge_risk_flag(cur, world.therapist_b, risk_flag_id=int(flag_a), note="Not mine")


def own_rows(events, username):
    rows = events[events["username"] == username].drop(columns=["occurred_at", "username"])
    return sorted(rows.astype(str).itertuples(index=False))


def test_the_admin_cannot_tell_a_risk_questionnaire_from_an_ordinary_one(cur, world):
    one_risk_and_one_ordinary_questionnaire(cur, world)
    # The compliance record itself stays complete.
    recorded = {action for (action,) in cur.execute("SELECT action FROM audit_log").fetchall()}
    assert {"raise_risk_flag", "acknowledge_risk_flag"} <= recorded

    events = audit_log.list_audit_events(cur, world.admin)
    shown = csv_bytes(events).decode("utf-8-sig").lower()
    # Reading a client's flags (none or some) is part of opening every record, so it says nothing.
    for fact in ("raise_risk_flag", "acknowledge_risk_flag", ",risk_flag,", "risk_flag ", "item"):
        assert fact not in shown, fact
    assert not [
        action
        for action in audit_log.list_audit_actions(cur, world.admin)
        if "risk" in action and action != "view_risk_flags"
    ]
    for action in ("raise_risk_flag", "acknowledge_risk_flag"):
        assert audit_log.list_audit_events(cur, world.admin, action=action).empty
    # Both clients' own rows, and both therapists' rows, read alike: nothing says whose item 9 was above 0.
    assert own_rows(events, "client_a") == own_rows(events, "client_b") != []
    therapist_rows = [
        [(row.action, row.outcome, row.record_kind) for row in events[events["username"] == therapist].itertuples()]
        for therapist in ("therapist_a", "therapist_b")
    ]
    assert sorted(therapist_rows[0]) == sorted(therapist_rows[1]) != []


def client_pseudonyms(cur):
    sql = f"SELECT u.username, {pseudonym_sql('u.id')} FROM users u WHERE u.role = 'client'"
    return dict(cur.execute(sql).fetchall())


def test_no_row_or_filter_pairs_a_username_with_a_pseudonym(cur, world):
    one_risk_and_one_ordinary_questionnaire(cur, world)
    homework.log_homework(cur, world.client_a, assignment_id=world.assignment_a, log_date=date.today(), status="done")
    mood.log_mood(cur, world.client_a, log_date=date.today(), mood=6)
    with pytest.raises(AccessDenied):  # refused: someone else's assignment, audited with its id
        homework.log_homework(
            cur, world.client_a, assignment_id=world.assignment_b, log_date=date.today(), status="done"
        )
    homework.list_homework_logs(cur, world.therapist_a, client_id=world.client_a.user_id, since=date.today())
    newcomer = add_user(cur, "client_new", "New Client", "client")
    caseload.link_client_to_therapist(
        cur, world.admin, client_id=newcomer.user_id, therapist_id=world.therapist_a.user_id
    )
    pseudonyms = client_pseudonyms(cur)
    everyone = audit_log.list_audit_events(cur, world.admin)
    assert set(everyone["client"].dropna()) == {pseudonyms["client_a"], pseudonyms["client_b"]}
    # Only staff rows name a client; a client's own rows carry nothing to match them with.
    assert set(everyone.loc[everyone["client"].notna(), "role"]) <= {"therapist", "supervisor"}
    clients_rows = everyone[everyone["role"] == "client"]
    assert len(clients_rows) >= 5 and clients_rows[["client", "record_id", "detail"]].isna().all().all()

    for username, pseudonym in pseudonyms.items():
        by_user = audit_log.list_audit_events(cur, world.admin, actor=username)
        by_pseudonym = audit_log.list_audit_events(cur, world.admin, client_pseudonym=pseudonym)
        both = audit_log.list_audit_events(cur, world.admin, actor=username, client_pseudonym=pseudonym)
        assert not by_user.empty or username == "client_new"
        assert pseudonym not in csv_bytes(by_user).decode("utf-8-sig")
        assert username not in csv_bytes(by_pseudonym).decode("utf-8-sig")
        assert both.empty
        assert not ((everyone["username"] == username) & (everyone["client"] == pseudonym)).any()


def test_the_admin_page_offers_no_risk_action_and_no_pseudonym_beside_a_client(app, cur, world):
    one_risk_and_one_ordinary_questionnaire(cur, world)
    logged_in(app, "admin")
    open_page(app, "pages/admin_audit.py")
    assert not app.exception
    action_box = next(box for box in app.selectbox if box.label == "Action")
    assert "submit_questionnaire" in action_box.options
    assert not [option for option in action_box.options if "risk" in option and option != "view_risk_flags"]
    assert "risk_flag," not in app.dataframe[0].value.to_csv().lower()
    next(field for field in app.text_input if field.label == "User").input("client_a").run()
    table = app.dataframe[0].value
    assert set(table["username"]) == {"client_a"} and table["client"].isna().all()
