"""The client page's Sessions & breaks tab: record a session, the questionnaires' cadence, breaks,
and the end of the episode of care (discharge)."""

from datetime import date

import streamlit as st

from clinical.episodes import DISCHARGE_REASONS
from data_layer import caseload, measures, paused, sessions
from data_layer.core.validation import InvalidInput
from ui.breaks import add_break_form
from ui.cache import cached
from ui.navigation import page_path
from ui.widgets import discharge_fields, escape_markdown, flash, form_key, saved, show_field_errors, with_error_slot


def show_sessions_and_breaks(cur, principal, record):
    """The Sessions & breaks tab of `record` (ui.client_record.ClientRecord)."""
    _record_session(cur, principal, record.client_id)
    if not record.sessions.empty:
        attended = record.sessions["attended"]
        st.caption(f"{int(attended.sum())} attended, {int((~attended).sum())} missed.")
    _cadence(cur, principal, record)
    st.header("Breaks", anchor=False)
    add_break_form(cur, principal, client_id=record.client_id)
    for period in cached(paused.list_paused_periods, cur, principal, client_id=record.client_id).itertuples():
        st.text(f"{period.starts_on:%d %b} to {period.ends_on:%d %b} · {period.reason} (set by {period.set_by})")
    st.header("End this episode of care", anchor=False)
    st.caption(
        "Discharge ends the episode on the day you choose (its last day): the client leaves your caseload "
        "from today, their homework with you ends that day, and the episode's outcome counts in the "
        "clinic's figures. A new referral starts a new episode."
    )
    _discharge(cur, principal, record)


def _record_session(cur, principal, client_id):
    with st.form(form_key("record_session")):
        session_date, date_error = with_error_slot(
            st.date_input("Session date", value=date.today(), format="DD/MM/YYYY")
        )
        attended = st.radio(
            "Attended?", [True, False], horizontal=True, format_func={True: "Attended", False: "Did not attend"}.get
        )
        if st.form_submit_button("Record session", type="primary"):
            try:
                sessions.record_session(
                    cur, principal, client_id=client_id, session_date=session_date, attended=attended
                )
            except InvalidInput as error:
                show_field_errors(error.errors, {"session_date": date_error})
            else:
                saved("record_session", f"Session on {session_date:%d %b} recorded.")


def _cadence(cur, principal, record):
    with st.form(form_key("cadence")):
        every_days, cadence_error = with_error_slot(
            st.number_input(
                "Questionnaires every ... days (weekly = 7)",
                min_value=1,
                max_value=90,
                step=1,
                value=record.header["questionnaire_every_days"],
            )
        )
        if st.form_submit_button("Set cadence"):
            try:
                measures.set_questionnaire_cadence(cur, principal, client_id=record.client_id, every_days=every_days)
            except InvalidInput as error:
                show_field_errors(error.errors, {"every_days": cadence_error})
            else:
                saved("cadence", f"Questionnaires are now due every {every_days} days.")


def _discharge(cur, principal, record):
    with st.form(form_key("discharge")):
        ended_on, reason, placeholders = discharge_fields()
        if st.form_submit_button("Discharge"):
            try:
                caseload.discharge_client(cur, principal, client_id=record.client_id, ended_on=ended_on, reason=reason)
            except InvalidInput as error:
                show_field_errors(error.errors, placeholders)
            else:
                st.session_state.pop("open_client_id", None)
                flash(
                    f"{escape_markdown(record.name)} was discharged ({DISCHARGE_REASONS[reason].lower()}); "
                    f"the episode ended on {ended_on:%d %b %Y}."
                )
                st.switch_page(page_path("pages/therapist_caseload.py"))
