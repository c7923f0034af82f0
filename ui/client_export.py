"""The client page's Export tab: the client's data as CSV, and a printable session summary."""

from datetime import date

import streamlit as st

from data_layer.reports import export
from ui.exports import csv_bytes, session_summary_html
from ui.widgets import RECENT_COMPLIANCE_LABEL, recent_compliance_text


def show_export(cur, principal, record, figure):
    """The Export tab of `record` (ui.client_record.ClientRecord); `figure` is its timeline."""
    today = date.today()
    st.download_button(
        "Download the client's data (CSV)",
        csv_bytes(export.export_client_record(cur, principal, client_id=record.client_id)),
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
        session_summary_html(record.name, principal.display_name, facts, figure, notes),
        file_name=f"session-summary-{today:%Y%m%d}.html",
        mime="text/html",
    )
