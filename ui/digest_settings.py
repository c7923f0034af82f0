"""The therapist's weekly digest by email (issue #16): on or off, the day and the time, in a closed
expander at the foot of the Caseload page. The digest counts what that page flags, so its setting
sits beside the flags it counts, and a closed expander at the foot keeps "Needs attention" first."""

from datetime import timedelta

import streamlit as st

from data_layer import reminders
from data_layer.core import settings as app_settings
from data_layer.core.validation import InvalidInput
from ui.widgets import form_key, saved_here, show_field_errors, show_saved, with_error_slot

WEEKDAYS = {1: "Monday", 2: "Tuesday", 3: "Wednesday", 4: "Thursday", 5: "Friday", 6: "Saturday", 7: "Sunday"}
FORM = "weekly_digest"


def describe(chosen):
    """Return the therapist's digest choice in words."""
    if not chosen.enabled:
        return "The weekly digest is off."
    zone = app_settings.clinic_time_zone()
    return f"The weekly digest is on: {WEEKDAYS[chosen.weekday]}s at {chosen.send_at:%H:%M} ({zone})."


def show_digest_settings(cur, principal):
    """Draw the expander "Weekly digest by email" with the therapist's own choice and its form."""
    settings = reminders.digest_settings(cur, principal)
    with st.expander("Weekly digest by email"):
        st.caption(
            "Once a week, an email counting your clients who need attention (an open risk flag, no logs "
            "for 7+ days while homework is set, reliable deterioration): counts only, no names or scores, "
            "and a link to this page."
        )
        if show_saved(FORM, "Change the weekly digest"):
            return
        st.caption(describe(settings))
        with st.form(form_key(FORM)):
            enabled, enabled_error = with_error_slot(st.toggle("Email me a weekly digest", value=settings.enabled))
            weekday, weekday_error = with_error_slot(
                st.selectbox("Day", list(WEEKDAYS), index=settings.weekday - 1, format_func=WEEKDAYS.get)
            )
            send_at, time_error = with_error_slot(
                st.time_input(
                    f"Time of day ({app_settings.clinic_time_zone()}, the clinic's time zone)",
                    value=settings.send_at,
                    step=timedelta(minutes=15),
                )
            )
            general_error = st.empty()
            if st.form_submit_button("Save digest settings"):
                try:
                    chosen = reminders.set_digest(cur, principal, enabled=enabled, weekday=weekday, send_at=send_at)
                except InvalidInput as error:
                    show_field_errors(
                        error.errors,
                        {"enabled": enabled_error, "weekday": weekday_error, "send_at": time_error, "": general_error},
                    )
                else:
                    saved_here(FORM, f"Saved. {describe(chosen)}")
