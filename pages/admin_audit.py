"""The admin's audit log: who did what, to which client (as a pseudonym), and when. Read-only."""

from datetime import date, timedelta

import streamlit as st

from data_layer import audit_log
from data_layer.core.validation import InvalidInput
from ui.auth import require_role
from ui.db import cursor
from ui.exports import csv_bytes

principal = require_role("admin")
cur = cursor()

SHOWN = 1000
today = date.today()

st.title("Audit log")
st.caption(
    "Who did what and when, newest first. Staff actions name the client only by the pseudonym "
    "supervisors see; a client's own actions show their username without pseudonym, record or detail, "
    "and risk-flag events are not shown here, so that this view reveals no clinical fact. "
    "The log cannot be changed here."
)

user_column, client_column, action_column = st.columns(3)
actor = user_column.text_input("User", placeholder="username, or part of it")
client = client_column.text_input("Client pseudonym", placeholder="C-1A2B3C")
actions = audit_log.list_audit_actions(cur, principal)
action = action_column.selectbox(
    "Action", [None, *actions], format_func=lambda value: "All actions" if value is None else value
)
from_column, until_column = st.columns(2)
date_from = from_column.date_input("From", value=today - timedelta(days=30), max_value=today, format="DD/MM/YYYY")
date_to = until_column.date_input("Until (inclusive)", value=today, format="DD/MM/YYYY")

try:
    events = audit_log.list_audit_events(
        cur,
        principal,
        actor=actor,
        client_pseudonym=client,
        action=action,
        date_from=date_from,
        date_to=date_to,
        limit=SHOWN,
    )
except InvalidInput as error:
    for message in error.errors.values():
        st.error(message)
    st.stop()

if len(events) >= SHOWN:
    st.caption(f"The newest {SHOWN} events; narrow the filters to see older ones.")
else:
    st.caption(f"{len(events)} event{'' if len(events) == 1 else 's'}.")
st.dataframe(
    events,
    hide_index=True,
    column_config={
        "occurred_at": st.column_config.DatetimeColumn("When", format="D MMM YYYY HH:mm:ss"),
        "username": "User",
        "role": "Role",
        "action": "Action",
        "outcome": "Outcome",
        "record_kind": "Record",
        "record_id": st.column_config.NumberColumn("Record id", format="%d"),
        "client": "Client",
        "detail": "Detail",
    },
)
st.download_button(
    "Download these events (CSV)", csv_bytes(events), file_name=f"audit-log-{today:%Y%m%d}.csv", mime="text/csv"
)
