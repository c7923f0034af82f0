"""The write path: 16 threads, each one client's session with its own cursor on ONE connection,
logging homework and mood through the data layer; entries/s, latencies and a count of the
stored rows proving that no write was lost."""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from bench.scale import SIZES, client_username
from data_layer import homework, mood, users
from data_layer.core.access import LOGIN

WRITER_THREADS = 16
WRITES_PER_THREAD = 40  # half homework logs, half mood logs


def writer_sessions(cur, size):
    """Return 16 (client principal, assignment id) pairs, clients spread over the clinic, each with
    an assignment in force today (every demo client in care has two ongoing ones; a discharged
    client has none, and the next client is taken instead)."""
    clients = SIZES[size].clients
    chosen = []
    for k in range(WRITER_THREADS):
        number = 1 + k * clients // WRITER_THREADS
        while True:
            principal = users.load_session_user(cur, LOGIN, username=client_username(size, number)).principal
            active = homework.list_active_assignments(cur, principal, client_id=principal.user_id)
            if len(active) and all(principal.user_id != other.user_id for other, _ in chosen):
                break
            number = number % clients + 1
        chosen.append((principal, int(active["assignment_id"].iloc[0])))
    return chosen


def write_path_run(conn, writers):
    """16 threads, each one client's session with its own cursor on ONE connection, log
    WRITES_PER_THREAD entries each (homework and mood in turn) through the data layer.

    Returns {"entries", "seconds", "entries_per_second", "latencies_ms" (every call),
    "errors", "stored", "lost", "duplicated"}: stored counts the rows found afterwards.
    """
    tag = f"bench{uuid.uuid4().hex[:12]}"
    barrier = threading.Barrier(len(writers) + 1)
    today = date.today()

    def session(k):
        principal, assignment_id = writers[k]
        cur = conn.cursor()
        latencies, errors = [], []
        barrier.wait()
        for i in range(WRITES_PER_THREAD):
            note = f"{tag} t{k} e{i}"
            started = time.perf_counter()
            try:
                if i % 2:
                    mood.log_mood(cur, principal, log_date=today, mood=i % 11, note=note, submission_id=note)
                else:
                    homework.log_homework(
                        cur,
                        principal,
                        assignment_id=assignment_id,
                        log_date=today,
                        status="done",
                        minutes=10,
                        note=note,
                        submission_id=note,
                    )
            except Exception as error:  # counted and reported: a failed write is a lost write
                errors.append(repr(error))
            latencies.append(time.perf_counter() - started)
        return latencies, errors

    with ThreadPoolExecutor(len(writers)) as pool:
        futures = [pool.submit(session, k) for k in range(len(writers))]
        barrier.wait()  # every thread is ready: start the clock as they start writing
        started = time.perf_counter()
        results = [future.result() for future in futures]
        seconds = time.perf_counter() - started
    entries = len(writers) * WRITES_PER_THREAD
    stored = (
        conn.cursor()
        .execute(
            """SELECT note FROM homework_logs WHERE note LIKE $tag
           UNION ALL SELECT note FROM mood_logs WHERE note LIKE $tag""",
            {"tag": f"{tag} %"},
        )
        .fetchall()
    )
    expected = {f"{tag} t{k} e{i}" for k in range(len(writers)) for i in range(WRITES_PER_THREAD)}
    stored_notes = [note for (note,) in stored]
    return {
        "entries": entries,
        "seconds": seconds,
        "entries_per_second": entries / seconds,
        "latencies_ms": [1000 * latency for latencies, _ in results for latency in latencies],
        "errors": [error for _, errors in results for error in errors],
        "stored": len(stored_notes),
        "lost": len(expected - set(stored_notes)),
        "duplicated": len(stored_notes) - len(set(stored_notes)),
    }
