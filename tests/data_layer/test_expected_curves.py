"""Scores by week of the episode (the frame the not-on-track rule judges) and the clinic's
expected curves: fitted on its own ended episodes once there are enough, built-in before."""

from datetime import date, timedelta

import numpy as np
import pytest

from clinical.expected_response import BUILT_IN, MIN_ENDED_EPISODES
from data_layer.reports import cohort, expected_curves
from tests.clinical.test_expected_response import demo_episodes
from tests.conftest import add_user

TODAY = date.today()


def add_questionnaire(cur, client, instrument, taken_on, total):
    """Insert a PHQ-9 (item 9 answered 0) or GAD-7 with this total, spread over its items."""
    items = 9 if instrument == "PHQ-9" else 7
    answers = [min(3, max(0, total - 3 * index)) for index in range(items - 1 if instrument == "PHQ-9" else items)]
    answers += [0] if instrument == "PHQ-9" else [None, None]
    cur.execute(
        """INSERT INTO questionnaires (client_id, instrument, taken_on, item_1, item_2, item_3, item_4,
               item_5, item_6, item_7, item_8, item_9, total)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [client.user_id, instrument, taken_on, *answers, total],
    )


def test_scores_come_by_week_of_the_episode_with_the_intake_on_every_row(cur, world):
    started = TODAY - timedelta(days=30)  # the world's episodes began 30 days ago
    for day, total in ((0, 20), (6, 19), (7, 18), (29, 15)):
        add_questionnaire(cur, world.client_a, "PHQ-9", started + timedelta(days=day), total)
    add_questionnaire(cur, world.client_a, "GAD-7", started + timedelta(days=9), 12)  # no intake GAD-7

    scores = cohort.episode_scores(cur, world.therapist_a, window_start=TODAY, window_end=TODAY)

    phq = scores[scores["instrument"] == "PHQ-9"]
    # One score per week, its latest; the intake stays the week's first.
    assert phq["week"].tolist() == [0, 1, 4]
    assert phq["total"].tolist() == [19, 18, 15]
    assert phq["intake"].tolist() == [20] * 3
    gad = scores[scores["instrument"] == "GAD-7"]
    assert gad["week"].tolist() == [1] and gad["intake"].isna().all()
    # Only the therapist's own episodes: client_b's PHQ-9 is another team's.
    assert scores["episode_id"].nunique() == 1


def test_a_supervisor_gets_episode_ids_and_no_identity(cur, world):
    add_questionnaire(cur, world.client_a, "PHQ-9", TODAY, 10)
    scores = cohort.episode_scores(cur, world.supervisor_a, window_start=TODAY, window_end=TODAY)
    assert list(scores.columns) == ["episode_id", "instrument", "week", "total", "intake"]
    episodes = cohort.current_episodes(cur, world.supervisor_a)
    assert episodes["therapist"].tolist() == ["Tom Therapist"]


def test_a_small_clinic_uses_the_built_in_curves_and_says_why(cur, world):
    curves = expected_curves.clinic_curves(cur, world.therapist_a)
    assert curves["PHQ-9"].source == "built-in"
    assert curves["PHQ-9"].intake == BUILT_IN["PHQ-9"].intake
    assert "0 ended episodes" in curves["PHQ-9"].note
    assert f"at least {MIN_ENDED_EPISODES}" in curves["GAD-7"].note


def test_the_curves_input_changes_when_an_episode_ends_in_the_past_not_today(cur, world):
    before = expected_curves.curves_input_version(cur, world.therapist_a)
    cur.execute("UPDATE caseload SET ended_on = current_date WHERE client_id = ?", [world.client_a.user_id])
    assert expected_curves.curves_input_version(cur, world.therapist_a) == before
    cur.execute("UPDATE caseload SET ended_on = current_date - 1 WHERE client_id = ?", [world.client_a.user_id])
    assert expected_curves.curves_input_version(cur, world.therapist_a) != before


@pytest.mark.slow
def test_enough_ended_episodes_give_the_clinic_its_own_curves(cur, world):
    """300 ended episodes simulated from the demo model, written as a clinic's records: the
    fit on them is the clinic's, close to the built-in curve fitted on the same model."""
    frame = demo_episodes(np.random.default_rng(3), MIN_ENDED_EPISODES)
    frame = frame[frame["week"] <= 8]
    therapist = add_user(cur, "therapist_fit", "Fit Therapist", "therapist")
    started = TODAY - timedelta(weeks=20)
    # In bulk: 300 clients with their episodes, and their scores spread over the items.
    cur.register("simulated", frame)
    cur.execute(
        """INSERT INTO users (username, display_name, role, password_hash)
           SELECT DISTINCT 'fit_client_' || episode_id, 'Fit Client ' || episode_id, 'client', 'x'
           FROM simulated"""
    )
    cur.execute(
        """INSERT INTO caseload (client_id, therapist_id, started_on, ended_on)
           SELECT id, ?, CAST(? AS DATE), CAST(? AS DATE) FROM users WHERE username LIKE 'fit_client_%'""",
        [therapist.user_id, started, started + timedelta(weeks=9)],
    )
    cur.execute(
        """INSERT INTO questionnaires (client_id, instrument, taken_on, item_1, item_2, item_3, item_4,
               item_5, item_6, item_7, item_8, item_9, total)
           SELECT u.id, s.instrument, CAST(? AS DATE) + CAST(7 * s.week AS INTEGER),
                  least(3, greatest(0, s.total)), least(3, greatest(0, s.total - 3)),
                  least(3, greatest(0, s.total - 6)), least(3, greatest(0, s.total - 9)),
                  least(3, greatest(0, s.total - 12)), least(3, greatest(0, s.total - 15)),
                  least(3, greatest(0, s.total - 18)),
                  CASE WHEN s.instrument = 'PHQ-9' THEN least(3, greatest(0, s.total - 21)) END,
                  CASE WHEN s.instrument = 'PHQ-9' THEN 0 END, s.total
           FROM simulated s JOIN users u ON u.username = 'fit_client_' || s.episode_id""",
        [started],
    )

    curves = expected_curves.clinic_curves(cur, world.therapist_a)

    assert curves["PHQ-9"].source == "clinic" and curves["PHQ-9"].n_episodes == MIN_ENDED_EPISODES
    clinic = curves["PHQ-9"].band(16, [6]).iloc[0]
    built_in = BUILT_IN["PHQ-9"].band(16, [6]).iloc[0]
    assert clinic["expected"] == pytest.approx(built_in["expected"], abs=1.0)
    assert clinic["upper"] == pytest.approx(built_in["upper"], abs=1.5)
