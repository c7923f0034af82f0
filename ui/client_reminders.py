"""The client page's Reminders tab: whether the client gets reminders, and those of the last 14 days."""

import streamlit as st

from data_layer import reminders
from data_layer.core import settings as app_settings

DAY_NAMES = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}
STATUSES = {"queued": "Queued", "sent": "Sent", "failed": "Failed", "not_sent": "Not sent"}


def show_reminders(cur, principal, record):
    """The Reminders tab of `record` (ui.client_record.ClientRecord): the client's own choice (they
    set it on their Reminders page) and the reminders of the last 14 days, read-only."""
    settings = reminders.client_reminder_settings(cur, principal, client_id=record.client_id)
    if settings.enabled:
        days = ", ".join(DAY_NAMES[day] for day in settings.days)
        zone = settings.time_zone or f"the clinic's time zone, {app_settings.clinic_time_zone()}"
        st.info(f"Reminders on: {days} at {settings.send_at:%H:%M} ({zone}).")
    else:
        st.info("Reminders off.")
    st.caption(
        "The client chooses reminders on their own Reminders page. A reminder names no homework or "
        "score, and comes only when this week's homework is not done yet or a questionnaire is due, and the "
        "day is not a break. Times below are UTC."
    )
    sent = reminders.list_client_reminders(cur, principal, client_id=record.client_id)
    st.header(f"Reminders in the last {reminders.RECENT_REMINDER_DAYS} days", anchor=False)
    if sent.empty:
        st.caption(f"No reminders in the last {reminders.RECENT_REMINDER_DAYS} days.")
        return
    st.dataframe(
        sent.assign(status=sent["status"].map(STATUSES).fillna(sent["status"])),
        hide_index=True,
        column_config={
            "due_at": st.column_config.DatetimeColumn("Due (UTC)", format="D MMM YYYY HH:mm"),
            "status": "Status",
            "sent_at": st.column_config.DatetimeColumn("Sent (UTC)", format="D MMM YYYY HH:mm"),
            "last_error": "Reason (not sent, failed)",
        },
    )
