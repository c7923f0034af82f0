"""The supervisor's landing page: the therapists they supervise and their caseload sizes
(small caseloads read "<5", by the same rule as the Cohort page), and, above them, any risk
flag of a client with no current therapist (supervisors are the clinic's safety contacts)."""

import streamlit as st

from clinical.reporting import count_text, hidden_cells
from data_layer import caseload
from ui.auth import require_role
from ui.db import cursor
from ui.safety import unassigned_risk_flags
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
