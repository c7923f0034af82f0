"""The large-clinic benchmark: `python -m bench.run [--sizes S M L] [--runs 5] [--json PATH]`.

For each clinic size (bench/scale.py) it measures, in ONE process:

- every dashboard page as a full script run of the whole app (login gate, navigation and
  page) under Streamlit's AppTest, for a typical user of the page's role: cold (after
  `st.cache_data.clear()`; DuckDB's own buffers stay warm) and warm (same arguments again);
- the raw DuckDB time of the same data-layer calls, made directly (no Streamlit): the
  login-gate queries that app.py runs on every page plus the page's own calls. The lower bound;
- the supervisor's cohort numbers (per-episode compliance, first and last questionnaire
  pairs, outcome classes and rates) computed the page's way (cohort SQL + clinical/) and
  by a naive pandas baseline (SELECT * of the supervisor's tables, everything else in
  pandas), and checks that both give IDENTICAL numbers;
- the write path: 16 threads, each one client's session with its own cursor on ONE
  connection, logging homework and mood through the data layer: entries/s, p50/p95
  latency, and a count of the stored rows proving that no write was lost;
- peak memory (RSS) of this process, and the full garbage collections that land inside
  the timed samples (the JSON also has every median with those pauses taken out).

The databases are built in child processes (so the generator's memory is not counted
here) inside a temporary folder that is deleted at the end; the build time is one build.
Before any timing, one throw-away run of every page and query imports and warms everything.
Each timed run then measures every size and page side by side (S, M and L in turn), so that
a ratio (page / raw SQL, pandas / page, L / M) compares measurements taken moments apart:
each ratio is the median of the per-run ratios, and each figure the median of `--runs` runs.

AppTest differs from the server in one way that shows in the page times: it builds a new
script cache for every run, so each run recompiles the page script (10-40 ms for the
larger pages), which a server does once. `make bench` runs this module with its defaults.
"""

import argparse
import contextlib
import gc
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.testing.v1 import AppTest

from bench.scale import SIZES, client_username
from clinical.episodes import classify_episodes
from clinical.outcomes import outcome_rates
from clinical.reporting import reporting_periods
from data_layer import caseload, clinic, homework, login_sessions, measures, mood, paused, sessions, users
from data_layer.core import db, settings
from data_layer.core.access import LOGIN
from data_layer.reports import cohort, export, metrics
from ui import db as ui_db
from ui.auth import COOKIE_LIFETIME, SESSION_TOKEN

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
DEFAULT_JSON = ROOT / "bench-results" / "latest.json"

WRITER_THREADS = 16
WRITES_PER_THREAD = 40  # half homework logs, half mood logs
INSIGHTS_WINDOW_DAYS = 182  # the default date range of the therapist's insights page (ui/insights.py)
PROGRESS_WEEKS = 16  # the client progress page's window
HOMEWORK_NOTES_DAYS = 28  # the therapist client page's recent notes
APP_TIMEOUT_SECONDS = 300

# Targets at size L (the issue "Performance at large-clinic scale").
WARM_FACTOR, WARM_ALLOWANCE_MS = 2.0, 150.0
MAX_GROWTH_L_OVER_M = 4.0
MIN_PANDAS_OVER_PAGE = 10.0
MIN_WRITES_PER_SECOND = 300.0
MAX_WRITE_P95_MS = 100.0
MAX_PEAK_RSS_MB = 1.5 * 1024
MAX_BUILD_SECONDS_L = 30.0


# ---------------------------------------------------------------- the pages and their queries


def start_session(cur, username):
    """Start a login session for `username`, as the login form does; return its token."""
    user = users.load_session_user(cur, LOGIN, username=username)
    return login_sessions.start_login_session(cur, LOGIN, user_id=user.id, lifetime=COOKIE_LIFETIME)


def login_gate(cur, token):
    """Run the data-layer calls app.py makes before every page (ui.auth.current_principal).

    Returns the principal of the session of `token`.
    """
    clinic.is_demo(cur, LOGIN)
    return login_sessions.check_login_session(cur, LOGIN, token=token, idle_limit=settings.idle_limit()).user.principal


def client_today_queries(cur, principal):
    """The data-layer calls of pages/client_today.py."""
    homework.list_active_assignments(cur, principal, client_id=principal.user_id)


def client_progress_queries(cur, principal):
    """The data-layer calls of pages/client_progress.py."""
    today = date.today()
    since = today - timedelta(weeks=PROGRESS_WEEKS)
    me = principal.user_id
    metrics.recent_compliance(cur, principal, client_id=me)
    metrics.compliance_by_assignment(cur, principal, client_id=me, window_start=since, window_end=today)
    metrics.weekly_compliance(cur, principal, client_id=me, window_start=since, window_end=today)
    mood.daily_mood(cur, principal, client_id=me, since=since)
    measures.list_questionnaires(cur, principal, client_id=me)


def therapist_caseload_queries(cur, principal):
    """The data-layer calls of pages/therapist_caseload.py."""
    metrics.caseload_summary(cur, principal)


def therapist_client_queries(cur, principal):
    """The data-layer calls of pages/therapist_client.py, for the client it opens first."""
    clients = caseload.list_caseload(cur, principal)
    client_id = int(clients["client_id"].iloc[0])
    header = caseload.open_client(cur, principal, client_id=client_id)
    started, today = header["in_care_since"], date.today()
    mood.daily_mood(cur, principal, client_id=client_id, since=started)
    metrics.weekly_compliance(cur, principal, client_id=client_id, window_start=started, window_end=today)
    metrics.recent_compliance(cur, principal, client_id=client_id)
    measures.list_questionnaires(cur, principal, client_id=client_id)
    sessions.list_sessions(cur, principal, client_id=client_id)
    measures.list_risk_flags(cur, principal, client_id=client_id)
    homework.list_assignments(cur, principal, client_id=client_id)
    metrics.compliance_by_assignment(cur, principal, client_id=client_id, window_start=started, window_end=today)
    homework.list_homework_logs(cur, principal, client_id=client_id, since=today - timedelta(days=HOMEWORK_NOTES_DAYS))
    paused.list_paused_periods(cur, principal, client_id=client_id)
    export.export_client_record(cur, principal, client_id=client_id)


def default_window():
    """Return (window_start, window_end): the insights page's default date range."""
    today = date.today()
    return today - timedelta(days=INSIGHTS_WINDOW_DAYS), today


