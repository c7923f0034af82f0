"""The supervisor's landing page: the therapists they supervise and their caseload sizes."""
import streamlit as st

from data_layer import caseload
from ui.auth import require_role
from ui.db import cursor

principal = require_role("supervisor")
cur = cursor()

st.title("Therapists")
therapists = caseload.list_supervised_therapists(cur, principal)
if therapists.empty:
    st.info("You supervise no therapists yet. An administrator links therapists to you.")
else:
    st.metric("Active clients", int(therapists["active_clients"].sum()))
    st.dataframe(
        therapists.drop(columns=["therapist_id"]),
        hide_index=True,
        column_config={
            "therapist": "Therapist",
            "active_clients": st.column_config.NumberColumn("Active clients"),
        },
    )
