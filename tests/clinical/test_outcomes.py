"""Outcome rules (docs/clinical-rules.md "Outcomes") on a hand-built cohort, pairing, and the RCI."""

from datetime import date, timedelta
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from clinical.episodes import classify_episodes
from clinical.outcomes import (
    NATIONAL_REFERENCE,
    Rate,
    classify_outcomes,
    outcome_rates,
    pair_questionnaires,
    progress_so_far,
    reliable_change_index,
    reliable_change_threshold,
)

NAN = np.nan
FLAGS = [
    "case_at_start",
    "case_at_end",
    "finished",
    "reliable_improvement",
    "reliable_deterioration",
    "recovery",
    "reliable_recovery",
]

# name: (phq9_first, gad7_first, phq9_last, gad7_last, pairs, attended_sessions),
#       (case_at_start, case_at_end, finished, RI, RD, recovery, reliable recovery), outcome
COHORT = {
    "both fall, recovers": ((15, 10, 8, 5, 3, 5), (1, 0, 1, 1, 0, 1, 1), "reliable improvement"),
    "PHQ-9 -5: recovery without RI": ((14, 6, 9, 6, 3, 5), (1, 0, 1, 0, 0, 1, 0), "no reliable change"),
    "PHQ-9 -6": ((14, 6, 8, 6, 3, 5), (1, 0, 1, 1, 0, 1, 1), "reliable improvement"),
    "GAD-7 -3, still a case": ((8, 12, 8, 9, 3, 5), (1, 1, 1, 0, 0, 0, 0), "no reliable change"),
    "GAD-7 -4 to 8, still a case": ((8, 12, 8, 8, 3, 5), (1, 1, 1, 1, 0, 0, 0), "reliable improvement"),
    "GAD-7 -4 to 7, recovers": ((8, 11, 8, 7, 3, 5), (1, 0, 1, 1, 0, 1, 1), "reliable improvement"),
    "PHQ-9 9 and GAD-7 7 at start: not a case": ((9, 7, 3, 2, 3, 5), (0, 0, 1, 1, 0, 0, 0), "reliable improvement"),
    "PHQ-9 10 at start is a case": ((10, 5, 9, 5, 3, 5), (1, 0, 1, 0, 0, 1, 0), "no reliable change"),
    "GAD-7 8 at start is a case": ((5, 8, 5, 7, 3, 5), (1, 0, 1, 0, 0, 1, 0), "no reliable change"),
    "PHQ-9 10 at end is a case": ((16, 5, 10, 5, 3, 5), (1, 1, 1, 1, 0, 0, 0), "reliable improvement"),
    "PHQ-9 +6 with GAD-7 -4": ((12, 12, 18, 8, 3, 5), (1, 1, 1, 0, 1, 0, 0), "reliable deterioration"),
    "PHQ-9 -6 with GAD-7 +4": ((16, 5, 10, 9, 3, 5), (1, 1, 1, 0, 1, 0, 0), "reliable deterioration"),
    "PHQ-9 +5": ((12, 6, 17, 6, 3, 5), (1, 1, 1, 0, 0, 0, 0), "no reliable change"),
    "GAD-7 +4 from non-case": ((6, 4, 6, 8, 3, 5), (0, 1, 1, 0, 1, 0, 0), "reliable deterioration"),
    "exactly 2 sessions and 2 pairs": ((11, 9, 4, 3, 2, 2), (1, 0, 1, 1, 0, 1, 1), "reliable improvement"),
    "one attended session": ((18, 14, 6, 3, 3, 1), (1, 0, 0, 0, 0, 0, 0), "not enough data"),
    "one pair": ((18, 14, 18, 14, 1, 6), (1, 1, 0, 0, 0, 0, 0), "not enough data"),
    "no pairs": ((NAN, NAN, NAN, NAN, 0, 3), (0, 0, 0, 0, 0, 0, 0), "not enough data"),
    "would deteriorate but one session": ((10, 8, 20, 15, 2, 1), (1, 1, 0, 0, 0, 0, 0), "not enough data"),
}
# Every episode above has ended; those that did not finish read "ended without finishing".
ENDED_OUTCOME = {
    name: "ended without finishing" if outcome == "not enough data" else outcome
    for name, (_scores, _flags, outcome) in COHORT.items()
}