def therapist_insights_queries(cur, principal):
    """The data-layer calls of pages/therapist_insights.py (default filters)."""
    start, end = default_window()
    cohort.episode_summaries(cur, principal, window_start=start, window_end=end, therapist_id=None, category=None)
    cohort.episode_questionnaires(cur, principal, window_start=start, window_end=end, therapist_id=None)
    cohort.weekly_panel(cur, principal, window_start=start, window_end=end)
    cohort.category_summary(cur, principal, window_start=start, window_end=end)


def supervisor_cohort_queries(cur, principal):
    """The data-layer calls of pages/supervisor_cohort.py (default filters: the current quarter)."""
    today = date.today()
    caseload.list_supervised_therapists(cur, principal)
    current, *_ = reporting_periods(cohort.earliest_episode_start(cur, principal), today)
    start, end = current.first_day, current.last_day
    cohort.episode_summaries(cur, principal, window_start=start, window_end=end, therapist_id=None, category=None)
    cohort.episode_questionnaires(cur, principal, window_start=start, window_end=end, therapist_id=None)
    cohort.recent_episode_compliance(cur, principal)
    cohort.category_summary(cur, principal, window_start=start, window_end=end, therapist_id=None)
    cohort.weekly_panel(cur, principal, window_start=start, window_end=end, therapist_id=None, category=None)


@dataclass(frozen=True)
class Page:
    """One page to time: its script, the role that opens it, its queries and its cold-run target."""

    key: str
    label: str
    role: str
    script: str
    queries: object  # function(cur, principal) making the page's data-layer calls
    cold_target_ms: float


# Each `*_queries` function above mirrors its page's data-layer calls: keep them in step
# when a page changes, or the raw-SQL lower bound stops matching the page.
PAGES = (
    Page("client_today", "client Today", "client", "pages/client_today.py", client_today_queries, 500),
    Page("client_progress", "client Progress", "client", "pages/client_progress.py", client_progress_queries, 500),
    Page(
        "therapist_caseload",
        "therapist Caseload",
        "therapist",
        "pages/therapist_caseload.py",
        therapist_caseload_queries,
        1000,
    ),
    Page(
        "therapist_client", "therapist Client", "therapist", "pages/therapist_client.py", therapist_client_queries, 1000
    ),
    Page(
        "therapist_insights",
        "therapist Insights",
        "therapist",
        "pages/therapist_insights.py",
        therapist_insights_queries,
        1000,
    ),
    Page(
        "supervisor_cohort",
        "supervisor Cohort",
        "supervisor",
        "pages/supervisor_cohort.py",
        supervisor_cohort_queries,
        3000,
    ),
)


def typical_usernames(size):
    """Return {role: username} of the user whose view is timed: client01 (a year of history, as
    long as anyone's), therapist1 (about 50 clients) and supervisor (10 therapists at M and L)."""
    return {"client": client_username(size, 1), "therapist": "therapist1", "supervisor": "supervisor"}


# ---------------------------------------------------------------- the cohort numbers, two ways

COMPARED_COLUMNS = [
    "ended",
    "compliance",
    "attended_sessions",
    "pairs",
    "phq9_first",
    "gad7_first",
    "phq9_last",
    "gad7_last",
    "case_at_start",
    "case_at_end",
    "finished",
    "ended_without_finishing",
    "reliable_improvement",
    "reliable_deterioration",
    "recovery",
    "reliable_recovery",
    "outcome",
]


def page_cohort_numbers(cur, principal, window_start, window_end):
    """Compute the supervisor's cohort numbers the way the cohort page does, without any cache.

    Returns (episodes: DataFrame indexed by episode_id with COMPARED_COLUMNS,
    rates: {measure: (numerator, denominator, rate)}).
    """
    episodes = cohort.episode_summaries(
        cur, principal, window_start=window_start, window_end=window_end, therapist_id=None, category=None
    )
    questionnaires = cohort.episode_questionnaires(
        cur, principal, window_start=window_start, window_end=window_end, therapist_id=None
    )
    classified = classify_episodes(episodes, questionnaires)
    rates = {name: (rate.numerator, rate.denominator, rate.rate) for name, rate in outcome_rates(classified).items()}
    return classified.set_index("episode_id")[COMPARED_COLUMNS], rates


# The supervisor's scope, as plain SQL: therapists supervised today, and their clients.
_THERAPISTS_SQL = """SELECT therapist_id FROM supervision
                     WHERE supervisor_id = $supervisor AND started_on <= current_date
                       AND (ended_on IS NULL OR ended_on > current_date)"""
_CLIENTS_SQL = f"SELECT client_id FROM caseload WHERE therapist_id IN ({_THERAPISTS_SQL})"
_BASELINE_READS = {
    "caseload": f"SELECT * FROM caseload WHERE therapist_id IN ({_THERAPISTS_SQL})",
    **{
        table: f"SELECT * FROM {table} WHERE client_id IN ({_CLIENTS_SQL})"
        for table in ("assignments", "homework_logs", "paused_periods", "questionnaires", "therapy_sessions")
    },
}
CREDIT14 = {"done": 14, "partly": 7, "not_done": 0}  # docs/clinical-rules.md credits x 14: exact integer sums


def read_cohort_tables(cur, supervisor_id):
    """Return {table: DataFrame} of every row of the supervisor's therapists and their clients."""
    return {table: cur.execute(sql, {"supervisor": supervisor_id}).df() for table, sql in _BASELINE_READS.items()}


def pandas_cohort_numbers(cur, supervisor_id, window_start, window_end):
    """Compute the supervisor's cohort numbers the naive way: plain SELECT * into pandas, the rest in pandas.

    Implements docs/clinical-rules.md ("Homework and compliance", "Outcomes") independently of the app's
    code. Returns the same (episodes, rates) as page_cohort_numbers.
    """
    (today,) = cur.execute("SELECT current_date").fetchone()  # the database's today, as the SQL uses
    today = pd.Timestamp(today)
    tables = read_cohort_tables(cur, supervisor_id)
    episodes = _baseline_episodes(tables["caseload"], pd.Timestamp(window_start), pd.Timestamp(window_end), today)
    result = episodes[["episode_id", "ended"]].set_index("episode_id")
    first_day = episodes["from_day"].min() if len(episodes) else pd.Timestamp(window_start)
    result["compliance"] = _baseline_compliance(tables, episodes, first_day, today)
    result["attended_sessions"] = _baseline_attended(tables["therapy_sessions"], episodes)
    result["attended_sessions"] = result["attended_sessions"].fillna(0).astype("int64")
    pairs = _baseline_pairs(tables["questionnaires"], episodes)
    result = result.join(pairs)
    result["pairs"] = result["pairs"].fillna(0).astype("int64")
    classified = _baseline_outcomes(result)
    return classified[COMPARED_COLUMNS], _baseline_rates(classified)


