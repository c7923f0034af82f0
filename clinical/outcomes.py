"""Outcome rules of NHS Talking Therapies (docs/clinical-rules.md, "Outcomes").

Per episode of care, from its FIRST and LAST questionnaire pair (a PHQ-9 and a
GAD-7 given within 7 days of each other): caseness, finished treatment,
reliable improvement / deterioration, recovery and reliable recovery; the
cohort rates with explicit denominators; and the Jacobson & Truax reliable
change index for the per-client card.
"""

from dataclasses import dataclass
from math import sqrt

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

PHQ9_CASENESS = 10
GAD7_CASENESS = 8  # the outcome threshold; the GAD-7 SCREENING cut-off (10) is a different number
PHQ9_RELIABLE_CHANGE = 6
GAD7_RELIABLE_CHANGE = 4
MIN_ATTENDED_SESSIONS = 2
MIN_PAIRS = 2
PAIR_WINDOW_DAYS = 7

RELIABLE_Z = 1.96  # |RCI| above this is reliable (two-sided 5%)

OUTCOMES = ("reliable improvement", "reliable deterioration", "no reliable change", "not enough data")
ENDED_WITHOUT_FINISHING = "ended without finishing"


@dataclass(frozen=True)
class Reference:
    """A national figure to compare a cohort's rate with (a proportion, 0-1)."""

    rate: float
    source: str


NATIONAL_REFERENCE = {
    "recovery": Reference(
        0.50,
        "National standard: at least 50% recover (50.2% in 2021-22, NHS Digital "
        "Psychological Therapies annual report 2021-22)",
    ),
    "reliable improvement": Reference(
        0.67, "About two thirds: 67% in 2022-23 (NHS Talking Therapies annual report 2022-23)"
    ),
    "reliable recovery": Reference(
        0.484, "48.4% in April 2025 (NHS Talking Therapies Monthly Statistics, Performance April 2025)"
    ),
}

PAIR_COLUMNS = ["paired_on", "phq9", "gad7"]


def pair_questionnaires(phq: pd.DataFrame, gad: pd.DataFrame) -> pd.DataFrame:
    """Pair the PHQ-9s and GAD-7s of ONE episode.

    `phq` and `gad` have columns `taken_on` (a date) and `total`. Returns a
    DataFrame with columns `paired_on` (the later of the two dates, as given),
    `phq9` and `gad7`, one row per pair, sorted by `paired_on`.

    Rule (deterministic, closest first): every PHQ-9/GAD-7 combination at most
    7 days apart is a candidate; candidates are taken in order of the gap in
    days (same day first), then of the pair's date, then of the PHQ-9's and the
    GAD-7's date, then of their order in the input; a candidate is kept when
    neither questionnaire is already in a pair. So a same-day pair is never
    broken up to make a pair across days, and each questionnaire is used once.
    """
    phq = _by_date(phq)
    gad = _by_date(gad)
    candidates = []
    for i, phq_day in enumerate(phq["day"]):
        for j, gad_day in enumerate(gad["day"]):
            gap = abs((phq_day - gad_day).days)
            if gap <= PAIR_WINDOW_DAYS:
                candidates.append((gap, max(phq_day, gad_day), phq_day, gad_day, i, j))
    used_phq, used_gad, pairs = set(), set(), []
    for _gap, _paired_day, phq_day, gad_day, i, j in sorted(candidates):
        if i in used_phq or j in used_gad:
            continue
        used_phq.add(i)
        used_gad.add(j)
        later = phq.iloc[i] if phq_day >= gad_day else gad.iloc[j]
        pairs.append((later["day"], later["taken_on"], phq["total"].iloc[i], gad["total"].iloc[j]))
    pairs.sort(key=lambda pair: pair[0])
    return pd.DataFrame([pair[1:] for pair in pairs], columns=PAIR_COLUMNS)


