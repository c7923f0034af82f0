"""The benchmark harness (bench/) end to end at size S, and its naive pandas baseline giving
exactly the cohort page's numbers. Timings are printed by the harness, never asserted here."""

import json
from datetime import date, timedelta

import pytest

from bench import run, scale
from bench.baseline import cohort_differences, page_cohort_numbers, pandas_cohort_numbers
from bench.pages import PAGES, default_window
from bench.writes import WRITER_THREADS, WRITES_PER_THREAD
from data_layer import users
from data_layer.core import db
from data_layer.core.access import LOGIN


@pytest.mark.slow
def test_harness_runs_end_to_end_at_size_s(tmp_path):
    results_file = tmp_path / "results.json"
    run.main(["--sizes", "S", "--runs", "1", "--json", str(results_file)])

    at_s = json.loads(results_file.read_text())["sizes"]["S"]
    assert at_s["cohort"]["identical"], at_s["cohort"]["differences"]
    # The default range covers the whole history: every episode (re-referrals are episodes of their own).
    assert at_s["cohort"]["episodes"] == at_s["build"]["rows"]["caseload"] > scale.SIZES["S"].clients
    assert set(at_s["pages"]) == {page.key for page in PAGES}
    writes = at_s["writes"]
    assert writes["lost"] == writes["failed"] == writes["duplicated"] == 0
    assert writes["stored"] == writes["written"] == WRITER_THREADS * WRITES_PER_THREAD


@pytest.fixture(scope="module")
def clinic_s(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "clinic-S.duckdb"
    scale.create_scaled_database(path, "S")
    conn = db.connect(path)
    yield conn
    conn.close()


def supervisor_of(cur):
    return users.load_session_user(cur, LOGIN, username="supervisor").principal


# (days back from today to the window's start, window length in days): the pages' default
# range, a range in the past (it chooses only the episodes that ended in it, each counted whole,
# none in progress), and one reaching before the history.
WINDOWS = [(182, 182), (90, 30), (400, 400)]


@pytest.mark.slow
@pytest.mark.parametrize(("days_back", "days_long"), WINDOWS)
def test_pandas_baseline_gives_the_page_numbers_exactly(clinic_s, days_back, days_long):
    cur = clinic_s.cursor()
    supervisor = supervisor_of(cur)
    start = date.today() - timedelta(days=days_back)
    end = start + timedelta(days=days_long)

    page = page_cohort_numbers(cur, supervisor, start, end)
    baseline = pandas_cohort_numbers(cur, supervisor.user_id, start, end)

    assert cohort_differences(page, baseline) == []
    episodes, rates = page
    # Not a vacuous match: the numbers compared are real ones.
    assert episodes["compliance"].notna().sum() > (50 if end >= date.today() else 5)
    assert rates["finished treatment"][0] > 0


def test_comparison_notices_one_different_compliance(clinic_s):
    cur = clinic_s.cursor()
    start, end = default_window()
    page_episodes, page_rates = page_cohort_numbers(cur, supervisor_of(cur), start, end)
    changed = page_episodes.copy()
    first = changed["compliance"].first_valid_index()
    changed.loc[first, "compliance"] = changed.loc[first, "compliance"] + 1e-12

    differences = cohort_differences((page_episodes, page_rates), (changed, page_rates))

    assert len(differences) == 1 and differences[0].startswith("compliance differs for 1 episodes")
