"""One client's story on one screen: timeline, homework, scores, sessions, reminders, risk, export."""

import streamlit as st

from ui.auth import require_role
from ui.client_checklist import show_support_checklist
from ui.client_export import show_export
from ui.client_homework import show_homework
from ui.client_record import choose_client, read_client_record, show_overview
from ui.client_reminders import show_reminders
from ui.client_risk import show_risk_flags
from ui.client_scores import show_questionnaires
from ui.client_sessions import show_sessions_and_breaks
from ui.db import cursor
from ui.widgets import escape_markdown, show_flash

principal = require_role("therapist")
cur = cursor()

client_id, header = choose_client(cur, principal)
st.title(escape_markdown(header["name"]))
show_flash()
record = read_client_record(cur, principal, client_id, header)
timeline, track = show_overview(cur, principal, record)
show_support_checklist(cur, principal, record, track is not None and track["status"] == "not on track")

homework_tab, scores_tab, sessions_tab, reminders_tab, risk_tab, export_tab = st.tabs(
    ["Homework", "Questionnaires", "Sessions & breaks", "Reminders", "Risk", "Export"]
)
with homework_tab:
    show_homework(cur, principal, record)
with scores_tab:
    show_questionnaires(record)
with sessions_tab:
    show_sessions_and_breaks(cur, principal, record)
with reminders_tab:
    show_reminders(cur, principal, record)
with risk_tab:
    show_risk_flags(cur, principal, record)
with export_tab:
    show_export(principal, record, timeline)
