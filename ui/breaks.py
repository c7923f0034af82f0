"""The form that adds a break (paused days): a client's for themselves, a therapist's for a client."""

from datetime import date, timedelta

import streamlit as st

from data_layer import paused
from data_layer.core.validation import InvalidInput
from ui.widgets import form_key, saved, saved_here, show_field_errors, with_error_slot

# Who adds the break -> (form name, reason label, reason placeholder, button type). A client's
# reason is explained as optional; a therapist knows it is.
_BY_ROLE = {
    "client": ("add_break", "Reason (optional)", "Holiday, illness, ...", "primary"),
    "therapist": ("therapist_break", "Reason", None, "secondary"),
}


def add_break_form(cur, principal, *, client_id):
    """The form that adds a break to `client_id`'s homework (a client: their own id).

    A field's message shows under it and the form keeps what was typed. After a save, a client
    reads the confirmation in the form's place (their page calls `show_saved("breaks", ...)`),
    a therapist at the top of the page.
    """
    name, reason_label, reason_placeholder, button_type = _BY_ROLE[principal.role]
    with st.form(form_key(name)):
        first, last = st.columns(2)
        starts_on, start_error = with_error_slot(
            first.date_input("From", value=date.today(), format="DD/MM/YYYY"), first
        )
        ends_on, end_error = with_error_slot(
            last.date_input("Until (inclusive)", value=date.today() + timedelta(days=6), format="DD/MM/YYYY"), last
        )
        reason, reason_error = with_error_slot(
            st.text_input(reason_label, max_chars=200, placeholder=reason_placeholder)
        )
        if st.form_submit_button("Add break", type=button_type):
            try:
                paused.add_paused_period(
                    cur, principal, client_id=client_id, starts_on=starts_on, ends_on=ends_on, reason=reason
                )
            except InvalidInput as error:
                show_field_errors(
                    error.errors, {"starts_on": start_error, "ends_on": end_error, "reason": reason_error}
                )
            else:
                if principal.role == "client":
                    saved_here("breaks", f"Break saved: {starts_on:%d %b} to {ends_on:%d %b}.", form_name=name)
                else:
                    saved(name, "Break added.")