def _week_start(days):
    """The Monday of each date's ISO week."""
    return days - pd.to_timedelta(days.dt.day_of_week, unit="D")


def _expand_days(frame, first, last):
    """One row per day from `first` to `last` (inclusive columns) of each row, as column `day`."""
    frame = frame[frame[first] <= frame[last]].reset_index(drop=True)
    counts = (frame[last] - frame[first]).dt.days + 1
    days = frame.loc[frame.index.repeat(counts)]
    offsets = days.groupby(level=0).cumcount()
    days = days.assign(day=days[first] + pd.to_timedelta(offsets, unit="D"))
    return days.reset_index(drop=True)


def _baseline_episodes(caseload_rows, window_start, window_end, today):
    """The episodes the range chooses: ended (last day today or earlier) within the range, or in
    progress when the range reaches today; each whole, from_day (its start) to to_day (its end, or today)."""
    episodes = caseload_rows.rename(columns={"id": "episode_id"})
    episodes = episodes[episodes["started_on"] <= today]
    episodes["ended"] = episodes["ended_on"].notna() & (episodes["ended_on"] <= today)
    chosen = np.where(
        episodes["ended"],
        (episodes["ended_on"] >= window_start) & (episodes["ended_on"] <= window_end),
        window_end >= today,
    )
    episodes = episodes[chosen].copy()
    episodes["from_day"] = episodes["started_on"]
    episodes["to_day"] = episodes["ended_on"].where(episodes["ended"], today)
    return episodes.sort_values("episode_id")


def _baseline_compliance(tables, episodes, first_day, last_day):
    """Per episode: sum over assignment-weeks of min(credit, expected) / sum of expected (NaN if 0)."""
    keys = ["client_id", "therapist_id"]
    assignments = tables["assignments"].merge(episodes[keys].drop_duplicates(), on=keys)
    assignments["times_per_week"] = assignments["times_per_week"].astype("float64")

    # Weekly schedules: times_per_week x open days (in the assignment and the window, not paused) / 7.
    weekly = assignments[assignments["schedule"] == "weekly"].assign(
        from_day=lambda a: a["starts_on"].clip(lower=first_day),
        to_day=lambda a: a["ends_on"].fillna(last_day).clip(upper=last_day),
    )
    days = _expand_days(weekly[["id", "client_id", "times_per_week", "from_day", "to_day"]], "from_day", "to_day")
    breaks = tables["paused_periods"].assign(
        from_day=lambda p: p["starts_on"].clip(lower=first_day), to_day=lambda p: p["ends_on"].clip(upper=last_day)
    )
    paused_days = _expand_days(breaks[["client_id", "from_day", "to_day"]], "from_day", "to_day")
    paused_days = paused_days[["client_id", "day"]].drop_duplicates().assign(paused=True)
    days = days.merge(paused_days, on=["client_id", "day"], how="left")
    days["open"] = days["paused"].isna().astype("int64")
    days["week_start"] = _week_start(days["day"])
    expected = days.groupby(["id", "week_start"], as_index=False).agg(
        open_days=("open", "sum"), times_per_week=("times_per_week", "first")
    )
    expected["expected14"] = (2 * expected["times_per_week"] * expected["open_days"]).astype("int64")

    # Once: 1 in the ISO week of the due date, when that week is in the window.
    once = assignments[assignments["schedule"] == "once"].assign(week_start=lambda a: _week_start(a["due_on"]))
    once = once[(once["week_start"] >= _week_start(pd.Series([first_day]))[0]) & (once["week_start"] <= last_day)]
    expected = pd.concat(
        [expected[["id", "week_start", "expected14"]], once[["id", "week_start"]].assign(expected14=14)],
        ignore_index=True,
    )

    # Credit, capped at what was expected: a weekly schedule gets the credits logged that week inside the
    # window; a once-assignment gets, in its due week, every credit logged from its start to its due date.
    schedules = assignments[["id", "schedule", "starts_on", "due_on"]].rename(columns={"id": "assignment_id"})
    logs = tables["homework_logs"].merge(schedules, on="assignment_id")
    once_log = logs["schedule"] == "once"
    counted = (logs["log_date"] <= last_day) & np.where(
        once_log,
        (logs["log_date"] >= logs["starts_on"]) & (logs["log_date"] <= logs["due_on"]),
        logs["log_date"] >= first_day,
    )
    logs = logs.assign(
        credit14=logs["status"].astype(str).map(CREDIT14),
        week_start=_week_start(logs["due_on"].where(once_log, logs["log_date"])),
    )[counted]
    credit = logs.groupby(["assignment_id", "week_start"], as_index=False)["credit14"].sum()
    weeks = expected.merge(credit, left_on=["id", "week_start"], right_on=["assignment_id", "week_start"], how="left")
    weeks["credit14"] = np.minimum(weeks["credit14"].fillna(0).astype("int64"), weeks["expected14"])

    # An episode counts its assignments' weeks from the week of its first day to its last day.
    episode_weeks = (
        episodes[["episode_id", *keys, "from_day", "to_day"]]
        .merge(assignments[["id", *keys]], on=keys)
        .merge(weeks[["id", "week_start", "expected14", "credit14"]], on="id")
    )
    inside = (episode_weeks["week_start"] >= _week_start(episode_weeks["from_day"])) & (
        episode_weeks["week_start"] <= episode_weeks["to_day"]
    )
    sums = episode_weeks[inside].groupby("episode_id")[["credit14", "expected14"]].sum()
    compliance = (sums["credit14"] / sums["expected14"]).where(sums["expected14"] > 0)
    return compliance.reindex(episodes["episode_id"].to_numpy())


def _baseline_attended(therapy_sessions, episodes):
    """Per episode: attended sessions with its therapist inside the episode's days."""
    joined = therapy_sessions.merge(
        episodes[["episode_id", "client_id", "therapist_id", "from_day", "to_day"]], on=["client_id", "therapist_id"]
    )
    inside = (joined["session_date"] >= joined["from_day"]) & (joined["session_date"] <= joined["to_day"])
    counts = joined[inside & joined["attended"]].groupby("episode_id").size()
    return counts.reindex(episodes["episode_id"].to_numpy())


