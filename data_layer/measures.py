"""Questionnaires (PHQ-9, GAD-7) and the risk flags that PHQ-9 item 9 raises."""
from dataclasses import dataclass
from datetime import date, timedelta

from clinical import instruments
from data_layer import audit, db, validation
from data_layer.access import (allowed_roles, client_scope, current_link, deny, require_client,
                               scope_parameters)


@dataclass(frozen=True)
class QuestionnaireResult:
    """What the client is told after submitting: the total, its band, and whether risk was flagged."""

    questionnaire_id: int
    instrument: str
    total: int
    band: str
    risk_flag_raised: bool


def _check_answers(instrument, answers, difficulty):
    if instrument not in instruments.ITEMS:
        raise validation.InvalidInput({"instrument": "Choose PHQ-9 or GAD-7."})
    expected = len(instruments.ITEMS[instrument])
    answers = list(answers) + [None] * (expected - len(answers))
    errors = {f"item_{number}": "Please answer this question."
              for number, answer in enumerate(answers[:expected], start=1)
              if answer not in instruments.ANSWERS}
    if len(answers) > expected:
        errors["instrument"] = f"{instrument} has {expected} questions."
    if difficulty is not None and (instrument != "PHQ-9" or difficulty not in instruments.ANSWERS):
        errors["difficulty"] = "Choose one of the four answers, or leave it out."
    validation.raise_if_any(errors)
    return answers


