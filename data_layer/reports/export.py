"""A client's whole record in one readable table, for the therapist's CSV export."""

import duckdb
import pandas as pd

from clinical.homework import CATEGORIES
from data_layer.core.access import Principal, allowed_roles, client_scope, require_client, scope_parameters

STATUS_WORDS = "CASE h.status WHEN 'done' THEN 'done' WHEN 'partly' THEN 'partly done' ELSE 'not done' END"


@allowed_roles("therapist")
def export_client_record(cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int) -> pd.DataFrame:
    """Return every homework assignment, homework log, mood log, questionnaire, session and
    break of the client as rows of one DataFrame with readable column names, oldest first.

    Limited to the principal's current clients (AccessDenied otherwise; audited as an export).
    Columns: Record, Date, Homework, Category, Status, Minutes, Helpfulness (1-5),
    Difficulty (1-5), Mood (0-10), Anxiety (0-10), Questionnaire, Total, Item answers,
    Attended, Note. No internal ids.
    """
    require_client(cur, principal, client_id, "export_client_record")
    scope = client_scope(principal)
    sql = f"""
        SELECT 'Homework assignment' AS "Record", a.starts_on AS "Date", a.title AS "Homework",
               a.category AS "Category",
               CASE WHEN a.schedule = 'once' THEN 'once, due ' || strftime(a.due_on, '%Y-%m-%d')
                    ELSE a.times_per_week || ' per week' END
                 || CASE WHEN a.ends_on IS NULL THEN '' ELSE ', until ' || strftime(a.ends_on, '%Y-%m-%d') END
                 AS "Status",
               -- Typed NULLs: PostgreSQL takes a UNION's column types from its first SELECT.
               CAST(NULL AS INTEGER) AS "Minutes", CAST(NULL AS INTEGER) AS "Helpfulness (1-5)",
               CAST(NULL AS INTEGER) AS "Difficulty (1-5)", CAST(NULL AS INTEGER) AS "Mood (0-10)",
               CAST(NULL AS INTEGER) AS "Anxiety (0-10)", CAST(NULL AS VARCHAR) AS "Questionnaire",
               CAST(NULL AS INTEGER) AS "Total", CAST(NULL AS VARCHAR) AS "Item answers",
               CAST(NULL AS VARCHAR) AS "Attended", a.instructions AS "Note"
        FROM assignments a WHERE a.client_id = $client_id AND a.client_id IN ({scope})
        UNION ALL
        SELECT 'Homework log', h.log_date, a.title, a.category, {STATUS_WORDS}, h.minutes, h.helpfulness,
               h.difficulty, NULL, NULL, NULL, NULL, NULL, NULL, h.note
        FROM homework_logs h JOIN assignments a ON a.id = h.assignment_id
        WHERE h.client_id = $client_id AND h.client_id IN ({scope})
        UNION ALL
        SELECT 'Mood', m.log_date, NULL, NULL, NULL, NULL, NULL, NULL, m.mood, m.anxiety, NULL, NULL, NULL,
               NULL, m.note
        FROM mood_logs m WHERE m.client_id = $client_id AND m.client_id IN ({scope})
        UNION ALL
        SELECT 'Questionnaire', q.taken_on, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, q.instrument,
               q.total,
               concat_ws(' ', q.item_1, q.item_2, q.item_3, q.item_4, q.item_5, q.item_6, q.item_7,
                         q.item_8, q.item_9),
               NULL, NULL
        FROM questionnaires q WHERE q.client_id = $client_id AND q.client_id IN ({scope})
        UNION ALL
        SELECT 'Therapy session', s.session_date, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, CASE WHEN s.attended THEN 'yes' ELSE 'no' END, NULL
        FROM therapy_sessions s WHERE s.client_id = $client_id AND s.client_id IN ({scope})
        UNION ALL
        SELECT 'Break', p.starts_on, NULL, NULL, 'until ' || strftime(p.ends_on, '%Y-%m-%d'), NULL, NULL,
               NULL, NULL, NULL, NULL, NULL, NULL, NULL, p.reason
        FROM paused_periods p WHERE p.client_id = $client_id AND p.client_id IN ({scope})
        ORDER BY "Date", "Record"
    """
    frame = cur.execute(sql, scope_parameters(principal, client_id=client_id)).df()
    frame["Category"] = frame["Category"].map(CATEGORIES)
    return frame