def _baseline_pairs(questionnaires, episodes):
    """Per episode: number of PHQ-9/GAD-7 pairs and the scores of the first and last pair.

    Pairing (docs/clinical-rules.md): a PHQ-9 and a GAD-7 at most 7 days apart, dated by the later one;
    closest first (gap, then pair date, PHQ-9 date, GAD-7 date, order taken), each used once.
    """
    joined = questionnaires.merge(episodes[["episode_id", "client_id", "from_day", "to_day"]], on="client_id")
    joined = joined[(joined["taken_on"] >= joined["from_day"]) & (joined["taken_on"] <= joined["to_day"])]
    joined = joined.sort_values(["episode_id", "taken_on", "id"])
    joined["order"] = joined.groupby(["episode_id", "instrument"]).cumcount()
    columns = ["episode_id", "taken_on", "total", "order"]
    phq = joined.loc[joined["instrument"] == "PHQ-9", columns]
    gad = joined.loc[joined["instrument"] == "GAD-7", columns]
    candidates = phq.merge(gad, on="episode_id", suffixes=("_phq", "_gad"))
    candidates["gap"] = (candidates["taken_on_phq"] - candidates["taken_on_gad"]).abs().dt.days
    candidates = candidates[candidates["gap"] <= 7]
    candidates["paired_on"] = candidates[["taken_on_phq", "taken_on_gad"]].max(axis=1)
    candidates = candidates.sort_values(
        ["episode_id", "gap", "paired_on", "taken_on_phq", "taken_on_gad", "order_phq", "order_gad"], kind="stable"
    )
    # The greedy step is sequential: one plain loop over the candidates in that order (plain
    # Python lists, so the baseline is naive but not needlessly slow).
    columns = ["episode_id", "order_phq", "order_gad", "paired_on", "total_phq", "total_gad"]
    candidates = candidates.assign(paired_on=candidates["paired_on"].to_numpy().astype("datetime64[D]").astype("int64"))
    used, pairs_of = set(), {}
    for episode_id, phq_order, gad_order, paired_on, phq_total, gad_total in zip(
        *(candidates[column].tolist() for column in columns)
    ):
        if (episode_id, "phq", phq_order) in used or (episode_id, "gad", gad_order) in used:
            continue
        used.update({(episode_id, "phq", phq_order), (episode_id, "gad", gad_order)})
        pairs_of.setdefault(episode_id, []).append((paired_on, phq_total, gad_total))
    rows = []
    for episode_id, pairs in pairs_of.items():
        pairs.sort(key=lambda pair: pair[0])  # stable: pairs of one day keep the order they were made
        rows.append((episode_id, len(pairs), pairs[0][1], pairs[0][2], pairs[-1][1], pairs[-1][2]))
    return (
        pd.DataFrame(rows, columns=["episode_id", "pairs", "phq9_first", "gad7_first", "phq9_last", "gad7_last"])
        .set_index("episode_id")
        .astype("float64")
    )


def _baseline_outcomes(episodes):
    """The outcome flags and class of each episode (docs/clinical-rules.md "Outcomes").

    Measured: 2+ attended sessions and 2+ pairs; finished: ended and measured. The change flags
    of an episode in progress are its progress so far (set once measured); the rates count
    ended episodes only."""
    result = episodes.copy()
    two_pairs = result["pairs"] >= 2
    phq_change = (result["phq9_last"] - result["phq9_first"]).where(two_pairs)
    gad_change = (result["gad7_last"] - result["gad7_first"]).where(two_pairs)
    result["case_at_start"] = (result["phq9_first"] >= 10) | (result["gad7_first"] >= 8)
    result["case_at_end"] = (result["phq9_last"] >= 10) | (result["gad7_last"] >= 8)
    measured = (result["attended_sessions"] >= 2) & two_pairs
    result["finished"] = result["ended"] & measured
    result["ended_without_finishing"] = result["ended"] & ~measured
    fell = (phq_change <= -6) | (gad_change <= -4)
    rose = (phq_change >= 6) | (gad_change >= 4)
    result["reliable_improvement"] = measured & fell & ~rose
    result["reliable_deterioration"] = measured & rose
    result["recovery"] = measured & result["case_at_start"] & ~result["case_at_end"]
    result["reliable_recovery"] = result["recovery"] & result["reliable_improvement"]
    result["outcome"] = "no reliable change"
    result.loc[result["reliable_improvement"], "outcome"] = "reliable improvement"
    result.loc[result["reliable_deterioration"], "outcome"] = "reliable deterioration"
    result.loc[~measured, "outcome"] = "not enough data"
    result.loc[result["ended_without_finishing"], "outcome"] = "ended without finishing"
    return result


def _baseline_rates(classified):
    """Return {measure: (numerator, denominator, rate or None)}: the rates over ended episodes."""
    ended, finished = classified["ended"], classified["finished"]
    eligible = finished & classified["case_at_start"]

    def rate(flag, among):
        numerator, denominator = int((flag & among).sum()), int(among.sum())
        return numerator, denominator, numerator / denominator if denominator else None

    return {
        "finished treatment": rate(finished, ended),
        "ended without finishing": rate(classified["ended_without_finishing"], ended),
        "reliable improvement": rate(classified["reliable_improvement"], finished),
        "reliable deterioration": rate(classified["reliable_deterioration"], finished),
        "recovery": rate(classified["recovery"], eligible),
        "reliable recovery": rate(classified["reliable_recovery"], eligible),
    }


def cohort_differences(page, baseline):
    """Return a list of the ways two (episodes, rates) results differ; empty when they are IDENTICAL.

    Numbers must be equal exactly (NaN equals NaN), not approximately.
    """
    (page_episodes, page_rates), (base_episodes, base_rates) = page, baseline
    problems = []
    if list(page_episodes.index) != list(base_episodes.index):
        missing = set(page_episodes.index) ^ set(base_episodes.index)
        return [f"episode ids differ ({len(page_episodes)} vs {len(base_episodes)}; e.g. {sorted(missing)[:5]})"]
    for column in COMPARED_COLUMNS:
        mine, theirs = page_episodes[column], base_episodes[column]
        if column == "outcome":
            same = mine.astype(str).to_numpy() == theirs.astype(str).to_numpy()
        else:
            a, b = mine.astype("float64").to_numpy(), theirs.astype("float64").to_numpy()
            same = (a == b) | (np.isnan(a) & np.isnan(b))
        if not same.all():
            first = page_episodes.index[~same][0]
            problems.append(
                f"{column} differs for {(~same).sum()} episodes, e.g. episode {first}: "
                f"page {mine.loc[first]!r}, pandas {theirs.loc[first]!r}"
            )
    if page_rates != base_rates:
        problems.append(f"rates differ: page {page_rates}, pandas {base_rates}")
    return problems


# ---------------------------------------------------------------- pages under AppTest


def run_app(app_path):
    import runpy  # AppTest runs this function's source alone, without the module's imports

    runpy.run_path(app_path, run_name="__main__")


