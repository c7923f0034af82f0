"""Page runs per second with 1, 2 and 4 app processes on one PostgreSQL (issue #15):
`python -m bench.processes [--size S] [--processes 1 2 4] [--pages today client] [--sessions 16]`.

One clinic (bench/scale.py) is loaded into a PostgreSQL database (a throwaway cluster,
bench/postgres_server.py). For each number of app processes, that many real servers
(`python -m ui.serve`, server mode, one cookie key) run on it, and the concurrency benchmark's load
generator (bench/concurrency.py: cookie login over the websocket, page runs until script_finished)
keeps `--sessions` sessions running the page with no think time (saturation), session i on process
i mod N, as a load balancer with sticky sessions spreads them. Each row gives the runs/s, latency
percentiles, errors, the app processes' CPU summed (100% = one core), the load generator's own CPU,
how busy the whole machine was (100% = every core), and the runs/s as a multiple of one process's on
the same page.

Every process competes for the same cores: the app processes, PostgreSQL and the load generator
itself. On a machine with fewer cores than processes, the figure measures that machine, not the
design; the table says how many cores it had.
"""

import argparse
import asyncio
import os
import secrets
from contextlib import ExitStack
from pathlib import Path

from bench.concurrency import TARGETS, login_cookies, run_level, usernames
from bench.postgres_server import postgres_server
from bench.report import save_json
from bench.scale import SIZES, create_scaled_database
from bench.server import running_server

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JSON = ROOT / "bench-results" / "processes.json"
PROCESS_COUNTS = (1, 2, 4)


def measure_processes(url, *, pages, process_counts, sessions, duration, progress=print):
    """Return one row per page and number of app processes on the PostgreSQL database `url`:
    run_level's figures with `sessions` sessions at think time 0, plus page, processes and
    speedup (runs/s over the same page's with one process, when measured)."""
    key = secrets.token_urlsafe(48)
    cookies = {page: login_cookies(url, usernames(url, TARGETS[page].role, sessions), key) for page in pages}
    rows = []
    for count in process_counts:
        with ExitStack() as stack:
            servers = [stack.enter_context(running_server(url, HOMEWORK_COOKIE_KEY=key)) for _ in range(count)]
            for page in pages:
                busy_before = _machine_busy()
                row = asyncio.run(
                    run_level(
                        [server.url for server in servers],
                        cookies[page],
                        TARGETS[page],
                        think=0.0,
                        duration=duration,
                        pids=[server.process.pid for server in servers],
                    )
                )
                rows.append({"page": page, "processes": count, **row, "machine_busy_percent": _busy_since(busy_before)})
                progress(format_row(rows[-1]))
    for row in rows:
        one = next((r for r in rows if r["page"] == row["page"] and r["processes"] == 1), None)
        row["speedup"] = row["runs_per_s"] / one["runs_per_s"] if one and one["runs_per_s"] else None
    return rows


def _machine_busy():
    """The machine's (busy, total) CPU time so far in clock ticks, all cores, from /proc/stat."""
    with open("/proc/stat") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return sum(ticks) - idle, sum(ticks)


def _busy_since(before):
    """The share of all cores' time that was busy since `before` (_machine_busy), in percent: the app
    processes, PostgreSQL, the load generator and anything else."""
    busy, total = _machine_busy()
    return 100 * (busy - before[0]) / max(1, total - before[1])


def format_row(row):
    """One row as a line of progress."""
    return (
        f"{row['page']:<7} {row['processes']} process(es), {row['sessions']} sessions: {row['runs_per_s']:6.1f} runs/s "
        f"(per process {row['runs_per_server']}), p50 {row['p50_ms']:,.0f} / p95 {row['p95_ms']:,.0f} ms, "
        f"{row['errors']} errors, app CPU {row['cpu_percent']:.0f}%, load generator CPU {row['load_cpu_percent']:.0f}%, "
        f"machine {row['machine_busy_percent']:.0f}% busy"
    )


def format_table(result):
    """A Markdown table of the rows, with the machine's cores and the clinic's size."""
    lines = [
        f"Size {result['size']} ({SIZES[result['size']].clients:,} clients) on PostgreSQL, {result['sessions']} "
        f"sessions at think time 0, {result['cores']} cores",
        "",
        "| page | app processes | runs/s | x one process | p50 (ms) | p95 (ms) | errors | app CPU % "
        "| load generator CPU % | machine busy % |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result["rows"]:
        speedup = "-" if row["speedup"] is None else f"{row['speedup']:.2f}"
        lines.append(
            f"| {row['page']} | {row['processes']} | {row['runs_per_s']:.1f} | {speedup} | {row['p50_ms']:.0f} "
            f"| {row['p95_ms']:.0f} | {row['errors']} | {row['cpu_percent']:.0f} | {row['load_cpu_percent']:.0f} "
            f"| {row['machine_busy_percent']:.0f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.processes", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="S")
    parser.add_argument("--processes", nargs="+", type=int, default=list(PROCESS_COUNTS))
    parser.add_argument("--pages", nargs="+", choices=list(TARGETS), default=["today", "client"])
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load per row")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    with postgres_server() as server:
        url = server.create_database(f"bench_processes_{args.size.lower()}")
        print(f"loading the {args.size} clinic into PostgreSQL ...", flush=True)
        create_scaled_database(url, args.size)
        rows = measure_processes(
            url, pages=args.pages, process_counts=args.processes, sessions=args.sessions, duration=args.duration
        )
    result = {"size": args.size, "sessions": args.sessions, "cores": os.cpu_count(), "rows": rows}
    save_json(args.json, result)
    print(format_table(result))
    return result


if __name__ == "__main__":
    main()
