"""Server mode with two app processes on one PostgreSQL database (issue #15): sixteen writers spread
over both processes, eight in each (one per client, as Streamlit gives each session its own cursor),
write 8,000 entries through the data layer; none is lost and none is stored twice, a resent
submission included."""

import json
import os
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest

from data_layer import homework, mood
from data_layer.core import db
from data_layer.core.access import Principal
from tests.conftest import add_assignment, add_user

ENGINES = ["postgres"]
PROCESSES = 2
WRITERS_PER_PROCESS = 8
ENTRIES_PER_WRITER = 500
RESENT = 25  # each writer sends its first entries' forms again, as a double click or a retry would


# The command each app process runs: app_process below, its result as JSON on stdout.
APP_PROCESS = (
    "import json, sys; from tests.ops.test_two_app_processes import app_process; "
    "print(json.dumps(app_process(sys.argv[1], json.loads(sys.argv[2]))))"
)
PROJECT = Path(__file__).resolve().parents[2]


def app_process(url, writers):
    """One app process: its own connection, and a thread (own cursor) per writer; returns, per writer,
    the ids the data layer acknowledged."""
    conn = db.connect(url)
    ready = threading.Barrier(len(writers))
    acknowledged = {}

    def write(client_id, assignment_id):
        cur = conn.cursor()
        me = Principal(user_id=client_id, role="client", display_name="Writer")
        ready.wait()
        ids = []
        for i in [*range(ENTRIES_PER_WRITER), *range(RESENT)]:
            note = f"{client_id}-{i}"
            day = date.today() - timedelta(days=i % 7)
            if i % 2:
                ids.append(
                    ("mood_logs", mood.log_mood(cur, me, log_date=day, mood=i % 11, note=note, submission_id=note))
                )
            else:
                ids.append(
                    (
                        "homework_logs",
                        homework.log_homework(
                            cur,
                            me,
                            assignment_id=assignment_id,
                            log_date=day,
                            status="done",
                            minutes=i % 60,
                            note=note,
                            submission_id=note,
                        ),
                    )
                )
        acknowledged[client_id] = ids

    threads = [threading.Thread(target=write, args=writer) for writer in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    conn.close()
    return acknowledged


@pytest.mark.slow
def test_sixteen_writers_over_two_processes_write_8000_entries_none_lost_or_doubled(database, cur):
    therapist = add_user(cur, "therapist", "Tess Therapist", "therapist")
    writers = []
    for k in range(PROCESSES * WRITERS_PER_PROCESS):
        client = add_user(cur, f"client{k:02d}", f"Client {k}", "client")
        writers.append(
            (client.user_id, add_assignment(cur, client, therapist, f"Task {k}", date.today() - timedelta(days=7)))
        )

    # Processes of their own, started as the app is (a new interpreter each), never forked from this one.
    shares = [writers[p * WRITERS_PER_PROCESS : (p + 1) * WRITERS_PER_PROCESS] for p in range(PROCESSES)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", APP_PROCESS, database, json.dumps(share)],
            cwd=PROJECT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(PROJECT)},
        )
        for share in shares
    ]
    results = []
    for process in processes:
        try:
            out, err = process.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        assert process.returncode == 0, err
        results.append({int(client): [tuple(entry) for entry in ids] for client, ids in json.loads(out).items()})

    acknowledged = {client: ids for result in results for client, ids in result.items()}
    assert len(acknowledged) == PROCESSES * WRITERS_PER_PROCESS
    for ids in acknowledged.values():
        first, resent = ids[:ENTRIES_PER_WRITER], ids[ENTRIES_PER_WRITER:]
        assert len(set(first)) == ENTRIES_PER_WRITER
        assert resent == first[:RESENT]  # a resent form gets back the entry it made, and makes none
    stored = cur.execute(
        """SELECT 'homework_logs', id, client_id, note FROM homework_logs
           UNION ALL SELECT 'mood_logs', id, client_id, note FROM mood_logs"""
    ).fetchall()
    assert len(stored) == PROCESSES * WRITERS_PER_PROCESS * ENTRIES_PER_WRITER == 8_000
    by_entry = {(table, entry_id): (client, note) for table, entry_id, client, note in stored}
    for client, ids in acknowledged.items():
        for i, entry in enumerate(ids[:ENTRIES_PER_WRITER]):
            assert by_entry[entry] == (client, f"{client}-{i}")
