"""Concurrent sessions against the real server: `python -m bench.concurrency [--sizes S L]`.

No browser: each virtual user is one Streamlit session driven over the server's websocket the
way the browser's frontend drives it (Streamlit 1.67):

1. GET /_stcore/health, which sets the `_streamlit_xsrf` cookie (XSRF protection is on);
2. open ws://HOST/_stcore/stream with the subprotocols ("streamlit", that cookie's value), the
   cookie and the app's signed re-login cookie (a login session started in the database before
   the server starts, signed with the server's cookie key: ui.auth.signed_login_cookie);
3. send BackMsg.rerun_script for a page (its page_script_hash, from the navigation message the
   first run sends) and read ForwardMsgs until the run's script_finished (a run that ends early
   for an st.rerun is followed to the end).

A run is an error when it times out, shows an exception element, shows the login form (the
cookie did not log in) or lacks the page's marker text. Per page, role and number N of
concurrent sessions, with think time 0 (saturation) and drawn around 2 s (a person reading),
it reports runs/s, p50/p95/p99 latency, errors, and the server's CPU and memory from /proc.
"""

import argparse
import asyncio
import json
import os
import random
import secrets
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

from bench.report import save_json
from bench.scale import SIZES, create_scaled_database
from bench.server import running_server
from data_layer import login_sessions, users
from data_layer.core import db
from data_layer.core.access import LOGIN
from ui.auth import COOKIE_LIFETIME, COOKIE_NAME, signed_login_cookie

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JSON = ROOT / "bench-results" / "concurrency.json"
RUN_TIMEOUT_SECONDS = 60
# Sessions connect and log in a few at a time before a level's window starts (not measured).
RAMP_CONCURRENCY = 4
LOGIN_FORM = b"Log in"


@dataclass(frozen=True)
class Target:
    """A page under load: who opens it, its title in the menu, text every good run shows, and
    the targets of issue #14 (warm single-session ms, saturation runs/s, sessions at think 2 s)."""

    role: str
    title: str
    marker: bytes
    single_ms: float
    saturation_runs_per_s: float
    realistic_sessions: int


TARGETS = {
    "today": Target("client", "Today", b"Mood check-in", 30, 60, 60),
    "client": Target("therapist", "Client", b"Latest PHQ-9", 80, 15, 20),
    "cohort": Target("supervisor", "Cohort", b"Headline figures", 100, 20, 20),
}
LEVELS = (1, 5, 10, 20, 40)
THINK_SECONDS = (0.0, 2.0)
REALISTIC_P95_SECONDS = 1.0
MAX_MEMORY_GROWTH_PERCENT = 10
MAX_MB_PER_IDLE_SESSION = 2


@dataclass
class Run:
    seconds: float
    error: str | None


class Session:
    """One browser-equivalent Streamlit session over one websocket."""

    def __init__(self, url, cookie):
        self.url = url
        self.cookie = cookie
        self.pages = {}  # menu title -> page_script_hash
        self._websocket = None
        self._reader = None
        self._finished = None
        self._run_id = None
        self._received = []

    async def open(self):
        xsrf = await asyncio.to_thread(_xsrf_cookie, self.url)
        self._websocket = await connect(
            self.url.replace("http", "ws", 1) + "/_stcore/stream",
            subprotocols=["streamlit", xsrf],
            origin=self.url,
            additional_headers={"Cookie": f"_streamlit_xsrf={xsrf}; {COOKIE_NAME}={self.cookie}"},
            max_size=None,
            ping_interval=None,
        )
        self._reader = asyncio.create_task(self._read())

    async def close(self):
        await self._websocket.close()
        await asyncio.wait_for(self._reader, RUN_TIMEOUT_SECONDS)

    async def run(self, title="", marker=b""):
        """Run the page with menu `title` ("" = the landing page) once; return a Run."""
        message = BackMsg()
        state = message.rerun_script
        state.page_script_hash = self.pages.get(title, "")
        state.widget_states.SetInParent()
        state.context_info.timezone = "Europe/London"
        state.context_info.locale = "en-GB"
        state.context_info.url = self.url + "/"
        self._received = []
        self._run_id = None
        self._finished = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        try:
            await self._websocket.send(message.SerializeToString())
            await asyncio.wait_for(self._finished, RUN_TIMEOUT_SECONDS)
        except TimeoutError:
            return Run(time.perf_counter() - started, "timeout")
        except ConnectionError as error:
            return Run(time.perf_counter() - started, f"disconnected: {error}")
        seconds = time.perf_counter() - started
        return Run(seconds, self._problem(marker))

    def _problem(self, marker):
        received = b"".join(self._received)
        for raw in self._received:
            forward = ForwardMsg()
            forward.ParseFromString(raw)
            if forward.delta.new_element.WhichOneof("type") == "exception":
                return f"exception: {forward.delta.new_element.exception.message[:200]}"
        if LOGIN_FORM in received:
            return "login form shown"
        if marker not in received:
            return "page text missing"
        return None

    async def _read(self):
        try:
            async for raw in self._websocket:
                self._receive(raw)
        finally:
            if self._finished is not None and not self._finished.done():
                self._finished.set_exception(ConnectionError("the server closed the websocket"))

    def _receive(self, raw):
        forward = ForwardMsg()
        forward.ParseFromString(raw)
        kind = forward.WhichOneof("type")
        if kind == "delta":
            self._received.append(raw)
        elif kind == "navigation":
            self.pages = {page.page_name: page.page_script_hash for page in forward.navigation.app_pages}
        elif kind == "new_session":
            self._run_id = forward.metadata.run.script_run_id
        elif kind == "script_finished" and self._finished is not None and not self._finished.done():
            same_run = forward.metadata.run.script_run_id in ("", self._run_id)
            if same_run and forward.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                self._finished.set_result(forward.script_finished)


