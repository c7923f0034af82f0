"""The scheduler benchmark (bench/scheduler.py) end to end on a small clinic, so that it cannot rot: it
copies the clinic it is given and leaves it untouched, turns reminders on for about 30% of the clients,
and its fake clock's ticks queue and deliver them. Timings are printed, never asserted here."""

import hashlib
import json

import pytest

from bench import scale, scheduler

TICKS = 30
SETTLE = 5


@pytest.fixture(scope="module")
def clinic_s(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench-scheduler") / "clinic-S.duckdb"
    scale.create_scaled_database(path, "S")
    return path


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_the_scheduler_benchmark_runs_on_a_copy_and_its_ticks_deliver(clinic_s, tmp_path):
    before = digest(clinic_s)
    results_file = tmp_path / "scheduler.json"
    scheduler.main(
        ["--database", str(clinic_s), "--settle", str(SETTLE), "--ticks", str(TICKS), "--json", str(results_file)]
    )

    assert digest(clinic_s) == before  # the clinic given was copied, never written
    results = json.loads(results_file.read_text())
    assert results["ticks"] == TICKS and results["settle_ticks"] == SETTLE
    assert results["clock"]["first"].endswith("T23:25:00") and results["clock"]["last"].endswith("T23:59:00")
    # Memory is sampled over the measured ticks only, after the settling ones.
    assert [sample[0] for sample in results["memory_mb"]["samples"]] == [10, 20, 30]
    assert 0.15 * results["clients"] < results["reminders_on"] < 0.45 * results["clients"]
    # The first tick (a server starting at 23:25) queues everything due today and the send takes it.
    assert results["first_tick"]["queued"] > 0
    assert results["messages"]["sent"] == results["messages"]["queued"]
    assert results["messages"]["failed"] == results["messages"]["retry"] == 0
    assert results["steady_queue_seconds"]["max"] > 0
