"""The client's write path: what is stored, what is refused with which message, and nothing twice."""

from datetime import date, timedelta

import pytest

from data_layer import homework, measures, mood, paused
from data_layer.core.access import AccessDenied
from data_layer.core.validation import InvalidInput

TODAY = date.today()


def rows(cur, table):
    count_sql = f"SELECT count(*) FROM {table}"  # `table` is a name written in these tests
    return cur.execute(count_sql).fetchone()[0]


def log(cur, world, **changes):
    arguments = dict(assignment_id=world.assignment_a, log_date=TODAY, status="done") | changes
    return homework.log_homework(cur, world.client_a, **arguments)


def test_a_logged_attempt_is_stored_with_its_details(cur, world):
    log_id = log(cur, world, status="partly", minutes=20, helpfulness=4, difficulty=2, note="Hard but ok")
    logs = homework.list_homework_logs(cur, world.client_a, client_id=world.client_a.user_id, since=TODAY)
    row = logs.set_index("homework_log_id").loc[log_id]
    assert (row["status"], row["minutes"], row["helpfulness"], row["difficulty"], row["note"]) == (
        "partly",
        20,
        4,
        2,
        "Hard but ok",
    )
    assert bool(row["editable"])


@pytest.mark.parametrize(
    "field,changes,message",
    [
        ("log_date", {"log_date": TODAY + timedelta(days=1)}, "in the future"),
        ("log_date", {"log_date": TODAY - timedelta(days=8)}, "up to 7 days back"),
        ("minutes", {"minutes": -1}, "from 0 to 600"),
        ("minutes", {"minutes": 601}, "from 0 to 600"),
        ("helpfulness", {"helpfulness": 6}, "from 1 to 5"),
        ("difficulty", {"difficulty": 0}, "from 1 to 5"),
        ("note", {"note": "x" * 2001}, "2,000 characters"),
        ("status", {"status": None}, "Choose done"),
    ],
)
def test_bad_homework_input_names_the_field_and_stores_nothing(cur, world, field, changes, message):
    before = rows(cur, "homework_logs")
    with pytest.raises(InvalidInput) as raised:
        log(cur, world, **changes)
    assert message in raised.value.errors[field]
    assert rows(cur, "homework_logs") == before


def test_homework_that_is_not_active_that_day_is_refused(cur, world):
    cur.execute("UPDATE assignments SET starts_on = current_date WHERE id = ?", [world.assignment_a])
    with pytest.raises(InvalidInput) as raised:
        log(cur, world, log_date=TODAY - timedelta(days=1))
    assert "not active" in raised.value.errors["assignment_id"]


def test_someone_elses_homework_is_refused_and_audited(cur, world):
    before = rows(cur, "homework_logs")
    with pytest.raises(AccessDenied):
        log(cur, world, assignment_id=world.assignment_b)
    assert rows(cur, "homework_logs") == before
    assert (
        cur.execute("SELECT count(*) FROM audit_log WHERE action = 'log_homework' AND outcome = 'denied'").fetchone()[0]
        == 1
    )


def test_a_double_click_stores_one_entry(cur, world):
    first = log(cur, world, submission_id="form-1")
    second = log(cur, world, submission_id="form-1")
    assert first == second
    assert rows(cur, "homework_logs") == 2  # team b's log and this one
    mood.log_mood(cur, world.client_a, log_date=TODAY, mood=5, submission_id="form-2")
    mood.log_mood(cur, world.client_a, log_date=TODAY, mood=5, submission_id="form-2")
    assert rows(cur, "mood_logs") == 2


@pytest.mark.parametrize(
    "field,changes,message",
    [
        ("mood", {"mood": 11}, "from 0 to 10"),
        ("mood", {"mood": -1}, "from 0 to 10"),
        ("mood", {"mood": None}, "Choose your mood"),
        ("anxiety", {"anxiety": 11}, "from 0 to 10"),
        ("log_date", {"log_date": TODAY + timedelta(days=1)}, "in the future"),
        ("note", {"note": "y" * 2001}, "2,000 characters"),
    ],
)
def test_bad_mood_input_names_the_field_and_stores_nothing(cur, world, field, changes, message):
    before = rows(cur, "mood_logs")
    with pytest.raises(InvalidInput) as raised:
        mood.log_mood(cur, world.client_a, **(dict(log_date=TODAY, mood=5) | changes))
    assert message in raised.value.errors[field]
    assert rows(cur, "mood_logs") == before


