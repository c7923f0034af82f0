"""The admin's outbox: the messages the app queued and sent (reminders, risk alerts, nudges, digests;
issue #16). Read-only."""

from datetime import date, timedelta

import streamlit as st

from data_layer import reminders
from ui.auth import require_role
from ui.db import cursor

principal = require_role("admin")
cur = cursor()

STATUSES = {"queued": "Queued", "sent": "Sent", "failed": "Failed", "not_sent": "Not sent"}
KINDS = {
    "client_reminder": "Client reminder",
    "nudge": "Nudge from a therapist",
    "risk_alert": "Risk alert",
    "therapist_digest": "Therapist's weekly digest",
}
today = date.today()

st.title("Outbox")
st.caption(
    "The messages the app queued and sent, latest due first. No message body is stored, and the "
    'messages carry no clinical data: a reminder says only "You have something to log today" and '
    "gives a link, a nudge that the therapist sent a reminder, a weekly digest counts a therapist's "
    "clients needing attention. Times are UTC. A message not sent or failed shows its reason."
)

status_column, kind_column, since_column = st.columns(3)
status = status_column.selectbox(
    "Status", [None, *STATUSES], format_func=lambda value: "All statuses" if value is None else STATUSES[value]
)
kind = kind_column.selectbox(
    "Kind", [None, *KINDS], format_func=lambda value: "All kinds" if value is None else KINDS[value]
)
since = since_column.date_input("Due since", value=today - timedelta(days=14), max_value=today, format="DD/MM/YYYY")

messages = reminders.list_outbox(cur, principal, status=status, kind=kind, since=since)
if len(messages) >= reminders.OUTBOX_LIMIT:
    st.caption(f"The latest {reminders.OUTBOX_LIMIT} messages; narrow the filters to see older ones.")
else:
    st.caption(f"{len(messages)} message{'' if len(messages) == 1 else 's'}.")
# The delivery's state, named "delivery" in the table: no clinical status (a homework's) is shown here.
shown = messages.assign(
    status=messages["status"].map(STATUSES).fillna(messages["status"]),
    kind=messages["kind"].map(KINDS).fillna(messages["kind"]),
).rename(columns={"status": "delivery"})
st.dataframe(
    shown,
    hide_index=True,
    column_config={
        "id": st.column_config.NumberColumn("Id", format="%d"),
        "kind": "Kind",
        "recipient": "Recipient",
        "due_at": st.column_config.DatetimeColumn("Due (UTC)", format="D MMM YYYY HH:mm"),
        "delivery": "Status",
        "attempts": st.column_config.NumberColumn("Attempts", format="%d"),
        "next_attempt_at": st.column_config.DatetimeColumn("Next attempt (UTC)", format="D MMM YYYY HH:mm"),
        "last_error": "Reason (not sent, failed) or last error",
        "sent_at": st.column_config.DatetimeColumn("Sent (UTC)", format="D MMM YYYY HH:mm"),
    },
)
