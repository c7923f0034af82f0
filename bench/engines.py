"""The engines side by side (issue #15): `python -m bench.engines [--sizes S M] [--runs 3] [--json PATH]`.

For each clinic size the same clinic (bench/scale.py) is loaded into a DuckDB file and into a
PostgreSQL database (a throwaway cluster, bench/postgres_server.py; loaded by COPY), and in ONE
process, engine after engine within each run, it measures:
- every dashboard page as a full app run under AppTest with empty caches (as bench/run.py's "cold");
- the page's data-layer calls made directly (the lower bound, as bench/run.py's "raw");
- the write path: 16 threads logging homework and mood (bench/writes.py), with lost and doubled rows.
Each figure is the median of `--runs` runs; each ratio is PostgreSQL's median over DuckDB's.

The PostgreSQL cluster runs with fsync off (bench/postgres_server.py), so its write figures are
an upper bound for a server that syncs each commit to disk.
"""

import argparse
import statistics
import tempfile
from pathlib import Path

from bench.apptest import ROOT, app_environment
from bench.pages import PAGES
from bench.postgres_server import postgres_server
from bench.report import save_json
from bench.scale import SIZES, create_scaled_database
from bench.size_bench import SizeBench

DEFAULT_JSON = ROOT / "bench-results" / "engines.json"
ENGINES = ("duckdb", "postgres")


def _median_ms(samples):
    return 1000 * statistics.median(samples)


def measure_size(size, runs, server, folder):
    """Return this size's figures per engine: page medians (cold, raw) in ms, and the write path.
    Runs inside app_environment() (main, or the test)."""
    targets = {
        "duckdb": Path(folder) / f"clinic-{size}.duckdb",
        "postgres": server.create_database(f"bench_{size.lower()}"),
    }
    benches = {
        engine: SizeBench(size, target, create_scaled_database(target, size)) for engine, target in targets.items()
    }
    for bench in benches.values():  # one throw-away run of everything on each engine
        bench.open()
        for page in PAGES:
            bench.raw_queries(page)
            bench.page_run(page, cold=True)
        bench.close()
    for _ in range(runs):
        for bench in benches.values():
            bench.open()
            for page in PAGES:
                bench.record(page.key, "raw", lambda: bench.raw_queries(page))  # noqa: B023 (called at once)
                bench.record(page.key, "cold", lambda: bench.page_run(page, cold=True))  # noqa: B023
            bench.write_run()
            bench.close()
    figures = {}
    for engine, bench in benches.items():
        latencies = sorted(latency for run in bench.writes for latency in run["latencies_ms"])
        figures[engine] = {
            "load_seconds": bench.build["load_seconds"],
            "pages": {
                page.key: {kind: _median_ms(bench.samples[(page.key, kind)]) for kind in ("cold", "raw")}
                for page in PAGES
            },
            "writes": {
                "entries_per_second": statistics.median(run["entries_per_second"] for run in bench.writes),
                "p95_ms": latencies[int(0.95 * (len(latencies) - 1))],
                "lost": sum(run["lost"] for run in bench.writes),
                "duplicated": sum(run["duplicated"] for run in bench.writes),
                "errors": sum(len(run["errors"]) for run in bench.writes),
            },
        }
    return figures


def format_table(results):
    """A Markdown table per size: each page's cold and raw medians on both engines and the ratio."""
    lines = []
    for size, figures in results.items():
        duck, pg = figures["duckdb"], figures["postgres"]
        lines += [
            f"Size {size} ({SIZES[size].clients:,} clients); load: DuckDB {duck['load_seconds']:.1f} s, "
            f"PostgreSQL {pg['load_seconds']:.1f} s",
            "",
            "| page | DuckDB page (ms) | PostgreSQL page (ms) | ratio | DuckDB raw (ms) | PostgreSQL raw (ms) | ratio |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for page in PAGES:
            d, p = duck["pages"][page.key], pg["pages"][page.key]
            lines.append(
                f"| {page.label} | {d['cold']:.0f} | {p['cold']:.0f} | {p['cold'] / d['cold']:.2f} "
                f"| {d['raw']:.0f} | {p['raw']:.0f} | {p['raw'] / d['raw']:.2f} |"
            )
        for engine in ENGINES:
            w = figures[engine]["writes"]
            lines.append(
                f"\nWrites on {engine} (16 threads): {w['entries_per_second']:.0f} entries/s, p95 {w['p95_ms']:.0f} ms, "
                f"lost {w['lost']}, doubled {w['duplicated']}, errors {w['errors']}"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.engines", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=["S", "M"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    results = {}
    with postgres_server() as server, tempfile.TemporaryDirectory() as folder, app_environment():
        for size in [size for size in SIZES if size in args.sizes]:
            results[size] = measure_size(size, args.runs, server, folder)
    save_json(args.json, results)
    print(format_table(results))
    return results


if __name__ == "__main__":
    main()