def test_entries_can_be_changed_and_deleted_for_seven_days_only(cur, world):
    log_id = log(cur, world)
    homework.update_homework_log(cur, world.client_a, homework_log_id=log_id, status="partly", note="edited")
    logs = homework.list_homework_logs(cur, world.client_a, client_id=world.client_a.user_id, since=TODAY)
    assert logs.set_index("homework_log_id").loc[log_id, "status"] == "partly"
    cur.execute("UPDATE homework_logs SET created_at = now() - INTERVAL 8 DAY WHERE id = ?", [log_id])
    with pytest.raises(InvalidInput, match="7 days"):
        homework.delete_homework_log(cur, world.client_a, homework_log_id=log_id)
    mood_id = mood.log_mood(cur, world.client_a, log_date=TODAY, mood=3)
    mood.delete_mood_log(cur, world.client_a, mood_log_id=mood_id)
    assert mood.list_mood_logs(cur, world.client_a, client_id=world.client_a.user_id, since=TODAY).empty
    actions = {action for (action,) in cur.execute("SELECT action FROM audit_log").fetchall()}
    assert {"update_homework_log", "delete_mood_log"} <= actions


def test_another_client_cannot_change_or_delete_my_entries(cur, world):
    with pytest.raises(AccessDenied):
        homework.update_homework_log(cur, world.client_a, homework_log_id=world.homework_log_b, status="not_done")
    with pytest.raises(AccessDenied):
        mood.delete_mood_log(cur, world.client_a, mood_log_id=world.mood_log_b)
    assert rows(cur, "mood_logs") == 1


def test_phq9_item_9_above_zero_flags_the_treating_therapist(cur, world):
    answers = [1, 1, 1, 1, 1, 1, 1, 1, 1]
    result = measures.submit_questionnaire(cur, world.client_a, instrument="PHQ-9", answers=answers)
    assert (result.total, result.band, result.risk_flag_raised) == (9, "mild", True)
    flags = cur.execute(
        "SELECT client_id, therapist_id, item_9_answer FROM risk_flags WHERE client_id = ?", [world.client_a.user_id]
    ).fetchall()
    assert flags == [(world.client_a.user_id, world.therapist_a.user_id, 1)]


def test_phq9_item_9_zero_raises_no_flag(cur, world):
    result = measures.submit_questionnaire(cur, world.client_a, instrument="PHQ-9", answers=[3] * 8 + [0])
    assert (result.total, result.band, result.risk_flag_raised) == (24, "severe", False)
    assert rows(cur, "risk_flags") == 1  # only team b's


def test_a_questionnaire_with_a_missing_item_is_not_stored(cur, world):
    with pytest.raises(InvalidInput) as raised:
        measures.submit_questionnaire(cur, world.client_a, instrument="GAD-7", answers=[1, 1, None, 1, 1, 1])
    assert set(raised.value.errors) == {"item_3", "item_7"}
    assert rows(cur, "questionnaires") == 1  # only team b's


def test_questionnaires_are_due_by_the_therapists_cadence(cur, world):
    measures.submit_questionnaire(cur, world.client_a, instrument="GAD-7", answers=[0] * 7)
    schedule = measures.questionnaire_schedule(cur, world.client_a, client_id=world.client_a.user_id)
    assert schedule["GAD-7"] == {"last_taken": TODAY, "next_due": TODAY + timedelta(days=7)}
    assert schedule["PHQ-9"] == {"last_taken": None, "next_due": TODAY}
    measures.set_questionnaire_cadence(cur, world.therapist_a, client_id=world.client_a.user_id, every_days=14)
    schedule = measures.questionnaire_schedule(cur, world.therapist_a, client_id=world.client_a.user_id)
    assert schedule["GAD-7"] == {"last_taken": TODAY, "next_due": TODAY + timedelta(days=14)}


def test_a_break_is_stored_and_a_bad_one_explained(cur, world):
    paused.add_paused_period(
        cur,
        world.client_a,
        client_id=world.client_a.user_id,
        starts_on=TODAY,
        ends_on=TODAY + timedelta(days=6),
        reason="Holiday",
    )
    with pytest.raises(InvalidInput) as raised:
        paused.add_paused_period(
            cur, world.client_a, client_id=world.client_a.user_id, starts_on=TODAY, ends_on=TODAY - timedelta(days=1)
        )
    assert "on or after the start" in raised.value.errors["ends_on"]
    periods = paused.list_paused_periods(cur, world.therapist_a, client_id=world.client_a.user_id)
    assert list(periods["reason"]) == ["Holiday"]


def test_two_racing_submissions_of_one_form_store_one_entry(conn, world):
    import threading

    def submit(barrier, token, ids):
        cursor = conn.cursor()
        barrier.wait()
        ids.append(mood.log_mood(cursor, world.client_a, log_date=TODAY, mood=4, submission_id=token))

    for attempt in range(10):
        token, barrier, ids = f"race-{attempt}", threading.Barrier(2), []
        threads = [threading.Thread(target=submit, args=(barrier, token, ids)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        stored = conn.execute("SELECT id FROM mood_logs WHERE submission_id = ?", [token]).fetchall()
        assert len(stored) == 1
        assert ids == [stored[0][0]] * 2
