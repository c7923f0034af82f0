"""Episodes of care that end (docs/clinical-rules.md, "Outcomes"): discharge with a reason and its
bad input, what a discharge closes, re-referral, and the cohort choosing whole episodes by the
day they ended."""

from datetime import date, timedelta

import pandas as pd
import pytest

from clinical.episodes import classify_episodes
from clinical.outcomes import outcome_rates
from data_layer import caseload, homework, sessions
from data_layer.core.access import AccessDenied
from data_layer.core.validation import InvalidInput
from data_layer.reports import cohort, metrics
from tests.conftest import add_attended_sessions, add_pair

TODAY = date.today()


def ago(days):
    return TODAY - timedelta(days=days)


def episode_rows(cur, client):
    return cur.execute(
        "SELECT id, therapist_id, started_on, ended_on FROM caseload WHERE client_id = ? ORDER BY id", [client.user_id]
    ).fetchall()


def written(cur):
    """What a refused discharge must leave untouched."""
    return cur.execute("""SELECT (SELECT count(*) FROM discharges), (SELECT count(ended_on) FROM caseload),
                                 (SELECT count(ends_on) FROM assignments)""").fetchone()


def classified_for(cur, principal, window_start, window_end):
    episodes = cohort.episode_summaries(cur, principal, window_start=window_start, window_end=window_end)
    questionnaires = cohort.episode_questionnaires(cur, principal, window_start=window_start, window_end=window_end)
    return classify_episodes(episodes, questionnaires)


# --- discharge -----------------------------------------------------------------------------


def test_a_discharge_ends_the_episode_with_its_reason_and_the_client_leaves_the_caseload(cur, world):
    episode_id = caseload.discharge_client(
        cur, world.therapist_a, client_id=world.client_a.user_id, ended_on=ago(1), reason="completed"
    )
    assert cur.execute("SELECT ended_on FROM caseload WHERE id = ?", [episode_id]).fetchone() == (ago(1),)
    assert cur.execute(
        "SELECT reason, discharged_by FROM discharges WHERE caseload_id = ?", [episode_id]
    ).fetchone() == ("completed", world.therapist_a.user_id)
    assert metrics.caseload_summary(cur, world.therapist_a).empty
    # Their homework with this therapist ends that day: nothing is expected of them afterwards.
    assert cur.execute("SELECT ends_on FROM assignments WHERE id = ?", [world.assignment_a]).fetchone() == (ago(1),)
    assert homework.list_active_assignments(cur, world.client_a, client_id=world.client_a.user_id).empty
    assert cur.execute(
        "SELECT count(*) FROM audit_log WHERE action = 'discharge_client' AND outcome = 'ok'"
    ).fetchone() == (1,)


@pytest.mark.parametrize(
    "ended_on,reason,field,message",
    [
        (None, "completed", "ended_on", "Choose the date"),
        (TODAY + timedelta(days=1), "completed", "ended_on", "cannot be in the future"),
        (TODAY - timedelta(days=31), "completed", "ended_on", "cannot be before that"),
        (TODAY, None, "reason", "Choose why"),
        (TODAY, "moved house", "reason", "Choose why"),
    ],
)
def test_bad_discharge_input_gets_a_message_by_the_field_and_writes_nothing(
    cur, world, ended_on, reason, field, message
):
    before = written(cur)
    with pytest.raises(InvalidInput) as refused:
        caseload.discharge_client(
            cur, world.therapist_a, client_id=world.client_a.user_id, ended_on=ended_on, reason=reason
        )
    assert message in refused.value.errors[field]
    assert written(cur) == before


