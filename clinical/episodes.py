"""Outcomes for many episodes at once: pairing (the rule of outcomes.pair_questionnaires,
computed with numpy per episode), first and last pair, and the classification."""

from typing import Any

import numpy as np
import pandas as pd

from clinical.outcomes import PAIR_WINDOW_DAYS, classify_outcomes

# Why an episode of care ended (docs/clinical-rules.md, "Outcomes"); stored in discharges.reason.
DISCHARGE_REASONS = {
    "completed": "Completed treatment",
    "dropped_out": "Dropped out",
    "referred_on": "Referred on",
    "other": "Other",
}
# An episode ended by moving the client to another therapist has no discharge of its own.
MOVED_ON = "Moved to another therapist"


def _pairs_of_one_episode(
    phq_days: np.ndarray, phq_totals: np.ndarray, gad_days: np.ndarray, gad_totals: np.ndarray
) -> list[tuple[Any, Any, Any]]:
    """Return [(day, phq9, gad7), ...] by date: closest-first greedy pairing within 7 days.

    Same rule as outcomes.pair_questionnaires: candidates by gap, then pair date, then
    the PHQ-9's and the GAD-7's date, then input order; each questionnaire used once.
    """
    gaps = np.abs(phq_days[:, None] - gad_days[None, :])
    i, j = np.nonzero(gaps <= PAIR_WINDOW_DAYS)
    if len(i) == 0:
        return []
    later = np.maximum(phq_days[i], gad_days[j])
    order = np.lexsort((j, i, gad_days[j], phq_days[i], later, gaps[i, j]))
    used_phq, used_gad, pairs = set(), set(), []
    for k in order:
        if i[k] in used_phq or j[k] in used_gad:
            continue
        used_phq.add(i[k])
        used_gad.add(j[k])
        pairs.append((later[k], phq_totals[i[k]], gad_totals[j[k]]))
    pairs.sort(key=lambda pair: pair[0])
    return pairs


def first_and_last_pairs(questionnaires: pd.DataFrame) -> pd.DataFrame:
    """Return per episode: pairs, phq9_first, gad7_first, phq9_last, gad7_last.

    `questionnaires` has columns episode_id, instrument ("PHQ-9"/"GAD-7"), taken_on, total.
    Only episodes with at least one questionnaire appear; those without a pair get
    pairs = 0 and NaN scores. With one pair, that pair is both the first and the last:
    a change needs 2 pairs (classify_outcomes leaves it undefined below that).
    """
    columns = ["episode_id", "pairs", "phq9_first", "gad7_first", "phq9_last", "gad7_last"]
    if questionnaires.empty:
        return pd.DataFrame(columns=columns)
    # Plain numpy arrays, sliced per episode: pandas filtering per episode is the slow part.
    frame = questionnaires.sort_values(["episode_id", "taken_on"], kind="stable")
    episode = frame["episode_id"].to_numpy()
    day = pd.to_datetime(frame["taken_on"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    is_phq = (frame["instrument"] == "PHQ-9").to_numpy()
    total = frame["total"].to_numpy(dtype=float)
    starts = np.flatnonzero(np.r_[True, episode[1:] != episode[:-1]])
    rows = []
    for start, stop in zip(starts, np.r_[starts[1:], len(episode)]):
        phq, gad = is_phq[start:stop], ~is_phq[start:stop]
        days, totals = day[start:stop], total[start:stop]
        pairs = _pairs_of_one_episode(days[phq], totals[phq], days[gad], totals[gad])
        first, last = (pairs[0], pairs[-1]) if pairs else ((None, np.nan, np.nan),) * 2
        rows.append((episode[start], len(pairs), first[1], first[2], last[1], last[2]))
    return pd.DataFrame(rows, columns=columns)


def classify_episodes(episodes: pd.DataFrame, questionnaires: pd.DataFrame) -> pd.DataFrame:
    """Return `episodes` (episode_id, attended_sessions, ended, ...) with pair scores, changes
    and the outcome classification of clinical.outcomes.classify_outcomes: the one path every
    page (caseload, client page, insights, cohort) takes to a client's outcome.

    Added columns: pairs, phq9_first/last, gad7_first/last, phq9_change, gad7_change
    (last minus first pair; NaN with fewer than 2 pairs) and the outcome flags.
    """
    scores = first_and_last_pairs(questionnaires)
    merged = episodes.merge(scores, on="episode_id", how="left")
    merged["pairs"] = merged["pairs"].fillna(0).astype(int)
    return classify_outcomes(merged)
