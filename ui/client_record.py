"""The therapist's client page, above its tabs: the choice of client, their record read once, and
the overview (key numbers, outcome so far, open risk flags, timeline) that the tabs build on."""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

import pandas as pd
import streamlit as st

from data_layer import caseload, homework, measures, mood, sessions
from data_layer.core.access import AccessDenied
from data_layer.reports import metrics
from ui.cache import cached, derived
from ui.charts import PLOTLY_CONFIG, timeline_figure, timeline_is_empty, timeline_summary
from ui.tracking import clinic_curves, episode_track, expected_bands, show_track
from ui.widgets import recent_compliance_metric

NOTES_WEEKS = 4
NOTES_SHOWN = 10


@dataclass(frozen=True)
class ClientRecord:
    """One client's record in their current episode, as the page's header and tabs show it."""

    client_id: int
    header: dict  # caseload.open_client: name, in_care_since, episode_id, questionnaire_every_days, ...
    daily: pd.DataFrame  # mood.daily_mood since the episode started
    weeks: pd.DataFrame  # metrics.weekly_compliance of the episode
    scores: pd.DataFrame  # measures.list_questionnaires, latest first
    sessions: pd.DataFrame  # sessions.list_sessions
    flags: pd.DataFrame  # measures.list_risk_flags
    outcome: pd.Series  # this episode's row of metrics.current_outcomes
    recent: pd.Series  # metrics.recent_compliance: the last 4 complete weeks
    notes: pd.DataFrame  # the latest homework logs with a note, of the last 4 weeks

    @property
    def name(self):
        return self.header["name"]

    @property
    def episode_start(self):
        return self.header["in_care_since"]

    @cached_property  # the overview and the export both ask
    def latest(self):
        """{instrument: its latest questionnaire row}."""
        return {name: group.iloc[0] for name, group in self.scores.groupby("instrument")}

    @property
    def open_flags(self):
        return self.flags[self.flags["acknowledged_at"].isna()]


def choose_client(cur, principal):
    """Draw the choice of client from the caseload; return the client's `caseload.open_client` header.

    The page opens the client chosen last (on the caseload page or here). With an empty caseload
    it says so and stops.
    """
    # The caseload page's cached summary (one query for both pages), in the order of names.
    clients = cached(metrics.caseload_summary, cur, principal).sort_values("name", kind="stable")
    if clients.empty:
        st.title("Client")
        st.info("No clients are in your caseload yet.")
        st.stop()
    names = dict(zip(clients["client_id"].astype(int), clients["name"]))
    client_id = st.session_state.get("open_client_id", next(iter(names)))
    try:
        header = cached(caseload.open_client, cur, principal, client_id=client_id)
    except AccessDenied:
        st.session_state.pop("open_client_id", None)  # so the next visit opens a client of theirs
        raise
    picked = st.selectbox(
        "Client", list(names), format_func=names.get, index=list(names).index(client_id) if client_id in names else 0
    )
    if picked != client_id:
        st.session_state["open_client_id"] = picked
        st.rerun()
    return client_id, header


def read_client_record(cur, principal, client_id, header):
    """Read what the page shows of the client, once for the header and all the tabs."""
    today = date.today()
    start = header["in_care_since"]
    outcomes = cached(metrics.current_outcomes, cur, principal)
    # Cached by principal, client and data version: a rerun with nothing written reads nothing again.
    logs = cached(
        homework.list_homework_logs, cur, principal, client_id=client_id, since=today - timedelta(weeks=NOTES_WEEKS)
    )
    return ClientRecord(
        client_id=client_id,
        header=header,
        daily=cached(mood.daily_mood, cur, principal, client_id=client_id, since=start),
        weeks=cached(
            metrics.weekly_compliance, cur, principal, client_id=client_id, window_start=start, window_end=today
        ),
        scores=cached(measures.list_questionnaires, cur, principal, client_id=client_id),
        sessions=cached(sessions.list_sessions, cur, principal, client_id=client_id),
        flags=cached(measures.list_risk_flags, cur, principal, client_id=client_id),
        outcome=outcomes[outcomes["episode_id"] == header["episode_id"]].iloc[0],
        recent=cached(metrics.recent_compliance, cur, principal, client_id=client_id).iloc[0],
        notes=logs[logs["note"].notna() & (logs["note"] != "")].head(NOTES_SHOWN),
    )


def show_overview(cur, principal, record):
    """Draw the key numbers, the outcome so far, an alert for open risk flags, whether the client
    is on their expected course and the timeline with the expected range.

    Returns (the timeline's figure, which the printable summary holds too, and the episode's
    row of ui.tracking.track_current_episodes or None).
    """
    first, second, third = st.columns(3)
    recent_compliance_metric(first, record.recent)
    latest = record.latest
    for column, instrument in ((second, "PHQ-9"), (third, "GAD-7")):
        row = latest.get(instrument)
        column.metric(f"Latest {instrument}", "none" if row is None else f"{row['total']} ({row['band']})")
    st.caption(outcome_so_far(record.outcome))
    if len(record.open_flags):
        st.error(
            f"{len(record.open_flags)} risk flag(s) to follow up: PHQ-9 item 9 answered above 0. See the Risk tab."
        )
    track = episode_track(cur, principal, record.header["episode_id"])
    show_track(track, clinic_curves(cur, principal))
    timeline = (record.daily, record.weeks, record.scores, record.sessions, record.flags)
    bands = expected_bands(cur, principal, record.header["episode_id"], record.episode_start)
    # Building the figure in Plotly was about a third of the page's run: kept until data change.
    figure = derived("timeline_figure", principal, record.client_id, lambda: timeline_figure(*timeline, expected=bands))
    if timeline_is_empty(*timeline):
        st.info(
            "Nothing logged yet in this episode: the timeline of mood, homework and questionnaires "
            "appears here once the client logs something or homework is set."
        )
    else:
        st.plotly_chart(figure, config=PLOTLY_CONFIG, key="timeline")
        st.caption(derived("timeline_summary", principal, record.client_id, lambda: timeline_summary(*timeline)))
    return figure, track


def outcome_so_far(outcome):
    """One sentence on the episode's outcome so far, from its row of metrics.current_outcomes."""
    if outcome["reliable_change"] == "not enough data":
        return (
            f"Outcome so far: not enough data ({outcome['pairs']} questionnaire pairs, "
            f"{outcome['attended_sessions']} sessions attended; 2 of each are needed)."
        )
    if not outcome["case_at_start"]:
        recovery = "not a case at the start, so recovery does not apply"
    else:
        recovery = "recovered" if outcome["recovery"] else "not recovered"
    return f"Outcome so far (first to last questionnaire pair): {outcome['reliable_change']}; {recovery}."
