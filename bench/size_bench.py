"""One clinic size under the benchmark: its database, its logged-in apps and its measurements."""

import time
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from bench.apptest import FULL_GC, logged_in_app, time_page_run, timed, use_database
from bench.baseline import cohort_differences, page_cohort_numbers, pandas_cohort_numbers
from bench.memory import peak_rss_mb, process_peak_rss_mb, reset_peak_rss
from bench.pages import PAGES, default_window, login_gate, start_session, typical_usernames
from bench.writes import write_path_run, writer_sessions
from data_layer.core import db
from ui import db as ui_db


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