def logged_in_app(username):
    """Return an AppTest of the whole app with `username` logged in (a real login session, as
    the login form starts it), after its first run."""
    app = AppTest.from_function(run_app, args=(APP,), default_timeout=APP_TIMEOUT_SECONDS)
    app.session_state[SESSION_TOKEN] = start_session(ui_db.cursor(), username)
    app.run()
    if app.exception:
        raise RuntimeError(f"logging in {username} failed: {app.exception[0].message}")
    return app


def time_page_run(app, page):
    """Run the whole app on `page` once; return the seconds the run took. Raises if the page failed."""
    target = os.path.relpath(ROOT / page.script, Path(app._script_path).parent)
    app.switch_page(target)
    started = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    if app.exception:
        raise RuntimeError(f"{page.script} raised: {app.exception[0].message}")
    if not app.title:
        raise RuntimeError(f"{page.script} showed no title: it did not run to the end")
    return elapsed


def timed(function, *args):
    """Return the seconds `function(*args)` took."""
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


class FullCollections:
    """The pauses of Python's full (generation 2) garbage collections, seen through gc.callbacks.

    They matter here: at L every page run allocates the login gate's 10,000-account dict,
    which sets off a full collection of the whole heap every few runs.
    """

    def __init__(self):
        self.pauses = []
        self._started = None

    def __call__(self, phase, info):
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            self.pauses.append(time.perf_counter() - self._started)
            self._started = None

    @property
    def seconds(self):
        """Return the total pause so far."""
        return sum(self.pauses)


FULL_GC = FullCollections()


# ---------------------------------------------------------------- write path


def writer_sessions(cur, size):
    """Return 16 (client principal, assignment id) pairs, clients spread over the clinic, each with
    an assignment in force today (every demo client in care has two ongoing ones; a discharged
    client has none, and the next client is taken instead)."""
    clients = SIZES[size].clients
    chosen = []
    for k in range(WRITER_THREADS):
        number = 1 + k * clients // WRITER_THREADS
        while True:
            principal = users.load_session_user(cur, LOGIN, username=client_username(size, number)).principal
            active = homework.list_active_assignments(cur, principal, client_id=principal.user_id)
            if len(active) and all(principal.user_id != other.user_id for other, _ in chosen):
                break
            number = number % clients + 1
        chosen.append((principal, int(active["assignment_id"].iloc[0])))
    return chosen


def write_path_run(conn, writers):
    """16 threads, each one client's session with its own cursor on ONE connection, log
    WRITES_PER_THREAD entries each (homework and mood in turn) through the data layer.

    Returns {"entries", "seconds", "entries_per_second", "latencies_ms" (every call),
    "errors", "stored", "lost", "duplicated"}: stored counts the rows found afterwards.
    """
    tag = f"bench{uuid.uuid4().hex[:12]}"
    barrier = threading.Barrier(len(writers) + 1)
    today = date.today()

    def session(k):
        principal, assignment_id = writers[k]
        cur = conn.cursor()
        latencies, errors = [], []
        barrier.wait()
        for i in range(WRITES_PER_THREAD):
            note = f"{tag} t{k} e{i}"
            started = time.perf_counter()
            try:
                if i % 2:
                    mood.log_mood(cur, principal, log_date=today, mood=i % 11, note=note, submission_id=note)
                else:
                    homework.log_homework(
                        cur,
                        principal,
                        assignment_id=assignment_id,
                        log_date=today,
                        status="done",
                        minutes=10,
                        note=note,
                        submission_id=note,
                    )
            except Exception as error:  # counted and reported: a failed write is a lost write
                errors.append(repr(error))
            latencies.append(time.perf_counter() - started)
        return latencies, errors

    with ThreadPoolExecutor(len(writers)) as pool:
        futures = [pool.submit(session, k) for k in range(len(writers))]
        barrier.wait()  # every thread is ready: start the clock as they start writing
        started = time.perf_counter()
        results = [future.result() for future in futures]
        seconds = time.perf_counter() - started
    entries = len(writers) * WRITES_PER_THREAD
    stored = (
        conn.cursor()
        .execute(
            """SELECT note FROM homework_logs WHERE note LIKE $tag
           UNION ALL SELECT note FROM mood_logs WHERE note LIKE $tag""",
            {"tag": f"{tag} %"},
        )
        .fetchall()
    )
    expected = {f"{tag} t{k} e{i}" for k in range(len(writers)) for i in range(WRITES_PER_THREAD)}
    stored_notes = [note for (note,) in stored]
    return {
        "entries": entries,
        "seconds": seconds,
        "entries_per_second": entries / seconds,
        "latencies_ms": [1000 * latency for latencies, _ in results for latency in latencies],
        "errors": [error for _, errors in results for error in errors],
        "stored": len(stored_notes),
        "lost": len(expected - set(stored_notes)),
        "duplicated": len(stored_notes) - len(set(stored_notes)),
    }


# ---------------------------------------------------------------- memory


def reset_peak_rss():
    """Reset the kernel's peak-RSS mark of this process (Linux); return False where not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb():
    """Return this process's peak RSS in MB since start or the last reset_peak_rss()."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
    except (OSError, AttributeError):
        return process_peak_rss_mb()


