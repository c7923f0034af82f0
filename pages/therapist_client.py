"""One client's story on one screen: timeline, homework, scores, sessions, risk, export."""

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from clinical.episodes import DISCHARGE_REASONS
from clinical.homework import CATEGORIES, TEMPLATES, describe_schedule
from data_layer import caseload, homework, measures, mood, paused, sessions
from data_layer.core.access import AccessDenied
from data_layer.core.validation import MAX_NOTE_LENGTH, MAX_TITLE_LENGTH, InvalidInput
from data_layer.reports import export, metrics
from ui.auth import require_role
from ui.cache import cached
from ui.charts import PLOTLY_CONFIG, timeline_figure, timeline_is_empty, timeline_summary
from ui.db import cursor
from ui.exports import csv_bytes, session_summary_html
from ui.navigation import page_path
from ui.widgets import (
    RECENT_COMPLIANCE_LABEL,
    discharge_fields,
    escape_markdown,
    flash,
    form_key,
    plain_text,
    recent_compliance_metric,
    recent_compliance_text,
    saved,
    show_field_errors,
    show_flash,
)

principal = require_role("therapist")
cur = cursor()

clients = caseload.list_caseload(cur, principal)
if clients.empty:
    st.title("Client")
    st.info("No clients are in your caseload yet.")
    st.stop()
names = dict(zip(clients["client_id"].astype(int), clients["name"]))
client_id = st.session_state.get("open_client_id", next(iter(names)))
try:
    header = caseload.open_client(cur, principal, client_id=client_id)
except AccessDenied:
    st.session_state.pop("open_client_id", None)  # so the next visit opens a client of theirs
    raise
picked = st.selectbox(
    "Client", list(names), format_func=names.get, index=list(names).index(client_id) if client_id in names else 0
)
if picked != client_id:
    st.session_state["open_client_id"] = picked
    st.rerun()
episode_start = header["in_care_since"]

st.title(escape_markdown(header["name"]))
show_flash()
today = date.today()
daily = mood.daily_mood(cur, principal, client_id=client_id, since=episode_start)
weeks = metrics.weekly_compliance(cur, principal, client_id=client_id, window_start=episode_start, window_end=today)
scores = measures.list_questionnaires(cur, principal, client_id=client_id)
session_list = sessions.list_sessions(cur, principal, client_id=client_id)
flags = measures.list_risk_flags(cur, principal, client_id=client_id)

outcomes = cached(metrics.current_outcomes, cur, principal)
outcome = outcomes[outcomes["episode_id"] == header["episode_id"]].iloc[0]
recent = metrics.recent_compliance(cur, principal, client_id=client_id).iloc[0]

first, second, third = st.columns(3)
recent_compliance_metric(first, recent)
latest = {name: group.iloc[0] for name, group in scores.groupby("instrument")}
second.metric(
    "Latest PHQ-9", f"{latest['PHQ-9']['total']} ({latest['PHQ-9']['band']})" if "PHQ-9" in latest else "none"
)
third.metric("Latest GAD-7", f"{latest['GAD-7']['total']} ({latest['GAD-7']['band']})" if "GAD-7" in latest else "none")
if outcome["reliable_change"] == "not enough data":
    st.caption(
        f"Outcome so far: not enough data ({outcome['pairs']} questionnaire pairs, "
        f"{outcome['attended_sessions']} sessions attended; 2 of each are needed)."
    )
else:
    recovery = (
        ("recovered" if outcome["recovery"] else "not recovered")
        if outcome["case_at_start"]
        else "not a case at the start, so recovery does not apply"
    )
    st.caption(f"Outcome so far (first to last questionnaire pair): {outcome['reliable_change']}; {recovery}.")
open_flags = flags[flags["acknowledged_at"].isna()]
if len(open_flags):
    st.error(f"{len(open_flags)} risk flag(s) to follow up: PHQ-9 item 9 answered above 0. See the Risk tab.")

figure = timeline_figure(daily, weeks, scores, session_list, flags)
if timeline_is_empty(daily, weeks, scores, session_list, flags):
    st.info(
        "Nothing logged yet in this episode: the timeline of mood, homework and questionnaires "
        "appears here once the client logs something or homework is set."
    )
else:
    st.plotly_chart(figure, config=PLOTLY_CONFIG, key="timeline")
    st.caption(timeline_summary(daily, weeks, scores, session_list, flags))

homework_tab, scores_tab, sessions_tab, risk_tab, export_tab = st.tabs(
    ["Homework", "Questionnaires", "Sessions & breaks", "Risk", "Export"]
)


