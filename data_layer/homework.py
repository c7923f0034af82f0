"""Homework assignments and the client's logs of them."""

from datetime import date
from typing import Any

import duckdb
import pandas as pd

from clinical.homework import CATEGORIES, CREDIT
from data_layer.core import audit, db, validation
from data_layer.core.access import (
    EDIT_DAYS,
    Principal,
    allowed_roles,
    client_scope,
    deny,
    require_client,
    require_own_recent_entry,
    scope_parameters,
)


@allowed_roles("client", "therapist")
def list_active_assignments(cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int) -> pd.DataFrame:
    """Return the client's assignments that are in force today, with this week's logs.

    Limited to a client in the principal's scope (the client themself, or their
    current therapist); anyone else gets AccessDenied. Columns: assignment_id, title,
    category, instructions, schedule, times_per_week, due_on, starts_on, ends_on,
    done_so_far (credits, done 1 and partly 0.5, that count toward it now: for a weekly
    schedule those logged since Monday, for a once-assignment those logged from its start
    to its due date, as docs/clinical-rules.md credits them).
    """
    require_client(cur, principal, client_id, "view_assignments")
    sql = f"""
        WITH scope AS ({client_scope(principal)})
        SELECT a.id AS assignment_id, a.title, a.category, a.instructions, a.schedule,
               a.times_per_week, a.due_on, a.starts_on, a.ends_on,
               coalesce(sum(CASE h.status WHEN 'done' THEN 1.0 WHEN 'partly' THEN 0.5 ELSE 0 END), 0)
                   AS done_so_far
        FROM assignments a
        LEFT JOIN homework_logs h ON h.assignment_id = a.id
             AND CASE WHEN a.schedule = 'once' THEN h.log_date BETWEEN a.starts_on AND a.due_on
                      ELSE h.log_date >= CAST(date_trunc('week', current_date) AS DATE) END
        WHERE a.client_id = $client_id AND a.client_id IN (SELECT client_id FROM scope)
          AND a.starts_on <= current_date
          AND coalesce(a.ends_on, a.due_on, DATE '9999-12-31') >= current_date
        GROUP BY a.id, a.title, a.category, a.instructions, a.schedule, a.times_per_week, a.due_on,
                 a.starts_on, a.ends_on
        ORDER BY a.starts_on, a.title
    """
    return cur.execute(sql, scope_parameters(principal, client_id=client_id)).df()


def _require_own_assignment(
    cur: duckdb.DuckDBPyConnection, principal: Principal, assignment_id: int, action: str
) -> tuple[Any, ...]:
    """Return (starts_on, last_day, care_ended_on) of the principal's own assignment, or deny
    (audited). care_ended_on: the last day of the episode of care it was set in, once ended."""
    row = cur.execute(
        """SELECT a.starts_on, coalesce(a.ends_on, a.due_on),
                  (SELECT max(c.ended_on) FROM caseload c
                    WHERE c.client_id = a.client_id AND c.therapist_id = a.therapist_id
                      AND c.started_on <= a.starts_on AND c.ended_on >= a.starts_on
                      AND c.ended_on <= current_date)
           FROM assignments a WHERE a.id = ? AND a.client_id = ?""",
        [assignment_id, principal.user_id],
    ).fetchone()
    if row is None:
        deny(cur, principal, action, detail=f"assignment {assignment_id}")
    return row


def _check_attempt(
    status: str, minutes: object, helpfulness: object, difficulty: object, note: str | None
) -> dict[str, str]:
    return validation.errors_of(
        status=None if status in CREDIT else "Choose done, partly done or not done.",
        minutes=validation.check_whole_number(minutes, 0, validation.MAX_MINUTES, "Minutes"),
        helpfulness=validation.check_whole_number(helpfulness, 1, 5, "Helpfulness"),
        difficulty=validation.check_whole_number(difficulty, 1, 5, "Difficulty"),
        note=validation.check_note(note),
    )


