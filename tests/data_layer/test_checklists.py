"""The clinical support checklist (issue #17): a therapist records what they reviewed and changed
for their own current client, scoped and audited; bad input writes nothing; a resent form stores
once; the supervisor's count per episode carries no identity."""

from datetime import date, timedelta

import pytest

from clinical.support_checklist import SUPPORT_ITEMS, item_labels
from data_layer import caseload, checklists
from data_layer.core import db
from data_layer.core.access import AccessDenied
from data_layer.core.validation import MAX_NOTE_LENGTH, InvalidInput
from tests.conftest import add_user
from tests.security.test_hostile_input import PAYLOADS


def record(cur, world, **overrides):
    arguments = {
        "client_id": world.client_a.user_id,
        "reviewed": ["homework_fit", "alliance"],
        "changes": "  Halved the homework; agreed one small step a day.  ",
    }
    return checklists.record_support_checklist(cur, world.therapist_a, **arguments | overrides)


def stored(cur):
    return cur.execute("SELECT count(*) FROM support_checklists").fetchone()[0]


def audit_rows(cur, action, outcome="ok"):
    return cur.execute(
        """SELECT actor_id, client_id, record_kind, record_id FROM audit_log
           WHERE action = ? AND outcome = ? ORDER BY id""",
        [action, outcome],
    ).fetchall()


def episode_of(cur, client):
    (episode_id,) = cur.execute(
        "SELECT id FROM caseload WHERE client_id = ? AND ended_on IS NULL", [client.user_id]
    ).fetchone()
    return episode_id


def test_the_six_items_in_order_with_plain_labels():
    assert list(SUPPORT_ITEMS) == [
        "alliance",
        "motivation_readiness",
        "social_support",
        "life_events",
        "homework_fit",
        "medication_review",
    ]
    assert SUPPORT_ITEMS["alliance"] == "Therapeutic alliance"
    assert SUPPORT_ITEMS["medication_review"] == "Medication review"
    assert item_labels(["medication_review", "alliance", "unknown"]) == ["Therapeutic alliance", "Medication review"]


def test_a_therapist_records_a_checklist_for_their_client_and_reads_it_back(cur, world):
    checklist_id = record(cur, world)
    row = cur.execute(
        "SELECT caseload_id, client_id, therapist_id FROM support_checklists WHERE id = ?", [checklist_id]
    ).fetchone()
    assert row == (episode_of(cur, world.client_a), world.client_a.user_id, world.therapist_a.user_id)
    listed = checklists.list_support_checklists(cur, world.therapist_a, client_id=world.client_a.user_id)
    assert list(listed.columns) == ["checklist_id", "recorded_at", "reviewed", "changes"]
    assert listed["checklist_id"].tolist() == [checklist_id]
    # Stored in the form's order, each once; the changes stripped.
    assert listed["reviewed"].iloc[0] == ["alliance", "homework_fit"]
    assert listed["changes"].iloc[0] == "Halved the homework; agreed one small step a day."


def test_the_newest_checklist_comes_first_and_changes_may_be_empty(cur, world):
    first = record(cur, world)
    second = record(cur, world, reviewed=["medication_review", "medication_review"], changes="   ")
    listed = checklists.list_support_checklists(cur, world.therapist_a, client_id=world.client_a.user_id)
    assert listed["checklist_id"].tolist() == [second, first]
    assert listed["reviewed"].iloc[0] == ["medication_review"]
    assert listed["changes"].iloc[0] == ""


def test_the_write_is_audited(cur, world):
    checklist_id = record(cur, world)
    assert (
        world.therapist_a.user_id,
        world.client_a.user_id,
        "support_checklist",
        checklist_id,
    ) in audit_rows(cur, "record_support_checklist")


def test_another_therapist_is_refused_and_the_refusal_is_audited(cur, world):
    with pytest.raises(AccessDenied):
        checklists.record_support_checklist(
            cur, world.therapist_b, client_id=world.client_a.user_id, reviewed=["alliance"], changes=""
        )
    assert stored(cur) == 0
    assert audit_rows(cur, "record_support_checklist", "denied") == [
        (world.therapist_b.user_id, world.client_a.user_id, None, None)
    ]
    record(cur, world)
    with pytest.raises(AccessDenied):
        checklists.list_support_checklists(cur, world.therapist_b, client_id=world.client_a.user_id)
    assert len(audit_rows(cur, "view_support_checklists", "denied")) == 1


@pytest.mark.parametrize("role", ["client_a", "supervisor_a", "admin"])
def test_only_therapists_may_record_or_list(cur, world, role):
    principal = getattr(world, role)
    with pytest.raises(AccessDenied):
        checklists.record_support_checklist(
            cur, principal, client_id=world.client_a.user_id, reviewed=["alliance"], changes=""
        )
    with pytest.raises(AccessDenied):
        checklists.list_support_checklists(cur, principal, client_id=world.client_a.user_id)
    assert stored(cur) == 0
    denied = audit_rows(cur, "record_support_checklist", "denied")
    assert [actor for actor, *_ in denied] == [principal.user_id]


@pytest.mark.parametrize(
    "reviewed,message",
    [
        ([], "Tick at least one thing you reviewed."),
        (None, "Tick at least one thing you reviewed."),
        (["alliance", "horoscope"], "Choose only the items of the checklist."),
        ("horoscope", "Choose only the items of the checklist."),
    ],
)
def test_nothing_or_an_unknown_item_ticked_writes_nothing(cur, world, reviewed, message):
    before = cur.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    with pytest.raises(InvalidInput) as raised:
        record(cur, world, reviewed=reviewed)
    assert raised.value.errors == {"reviewed": message}
    assert stored(cur) == 0
    assert cur.execute("SELECT count(*) FROM audit_log").fetchone()[0] == before


