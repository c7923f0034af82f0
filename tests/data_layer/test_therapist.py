"""The therapist's workspace: caseload numbers on a hand-built clinic, assignments, sessions,
risk follow-up, and the CSV export."""

import io
from datetime import date, timedelta

import pandas as pd
import pytest

from clinical.compliance import last_complete_weeks
from data_layer import homework, measures, sessions
from data_layer.core.access import AccessDenied
from data_layer.core.validation import InvalidInput
from data_layer.reports import export, metrics
from tests.conftest import add_user
from ui.exports import csv_bytes

TODAY = date.today()


def ago(days):
    return TODAY - timedelta(days=days)


def new_client(cur, therapist, username, name):
    client = add_user(cur, username, name, "client")
    cur.execute(
        "INSERT INTO caseload (client_id, therapist_id, started_on) VALUES (?, ?, ?)",
        [client.user_id, therapist.user_id, ago(40)],
    )
    return client


def assignment(cur, client, therapist, starts_on, times_per_week=3):
    (assignment_id,) = cur.execute(
        """INSERT INTO assignments (client_id, therapist_id, title, category, schedule, times_per_week, starts_on)
           VALUES (?, ?, 'Walk', 'behavioural_activation', 'weekly', ?, ?) RETURNING id""",
        [client.user_id, therapist.user_id, times_per_week, starts_on],
    ).fetchone()
    return assignment_id