def _by_date(questionnaires: pd.DataFrame) -> pd.DataFrame:
    """The questionnaires with a comparable `day` column, in date order (stable for equal dates)."""
    frame = questionnaires[["taken_on", "total"]].copy()
    frame["day"] = pd.to_datetime(frame["taken_on"]).dt.normalize()
    return frame.sort_values("day", kind="stable").reset_index(drop=True)


def classify_outcomes(episodes: pd.DataFrame) -> pd.DataFrame:
    """Classify each episode by the NHS Talking Therapies rules.

    `episodes` has one row per episode and columns `phq9_first`, `gad7_first`,
    `phq9_last`, `gad7_last` (scores of the first and last PAIR, may be NaN),
    `pairs`, `attended_sessions` and `ended` (whether the episode has ended).
    Returns a copy with the changes `phq9_change` and `gad7_change` (last minus
    first pair; NaN, "not enough data", below MIN_PAIRS pairs: one pair is its
    own first and last, and its change of 0 would read as "no change"), the
    boolean columns `case_at_start`, `case_at_end`, `measured` (2+ attended
    sessions and 2+ pairs), `finished` (ended and measured),
    `ended_without_finishing`, `reliable_improvement`, `reliable_deterioration`,
    `recovery`, `reliable_recovery` and the text column `outcome` (one of
    OUTCOMES, or "ended without finishing").

    The outcome flags of an episode in progress are its progress so far: they
    are set once it is measured, and outcome_rates leaves them out (rates are
    over ended episodes); progress_so_far reports them apart. Caseness is read
    from whatever scores exist (False when they are missing). When one scale
    falls reliably and the other rises reliably, the episode is a reliable
    deterioration and NOT a reliable improvement ("neither rises by that much" fails).
    """
    result = episodes.copy()
    phq_first, gad_first = _scores(episodes, "phq9_first"), _scores(episodes, "gad7_first")
    phq_last, gad_last = _scores(episodes, "phq9_last"), _scores(episodes, "gad7_last")
    enough_pairs = _counts(episodes, "pairs") >= MIN_PAIRS
    phq_change = (phq_last - phq_first).where(enough_pairs)
    gad_change = (gad_last - gad_first).where(enough_pairs)
    result["phq9_change"], result["gad7_change"] = phq_change, gad_change

    result["case_at_start"] = _is_case(phq_first, gad_first)
    result["case_at_end"] = _is_case(phq_last, gad_last)
    # Complete scores are implied by 2+ pairs; checking them guards against inconsistent input.
    scored = phq_first.notna() & gad_first.notna() & phq_last.notna() & gad_last.notna()
    measured = (_counts(episodes, "attended_sessions") >= MIN_ATTENDED_SESSIONS) & enough_pairs & scored
    ended = episodes["ended"].fillna(False).astype(bool)
    result["ended"] = ended
    result["measured"] = measured
    result["finished"] = ended & measured
    result["ended_without_finishing"] = ended & ~measured

    # NaN comparisons are False, so an unmeasured episode cannot slip into a flag.
    fell = (phq_change <= -PHQ9_RELIABLE_CHANGE) | (gad_change <= -GAD7_RELIABLE_CHANGE)
    rose = (phq_change >= PHQ9_RELIABLE_CHANGE) | (gad_change >= GAD7_RELIABLE_CHANGE)
    result["reliable_improvement"] = measured & fell & ~rose
    result["reliable_deterioration"] = measured & rose
    result["recovery"] = measured & result["case_at_start"] & ~result["case_at_end"]
    result["reliable_recovery"] = result["recovery"] & result["reliable_improvement"]

    result["outcome"] = np.select(
        [ended & ~measured, ~measured, result["reliable_deterioration"], result["reliable_improvement"]],
        [ENDED_WITHOUT_FINISHING, "not enough data", "reliable deterioration", "reliable improvement"],
        default="no reliable change",
    )
    return result