def test_discharging_twice_says_when_it_ended_and_writes_nothing(cur, world):
    caseload.discharge_client(
        cur, world.therapist_a, client_id=world.client_a.user_id, ended_on=ago(2), reason="dropped_out"
    )
    before = written(cur)
    with pytest.raises(InvalidInput, match=f"already ended on {ago(2):%d %b %Y}"):
        caseload.discharge_client(
            cur, world.therapist_a, client_id=world.client_a.user_id, ended_on=TODAY, reason="completed"
        )
    with pytest.raises(InvalidInput, match="already ended"):
        caseload.discharge_client(cur, world.admin, client_id=world.client_a.user_id, ended_on=TODAY, reason="other")
    assert written(cur) == before


def test_a_discharge_date_before_a_recorded_session_is_refused(cur, world):
    sessions.record_session(
        cur, world.therapist_a, client_id=world.client_a.user_id, session_date=ago(3), attended=True
    )
    with pytest.raises(InvalidInput, match=f"session on {ago(3):%d %b %Y}"):
        caseload.discharge_client(
            cur, world.therapist_a, client_id=world.client_a.user_id, ended_on=ago(5), reason="completed"
        )
    caseload.discharge_client(
        cur, world.therapist_a, client_id=world.client_a.user_id, ended_on=ago(3), reason="completed"
    )


def test_another_therapists_client_cannot_be_discharged_but_an_admin_can_discharge_anyone(cur, world):
    with pytest.raises(AccessDenied):
        caseload.discharge_client(
            cur, world.therapist_a, client_id=world.client_b.user_id, ended_on=TODAY, reason="completed"
        )
    assert episode_rows(cur, world.client_b)[0][3] is None
    caseload.discharge_client(cur, world.admin, client_id=world.client_b.user_id, ended_on=TODAY, reason="referred_on")
    assert episode_rows(cur, world.client_b)[0][3] == TODAY


def test_no_session_can_be_recorded_after_a_discharge(cur, world):
    caseload.discharge_client(
        cur, world.therapist_a, client_id=world.client_a.user_id, ended_on=ago(1), reason="completed"
    )
    with pytest.raises(InvalidInput, match=f"ended on {ago(1):%d %b %Y}"):
        sessions.record_session(
            cur, world.therapist_a, client_id=world.client_a.user_id, session_date=TODAY, attended=True
        )
    assert cur.execute("SELECT count(*) FROM therapy_sessions").fetchone() == (0,)


def test_a_session_before_the_episode_began_is_refused(cur, world):
    with pytest.raises(InvalidInput, match="began on"):
        sessions.record_session(
            cur, world.therapist_a, client_id=world.client_a.user_id, session_date=ago(40), attended=True
        )


def test_a_discharged_client_cannot_log_homework_after_the_end(cur, world):
    caseload.discharge_client(
        cur, world.therapist_a, client_id=world.client_a.user_id, ended_on=ago(2), reason="completed"
    )
    with pytest.raises(InvalidInput) as refused:
        homework.log_homework(cur, world.client_a, assignment_id=world.assignment_a, log_date=TODAY, status="done")
    assert f"ended on {ago(2):%d %b %Y}" in refused.value.errors["assignment_id"]
    # A late log of a day inside the episode is still theirs to make.
    homework.log_homework(cur, world.client_a, assignment_id=world.assignment_a, log_date=ago(3), status="done")
    assert cur.execute(
        "SELECT log_date FROM homework_logs WHERE client_id = ?", [world.client_a.user_id]
    ).fetchall() == [(ago(3),)]


def test_a_re_referral_starts_a_new_episode_and_the_old_one_stays_ended(cur, world):
    first = caseload.discharge_client(
        cur, world.therapist_a, client_id=world.client_a.user_id, ended_on=ago(10), reason="completed"
    )
    second = caseload.link_client_to_therapist(
        cur, world.admin, client_id=world.client_a.user_id, therapist_id=world.therapist_a.user_id, started_on=ago(2)
    )
    assert [row[0] for row in episode_rows(cur, world.client_a)] == [first, second]
    assert list(metrics.caseload_summary(cur, world.therapist_a)["name"]) == ["Alice Client"]
    episodes = cohort.episode_summaries(cur, world.therapist_a, window_start=ago(30), window_end=TODAY)
    assert episodes.set_index("episode_id")["ended"].to_dict() == {first: True, second: False}
    assert episodes.set_index("episode_id")["end_reason"].fillna("").to_dict() == {first: "completed", second: ""}


