"""Cohort analyses: the demo's built-in effect is recovered through the data layer, pairing at
scale follows the reference rule, supervisors get pseudonyms and small cells are hidden."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinical.analysis import lagged_models
from clinical.episodes import classify_episodes, first_and_last_pairs
from clinical.outcomes import pair_questionnaires
from clinical.reporting import SUPPRESSED, group_outcomes
from data_layer import measures, users
from data_layer.core import db
from data_layer.core.access import LOGIN, AccessDenied
from data_layer.reports import cohort
from ops.demo import create_demo_database
from ui.exports import csv_bytes
from ui.insights import load_classified_episodes

TODAY = date.today()
WINDOW = {"window_start": TODAY - timedelta(days=200), "window_end": TODAY}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("cohort") / "demo.duckdb"
    create_demo_database(path)
    connection = db.connect(path)
    yield connection.cursor()
    connection.close()


def principal_of(cur, username):
    return users.load_session_user(cur, LOGIN, username=username).principal


def test_the_lagged_analysis_recovers_the_demo_effect_through_the_data_layer(demo):
    panel = cohort.weekly_panel(demo, principal_of(demo, "supervisor"), **WINDOW)
    analysis = lagged_models(panel)
    assert analysis.status == "ok"
    forward, reverse = analysis.forward, analysis.reverse
    assert forward.coefficient < 0 and forward.ci_high < 0  # more homework, then lower PHQ-9
    assert reverse.ci_low <= 0 <= reverse.ci_high or reverse.coefficient > 0  # no improvement-first support
    assert "homework" in analysis.reading.lower()


def test_supervisors_get_pseudonyms_that_are_stable_and_not_names(demo):
    supervisor = principal_of(demo, "supervisor")
    first = cohort.episode_summaries(demo, supervisor, **WINDOW)
    again = cohort.episode_summaries(demo, supervisor, **WINDOW)
    assert first["client"].str.fullmatch(r"C-[0-9A-F]{8}").all()
    assert list(first["client"]) == list(again["client"])
    names = {name for (name,) in demo.execute("SELECT display_name FROM users WHERE role = 'client'").fetchall()}
    assert not names & set(first["client"])
    therapist_view = cohort.episode_summaries(demo, principal_of(demo, "therapist1"), **WINDOW)
    assert set(therapist_view["client"]) <= names
    # Every episode of therapist1's in the window (the whole demo history): their clients in care,
    # their past clients and the episodes of those referred again.
    episodes = demo.execute(
        "SELECT count(*) FROM caseload c JOIN users t ON t.id = c.therapist_id WHERE t.username = 'therapist1'"
    ).fetchone()[0]
    assert len(therapist_view) == episodes > 15


def test_a_supervisor_cannot_filter_on_a_therapist_they_do_not_supervise(cur, world):
    with pytest.raises(AccessDenied):
        cohort.episode_summaries(cur, world.supervisor_a, therapist_id=world.therapist_b.user_id, **WINDOW)


@pytest.mark.slow
def test_classified_cohort_matches_the_reference_pairing(demo):
    supervisor = principal_of(demo, "supervisor")
    questionnaires = cohort.episode_questionnaires(demo, supervisor, **WINDOW)
    fast = first_and_last_pairs(questionnaires).set_index("episode_id")
    for episode_id, group in questionnaires.groupby("episode_id"):
        pairs = pair_questionnaires(group[group["instrument"] == "PHQ-9"], group[group["instrument"] == "GAD-7"])
        row = fast.loc[episode_id]
        assert row["pairs"] == len(pairs)
        assert (row["phq9_first"], row["gad7_last"]) == (pairs["phq9"].iloc[0], pairs["gad7"].iloc[-1])


days = st.integers(min_value=0, max_value=40)


@settings(max_examples=150, deadline=None)
@given(
    phq=st.lists(st.tuples(days, st.integers(0, 27)), max_size=8),
    gad=st.lists(st.tuples(days, st.integers(0, 21)), max_size=8),
)
@pytest.mark.slow
def test_fast_pairing_equals_the_reference_rule(phq, gad):
    start = pd.Timestamp("2026-01-05")

    def frame(items, instrument):
        return pd.DataFrame(
            {
                "episode_id": 1,
                "instrument": instrument,
                "taken_on": [start + pd.Timedelta(days=d) for d, _ in items],
                "total": [total for _, total in items],
            }
        )

    both = pd.concat([frame(phq, "PHQ-9"), frame(gad, "GAD-7")], ignore_index=True)
    reference = pair_questionnaires(frame(phq, "PHQ-9"), frame(gad, "GAD-7"))
    fast = first_and_last_pairs(both) if len(both) else pd.DataFrame({"pairs": []})
    expected_pairs = len(reference)
    got_pairs = int(fast["pairs"].iloc[0]) if len(fast) else 0
    assert got_pairs == expected_pairs
    if expected_pairs:
        row = fast.iloc[0]
        assert [row["phq9_first"], row["gad7_first"], row["phq9_last"], row["gad7_last"]] == [
            reference["phq9"].iloc[0],
            reference["gad7"].iloc[0],
            reference["phq9"].iloc[-1],
            reference["gad7"].iloc[-1],
        ]


def test_a_therapist_with_four_clients_shows_only_suppressed_cells(cur, world, two_teams_under_one_supervisor):
    classified = load_classified_episodes(cur, world.supervisor_a, **WINDOW)
    table = group_outcomes(classified, "therapist").set_index("therapist")
    small = table.loc["Tom Therapist"]
    assert (small == SUPPRESSED).all(), small.to_dict()
    # Complementary suppression: with the total of 10 shown in the headline figures, Cara's 6 would
    # give Tom's 4 back, so hers is hidden too.
    large = table.loc["Cara Therapist"]
    assert large["Clients"] == SUPPRESSED and large["Recovery"] == SUPPRESSED
    assert b"<5" in csv_bytes(table.reset_index())


def test_a_client_with_one_questionnaire_pair_has_no_change_through_the_data_layer(cur, world):
    measures.submit_questionnaire(cur, world.client_a, instrument="PHQ-9", answers=[2] * 8 + [0])
    measures.submit_questionnaire(cur, world.client_a, instrument="GAD-7", answers=[2] * 7)
    episodes = cohort.episode_summaries(cur, world.therapist_a, **WINDOW)
    questionnaires = cohort.episode_questionnaires(cur, world.therapist_a, **WINDOW)
    (row,) = classify_episodes(episodes, questionnaires).to_dict("records")
    # One pair (PHQ-9 16, GAD-7 14 today): its own first and last, so no change can be read.
    assert (row["client"], row["pairs"], row["phq9_first"], row["gad7_first"]) == ("Alice Client", 1, 16, 14)
    assert pd.isna(row["phq9_change"]) and pd.isna(row["gad7_change"])
    assert row["outcome"] == "not enough data"


class HeldCursor:
    """A cursor that tells when it starts working out the cohort's compliance and, if `release` is
    given, holds that query until it is set; counts the compliance queries it ran."""

    def __init__(self, cur, release=None):
        self.cur, self.release = cur, release
        self.compliance_started = threading.Event()
        self.queried = threading.Event()  # any query: a call that shares the compliance reads its own figures
        self.compliance_queries = 0

    def execute(self, sql, parameters=None):
        self.queried.set()
        if "assignment_weeks" in sql:
            self.compliance_queries += 1
            self.compliance_started.set()
            if self.release is not None:
                assert self.release.wait(30)
        return self.cur.execute(sql, parameters)


def test_a_cohort_read_asked_for_while_the_same_compliance_is_worked_out_shares_it(demo):
    supervisor = principal_of(demo, "supervisor")
    alone = cohort.category_summary(demo, supervisor, **WINDOW)
    release = threading.Event()
    first, second = HeldCursor(demo.cursor(), release), HeldCursor(demo.cursor())
    with ThreadPoolExecutor(2) as pool:
        summaries = pool.submit(cohort.episode_summaries, first, supervisor, **WINDOW)
        assert first.compliance_started.wait(30)
        categories = pool.submit(cohort.category_summary, second, supervisor, **WINDOW)
        # The second call finds the compliance being worked out: it reads its own figures meanwhile,
        # then waits for it.
        assert second.queried.wait(30)
        time.sleep(0.2)
        release.set()
        summaries, categories = summaries.result(30), categories.result(30)
    assert (first.compliance_queries, second.compliance_queries) == (1, 0)
    pd.testing.assert_frame_equal(categories, alone)
    assert summaries["compliance"].notna().any()
    # Nothing is kept once it is done: the next call works it out again.
    third = HeldCursor(demo.cursor())
    cohort.category_summary(third, supervisor, **WINDOW)
    assert third.compliance_queries == 1
