"""Homework assignments and the client's logs of them."""
from datetime import date

from clinical.homework import CREDIT
from data_layer import audit, db, validation
from data_layer.access import (EDIT_DAYS, allowed_roles, client_scope, deny, require_client,
                               require_own_recent_entry, scope_parameters)


@allowed_roles("client", "therapist")
def list_active_assignments(cur, principal, *, client_id):
    """Return the client's assignments that are in force today, with this week's logs.

    Limited to a client in the principal's scope (the client themself, or their
    current therapist); anyone else gets AccessDenied. Columns: assignment_id, title,
    category, instructions, schedule, times_per_week, due_on, starts_on, ends_on,
    done_this_week (credits logged since Monday: done 1, partly 0.5).
    """
    require_client(cur, principal, client_id, "view_assignments")
    sql = f"""
        WITH scope AS ({client_scope(principal)})
        SELECT a.id AS assignment_id, a.title, a.category, a.instructions, a.schedule,
               a.times_per_week, a.due_on, a.starts_on, a.ends_on,
               coalesce(sum(CASE h.status WHEN 'done' THEN 1.0 WHEN 'partly' THEN 0.5 ELSE 0 END), 0)
                   AS done_this_week
        FROM assignments a
        LEFT JOIN homework_logs h ON h.assignment_id = a.id
             AND h.log_date >= CAST(date_trunc('week', current_date) AS DATE)
        WHERE a.client_id = $client_id AND a.client_id IN (SELECT client_id FROM scope)
          AND a.starts_on <= current_date
          AND coalesce(a.ends_on, a.due_on, DATE '9999-12-31') >= current_date
        GROUP BY ALL
        ORDER BY a.starts_on, a.title
    """
    return cur.execute(sql, scope_parameters(principal, client_id=client_id)).df()


def _require_own_assignment(cur, principal, assignment_id, action):
    """Return (starts_on, last_day) of the principal's own assignment, or deny (audited)."""
    row = cur.execute(
        """SELECT starts_on, coalesce(ends_on, due_on) FROM assignments
           WHERE id = ? AND client_id = ?""",
        [assignment_id, principal.user_id],
    ).fetchone()
    if row is None:
        deny(cur, principal, action, detail=f"assignment {assignment_id}")
    return row


def _check_attempt(status, minutes, helpfulness, difficulty, note):
    return validation.errors_of(
        status=None if status in CREDIT else "Choose done, partly done or not done.",
        minutes=validation.check_whole_number(minutes, 0, validation.MAX_MINUTES, "Minutes"),
        helpfulness=validation.check_whole_number(helpfulness, 1, 5, "Helpfulness"),
        difficulty=validation.check_whole_number(difficulty, 1, 5, "Difficulty"),
        note=validation.check_note(note),
    )


@allowed_roles("client")
def log_homework(cur, principal, *, assignment_id, log_date, status, minutes=None,
                 helpfulness=None, difficulty=None, note=None, submission_id=None):
    """Record the client's attempt at one of their own assignments; return the log's id.

    Limited to the principal's own assignments (AccessDenied otherwise). Raises
    InvalidInput (nothing written) for a date in the future or over 7 days back, a
    date outside the assignment, minutes outside 0-600, ratings outside 1-5 or a note
    over 2,000 characters. A repeated `submission_id` (a double click) writes nothing
    and returns the first log's id.
    """
    today = date.today()
    starts_on, last_day = _require_own_assignment(cur, principal, assignment_id, "log_homework")
    errors = validation.errors_of(log_date=validation.check_entry_date(log_date, today))
    errors |= _check_attempt(status, minutes, helpfulness, difficulty, note)
    if "log_date" not in errors and not (starts_on <= log_date <= (last_day or log_date)):
        errors["assignment_id"] = "This homework is not active on that date."
    validation.raise_if_any(errors)

    def insert(cur):
        if submission_id:
            existing = cur.execute(
                "SELECT id FROM homework_logs WHERE client_id = ? AND submission_id = ?",
                [principal.user_id, submission_id],
            ).fetchone()
            if existing:
                return existing[0]
        (log_id,) = cur.execute(
            """INSERT INTO homework_logs (assignment_id, client_id, log_date, status, minutes,
                                          helpfulness, difficulty, note, submission_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            [assignment_id, principal.user_id, log_date, status, minutes, helpfulness,
             difficulty, note or None, submission_id],
        ).fetchone()
        audit.record_event(cur, principal, "log_homework", client_id=principal.user_id,
                           record_kind="homework_log", record_id=log_id)
        return log_id

    return db.write(cur, insert)


@allowed_roles("client", "therapist")
def list_homework_logs(cur, principal, *, client_id, since):
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
def update_homework_log(cur, principal, *, homework_log_id, status, minutes=None,
                        helpfulness=None, difficulty=None, note=None):
    """Change one of the client's own homework logs made in the last 7 days.

    Limited to the principal's own logs (AccessDenied otherwise); InvalidInput as for
    log_homework, or when the log is older than 7 days.
    """
    require_own_recent_entry(cur, principal, "homework_logs", homework_log_id, "update_homework_log")
    validation.raise_if_any(_check_attempt(status, minutes, helpfulness, difficulty, note))

    def update(cur):
        cur.execute(
            """UPDATE homework_logs SET status = ?, minutes = ?, helpfulness = ?, difficulty = ?,
                                        note = ?, updated_at = now()
               WHERE id = ? AND client_id = ?""",
            [status, minutes, helpfulness, difficulty, note or None, homework_log_id, principal.user_id],
        )
        audit.record_event(cur, principal, "update_homework_log", client_id=principal.user_id,
                           record_kind="homework_log", record_id=homework_log_id)

    db.write(cur, update)


@allowed_roles("client")
def delete_homework_log(cur, principal, *, homework_log_id):
    """Delete one of the client's own homework logs made in the last 7 days (audited)."""
    require_own_recent_entry(cur, principal, "homework_logs", homework_log_id, "delete_homework_log")

    def delete(cur):
        cur.execute("DELETE FROM homework_logs WHERE id = ? AND client_id = ?",
                    [homework_log_id, principal.user_id])
        audit.record_event(cur, principal, "delete_homework_log", client_id=principal.user_id,
                           record_kind="homework_log", record_id=homework_log_id)

    db.write(cur, delete)
