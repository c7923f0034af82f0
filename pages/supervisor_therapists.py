"""The supervisor's landing page: the therapists they supervise and their caseload sizes
(small caseloads read "<5", by the same rule as the Cohort page), how many of their clients
are off their expected course and reviewed with a checklist, and whether that flag predicted
outcome here; above them, any risk flag of a client with no current therapist (supervisors
are the clinic's safety contacts)."""

import streamlit as st

from clinical.reporting import SMALL_CELL, count_text, hidden_cells
from data_layer import caseload
from ui.auth import require_role
from ui.db import cursor
from ui.safety import unassigned_risk_flags
from ui.tracking import clinic_curves, curves_note, flag_backtest, left_out_text, track_by_therapist, track_table
from ui.widgets import show_flash

principal = require_role("supervisor")
cur = cursor()

st.title("Therapists")
show_flash()
unassigned_risk_flags(cur, principal)
therapists = caseload.list_supervised_therapists(cur, principal)
if therapists.empty:
    st.info("You supervise no therapists yet. An administrator links therapists to you.")
else:
    st.metric("Active clients", int(therapists["active_clients"].sum()))
    # The total is shown, so the shared small-cell rule hides small caseloads in pairs.
    hidden = hidden_cells(therapists["active_clients"])
    shown = therapists.drop(columns=["therapist_id"]).assign(
        active_clients=[count_text(size, hide) for size, hide in zip(therapists["active_clients"], hidden)]
    )
    st.dataframe(
        shown,
        hide_index=True,
        column_config={
            "therapist": "Therapist",
            "active_clients": st.column_config.TextColumn("Active clients"),
        },
    )

    st.header("Clients off their expected course", anchor=False)
    counts = track_by_therapist(cur, principal, therapists)
    # Totals first, shown only when neither they nor what they leave (the clients on track, those
    # not on track without a checklist) are under 5.
    judged, off, checked = (int(counts[column].sum()) for column in ("judged", "not_on_track", "with_checklist"))
    if min(off, judged - off) >= SMALL_CELL:
        st.write(
            f"Across your therapists, {off} of the {judged} clients judged are not on track ({off / judged:.0%}); "
            f"{count_text(checked, min(checked, off - checked) < SMALL_CELL)} of them have a clinical support "
            "checklist."
        )
    st.dataframe(
        track_table(counts),
        hide_index=True,
    )
    st.caption(
        "Clients in care now whose latest PHQ-9 or GAD-7 (from week 3 on) lies above the expected range for "
        "their intake score; \"checklist done\": their therapist has recorded a clinical support checklist "
        f"in this episode. Counts under 5 read \"<5\". {curves_note(clinic_curves(cur, principal))}"
    )

    st.subheader("Did the flag predict outcome here?", anchor=False)
    result = flag_backtest(cur, principal)
    if result.smallest_group() < SMALL_CELL:
        st.info(
            "Too few ended episodes to show yet: the flag at week 4 is compared with how episodes ended once "
            "the flagged, the unflagged, the improved and the not improved are each 5 or more."
        )
    else:
        st.write(result.summary(with_left_out=False))
        if result.left_out:
            st.caption(f"Left out: {left_out_text(result)}.")
    fitted_here = any(curve.source == "clinic" for curve in clinic_curves(cur, principal).values())
    st.caption(
        "The flag as it would have been raised at week 4 of each ended episode, against its outcome "
        "(first to last questionnaire pair). "
        + (
            "The curves were fitted on the clinic's ended episodes, these among them: an in-sample check, "
            "which flatters the flag a little."
            if fitted_here
            else "Judged against the built-in curves, fitted on simulated episodes, not on these."
        )
    )
