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

This module builds the databases and runs the whole benchmark; the parts are beside it:
bench/pages.py (the pages and the data-layer calls each makes), bench/baseline.py (the
cohort numbers the page's way and the pandas way), bench/apptest.py (the app under AppTest
and the full-GC pauses), bench/writes.py (the write path), bench/memory.py (peak RSS),
bench/size_bench.py (one clinic size and its measurements) and bench/report.py (summaries,
targets at L and the table).
"""

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import streamlit as st

from bench.apptest import FULL_GC, ROOT, app_environment
from bench.report import format_table, save_json, summarise
from bench.scale import SIZES
from bench.size_bench import SizeBench
from ui import db as ui_db

DEFAULT_JSON = ROOT / "bench-results" / "latest.json"


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
    save_json(args.json, results)
    print(f"Results written to {args.json}")
    return results


if __name__ == "__main__":
    from streamlit import config
    from streamlit.logger import set_log_level

    # Outside a server, every cache call logs "missing ScriptRunContext"; AppTest re-reads the config level.
    config.set_option("logger.level", "error")
    set_log_level("error")
    main()