@pytest.fixture(scope="module")
def classified():
    episodes = pd.DataFrame(
        [scores for scores, _flags, _outcome in COHORT.values()],
        columns=["phq9_first", "gad7_first", "phq9_last", "gad7_last", "pairs", "attended_sessions"],
        index=list(COHORT),
    ).assign(ended=True)
    return classify_outcomes(episodes)


@pytest.mark.parametrize("name", list(COHORT))
def test_each_episode_flags_and_outcome(classified, name):
    _scores, flags, _outcome = COHORT[name]
    row = classified.loc[name]
    assert {flag: bool(row[flag]) for flag in FLAGS} == dict(zip(FLAGS, map(bool, flags)))
    assert row["outcome"] == ENDED_OUTCOME[name]


def test_flags_are_plain_booleans_without_missing_values(classified):
    for flag in FLAGS:
        assert classified[flag].dtype == bool


def test_cohort_rates_against_hand_counts(classified):
    rates = outcome_rates(classified)
    # 19 ended episodes, 4 not finished; 13 of the 15 finished were a case at the start.
    expected = {
        "finished treatment": Fraction(15, 19),
        "ended without finishing": Fraction(4, 19),
        "reliable improvement": Fraction(7, 15),
        "reliable deterioration": Fraction(3, 15),
        "recovery": Fraction(7, 13),
        "reliable recovery": Fraction(4, 13),
    }
    assert list(rates) == list(expected)
    for measure, fraction in expected.items():
        rate = rates[measure]
        assert Fraction(rate.numerator, rate.denominator) == fraction
        assert rate.denominator == {
            "finished treatment": 19,
            "ended without finishing": 19,
            "reliable improvement": 15,
            "reliable deterioration": 15,
        }.get(measure, 13)
        assert rate.rate == pytest.approx(float(fraction))


def test_rates_with_no_denominator_are_none():
    nobody_finished = classify_outcomes(
        pd.DataFrame(
            {
                "phq9_first": [15.0],
                "gad7_first": [10.0],
                "phq9_last": [15.0],
                "gad7_last": [10.0],
                "pairs": [1],
                "attended_sessions": [4],
                "ended": [True],
            }
        )
    )
    rates = outcome_rates(nobody_finished)
    assert rates["finished treatment"] == Rate(0, 1, 0.0)
    assert rates["ended without finishing"] == Rate(1, 1, 1.0)
    for measure in ("reliable improvement", "reliable deterioration", "recovery", "reliable recovery"):
        assert rates[measure] == Rate(0, 0, None)


def test_nullable_integer_columns_from_the_database_are_accepted():
    episodes = pd.DataFrame(
        {
            "phq9_first": pd.array([15, None], dtype="Int64"),
            "gad7_first": pd.array([10, None], dtype="Int64"),
            "phq9_last": pd.array([8, None], dtype="Int64"),
            "gad7_last": pd.array([5, None], dtype="Int64"),
            "pairs": pd.array([2, 0], dtype="Int64"),
            "attended_sessions": pd.array([3, None], dtype="Int64"),
            "ended": [False, False],
        }
    )
    result = classify_outcomes(episodes)
    assert result["reliable_recovery"].tolist() == [True, False]
    assert result["outcome"].tolist() == ["reliable improvement", "not enough data"]


