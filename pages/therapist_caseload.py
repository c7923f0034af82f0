"""The therapist's landing page: who is struggling, flagged clients first; pick one to open."""

import pandas as pd
import streamlit as st

from clinical.instruments import band
from data_layer.reports import metrics
from ui.auth import require_role
from ui.cache import cached
from ui.db import cursor
from ui.digest_settings import show_digest_settings
from ui.navigation import page_path
from ui.tracking import clinic_curves, curves_note, off_track_reason, track_current_episodes
from ui.widgets import RECENT_COMPLIANCE_LABEL, escape_markdown, show_flash

principal = require_role("therapist")
cur = cursor()

# A client who has never logged anything has no number of days: the cell is left blank.
NEVER_LOGGED_HEADER = "Days since last log (blank: never)"

st.title("Caseload")
show_flash()
summary = cached(metrics.caseload_summary, cur, principal)
if summary.empty:
    st.info("No clients are in your caseload yet. An administrator links clients to you.")
    show_digest_settings(cur, principal)
    st.stop()
# Not on track joins the data layer's flags here: its curves are fitted and kept in ui.tracking.
tracked = track_current_episodes(cur, principal)
summary = summary.merge(tracked, on="episode_id", how="left")
summary["flag_off_track"] = summary["status"] == "not on track"
summary["flagged"] = summary["flagged"] | summary["flag_off_track"]
summary = summary.sort_values(["flag_risk", "flagged", "name"], ascending=[False, False, True], ignore_index=True)


def flags(row):
    marks = []
    if row.flag_risk:
        marks.append("RISK: item 9")
    if row.flag_deterioration:
        marks.append("deteriorating")
    if row.flag_inactive:
        marks.append("no logs 7+ days")
    if row.flag_off_track:
        marks.append("not on track, homework slipping" if row.alert else "not on track")
    return ", ".join(marks)


def why_off_track(row):
    """Why the client is not on track, in words; blank otherwise."""
    return off_track_reason(row._asdict()) if row.flag_off_track else ""


def score_with_band(instrument, total):
    return "" if pd.isna(total) else f"{int(total)} ({band(instrument, int(total))})"


# The columns that matter first, so that a 1280 px laptop shows them without scrolling; the
# client's name stays pinned when the rest scrolls.
table = pd.DataFrame(
    {
        "Client": summary["name"],
        "Flags": [flags(row) for row in summary.itertuples()],
        "Outcome so far": summary["reliable_change"],
        RECENT_COMPLIANCE_LABEL: summary["compliance_4w"] * 100,
        "PHQ-9": [score_with_band("PHQ-9", total) for total in summary["phq9_latest"]],
        "GAD-7": [score_with_band("GAD-7", total) for total in summary["gad7_latest"]],
        "Not on track because": [why_off_track(row) for row in summary.itertuples()],
        NEVER_LOGGED_HEADER: summary["days_since_last_log"],
        "Mood now (7-day mean)": summary["mood_now"],
        "Mood vs 4 weeks ago": summary["mood_trend"],
        "PHQ-9 change": summary["phq9_change"],
        "GAD-7 change": summary["gad7_change"],
    }
)


def open_client(client_id):
    st.session_state["open_client_id"] = int(client_id)
    st.switch_page(page_path("pages/therapist_client.py"))


needing_attention = summary[summary["flagged"]]
if len(needing_attention):
    st.header("Needs attention", anchor=False)
    at_risk = int(needing_attention["flag_risk"].sum())
    if at_risk:  # risk in the error colour, before anything else
        st.error(
            f"{at_risk} client{'' if at_risk == 1 else 's'} answered PHQ-9 item 9 above 0: follow up first.",
            icon=":material/warning:",
        )
    for row in needing_attention.itertuples():
        if st.button(
            f"{escape_markdown(row.name)}: {flags(row)}",
            key=f"attention_{row.client_id}",
            type="primary" if row.flag_risk else "secondary",
            icon=":material/warning:" if row.flag_risk else None,
        ):
            open_client(row.client_id)

st.header("All clients", anchor=False)
st.caption(
    f"{len(summary)} current client{'' if len(summary) == 1 else 's'}, flagged ones first. "
    "Select a row to open the client."
)
selection = st.dataframe(
    table,
    hide_index=True,
    on_select="rerun",
    selection_mode="single-row",
    key="caseload_table",
    placeholder="",  # a missing value (never logged, no questionnaire yet) is a blank cell, not "None"
    column_config={
        "Client": st.column_config.TextColumn(pinned=True),
        RECENT_COMPLIANCE_LABEL: st.column_config.ProgressColumn(format="%.0f%%", min_value=0, max_value=100),
        "Mood now (7-day mean)": st.column_config.NumberColumn(format="%.1f"),
        "Mood vs 4 weeks ago": st.column_config.NumberColumn(format="%+.1f"),
        "PHQ-9 change": st.column_config.NumberColumn(format="%+d"),
        "GAD-7 change": st.column_config.NumberColumn(format="%+d"),
    },
)
st.caption(
    f"Not on track: the latest PHQ-9 or GAD-7 lies above the expected range. {curves_note(clinic_curves(cur, principal))}"
)
show_digest_settings(cur, principal)
if selection.selection.rows:
    open_client(summary["client_id"].iloc[selection.selection.rows[0]])