@allowed_roles("client")
def log_homework(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    assignment_id: int,
    log_date: date,
    status: str,
    minutes: int | None = None,
    helpfulness: int | None = None,
    difficulty: int | None = None,
    note: str | None = None,
    submission_id: str | None = None,
) -> int:
    """Record the client's attempt at one of their own assignments; return the log's id.

    Limited to the principal's own assignments (AccessDenied otherwise). Raises
    InvalidInput (nothing written) for a date in the future or over 7 days back, a
    date outside the assignment or after the client's discharge, minutes outside 0-600, ratings outside 1-5 or a note
    over 2,000 characters. A repeated `submission_id` (a double click) writes nothing
    and returns the first log's id.
    """
    today = date.today()
    starts_on, last_day, care_ended_on = _require_own_assignment(cur, principal, assignment_id, "log_homework")
    errors = validation.errors_of(log_date=validation.check_entry_date(log_date, today))
    errors |= _check_attempt(status, minutes, helpfulness, difficulty, note)
    if "log_date" not in errors and care_ended_on is not None and log_date > care_ended_on:
        errors["assignment_id"] = (
            f"Your care with the therapist who set this homework ended on "
            f"{care_ended_on:%d %b %Y}: it cannot be logged after that day."
        )
    elif "log_date" not in errors and not (starts_on <= log_date <= (last_day or log_date)):
        errors["assignment_id"] = "This homework is not active on that date."
    validation.raise_if_any(errors)

    def insert(cur: duckdb.DuckDBPyConnection) -> int:
        (log_id,) = db.one_row(
            cur.execute(
                """INSERT INTO homework_logs (assignment_id, client_id, log_date, status, minutes,
                                          helpfulness, difficulty, note, submission_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                [
                    assignment_id,
                    principal.user_id,
                    log_date,
                    status,
                    minutes,
                    helpfulness,
                    difficulty,
                    note or None,
                    submission_id,
                ],
            )
        )
        audit.record_event(
            cur, principal, "log_homework", client_id=principal.user_id, record_kind="homework_log", record_id=log_id
        )
        return log_id

    return db.write_once(cur, "homework_logs", principal.user_id, submission_id, insert)


@allowed_roles("client", "therapist")
def list_homework_logs(
    cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int, since: date
) -> pd.DataFrame:
    """Return the client's homework logs dated from `since`, newest first.

    Limited to a client in the principal's scope (AccessDenied otherwise). Columns:
    homework_log_id, log_date, assignment, category, status, minutes, helpfulness,
    difficulty, note, created_at, editable (the client may still change it: made in
    the last 7 days).
    """
    require_client(cur, principal, client_id, "view_homework_logs")
    sql = f"""
        SELECT h.id AS homework_log_id, h.log_date, a.title AS assignment, a.category, h.status,
               h.minutes, h.helpfulness, h.difficulty, h.note, h.created_at,
               h.created_at >= now() - INTERVAL {EDIT_DAYS} DAY AS editable
        FROM homework_logs h JOIN assignments a ON a.id = h.assignment_id
        WHERE h.client_id = $client_id AND h.log_date >= $since
          AND h.client_id IN ({client_scope(principal)})
        ORDER BY h.log_date DESC, h.created_at DESC
    """
    return cur.execute(sql, scope_parameters(principal, client_id=client_id, since=since)).df()


@allowed_roles("client")
def update_homework_log(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    homework_log_id: int,
    status: str,
    minutes: int | None = None,
    helpfulness: int | None = None,
    difficulty: int | None = None,
    note: str | None = None,
) -> None:
    """Change one of the client's own homework logs made in the last 7 days.

    Limited to the principal's own logs (AccessDenied otherwise); InvalidInput as for
    log_homework, or when the log is older than 7 days.
    """
    require_own_recent_entry(cur, principal, "homework_logs", homework_log_id, "update_homework_log")
    validation.raise_if_any(_check_attempt(status, minutes, helpfulness, difficulty, note))

    def update(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute(
            """UPDATE homework_logs SET status = ?, minutes = ?, helpfulness = ?, difficulty = ?,
                                        note = ?, updated_at = now()
               WHERE id = ? AND client_id = ?""",
            [status, minutes, helpfulness, difficulty, note or None, homework_log_id, principal.user_id],
        )
        audit.record_event(
            cur,
            principal,
            "update_homework_log",
            client_id=principal.user_id,
            record_kind="homework_log",
            record_id=homework_log_id,
        )

    db.write(cur, update)


@allowed_roles("client")
def delete_homework_log(cur: duckdb.DuckDBPyConnection, principal: Principal, *, homework_log_id: int) -> None:
    """Delete one of the client's own homework logs made in the last 7 days (audited)."""
    require_own_recent_entry(cur, principal, "homework_logs", homework_log_id, "delete_homework_log")

    def delete(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute("DELETE FROM homework_logs WHERE id = ? AND client_id = ?", [homework_log_id, principal.user_id])
        audit.record_event(
            cur,
            principal,
            "delete_homework_log",
            client_id=principal.user_id,
            record_kind="homework_log",
            record_id=homework_log_id,
        )

    db.write(cur, delete)


def _check_assignment(
    title: str,
    category: str,
    instructions: str | None,
    schedule: str,
    times_per_week: object,
    due_on: date | None,
    starts_on: date | None,
    ends_on: date | None,
    new: bool,
) -> dict[str, str]:
    today = date.today()
    errors = validation.errors_of(
        title=validation.check_title(title),
        category=None if category in CATEGORIES else "Choose a category.",
        instructions=validation.check_note(instructions),
        schedule=None if schedule in ("weekly", "once") else "Choose a weekly schedule or once.",
        starts_on=None if starts_on else "Choose a start date.",
    )
    if schedule == "weekly":
        errors |= validation.errors_of(
            times_per_week=(
                "Choose how many times a week: 1 to 14."
                if times_per_week is None
                else validation.check_whole_number(times_per_week, 1, 14, "Times per week")
            )
        )
    if schedule == "once":
        if due_on is None:
            errors["due_on"] = "Choose the due date."
        elif new and due_on < today:
            errors["due_on"] = "The due date of new homework cannot be in the past."
        elif starts_on and due_on < starts_on:
            errors["due_on"] = "The due date cannot be before the start."
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = "The end cannot be before the start."
    return errors


def _assignment_values(
    schedule: str, times_per_week: int | None, due_on: date | None
) -> tuple[int | None, date | None]:
    """A schedule keeps only its own fields (the schema requires it)."""
    return (times_per_week, None) if schedule == "weekly" else (None, due_on)


# The assignment's schedule as its row now holds it, as the version in force from today. Two changes
# on one day make one version: the later one replaces the earlier.
_CURRENT_VERSION_SQL = """
    INSERT INTO assignment_schedules (assignment_id, valid_from, schedule, times_per_week, due_on, starts_on,
                                      ends_on)
    SELECT id, current_date, schedule, times_per_week, due_on, starts_on, ends_on
    FROM assignments WHERE id = ?
    ON CONFLICT (assignment_id, valid_from) DO UPDATE SET
        schedule = excluded.schedule, times_per_week = excluded.times_per_week, due_on = excluded.due_on,
        starts_on = excluded.starts_on, ends_on = excluded.ends_on, created_at = excluded.created_at
"""


def _change_schedule(
    cur: duckdb.DuckDBPyConnection, assignment_id: int, change_sql: str, parameters: list[Any]
) -> None:
    """Run `change_sql` (an UPDATE of the assignment's row) and keep the schedule's history.

    docs/clinical-rules.md: a change of schedule applies from the day of the change and past
    weeks keep the schedule they had. The version in force until now stays; the row's new
    values become the version in force from today, unless they equal the version before
    today (a change of title only, or a change undone the same day: no new version).
    An assignment written without a version (before versions existed, or by hand) first gets
    one from its row as it was, set on the day it was created.
    """
    cur.execute(
        """INSERT INTO assignment_schedules (assignment_id, valid_from, schedule, times_per_week, due_on,
                                             starts_on, ends_on, created_at)
           SELECT id, least(CAST(created_at AS DATE), current_date), schedule, times_per_week, due_on,
                  starts_on, ends_on, created_at
           FROM assignments a
           WHERE id = ? AND NOT EXISTS (SELECT 1 FROM assignment_schedules v WHERE v.assignment_id = a.id)""",
        [assignment_id],
    )
    cur.execute(change_sql, parameters)
    cur.execute(_CURRENT_VERSION_SQL, [assignment_id])
    cur.execute(
        """DELETE FROM assignment_schedules t
           WHERE t.assignment_id = ? AND t.valid_from = current_date
             AND EXISTS (
                 SELECT 1 FROM assignment_schedules p
                 WHERE p.assignment_id = t.assignment_id
                   AND p.valid_from = (SELECT max(q.valid_from) FROM assignment_schedules q
                                       WHERE q.assignment_id = t.assignment_id AND q.valid_from < current_date)
                   AND p.schedule = t.schedule
                   AND p.times_per_week IS NOT DISTINCT FROM t.times_per_week
                   AND p.due_on IS NOT DISTINCT FROM t.due_on
                   AND p.starts_on = t.starts_on
                   AND p.ends_on IS NOT DISTINCT FROM t.ends_on)""",
        [assignment_id],
    )


@allowed_roles("therapist")
def create_assignment(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    client_id: int,
    title: str,
    category: str,
    schedule: str,
    starts_on: date,
    instructions: str = "",
    times_per_week: int | None = None,
    due_on: date | None = None,
    ends_on: date | None = None,
) -> int:
    """Set new homework for a client in the therapist's current caseload; return its id.

    Limited to the principal's current clients (AccessDenied otherwise). Raises
    InvalidInput (nothing written) for no title, times per week outside 1-14, an end
    before the start, or a due date in the past.
    """
    require_client(cur, principal, client_id, "create_assignment")
    validation.raise_if_any(
        _check_assignment(title, category, instructions, schedule, times_per_week, due_on, starts_on, ends_on, new=True)
    )
    times_per_week, due_on = _assignment_values(schedule, times_per_week, due_on)

    def insert(cur: duckdb.DuckDBPyConnection) -> int:
        (assignment_id,) = db.one_row(
            cur.execute(
                """INSERT INTO assignments (client_id, therapist_id, title, category, instructions, schedule,
                                        times_per_week, due_on, starts_on, ends_on)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                [
                    client_id,
                    principal.user_id,
                    title.strip(),
                    category,
                    instructions or "",
                    schedule,
                    times_per_week,
                    due_on,
                    starts_on,
                    ends_on,
                ],
            )
        )
        # Its first schedule version, set today (it also covers any days before, from its start).
        cur.execute(_CURRENT_VERSION_SQL, [assignment_id])
        audit.record_event(
            cur, principal, "create_assignment", client_id=client_id, record_kind="assignment", record_id=assignment_id
        )
        return assignment_id

    return db.write(cur, insert)


def _require_caseload_assignment(
    cur: duckdb.DuckDBPyConnection, principal: Principal, assignment_id: int, action: str
) -> int:
    """Return the client id of an assignment of one of the therapist's current clients, or deny."""
    sql = f"SELECT client_id FROM assignments WHERE id = $assignment_id AND client_id IN ({client_scope(principal)})"
    row = cur.execute(sql, scope_parameters(principal, assignment_id=assignment_id)).fetchone()
    if row is None:
        deny(cur, principal, action, detail=f"assignment {assignment_id}")
    return row[0]


@allowed_roles("therapist")
def update_assignment(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    assignment_id: int,
    title: str,
    category: str,
    schedule: str,
    starts_on: date,
    instructions: str = "",
    times_per_week: int | None = None,
    due_on: date | None = None,
    ends_on: date | None = None,
) -> None:
    """Change an assignment of a client in the therapist's current caseload.

    Limited to the principal's current clients (AccessDenied otherwise); InvalidInput
    as for create_assignment, except that an existing due date may lie in the past.
    A change of schedule (schedule, times per week, dates) applies from today: past days
    keep the schedule version they had (docs/clinical-rules.md); two changes on one day
    make one version.
    """
    client_id = _require_caseload_assignment(cur, principal, assignment_id, "update_assignment")
    validation.raise_if_any(
        _check_assignment(
            title, category, instructions, schedule, times_per_week, due_on, starts_on, ends_on, new=False
        )
    )
    times_per_week, due_on = _assignment_values(schedule, times_per_week, due_on)

    def update(cur: duckdb.DuckDBPyConnection) -> None:
        _change_schedule(
            cur,
            assignment_id,
            """UPDATE assignments SET title = ?, category = ?, instructions = ?, schedule = ?,
                   times_per_week = ?, due_on = ?, starts_on = ?, ends_on = ?
               WHERE id = ?""",
            [
                title.strip(),
                category,
                instructions or "",
                schedule,
                times_per_week,
                due_on,
                starts_on,
                ends_on,
                assignment_id,
            ],
        )
        audit.record_event(
            cur, principal, "update_assignment", client_id=client_id, record_kind="assignment", record_id=assignment_id
        )

    db.write(cur, update)


@allowed_roles("therapist")
def end_assignment(cur: duckdb.DuckDBPyConnection, principal: Principal, *, assignment_id: int) -> None:
    """End an assignment early: today is its last day. Limited to the therapist's current clients.

    Like any change of schedule it applies from today: past days keep the version they had.
    An end or due date that has already passed stays (ending never makes homework longer).
    """
    client_id = _require_caseload_assignment(cur, principal, assignment_id, "end_assignment")

    def update(cur: duckdb.DuckDBPyConnection) -> None:
        _change_schedule(
            cur,
            assignment_id,
            """UPDATE assignments
               SET ends_on = least(coalesce(ends_on, due_on, current_date), greatest(starts_on, current_date))
               WHERE id = ?""",
            [assignment_id],
        )
        audit.record_event(
            cur, principal, "end_assignment", client_id=client_id, record_kind="assignment", record_id=assignment_id
        )

    db.write(cur, update)


@allowed_roles("client", "therapist")
def list_assignments(cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int) -> pd.DataFrame:
    """Return all the client's assignments, current ones first, with mean helpfulness.

    Limited to a client in the principal's scope (AccessDenied otherwise). Columns:
    assignment_id, title, category, instructions, schedule, times_per_week, due_on,
    starts_on, ends_on, active (in force today), logs, mean_helpfulness.
    """
    require_client(cur, principal, client_id, "view_assignments")
    sql = f"""
        SELECT a.id AS assignment_id, a.title, a.category, a.instructions, a.schedule, a.times_per_week,
               a.due_on, a.starts_on, a.ends_on,
               a.starts_on <= current_date
                   AND coalesce(a.ends_on, a.due_on, DATE '9999-12-31') >= current_date AS active,
               count(h.id) AS logs, avg(h.helpfulness) AS mean_helpfulness
        FROM assignments a LEFT JOIN homework_logs h ON h.assignment_id = a.id
        WHERE a.client_id = $client_id AND a.client_id IN ({client_scope(principal)})
        GROUP BY a.id, a.title, a.category, a.instructions, a.schedule, a.times_per_week, a.due_on,
                 a.starts_on, a.ends_on
        ORDER BY active DESC, a.starts_on DESC, a.title
    """
    return cur.execute(sql, scope_parameters(principal, client_id=client_id)).df()
