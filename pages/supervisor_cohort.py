"""The supervisor's cohort: outcomes beside the national figures, per therapist, per month and
per homework category, and how compliance relates to outcome. Clients appear only as
pseudonyms and any cell built from fewer than 5 clients reads "<5"."""
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from clinical.homework import CATEGORIES
from clinical.outcomes import NATIONAL_REFERENCE
from clinical.reporting import SMALL_CELL, SUPPRESSED, cohort_tiles, group_outcomes
from data_layer import cohort
from ui.auth import require_role
from ui.cache import cached
from ui.db import cursor
from ui.exports import csv_bytes
from ui.insights import analyses, filters, load_classified_episodes

principal = require_role("supervisor")
cur = cursor()

st.title("Cohort")
therapists = cohort.list_cohort_therapists(cur, principal)
if therapists.empty:
    st.info("You supervise no therapists yet. An administrator links therapists to you.")
    st.stop()
window_start, window_end, measure, therapist_id, category = filters("cohort", therapists)
classified = load_classified_episodes(cur, principal, window_start, window_end, therapist_id, category)
if classified.empty:
    st.info("No episodes of care in this date range.")
    st.stop()
today = date.today()
recent = cached(cohort.episode_summaries, cur, principal, window_start=today - timedelta(days=27), window_end=today,
                                  therapist_id=therapist_id, category=category)
recent_compliance = recent.loc[recent["active"], "compliance"]

st.subheader("Headline figures", anchor=False)
tiles = cohort_tiles(classified, recent_compliance, today)
REFERENCE_OF = {"Recovery": "recovery", "Reliable improvement": "reliable improvement",
                "Reliable recovery": "reliable recovery"}
columns = st.columns(4)
for index, (name, (value, detail)) in enumerate(tiles.items()):
    reference = NATIONAL_REFERENCE.get(REFERENCE_OF.get(name, ""))
    with columns[index % 4]:
        st.metric(name, value, help=reference.source if reference else None)
        st.caption(detail + (f" · national {reference.rate:.0%}" if reference else ""))
tile_table = pd.DataFrame([(name, value, detail) for name, (value, detail) in tiles.items()],
                          columns=["Measure", "Value", "Based on"])
st.download_button("Download the headline figures (CSV)", csv_bytes(tile_table), file_name="headline.csv")


def table_with_download(title, table, file_name):
    st.subheader(title, anchor=False)
    st.dataframe(table, hide_index=True)
    st.download_button("Download this table (CSV)", csv_bytes(table), file_name=file_name, key=file_name)


table_with_download("Per therapist", group_outcomes(classified, "therapist").rename(columns={"therapist": "Therapist"}),
                    "per-therapist.csv")
by_month = group_outcomes(classified.assign(month=pd.to_datetime(classified["referral_month"]).dt.strftime("%Y-%m")),
                          "month").rename(columns={"month": "Month of referral"})
table_with_download("Trends by month of referral", by_month, "by-month.csv")

categories = cached(cohort.category_summary, cur, principal, window_start=window_start, window_end=window_end,
                                     therapist_id=therapist_id)
rows = []
for row in categories.itertuples():
    members = classified[classified["episode_id"].isin(row.episode_ids)]
    finished = members[members["finished"]]
    rows.append({
        "Category": CATEGORIES[row.category],
        "Clients": str(row.clients) if row.clients >= SMALL_CELL else SUPPRESSED,
        "Compliance": f"{row.compliance:.0%}" if row.clients >= SMALL_CELL and pd.notna(row.compliance) else SUPPRESSED,
        "Mean helpfulness (1-5)": (f"{row.mean_helpfulness:.1f}" if row.clients >= SMALL_CELL
                                   and pd.notna(row.mean_helpfulness) else SUPPRESSED),
        "Reliable improvement": (f"{finished['reliable_improvement'].mean():.0%}" if len(finished) >= SMALL_CELL
                                 else SUPPRESSED),
    })
table_with_download("By homework category", pd.DataFrame(rows), "by-category.csv")

panel = cached(cohort.weekly_panel, cur, principal, window_start=window_start, window_end=window_end,
                            therapist_id=therapist_id, category=category)
analyses(classified, panel, measure, "cohort", suppress=True)
