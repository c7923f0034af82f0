"""The reminder scheduler at size L (issue #16): `python -m bench.scheduler [--database PATH] [--settle 1000]
[--ticks 1000]`.

On a COPY of an L clinic (10,000 clients; built in a temporary folder like bench/run.py does, or copied
from `--database PATH`, which is never written), 30% of the clients turn reminders on, each at a time of
day and on days of their own, and every account gets an email address. Then the scheduler's minute runs
`--settle` + `--ticks` times on a fake clock that advances one minute per tick and ends at 23:59 today, with a send
that takes every message at once (no mail server, no network): its three steps in tick()'s order, risk
alerts and reminders queued (the SQL that finds one minute's due messages, the time issue #16 asks for,
target under 1 s) and then delivery (the due rows read, re-checked and marked one by one), timed apart.

The first tick is a server that starts at that time of day: it queues everything due since midnight at
once (reported apart). The `--settle` ticks after it let the process reach its steady state; the
`--ticks` after those are measured: a minute's few newly due clients among thousands that are not.
Memory: this process's RSS, what DuckDB says it holds (duckdb_memory()), what the C allocator has
handed out and holds freed, and Python's allocated blocks (bench.memory.heap_mb: growing objects or a
growing allocator), every 10 measured ticks; flat memory means no growth per tick, and the report
gives each figure's change from the first 100 measured ticks to the last 100.

Why settle: DuckDB keeps a small record (a block handle, about 150 bytes) of every temporary buffer a
query made until its buffer pool purges its eviction queues, and it purges a queue only once the
queue holds 32,768 entries (there are eight). So any process that runs queries grows by some tens of
MB until those queues are full, then stays there: the scheduler alone within about 900 ticks at L
(docs/architecture.md, "Reminders"). Measuring from the first tick would report that fill as growth
per tick.

Results go to bench-results/scheduler.json (`--json`); `make bench` runs it after bench.run and
bench.concurrency. Timings are printed, never asserted (tests/bench/test_scheduler_bench.py runs it on a
small clinic so that it cannot rot).
"""

import argparse
import shutil
import statistics
import sys
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter

from bench.apptest import ROOT, environment
from bench.memory import current_rss_mb, heap_mb
from bench.report import save_json
from bench.run import build_database, machine_load
from data_layer.core import db
from ops import scheduler

DEFAULT_JSON = ROOT / "bench-results" / "scheduler.json"
TICKS = 1_000
SETTLE_TICKS = 1_000
SHARE_PERCENT = 30
TARGET_SECONDS = 1.0
LAST_MINUTE = time(23, 59)
RSS_EVERY = 10
# The measured ticks whose samples are averaged at each end for the change in memory.
CHANGE_TICKS = 100
# What scheduler.deliver_due counts, in its order.
OUTCOMES = ("sent", "retry", "failed", "not_sent")

# SHARE_PERCENT of the active clients (by a hash of their id) turn reminders on, each at a time of day
# spread over the 1,440 minutes and on four to six weekdays by their id (every day but the multiples of 3,
# shifted); the rest have none. Any earlier settings in the copy are replaced.
REMINDERS_SQL = """
INSERT INTO reminder_preferences (client_id, enabled, send_at, days)
SELECT id, true,
       CAST(TIME '00:00' + INTERVAL (CAST(hash(id, 'time') % 1440 AS INTEGER)) MINUTE AS TIME),
       list_filter([1, 2, 3, 4, 5, 6, 7], lambda d: (d + id) % 3 <> 0)
FROM users
WHERE role = 'client' AND active AND hash(id) % 100 < $share
"""


def turn_on_reminders(cur, share_percent):
    """Give `share_percent` % of the active clients reminders (REMINDERS_SQL) and every account without an
    email address one; return how many clients have reminders on."""
    cur.execute("DELETE FROM reminder_preferences")
    cur.execute(REMINDERS_SQL, {"share": share_percent})
    cur.execute("UPDATE users SET email = username || '@example.org' WHERE email IS NULL")
    (count,) = cur.execute("SELECT count(*) FROM reminder_preferences WHERE enabled").fetchone()
    return count


def duckdb_memory_mb(conn):
    """Return the memory DuckDB itself says it holds (duckdb_memory(): buffers, indexes, WAL), in MB."""
    with conn.cursor() as probe:  # closed: no result left open (see run_ticks)
        (used,) = probe.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()
    return used / 2**20


def take_at_once(message):
    """The mail server of the benchmark: takes every message and never fails."""


