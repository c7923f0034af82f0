"""When a client's next questionnaire is due, as SQL: the one rule that the client's pages
(data_layer.measures.questionnaire_schedule) and the reminders (ops.scheduler) both read."""

from data_layer.core.access import current_link

# How often PHQ-9 and GAD-7 are asked when the client has no episode in force (weekly).
DEFAULT_EVERY_DAYS = 7


def questionnaire_due_sql(client_id: str, day: str) -> str:
    """Return SQL selecting, for the client `client_id` (SQL for a BIGINT, e.g. a parameter or a
    column of an outer query) on `day` (SQL for a DATE), one row per instrument (PHQ-9, GAD-7):
    instrument, last_taken (DATE or NULL) and next_due (DATE).

    next_due is the last one taken plus the cadence (caseload.questionnaire_every_days of the
    episode in force on `day`, weekly without one); an instrument never taken is due on `day`.
    A building block, not a query of its own: it reads every questionnaire of the client, so
    the caller scopes it.
    """
    return f"""
        SELECT i.instrument, max(q.taken_on) AS last_taken,
               coalesce(max(q.taken_on) + every.days, {day}) AS next_due
        FROM (VALUES ('PHQ-9'), ('GAD-7')) AS i(instrument)
        CROSS JOIN (SELECT coalesce(max(c.questionnaire_every_days), {DEFAULT_EVERY_DAYS}) AS days
                    FROM caseload c WHERE c.client_id = {client_id} AND {current_link("c", day)}) AS every
        LEFT JOIN questionnaires q ON q.instrument = i.instrument AND q.client_id = {client_id}
        GROUP BY i.instrument, every.days"""
