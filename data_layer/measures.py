"""Questionnaires (PHQ-9, GAD-7), how often they are asked (the cadence: set by the therapist,
read for the schedule, both here) and the risk flags that PHQ-9 item 9 raises.

A risk flag is read by the client's current therapist; while the client has none (never
linked, or the link ended before the flag was acknowledged) it is read by the clinic's
safety contacts, every supervisor and the admin (docs/clinical-rules.md, "Risk"). For
those flags only, a safety contact sees the client's name and contact email: acting on
risk needs the person, a pseudonym cannot be phoned. Each such read is audited per flag
as a risk-flag event, which the admin's audit viewer hides like every risk-flag event.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from clinical import instruments
from data_layer.core import audit, db, validation
from data_layer.core.access import (
    Principal,
    allowed_roles,
    client_scope,
    current_link,
    deny,
    require_client,
    scope_parameters,
)
from data_layer.core.questionnaire_sql import questionnaire_due_sql


@dataclass(frozen=True)
class QuestionnaireResult:
    """What the client is told after submitting: the total, its band, and whether risk was flagged."""

    questionnaire_id: int
    instrument: str
    total: int
    band: str
    risk_flag_raised: bool


def _check_answers(instrument: str, answers: Sequence[int | None], difficulty: int | None) -> list[int | None]:
    if instrument not in instruments.ITEMS:
        raise validation.InvalidInput({"instrument": "Choose PHQ-9 or GAD-7."})
    expected = len(instruments.ITEMS[instrument])
    answers = list(answers) + [None] * (expected - len(answers))
    errors = {
        f"item_{number}": "Please answer this question."
        for number, answer in enumerate(answers[:expected], start=1)
        if answer not in instruments.ANSWERS
    }
    if len(answers) > expected:
        errors["instrument"] = f"{instrument} has {expected} questions."
    if difficulty is not None and (instrument != "PHQ-9" or difficulty not in instruments.ANSWERS):
        errors["difficulty"] = "Choose one of the four answers, or leave it out."
    validation.raise_if_any(errors)
    return answers


@allowed_roles("client")
def submit_questionnaire(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    instrument: str,
    answers: Sequence[int | None],
    difficulty: int | None = None,
    submission_id: str | None = None,
) -> QuestionnaireResult:
    """Store the client's own PHQ-9 or GAD-7, dated today; return a QuestionnaireResult.

    Limited to the principal themself. Every item must be answered 0-3 (InvalidInput
    naming each missing item otherwise; nothing is stored). A PHQ-9 with item 9 above
    0 raises a risk flag, whatever the total: for the client's current therapist, or for
    the safety contacts when there is none (list_unassigned_risk_flags). A repeated
    `submission_id` stores nothing twice.
    """
    answers = _check_answers(instrument, answers, difficulty)
    total = instruments.score(instrument, answers)
    risk = instruments.raises_risk_flag(instrument, answers)
    items = answers + [None] * (9 - len(answers))

    def insert(cur: duckdb.DuckDBPyConnection) -> int:
        (questionnaire_id,) = db.one_row(
            cur.execute(
                """INSERT INTO questionnaires (client_id, instrument, taken_on, item_1, item_2, item_3,
                   item_4, item_5, item_6, item_7, item_8, item_9, difficulty, total, submission_id)
               VALUES (?, ?, current_date, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                [principal.user_id, instrument, *items, difficulty, total, submission_id],
            )
        )
        audit.record_event(
            cur,
            principal,
            "submit_questionnaire",
            client_id=principal.user_id,
            record_kind="questionnaire",
            record_id=questionnaire_id,
        )
        if risk:
            (flag_id,) = db.one_row(
                cur.execute(
                    f"""INSERT INTO risk_flags (client_id, therapist_id, questionnaire_id, item_9_answer)
                    VALUES (?, (SELECT max(therapist_id) FROM caseload c
                                WHERE c.client_id = ? AND {current_link('c')}), ?, ?)
                    RETURNING id""",
                    [principal.user_id, principal.user_id, questionnaire_id, items[8]],
                )
            )
            audit.record_event(
                cur,
                principal,
                "raise_risk_flag",
                client_id=principal.user_id,
                record_kind="risk_flag",
                record_id=flag_id,
            )
        return questionnaire_id

    questionnaire_id = db.write_once(cur, "questionnaires", principal.user_id, submission_id, insert)
    return QuestionnaireResult(questionnaire_id, instrument, total, instruments.band(instrument, total), risk)


@allowed_roles("client", "therapist")
def list_questionnaires(cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int) -> pd.DataFrame:
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
    frame.insert(4, "band", [instruments.band(name, total) for name, total in zip(frame["instrument"], frame["total"])])
    return frame


@allowed_roles("client", "therapist")
def questionnaire_schedule(
    cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int
) -> dict[str, dict[str, date | None]]:
    """Return, per instrument, when the client last took it and when it is next due.

    Limited to a client in the principal's scope (AccessDenied otherwise). Returns
    {instrument: {"last_taken": date or None, "next_due": date}}; the cadence is the
    therapist's setting for the current episode (weekly by default). Never taken: due today.
    """
    require_client(cur, principal, client_id, "view_questionnaire_schedule")
    client = (
        "SELECT CAST($client_id AS BIGINT) AS client_id, CAST($today AS DATE) AS day"
        f" WHERE $client_id IN ({client_scope(principal)})"
    )
    sql = f"SELECT instrument, last_taken, next_due FROM ({questionnaire_due_sql(client)})"
    rows = cur.execute(sql, scope_parameters(principal, client_id=client_id, today=date.today())).fetchall()
    return {instrument: {"last_taken": last, "next_due": next_due} for instrument, last, next_due in rows}