def test_over_long_changes_are_refused(cur, world):
    with pytest.raises(InvalidInput) as raised:
        record(cur, world, changes="x" * (MAX_NOTE_LENGTH + 1))
    assert set(raised.value.errors) == {"changes"}
    assert stored(cur) == 0
    record(cur, world, changes="x" * MAX_NOTE_LENGTH + "   ")  # the limit counts the stripped text
    assert stored(cur) == 1


def test_the_database_refuses_an_unknown_item_written_by_hand(cur, world):
    with pytest.raises(db.CONSTRAINT_ERRORS, match="(?i)check"):
        cur.execute(
            """INSERT INTO support_checklists (caseload_id, client_id, therapist_id, reviewed)
               VALUES (?, ?, ?, ['alliance', 'horoscope'])""",
            [episode_of(cur, world.client_a), world.client_a.user_id, world.therapist_a.user_id],
        )


def test_a_repeated_submission_id_stores_once_and_returns_the_same_id(cur, world):
    first = record(cur, world, submission_id="form-1")
    again = record(cur, world, submission_id="form-1", changes="A second click")
    assert again == first
    assert stored(cur) == 1
    assert len(audit_rows(cur, "record_support_checklist")) == 3  # two access checks, one write
    assert record(cur, world, submission_id="form-2") != first
    assert stored(cur) == 2


def test_a_discharged_client_can_no_longer_get_a_checklist(cur, world):
    record(cur, world)
    # The discharge ends an episode that has a checklist (no foreign key: migration 007).
    caseload.discharge_client(
        cur, world.therapist_a, client_id=world.client_a.user_id, ended_on=date.today(), reason="completed"
    )
    with pytest.raises(AccessDenied):
        record(cur, world)
    with pytest.raises(AccessDenied):
        checklists.list_support_checklists(cur, world.therapist_a, client_id=world.client_a.user_id)
    assert stored(cur) == 1
    assert checklists.checklists_by_episode(cur, world.therapist_a).empty


def test_a_new_episode_starts_with_no_checklists(cur, world):
    record(cur, world)
    caseload.discharge_client(
        cur,
        world.therapist_a,
        client_id=world.client_a.user_id,
        ended_on=date.today() - timedelta(days=1),
        reason="completed",
    )
    caseload.link_client_to_therapist(
        cur, world.admin, client_id=world.client_a.user_id, therapist_id=world.therapist_a.user_id
    )
    assert checklists.list_support_checklists(cur, world.therapist_a, client_id=world.client_a.user_id).empty
    new_id = record(cur, world)
    listed = checklists.list_support_checklists(cur, world.therapist_a, client_id=world.client_a.user_id)
    assert listed["checklist_id"].tolist() == [new_id]


def test_checklists_by_episode_for_a_therapist_counts_their_own_episodes(cur, world):
    record(cur, world)
    record(cur, world)
    checklists.record_support_checklist(
        cur, world.therapist_b, client_id=world.client_b.user_id, reviewed=["life_events"], changes=""
    )
    mine = checklists.checklists_by_episode(cur, world.therapist_a)
    assert mine["episode_id"].tolist() == [episode_of(cur, world.client_a)]
    assert mine["checklists"].tolist() == [2]
    assert mine["last_recorded_at"].notna().all()


def test_checklists_by_episode_for_a_supervisor_has_only_their_therapists_and_no_identity(cur, world):
    therapist_c = add_user(cur, "therapist_c", "Cara Therapist", "therapist")
    client_c = add_user(cur, "client_c", "Carl Client", "client")
    cur.execute(
        "INSERT INTO supervision (therapist_id, supervisor_id, started_on) VALUES (?, ?, current_date - 10)",
        [therapist_c.user_id, world.supervisor_a.user_id],
    )
    cur.execute(
        "INSERT INTO caseload (client_id, therapist_id, started_on) VALUES (?, ?, current_date - 10)",
        [client_c.user_id, therapist_c.user_id],
    )
    record(cur, world)
    checklists.record_support_checklist(
        cur, world.therapist_b, client_id=world.client_b.user_id, reviewed=["life_events"], changes=""
    )
    by_episode = checklists.checklists_by_episode(cur, world.supervisor_a)
    assert list(by_episode.columns) == ["episode_id", "therapist_id", "checklists", "last_recorded_at"]
    assert dict(zip(by_episode["therapist_id"], by_episode["checklists"])) == {
        world.therapist_a.user_id: 1,
        therapist_c.user_id: 0,
    }
    assert by_episode["last_recorded_at"].isna().tolist() == [False, True]
    assert episode_of(cur, world.client_b) not in by_episode["episode_id"].tolist()
    # Only ids and counts: no name, no client, no text the therapist wrote.
    assert not any("client" in column or "name" in column for column in by_episode.columns)
    assert "Halved" not in repr(by_episode) and "Alice" not in repr(by_episode)
    assert checklists.checklists_by_episode(cur, world.supervisor_b)["therapist_id"].tolist() == [
        world.therapist_b.user_id
    ]


@pytest.mark.parametrize("role", ["client_a", "admin"])
def test_checklists_by_episode_is_refused_to_clients_and_admins(cur, world, role):
    with pytest.raises(AccessDenied):
        checklists.checklists_by_episode(cur, getattr(world, role))


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_hostile_changes_are_stored_and_read_back_as_typed(cur, world, payload):
    record(cur, world, changes=payload)
    listed = checklists.list_support_checklists(cur, world.therapist_a, client_id=world.client_a.user_id)
    assert listed["changes"].tolist() == [payload]
