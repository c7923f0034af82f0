"""Not on track (issue #17; docs/clinical-rules.md, "Expected treatment response and not on
track"): the clinic's expected curves, kept until the episodes they are fitted on change, and
the judgement of every current episode: the one function the caseload, the client page and
the supervisor's view read it from."""

import threading
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from clinical.expected_response import BUILT_IN, backtest, disengagement, judge_episodes
from clinical.reporting import count_text, hidden_cells, reveals_few
from data_layer import checklists
from data_layer.core import settings
from data_layer.reports import cohort, expected_curves, metrics
from ui.cache import cached, derived
from ui.insights import load_classified_episodes

TRACK_COLUMNS = ("episode_id", "status", "reason", "disengaging", "engagement_reason", "alert")


# Module state, not st.cache_resource: any visitor can send Streamlit's clear-cache message, and a
# refit takes seconds at size L (docs/architecture.md). One fit per database at a time: sessions
# asking meanwhile wait for it instead of fitting the same curves again.
_fitted = {}  # database path -> (curves_input_version, curves)
_fitting = threading.Lock()


def clinic_curves(cur, principal):
    """Return {instrument: ExpectedResponse}: the clinic's curves, or the built-in ones (their
    `note` says which and why), kept until the ended episodes they are fitted on change
    (expected_curves.curves_input_version)."""
    database = str(settings.database_path())
    version = expected_curves.curves_input_version(cur, principal)
    with _fitting:
        kept = _fitted.get(database)
        if kept is None or kept[0] != version:
            with st.spinner("Fitting the clinic's expected recovery curves…"):
                kept = _fitted[database] = (version, expected_curves.clinic_curves(cur, principal))
    return kept[1]


def curves_note(curves):
    """One short paragraph on where the curves come from, for every view that shows a judgement:
    each instrument's reason, and what the built-in curves are, said once."""
    built_in = BUILT_IN["PHQ-9"].note
    reasons = dict.fromkeys(curve.note.removesuffix(built_in).strip() for curve in curves.values())
    uses_built_in = any(curve.source == "built-in" for curve in curves.values())
    return " ".join([*reasons, built_in] if uses_built_in else reasons)


def track_current_episodes(cur, principal):
    """Return the judgement of each episode in progress in the principal's scope: episode_id,
    status ("not on track", "on track" or "no judgement yet"), reason (in words),
    disengaging and engagement_reason (therapists only: their homework, judged for episodes
    not on track; False and "" otherwise), alert (not on track and disengaging).

    Kept until the data change (ui.cache.derived): never change what it returns.
    """
    today = date.today()
    curves = clinic_curves(cur, principal)
    scores = cached(cohort.episode_scores, cur, principal, window_start=today, window_end=today)
    if principal.role != "therapist":
        return derived("tracked_episodes", principal, None, lambda: _judged(scores, curves, None, None))
    panel = cached(cohort.weekly_panel, cur, principal, window_start=today, window_end=today)
    summary = cached(metrics.caseload_summary, cur, principal)
    return derived("tracked_episodes", principal, None, lambda: _judged(scores, curves, panel, summary))


def _judged(scores, curves, panel, summary):
    judged = judge_episodes(scores, curves)
    judged["disengaging"], judged["engagement_reason"] = False, ""
    if panel is not None:
        today = date.today()
        for index, row in judged[judged["status"] == "not on track"].iterrows():
            client = summary[summary["episode_id"] == row["episode_id"]]
            if client.empty:  # an episode that ended today: no longer on the caseload
                continue
            days = client["days_since_last_log"].iloc[0]
            engagement = disengagement(
                panel[panel["client_id"] == row["episode_id"]],
                None if pd.isna(days) else today - timedelta(days=int(days)),
                today,
                bool(client["active_assignments"].iloc[0] > 0),
            )
            judged.loc[index, ["disengaging", "engagement_reason"]] = [engagement.disengaging, engagement.reason]
    judged["alert"] = (judged["status"] == "not on track") & judged["disengaging"].astype(bool)
    return judged[list(TRACK_COLUMNS)]


def episode_track(cur, principal, episode_id):
    """Return the episode's row of track_current_episodes (a Series), or None when it has none."""
    tracked = track_current_episodes(cur, principal)
    rows = tracked[tracked["episode_id"] == episode_id]
    return None if rows.empty else rows.iloc[0]


def expected_bands(cur, principal, episode_id, started_on):
    """Return {instrument: DataFrame[day, expected, lower, upper]}: the expected range of each
    instrument with an intake, from the episode's start to a week past its latest score, for
    the timeline. Kept until the data change (ui.cache.derived)."""
    today = date.today()
    curves = clinic_curves(cur, principal)
    scores = cached(cohort.episode_scores, cur, principal, window_start=today, window_end=today)

    def bands():
        drawn = {}
        for instrument, rows in scores[scores["episode_id"] == episode_id].groupby("instrument"):
            intake = rows["intake"].iloc[0]
            if pd.isna(intake):
                continue
            band = curves[instrument].band(float(intake), range(int(rows["week"].max()) + 2))
            band["day"] = [started_on + timedelta(weeks=int(week)) for week in band["week"]]
            drawn[instrument] = band
        return drawn

    return derived("expected_bands", principal, episode_id, bands)