def mail_server_configured():
    """A mail server host in the settings for the block, so that due messages go to the send (none is
    ever reached: the send is take_at_once)."""
    return environment(HOMEWORK_SMTP_HOST="mail.bench.invalid")


def run_ticks(path, ticks, share_percent=SHARE_PERCENT, today=None, settle=0):
    """Set up reminders in the clinic at `path` (a copy: it is written) and run `settle` + `ticks`
    scheduler minutes ending at 23:59 of `today` (default: today); return the measurements of the
    first tick and of the last `ticks` (see summarise())."""
    today = today or date.today()
    start = datetime.combine(today, LAST_MINUTE) - timedelta(minutes=settle + ticks - 1)
    conn = db.connect(path)
    try:
        # On a cursor closed at once: a result left unread keeps its transaction open, and DuckDB then
        # keeps every row version the ticks write after it (measured: RSS +200 MB over 1,000 ticks).
        with conn.cursor() as setup:
            reminders_on = turn_on_reminders(setup, share_percent)
        cur = conn.cursor()
        samples, memory = [], []
        with mail_server_configured():
            for number in range(settle + ticks):
                now = start + timedelta(minutes=number)
                # tick()'s three steps, timed apart: the queueing SQL is the figure issue #16 asks for.
                started = perf_counter()
                queued = scheduler.queue_risk_alerts(cur, now) + scheduler.queue_due_reminders(cur, now)
                queued_at = perf_counter()
                counts = scheduler.deliver_due(cur, now, take_at_once)
                done = perf_counter()
                samples.append(
                    {"queue_seconds": queued_at - started, "deliver_seconds": done - queued_at, "queued": queued}
                    | counts
                )
                if number >= settle and (number + 1) % RSS_EVERY == 0:
                    heap = heap_mb()
                    memory.append(
                        (
                            number + 1,
                            current_rss_mb(),
                            duckdb_memory_mb(conn),
                            heap["malloc_in_use"],
                            heap["malloc_free_held"],
                            heap["python_blocks"],
                        )
                    )
        (clients,) = cur.execute("SELECT count(*) FROM users WHERE role = 'client' AND active").fetchone()
    finally:
        conn.close()
    return summarise(samples, memory, clients=clients, reminders_on=reminders_on, start=start, settle=settle)


def _spread(values):
    ordered = sorted(values)
    return {
        "median": statistics.median(ordered),
        "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        "max": ordered[-1],
    }


