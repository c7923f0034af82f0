"""The client page's Risk tab: each PHQ-9 item-9 flag, acknowledged with a follow-up note."""

import pandas as pd
import streamlit as st

from data_layer import measures
from data_layer.core.validation import MAX_NOTE_LENGTH, InvalidInput
from ui.widgets import escape_markdown, form_key, plain_text, saved, show_field_errors, with_error_slot


def show_risk_flags(cur, principal, record):
    """The Risk tab of `record` (ui.client_record.ClientRecord): open flags first get a form."""
    if record.flags.empty:
        st.info("No risk flags.")
    for flag in record.flags.itertuples():
        with st.container(border=True):
            st.markdown(f"**PHQ-9 item 9 answered {flag.item_9_answer}** on {flag.taken_on:%a %d %b %Y}")
            if pd.isna(flag.acknowledged_at):
                _acknowledge_form(cur, principal, flag.risk_flag_id)
            else:
                st.caption(
                    f"Acknowledged by {escape_markdown(flag.acknowledged_by)} on {flag.acknowledged_at:%d %b %Y %H:%M}"
                )
                plain_text(flag.note)


def _acknowledge_form(cur, principal, risk_flag_id):
    name = f"ack_{risk_flag_id}"
    with st.form(form_key(name)):
        note, note_error = with_error_slot(
            st.text_area(
                "Follow-up note", max_chars=MAX_NOTE_LENGTH, placeholder="e.g. Called the client, safety plan reviewed"
            )
        )
        if st.form_submit_button("Acknowledge", type="primary"):
            try:
                measures.acknowledge_risk_flag(cur, principal, risk_flag_id=risk_flag_id, note=note)
            except InvalidInput as error:
                show_field_errors(error.errors, {"note": note_error, "risk_flag_id": note_error})
            else:
                saved(name, "Risk flag acknowledged.")