def process_peak_rss_mb():
    """Return the peak RSS in MB of this process over its whole life (getrusage)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


# ---------------------------------------------------------------- one clinic size


@dataclass
class SizeBench:
    """A benchmark clinic of one size: its database, logged-in apps and the measurements so far."""

    size: str
    path: Path
    build: dict
    conn: object = None
    principals: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)  # role -> login session token
    apps: dict = field(default_factory=dict)
    writers: list = field(default_factory=list)
    samples: dict = field(default_factory=dict)  # (page key, "raw"|"cold"|"warm") -> [seconds]
    gc_pauses: dict = field(default_factory=dict)  # same keys -> [seconds of full GC inside each sample]
    cohort: dict = field(default_factory=lambda: {"page": [], "pandas": []})
    cohort_differences: list = field(default_factory=list)
    episodes: int = 0
    writes: list = field(default_factory=list)
    peak_rss_mb: float = 0.0

    def open(self):
        """Connect, load the typical users' principals and log them in to the app."""
        self.conn = db.connect(self.path)
        cur = self.conn.cursor()
        with use_database(self.path):
            for role, username in typical_usernames(self.size).items():
                self.tokens[role] = start_session(cur, username)
                self.principals[role] = login_gate(cur, self.tokens[role])
                self.apps[role] = logged_in_app(username)
        self.writers = writer_sessions(cur, self.size)

    def close(self):
        """Close this size's connections: the bench's own and the app's cached one."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        ui_db.close_connections()

    def raw_queries(self, page):
        """Run the page's data-layer calls directly, login gate included; return the seconds."""
        cur = self.conn.cursor()
        return timed(lambda: page.queries(cur, login_gate(cur, self.tokens[page.role])))

    def page_run(self, page, cold):
        """Return the seconds of one full app run on the page; `cold` clears st.cache_data first."""
        with use_database(self.path):
            if cold:
                st.cache_data.clear()
            return time_page_run(self.apps[page.role], page)

    def record(self, key, kind, measure):
        """Add the seconds that `measure()` returns to samples[(key, kind)], and the full-GC
        pauses that happened meanwhile to gc_pauses[(key, kind)]."""
        paused_before = FULL_GC.seconds
        self.samples.setdefault((key, kind), []).append(measure())
        self.gc_pauses.setdefault((key, kind), []).append(FULL_GC.seconds - paused_before)

    def cohort_numbers(self):
        """Return ((page seconds, page result), (pandas seconds, pandas result)) for the supervisor."""
        cur = self.conn.cursor()
        supervisor = self.principals["supervisor"]
        start, end = default_window()
        started = time.perf_counter()
        page = page_cohort_numbers(cur, supervisor, start, end)
        page_seconds = time.perf_counter() - started
        started = time.perf_counter()
        baseline = pandas_cohort_numbers(cur, supervisor.user_id, start, end)
        return (page_seconds, page), (time.perf_counter() - started, baseline)

    def warm_up(self):
        """One throw-away run of everything (imports, plans, buffers); records the peak RSS and
        checks that the page's and the baseline's cohort numbers are identical."""
        can_reset = reset_peak_rss()
        for page in PAGES:
            self.raw_queries(page)
            self.page_run(page, cold=True)
            self.page_run(page, cold=False)
        (_, page_result), (_, baseline_result) = self.cohort_numbers()
        self.cohort_differences = cohort_differences(page_result, baseline_result)
        self.episodes = len(page_result[0])
        self.peak_rss_mb = peak_rss_mb() if can_reset else process_peak_rss_mb()

    def timed_run(self):
        """One timed run of every page (raw SQL, cold, warm side by side) and of the cohort numbers."""
        for page in PAGES:
            # Side by side: the lower bound, then the page with empty caches, then cached.
            self.record(page.key, "raw", lambda: self.raw_queries(page))
            self.record(page.key, "cold", lambda: self.page_run(page, cold=True))
            self.record(page.key, "warm", lambda: self.page_run(page, cold=False))
        (page_seconds, _), (pandas_seconds, _) = self.cohort_numbers()
        self.cohort["page"].append(page_seconds)
        self.cohort["pandas"].append(pandas_seconds)

    def write_run(self):
        """One timed run of the write path (write_path_run) on this size's database."""
        self.writes.append(write_path_run(self.conn, self.writers))


@contextlib.contextmanager
def use_database(path):
    """Point the app (settings: $HOMEWORK_DB) at `path` for the block."""
    previous = os.environ.get("HOMEWORK_DB")
    os.environ["HOMEWORK_DB"] = str(path)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("HOMEWORK_DB", None)
        else:
            os.environ["HOMEWORK_DB"] = previous


@contextlib.contextmanager
def app_environment():
    """The environment the app needs under the benchmark (no login throttle), restored afterwards."""
    previous = os.environ.get("HOMEWORK_LOGIN_SLEEP_SECONDS")
    os.environ["HOMEWORK_LOGIN_SLEEP_SECONDS"] = "0"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("HOMEWORK_LOGIN_SLEEP_SECONDS", None)
        else:
            os.environ["HOMEWORK_LOGIN_SLEEP_SECONDS"] = previous


def build_database(folder, size):
    """Create the clinic of `size` in `folder` in a child process; return its build report
    (bench.scale.create_scaled_database) plus the path."""
    path = Path(folder) / f"clinic-{size}.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "bench.scale", str(path), size], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"building the {size} clinic failed:\n{done.stderr}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    report["path"] = str(path)
    return report


# ---------------------------------------------------------------- the whole benchmark