def test_moving_a_client_to_another_therapist_ends_the_first_therapists_homework(cur, world):
    caseload.link_client_to_therapist(
        cur, world.admin, client_id=world.client_a.user_id, therapist_id=world.therapist_b.user_id
    )
    # The old link's last day is yesterday, and so is the last day of its homework.
    assert cur.execute("SELECT ends_on FROM assignments WHERE id = ?", [world.assignment_a]).fetchone() == (ago(1),)


# --- the cohort chooses whole episodes ---------------------------------------------------------


@pytest.fixture
def long_episode(cur, world):
    """client_a's episode began 250 days ago and ended 10 days ago: pairs (20, 15) 250 days ago,
    (8, 6) 100 days ago and (6, 5) 20 days ago, 4 attended sessions."""
    cur.execute("UPDATE caseload SET started_on = ? WHERE client_id = ?", [ago(250), world.client_a.user_id])
    add_pair(cur, world.client_a, ago(250), 20, 15)
    add_pair(cur, world.client_a, ago(100), 8, 6)
    add_pair(cur, world.client_a, ago(20), 6, 5)
    add_attended_sessions(cur, world.client_a, world.therapist_a, 240, 200, 120, 30)
    caseload.discharge_client(
        cur, world.therapist_a, client_id=world.client_a.user_id, ended_on=ago(10), reason="completed"
    )


def test_the_date_range_chooses_episodes_by_their_end_and_never_clips_them(cur, world, long_episode):
    # The default range (the last 182 days) holds the end: the whole episode counts, from the
    # first pair 250 days ago: PHQ-9 20 -> 6 and GAD-7 15 -> 5, a reliable improvement and recovery.
    (row,) = classified_for(cur, world.supervisor_a, ago(182), TODAY).query("ended").to_dict("records")
    assert (row["pairs"], row["phq9_first"], row["gad7_first"], row["phq9_last"], row["gad7_last"]) == (3, 20, 15, 6, 5)
    assert row["attended_sessions"] == 4
    assert (row["outcome"], row["finished"], row["recovery"]) == ("reliable improvement", True, True)
    # A range that ends before the discharge does not choose the episode at all.
    assert classified_for(cur, world.supervisor_a, ago(400), ago(11)).query("ended").empty
    # The therapist keeps the ended episode in their own figures.
    assert classified_for(cur, world.therapist_a, ago(182), TODAY).query("ended")["outcome"].tolist() == [
        "reliable improvement"
    ]


def test_an_episode_reads_the_mood_of_its_first_and_last_7_days_and_its_last_log(cur, world, long_episode):
    # client_a's episode: 250 days ago to 10 days ago. Its first 7 days end 244 days ago, its last
    # 7 begin 16 days ago; moods outside the episode (251 and 9 days ago) belong to no week of it.
    for days, mood in [(251, 1), (250, 2), (244, 4), (243, 9), (17, 9), (16, 6), (10, 8), (9, 1)]:
        cur.execute(
            "INSERT INTO mood_logs (client_id, log_date, mood) VALUES (?, ?, ?)",
            [world.client_a.user_id, ago(days), mood],
        )

    def ended_episode():
        summaries = cohort.episode_summaries(cur, world.supervisor_a, window_start=ago(182), window_end=TODAY)
        (row,) = summaries.query("ended").to_dict("records")
        return row

    row = ended_episode()
    assert (row["mood_first_week"], row["mood_last_week"]) == (3.0, 7.0)
    assert pd.Timestamp(row["last_log"]).date() == ago(10)
    # Without moods in the last 7 days, and with homework logged 12 days ago (and after the end):
    # the last log is the homework's.
    cur.execute("DELETE FROM mood_logs WHERE client_id = ? AND log_date >= ?", [world.client_a.user_id, ago(17)])
    for days in (12, 5):
        cur.execute(
            "INSERT INTO homework_logs (assignment_id, client_id, log_date, status) VALUES (?, ?, ?, 'done')",
            [world.assignment_a, world.client_a.user_id, ago(days)],
        )
    row = ended_episode()
    assert row["mood_first_week"] == 3.0 and pd.isna(row["mood_last_week"])
    assert pd.Timestamp(row["last_log"]).date() == ago(12)