def _xsrf_cookie(url):
    with urllib.request.urlopen(url + "/_stcore/health", timeout=10) as response:
        for header in response.headers.get_all("set-cookie") or []:
            name, _, rest = header.partition("=")
            if name.strip() == "_streamlit_xsrf":
                return rest.split(";", 1)[0].strip().strip('"')
    raise RuntimeError("the server set no _streamlit_xsrf cookie")


# ---------------------------------------------------------------- the server's process


class ProcessSampler:
    """The CPU time (all threads) and resident memory of the server processes `pids`, summed, read
    from /proc."""

    def __init__(self, *pids):
        self.pids = pids
        self.peak_rss_mb = 0.0
        self._task = None

    def cpu_seconds(self):
        total = 0.0
        for pid in self.pids:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def rss_mb(self):
        return sum(_rss_mb(pid) for pid in self.pids)

    async def _watch(self):
        while True:
            self.peak_rss_mb = max(self.peak_rss_mb, self.rss_mb())
            await asyncio.sleep(0.5)

    def start(self):
        self._started = (time.perf_counter(), self.cpu_seconds(), time.process_time())
        self.peak_rss_mb = self.rss_mb()
        self._task = asyncio.create_task(self._watch())

    def stop(self):
        """Return {"cpu_percent" (100 = one core busy), "rss_mb", "peak_rss_mb"} of the servers since
        start(), and "load_cpu_percent", the load generator's own (this process)."""
        self._task.cancel()
        wall = time.perf_counter() - self._started[0]
        cpu = self.cpu_seconds() - self._started[1]
        load_cpu = time.process_time() - self._started[2]
        rss = self.rss_mb()
        return {
            "cpu_percent": 100 * cpu / wall,
            "rss_mb": rss,
            "peak_rss_mb": max(self.peak_rss_mb, rss),
            "load_cpu_percent": 100 * load_cpu / wall,
        }


def _rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


# ---------------------------------------------------------------- one level of load


def percentile(values, q):
    """Return the q-th percentile (0-100) of `values`, None when there are none."""
    return float(np.percentile(values, q)) if len(values) else None


async def open_session(url, cookie, target):
    """Connect, log in from the cookie (the landing run) and open the target page once."""
    session = Session(url, cookie)
    await session.open()
    for title in ("", target.title):
        if title and title not in session.pages:
            raise RuntimeError(f"no {title!r} page in the menu {sorted(session.pages)}")
        run = await session.run(title, target.marker if title else b"")
        if run.error:
            raise RuntimeError(f"opening {title or 'the landing page'} failed: {run.error}")
    return session


