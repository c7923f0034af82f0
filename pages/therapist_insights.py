"""The therapist's insights over their own caseload: does the homework work here?"""

import pandas as pd
import streamlit as st

from clinical.homework import CATEGORIES
from data_layer.reports import cohort
from ui.auth import require_role
from ui.cache import cached, prefetch
from ui.db import cursor
from ui.exports import csv_bytes
from ui.insights import analyses, filters, load_classified_episodes, reminding

principal = require_role("therapist")
cur = cursor()

st.title("Insights")
st.caption(
    "Your episodes of care that ended in the date range, and those in progress when it reaches today; "
    "each counts whole, from its start. Associations, not causes; n is always shown."
)
window_start, window_end, measure, _, _ = filters("insights")
window = {"window_start": window_start, "window_end": window_end}
# The page's heavy reads, side by side (as on the Cohort page), each as it is read below.
prefetch(
    cur,
    principal,
    [
        (cohort.episode_summaries, window | {"therapist_id": None, "category": None}),
        (cohort.weekly_panel, window),
        (cohort.category_summary, window),
        (cohort.compliance_around_reminders, {}),
        (cohort.episode_questionnaires, window | {"therapist_id": None}),
        (cohort.reminder_follow_through, {}),
    ],
)
classified = load_classified_episodes(cur, principal, window_start, window_end)
if classified.empty:
    st.info("None of your episodes of care ended in this date range, and none are in progress in it.")
else:
    panel = cached(cohort.weekly_panel, cur, principal, **window)
    analyses(principal, (window_start, window_end), classified, panel, measure, "insights", suppress=False)
    st.header("Compliance and helpfulness by homework category", anchor=False)
    categories = cached(cohort.category_summary, cur, principal, **window)
    if categories.empty:
        st.info("No homework was expected in this date range.")
    else:
        table = pd.DataFrame(
            {
                "Category": categories["category"].map(CATEGORIES),
                "Clients": categories["clients"],
                "Compliance": [
                    f"{value:.0%}" if pd.notna(value) else "no homework set" for value in categories["compliance"]
                ],
                "Mean helpfulness (1-5)": [
                    f"{value:.1f}" if pd.notna(value) else "not rated" for value in categories["mean_helpfulness"]
                ],
                "Rated logs": categories["rated_logs"],
            }
        )
        st.dataframe(table, hide_index=True)
        st.download_button("Download this table (CSV)", csv_bytes(table), file_name="categories.csv")
reminding(cur, principal, suppress=False)
