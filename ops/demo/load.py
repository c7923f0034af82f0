"""Loading the frames into a database, and a new demo database file from start to end."""

from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa

from data_layer.core import db
from data_layer.core.postgres import PostgresCursor, is_postgres_url
from ops.demo.build import DEFAULT_SEED, TABLES, build_clinic
from ops.demo.episodes import RISK_CLIENTS

# The id sequence of each table that has one (see migrations.py); discharges is keyed by its caseload row.
SEQUENCES = {
    "users": "user_id_seq",
    "caseload": "caseload_id_seq",
    "supervision": "supervision_id_seq",
    "assignments": "assignment_id_seq",
    "homework_logs": "homework_log_id_seq",
    "paused_periods": "paused_period_id_seq",
    "mood_logs": "mood_log_id_seq",
    "questionnaires": "questionnaire_id_seq",
    "therapy_sessions": "therapy_session_id_seq",
    "risk_flags": "risk_flag_id_seq",
    "reminder_history": "reminder_history_id_seq",
    "outbox": "outbox_id_seq",
}


def load_clinic(conn, frames):
    """Bulk-load `frames` (from build_clinic) into a migrated, empty database, in one transaction.

    Each frame is registered and copied with INSERT ... SELECT, sorted by client id where it
    has one (DuckDB then skips row groups for queries about a few clients). Afterwards every
    id sequence is advanced past the largest id, each assignment gets its one schedule version
    (assignment_schedules) and clinic_settings.demo is set to true; on PostgreSQL the tables are
    then analysed.
    """
    cur = conn.cursor()
    with db.transaction(cur):
        for table in TABLES:
            _insert_frame(cur, table, _sorted_by_client(frames[table]))
        for table, sequence in SEQUENCES.items():
            # Table and sequence names are this module's constants; the count is a parameter.
            largest_sql = f"SELECT coalesce(max(id), 0) FROM {table}"
            draw_sql = f"SELECT max(nextval('{sequence}')) FROM range(?)"
            (max_id,) = cur.execute(largest_sql).fetchone()
            if max_id:
                cur.execute(draw_sql, [max_id])
        # Each assignment's one schedule version, set on the day it was created (docs/clinical-rules.md).
        cur.execute(
            """INSERT INTO assignment_schedules (assignment_id, valid_from, schedule, times_per_week, due_on,
                                                 starts_on, ends_on, created_at)
               SELECT id, CAST(created_at AS DATE), schedule, times_per_week, due_on, starts_on, ends_on,
                      created_at
               FROM assignments ORDER BY id"""
        )
        cur.execute("UPDATE clinic_settings SET demo = true")
    if isinstance(cur, PostgresCursor):
        # Statistics for the planner now, not when autovacuum gets to the new tables: without them
        # PostgreSQL takes every CTE for a row or two and the cohort queries run in nested loops (~10x).
        cur.execute("ANALYZE")


def create_demo_database(path, *, seed=DEFAULT_SEED):
    """Create a new database file at `path` holding the demo clinic; return its row counts. In server
    mode `path` is a `postgresql://` URL of an existing database, which must hold no users yet.

    One ongoing homework then gets a schedule change from 3 weeks ago (_change_one_schedule).

    Refuses (FileExistsError) when the file exists, or the database has users: the demo never
    overwrites data.
    """
    if is_postgres_url(path):
        return _load_demo(str(path), seed, remove_on_failure=None)
    path = Path(path)
    if path.exists():
        raise FileExistsError(
            f"{path} already exists. The demo clinic is only written to a new file: remove it or choose another path."
        )
    return _load_demo(path, seed, remove_on_failure=[path, path.with_name(path.name + ".wal")])


def _load_demo(path, seed, remove_on_failure):
    frames = build_clinic(seed=seed)
    conn = db.connect(path)
    try:
        if remove_on_failure is None:
            (users,) = conn.execute("SELECT count(*) FROM users").fetchone()
            if users:
                raise FileExistsError(
                    "The database already holds users: the demo clinic is only loaded into an empty one."
                )
        load_clinic(conn, frames)
        _change_one_schedule(conn.cursor())
    except BaseException:
        conn.close()
        for leftover in remove_on_failure or []:
            leftover.unlink(missing_ok=True)
        raise
    conn.close()
    return {table: len(frame) for table, frame in frames.items()}


def _change_one_schedule(cur):
    """Show a schedule edit that keeps its history: the first ongoing weekly homework (started 5+
    weeks ago) of the first client in care after the showcase ones goes up by 2 times a week
    from the Monday 3 weeks ago; the weeks before keep the old schedule (docs/clinical-rules.md)."""
    today = date.today()
    change_day = today - timedelta(days=today.weekday(), weeks=3)
    candidate = cur.execute(
        """SELECT a.id, a.times_per_week FROM assignments a
           JOIN caseload c ON c.client_id = a.client_id AND c.therapist_id = a.therapist_id AND c.ended_on IS NULL
           WHERE a.schedule = 'weekly' AND a.ends_on IS NULL AND a.times_per_week <= 12
             AND a.starts_on <= CAST(? AS DATE) - 14
             AND a.client_id > (SELECT min(id) + ? FROM users WHERE role = 'client')
             AND a.client_id NOT IN (SELECT client_id FROM paused_periods)
           ORDER BY a.client_id, a.id LIMIT 1""",
        [change_day, len(RISK_CLIENTS)],
    ).fetchone()
    if candidate is None:
        return
    assignment_id, times_per_week = candidate
    with db.transaction(cur):
        cur.execute(
            """INSERT INTO assignment_schedules (assignment_id, valid_from, schedule, times_per_week, due_on,
                                                 starts_on, ends_on, created_at)
               SELECT id, ?, schedule, ?, due_on, starts_on, ends_on, CAST(? AS DATE) + INTERVAL 16 HOUR
               FROM assignments WHERE id = ?""",
            [change_day, times_per_week + 2, change_day, assignment_id],
        )
        cur.execute("UPDATE assignments SET times_per_week = ? WHERE id = ?", [times_per_week + 2, assignment_id])


def _sorted_by_client(frame):
    if "client_id" not in frame.columns or frame["client_id"].is_monotonic_increasing:
        return frame
    return frame.sort_values(["client_id", "id"], kind="stable", ignore_index=True)


def _insert_frame(cur, table, frame):
    """INSERT ... SELECT from the registered frame; column names must be the table's own."""
    known = {
        name
        for (name,) in cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
        ).fetchall()
    }
    unknown = set(frame.columns) - known
    if unknown:
        raise ValueError(f"{table} has no column(s) {sorted(unknown)}")
    columns = ", ".join(f'"{name}"' for name in frame.columns)
    view = f"demo_{table}"
    # Arrow scans faster than a DataFrame with categorical and nullable columns.
    cur.register(view, pa.Table.from_pandas(frame, preserve_index=False))
    insert_sql = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {view}"  # constant names only
    try:
        cur.execute(insert_sql)
    finally:
        cur.unregister(view)
