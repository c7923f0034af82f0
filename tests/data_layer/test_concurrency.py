"""Many sessions writing at once through one shared connection lose nothing, and a write
conflict is retried a bounded number of times and then reported, never swallowed."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from data_layer import homework, mood
from data_layer.core import db
from tests.conftest import add_assignment, add_user

THREADS = 16
ENTRIES_PER_THREAD = 500


@pytest.mark.slow
def test_sixteen_sessions_writing_500_entries_each_lose_nothing(conn, cur):
    """Each thread is one client's session with its own cursor on the ONE shared connection,
    as the app gives each script run; it alternates homework and mood logs."""
    therapist = add_user(cur, "therapist", "Tess Therapist", "therapist")
    started = date.today() - timedelta(days=7)
    sessions = []
    for k in range(THREADS):
        client = add_user(cur, f"client{k:02d}", f"Client {k}", "client")
        sessions.append((client, add_assignment(cur, client, therapist, f"Task {k}", started)))
    barrier = threading.Barrier(THREADS)

    def session(k):
        client, assignment = sessions[k]
        my_cur = conn.cursor()
        ids = {"homework": [], "mood": []}
        barrier.wait()  # all threads start writing together
        for i in range(ENTRIES_PER_THREAD):
            note = f"t{k}-e{i}"
            day = date.today() - timedelta(days=i % 7)
            if i % 2:
                ids["mood"].append(
                    mood.log_mood(my_cur, client, log_date=day, mood=i % 11, note=note, submission_id=f"mood-{k}-{i}")
                )
            else:
                ids["homework"].append(
                    homework.log_homework(
                        my_cur,
                        client,
                        assignment_id=assignment,
                        log_date=day,
                        status="done",
                        minutes=i % 60,
                        note=note,
                        submission_id=f"homework-{k}-{i}",
                    )
                )
        return ids

    started_at = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(session, range(THREADS)))
    elapsed = time.perf_counter() - started_at
    total = THREADS * ENTRIES_PER_THREAD
    print(f"\n{total} entries from {THREADS} threads in {elapsed:.1f} s ({total / elapsed:.0f} per second)")

    expected = {(sessions[k][0].user_id, f"t{k}-e{i}") for k in range(THREADS) for i in range(ENTRIES_PER_THREAD)}
    stored = cur.execute("""SELECT client_id, note FROM homework_logs
                            UNION ALL SELECT client_id, note FROM mood_logs""").fetchall()
    assert len(stored) == total
    assert set(stored) == expected  # each entry exactly once: same size, same members
    # The ids the calls returned are exactly the rows stored, and each has its one audit event.
    for kind, table, action in (("homework", "homework_logs", "log_homework"), ("mood", "mood_logs", "log_mood")):
        returned = [log_id for ids in results for log_id in ids[kind]]
        assert len(returned) == len(set(returned)) == total // 2
        ids_sql, submissions_sql = f"SELECT id FROM {table}", f"SELECT count(DISTINCT submission_id) FROM {table}"
        assert set(returned) == {log_id for (log_id,) in cur.execute(ids_sql).fetchall()}
        assert cur.execute(
            "SELECT count(*), count(DISTINCT record_id) FROM audit_log WHERE action = ? AND outcome = 'ok'", [action]
        ).fetchall() == [(total // 2, total // 2)]
        assert cur.execute(submissions_sql).fetchall() == [(total // 2,)]


@pytest.fixture
def entry(cur):
    """One mood log to fight over, and its client."""
    client = add_user(cur, "client", "Carla Client", "client")
    log_id = mood.log_mood(cur, client, log_date=date.today(), mood=5)
    return client, log_id


def mood_of(cur, log_id):
    return cur.execute("SELECT mood FROM mood_logs WHERE id = ?", [log_id]).fetchall()[0][0]


def test_a_conflict_that_never_clears_is_retried_a_bounded_number_of_times_then_reported(conn, cur, entry, monkeypatch):
    _, log_id = entry
    pauses = []
    monkeypatch.setattr(db, "time", SimpleNamespace(sleep=pauses.append))
    holder = conn.cursor()  # another session, mid-way through changing the same row
    holder.execute("BEGIN TRANSACTION")
    holder.execute("UPDATE mood_logs SET mood = 9 WHERE id = ?", [log_id])
    attempts = []

    def change(write_cur):
        attempts.append(1)
        write_cur.execute("UPDATE mood_logs SET mood = 1 WHERE id = ?", [log_id])

    version = db.data_version(cur)
    with pytest.raises(db.WriteConflict) as raised:
        db.write(conn.cursor(), change)
    assert len(attempts) == db.WRITE_ATTEMPTS and 1 < db.WRITE_ATTEMPTS <= 10
    assert pauses == sorted(pauses) and pauses[0] > 0  # backing off between attempts
    message = str(raised.value)
    assert message == "The change could not be saved because of concurrent changes. Please try again."
    assert db.data_version(cur) == version  # nothing was saved, so caches stay valid
    holder.execute("ROLLBACK")
    assert mood_of(cur, log_id) == 5  # neither change was saved


def test_a_conflict_that_clears_is_retried_and_saved(conn, cur, entry, monkeypatch):
    _, log_id = entry
    holder = conn.cursor()
    holder.execute("BEGIN TRANSACTION")
    holder.execute("UPDATE mood_logs SET mood = 9, note = 'first' WHERE id = ?", [log_id])
    # The other session finishes while the write backs off after its first conflict.
    monkeypatch.setattr(db, "time", SimpleNamespace(sleep=lambda seconds: holder.execute("COMMIT")))
    attempts = []

    def change(write_cur):
        attempts.append(1)
        write_cur.execute("UPDATE mood_logs SET mood = mood - 1 WHERE id = ?", [log_id])
        return "saved"

    version = db.data_version(cur)
    assert db.write(conn.cursor(), change) == "saved"
    assert len(attempts) == 2
    assert db.data_version(cur) > version
    assert cur.execute("SELECT mood, note FROM mood_logs WHERE id = ?", [log_id]).fetchall() == [(8, "first")]


def test_racing_updates_of_one_row_are_each_saved_or_reported(conn, cur, entry):
    """Real threads increment one row at once: every increment either lands or raises
    WriteConflict; none is lost silently (the final count equals the successes)."""
    client, _ = entry
    threads, tries = 8, 25

    def increment(write_cur):
        write_cur.execute("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ?", [client.user_id])

    def racer(_):
        my_cur = conn.cursor()
        saved = refused = 0
        for _ in range(tries):
            try:
                db.write(my_cur, increment)
                saved += 1
            except db.WriteConflict:
                refused += 1
        return saved, refused

    with ThreadPoolExecutor(threads) as pool:
        outcomes = list(pool.map(racer, range(threads)))
    saved = sum(s for s, _ in outcomes)
    assert saved + sum(r for _, r in outcomes) == threads * tries
    assert saved > 0
    assert cur.execute("SELECT failed_logins FROM users WHERE id = ?", [client.user_id]).fetchall() == [(saved,)]