def show_track(track, curves):
    """Draw the episode's judgement: a warning with the reason when it is not on track (and
    whether homework is slipping too), a caption otherwise; then where the curves come from."""
    if track is None or track["status"] == "no judgement yet":
        reason = "No questionnaire in this episode yet." if track is None else track["reason"]
        st.caption(f"Expected course: no judgement yet. {reason}")
    elif track["status"] == "on track":
        st.caption(f"Expected course: on track. {track['reason']}")
    else:
        st.warning(f"Not on track: {off_track_reason(track)}", icon=":material/trending_up:")
    st.caption(curves_note(curves))


def track_by_therapist(cur, principal, therapists):
    """Return, per therapist of `therapists` (therapist_id, therapist), the counts of their
    clients in progress: judged (on or off their expected course), not_on_track and
    with_checklist (not on track, with a clinical support checklist in this episode).
    Episodes only, no client identities."""
    episodes = cached(cohort.current_episodes, cur, principal)
    tracked = track_current_episodes(cur, principal)
    with_checklist = cached(checklists.checklists_by_episode, cur, principal)

    def counts():
        joined = episodes.merge(tracked, on="episode_id", how="left")
        joined["judged"] = joined["status"].isin(["on track", "not on track"])
        joined["not_on_track"] = joined["status"] == "not on track"
        joined["with_checklist"] = joined["not_on_track"] & joined["episode_id"].isin(with_checklist["episode_id"])
        per_therapist = joined.groupby("therapist_id")[["judged", "not_on_track", "with_checklist"]].sum()
        table = therapists[["therapist_id", "therapist"]].merge(
            per_therapist, left_on="therapist_id", right_index=True, how="left"
        )
        return table.fillna(0).astype({"judged": int, "not_on_track": int, "with_checklist": int})

    return derived("track_by_therapist", principal, None, counts)


def flag_backtest(cur, principal):
    """Return the clinical.expected_response.Backtest of the not-on-track flag on the ended
    episodes in the principal's scope (all of them, from the earliest episode on): the flag as
    it would have been raised at week 4 against the episode's outcome. Kept until the data
    change (ui.cache.derived)."""
    today = date.today()
    start = cached(cohort.earliest_episode_start, cur, principal) or today
    classified = load_classified_episodes(cur, principal, start, today)
    scores = cached(cohort.episode_scores, cur, principal, window_start=start, window_end=today)
    curves = clinic_curves(cur, principal)
    return derived("flag_backtest", principal, start, lambda: ended_episodes_backtest(classified, scores, curves))


def ended_episodes_backtest(classified, scores, curves):
    """Return the Backtest of the ended episodes of `classified` (clinical.episodes.classify_episodes)
    with their `scores` (SCORE_COLUMNS): the one way the page and the benchmark compute it."""
    ended = classified[classified["ended"].astype(bool)]
    return backtest(scores[scores["episode_id"].isin(ended["episode_id"])], ended[["episode_id", "outcome"]], curves)


def off_track_reason(track):
    """Why an episode is not on track, in words, and that homework is slipping too when it is."""
    if track["alert"]:
        return f"{track['reason'].rstrip('.')}; and homework is slipping: {track['engagement_reason']}."
    return track["reason"]


def track_table(counts):
    """Return track_by_therapist's `counts` as the supervisor's table shows them: Therapist,
    Clients judged, Not on track, Share not on track, Not on track, checklist done.

    Each column by the shared small-cell rule (clinical.reporting.hidden_cells: "<5", in pairs
    because a total is shown); a count is hidden too where it and the count beside it subtract
    to 1-4 clients (those on track; those not on track without a checklist). A share is shown
    only beside counts that are.
    """
    hidden_judged = hidden_cells(counts["judged"])
    on_track = counts["judged"] - counts["not_on_track"]
    hidden_off = hidden_cells(counts["not_on_track"], already=hidden_judged | on_track.map(reveals_few))
    unchecked = counts["not_on_track"] - counts["with_checklist"]
    hidden_checked = hidden_cells(counts["with_checklist"], already=hidden_off | unchecked.map(reveals_few))
    return pd.DataFrame(
        {
            "Therapist": counts["therapist"],
            "Clients judged": [count_text(n, hide) for n, hide in zip(counts["judged"], hidden_judged)],
            "Not on track": [count_text(n, hide) for n, hide in zip(counts["not_on_track"], hidden_off)],
            "Share not on track": [
                "" if hide else f"{off / judged:.0%}"
                for off, judged, hide in zip(counts["not_on_track"], counts["judged"], hidden_off)
            ],
            "Not on track, checklist done": [
                count_text(n, hide) for n, hide in zip(counts["with_checklist"], hidden_checked)
            ],
        }
    )


def left_out_text(result):
    """What a Backtest left out, in words, each count by the small-cell rule ("<5")."""
    hidden = hidden_cells(pd.Series(result.left_out, dtype=int))
    return ", ".join(f"{count_text(result.left_out[reason], hide)} {reason}" for reason, hide in hidden.items())
