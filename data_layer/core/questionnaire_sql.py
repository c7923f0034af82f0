"""When a client's next questionnaire is due, as SQL: the one rule that the client's pages
(data_layer.measures.questionnaire_schedule) and the reminders (ops.scheduler) both read."""

from data_layer.core.access import current_link

# How often PHQ-9 and GAD-7 are asked when the client has no episode in force (weekly).
DEFAULT_EVERY_DAYS = 7


def questionnaire_due_sql(clients: str) -> str:
    """Return SQL selecting, for each row of `clients` (SQL selecting client_id BIGINT and day DATE),
    one row per instrument (PHQ-9, GAD-7): client_id, day, instrument, last_taken (DATE or NULL)
    and next_due (DATE).

    next_due is the last one taken plus the cadence (caseload.questionnaire_every_days of the
    episode in force on `day`, weekly without one); an instrument never taken is due on `day`.
    A building block, not a query of its own: it reads the questionnaires of the clients in
    `clients` only, so the caller scopes them there. Joins, not a subquery per client: the
    scheduler asks it for every client with reminders on at each tick.
    """
    return f"""
        WITH k AS ({clients}),
        every AS (
            SELECT k.client_id, max(c.questionnaire_every_days) AS days
            FROM k JOIN caseload c ON c.client_id = k.client_id AND {current_link("c", "k.day")}
            GROUP BY k.client_id
        ),
        taken AS (
            SELECT k.client_id, q.instrument, max(q.taken_on) AS last_taken
            FROM k JOIN questionnaires q ON q.client_id = k.client_id
            GROUP BY k.client_id, q.instrument
        )
        SELECT k.client_id, k.day, i.instrument, t.last_taken,
               coalesce(t.last_taken + coalesce(e.days, {DEFAULT_EVERY_DAYS}), k.day) AS next_due
        FROM k
        CROSS JOIN (VALUES ('PHQ-9'), ('GAD-7')) AS i(instrument)
        LEFT JOIN taken t ON t.client_id = k.client_id AND t.instrument = i.instrument
        LEFT JOIN every e ON e.client_id = k.client_id"""