@allowed_roles("client")
def submit_questionnaire(cur, principal, *, instrument, answers, difficulty=None, submission_id=None):
    """Store the client's own PHQ-9 or GAD-7, dated today; return a QuestionnaireResult.

    Limited to the principal themself. Every item must be answered 0-3 (InvalidInput
    naming each missing item otherwise; nothing is stored). A PHQ-9 with item 9 above
    0 raises a risk flag for the client's current therapist, whatever the total. A
    repeated `submission_id` stores nothing twice.
    """
    answers = _check_answers(instrument, answers, difficulty)
    total = instruments.score(instrument, answers)
    risk = instruments.raises_risk_flag(instrument, answers)
    items = answers + [None] * (9 - len(answers))

    def insert(cur):
        (questionnaire_id,) = cur.execute(
            """INSERT INTO questionnaires (client_id, instrument, taken_on, item_1, item_2, item_3,
                   item_4, item_5, item_6, item_7, item_8, item_9, difficulty, total, submission_id)
               VALUES (?, ?, current_date, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            [principal.user_id, instrument, *items, difficulty, total, submission_id],
        ).fetchone()
        audit.record_event(cur, principal, "submit_questionnaire", client_id=principal.user_id,
                           record_kind="questionnaire", record_id=questionnaire_id)
        if risk:
            (flag_id,) = cur.execute(
                f"""INSERT INTO risk_flags (client_id, therapist_id, questionnaire_id, item_9_answer)
                    VALUES (?, (SELECT max(therapist_id) FROM caseload c
                                WHERE c.client_id = ? AND {current_link('c')}), ?, ?)
                    RETURNING id""",
                [principal.user_id, principal.user_id, questionnaire_id, items[8]],
            ).fetchone()
            audit.record_event(cur, principal, "raise_risk_flag", client_id=principal.user_id,
                               record_kind="risk_flag", record_id=flag_id)
        return questionnaire_id

    questionnaire_id = db.write_once(cur, "questionnaires", principal.user_id, submission_id, insert)
    return QuestionnaireResult(questionnaire_id, instrument, total,
                               instruments.band(instrument, total), risk)


@allowed_roles("client", "therapist")
def list_questionnaires(cur, principal, *, client_id):
    """Return the client's questionnaires, newest first, with their severity band.

    Limited to a client in the principal's scope (AccessDenied otherwise). Columns:
    questionnaire_id, instrument, taken_on, total, band, item_1..item_9, difficulty.
    """
    require_client(cur, principal, client_id, "view_questionnaires")
    sql = f"""
        SELECT id AS questionnaire_id, instrument, taken_on, total,
               item_1, item_2, item_3, item_4, item_5, item_6, item_7, item_8, item_9, difficulty
        FROM questionnaires
        WHERE client_id = $client_id AND client_id IN ({client_scope(principal)})
        ORDER BY taken_on DESC, created_at DESC
    """
    frame = cur.execute(sql, scope_parameters(principal, client_id=client_id)).df()
    frame.insert(4, "band", [instruments.band(name, total)
                             for name, total in zip(frame["instrument"], frame["total"])])
    return frame


@allowed_roles("client", "therapist")
def questionnaire_schedule(cur, principal, *, client_id):
    """Return, per instrument, when the client last took it and when it is next due.

    Limited to a client in the principal's scope (AccessDenied otherwise). Returns
    {instrument: {"last_taken": date or None, "next_due": date}}; the cadence is the
    therapist's setting for the current episode (weekly by default). Never taken: due today.
    """
    require_client(cur, principal, client_id, "view_questionnaire_schedule")
    sql = f"""
        SELECT i.instrument, max(q.taken_on) AS last_taken,
               coalesce((SELECT max(c.questionnaire_every_days) FROM caseload c
                         WHERE c.client_id = $client_id AND {current_link('c')}), 7) AS every_days
        FROM (VALUES ('PHQ-9'), ('GAD-7')) AS i(instrument)
        LEFT JOIN questionnaires q ON q.instrument = i.instrument AND q.client_id = $client_id
             AND q.client_id IN ({client_scope(principal)})
        GROUP BY i.instrument
    """
    rows = cur.execute(sql, scope_parameters(principal, client_id=client_id)).fetchall()
    return {
        instrument: {"last_taken": last, "next_due": last + timedelta(days=every) if last else date.today()}
        for instrument, last, every in rows
    }


@allowed_roles("therapist")
def list_risk_flags(cur, principal, *, client_id):
    """Return the client's risk flags, newest first, with any acknowledgement.

    Limited to the principal's current clients (AccessDenied otherwise). Columns:
    risk_flag_id, raised_at, item_9_answer, taken_on, acknowledged_at, acknowledged_by, note.
    """
    require_client(cur, principal, client_id, "view_risk_flags")
    sql = f"""
        SELECT f.id AS risk_flag_id, f.raised_at, f.item_9_answer, q.taken_on,
               a.acknowledged_at, t.display_name AS acknowledged_by, a.note
        FROM risk_flags f
        JOIN questionnaires q ON q.id = f.questionnaire_id
        LEFT JOIN risk_acknowledgements a ON a.risk_flag_id = f.id
        LEFT JOIN users t ON t.id = a.therapist_id
        WHERE f.client_id = $client_id AND f.client_id IN ({client_scope(principal)})
        ORDER BY f.raised_at DESC
    """
    return cur.execute(sql, scope_parameters(principal, client_id=client_id)).df()


@allowed_roles("therapist")
def acknowledge_risk_flag(cur, principal, *, risk_flag_id, note):
    """Record that the therapist has followed up a risk flag, with a short note (audited).

    Limited to flags of the principal's current clients (AccessDenied otherwise).
    Raises InvalidInput for an empty or over-long note, or a flag already acknowledged.
    """
    sql = f"SELECT client_id FROM risk_flags WHERE id = $risk_flag_id AND client_id IN ({client_scope(principal)})"
    row = cur.execute(sql, scope_parameters(principal, risk_flag_id=risk_flag_id)).fetchone()
    if row is None:
        deny(cur, principal, "acknowledge_risk_flag", detail=f"risk_flag {risk_flag_id}")
    validation.raise_if_any(validation.errors_of(
        note=("Write a short note on the follow-up." if not (note or "").strip()
              else validation.check_note(note))))

    def insert(cur):
        done = cur.execute("SELECT count(*) FROM risk_acknowledgements WHERE risk_flag_id = ?",
                           [risk_flag_id]).fetchone()[0]
        if done:
            raise validation.InvalidInput({"risk_flag_id": "This flag has already been acknowledged."})
        (ack_id,) = cur.execute(
            """INSERT INTO risk_acknowledgements (risk_flag_id, therapist_id, note)
               VALUES (?, ?, ?) RETURNING id""",
            [risk_flag_id, principal.user_id, note.strip()],
        ).fetchone()
        audit.record_event(cur, principal, "acknowledge_risk_flag", client_id=row[0],
                           record_kind="risk_flag", record_id=risk_flag_id)
        return ack_id

    return db.write(cur, insert)
