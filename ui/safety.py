"""The safety contacts' section: risk flags of clients who have no current therapist.

Shown to every supervisor and the admin (docs/clinical-rules.md, "Risk"), so that a flag
is never left without a reader. Only here do they see a client's name and contact email:
acting on a risk needs the person (data_layer.measures explains the choice).
"""

import streamlit as st

from data_layer import measures
from data_layer.core.validation import MAX_NOTE_LENGTH, InvalidInput
from ui.widgets import escape_markdown, form_key, saved, show_field_errors, with_error_slot


def unassigned_risk_flags(cur, principal):
    """Show the open flags of clients without a therapist, each with an acknowledge form."""
    flags = measures.list_unassigned_risk_flags(cur, principal)
    if flags.empty:
        return
    st.header("Risk flags with no therapist to read them", anchor=False)
    st.error(
        f"{len(flags)} risk flag(s) to follow up: PHQ-9 item 9 answered above 0 by a client who has "
        "no current therapist. As a safety contact, contact the client, then acknowledge the flag "
        "with a note. Please link the client to a therapist as well."
    )
    for flag in flags.itertuples():
        with st.container(border=True):
            contact = escape_markdown(flag.email) if isinstance(flag.email, str) else "no email on file"
            st.markdown(
                f"**{escape_markdown(flag.client)}** ({escape_markdown(flag.username)}; {contact}): "
                f"PHQ-9 item 9 answered {flag.item_9_answer} on {flag.taken_on:%a %d %b %Y}"
            )
            _acknowledge_form(cur, principal, flag.risk_flag_id)


def _acknowledge_form(cur, principal, risk_flag_id):
    name = f"ack_unassigned_{risk_flag_id}"
    with st.form(form_key(name)):
        note, note_error = with_error_slot(
            st.text_area(
                "Follow-up note",
                max_chars=MAX_NOTE_LENGTH,
                placeholder="e.g. Phoned the client, safety plan reviewed, referred to a therapist",
            )
        )
        if st.form_submit_button("Acknowledge", type="primary"):
            try:
                measures.acknowledge_unassigned_risk_flag(cur, principal, risk_flag_id=risk_flag_id, note=note)
            except InvalidInput as error:
                show_field_errors(error.errors, {"note": note_error, "risk_flag_id": note_error})
            else:
                saved(name, "Risk flag acknowledged.")
