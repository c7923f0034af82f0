"""The therapist's landing page: their current clients."""
import streamlit as st

from data_layer import caseload
from ui.auth import require_role
from ui.db import cursor

principal = require_role("therapist")
cur = cursor()

st.title("Caseload")
clients = caseload.list_caseload(cur, principal)
if clients.empty:
    st.info("No clients are in your caseload yet. An administrator links clients to you.")
else:
    st.caption(f"{len(clients)} current clients")
    st.dataframe(
        clients.drop(columns=["client_id"]),
        hide_index=True,
        column_config={
            "name": "Client",
            "in_care_since": st.column_config.DateColumn("In care since"),
            "active_assignments": st.column_config.NumberColumn("Active homework"),
            "last_homework_log": st.column_config.DateColumn("Last homework log"),
            "last_mood_log": st.column_config.DateColumn("Last mood log"),
        },
    )
