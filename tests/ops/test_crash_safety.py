"""The delivery engine killed with SIGKILL mid-batch and started again (issue #16, "Tests"): nothing is
lost and at most the message in flight is delivered twice (at least once, ops/scheduler.py).

A real DuckDB file, a real mail server (aiosmtpd on 127.0.0.1) and the scheduler's `tick` in a child
process, as the server runs it. The mail server takes the Nth message (it is in the inbox) and then never
answers: the child is stuck in the middle of sending it, the worst moment, since the message has gone but
is not marked sent. The child is killed there; a new process on the same file runs a tick again.
"""

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from data_layer import reminders
from data_layer.core import db
from ops import mailer, scheduler
from tests.conftest import add_assignment, add_user
from tests.ops.test_scheduler import Inbox, free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 12
STUCK_AT = 5  # the mail server takes the 5th message and never answers
EVENING = datetime.combine(date.today(), time(18, 5))
WAIT_SECONDS = 60


class StuckInbox(Inbox):
    """An inbox that keeps the `stuck_at`-th message it is given, then never answers that one client."""

    def __init__(self, stuck_at):
        super().__init__()
        self.stuck_at = stuck_at
        self.stuck = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope)
        if len(self.received) == self.stuck_at:
            self.stuck.set()
            await asyncio.Event().wait()  # never set: the sender hangs in DATA until the server stops
        return "250 OK"


def deliver(path, now):
    """One scheduler tick on the database at `path` at `now` (ISO), in a child process's own connection."""
    conn = db.connect(path)
    scheduler.tick(conn.cursor(), datetime.fromisoformat(now), mailer.send_message)
    conn.close()


def start_child(path, sink):
    mail = {
        "HOMEWORK_SMTP_HOST": "127.0.0.1",
        "HOMEWORK_SMTP_PORT": str(sink.port),
        "HOMEWORK_SMTP_SECURITY": "none",
        "HOMEWORK_MAIL_FROM": "clinic@example.org",
    }
    code = f"from tests.ops.test_crash_safety import deliver; deliver({str(path)!r}, {EVENING.isoformat()!r})"
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **mail},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def clinic(tmp_path):
    """CLIENTS clients in care, each with weekly homework not done and reminders on at 18:00 every day."""
    path = tmp_path / "clinic.duckdb"
    conn = db.connect(path)
    cur = conn.cursor()
    therapist = add_user(cur, "therapist", "Tom Therapist", "therapist")
    started = date.today() - timedelta(days=30)
    for number in range(CLIENTS):
        client = add_user(cur, f"client{number:02}", f"Client {number}", "client")
        cur.execute(
            "INSERT INTO caseload (client_id, therapist_id, started_on) VALUES (?, ?, ?)",
            [client.user_id, therapist.user_id, started],
        )
        add_assignment(cur, client, therapist, "Thought record", started)
        cur.execute("UPDATE users SET email = ? WHERE id = ?", [f"client{number:02}@example.org", client.user_id])
        reminders.set_reminders(cur, client, enabled=True, send_at=time(18, 0), days=list(range(1, 8)))
    conn.close()
    return path


@pytest.fixture
def sink():
    handler = StuckInbox(STUCK_AT)
    handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


def statuses(path):
    conn = db.connect(path)
    try:
        return Counter(status for (status,) in conn.execute("SELECT status FROM outbox").fetchall())
    finally:
        conn.close()


def test_sigkill_mid_batch_then_a_restart_loses_nothing_and_repeats_at_most_the_message_in_flight(clinic, sink):
    child = start_child(clinic, sink)
    try:
        assert sink.stuck.wait(WAIT_SECONDS), child.stderr.read1().decode(errors="replace")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    # What was marked before the kill is still marked; the message in flight and the rest are queued.
    assert statuses(clinic) == {"sent": STUCK_AT - 1, "queued": CLIENTS - STUCK_AT + 1}

    again = start_child(clinic, sink)
    _, errors = again.communicate(timeout=WAIT_SECONDS)
    assert again.returncode == 0, errors.decode(errors="replace")

    assert statuses(clinic) == {"sent": CLIENTS}
    delivered = Counter(envelope.rcpt_tos[0] for envelope in sink.received)
    in_flight = sink.received[STUCK_AT - 1].rcpt_tos[0]
    assert set(delivered) == {f"client{number:02}@example.org" for number in range(CLIENTS)}  # none lost
    assert {address for address, times in delivered.items() if times > 1} == {in_flight}
    assert delivered[in_flight] == 2
