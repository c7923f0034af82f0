"""Server mode's worker (ops/worker.py): the scheduler's lease in PostgreSQL lets one worker at a time
queue and send, so two workers running the same minute send each message once."""

import subprocess
import sys
import threading
import time

from ops import mailer, worker
from tests.ops.test_scheduler import EVENING, inbox, turn_on  # noqa: F401 (inbox is a fixture)

# The worker is server mode's: these tests take a PostgreSQL database (tests/conftest.py).
ENGINES = ["postgres"]


def test_two_workers_running_the_same_minute_send_each_message_once(conn, cur, world, inbox):  # noqa: F811
    turn_on(cur, world.client_a, "alice@example.org")
    turn_on(cur, world.client_b, "bee@example.org")
    cur.execute("UPDATE users SET email = 'tom@example.org' WHERE id = ?", [world.therapist_a.user_id])
    cur.execute("UPDATE users SET email = 'bee.therapist@example.org' WHERE id = ?", [world.therapist_b.user_id])
    both_ready = threading.Barrier(2)
    results = []

    def slow_send(message):
        time.sleep(0.3)  # a slow mail server: the other worker's minute starts while this one sends
        mailer.send_message(message)

    def one_worker():
        own = conn.cursor()  # a worker process has its own database session
        both_ready.wait()
        results.append(worker.leased_tick(own, EVENING, slow_send))

    workers = [threading.Thread(target=one_worker) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(60)
    recipients = sorted(envelope.rcpt_tos[0] for envelope in inbox.received)
    # client_a's reminder, and client_b's risk alert to its therapist (client_b is paused today: no reminder).
    assert recipients == ["alice@example.org", "bee.therapist@example.org"]
    assert None in results  # the second worker found the lease held and did nothing
    (sent,) = cur.execute("SELECT count(*) FROM outbox WHERE status = 'sent'").fetchone()
    assert sent == 2


def test_the_worker_refuses_the_embedded_file_and_says_what_to_run_instead(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "ops.worker"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"HOMEWORK_DB": str(tmp_path / "clinic.duckdb"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert "make run" in result.stderr and not (tmp_path / "clinic.duckdb").exists()
