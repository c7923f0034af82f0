"""The client's own reminder: on or off, the time of day and the days, in the client's time zone
(their own, or the clinic's) (issue #16)."""

from datetime import timedelta

import streamlit as st

from data_layer import reminders
from data_layer.core import settings as app_settings
from data_layer.core.validation import TIME_ZONES, InvalidInput
from ui.auth import require_role
from ui.db import cursor
from ui.widgets import escape_markdown, form_key, saved_here, show_field_errors, show_saved, with_error_slot

principal = require_role("client")
cur = cursor()

DAY_NAMES = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}
FORM = "reminders"

st.title("Reminders")
st.caption(
    'The email says only "You have something to log today" and gives a link: no homework titles or '
    "scores. It comes at the time you choose in your time zone, only on the days you choose, when this "
    "week's homework is not done yet or a questionnaire is due, and the day is not a break."
)
CLINIC_ZONE = app_settings.clinic_time_zone()
settings = reminders.reminder_settings(cur, principal)
# The zones to choose from, None (the clinic's) first. A stored name no longer known stays listed, so
# the form shows what is stored and saving it again says why it is refused.
ZONE_CHOICES = [None, *sorted(TIME_ZONES | {settings.time_zone} - {None})]
email = reminders.my_email(cur, principal)
if email:
    st.markdown(f"Reminders go to **{escape_markdown(email)}**.")
else:
    st.warning("Your account has no email address: ask your clinic to add one.")


def describe(chosen):
    if not chosen.enabled:
        return "Reminders are off."
    days = ", ".join(DAY_NAMES[day] for day in chosen.days)
    return f"Reminders are on: {days} at {chosen.send_at:%H:%M} ({chosen.time_zone or CLINIC_ZONE})."


def zone_name(zone):
    return f"The clinic's time zone ({CLINIC_ZONE})" if zone is None else zone


def reminder_form():
    with st.form(form_key(FORM)):
        enabled, enabled_error = with_error_slot(st.toggle("Email me a reminder", value=settings.enabled))
        send_at, time_error = with_error_slot(
            st.time_input("Time of day", value=settings.send_at, step=timedelta(minutes=15))
        )
        time_zone, zone_error = with_error_slot(
            st.selectbox(
                "Time zone",
                ZONE_CHOICES,
                index=ZONE_CHOICES.index(settings.time_zone),
                format_func=zone_name,
                help="The reminder comes at the time above on this zone's clock. Type to search, e.g. London.",
            )
        )
        # Pills rather than seven checkboxes: one row of large buttons (44 px each, ui/touch.css)
        # that wraps on a phone, each day one tap, its state shown by its colour and text.
        days, days_error = with_error_slot(
            st.pills(
                "Days",
                list(DAY_NAMES),
                selection_mode="multi",
                format_func=DAY_NAMES.get,
                default=list(settings.days),
            )
        )
        general_error = st.empty()
        if st.form_submit_button("Save", type="primary", width="stretch"):
            try:
                saved_settings = reminders.set_reminders(
                    cur, principal, enabled=enabled, send_at=send_at, days=list(days or []), time_zone=time_zone
                )
            except InvalidInput as error:
                show_field_errors(
                    error.errors,
                    {
                        "enabled": enabled_error,
                        "send_at": time_error,
                        "time_zone": zone_error,
                        "days": days_error,
                        "": general_error,
                    },
                )
            else:
                saved_here(FORM, f"Saved. {describe(saved_settings)}")


# After a save, its confirmation stands here, where the client tapped Save.
if not show_saved(FORM, "Change reminders"):
    st.caption(describe(settings))
    reminder_form()
