"""A PHQ-9 item 9 above 0 from a client with no current therapist goes to the clinic's safety
contacts (every supervisor, the admin) until one of them acknowledges it (docs/clinical-rules.md,
"Risk"); a client with a therapist's flag goes to that therapist only."""

from datetime import date, timedelta

import pytest

from data_layer import audit_log, measures
from data_layer.core.access import AccessDenied
from tests.conftest import add_user, logged_in, open_page

RISK_PHQ9 = [1, 1, 1, 1, 1, 1, 1, 1, 2]


@pytest.fixture
def orphan(cur):
    """A client in nobody's caseload, with a contact email."""
    client = add_user(cur, "client_c", "Cleo Nolink", "client")
    cur.execute("UPDATE users SET email = 'cleo@example.org' WHERE id = ?", [client.user_id])
    return client


def safety_contacts(world):
    return [world.supervisor_a, world.supervisor_b, world.admin]


def test_a_flag_without_a_therapist_reaches_every_safety_contact_with_the_identity(cur, world, orphan):
    assert measures.submit_questionnaire(cur, orphan, instrument="PHQ-9", answers=RISK_PHQ9).risk_flag_raised
    for contact in safety_contacts(world):
        flags = measures.list_unassigned_risk_flags(cur, contact)
        assert flags[["client", "email", "username", "item_9_answer"]].values.tolist() == [
            ["Cleo Nolink", "cleo@example.org", "client_c", 2]
        ]
        assert flags["taken_on"].dt.date.tolist() == [date.today()]
    # Each listing is audited per flag, with the client, as a risk-flag event.
    views = cur.execute(
        """SELECT count(*) FROM audit_log WHERE action = 'view_unassigned_risk_flag'
                           AND client_id = ? AND record_kind = 'risk_flag'""",
        [orphan.user_id],
    ).fetchone()
    assert views == (3,)


def test_an_acknowledged_flag_leaves_every_safety_contacts_list(cur, world, orphan):
    measures.submit_questionnaire(cur, orphan, instrument="PHQ-9", answers=RISK_PHQ9)
    (flag_id,) = measures.list_unassigned_risk_flags(cur, world.supervisor_b)["risk_flag_id"]
    measures.acknowledge_unassigned_risk_flag(
        cur, world.supervisor_b, risk_flag_id=int(flag_id), note="Phoned Cleo, safety plan agreed"
    )
    for contact in safety_contacts(world):
        assert measures.list_unassigned_risk_flags(cur, contact).empty
    with pytest.raises(measures.validation.InvalidInput):
        measures.acknowledge_unassigned_risk_flag(cur, world.admin, risk_flag_id=int(flag_id), note="Me too")
    assert cur.execute("SELECT therapist_id, note FROM risk_acknowledgements").fetchall() == [
        (world.supervisor_b.user_id, "Phoned Cleo, safety plan agreed")
    ]


def test_safety_contacts_need_a_note(cur, world, orphan):
    measures.submit_questionnaire(cur, orphan, instrument="PHQ-9", answers=RISK_PHQ9)
    (flag_id,) = measures.list_unassigned_risk_flags(cur, world.admin)["risk_flag_id"]
    with pytest.raises(measures.validation.InvalidInput):
        measures.acknowledge_unassigned_risk_flag(cur, world.admin, risk_flag_id=int(flag_id), note="  ")
    assert len(measures.list_unassigned_risk_flags(cur, world.admin)) == 1


def test_a_flag_of_a_client_with_a_therapist_goes_to_the_therapist_only(cur, world):
    measures.submit_questionnaire(cur, world.client_a, instrument="PHQ-9", answers=RISK_PHQ9)
    for contact in safety_contacts(world):
        assert measures.list_unassigned_risk_flags(cur, contact).empty
    flags = measures.list_risk_flags(cur, world.therapist_a, client_id=world.client_a.user_id)
    assert len(flags) == 1
    for contact in safety_contacts(world):
        with pytest.raises(AccessDenied):
            measures.acknowledge_unassigned_risk_flag(
                cur, contact, risk_flag_id=int(flags["risk_flag_id"][0]), note="Not mine to close"
            )
    assert (
        measures.list_risk_flags(cur, world.therapist_a, client_id=world.client_a.user_id)["acknowledged_at"]
        .isna()
        .all()
    )


def test_an_open_flag_whose_therapist_link_ended_goes_to_the_safety_contacts(cur, world):
    measures.submit_questionnaire(cur, world.client_a, instrument="PHQ-9", answers=RISK_PHQ9)
    cur.execute(
        "UPDATE caseload SET ended_on = ? WHERE client_id = ?",
        [date.today() - timedelta(days=1), world.client_a.user_id],
    )
    assert measures.list_unassigned_risk_flags(cur, world.supervisor_b)["client"].tolist() == ["Alice Client"]


def test_the_admin_audit_viewer_hides_the_safety_contacts_risk_events(cur, world, orphan):
    measures.submit_questionnaire(cur, orphan, instrument="PHQ-9", answers=RISK_PHQ9)
    (flag_id,) = measures.list_unassigned_risk_flags(cur, world.admin)["risk_flag_id"]
    measures.acknowledge_unassigned_risk_flag(cur, world.admin, risk_flag_id=int(flag_id), note="Phoned")
    logged = {action for (action,) in cur.execute("SELECT action FROM audit_log").fetchall()}
    assert {"view_unassigned_risk_flag", "acknowledge_unassigned_risk_flag"} <= logged
    shown = set(audit_log.list_audit_events(cur, world.admin)["action"])
    assert not shown & {"raise_risk_flag", "view_unassigned_risk_flag", "acknowledge_unassigned_risk_flag"}
    assert not {"view_unassigned_risk_flag", "acknowledge_unassigned_risk_flag"} & set(
        audit_log.list_audit_actions(cur, world.admin)
    )


# --- pages ---------------------------------------------------------------------


def acknowledge_on_page(app, note):
    next(area for area in app.text_area if area.label == "Follow-up note").input(note)
    next(button for button in app.button if button.label == "Acknowledge").click().run()


@pytest.mark.parametrize(
    "username, page", [("supervisor_b", "pages/supervisor_therapists.py"), ("admin", "pages/admin_accounts.py")]
)
@pytest.mark.slow
def test_safety_contacts_see_the_flag_on_their_page_until_they_acknowledge_it(app, cur, orphan, username, page):
    measures.submit_questionnaire(cur, orphan, instrument="PHQ-9", answers=RISK_PHQ9)
    logged_in(app, username)
    open_page(app, page)
    assert not app.exception
    assert any("Cleo Nolink" in markdown.value and "cleo@example\\.org" in markdown.value for markdown in app.markdown)
    acknowledge_on_page(app, "Phoned Cleo, safety plan agreed")
    assert not app.exception
    assert "Risk flag acknowledged." in [message.value for message in app.success]
    assert not any("Cleo" in markdown.value for markdown in app.markdown)
    assert cur.execute("SELECT note FROM risk_acknowledgements").fetchall() == [("Phoned Cleo, safety plan agreed",)]


def test_a_supervisor_page_shows_no_flag_of_a_client_with_a_therapist(app, cur, world):
    measures.submit_questionnaire(cur, world.client_a, instrument="PHQ-9", answers=RISK_PHQ9)
    logged_in(app, "supervisor_a")
    open_page(app, "pages/supervisor_therapists.py")
    assert not app.exception
    assert not any("Alice" in markdown.value for markdown in app.markdown)
    assert not [area for area in app.text_area if area.label == "Follow-up note"]