def machine_load():
    """Return the 1, 5 and 15 minute load averages as text, like `uptime` shows them."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def benchmark(sizes, runs, progress=print):
    """Run every measurement for `sizes` (e.g. ["S", "M", "L"]), `runs` timed runs each.

    Returns the results dict that main() prints and writes as JSON (see summarise()).
    """
    load_before = machine_load()
    benches = []
    gc.callbacks.append(FULL_GC)
    with tempfile.TemporaryDirectory(prefix="homework-bench-") as folder, app_environment():
        try:
            for size in sizes:
                progress(f"building {size} ...")
                report = build_database(folder, size)
                benches.append(SizeBench(size=size, path=Path(report["path"]), build=report))
            for bench in benches:
                progress(f"warming up {bench.size} ...")
                bench.open()
                bench.warm_up()
            for run in range(runs):
                progress(f"timed run {run + 1} of {runs} ...")
                for bench in benches:
                    bench.timed_run()
            for run in range(runs):
                progress(f"write run {run + 1} of {runs} ...")
                for bench in benches:
                    bench.write_run()
        finally:
            for bench in benches:
                bench.close()
            ui_db.close_connections()
            st.cache_data.clear()
            gc.callbacks.remove(FULL_GC)
    return summarise(benches, runs, load_before, machine_load())


def median_ms(seconds):
    return 1000 * statistics.median(seconds)


def median_ratio(numerators, denominators):
    """Median of the per-run ratios: each compares two measurements taken side by side."""
    return statistics.median(a / b for a, b in zip(numerators, denominators))


def summarise_size(bench):
    """Return the medians and ratios of one size as a JSON-ready dict."""
    pages = {}
    for page in PAGES:
        raw, cold, warm = (bench.samples[(page.key, kind)] for kind in ("raw", "cold", "warm"))
        pages[page.key] = {
            "raw_ms": median_ms(raw),
            "cold_ms": median_ms(cold),
            "warm_ms": median_ms(warm),
            "cold_over_raw": median_ratio(cold, raw),
            "warm_over_raw": median_ratio(warm, raw),
            "samples_ms": {
                kind: [1000 * s for s in bench.samples[(page.key, kind)]] for kind in ("raw", "cold", "warm")
            },
            "full_gc_ms": {
                kind: [1000 * s for s in bench.gc_pauses[(page.key, kind)]] for kind in ("raw", "cold", "warm")
            },
            # The same medians with the full-GC pauses taken out of each sample.
            **{
                f"{kind}_ms_without_gc": median_ms(
                    [
                        total - paused
                        for total, paused in zip(bench.samples[(page.key, kind)], bench.gc_pauses[(page.key, kind)])
                    ]
                )
                for kind in ("raw", "cold", "warm")
            },
        }
    gc_pauses = [paused for pauses in bench.gc_pauses.values() for paused in pauses]
    latencies = [latency for run in bench.writes for latency in run["latencies_ms"]]
    writes = {
        "threads": WRITER_THREADS,
        "entries_per_run": bench.writes[0]["entries"],
        "entries_per_second": statistics.median(run["entries_per_second"] for run in bench.writes),
        "p50_ms": statistics.median(float(np.percentile(run["latencies_ms"], 50)) for run in bench.writes),
        "p95_ms": statistics.median(float(np.percentile(run["latencies_ms"], 95)) for run in bench.writes),
        "max_ms": max(latencies),
        "written": sum(run["entries"] for run in bench.writes),
        "stored": sum(run["stored"] for run in bench.writes),
        "lost": sum(run["lost"] for run in bench.writes),
        "duplicated": sum(run["duplicated"] for run in bench.writes),
        "failed": sum(len(run["errors"]) for run in bench.writes),
        "runs": [
            {
                "entries_per_second": run["entries_per_second"],
                "p50_ms": float(np.percentile(run["latencies_ms"], 50)),
                "p95_ms": float(np.percentile(run["latencies_ms"], 95)),
            }
            for run in bench.writes
        ],
        "errors": [error for run in bench.writes for error in run["errors"]][:10],  # the first few
    }
    return {
        "build": bench.build,
        "pages": pages,
        "cohort": {
            "episodes": bench.episodes,
            "page_ms": median_ms(bench.cohort["page"]),
            "pandas_ms": median_ms(bench.cohort["pandas"]),
            "pandas_over_page": median_ratio(bench.cohort["pandas"], bench.cohort["page"]),
            "identical": not bench.cohort_differences,
            "differences": bench.cohort_differences,
        },
        "writes": writes,
        "full_gc": {
            "samples": len(gc_pauses),
            "samples_with_full_gc": sum(1 for p in gc_pauses if p > 0),
            "median_pause_ms": median_ms([p for p in gc_pauses if p > 0] or [0.0]),
        },
        "peak_rss_mb": bench.peak_rss_mb,
    }


def growth(benches, larger="L", smaller="M"):
    """Return {page: {"raw"|"cold"|"warm": median of per-run L/M ratios}}, or {} without both sizes."""
    by_size = {bench.size: bench for bench in benches}
    if larger not in by_size or smaller not in by_size:
        return {}
    big, small = by_size[larger], by_size[smaller]
    return {
        page.key: {
            kind: median_ratio(big.samples[(page.key, kind)], small.samples[(page.key, kind)])
            for kind in ("raw", "cold", "warm")
        }
        for page in PAGES
    }


def evaluate_targets(sizes, grow, process_peak):
    """Return [{"target", "value", "met"}] for the targets at size L (empty when L was not run)."""
    at_l = sizes.get("L")
    if at_l is None:
        return []
    targets = [
        {
            "target": "L builds and loads in < 30 s",
            "value": at_l["build"]["seconds"],
            "met": at_l["build"]["seconds"] < MAX_BUILD_SECONDS_L,
        }
    ]
    for page in PAGES:
        measured = at_l["pages"][page.key]
        limit = WARM_FACTOR * measured["raw_ms"] + WARM_ALLOWANCE_MS
        targets.append(
            {
                "target": f"{page.label}: warm <= 2 x raw SQL + 150 ms ({limit:.0f} ms)",
                "value": measured["warm_ms"],
                "met": measured["warm_ms"] <= limit,
            }
        )
        targets.append(
            {
                "target": f"{page.label}: cold < {page.cold_target_ms:.0f} ms",
                "value": measured["cold_ms"],
                "met": measured["cold_ms"] < page.cold_target_ms,
            }
        )
        if page.key in grow:
            worst = max(grow[page.key]["cold"], grow[page.key]["warm"])
            targets.append(
                {
                    "target": f"{page.label}: L/M growth <= 4 (cold and warm)",
                    "value": worst,
                    "met": worst <= MAX_GROWTH_L_OVER_M,
                }
            )
    cohort_numbers, writes = at_l["cohort"], at_l["writes"]
    targets += [
        {
            "target": "cohort numbers: pandas baseline >= 10 x the page's computation",
            "value": cohort_numbers["pandas_over_page"],
            "met": cohort_numbers["pandas_over_page"] >= MIN_PANDAS_OVER_PAGE,
        },
        {
            "target": "cohort numbers identical (page and pandas)",
            "value": cohort_numbers["identical"],
            "met": cohort_numbers["identical"],
        },
        {
            "target": "write path >= 300 entries/s (16 threads)",
            "value": writes["entries_per_second"],
            "met": writes["entries_per_second"] >= MIN_WRITES_PER_SECOND,
        },
        {"target": "write path p95 < 100 ms", "value": writes["p95_ms"], "met": writes["p95_ms"] < MAX_WRITE_P95_MS},
        {
            "target": "write path: zero lost",
            "value": writes["lost"] + writes["failed"] + writes["duplicated"],
            "met": writes["lost"] + writes["failed"] + writes["duplicated"] == 0,
        },
        {
            "target": "peak RSS < 1.5 GB (whole benchmark process)",
            "value": process_peak,
            "met": process_peak < MAX_PEAK_RSS_MB,
        },
    ]
    return targets


def summarise(benches, runs, load_before, load_after):
    """Return the JSON-ready results: per size, L/M growth, targets at L, machine and load."""
    sizes = {bench.size: summarise_size(bench) for bench in benches}
    grow = growth(benches)
    process_peak = process_peak_rss_mb()
    return {
        "runs": runs,
        "machine": {
            "cpus": os.cpu_count(),
            "load_before": load_before,
            "load_after": load_after,
            "python": sys.version.split()[0],
        },
        "sizes": sizes,
        "growth_l_over_m": grow,
        "process_peak_rss_mb": process_peak,
        "targets": evaluate_targets(sizes, grow, process_peak),
    }


# ---------------------------------------------------------------- the table


def _number(value, digits=0):
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, str):
        return value
    return f"{value:,.{digits}f}"


def _growth_ok(page_growth, kind):
    """True when the L/M growth of `kind` is within the target (or was not measured)."""
    return kind not in page_growth or page_growth[kind] <= MAX_GROWTH_L_OVER_M


def table_rows(results):
    """Return the rows of the one results table: (measure, {size: text}, L/M text, target text, met text)."""
    sizes = results["sizes"]
    grow = results["growth_l_over_m"]
    at_l = sizes.get("L")
    rows = []

    def add(measure, values, digits=0, ratio=None, target="", met=None):
        rows.append(
            (
                measure,
                {size: _number(value, digits) for size, value in values.items()},
                "" if ratio is None else f"{ratio:.2f}",
                target,
                "" if met is None or at_l is None else ("yes" if met else "NO"),
            )
        )

    def each(read):
        return {size: read(result) for size, result in sizes.items()}

    add(
        "build + load (s, one build)",
        each(lambda r: r["build"]["seconds"]),
        1,
        target="< 30 s",
        met=at_l and at_l["build"]["seconds"] < MAX_BUILD_SECONDS_L,
    )
    add("rows (all tables)", each(lambda r: sum(r["build"]["rows"].values())))
    for page in PAGES:
        name = page.label
        page_grow = grow.get(page.key, {})
        measured = at_l["pages"][page.key] if at_l else None
        add(f"{name}: raw SQL (ms)", each(lambda r: r["pages"][page.key]["raw_ms"]), 1, page_grow.get("raw"))
        add(
            f"{name}: cold page (ms)",
            each(lambda r: r["pages"][page.key]["cold_ms"]),
            0,
            page_grow.get("cold"),
            f"< {page.cold_target_ms:.0f} ms; L/M <= 4",
            measured and measured["cold_ms"] < page.cold_target_ms and _growth_ok(page_grow, "cold"),
        )
        limit = measured and WARM_FACTOR * measured["raw_ms"] + WARM_ALLOWANCE_MS
        add(
            f"{name}: warm page (ms)",
            each(lambda r: r["pages"][page.key]["warm_ms"]),
            0,
            page_grow.get("warm"),
            f"<= 2 x raw + 150 = {limit:.0f} ms; L/M <= 4" if measured else "<= 2 x raw + 150 ms; L/M <= 4",
            measured and measured["warm_ms"] <= limit and _growth_ok(page_grow, "warm"),
        )
        add(f"{name}: cold / raw SQL", each(lambda r: r["pages"][page.key]["cold_over_raw"]), 2)
        add(f"{name}: warm / raw SQL", each(lambda r: r["pages"][page.key]["warm_over_raw"]), 2)
    add("cohort numbers: episodes", each(lambda r: r["cohort"]["episodes"]))
    add("cohort numbers: page computation (ms)", each(lambda r: r["cohort"]["page_ms"]), 0)
    add("cohort numbers: pandas baseline (ms)", each(lambda r: r["cohort"]["pandas_ms"]), 0)
    add(
        "cohort numbers: pandas / page",
        each(lambda r: r["cohort"]["pandas_over_page"]),
        2,
        target=">= 10",
        met=at_l and at_l["cohort"]["pandas_over_page"] >= MIN_PANDAS_OVER_PAGE,
    )
    add(
        "cohort numbers: identical",
        each(lambda r: r["cohort"]["identical"]),
        target="yes",
        met=at_l and at_l["cohort"]["identical"],
    )
    add(
        "writes, 16 threads: entries/s",
        each(lambda r: r["writes"]["entries_per_second"]),
        0,
        target=">= 300",
        met=at_l and at_l["writes"]["entries_per_second"] >= MIN_WRITES_PER_SECOND,
    )
    add("writes: p50 latency (ms)", each(lambda r: r["writes"]["p50_ms"]), 1)
    add(
        "writes: p95 latency (ms)",
        each(lambda r: r["writes"]["p95_ms"]),
        1,
        target="< 100 ms",
        met=at_l and at_l["writes"]["p95_ms"] < MAX_WRITE_P95_MS,
    )
    add("writes: written / stored", each(lambda r: f"{r['writes']['written']}/{r['writes']['stored']}"))
    add(
        "writes: lost + failed + duplicated",
        each(lambda r: r["writes"]["lost"] + r["writes"]["failed"] + r["writes"]["duplicated"]),
        target="0",
        met=at_l and at_l["writes"]["lost"] + at_l["writes"]["failed"] + at_l["writes"]["duplicated"] == 0,
    )
    add(
        "page and raw samples with a full GC",
        each(lambda r: f"{r['full_gc']['samples_with_full_gc']}/{r['full_gc']['samples']}"),
    )
    add("full GC pause, median (ms)", each(lambda r: r["full_gc"]["median_pause_ms"]), 0)
    add("peak RSS during warm-up at size (MB)", each(lambda r: r["peak_rss_mb"]), 0)
    peak = results["process_peak_rss_mb"]
    add(
        "peak RSS, whole process (MB)",
        {size: (peak if size == list(sizes)[-1] else "") for size in sizes},
        0,
        target="< 1536 MB",
        met=peak < MAX_PEAK_RSS_MB,
    )
    return rows


def format_table(results):
    """Return the results as one text table (sizes as columns; L/M, the target at L and whether it is met)."""
    sizes = list(results["sizes"])
    rows = table_rows(results)
    header = ("measure", *sizes, "L/M", "target at L", "met")
    body = [
        (measure, *(values[size] for size in sizes), ratio, target, met) for measure, values, ratio, target, met in rows
    ]
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]
    machine = results["machine"]
    lines = [
        f"{results['runs']} runs, medians; {machine['cpus']} CPUs; load average before "
        f"{machine['load_before']}, after {machine['load_after']}. Ratios are medians of per-run ratios."
    ]
    for row in [header, *body]:
        cells = [str(row[0]).ljust(widths[0])]
        cells += [str(cell).rjust(width) for cell, width in zip(row[1 : len(sizes) + 2], widths[1 : len(sizes) + 2])]
        cells += [str(row[-2]).ljust(widths[-2]), str(row[-1])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", nargs="+", choices=list(SIZES), default=list(SIZES), help="clinic sizes to measure (default: S M L)"
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement (default 5)")
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        help=f"where to write the results (default {DEFAULT_JSON.relative_to(ROOT)})",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    sizes = [size for size in SIZES if size in args.sizes]  # always S, M, L order
    results = benchmark(sizes, args.runs, progress=lambda message: print(message, file=sys.stderr, flush=True))
    print(format_table(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, default=str))
    print(f"Results written to {args.json}")
    return results


if __name__ == "__main__":
    from streamlit import config
    from streamlit.logger import set_log_level

    # Outside a server, every cache call logs "missing ScriptRunContext"; AppTest re-reads the config level.
    config.set_option("logger.level", "error")
    set_log_level("error")
    main()