def _change(memory, column):
    """Return the mean of `column` over the last CHANGE_TICKS measured ticks' samples minus its mean over
    the first ones (None without samples)."""
    per_end = max(1, CHANGE_TICKS // RSS_EVERY)
    if not memory or memory[0][column] is None:
        return None
    return statistics.mean(sample[column] for sample in memory[-per_end:]) - statistics.mean(
        sample[column] for sample in memory[:per_end]
    )


def summarise(samples, memory, *, clients, reminders_on, start, settle=0):
    """Return the run's figures: the first tick (everything due since midnight), the measured ticks'
    (those after the first and the `settle` ticks) queue, delivery and whole-minute times (median, p95,
    max), message counts over the whole run, and memory over the measured ticks: (tick, RSS, DuckDB's
    own, ...) samples, the first and the last, and each figure's change (_change)."""
    first, steady = samples[0], samples[max(settle, 1) :] or samples
    return {
        "ticks": len(samples) - settle,
        "settle_ticks": settle,
        "clock": {"first": start.isoformat(), "last": (start + timedelta(minutes=len(samples) - 1)).isoformat()},
        "clients": clients,
        "reminders_on": reminders_on,
        "first_tick": first,
        "steady_queue_seconds": _spread([sample["queue_seconds"] for sample in steady]),
        "steady_deliver_seconds": _spread([sample["deliver_seconds"] for sample in steady]),
        "steady_tick_seconds": _spread([sample["queue_seconds"] + sample["deliver_seconds"] for sample in steady]),
        "messages": {key: sum(sample[key] for sample in samples) for key in ("queued", *OUTCOMES)},
        # (tick, RSS, DuckDB's own, malloc in use, malloc freed but held) in MB, and Python's allocated blocks
        "memory_mb": {
            "samples": memory,
            "first": memory[0] if memory else None,
            "last": memory[-1] if memory else None,
            "change": {
                "rss": _change(memory, 1),
                "duckdb": _change(memory, 2),
                "malloc_in_use": _change(memory, 3),
                "malloc_free_held": _change(memory, 4),
            },
        },
        "target_queue_seconds": TARGET_SECONDS,
    }


def copy_clinic(source, folder):
    """Copy the clinic at `source` (and its .wal, if any) into `folder`; return the copy's path."""
    copy = Path(folder) / "clinic.duckdb"
    shutil.copyfile(source, copy)
    if Path(f"{source}.wal").exists():
        shutil.copyfile(f"{source}.wal", f"{copy}.wal")
    return copy


def benchmark(database, ticks, settle=SETTLE_TICKS, progress=print):
    """Run the scheduler benchmark on a copy of `database`, or on a new L clinic when it is None; return
    the results dict (summarise() plus the machine's load before and after, and where the clinic came from)."""
    load_before = machine_load()
    with tempfile.TemporaryDirectory(prefix="homework-bench-scheduler-") as folder:
        if database is None:
            progress("building L ...")
            path, source = Path(build_database(folder, "L")["path"]), "built L"
        else:
            path, source = copy_clinic(database, folder), f"copy of {database}"
        progress(f"{settle} settling ticks, then {ticks} measured ...")
        results = run_ticks(path, ticks, settle=settle)
    return {"clinic": source, "load_before": load_before, "load_after": machine_load(), **results}


def _mb(value):
    return "-" if value is None else f"{value:.1f}"


def _signed_mb(value):
    return "-" if value is None else f"{value:+.1f}"


def format_table(results):
    """Return the results as the plain table the README shows."""
    ms = 1000
    lines = [
        f"{results['clinic']}: {results['clients']:,} clients, {results['reminders_on']:,} with reminders on; "
        f"{results['settle_ticks']:,} settling ticks, then {results['ticks']:,} measured, from "
        f"{results['clock']['first']} to {results['clock']['last']}; "
        f"load average before {results['load_before']}, after {results['load_after']}",
        f"{'measure':44}{'median':>10}{'p95':>10}{'max':>10}",
    ]
    for key, label in (
        ("steady_queue_seconds", "one minute's due messages queued (ms)"),
        ("steady_deliver_seconds", "one minute's delivery (ms)"),
        ("steady_tick_seconds", "one whole tick (ms)"),
    ):
        spread = results[key]
        lines.append(f"{label:44}{spread['median'] * ms:>10.1f}{spread['p95'] * ms:>10.1f}{spread['max'] * ms:>10.1f}")
    first = results["first_tick"]
    lines.append(
        f"first tick (everything due since midnight): {first['queued']:,} queued in "
        f"{first['queue_seconds'] * ms:.0f} ms, {first['sent']:,} sent in {first['deliver_seconds'] * ms:.0f} ms"
    )
    messages = ", ".join(f"{count:,} {key}" for key, count in results["messages"].items())
    lines.append(f"messages over the run: {messages}")
    memory = results["memory_mb"]
    if memory["samples"]:
        for tick, rss, duckdb, in_use, free_held, blocks in (memory["first"], memory["last"]):
            lines.append(
                f"memory (MB) at tick {tick}: RSS {rss:.1f}, DuckDB's own {duckdb:.1f}, malloc in use "
                f"{_mb(in_use)} and freed but held {_mb(free_held)}; Python's allocated blocks {blocks:,}"
            )
        lines.append(f"highest RSS {max(sample[1] for sample in memory['samples']):.1f} MB")
        change = memory["change"]
        lines.append(
            f"change over the measured ticks (mean of the last {CHANGE_TICKS} minus the first {CHANGE_TICKS}, MB): "
            f"RSS {change['rss']:+.1f}, DuckDB's own {change['duckdb']:+.1f}, malloc in use "
            f"{_signed_mb(change['malloc_in_use'])}, freed but held {_signed_mb(change['malloc_free_held'])}"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.scheduler", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", type=Path, help="an L clinic to copy (never written); default: build one in a temporary folder"
    )
    parser.add_argument(
        "--settle",
        type=int,
        default=SETTLE_TICKS,
        help=f"scheduler minutes run first and not measured (default {SETTLE_TICKS})",
    )
    parser.add_argument("--ticks", type=int, default=TICKS, help=f"scheduler minutes measured (default {TICKS})")
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        help=f"where to write the results (default {DEFAULT_JSON.relative_to(ROOT)})",
    )
    args = parser.parse_args(argv)
    if args.ticks < 1 or args.settle < 0:
        parser.error("--ticks must be at least 1 and --settle at least 0")
    results = benchmark(
        args.database, args.ticks, args.settle, progress=lambda message: print(message, file=sys.stderr, flush=True)
    )
    print(format_table(results))
    save_json(args.json, results)
    print(f"Results written to {args.json}")
    return results


if __name__ == "__main__":
    main()
