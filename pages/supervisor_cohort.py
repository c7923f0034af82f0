"""The supervisor's cohort: outcomes of the episodes that ENDED in the chosen period (a calendar
quarter; the current one also takes the episodes in progress) beside the national figures (with
the episodes that ended without finishing counted), the progress so far of those in progress
apart, per therapist, per month and per homework category, and how compliance relates to
outcome. Clients appear only as pseudonyms; small cells read "<5" and cannot be worked out from
the totals, from another filter choice or from another period (clinical/reporting.py owns the
rule)."""

from datetime import date
from functools import partial

import pandas as pd
import streamlit as st

from clinical.homework import CATEGORIES
from clinical.outcomes import NATIONAL_REFERENCE
from clinical.reporting import (
    category_outcomes,
    cohort_tiles,
    cohort_view,
    group_outcomes,
    progress_tiles,
    reporting_periods,
)
from data_layer import caseload
from data_layer.reports import cohort
from ui.auth import require_role
from ui.cache import cached, derived, prefetch
from ui.db import cursor
from ui.exports import csv_bytes
from ui.insights import MEASURES, analyses, cohort_cells, filters, load_classified_episodes, reminding

# Figures about the episodes in progress: shown with the current quarter only.
IN_PROGRESS_TILES = ("Active clients", "Engagement", "Median 4-week compliance")

principal = require_role("supervisor")
cur = cursor()

st.title("Cohort")
therapists = cached(caseload.list_supervised_therapists, cur, principal)
if therapists.empty:
    st.info("You supervise no therapists yet. An administrator links therapists to you.")
    st.stop()
today = date.today()
# Quarters, not free dates: two choices never share an ended episode (clinical/reporting.py).
periods = reporting_periods(cached(cohort.earliest_episode_start, cur, principal), today)
window_start, window_end, measure, therapist_id, category = filters("cohort", therapists, periods)
current = window_end >= today
window = {"window_start": window_start, "window_end": window_end}
# With a category chosen, the page reads the episodes and the recent compliance in it too.
in_category_reads = [
    (cohort.episode_summaries, window | {"therapist_id": None, "category": category}),
    (cohort.recent_episode_compliance, {"category": category}),
]
# The page's heavy reads, side by side (in server mode PostgreSQL gives each its own core), each as it
# is read below; the weekly panel whether or not the analyses end up shown. The episode summaries
# first: the first of the three reads built on the same compliance works it out before its own
# figures (data_layer.reports.cohort), and the summaries' own figures are the quickest to follow it.
prefetch(
    cur,
    principal,
    [
        (cohort.episode_summaries, window | {"therapist_id": None, "category": None}),
        (cohort.weekly_panel, window | {"therapist_id": therapist_id, "category": category}),
        (cohort.category_summary, window),
        *(in_category_reads if category else []),
        (cohort.compliance_around_reminders, {}),
        (cohort.recent_episode_compliance, {"category": None}),
        (cohort.episode_questionnaires, window | {"therapist_id": None}),
        (cohort.reminder_follow_through, {}),
    ],
)
# Every figure is worked out from the whole cohort and narrowed here, so that each filtered
# count can be checked against the same count without the filter (clinical/reporting.py).
st.caption(
    "The period chooses the episodes that ended in it (the current quarter also takes those in "
    "progress); each episode counts whole, from its start to its end. Periods are whole quarters "
    "that never overlap, so that no small group can be worked out from two of them."
)
episodes = load_classified_episodes(cur, principal, window_start, window_end)
if episodes.empty:
    st.info("No episodes of care ended in this period" + (", and none are in progress." if current else "."))
    st.stop()
in_category = (
    load_classified_episodes(cur, principal, window_start, window_end, category=category) if category else episodes
)


def recent_episodes(chosen_category):
    # "Compliance, last 4 weeks": the 4 most recent complete ISO weeks, as on every page.
    return cached(cohort.recent_episode_compliance, cur, principal, category=chosen_category)


