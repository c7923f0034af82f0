"""The client page's Homework tab: the client's homework and its compliance, setting, changing
and ending homework, and the client's recent notes."""

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from clinical.homework import CATEGORIES, TEMPLATES, describe_schedule
from data_layer import homework
from data_layer.core.validation import MAX_NOTE_LENGTH, MAX_TITLE_LENGTH, InvalidInput
from data_layer.reports import metrics
from ui.cache import cached
from ui.widgets import form_key, plain_text, saved, show_field_errors, with_error_slot


def show_homework(cur, principal, record):
    """The Homework tab of `record` (ui.client_record.ClientRecord)."""
    assignments = cached(homework.list_assignments, cur, principal, client_id=record.client_id)
    per_assignment = cached(
        metrics.compliance_by_assignment,
        cur,
        principal,
        client_id=record.client_id,
        window_start=record.episode_start,
        window_end=date.today(),
    )
    if assignments.empty:
        st.info("No homework set yet.")
    else:
        _assignments_table(
            assignments.merge(per_assignment[["assignment_id", "compliance"]], on="assignment_id", how="left")
        )
    with st.expander("Set new homework", expanded=assignments.empty):
        _new_assignment(cur, principal, record.client_id)
    current = assignments[assignments["active"]] if not assignments.empty else assignments
    if len(current):
        with st.expander("Change or end current homework"):
            _change_assignment(cur, principal, current)
    st.header("Recent homework notes", anchor=False)
    if record.notes.empty:
        st.caption("No notes in the last 4 weeks.")
    for entry in record.notes.itertuples():
        st.markdown(f"**{entry.log_date:%a %d %b}** · {entry.status.replace('_', ' ')}")
        with st.container(border=True):
            plain_text(f"{entry.assignment}: {entry.note}")


def _assignments_table(merged):
    st.dataframe(
        pd.DataFrame(
            {
                "Homework": merged["title"],
                "Category": merged["category"].map(CATEGORIES),
                "Schedule": [
                    describe_schedule(row.schedule, row.times_per_week, row.due_on) for row in merged.itertuples()
                ],
                "Active": merged["active"],
                "Compliance": merged["compliance"] * 100,
                "Mean helpfulness (1-5)": merged["mean_helpfulness"],
                "Logs": merged["logs"],
            }
        ),
        hide_index=True,
        column_config={
            "Compliance": st.column_config.ProgressColumn(format="%.0f%%", min_value=0, max_value=100),
            "Mean helpfulness (1-5)": st.column_config.NumberColumn(format="%.1f"),
        },
    )


def _new_assignment(cur, principal, client_id):
    template_titles = ["Blank"] + [template["title"] for template in TEMPLATES]
    template_title = st.selectbox("Start from a template", template_titles)
    template = next((t for t in TEMPLATES if t["title"] == template_title), {})
    name = f"new_assignment_{template_title}"
    if assignment_form(
        name,
        template,
        "Set homework",
        lambda **fields: homework.create_assignment(cur, principal, client_id=client_id, **fields),
    ):
        saved(name, "The homework is set; the client sees it on their Today page.")


def _change_assignment(cur, principal, current):
    titles = dict(zip(current["assignment_id"], current["title"]))
    chosen = st.selectbox("Homework", list(titles), format_func=titles.get)
    row = current.set_index("assignment_id").loc[chosen]
    values = {
        "title": row["title"],
        "category": row["category"],
        "instructions": row["instructions"],
        "schedule": row["schedule"],
        "times_per_week": None if pd.isna(row["times_per_week"]) else int(row["times_per_week"]),
        "due_on": None if pd.isna(row["due_on"]) else row["due_on"].date(),
        "starts_on": row["starts_on"].date(),
        "ends_on": None if pd.isna(row["ends_on"]) else row["ends_on"].date(),
    }
    name = f"edit_assignment_{chosen}"
    if assignment_form(
        name,
        values,
        "Save changes",
        lambda **fields: homework.update_assignment(cur, principal, assignment_id=chosen, **fields),
    ):
        saved(name, "The homework is changed.")
    st.caption(
        "A change applies from today: past weeks keep the schedule they had, so their compliance stays as it was."
    )
    if st.button("End this homework today", key=f"end_{chosen}"):
        homework.end_assignment(cur, principal, assignment_id=chosen)
        saved(name, "The homework ends today.")


def assignment_form(name, values, submit_label, save):
    """The fields of an assignment; `save(**fields)` is called on submit. Return True once saved."""
    today = date.today()
    with st.form(form_key(name)):
        title, title_error = with_error_slot(
            st.text_input("Title", value=values.get("title", ""), max_chars=MAX_TITLE_LENGTH)
        )
        categories = list(CATEGORIES)
        category = st.selectbox(
            "Category", categories, format_func=CATEGORIES.get, index=categories.index(values.get("category", "other"))
        )
        instructions, instructions_error = with_error_slot(
            st.text_area("Instructions", value=values.get("instructions", ""), max_chars=MAX_NOTE_LENGTH)
        )
        schedule = st.radio(
            "Schedule",
            ["weekly", "once"],
            horizontal=True,
            index=0 if values.get("schedule", "weekly") == "weekly" else 1,
            format_func={"weekly": "Times per week", "once": "Once, by a due date"}.get,
        )
        times_per_week, times_error = with_error_slot(
            st.number_input(
                "Times per week (1-14; daily = 7)",
                min_value=0,
                max_value=20,
                step=1,
                value=values.get("times_per_week") or 3,
            )
        )
        due_on, due_error = with_error_slot(
            st.date_input(
                "Due date (for once)", value=values.get("due_on") or today + timedelta(days=7), format="DD/MM/YYYY"
            )
        )
        starts_on, start_error = with_error_slot(
            st.date_input("Start", value=values.get("starts_on") or today, format="DD/MM/YYYY")
        )
        ends_on, end_error = with_error_slot(
            st.date_input("End (optional)", value=values.get("ends_on"), format="DD/MM/YYYY")
        )
        if st.form_submit_button(submit_label, type="primary"):
            try:
                save(
                    title=title,
                    category=category,
                    instructions=instructions,
                    schedule=schedule,
                    times_per_week=times_per_week,
                    due_on=due_on,
                    starts_on=starts_on,
                    ends_on=ends_on,
                )
            except InvalidInput as error:
                show_field_errors(
                    error.errors,
                    {
                        "title": title_error,
                        "instructions": instructions_error,
                        "times_per_week": times_error,
                        "due_on": due_error,
                        "starts_on": start_error,
                        "ends_on": end_error,
                    },
                )
                return False
            return True
    return False
