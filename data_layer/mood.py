"""Daily mood check-ins (0-10, higher is better) with optional anxiety and a note."""

from datetime import date

import duckdb
import pandas as pd

from data_layer.core import audit, db, validation
from data_layer.core.access import (
    EDIT_DAYS,
    Principal,
    allowed_roles,
    client_scope,
    require_client,
    require_own_recent_entry,
    scope_parameters,
)


def _check_mood(mood: object, anxiety: object, note: str | None) -> dict[str, str]:
    return validation.errors_of(
        mood=("Choose your mood from 0 to 10." if mood is None else validation.check_whole_number(mood, 0, 10, "Mood")),
        anxiety=validation.check_whole_number(anxiety, 0, 10, "Anxiety"),
        note=validation.check_note(note),
    )


@allowed_roles("client")
def log_mood(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    log_date: date,
    mood: int,
    anxiety: int | None = None,
    note: str | None = None,
    submission_id: str | None = None,
) -> int:
    """Record the client's own mood for a day; return the log's id.

    Limited to the principal themself. Raises InvalidInput (nothing written) for a
    mood or anxiety outside 0-10, a date in the future or over 7 days back, or a note
    over 2,000 characters. A repeated `submission_id` writes nothing and returns the
    first log's id.
    """
    errors = validation.errors_of(log_date=validation.check_entry_date(log_date, date.today()))
    validation.raise_if_any(errors | _check_mood(mood, anxiety, note))

    def insert(cur: duckdb.DuckDBPyConnection) -> int:
        (log_id,) = db.one_row(
            cur.execute(
                """INSERT INTO mood_logs (client_id, log_date, mood, anxiety, note, submission_id)
               VALUES (?, ?, ?, ?, ?, ?) RETURNING id""",
                [principal.user_id, log_date, mood, anxiety, note or None, submission_id],
            )
        )
        audit.record_event(
            cur, principal, "log_mood", client_id=principal.user_id, record_kind="mood_log", record_id=log_id
        )
        return log_id

    return db.write_once(cur, "mood_logs", principal.user_id, submission_id, insert)


@allowed_roles("client")
def update_mood_log(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    mood_log_id: int,
    mood: int,
    anxiety: int | None = None,
    note: str | None = None,
) -> None:
    """Change one of the client's own mood logs made in the last 7 days.

    Limited to the principal's own logs (AccessDenied otherwise); InvalidInput as for log_mood.
    """
    require_own_recent_entry(cur, principal, "mood_logs", mood_log_id, "update_mood_log")
    validation.raise_if_any(_check_mood(mood, anxiety, note))

    def update(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute(
            """UPDATE mood_logs SET mood = ?, anxiety = ?, note = ?, updated_at = now()
                       WHERE id = ? AND client_id = ?""",
            [mood, anxiety, note or None, mood_log_id, principal.user_id],
        )
        audit.record_event(
            cur,
            principal,
            "update_mood_log",
            client_id=principal.user_id,
            record_kind="mood_log",
            record_id=mood_log_id,
        )

    db.write(cur, update)


@allowed_roles("client")
def delete_mood_log(cur: duckdb.DuckDBPyConnection, principal: Principal, *, mood_log_id: int) -> None:
    """Delete one of the client's own mood logs made in the last 7 days (audited)."""
    require_own_recent_entry(cur, principal, "mood_logs", mood_log_id, "delete_mood_log")

    def delete(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute("DELETE FROM mood_logs WHERE id = ? AND client_id = ?", [mood_log_id, principal.user_id])
        audit.record_event(
            cur,
            principal,
            "delete_mood_log",
            client_id=principal.user_id,
            record_kind="mood_log",
            record_id=mood_log_id,
        )

    db.write(cur, delete)


@allowed_roles("client", "therapist")
def list_mood_logs(
    cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int, since: date
) -> pd.DataFrame:
    """Return the client's mood logs dated from `since`, newest first.

    Limited to a client in the principal's scope (AccessDenied otherwise). Columns:
    mood_log_id, log_date, mood, anxiety, note, created_at, editable.
    """
    require_client(cur, principal, client_id, "view_mood_logs")
    sql = f"""
        SELECT id AS mood_log_id, log_date, mood, anxiety, note, created_at,
               created_at >= now() - INTERVAL {EDIT_DAYS} DAY AS editable
        FROM mood_logs
        WHERE client_id = $client_id AND log_date >= $since
          AND client_id IN ({client_scope(principal)})
        ORDER BY log_date DESC, created_at DESC
    """
    return cur.execute(sql, scope_parameters(principal, client_id=client_id, since=since)).df()


@allowed_roles("client", "therapist")
def daily_mood(cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int, since: date) -> pd.DataFrame:
    """Return the client's mood per day from `since`, with the mean of the trailing 7 days.

    Limited to a client in the principal's scope (AccessDenied otherwise). Columns:
    log_date, mood (that day's mean), anxiety (that day's mean, NaN if none), mood_7day
    (mean of the days logged in the 7 days up to that day).
    """
    require_client(cur, principal, client_id, "view_mood")
    sql = f"""
        WITH days AS (
            SELECT log_date, avg(mood) AS mood, avg(anxiety) AS anxiety
            FROM mood_logs
            WHERE client_id = $client_id AND log_date >= CAST($since AS DATE) - 6
              AND client_id IN ({client_scope(principal)})
            GROUP BY log_date
        )
        SELECT log_date, mood, anxiety,
               avg(mood) OVER (ORDER BY log_date RANGE BETWEEN INTERVAL 6 DAY PRECEDING
                               AND CURRENT ROW) AS mood_7day
        FROM days
        QUALIFY log_date >= $since
        ORDER BY log_date
    """
    return cur.execute(sql, scope_parameters(principal, client_id=client_id, since=since)).df()
