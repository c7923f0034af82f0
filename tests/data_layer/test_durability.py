"""An entry the app has acknowledged survives the process being killed (SIGKILL) mid-write: the
process holding the DuckDB file, or in server mode an app process writing to PostgreSQL."""

import os
import random
import signal
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from data_layer.core import db
from data_layer.core.migrations import MIGRATIONS
from tests.conftest import add_assignment, add_user

PROJECT = Path(__file__).resolve().parents[2]
ROUNDS = 5

# The writer: opens the database as the app does and logs entries through the data layer,
# printing "kind id note" for each only after the call has returned (= acknowledged).
WRITER = """
import sys
from datetime import date
from data_layer.core import db
from data_layer import homework, mood
from data_layer.core.access import Principal

path, client_id, assignment_id, run = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
me = Principal(user_id=client_id, role="client", display_name="Durable Client")
cur = db.connect(path).cursor()
i = 0
while True:
    note = f"{run}-{i}"
    if i % 2:
        log_id = mood.log_mood(cur, me, log_date=date.today(), mood=i % 11, note=note,
                               submission_id=note)
        print("mood", log_id, note, flush=True)
    else:
        log_id = homework.log_homework(cur, me, assignment_id=assignment_id, log_date=date.today(),
                                       status="done", minutes=i % 60, note=note, submission_id=note)
        print("homework", log_id, note, flush=True)
    i += 1
"""


def start_writer(path, client, assignment, run):
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(client.user_id), str(assignment), run],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
    )


@pytest.mark.slow
def test_acknowledged_entries_survive_five_kills(database):
    path = database
    conn = db.connect(path)
    cur = conn.cursor()
    client = add_user(cur, "durable", "Durable Client", "client")
    therapist = add_user(cur, "therapist", "Tess Therapist", "therapist")
    assignment = add_assignment(cur, client, therapist, "Daily walk", date.today() - timedelta(days=7))
    conn.close()

    rng = random.Random(20261126)
    acknowledged = {}  # (table, id) -> note
    for run in range(ROUNDS):
        wanted = rng.randint(200, 400)
        writer = start_writer(path, client, assignment, f"r{run}")
        lines = []
        try:
            while len(lines) < wanted:
                line = writer.stdout.readline()
                assert line, f"the writer stopped early: {writer.stderr.read()}"
                lines.append(line)
            writer.send_signal(signal.SIGKILL)  # mid-stream: it is writing the next entries
            writer.wait(timeout=30)
            lines += writer.stdout.readlines()  # acknowledged between our last read and the kill
        finally:
            writer.kill()
            writer.wait(timeout=30)
            writer.stdout.close()
            writer.stderr.close()
        assert writer.returncode == -signal.SIGKILL
        for line in lines:
            if not line.endswith("\n"):
                continue  # cut off by the kill: never acknowledged
            kind, log_id, note = line.split()
            acknowledged[(f"{kind}_logs", int(log_id))] = note

        # The database opens cleanly (a DuckDB file replays its WAL) and holds every acknowledged entry.
        conn = db.connect(path)
        try:
            cur = conn.cursor()
            stored = {
                (table, log_id): note
                for table, entries_sql in (
                    ("homework_logs", "SELECT id, note FROM homework_logs"),
                    ("mood_logs", "SELECT id, note FROM mood_logs"),
                )
                for log_id, note in cur.execute(entries_sql).fetchall()
            }
            missing = {key: note for key, note in acknowledged.items() if stored.get(key) != note}
            assert not missing, f"round {run}: acknowledged but lost: {sorted(missing)[:5]}"
            # Each entry and its audit event were committed together or not at all.
            for table, action in (("homework_logs", "log_homework"), ("mood_logs", "log_mood")):
                unmatched_sql = f"""
                    SELECT count(*) FROM {table} t FULL JOIN (
                        SELECT record_id FROM audit_log WHERE action = ?) a ON a.record_id = t.id
                    WHERE t.id IS NULL OR a.record_id IS NULL"""  # `table` is one of the two names above
                assert cur.execute(unmatched_sql, [action]).fetchall() == [(0,)]
            assert db.applied_migrations(conn) == [name for name, _ in MIGRATIONS]
            assert cur.execute("SELECT count(*) FROM users").fetchall() == [(2,)]
        finally:
            conn.close()
    assert len(acknowledged) >= ROUNDS * 200