def _scores(frame: pd.DataFrame, column: str) -> pd.Series:
    """A score column as float, with any kind of missing value as NaN."""
    return pd.to_numeric(frame[column], errors="raise").astype("float64")


def _counts(frame: pd.DataFrame, column: str) -> pd.Series:
    """A count column as float, a missing count read as 0."""
    return _scores(frame, column).fillna(0)


def _is_case(phq9: pd.Series, gad7: pd.Series) -> pd.Series:
    return (phq9 >= PHQ9_CASENESS) | (gad7 >= GAD7_CASENESS)


@dataclass(frozen=True)
class Rate:
    """A proportion with its parts; `rate` is None when the denominator is 0."""

    numerator: int
    denominator: int
    rate: float | None


def outcome_rates(classified: pd.DataFrame) -> dict[str, Rate]:
    """Return the cohort's rates over its ENDED episodes, from the output of classify_outcomes.

    A dict, in display order, of measure name -> Rate: "finished treatment" and
    "ended without finishing" (of all ended episodes), "reliable improvement" and
    "reliable deterioration" (of those who finished), "recovery" and "reliable
    recovery" (of those who finished AND were a case at the start). Episodes in
    progress count nowhere here (see progress_so_far).
    """
    ended = classified["ended"].astype(bool)
    finished = classified["finished"].astype(bool)
    return {
        "finished treatment": _rate(finished, ended),
        "ended without finishing": _rate(classified["ended_without_finishing"], ended),
        **_change_rates(classified, finished),
    }


def progress_so_far(classified: pd.DataFrame) -> dict[str, Rate]:
    """Return the rates of the episodes IN PROGRESS that are measured (2+ sessions, 2+ pairs),
    from their first to their latest pair: "reliable improvement" and "reliable
    deterioration" (of those measured), "recovery" and "reliable recovery" (of those
    measured and a case at the start). Never mixed with outcome_rates."""
    return _change_rates(classified, ~classified["ended"].astype(bool) & classified["measured"].astype(bool))


def _change_rates(classified: pd.DataFrame, denominator: pd.Series) -> dict[str, Rate]:
    eligible_for_recovery = denominator & classified["case_at_start"].astype(bool)
    return {
        "reliable improvement": _rate(classified["reliable_improvement"], denominator),
        "reliable deterioration": _rate(classified["reliable_deterioration"], denominator),
        "recovery": _rate(classified["recovery"], eligible_for_recovery),
        "reliable recovery": _rate(classified["reliable_recovery"], eligible_for_recovery),
    }


def _rate(flag: pd.Series, denominator_mask: pd.Series) -> Rate:
    denominator = int(denominator_mask.sum())
    numerator = int((flag.astype(bool) & denominator_mask).sum())
    return Rate(numerator, denominator, numerator / denominator if denominator else None)


def reliable_change_index(x1: ArrayLike, x2: ArrayLike, sd: float, r: float) -> float | np.ndarray:
    """Return the Jacobson & Truax RCI, (x2 - x1) / (sqrt(2) * sd * sqrt(1 - r)).

    `sd` is the baseline standard deviation and `r` the test-retest
    reliability. |RCI| > 1.96 is a reliable change. Works on scalars and arrays.
    """
    return np.subtract(x2, x1, dtype=float) / _s_diff(sd, r)


def reliable_change_threshold(sd: float, r: float) -> float:
    """Return the smallest reliable change in points, 1.96 * sqrt(2) * sd * sqrt(1 - r).

    E.g. sd 5.5 and r 0.85 give 5.9, which is why the PHQ-9 rule uses 6.
    """
    return RELIABLE_Z * _s_diff(sd, r)


def _s_diff(sd: float, r: float) -> float:
    if sd <= 0 or not 0 <= r < 1:
        raise ValueError("The SD must be positive and the reliability between 0 and 1 (not 1).")
    return sqrt(2) * sd * sqrt(1 - r)
