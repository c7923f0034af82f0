"""The results: medians and ratios per size, L/M growth, the targets at size L, and the one table."""

import json
import os
import statistics
import sys

import numpy as np

from bench.memory import process_peak_rss_mb
from bench.pages import PAGES
from bench.writes import WRITER_THREADS

# Targets at size L (the issue "Performance at large-clinic scale").
WARM_FACTOR, WARM_ALLOWANCE_MS = 2.0, 150.0
MAX_GROWTH_L_OVER_M = 4.0
MIN_PANDAS_OVER_PAGE = 10.0
MIN_WRITES_PER_SECOND = 300.0
MAX_WRITE_P95_MS = 100.0
MAX_PEAK_RSS_MB = 1.5 * 1024
MAX_BUILD_SECONDS_L = 30.0


def save_json(path, results):
    """Write a benchmark's `results` to `path` as indented JSON (dates and other non-JSON values as
    text), making its folder when needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")


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