recent = recent_episodes(None)
therapist_name = dict(zip(therapists["therapist_id"], therapists["therapist"])).get(therapist_id)
categories = cached(cohort.category_summary, cur, principal, **window)
# One decision for the three tables and the filtered views: what each shows, and what it hides.
period = (window_start, window_end)
cells = cohort_cells(principal, period, episodes, dict(zip(categories["category"], categories["episode_ids"])))
recent_in_category = recent_episodes(category) if category else recent
# Worked out once per choice and kept until the data change (ui.cache.derived).
choices = (*period, therapist_id, category)
view = derived(
    "cohort_view",
    principal,
    (*choices, measure),
    lambda: cohort_view(
        episodes,
        in_category,
        recent,
        recent_in_category,
        therapist=therapist_name,
        category=category,
        change_column=MEASURES[measure][0],
        cells=cells,
    ),
)
per_therapist, by_month, by_category = derived(
    "cohort_tables",
    principal,
    period,
    lambda: (
        group_outcomes(episodes, "therapist", cells).rename(columns={"therapist": "Therapist"}),
        group_outcomes(episodes, "month", cells).rename(columns={"month": "Month of referral"}),
        category_outcomes(episodes, categories, cells, CATEGORIES),
    ),
)


def table_with_download(title, table, file_name):
    st.header(title, anchor=False)
    st.dataframe(table, hide_index=True)
    # Made when clicked, not on every run (a callable: Streamlit calls it on the download).
    st.download_button("Download this table (CSV)", partial(csv_bytes, table), file_name=file_name, key=file_name)


st.header("Headline figures", anchor=False)
if view.refusal:
    st.warning(view.refusal)
else:
    tiles = cohort_tiles(view, today)
    if not current:  # the episodes in progress belong to the current quarter only
        tiles = {name: tile for name, tile in tiles.items() if name not in IN_PROGRESS_TILES}
    REFERENCE_OF = {
        "Recovery": "recovery",
        "Reliable improvement": "reliable improvement",
        "Reliable recovery": "reliable recovery",
    }
    if not view.tiles["ended"].any():
        st.info("No episodes ended in this period yet: the outcome rates count ended episodes only.")
    columns = st.columns(4)
    for index, (name, (value, detail)) in enumerate(tiles.items()):
        reference = NATIONAL_REFERENCE.get(REFERENCE_OF.get(name, ""))
        with columns[index % 4]:
            st.metric(name, value, help=reference.source if reference else None)
            st.caption(detail + (f" · national {reference.rate:.0%}" if reference else ""))
    st.caption(
        "Outcome rates count episodes that ended in the period; \"ended without finishing\" are those "
        "with fewer than 2 attended sessions or 2 questionnaire pairs (drop-outs among them)."
    )
    progress = progress_tiles(view) if current else {}
    if current:
        st.subheader("Episodes in progress: progress so far", anchor=False)
        st.caption(
            "From the first to the latest questionnaire pair of episodes still in progress; not outcomes, "
            "and never mixed into the rates above."
        )
        columns = st.columns(len(progress))
        for column, (name, (value, detail)) in zip(columns, progress.items()):
            column.metric(name, value)
            column.caption(detail)
    else:
        st.caption("Episodes in progress, and the figures of the last weeks, appear with the current quarter.")
    tile_table = pd.DataFrame(
        [(name, value, detail) for name, (value, detail) in (tiles | progress).items()],
        columns=["Measure", "Value", "Based on"],
    )
    st.download_button("Download the headline figures (CSV)", partial(csv_bytes, tile_table), file_name="headline.csv")

st.caption(
    "The tables below cover all your therapists and every homework category in the period; the "
    "therapist and category filters narrow the headline figures and the analyses."
)
table_with_download("Per therapist", per_therapist, "per-therapist.csv")
table_with_download("Trends by month of referral", by_month, "by-month.csv")
table_with_download("By homework category", by_category, "by-category.csv")

if view.refusal:
    pass  # the headline figures say why; the analyses below follow the same choice, not the section after
elif view.analyses_hidden:
    st.header("Does more homework go with more improvement?", anchor=False)
    st.info(
        "The analyses are not shown for this choice: fewer than 5 clients have homework and two scores, "
        "or the difference from the unfiltered cohort would single out fewer than 5 clients."
    )
else:
    panel = cached(
        cohort.weekly_panel,
        cur,
        principal,
        window_start=window_start,
        window_end=window_end,
        therapist_id=therapist_id,
        category=category,
    )
    analyses(principal, choices, view.points, panel, measure, "cohort", suppress=True, per_client=view.per_client)
# Not narrowed by the period or the filters (one choice only), so no two views of it subtract.
reminding(cur, principal, suppress=True)