def test_one_pair_has_an_undefined_change_not_a_change_of_0():
    # By hand: one pair is its own first and last (18, 14): no change can be read from it;
    # two pairs 18 -> 11 and 14 -> 15 change by -7 and +1, a reliable improvement.
    result = classify_outcomes(
        pd.DataFrame(
            {
                "phq9_first": [18.0, 18.0, NAN],
                "gad7_first": [14.0, 14.0, NAN],
                "phq9_last": [18.0, 11.0, NAN],
                "gad7_last": [14.0, 15.0, NAN],
                "pairs": [1, 2, 0],
                "attended_sessions": [6, 6, 6],
                "ended": False,
            }
        )
    )
    assert result["phq9_change"].tolist() == pytest.approx([NAN, -7, NAN], nan_ok=True)
    assert result["gad7_change"].tolist() == pytest.approx([NAN, 1, NAN], nan_ok=True)
    assert result["outcome"].tolist() == ["not enough data", "reliable improvement", "not enough data"]


def test_episodes_with_one_questionnaire_pair_get_no_change():
    day = pd.Timestamp(2025, 3, 3)
    questionnaires = pd.DataFrame(
        [
            (1, "PHQ-9", day, 18),
            (1, "GAD-7", day, 14),
            (2, "PHQ-9", day, 18),
            (2, "GAD-7", day, 14),
            (2, "PHQ-9", day + pd.Timedelta(days=28), 11),
            (2, "GAD-7", day + pd.Timedelta(days=27), 15),
        ],
        columns=["episode_id", "instrument", "taken_on", "total"],
    )
    episodes = pd.DataFrame({"episode_id": [1, 2, 3], "attended_sessions": [4, 4, 4], "ended": False})
    result = classify_episodes(episodes, questionnaires).set_index("episode_id")
    assert result["pairs"].tolist() == [1, 2, 0]
    assert result.loc[1, ["phq9_first", "phq9_last"]].tolist() == [18, 18]  # the one pair, kept as it is
    assert result["phq9_change"].tolist() == pytest.approx([NAN, -7, NAN], nan_ok=True)
    assert result["gad7_change"].tolist() == pytest.approx([NAN, 1, NAN], nan_ok=True)
    assert result["outcome"].tolist() == ["not enough data", "reliable improvement", "not enough data"]


def test_episodes_in_progress_never_count_in_the_rates_and_show_their_progress_apart(classified):
    # By hand: the 19 ended episodes above, plus 3 in progress: one measured that improved
    # (15, 10 -> 8, 5: recovers), one measured with no change (12, 9 -> 11, 9), one with 1 pair.
    in_progress = classify_outcomes(
        pd.DataFrame(
            [(15, 10, 8, 5, 2, 3), (12, 9, 11, 9, 3, 4), (18, 14, 18, 14, 1, 2)],
            columns=["phq9_first", "gad7_first", "phq9_last", "gad7_last", "pairs", "attended_sessions"],
            index=["improving", "steady", "one pair"],
        ).assign(ended=False)
    )
    both = pd.concat([classified, in_progress])
    assert outcome_rates(both) == outcome_rates(classified)
    assert not in_progress["finished"].any() and not in_progress["ended_without_finishing"].any()
    assert in_progress["outcome"].tolist() == ["reliable improvement", "no reliable change", "not enough data"]
    progress = progress_so_far(both)
    assert progress["reliable improvement"] == Rate(1, 2, 0.5)
    assert progress["recovery"] == Rate(1, 2, 0.5)
    assert progress["reliable deterioration"] == Rate(0, 2, 0.0)


def test_an_episode_that_ended_with_one_pair_ended_without_finishing():
    ended = classify_outcomes(
        pd.DataFrame(
            {
                "phq9_first": [18.0],
                "gad7_first": [14.0],
                "phq9_last": [18.0],
                "gad7_last": [14.0],
                "pairs": [1],
                "attended_sessions": [1],
                "ended": [True],
            }
        )
    )
    assert ended["outcome"].tolist() == ["ended without finishing"]
    assert ended["ended_without_finishing"].tolist() == [True]
    assert pd.isna(ended["phq9_change"].iloc[0])