def test_rates_count_ended_episodes_only(cur, world, long_episode):
    # client_b is in progress with two pairs and sessions: never "finished treatment".
    add_pair(cur, world.client_b, ago(20), 18, 14)
    add_pair(cur, world.client_b, ago(2), 17, 14)
    add_attended_sessions(cur, world.client_b, world.therapist_b, 15, 8)
    cur.execute(
        "INSERT INTO supervision (therapist_id, supervisor_id, started_on) VALUES (?, ?, ?)",
        [world.therapist_b.user_id, world.supervisor_a.user_id, ago(30)],
    )
    classified = classified_for(cur, world.supervisor_a, ago(182), TODAY)
    rates = outcome_rates(classified)
    assert (rates["finished treatment"].numerator, rates["finished treatment"].denominator) == (1, 1)
    assert rates["ended without finishing"].numerator == 0
    in_progress = classified[~classified["ended"]]
    assert len(in_progress) == 1 and not in_progress["finished"].any()


def test_the_client_page_outcome_counts_only_this_episodes_sessions(cur, world, earlier_episode_elsewhere):
    outcome = metrics.current_outcomes(cur, world.therapist_a).iloc[0]
    assert (outcome["pairs"], outcome["attended_sessions"], outcome["reliable_change"]) == (1, 0, "not enough data")
    caseload_row = metrics.caseload_summary(cur, world.therapist_a).iloc[0]
    assert caseload_row["reliable_change"] == "not enough data" and pd.isna(caseload_row["phq9_change"])


def test_after_a_discharge_nothing_is_expected_even_under_an_earlier_schedule_version(cur, world):
    # Homework set through the app 28 days ago (so it has schedule versions), changed today from 3 to 7 a
    # week, then the episode is ended 10 days back: no day after the end is expected under
    # either version, on the client's own page or the therapist's weekly chart.
    assignment_id = homework.create_assignment(
        cur,
        world.therapist_a,
        client_id=world.client_a.user_id,
        title="Walk",
        category="exposure",
        schedule="weekly",
        times_per_week=3,
        starts_on=ago(28),
    )
    cur.execute("UPDATE assignment_schedules SET valid_from = ? WHERE assignment_id = ?", [ago(28), assignment_id])
    homework.update_assignment(
        cur,
        world.therapist_a,
        assignment_id=assignment_id,
        title="Walk",
        category="exposure",
        schedule="weekly",
        times_per_week=7,
        starts_on=ago(28),
    )
    cur.execute("UPDATE assignments SET ends_on = ? WHERE id = ?", [ago(29), world.assignment_a])  # only "Walk"
    cur.execute("DELETE FROM assignment_schedules WHERE assignment_id = ?", [world.assignment_a])
    caseload.discharge_client(
        cur, world.therapist_a, client_id=world.client_a.user_id, ended_on=ago(10), reason="dropped_out"
    )
    weeks = metrics.weekly_compliance(
        cur, world.client_a, client_id=world.client_a.user_id, window_start=ago(28), window_end=TODAY
    )
    # 3 a week from 28 days ago through the end 10 days ago: 19 days, all under the first version.
    assert weeks["expected"].sum() == pytest.approx(3 * 19 / 7)
    assert cur.execute(
        "SELECT count(*) FROM assignment_schedules WHERE assignment_id = ? AND ends_on = ?", [assignment_id, ago(10)]
    ).fetchone() == (2,)