async def run_level(urls, cookies, target, *, think, duration, pids, seed=0):
    """Keep len(cookies) sessions on `target`'s page for `duration` seconds, each running the
    page again after a think time (0, or drawn uniformly between half and 1.5 times `think`).
    Session i is served by the server at urls[i % len(urls)] (as a load balancer with sticky
    sessions spreads them); `pids` are the servers' processes. Return the level's row: sessions,
    think_s, runs, runs_per_server (in the order of `urls`), runs_per_s, p50/p95/p99_ms, errors,
    and the servers' cpu_percent, rss_mb, peak_rss_mb (summed) and the load_cpu_percent."""
    random_think = random.Random(seed)
    gate = asyncio.Semaphore(RAMP_CONCURRENCY)

    async def opened(number, cookie):
        async with gate:
            return await open_session(urls[number % len(urls)], cookie, target)

    sessions = await asyncio.gather(*(opened(number, cookie) for number, cookie in enumerate(cookies)))
    runs = []
    runs_per_server = [0] * len(urls)
    sampler = ProcessSampler(*pids)
    deadline = time.perf_counter() + duration

    async def user(number, session):
        if think:  # real users do not arrive in step
            await asyncio.sleep(random_think.uniform(0, think))
        while time.perf_counter() < deadline:
            runs.append(await session.run(target.title, target.marker))
            runs_per_server[number % len(urls)] += 1
            if think:
                await asyncio.sleep(random_think.uniform(0.5 * think, 1.5 * think))

    sampler.start()
    started = time.perf_counter()
    await asyncio.gather(*(user(number, session) for number, session in enumerate(sessions)))
    elapsed = time.perf_counter() - started
    server = sampler.stop()
    await asyncio.gather(*(session.close() for session in sessions))
    milliseconds = sorted(1000 * run.seconds for run in runs)
    errors = [run.error for run in runs if run.error]
    return {
        "sessions": len(sessions),
        "think_s": think,
        "runs": len(runs),
        "runs_per_server": runs_per_server,
        "runs_per_s": len(runs) / elapsed,
        "p50_ms": percentile(milliseconds, 50),
        "p95_ms": percentile(milliseconds, 95),
        "p99_ms": percentile(milliseconds, 99),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        **server,
    }


# ---------------------------------------------------------------- a clinic and its server


def usernames(path, role, count):
    """Return `count` usernames of `role` from the clinic at `path`, repeating them in turn when
    the clinic has fewer (each session then is another login of the same person)."""
    conn = db.connect(path)
    try:
        cur = conn.cursor()
        admin = users.load_session_user(cur, LOGIN, username="admin").principal
        accounts = users.list_users(cur, admin)
    finally:
        conn.close()
    names = sorted(accounts.loc[accounts["role"] == role, "username"], key=lambda name: (len(name), name))
    return [names[i % len(names)] for i in range(count)]


def login_cookies(path, names, key):
    """Start one login session per name (as the login form does) in the clinic at `path`;
    return the signed re-login cookies. The server must not be running: the file has one owner."""
    conn = db.connect(path)
    try:
        cur = conn.cursor()
        cookies = []
        for name in names:
            user = users.load_session_user(cur, LOGIN, username=name)
            token = login_sessions.start_login_session(cur, LOGIN, user_id=user.id, lifetime=COOKIE_LIFETIME)
            cookies.append(signed_login_cookie(key, name, token)[0])
        return cookies
    finally:
        conn.close()


def measure_clinic(path, *, pages, levels, thinks, duration, progress=print):
    """Start the real server on the clinic at `path` and run every level of every page on it.
    Return the rows (run_level's, plus page and role)."""
    key = secrets.token_urlsafe(48)
    plan = {
        page: sorted({*levels, TARGETS[page].realistic_sessions}) if 2.0 in thinks else sorted(levels) for page in pages
    }
    cookies = {page: login_cookies(path, usernames(path, TARGETS[page].role, max(plan[page])), key) for page in pages}
    rows = []
    with running_server(path, HOMEWORK_COOKIE_KEY=key) as server:
        for page in pages:
            target = TARGETS[page]
            for think in thinks:
                for n in plan[page] if think else sorted(levels):
                    row = asyncio.run(
                        run_level(
                            [server.url],
                            cookies[page][:n],
                            target,
                            think=think,
                            duration=duration,
                            pids=[server.process.pid],
                        )
                    )
                    rows.append({"page": page, "role": target.role, **row})
                    progress(format_row(rows[-1]))
    return rows