@allowed_roles("therapist")
def set_questionnaire_cadence(
    cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int, every_days: int
) -> None:
    """Set how often the client is asked for PHQ-9 and GAD-7 (days, 1-90; weekly is 7).

    Limited to the principal's current clients (AccessDenied otherwise).
    """
    require_client(cur, principal, client_id, "set_questionnaire_cadence")
    validation.raise_if_any(
        validation.errors_of(
            every_days=validation.check_whole_number(every_days, 1, 90, "Days between questionnaires")
            or (None if every_days is not None else "Choose how many days between questionnaires.")
        )
    )

    def update(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute(
            f"""UPDATE caseload c SET questionnaire_every_days = ?
                WHERE c.client_id = ? AND c.therapist_id = ? AND {current_link('c')}""",
            [every_days, client_id, principal.user_id],
        )
        audit.record_event(cur, principal, "set_questionnaire_cadence", client_id=client_id)

    db.write(cur, update)


@allowed_roles("therapist")
def list_risk_flags(cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int) -> pd.DataFrame:
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
def acknowledge_risk_flag(cur: duckdb.DuckDBPyConnection, principal: Principal, *, risk_flag_id: int, note: str) -> int:
    """Record that the therapist has followed up a risk flag, with a short note (audited).

    Limited to flags of the principal's current clients (AccessDenied otherwise).
    Raises InvalidInput for an empty or over-long note, or a flag already acknowledged.
    """
    sql = f"SELECT client_id FROM risk_flags WHERE id = $risk_flag_id AND client_id IN ({client_scope(principal)})"
    row = cur.execute(sql, scope_parameters(principal, risk_flag_id=risk_flag_id)).fetchone()
    return _acknowledge(cur, principal, row, risk_flag_id, note, "acknowledge_risk_flag")


# Flags of clients who have no current therapist: nobody but the safety contacts would read them.
_UNASSIGNED_FLAG = f"NOT EXISTS (SELECT 1 FROM caseload c WHERE c.client_id = f.client_id AND {current_link('c')})"


@allowed_roles("supervisor", "admin")
def list_unassigned_risk_flags(cur: duckdb.DuckDBPyConnection, principal: Principal) -> pd.DataFrame:
    """Return the open risk flags of clients who have no current therapist, oldest first.

    Limited to unacknowledged flags whose client is in nobody's current caseload: the
    flags the safety contacts (every supervisor, the admin) must act on. Columns:
    risk_flag_id, raised_at, item_9_answer, taken_on, client (display name), email,
    username. The identity is shown for these flags only, and each flag listed is
    audited as view_unassigned_risk_flag with its client.
    """
    sql = f"""
        SELECT f.id AS risk_flag_id, f.raised_at, f.item_9_answer, q.taken_on,
               u.display_name AS client, u.email, u.username, f.client_id
        FROM risk_flags f
        JOIN questionnaires q ON q.id = f.questionnaire_id
        JOIN users u ON u.id = f.client_id
        WHERE {_UNASSIGNED_FLAG}
          AND NOT EXISTS (SELECT 1 FROM risk_acknowledgements a WHERE a.risk_flag_id = f.id)
        ORDER BY f.raised_at, f.id
    """
    frame = cur.execute(sql).df()
    for flag_id, client_id in zip(frame["risk_flag_id"], frame["client_id"]):
        audit.record_event(
            cur,
            principal,
            "view_unassigned_risk_flag",
            client_id=int(client_id),
            record_kind="risk_flag",
            record_id=int(flag_id),
        )
    return frame.drop(columns="client_id")


@allowed_roles("supervisor", "admin")
def acknowledge_unassigned_risk_flag(
    cur: duckdb.DuckDBPyConnection, principal: Principal, *, risk_flag_id: int, note: str
) -> int:
    """Record that a safety contact has followed up a risk flag, with a short note (audited).

    Limited to the flags of clients with no current therapist (AccessDenied otherwise:
    their therapist acknowledges them). Raises InvalidInput for an empty or
    over-long note, or a flag already acknowledged.
    """
    sql = f"SELECT f.client_id FROM risk_flags f WHERE f.id = $risk_flag_id AND {_UNASSIGNED_FLAG}"
    row = cur.execute(sql, {"risk_flag_id": risk_flag_id}).fetchone()
    return _acknowledge(cur, principal, row, risk_flag_id, note, "acknowledge_unassigned_risk_flag")


def _acknowledge(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    row: tuple[Any, ...] | None,
    risk_flag_id: int,
    note: str,
    action: str,
) -> int:
    """Acknowledge flag `risk_flag_id` with `note` as `action`; `row` is (client_id,) when the
    caller's scoped look-up found the flag, None when it did not (then AccessDenied)."""
    if row is None:
        deny(cur, principal, action, detail=f"risk_flag {risk_flag_id}")
    validation.raise_if_any(
        validation.errors_of(
            note=("Write a short note on the follow-up." if not (note or "").strip() else validation.check_note(note))
        )
    )

    def insert(cur: duckdb.DuckDBPyConnection) -> int:
        done = db.one_row(
            cur.execute("SELECT count(*) FROM risk_acknowledgements WHERE risk_flag_id = ?", [risk_flag_id])
        )[0]
        if done:
            raise validation.InvalidInput({"risk_flag_id": "This flag has already been acknowledged."})
        # The column is named for the usual reader; a safety contact's id goes there too.
        (ack_id,) = db.one_row(
            cur.execute(
                """INSERT INTO risk_acknowledgements (risk_flag_id, therapist_id, note)
               VALUES (?, ?, ?) RETURNING id""",
                [risk_flag_id, principal.user_id, note.strip()],
            )
        )
        audit.record_event(cur, principal, action, client_id=row[0], record_kind="risk_flag", record_id=risk_flag_id)
        return ack_id

    return db.write(cur, insert)