def assignment_form(name, values, submit_label, save):
    """The fields of an assignment; `save(**fields)` is called on submit."""
    with st.form(form_key(name)):
        title = st.text_input("Title", value=values.get("title", ""), max_chars=MAX_TITLE_LENGTH)
        title_error = st.empty()
        categories = list(CATEGORIES)
        category = st.selectbox(
            "Category", categories, format_func=CATEGORIES.get, index=categories.index(values.get("category", "other"))
        )
        instructions = st.text_area("Instructions", value=values.get("instructions", ""), max_chars=MAX_NOTE_LENGTH)
        instructions_error = st.empty()
        schedule = st.radio(
            "Schedule",
            ["weekly", "once"],
            horizontal=True,
            index=0 if values.get("schedule", "weekly") == "weekly" else 1,
            format_func={"weekly": "Times per week", "once": "Once, by a due date"}.get,
        )
        times_per_week = st.number_input(
            "Times per week (1-14; daily = 7)",
            min_value=0,
            max_value=20,
            step=1,
            value=values.get("times_per_week") or 3,
        )
        times_error = st.empty()
        due_on = st.date_input(
            "Due date (for once)", value=values.get("due_on") or today + timedelta(days=7), format="DD/MM/YYYY"
        )
        due_error = st.empty()
        starts_on = st.date_input("Start", value=values.get("starts_on") or today, format="DD/MM/YYYY")
        start_error = st.empty()
        ends_on = st.date_input("End (optional)", value=values.get("ends_on"), format="DD/MM/YYYY")
        end_error = st.empty()
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


with homework_tab:
    assignments = homework.list_assignments(cur, principal, client_id=client_id)
    per_assignment = metrics.compliance_by_assignment(
        cur, principal, client_id=client_id, window_start=episode_start, window_end=today
    )
    if assignments.empty:
        st.info("No homework set yet.")
    else:
        merged = assignments.merge(per_assignment[["assignment_id", "compliance"]], on="assignment_id", how="left")
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

    with st.expander("Set new homework", expanded=assignments.empty):
        template_titles = ["Blank"] + [template["title"] for template in TEMPLATES]
        template_title = st.selectbox("Start from a template", template_titles)
        template = next((t for t in TEMPLATES if t["title"] == template_title), {})
        if assignment_form(
            f"new_assignment_{template_title}",
            template,
            "Set homework",
            lambda **fields: homework.create_assignment(cur, principal, client_id=client_id, **fields),
        ):
            saved(f"new_assignment_{template_title}", "The homework is set; the client sees it on their Today page.")

    current = assignments[assignments["active"]] if not assignments.empty else assignments
    if len(current):
        with st.expander("Change or end current homework"):
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
            if assignment_form(
                f"edit_assignment_{chosen}",
                values,
                "Save changes",
                lambda **fields: homework.update_assignment(cur, principal, assignment_id=chosen, **fields),
            ):
                saved(f"edit_assignment_{chosen}", "The homework is changed.")
            st.caption(
                "A change applies from today: past weeks keep the schedule they had, "
                "so their compliance stays as it was."
            )
            if st.button("End this homework today", key=f"end_{chosen}"):
                homework.end_assignment(cur, principal, assignment_id=chosen)
                saved(f"edit_assignment_{chosen}", "The homework ends today.")

    st.header("Recent homework notes", anchor=False)
    logs = homework.list_homework_logs(cur, principal, client_id=client_id, since=today - timedelta(days=28))
    noted = logs[logs["note"].notna() & (logs["note"] != "")].head(10)
    if noted.empty:
        st.caption("No notes in the last 4 weeks.")
    for entry in noted.itertuples():
        st.markdown(f"**{entry.log_date:%a %d %b}** · {entry.status.replace('_', ' ')}")
        with st.container(border=True):
            plain_text(f"{entry.assignment}: {entry.note}")

with scores_tab:
    if scores.empty:
        st.info("No questionnaires yet.")
    else:
        st.dataframe(
            scores.drop(columns=["questionnaire_id"]),
            hide_index=True,
            column_config={
                "taken_on": st.column_config.DateColumn("Date"),
                "instrument": "Questionnaire",
                "total": "Total",
                "band": "Band",
                **{f"item_{n}": f"Q{n}" for n in range(1, 10)},
                "difficulty": "Difficulty",
            },
        )
        if outcome["pairs"]:
            st.caption(
                f"{outcome['pairs']} PHQ-9/GAD-7 pairs in this episode; first pair PHQ-9 "
                f"{outcome['phq9_first']:g}, GAD-7 {outcome['gad7_first']:g}; last pair PHQ-9 "
                f"{outcome['phq9_last']:g}, GAD-7 {outcome['gad7_last']:g}."
            )

