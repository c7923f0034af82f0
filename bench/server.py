"""Start the real app server (`python -m ui.serve`, Streamlit's `streamlit run app.py` with the database
and its scheduler opened first, as `make run` starts it) in a child process and stop it: for the browser
tests and the concurrency benchmark, which must drive the server the way production runs.
"""

import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
# A deployment's `systemctl stop` or container stop sends SIGTERM and waits about this long.
SHUTDOWN_SECONDS = 10
START_SECONDS = 60


class ServerError(RuntimeError):
    """The server did not start, or ignored SIGTERM (the message holds its output)."""


@dataclass
class Server:
    url: str
    port: int
    process: subprocess.Popen
    log: IO[bytes]

    def output(self) -> str:
        """Return what the server has written to its log so far."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def free_port() -> int:
    """Return a TCP port on the loopback interface that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_environment() -> dict[str, str]:
    """This process's environment without test-only settings: the server runs with the
    production login throttle, whose timing once hid a cookie replay."""
    return {name: value for name, value in os.environ.items() if name != "HOMEWORK_LOGIN_SLEEP_SECONDS"}


@contextmanager
def running_server(database: Path | str, **env: str) -> Iterator[Server]:
    """Run the app's server (`python -m ui.serve`) on `database` with the extra environment `env`, yield the
    Server once it answers its health check, and stop it on leaving (ServerError when it does
    not start, or when it ignores SIGTERM for SHUTDOWN_SECONDS: that is a bug, never hidden)."""
    port = free_port()
    command = ["ui.serve", "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"]
    with _running(command, database, env, f"http://127.0.0.1:{port}", port) as server:
        _wait_until_healthy(server)
        yield server


@contextmanager
def running_worker(database: str, **env: str) -> Iterator[Server]:
    """Run server mode's worker (`python -m ops.worker`, the reminder scheduler) on the PostgreSQL
    `database` with the extra environment `env`; stop it on leaving as `running_server` stops a server.
    The Server it yields has no URL: a worker serves no requests."""
    with _running(["ops.worker"], database, env, "", 0) as worker:
        yield worker


@contextmanager
def _running(
    module_and_arguments: list[str], database: Path | str, env: dict[str, str], url: str, port: int
) -> Iterator[Server]:
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", *module_and_arguments],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_stop_with_parent,
        env={**production_environment(), "HOMEWORK_DB": str(database), **env},
    )
    server = Server(url, port, process, log)
    try:
        yield server
    finally:
        try:
            stop(server)
        finally:
            log.close()


def _wait_until_healthy(server: Server) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2):
                return
        except OSError:
            if server.process.poll() is not None or time.monotonic() > deadline:
                raise ServerError(f"the server did not start:\n{server.output()}") from None
            time.sleep(0.3)


def stop(server: Server) -> None:
    """Send SIGTERM to the server and wait for it to exit; kill it and raise ServerError when
    it is still running after SHUTDOWN_SECONDS."""
    if server.process.poll() is not None:
        return
    server.process.terminate()
    try:
        server.process.wait(timeout=SHUTDOWN_SECONDS)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
        raise ServerError(
            f"the server ignored SIGTERM for {SHUTDOWN_SECONDS} s and was killed:\n{server.output()}"
        ) from None


# Loaded here, not in the forked child: a child must not load libraries before exec.
_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _stop_with_parent() -> None:
    # Runs in the server's process before exec: Linux sends it SIGTERM when the parent dies
    # (a crash, a kill, a timeout), so no server outlives the tests or the benchmark.
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
