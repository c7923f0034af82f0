"""PHQ-9 and GAD-7, when due and any time; the total and band in plain words; crisis resources at once."""

from datetime import date

import streamlit as st

from clinical.instruments import ANSWERS, ATTRIBUTION, ITEMS
from data_layer import measures
from data_layer.core import settings
from data_layer.core.validation import InvalidInput
from ui.auth import require_role
from ui.db import cursor
from ui.navigation import nothing_above
from ui.widgets import day_label, form_key, reset_form, show_field_errors, submission_token, with_error_slot

principal = require_role("client")
cur = cursor()

INTRO = "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
DIFFICULTY = {0: "Not difficult at all", 1: "Somewhat difficult", 2: "Very difficult", 3: "Extremely difficult"}


def show_result(result):
    """The page after a submission: the result alone, so that a phone shows it without scrolling
    (the long form is gone, the page starts at its top); after a risk answer the crisis resources
    come first, before anything else. It stays, across reruns, until the client moves on."""
    if result.risk_flag_raised:
        nothing_above()
        st.error(settings.crisis_text(), icon=":material/emergency:")
    if st.session_state.pop("questionnaire_toast", False):
        st.toast(f"Your {result.instrument} is saved.", icon=":material/check_circle:")
    st.title("Questionnaires")
    st.success(
        f"Thank you. Your {result.instrument} total is {result.total}: {result.band}.", icon=":material/check_circle:"
    )
    st.button("Back to the questionnaires", on_click=st.session_state.pop, args=("questionnaire_result", None))


def show_schedule():
    schedule = measures.questionnaire_schedule(cur, principal, client_id=principal.user_id)
    for name, when in schedule.items():
        last = f"last taken: {day_label(when['last_taken'])}" if when["last_taken"] else "not taken yet"
        due = "due now" if when["next_due"] <= date.today() else f"next due {when['next_due']:%a %d %b}"
        st.markdown(f"**{name}**: {due} ({last})")
    st.caption("You can fill one in at any time.")


def questionnaire_form(instrument):
    name = f"questionnaire_{instrument}"
    with st.form(form_key(name)):
        st.markdown(f"**{INTRO}**")
        answers, errors = [], {}
        for number, item in enumerate(ITEMS[instrument], start=1):
            answer, errors[f"item_{number}"] = with_error_slot(
                st.radio(f"{number}. {item}", list(ANSWERS), format_func=ANSWERS.get, index=None)
            )
            answers.append(answer)
        difficulty = None
        if instrument == "PHQ-9":
            difficulty, errors["difficulty"] = with_error_slot(
                st.radio(
                    "If you checked off any problems, how difficult have these problems made it for you to do "
                    "your work, take care of things at home, or get along with other people? (optional)",
                    list(DIFFICULTY),
                    format_func=DIFFICULTY.get,
                    index=None,
                )
            )
        st.caption(ATTRIBUTION)
        general = st.empty()
        if st.form_submit_button(f"Submit {instrument}", type="primary", width="stretch"):
            try:
                st.session_state["questionnaire_result"] = measures.submit_questionnaire(
                    cur,
                    principal,
                    instrument=instrument,
                    answers=answers,
                    difficulty=difficulty,
                    submission_id=submission_token(name),
                )
            except InvalidInput as error:
                general.error("Please answer every question: the ones missing are marked.")
                show_field_errors(error.errors, errors)
            else:
                st.session_state["questionnaire_toast"] = True
                reset_form(name)
                st.rerun()


result = st.session_state.get("questionnaire_result")
if result:
    show_result(result)
else:
    st.title("Questionnaires")
    show_schedule()
    phq_tab, gad_tab = st.tabs(["PHQ-9 (mood)", "GAD-7 (anxiety)"])
    with phq_tab:
        questionnaire_form("PHQ-9")
    with gad_tab:
        questionnaire_form("GAD-7")
