"""The client page's Reminders tab: whether the client gets reminders, a one-off nudge, and the
reminders and nudges of the last 14 days."""

from datetime import UTC, datetime

import streamlit as st

from data_layer import reminders
from data_layer.core import settings as app_settings
from data_layer.core.access import AccessDenied
from data_layer.core.validation import InvalidInput

DAY_NAMES = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}
STATUSES = {"queued": "Queued", "sent": "Sent", "failed": "Failed", "not_sent": "Not sent"}
KINDS = {"client_reminder": "Reminder", "nudge": "Nudge"}
NUDGE_RULE = "One nudge per client per day (UTC)."


def _nudge_message_key(client_id):
    return f"nudge_message_{client_id}"


def _nudge_button_key(client_id):
    return f"send_nudge_{client_id}"


def _send_nudge(cur, principal, client_id):
    """Queue the client's nudge; a click that queued nothing leaves its reason for show_nudge to say
    (a nudge it queued shows as "Nudged today")."""
    try:
        nudge = reminders.send_nudge(cur, principal, client_id=client_id)
    except InvalidInput as error:
        st.session_state[_nudge_message_key(client_id)] = ("error", error.errors["nudge"])
    except AccessDenied as error:
        st.session_state[_nudge_message_key(client_id)] = ("error", str(error))
    else:
        if not nudge.new:
            st.session_state[_nudge_message_key(client_id)] = (
                "info",
                f"Already nudged today at {nudge.queued_at:%H:%M} (UTC): this click sent nothing. {NUDGE_RULE}",
            )


def _nudged_today(sent):
    """Return when the client was nudged today (UTC) by the outbox rows `sent`, or None."""
    if sent.empty:
        return None
    nudges = sent.loc[sent["kind"] == "nudge", "due_at"]
    today = nudges[nudges.dt.date == datetime.now(UTC).date()]
    return None if today.empty else today.min()


def show_nudge(record, settings, sent):
    """The "Send a nudge" button, or why there is none: reminders off (the client's consent), or
    already nudged today (`sent`: list_client_reminders of the client)."""
    st.header("Nudge", anchor=False)
    st.caption(
        "A nudge is one email now, from the clinic: \"Your therapist sent you a reminder: you have something "
        f'to log", with a link; no homework titles or scores. {NUDGE_RULE}'
    )
    kind, text = st.session_state.pop(_nudge_message_key(record.client_id), (None, None))
    if kind is not None:
        {"error": st.error, "info": st.info}[kind](text)
    nudged_at = _nudged_today(sent)
    if not settings.enabled:
        st.button("Send a nudge", disabled=True, help=reminders.NUDGE_NEEDS_REMINDERS)
        st.caption(reminders.NUDGE_NEEDS_REMINDERS)
    elif nudged_at is not None:
        st.success(f"Nudged today at {nudged_at:%H:%M} (UTC). {NUDGE_RULE}")
    else:
        st.button("Send a nudge", key=_nudge_button_key(record.client_id), icon=":material/notifications:")


def show_reminders(cur, principal, record):
    """The Reminders tab of `record` (ui.client_record.ClientRecord): the client's own choice (they
    set it on their Reminders page), the nudge button, and the reminders and nudges of the last 14
    days."""
    # The click is handled before the outbox is read, so the page shows what it did; in the script, not an
    # on_click callback, which would run before the login gate checks the session. Read from session state,
    # it is seen even when this run draws no button (a nudge sent from another tab meanwhile).
    if st.session_state.get(_nudge_button_key(record.client_id)):
        _send_nudge(cur, principal, record.client_id)
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
    show_nudge(record, settings, sent)
    st.header(f"Reminders and nudges in the last {reminders.RECENT_REMINDER_DAYS} days", anchor=False)
    if sent.empty:
        st.caption(f"No reminders or nudges in the last {reminders.RECENT_REMINDER_DAYS} days.")
        return
    st.dataframe(
        sent.assign(
            kind=sent["kind"].map(KINDS).fillna(sent["kind"]),
            status=sent["status"].map(STATUSES).fillna(sent["status"]),
        ),
        hide_index=True,
        column_config={
            "kind": "Kind",
            "due_at": st.column_config.DatetimeColumn("Due (UTC)", format="D MMM YYYY HH:mm"),
            "status": "Status",
            "sent_at": st.column_config.DatetimeColumn("Sent (UTC)", format="D MMM YYYY HH:mm"),
            "last_error": "Reason (not sent, failed)",
        },
    )