def questionnaire(cur, client, instrument, taken_on, total, item_9=0):
    items = [0] * (9 if instrument == "PHQ-9" else 7)
    remaining = total - item_9
    for index in range(len(items) - (1 if instrument == "PHQ-9" else 0)):
        items[index] = min(3, remaining)
        remaining -= items[index]
    if instrument == "PHQ-9":
        items[8] = item_9
    items += [None] * (9 - len(items))
    (questionnaire_id,) = cur.execute(
        """INSERT INTO questionnaires (client_id, instrument, taken_on, item_1, item_2, item_3, item_4, item_5,
               item_6, item_7, item_8, item_9, total) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        [client.user_id, instrument, taken_on, *items, total],
    ).fetchone()
    return questionnaire_id


@pytest.fixture
def small_clinic(cur, world):
    """Three clients of therapist_a (besides client_a), each built to show one thing."""
    therapist = world.therapist_a
    steady = new_client(cur, therapist, "steady", "Steady Sam")
    first_monday, _ = last_complete_weeks(TODAY)
    walk = assignment(cur, steady, therapist, first_monday)
    for day in (0, 7, 8, 14, 21):  # five of the 12 expected over the 4 complete weeks (3 a week)
        cur.execute(
            "INSERT INTO homework_logs (assignment_id, client_id, log_date, status) VALUES (?, ?, ?, 'done')",
            [walk, steady.user_id, first_monday + timedelta(days=day)],
        )
    for days_ago, mood in ((1, 6), (3, 8), (29, 3), (33, 5)):
        cur.execute(
            "INSERT INTO mood_logs (client_id, log_date, mood) VALUES (?, ?, ?)", [steady.user_id, ago(days_ago), mood]
        )
    questionnaire(cur, steady, "PHQ-9", ago(30), 15)
    questionnaire(cur, steady, "PHQ-9", ago(2), 8)
    questionnaire(cur, steady, "GAD-7", ago(30), 10)
    questionnaire(cur, steady, "GAD-7", ago(2), 9)
    attended_sessions(cur, steady, therapist, 2)

    at_risk = new_client(cur, therapist, "at_risk", "Risky Rae")
    flagged_questionnaire = questionnaire(cur, at_risk, "PHQ-9", ago(1), 12, item_9=2)
    cur.execute(
        "INSERT INTO risk_flags (client_id, therapist_id, questionnaire_id, item_9_answer) VALUES (?, ?, ?, 2)",
        [at_risk.user_id, therapist.user_id, flagged_questionnaire],
    )

    quiet = new_client(cur, therapist, "quiet", "Quiet Quinn")
    assignment(cur, quiet, therapist, ago(20))
    questionnaire(cur, quiet, "PHQ-9", ago(20), 10)
    questionnaire(cur, quiet, "PHQ-9", ago(3), 16)
    questionnaire(cur, quiet, "GAD-7", ago(20), 6)
    questionnaire(cur, quiet, "GAD-7", ago(3), 7)
    attended_sessions(cur, quiet, therapist, 3)

    only_phq = new_client(cur, therapist, "only_phq", "Pat Onlyphq")
    questionnaire(cur, only_phq, "PHQ-9", ago(20), 10)
    questionnaire(cur, only_phq, "PHQ-9", ago(3), 18)
    attended_sessions(cur, only_phq, therapist, 3)
    return steady, at_risk, quiet


def attended_sessions(cur, client, therapist, count):
    for week in range(count):
        cur.execute(
            "INSERT INTO therapy_sessions (client_id, therapist_id, session_date, attended) VALUES (?, ?, ?, true)",
            [client.user_id, therapist.user_id, ago(7 * week + 1)],
        )


def test_caseload_numbers_match_hand_computed_values(cur, world, small_clinic):
    summary = metrics.caseload_summary(cur, world.therapist_a).set_index("name")
    # Risk first, then the other flagged clients (client_a of the fixture has homework and no logs).
    assert list(summary.index) == ["Risky Rae", "Alice Client", "Quiet Quinn", "Pat Onlyphq", "Steady Sam"]

    steady = summary.loc["Steady Sam"]
    assert steady["compliance_4w"] == pytest.approx(5 / 12)
    assert steady["days_since_last_log"] == 1
    assert (steady["mood_now"], steady["mood_4_weeks_ago"], steady["mood_trend"]) == (7.0, 4.0, 3.0)
    assert (steady["phq9_latest"], steady["phq9_change"], steady["gad7_change"]) == (8, -7, -1)
    assert steady["reliable_change"] == "reliable improvement"
    assert not steady["flagged"]

    rae = summary.loc["Risky Rae"]
    assert (rae["open_risk_flags"], rae["flag_risk"], rae["flag_inactive"]) == (1, True, False)
    assert rae["reliable_change"] == "not enough data"  # one PHQ-9: no change to read

    quinn = summary.loc["Quiet Quinn"]
    assert (quinn["flag_inactive"], quinn["flag_deterioration"], quinn["phq9_change"]) == (True, True, 6)
    assert quinn["reliable_change"] == "reliable deterioration"
    assert pd.isna(quinn["days_since_last_log"])
    assert quinn["compliance_4w"] == 0

    # PHQ-9 10 -> 18 but no GAD-7: no questionnaire pair, so no outcome is read (the same
    # on every page: change needs two PHQ-9/GAD-7 pairs).
    pat = summary.loc["Pat Onlyphq"]
    assert pat["reliable_change"] == "not enough data" and pd.isna(pat["phq9_change"])
    assert pat["phq9_latest"] == 18


def test_an_acknowledged_flag_leaves_the_top_but_stays_in_history(cur, world, small_clinic):
    _, at_risk, _ = small_clinic
    (flag_id,) = measures.list_risk_flags(cur, world.therapist_a, client_id=at_risk.user_id)["risk_flag_id"]
    with pytest.raises(InvalidInput, match="short note"):
        measures.acknowledge_risk_flag(cur, world.therapist_a, risk_flag_id=flag_id, note="  ")
    measures.acknowledge_risk_flag(cur, world.therapist_a, risk_flag_id=flag_id, note="Called; safety plan reviewed")
    summary = metrics.caseload_summary(cur, world.therapist_a).set_index("name")
    assert not summary.loc["Risky Rae", "flag_risk"]
    flags = measures.list_risk_flags(cur, world.therapist_a, client_id=at_risk.user_id)
    assert list(flags["note"]) == ["Called; safety plan reviewed"]
    assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'acknowledge_risk_flag'").fetchone() == (1,)
    with pytest.raises(InvalidInput, match="already"):
        measures.acknowledge_risk_flag(cur, world.therapist_a, risk_flag_id=flag_id, note="again")


def test_another_therapist_sees_neither_the_clients_nor_their_flags(cur, world, small_clinic):
    _, at_risk, _ = small_clinic
    assert "Risky Rae" not in set(metrics.caseload_summary(cur, world.therapist_b)["name"])
    with pytest.raises(AccessDenied):
        measures.list_risk_flags(cur, world.therapist_b, client_id=at_risk.user_id)


@pytest.mark.parametrize(
    "field,changes,message",
    [
        ("title", {"title": "  "}, "Give the homework a title"),
        ("times_per_week", {"times_per_week": 0}, "from 1 to 14"),
        ("times_per_week", {"times_per_week": 15}, "from 1 to 14"),
        ("ends_on", {"ends_on": TODAY - timedelta(days=1)}, "before the start"),
        ("due_on", {"schedule": "once", "due_on": TODAY - timedelta(days=1)}, "in the past"),
    ],
)
def test_bad_assignments_are_explained_and_not_stored(cur, world, field, changes, message):
    before = cur.execute("SELECT count(*) FROM assignments").fetchone()
    arguments = (
        dict(
            client_id=world.client_a.user_id,
            title="Walk",
            category="behavioural_activation",
            schedule="weekly",
            times_per_week=3,
            starts_on=TODAY,
        )
        | changes
    )
    with pytest.raises(InvalidInput) as raised:
        homework.create_assignment(cur, world.therapist_a, **arguments)
    assert message in raised.value.errors[field]
    assert cur.execute("SELECT count(*) FROM assignments").fetchone() == before


def test_assignment_lifecycle_and_sessions(cur, world):
    assignment_id = homework.create_assignment(
        cur,
        world.therapist_a,
        client_id=world.client_a.user_id,
        title="Breathing",
        category="relaxation_mindfulness",
        schedule="weekly",
        times_per_week=7,
        starts_on=TODAY,
        instructions="10 minutes",
    )
    homework.update_assignment(
        cur,
        world.therapist_a,
        assignment_id=assignment_id,
        title="Breathing practice",
        category="relaxation_mindfulness",
        schedule="weekly",
        times_per_week=5,
        starts_on=TODAY,
    )
    titles = set(homework.list_active_assignments(cur, world.client_a, client_id=world.client_a.user_id)["title"])
    assert "Breathing practice" in titles
    homework.end_assignment(cur, world.therapist_a, assignment_id=assignment_id)
    ended = homework.list_assignments(cur, world.therapist_a, client_id=world.client_a.user_id).set_index(
        "assignment_id"
    )
    assert ended.loc[assignment_id, "ends_on"].date() == TODAY
    with pytest.raises(AccessDenied):
        homework.end_assignment(cur, world.therapist_b, assignment_id=assignment_id)
    sessions.record_session(cur, world.therapist_a, client_id=world.client_a.user_id, session_date=TODAY, attended=True)
    with pytest.raises(InvalidInput, match="future"):
        sessions.record_session(
            cur,
            world.therapist_a,
            client_id=world.client_a.user_id,
            session_date=TODAY + timedelta(days=1),
            attended=True,
        )
    assert list(sessions.list_sessions(cur, world.therapist_a, client_id=world.client_a.user_id)["attended"]) == [True]


def test_csv_export_has_every_record_once_with_readable_headers(cur, world, small_clinic):
    steady, _, _ = small_clinic
    frame = export.export_client_record(cur, world.therapist_a, client_id=steady.user_id)
    parsed = pd.read_csv(io.BytesIO(csv_bytes(frame)), encoding="utf-8-sig")
    assert list(parsed.columns) == [
        "Record",
        "Date",
        "Homework",
        "Category",
        "Status",
        "Minutes",
        "Helpfulness (1-5)",
        "Difficulty (1-5)",
        "Mood (0-10)",
        "Anxiety (0-10)",
        "Questionnaire",
        "Total",
        "Item answers",
        "Attended",
        "Note",
    ]
    assert parsed["Record"].value_counts().to_dict() == {
        "Homework log": 5,
        "Mood": 4,
        "Questionnaire": 4,
        "Homework assignment": 1,
        "Therapy session": 2,
    }
    assert not any("_id" in column for column in parsed.columns)
    assert set(parsed.loc[parsed["Record"] == "Homework log", "Category"]) == {"Behavioural activation"}


def test_csv_cells_that_look_like_formulas_stay_text():
    frame = pd.DataFrame({"Note": ["=HYPERLINK(\"x\")", "+1", "plain"]})
    parsed = pd.read_csv(io.BytesIO(csv_bytes(frame)), encoding="utf-8-sig")
    assert list(parsed["Note"]) == ["'=HYPERLINK(\"x\")", "'+1", "plain"]


def test_one_questionnaire_of_each_reads_not_enough_data_on_the_caseload(cur, world):
    measures.submit_questionnaire(cur, world.client_a, instrument="PHQ-9", answers=[2] * 8 + [0])
    measures.submit_questionnaire(cur, world.client_a, instrument="GAD-7", answers=[2] * 7)
    [row] = metrics.caseload_summary(cur, world.therapist_a).itertuples()
    assert row.phq9_latest == 16 and row.gad7_latest == 14
    assert pd.isna(row.phq9_change) and pd.isna(row.gad7_change)  # undefined, never 0
    assert row.reliable_change == "not enough data"
