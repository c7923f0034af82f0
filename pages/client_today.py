"""The client's landing page: this week's homework, a quick log for each, and a mood check-in."""

from datetime import date

import streamlit as st

from clinical.homework import CATEGORIES, describe_schedule
from data_layer import caseload, homework, measures, mood
from data_layer.core.validation import InvalidInput
from ui.auth import require_role
from ui.cache import cached
from ui.db import cursor
from ui.navigation import page_path
from ui.widgets import (
    entry_date_input,
    escape_markdown,
    form_key,
    plain_text,
    saved_here,
    show_field_errors,
    show_saved,
    submission_token,
    with_error_slot,
)

principal = require_role("client")
cur = cursor()

STATUS_LABELS = {"done": "Done", "partly": "Partly", "not_done": "Not done"}
RATINGS = [1, 2, 3, 4, 5]

st.title("Today")
greeting_name = principal.display_name.strip()
# A name that ends in a full stop ("Zainab R.") ends the sentence: no second one.
st.caption(f"Hello {escape_markdown(greeting_name)}{'' if greeting_name.endswith('.') else '.'} Small steps count.")
due = [
    name
    for name, when in cached(measures.questionnaire_schedule, cur, principal, client_id=principal.user_id).items()
    if when["next_due"] <= date.today()
]
if due:
    st.page_link(
        page_path("pages/client_questionnaires.py"),
        icon=":material/checklist:",
        label=f"{' and '.join(due)} {'is' if len(due) == 1 else 'are'} due: it takes a few minutes",
    )


def log_attempt_form(assignment):
    """The quick log for one assignment: status, date, and optional details."""
    name = f"log_{assignment.assignment_id}"
    with st.form(form_key(name)):
        status, status_error = with_error_slot(
            st.segmented_control("How did it go?", list(STATUS_LABELS), format_func=STATUS_LABELS.get)
        )
        log_date, date_error = with_error_slot(entry_date_input("Day"))
        with st.expander("Add details (optional)"):
            minutes, minutes_error = with_error_slot(st.number_input("Minutes spent", value=None, step=5))
            helpfulness, helpfulness_error = with_error_slot(
                st.segmented_control("How helpful was it? (1 = not at all, 5 = very)", RATINGS)
            )
            difficulty, difficulty_error = with_error_slot(
                st.segmented_control("How hard was it? (1 = easy, 5 = very hard)", RATINGS)
            )
            note, note_error = with_error_slot(st.text_area("Note", placeholder="What happened, what you noticed"))
        general_error = st.empty()
        if st.form_submit_button("Save", type="primary", width="stretch"):
            try:
                homework.log_homework(
                    cur,
                    principal,
                    assignment_id=assignment.assignment_id,
                    log_date=log_date,
                    status=status,
                    minutes=minutes,
                    helpfulness=helpfulness,
                    difficulty=difficulty,
                    note=note,
                    submission_id=submission_token(name),
                )
            except InvalidInput as error:
                show_field_errors(
                    error.errors,
                    {
                        "status": status_error,
                        "log_date": date_error,
                        "minutes": minutes_error,
                        "helpfulness": helpfulness_error,
                        "difficulty": difficulty_error,
                        "note": note_error,
                        "assignment_id": general_error,
                    },
                )
            else:
                saved_here(
                    name,
                    f"Saved: {escape_markdown(assignment.title)} ({STATUS_LABELS[status].lower()}). "
                    "Well done for logging.",
                )


st.header("Homework", anchor=False)
# Cached by client, day and data version, like every read of this page that a rerun repeats.
assignments = cached(homework.list_active_assignments, cur, principal, client_id=principal.user_id)
if assignments.empty:
    care = caseload.my_care(cur, principal)
    if care["therapist"] is None and care["ended_on"] is not None:
        st.info(
            f"Your episode of care ended on {care['ended_on']:%d %B %Y}, so there is no homework to log. "
            "You can still keep your mood diary. If you need support again, contact the clinic."
        )
    else:
        st.info("You have no homework right now. Your therapist will set some with you.")
for assignment in assignments.itertuples():
    with st.container(border=True, key=f"assignment_{assignment.assignment_id}"):
        st.subheader(escape_markdown(assignment.title), anchor=False)
        schedule = describe_schedule(assignment.schedule, assignment.times_per_week, assignment.due_on)
        st.caption(f"{CATEGORIES[assignment.category]} · {schedule}")
        if assignment.schedule == "weekly":
            st.progress(
                min(assignment.done_so_far / assignment.times_per_week, 1.0),
                text=f"{assignment.done_so_far:g} of {assignment.times_per_week} this week",
            )
        else:
            st.progress(
                min(assignment.done_so_far, 1.0), text="Done" if assignment.done_so_far >= 1 else "Not done yet"
            )
        if assignment.instructions:
            with st.expander("Instructions"):
                plain_text(assignment.instructions)
        # After a save, its confirmation stands here, where the client tapped Save.
        if not show_saved(f"log_{assignment.assignment_id}", "Log it again"):
            with st.expander("Log it"):
                log_attempt_form(assignment)


def mood_form():
    """The mood check-in's fields and Save (inside its form)."""
    mood_value = st.select_slider(
        "How is your mood?",
        options=list(range(11)),
        value=5,
        format_func=lambda value: {0: "0 · very low", 10: "10 · very good"}.get(value, str(value)),
    )
    # The slider shows its ends only on hover or focus, which touch never gives: write them out.
    with st.container(horizontal=True, horizontal_alignment="distribute"):
        st.caption("0 very low", width="content")
        st.caption("10 very good", width="content")
    mood_error = st.empty()
    anxiety, anxiety_error = with_error_slot(
        st.number_input("Anxiety, 0 (none) to 10 (extreme), optional", value=None, step=1)
    )
    mood_date, mood_date_error = with_error_slot(entry_date_input("Day", key="mood_day"))
    mood_note, mood_note_error = with_error_slot(st.text_area("Note (optional)"))
    if st.form_submit_button("Save mood", type="primary", width="stretch"):
        try:
            mood.log_mood(
                cur,
                principal,
                log_date=mood_date,
                mood=mood_value,
                anxiety=anxiety,
                note=mood_note,
                submission_id=submission_token("mood"),
            )
        except InvalidInput as error:
            show_field_errors(
                error.errors,
                {"mood": mood_error, "anxiety": anxiety_error, "log_date": mood_date_error, "note": mood_note_error},
            )
        else:
            saved_here("mood", f"Mood saved: {mood_value} out of 10. Thank you for checking in.")


st.header("Mood check-in", anchor=False)
if not show_saved("mood", "Check in again"):
    with st.form(form_key("mood")):
        mood_form()
