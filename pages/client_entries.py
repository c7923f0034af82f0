"""The client's own entries, newest first: change or delete them for 7 days; plan breaks."""

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from data_layer import homework, mood, paused
from data_layer.core.validation import InvalidInput
from ui.auth import require_role
from ui.breaks import add_break_form
from ui.db import cursor
from ui.widgets import (
    confirm_delete,
    day_label,
    entry_choices,
    escape_markdown,
    form_key,
    optional_int,
    plain_text,
    saved_here,
    show_field_errors,
    show_saved,
    text_or_empty,
    with_error_slot,
)

principal = require_role("client")
cur = cursor()

STATUS_LABELS = {"done": "Done", "partly": "Partly", "not_done": "Not done"}
RATINGS = [1, 2, 3, 4, 5]
SHOWN = 40
since = date.today() - timedelta(days=60)

st.title("My entries")
st.caption(
    f"Up to {SHOWN} entries of the last 60 days, newest first. Entries can be changed or "
    "deleted for 7 days after you make them."
)
homework_tab, mood_tab, breaks_tab = st.tabs(["Homework", "Mood", "Breaks"])


def edit_homework_log(entry):
    name = f"edit_homework_{entry.homework_log_id}"
    with st.form(form_key(name)):
        status, status_error = with_error_slot(
            st.segmented_control(
                "How did it go?", list(STATUS_LABELS), format_func=STATUS_LABELS.get, default=entry.status
            )
        )
        minutes, minutes_error = with_error_slot(
            st.number_input("Minutes spent", step=5, value=optional_int(entry.minutes))
        )
        helpfulness = st.segmented_control("How helpful was it?", RATINGS, default=optional_int(entry.helpfulness))
        difficulty = st.segmented_control("How hard was it?", RATINGS, default=optional_int(entry.difficulty))
        note, note_error = with_error_slot(st.text_area("Note", value=text_or_empty(entry.note)))
        general_error = st.empty()
        if st.form_submit_button("Save changes", type="primary"):
            try:
                homework.update_homework_log(
                    cur,
                    principal,
                    homework_log_id=entry.homework_log_id,
                    status=status,
                    minutes=minutes,
                    helpfulness=helpfulness,
                    difficulty=difficulty,
                    note=note,
                )
            except InvalidInput as error:
                show_field_errors(
                    error.errors,
                    {"status": status_error, "minutes": minutes_error, "note": note_error, "entry": general_error},
                )
            else:
                saved_here(
                    "homework",
                    f"Your change is saved: {day_label(entry.log_date)}, {escape_markdown(entry.assignment)}.",
                    form_name=name,
                )


def edit_mood_log(entry):
    name = f"edit_mood_{entry.mood_log_id}"
    with st.form(form_key(name)):
        mood_value = st.select_slider(
            "Mood (0 = very low, 10 = very good)", options=list(range(11)), value=int(entry.mood)
        )
        anxiety, anxiety_error = with_error_slot(
            st.number_input("Anxiety 0-10 (optional)", step=1, value=optional_int(entry.anxiety))
        )
        note, note_error = with_error_slot(st.text_area("Note", value=text_or_empty(entry.note)))
        general_error = st.empty()
        if st.form_submit_button("Save changes", type="primary"):
            try:
                mood.update_mood_log(
                    cur, principal, mood_log_id=entry.mood_log_id, mood=mood_value, anxiety=anxiety, note=note
                )
            except InvalidInput as error:
                show_field_errors(error.errors, {"anxiety": anxiety_error, "note": note_error, "entry": general_error})
            else:
                saved_here(
                    "mood", f"Your change is saved: {day_label(entry.log_date)}, mood {mood_value}.", form_name=name
                )


def show_entry(day, what, details, note):
    """One entry as a short line (user text shown inertly) and its note below."""
    st.markdown(f"**{day_label(day)}** · {escape_markdown(what)} · {' · '.join(details)}")
    if not pd.isna(note) and note:
        with st.container(border=True):
            plain_text(note)


# A save's confirmation stands in its tab where the edit form was (below the list, where the
# client tapped), until they choose to change another entry.
with homework_tab:
    logs = homework.list_homework_logs(cur, principal, client_id=principal.user_id, since=since)
    if logs.empty:
        st.info("No homework logged in the last 60 days.")
    for entry in logs.head(SHOWN).itertuples():
        details = [STATUS_LABELS[entry.status]]
        if not pd.isna(entry.minutes):
            details.append(f"{entry.minutes} min")
        show_entry(entry.log_date, entry.assignment, details, entry.note)
    recent_homework = {row.homework_log_id: row for row in logs[logs["editable"]].itertuples()}
    if not show_saved("homework", "Change another entry") and recent_homework:
        labels = entry_choices(
            recent_homework,
            lambda row: f"{day_label(row.log_date)}: {row.assignment} ({STATUS_LABELS[row.status].lower()})",
        )
        chosen = st.selectbox("Change an entry", list(labels), format_func=labels.get)
        edit_homework_log(recent_homework[chosen])
        if confirm_delete(
            f"homework_{chosen}",
            "this homework entry",
            lambda: homework.delete_homework_log(cur, principal, homework_log_id=chosen),
        ):
            saved_here("homework", "The homework entry is deleted.")

with mood_tab:
    logs = mood.list_mood_logs(cur, principal, client_id=principal.user_id, since=since)
    if logs.empty:
        st.info("No mood check-ins in the last 60 days.")
    for entry in logs.head(SHOWN).itertuples():
        details = [] if pd.isna(entry.anxiety) else [f"anxiety {entry.anxiety}"]
        show_entry(entry.log_date, f"Mood {entry.mood}", details, entry.note)
    recent_moods = {row.mood_log_id: row for row in logs[logs["editable"]].itertuples()}
    if not show_saved("mood", "Change another entry") and recent_moods:
        labels = entry_choices(recent_moods, lambda row: f"{day_label(row.log_date)}: mood {row.mood}")
        chosen = st.selectbox("Change an entry", list(labels), format_func=labels.get)
        edit_mood_log(recent_moods[chosen])
        if confirm_delete(
            f"mood_{chosen}", "this mood check-in", lambda: mood.delete_mood_log(cur, principal, mood_log_id=chosen)
        ):
            saved_here("mood", "The mood check-in is deleted.")


with breaks_tab:
    st.caption("On holiday or ill? Days in a break don't count against you.")
    # The breaks' confirmations stand in the form's place, at the top of this short tab.
    if not show_saved("breaks", "Add another break"):
        add_break_form(cur, principal, client_id=principal.user_id)
    breaks = paused.list_paused_periods(cur, principal, client_id=principal.user_id)
    for period in breaks.itertuples():
        with st.container(border=True):
            st.text(
                f"{period.starts_on:%d %b %Y} to {period.ends_on:%d %b %Y}"
                f"{' · ' + period.reason if period.reason else ''} (set by {period.set_by})"
            )
            if period.ends_on.date() >= date.today() and st.button(
                "Cancel this break", key=f"cancel_{period.paused_period_id}"
            ):
                paused.delete_paused_period(cur, principal, paused_period_id=period.paused_period_id)
                saved_here("breaks", "The break is cancelled.", form_name="add_break")