def test_national_reference_figures():
    assert NATIONAL_REFERENCE["recovery"].rate == 0.50
    assert NATIONAL_REFERENCE["reliable improvement"].rate == 0.67
    assert NATIONAL_REFERENCE["reliable recovery"].rate == 0.484
    assert all(reference.source for reference in NATIONAL_REFERENCE.values())


# --- pairing ---------------------------------------------------------------

DAY = date(2025, 3, 3)


def questionnaires(*days_and_totals):
    return pd.DataFrame(
        [(DAY + timedelta(days=day), total) for day, total in days_and_totals],
        columns=["taken_on", "total"],
    )


def as_tuples(pairs):
    return [((row.paired_on - DAY).days, row.phq9, row.gad7) for row in pairs.itertuples()]


def test_same_day_questionnaires_pair():
    pairs = pair_questionnaires(questionnaires((0, 14)), questionnaires((0, 9)))
    assert list(pairs.columns) == ["paired_on", "phq9", "gad7"]
    assert as_tuples(pairs) == [(0, 14, 9)]


@pytest.mark.parametrize("phq_day, gad_day", [(0, 7), (7, 0)])
def test_seven_days_apart_pair_on_the_later_date(phq_day, gad_day):
    pairs = pair_questionnaires(questionnaires((phq_day, 14)), questionnaires((gad_day, 9)))
    assert as_tuples(pairs) == [(7, 14, 9)]


@pytest.mark.parametrize("phq_day, gad_day", [(0, 8), (8, 0)])
def test_eight_days_apart_do_not_pair(phq_day, gad_day):
    assert pair_questionnaires(questionnaires((phq_day, 14)), questionnaires((gad_day, 9))).empty


def test_each_questionnaire_is_used_once():
    pairs = pair_questionnaires(questionnaires((0, 14), (1, 13)), questionnaires((0, 9)))
    assert as_tuples(pairs) == [(0, 14, 9)]


def test_a_same_day_pair_is_not_broken_up_for_an_earlier_questionnaire():
    # Walking in date order would pair the day-0 PHQ-9 with the day-5 GAD-7; closest-first keeps day 5 together.
    pairs = pair_questionnaires(questionnaires((0, 20), (5, 12)), questionnaires((5, 8)))
    assert as_tuples(pairs) == [(5, 12, 8)]


def test_a_course_of_pairs_sorted_by_date_whatever_the_input_order():
    phq = questionnaires((28, 7), (0, 18), (14, 11))
    gad = questionnaires((15, 8), (30, 5), (2, 12), (60, 3))
    assert as_tuples(pair_questionnaires(phq, gad)) == [(2, 18, 12), (15, 11, 8), (30, 7, 5)]


def test_no_questionnaires_gives_an_empty_frame_with_the_columns():
    pairs = pair_questionnaires(questionnaires(), questionnaires((0, 9)))
    assert pairs.empty and list(pairs.columns) == ["paired_on", "phq9", "gad7"]


# --- reliable change index -------------------------------------------------


def test_reliable_change_threshold_matches_clinical_md():
    assert round(reliable_change_threshold(5.5, 0.85), 1) == 5.9


def test_rci_of_a_change_equal_to_the_threshold_is_1_96():
    threshold = reliable_change_threshold(5.5, 0.85)
    assert reliable_change_index(20, 20 - threshold, 5.5, 0.85) == pytest.approx(-1.96)
    assert reliable_change_index([10, 10], [16, 10], 5.5, 0.85) == pytest.approx([1.9917, 0.0], abs=1e-4)


@pytest.mark.parametrize("sd, r", [(0, 0.85), (5.5, 1.0), (5.5, -0.1)])
def test_rci_rejects_impossible_parameters(sd, r):
    with pytest.raises(ValueError):
        reliable_change_threshold(sd, r)
