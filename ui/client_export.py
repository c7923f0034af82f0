"""The client page's Export tab: the client's data as CSV, and a printable session summary."""

from datetime import date

import streamlit as st

from data_layer.reports import export
from ui.db import cursor
from ui.exports import csv_bytes, session_summary_html
from ui.widgets import RECENT_COMPLIANCE_LABEL, recent_compliance_text


def show_export(principal, record, figure):
    """The Export tab of `record` (ui.client_record.ClientRecord); `figure` is its timeline.

    Both files are made when their button is clicked, not on every run (and the CSV's audit
    row says it was downloaded): Streamlit calls the function in a thread of its own, which
    takes a cursor of its own (a cursor belongs to one thread)."""
    today = date.today()

    def client_record_csv():
        return csv_bytes(export.export_client_record(cursor(), principal, client_id=record.client_id))

    def session_summary():
        return session_summary_html(record.name, principal.display_name, facts, figure, notes)

    st.download_button(
        "Download the client's data (CSV)",
        client_record_csv,
        file_name=f"client-record-{today:%Y%m%d}.csv",
        mime="text/csv",
    )
    facts = [
        ("In care since", f"{record.episode_start:%d %b %Y}"),
        (RECENT_COMPLIANCE_LABEL, recent_compliance_text(record.recent["compliance_4w"])),
        *[
            (f"Latest {name}", f"{row['total']} ({row['band']}) on {row['taken_on']:%d %b}")
            for name, row in record.latest.items()
        ],
        ("Outcome so far", record.outcome["reliable_change"]),
        ("Sessions attended", int(record.sessions["attended"].sum())),
        ("Open risk flags", len(record.open_flags)),
    ]
    notes = [(f"{entry.log_date:%d %b}", f"{entry.assignment}: {entry.note}") for entry in record.notes.itertuples()]
    st.download_button(
        "Download a printable session summary (HTML)",
        session_summary,
        file_name=f"session-summary-{today:%Y%m%d}.html",
        mime="text/html",
    )