with sessions_tab:
    with st.form(form_key("record_session")):
        session_date = st.date_input("Session date", value=today, format="DD/MM/YYYY")
        date_error = st.empty()
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
    if not session_list.empty:
        st.caption(f"{int(session_list['attended'].sum())} attended, {int((~session_list['attended']).sum())} missed.")
    with st.form(form_key("cadence")):
        every_days = st.number_input(
            "Questionnaires every ... days (weekly = 7)",
            min_value=1,
            max_value=90,
            step=1,
            value=header["questionnaire_every_days"],
        )
        cadence_error = st.empty()
        if st.form_submit_button("Set cadence"):
            try:
                measures.set_questionnaire_cadence(cur, principal, client_id=client_id, every_days=every_days)
            except InvalidInput as error:
                show_field_errors(error.errors, {"every_days": cadence_error})
            else:
                saved("cadence", f"Questionnaires are now due every {every_days} days.")
    st.header("Breaks", anchor=False)
    with st.form(form_key("therapist_break")):
        left, right = st.columns(2)
        starts_on = left.date_input("From", value=today, format="DD/MM/YYYY")
        start_error = left.empty()
        ends_on = right.date_input("Until (inclusive)", value=today + timedelta(days=6), format="DD/MM/YYYY")
        end_error = right.empty()
        reason = st.text_input("Reason", max_chars=200)
        if st.form_submit_button("Add break"):
            try:
                paused.add_paused_period(
                    cur, principal, client_id=client_id, starts_on=starts_on, ends_on=ends_on, reason=reason
                )
            except InvalidInput as error:
                show_field_errors(error.errors, {"starts_on": start_error, "ends_on": end_error})
            else:
                saved("therapist_break", "Break added.")
    for period in paused.list_paused_periods(cur, principal, client_id=client_id).itertuples():
        st.text(f"{period.starts_on:%d %b} to {period.ends_on:%d %b} · {period.reason} (set by {period.set_by})")

    st.header("End this episode of care", anchor=False)
    st.caption(
        "Discharge ends the episode on the day you choose (its last day): the client leaves your caseload "
        "from today, their homework with you ends that day, and the episode's outcome counts in the "
        "clinic's figures. A new referral starts a new episode."
    )
    with st.form(form_key("discharge")):
        ended_on, reason, placeholders = discharge_fields()
        if st.form_submit_button("Discharge"):
            try:
                caseload.discharge_client(cur, principal, client_id=client_id, ended_on=ended_on, reason=reason)
            except InvalidInput as error:
                show_field_errors(error.errors, placeholders)
            else:
                st.session_state.pop("open_client_id", None)
                flash(
                    f"{escape_markdown(header['name'])} was discharged ({DISCHARGE_REASONS[reason].lower()}); "
                    f"the episode ended on {ended_on:%d %b %Y}."
                )
                st.switch_page(page_path("pages/therapist_caseload.py"))

with risk_tab:
    if flags.empty:
        st.info("No risk flags.")
    for flag in flags.itertuples():
        with st.container(border=True):
            st.markdown(f"**PHQ-9 item 9 answered {flag.item_9_answer}** on {flag.taken_on:%a %d %b %Y}")
            if pd.isna(flag.acknowledged_at):
                with st.form(form_key(f"ack_{flag.risk_flag_id}")):
                    note = st.text_area(
                        "Follow-up note",
                        max_chars=MAX_NOTE_LENGTH,
                        placeholder="e.g. Called the client, safety plan reviewed",
                    )
                    note_error = st.empty()
                    if st.form_submit_button("Acknowledge", type="primary"):
                        try:
                            measures.acknowledge_risk_flag(cur, principal, risk_flag_id=flag.risk_flag_id, note=note)
                        except InvalidInput as error:
                            show_field_errors(error.errors, {"note": note_error, "risk_flag_id": note_error})
                        else:
                            saved(f"ack_{flag.risk_flag_id}", "Risk flag acknowledged.")
            else:
                st.caption(
                    f"Acknowledged by {escape_markdown(flag.acknowledged_by)} on {flag.acknowledged_at:%d %b %Y %H:%M}"
                )
                plain_text(flag.note)

with export_tab:
    client_record = export.export_client_record(cur, principal, client_id=client_id)
    st.download_button(
        "Download the client's data (CSV)",
        csv_bytes(client_record),
        file_name=f"client-record-{today:%Y%m%d}.csv",
        mime="text/csv",
    )
    facts = [
        ("In care since", f"{episode_start:%d %b %Y}"),
        (RECENT_COMPLIANCE_LABEL, recent_compliance_text(recent["compliance_4w"])),
        *[
            (f"Latest {name}", f"{row['total']} ({row['band']}) on {row['taken_on']:%d %b}")
            for name, row in latest.items()
        ],
        ("Outcome so far", outcome["reliable_change"]),
        ("Sessions attended", int(session_list["attended"].sum())),
        ("Open risk flags", len(open_flags)),
    ]
    notes = [(f"{entry.log_date:%d %b}", f"{entry.assignment}: {entry.note}") for entry in noted.itertuples()]
    st.download_button(
        "Download a printable session summary (HTML)",
        session_summary_html(header["name"], principal.display_name, facts, figure, notes),
        file_name=f"session-summary-{today:%Y%m%d}.html",
        mime="text/html",
    )
