"""The app-process benchmark (bench/processes.py) at size S on PostgreSQL with one and two real app
processes: every run finishes and logs in by cookie, and with two processes both serve page runs.
Timings are printed, never asserted."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from bench import processes
from bench.scale import create_scaled_database

pytestmark = pytest.mark.slow


def test_one_and_two_app_processes_serve_every_run_and_two_share_the_sessions(postgres):
    url = postgres.create_database("bench_processes_s")
    create_scaled_database(url, "S")
    # In a thread of its own: after a browser test, Playwright's sync API leaves an event loop
    # running in this one, and measure_processes calls asyncio.run.
    with ThreadPoolExecutor(1) as thread:
        rows = thread.submit(
            processes.measure_processes, url, pages=["today"], process_counts=[1, 2], sessions=4, duration=2.0
        ).result()
    result = {"size": "S", "sessions": 4, "cores": 2, "rows": rows}
    print(processes.format_table(result))

    assert [(row["page"], row["processes"]) for row in rows] == [("today", 1), ("today", 2)]
    for row in rows:
        assert row["errors"] == 0, row["first_error"]
        assert row["runs"] >= 4
    assert len(rows[1]["runs_per_server"]) == 2 and min(rows[1]["runs_per_server"]) > 0
    assert rows[0]["speedup"] == 1.0
