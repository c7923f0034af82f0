"""The client page's Risk tab: each PHQ-9 item-9 flag, acknowledged with a follow-up note."""

from functools import partial

import pandas as pd
import streamlit as st

from data_layer import measures
from ui.safety import acknowledge_form
from ui.widgets import escape_markdown, plain_text


def show_risk_flags(cur, principal, record):
    """The Risk tab of `record` (ui.client_record.ClientRecord): open flags first get a form."""
    if record.flags.empty:
        st.info("No risk flags.")
    for flag in record.flags.itertuples():
        with st.container(border=True):
            st.markdown(f"**PHQ-9 item 9 answered {flag.item_9_answer}** on {flag.taken_on:%a %d %b %Y}")
            if pd.isna(flag.acknowledged_at):
                acknowledge_form(
                    f"ack_{flag.risk_flag_id}",
                    "e.g. Called the client, safety plan reviewed",
                    partial(measures.acknowledge_risk_flag, cur, principal, risk_flag_id=flag.risk_flag_id),
                )
            else:
                st.caption(
                    f"Acknowledged by {escape_markdown(flag.acknowledged_by)} on {flag.acknowledged_at:%d %b %Y %H:%M}"
                )
                plain_text(flag.note)
