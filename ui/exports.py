"""Downloads: CSV that spreadsheets cannot execute, and a printable one-page session summary."""

import html

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert_cell(value):
    # A spreadsheet runs a cell that starts like a formula; a leading quote keeps it text.
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(frame):
    """Return `frame` as UTF-8 CSV (with BOM, for spreadsheets), text cells made formula-safe."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(_inert_cell)
    return safe.to_csv(index=False).encode("utf-8-sig")


def session_summary_html(client_name, therapist_name, facts, figure, notes):
    """Return a self-contained HTML page that prints on one sheet: key numbers, the timeline, notes.

    `facts` is a list of (label, value) pairs; `notes` a list of (date, text) pairs.
    Every piece of text is HTML-escaped.
    """
    rows = "".join(
        f"<tr><th>{html.escape(str(label))}</th><td>{html.escape(str(value))}</td></tr>" for label, value in facts
    )
    note_items = (
        "".join(f"<li><b>{html.escape(str(day))}</b>: {html.escape(str(text))}</li>" for day, text in notes)
        or "<li>No notes.</li>"
    )
    chart = figure.to_html(full_html=False, include_plotlyjs=True, config={"displayModeBar": False, "staticPlot": True})
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Session summary: {html.escape(client_name)}</title>
<style>
  body {{ font-family: system-ui, sans-serif; color: #22303c; margin: 1.5cm; }}
  h1 {{ font-size: 18pt; margin: 0 0 4pt; }} .sub {{ color: #666; margin-bottom: 10pt; }}
  table {{ border-collapse: collapse; margin-bottom: 8pt; }}
  th {{ text-align: left; padding: 2pt 10pt 2pt 0; font-weight: 600; }} td {{ padding: 2pt 0; }}
  ul {{ margin-top: 4pt; }} li {{ margin-bottom: 3pt; }}
  @page {{ size: A4; margin: 1cm; }}
  @media print {{ body {{ margin: 0; }} }}
</style></head><body>
<h1>Session summary: {html.escape(client_name)}</h1>
<div class="sub">Therapist: {html.escape(therapist_name)} · printed {pd.Timestamp.now():%d %b %Y}</div>
<table>{rows}</table>
{chart}
<h2 style="font-size: 13pt">Recent homework notes</h2>
<ul>{note_items}</ul>
</body></html>"""
