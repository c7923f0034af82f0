"""The safety contacts' section: risk flags of clients who have no current therapist.

Shown to every supervisor and the admin (docs/clinical-rules.md, "Risk"), so that a flag
is never left without a reader. Only here do they see a client's name and contact email:
acting on a risk needs the person (data_layer.measures explains the choice).
"""

from functools import partial

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
            acknowledge_form(
                f"ack_unassigned_{flag.risk_flag_id}",
                "e.g. Phoned the client, safety plan reviewed, referred to a therapist",
                partial(measures.acknowledge_unassigned_risk_flag, cur, principal, risk_flag_id=flag.risk_flag_id),
            )


def acknowledge_form(name, placeholder, acknowledge):
    """A risk flag's form: a follow-up note (`placeholder` suggests one); `acknowledge(note=...)` saves it.

    The note's message shows under it; after a save the message "Risk flag acknowledged." stands
    at the top of the page. A therapist's client page and the safety contacts' section share it.
    """
    with st.form(form_key(name)):
        note, note_error = with_error_slot(
            st.text_area("Follow-up note", max_chars=MAX_NOTE_LENGTH, placeholder=placeholder)
        )
        if st.form_submit_button("Acknowledge", type="primary"):
            try:
                acknowledge(note=note)
            except InvalidInput as error:
                show_field_errors(error.errors, {"note": note_error, "risk_flag_id": note_error})
            else:
                saved(name, "Risk flag acknowledged.")