async def long_run_memory(url, cookies, runs, pid):
    """Run the three target pages in turn, one session each (cookies: {page: cookie}), `runs`
    page runs in all; return the server's RSS after the first tenth (warm) and at the end, and
    the growth in percent, with the errors seen."""
    sampler = ProcessSampler(pid)
    sessions = {page: await open_session(url, cookie, TARGETS[page]) for page, cookie in cookies.items()}
    errors, warm_rss = 0, None
    for number in range(runs):
        page = list(sessions)[number % len(sessions)]
        run = await sessions[page].run(TARGETS[page].title, TARGETS[page].marker)
        errors += run.error is not None
        if number + 1 == max(1, runs // 10):
            warm_rss = sampler.rss_mb()
    end_rss = sampler.rss_mb()
    await asyncio.gather(*(session.close() for session in sessions.values()))
    return {
        "runs": runs,
        "errors": errors,
        "warm_rss_mb": warm_rss,
        "end_rss_mb": end_rss,
        "growth_percent": 100 * (end_rss - warm_rss) / warm_rss,
    }


async def idle_session_memory(url, cookies, pid, settle_seconds=5):
    """Open one client session per cookie on Today, run it once and leave it idle: the first
    half as a warm-up (what a first run allocates once, such as caches and modules, and
    garbage of earlier runs then freed, would otherwise count), then the second half. Return
    the server's RSS before and after the second half, each after `settle_seconds`, and the
    retained MB per idle session of it."""
    sampler = ProcessSampler(pid)
    half = len(cookies) // 2
    warm = [await open_session(url, cookie, TARGETS["today"]) for cookie in cookies[:half]]
    await asyncio.sleep(settle_seconds)
    before = sampler.rss_mb()
    measured = [await open_session(url, cookie, TARGETS["today"]) for cookie in cookies[half:]]
    await asyncio.sleep(settle_seconds)
    after = sampler.rss_mb()
    await asyncio.gather(*(session.close() for session in warm + measured))
    return {
        "sessions": len(measured),
        "rss_before_mb": before,
        "rss_after_mb": after,
        "mb_per_idle_session": (after - before) / len(measured),
    }


def measure_memory(path, *, runs, idle_sessions):
    """Start the real server on the clinic at `path`; return its memory over `runs` page runs
    (long_run_memory) and per idle session (idle_session_memory: `idle_sessions` clients after
    as many to warm up)."""
    key = secrets.token_urlsafe(48)
    cookies = {page: login_cookies(path, usernames(path, target.role, 1), key)[0] for page, target in TARGETS.items()}
    idle = login_cookies(path, usernames(path, "client", 2 * idle_sessions), key)
    with running_server(path, HOMEWORK_COOKIE_KEY=key) as server:
        long_run = asyncio.run(long_run_memory(server.url, cookies, runs, server.process.pid))
        per_session = asyncio.run(idle_session_memory(server.url, idle, server.process.pid))
    return {"long_run": long_run, "idle": per_session}


def format_row(row):
    """Return one level's results as a line of progress."""
    return (
        f"{row['page']:<7} N={row['sessions']:<3} think {row['think_s']:.0f} s: {row['runs_per_s']:6.1f} runs/s, "
        f"p50 {_ms(row['p50_ms'])} / p95 {_ms(row['p95_ms'])} / p99 {_ms(row['p99_ms'])} ms, "
        f"{row['errors']} errors, CPU {row['cpu_percent']:.0f}%, RSS {row['rss_mb']:.0f} MB"
    )


def evaluate(rows):
    """Return, per page, the issue #14 targets met or not: warm single-session p50, saturation
    runs/s (the best think-0 level) and p95 at the realistic number of sessions with think time."""
    verdicts = {}
    for page, target in TARGETS.items():
        mine = [row for row in rows if row["page"] == page]
        if not mine:
            continue
        single = next((row for row in mine if row["sessions"] == 1 and not row["think_s"]), None)
        saturated = max((row["runs_per_s"] for row in mine if not row["think_s"]), default=None)
        realistic = next((row for row in mine if row["think_s"] and row["sessions"] == target.realistic_sessions), None)
        verdicts[page] = {
            "single_p50_ms": single and single["p50_ms"],
            "single_met": bool(single and single["p50_ms"] <= target.single_ms),
            "saturation_runs_per_s": saturated,
            "saturation_met": bool(saturated and saturated >= target.saturation_runs_per_s),
            "realistic_p95_ms": realistic and realistic["p95_ms"],
            "realistic_met": bool(
                realistic and realistic["errors"] == 0 and realistic["p95_ms"] < 1000 * REALISTIC_P95_SECONDS
            ),
        }
    return verdicts


def format_table(results):
    """Return the benchmark's table: per size, page, think time and N, the throughput, latency
    percentiles, errors and the server's CPU and memory, with p50 as a multiple of the
    single-session p50 of the same run; then each page's targets, met or not."""
    lines = [
        "size page    think  N    runs/s    p50    p95    p99 (ms)  x single  errors  CPU %  RSS MB",
    ]
    for size, result in results.items():
        single = {row["page"]: row["p50_ms"] for row in result["rows"] if row["sessions"] == 1 and not row["think_s"]}
        for row in result["rows"]:
            ratio = row["p50_ms"] / single[row["page"]] if row["p50_ms"] and single.get(row["page"]) else None
            lines.append(
                f"{size:<4} {row['page']:<7} {row['think_s']:>3.0f} s {row['sessions']:>3} {row['runs_per_s']:9.1f} "
                f"{_ms(row['p50_ms']):>6} {_ms(row['p95_ms']):>6} {_ms(row['p99_ms']):>6}      "
                f"{'-' if ratio is None else f'{ratio:.1f}':>8} {row['errors']:>7} {row['cpu_percent']:>6.0f} "
                f"{row['rss_mb']:>7.0f}"
            )
    for size, result in results.items():
        for page, verdict in result["targets"].items():
            target = TARGETS[page]
            lines.append(
                f"{size} {page}: single session p50 {_ms(verdict['single_p50_ms'])} ms (target <= {target.single_ms:g}: "
                f"{_met(verdict['single_met'])}); saturation {verdict['saturation_runs_per_s'] or 0:.1f} runs/s "
                f"(target >= {target.saturation_runs_per_s:g}: {_met(verdict['saturation_met'])}); "
                f"{target.realistic_sessions} sessions with think time: p95 {_ms(verdict['realistic_p95_ms'])} ms "
                f"(target < {1000 * REALISTIC_P95_SECONDS:g}, 0 errors: {_met(verdict['realistic_met'])})"
            )
    for size, result in results.items():
        if "memory" not in result:
            continue
        long_run, idle = result["memory"]["long_run"], result["memory"]["idle"]
        lines.append(
            f"{size} memory: {long_run['warm_rss_mb']:.0f} MB after the first tenth of {long_run['runs']:,} page runs, "
            f"{long_run['end_rss_mb']:.0f} MB at the end ({long_run['growth_percent']:+.1f}%, target within "
            f"{MAX_MEMORY_GROWTH_PERCENT}%: {_met(abs(long_run['growth_percent']) <= MAX_MEMORY_GROWTH_PERCENT)}; "
            f"{long_run['errors']} errors); {idle['mb_per_idle_session']:.2f} MB per idle session over "
            f"{idle['sessions']} (target < {MAX_MB_PER_IDLE_SESSION}: "
            f"{_met(idle['mb_per_idle_session'] < MAX_MB_PER_IDLE_SESSION)})"
        )
    return "\n".join(lines)


def _ms(value):
    return "-" if value is None else f"{value:,.0f}"


def _met(met):
    return "met" if met else "NOT met"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.concurrency", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["S", "L"], choices=list(SIZES))
    parser.add_argument("--pages", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    parser.add_argument("--levels", nargs="+", type=int, default=list(LEVELS))
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load per level")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--memory-runs", type=int, default=10_000, help="page runs of the memory check (0: none)")
    parser.add_argument("--idle-sessions", type=int, default=40)
    parser.add_argument("--report", type=Path, help="print the table of an earlier run's JSON and stop")
    args = parser.parse_args(argv)
    if args.report:
        print(format_table(json.loads(args.report.read_text())))
        return
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-concurrency-") as folder:
        for size in args.sizes:
            path = Path(folder) / f"clinic-{size}.duckdb"
            print(f"building the {size} clinic ...", flush=True)
            create_scaled_database(path, size)
            rows = measure_clinic(
                path, pages=args.pages, levels=args.levels, thinks=THINK_SECONDS, duration=args.duration
            )
            results[size] = {"rows": rows, "targets": evaluate(rows)}
            if args.memory_runs:
                results[size]["memory"] = measure_memory(path, runs=args.memory_runs, idle_sessions=args.idle_sessions)
    save_json(args.json, results)
    print(format_table(results))


if __name__ == "__main__":
    main()
