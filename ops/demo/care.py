"""Care around the homework: caseload (episodes), discharges, supervision, paused periods
and therapy sessions."""

import numpy as np
import pandas as pd

from ops.demo.columns import _nullable_dates
from ops.demo.episodes import FATES, PAUSE_REASONS

ATTENDANCE = 0.85  # therapy sessions attended


def _caseload(clinic, clients, calendar):
    """One episode per client (id = client index + 1), ended_on set once it ended; then the
    re-referrals, in progress, with the same therapist."""
    returning = np.flatnonzero(clients["rereferral"] >= 0)
    client = np.concatenate([np.arange(len(clinic.client_ids)), returning])
    started = np.concatenate([clients["start"], clients["rereferral"][returning]])
    ended = np.concatenate([clients["ended"], np.zeros(len(returning), dtype=bool)])
    ended_on = np.concatenate([clients["end"], np.zeros(len(returning), dtype=np.int64)])
    return pd.DataFrame(
        {
            "id": np.arange(1, len(client) + 1),
            "client_id": clinic.client_ids[client],
            "therapist_id": clinic.therapist_of_client[client],
            "started_on": calendar.dates(started),
            "ended_on": _nullable_dates(calendar, ended_on, ended),
            "questionnaire_every_days": clients["cadence"][client],
        }
    )


def _discharges(clinic, clients, calendar):
    """Why each ended episode ended, recorded by its therapist after the last session of its last day."""
    who = np.flatnonzero(clients["ended"])
    return pd.DataFrame(
        {
            "caseload_id": who + 1,
            "reason": pd.Categorical.from_codes(clients["fate"][who] - 1, list(FATES[1:])),
            "discharged_by": clinic.therapist_of_client[who],
            "recorded_at": calendar.timestamps(clients["end"][who], 17 * 3600 + 1800),
        }
    )


def _supervision(clinic, calendar):
    n = len(clinic.therapist_ids)
    spread = np.arange(n) * len(clinic.supervisor_ids) // n
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "therapist_id": clinic.therapist_ids,
            "supervisor_id": clinic.supervisor_ids[spread],
            "started_on": calendar.dates(np.full(n, -180)),
            "ended_on": pd.Series(pd.NaT, index=range(n), dtype="datetime64[s]"),
        }
    )


def _paused_periods(clients, clinic, calendar):
    who = np.flatnonzero(clients["paused"])
    client_ids = clinic.client_ids[who]
    created_by = np.where(clients["pause_by_client"][who], client_ids, clinic.therapist_of_client[who])
    starts = clients["pause_start"][who]
    return pd.DataFrame(
        {
            "id": np.arange(1, len(who) + 1),
            "client_id": client_ids,
            "starts_on": calendar.dates(starts),
            "ends_on": calendar.dates(clients["pause_end"][who]),
            "reason": np.array(PAUSE_REASONS)[clients["pause_reason"][who]],
            "created_by": created_by,
            # Entered a day or two ahead (never before the episode began).
            "created_at": calendar.timestamps(np.maximum(starts - 2, clients["start"][who]), 10 * 3600),
        }
    )


def _therapy_sessions(rng, clients, clinic, calendar):
    """Weekly sessions from the episode start to its end, most of them attended (a drop-out
    attends the first at most, a completed episode ends at an attended one), and the first
    session of a re-referral."""
    per_client = (clients["end"] - clients["start"]) // 7 + 1
    client = np.repeat(np.arange(len(per_client)), per_client)
    number = np.arange(per_client.sum()) - np.repeat(np.cumsum(per_client) - per_client, per_client)
    day = clients["start"][client] + 7 * number
    fate = clients["fate"][client]
    attended = rng.random(len(day)) < ATTENDANCE
    attended &= (fate != FATES.index("dropped_out")) | (number == 0)
    attended |= (fate == FATES.index("completed")) & (day == clients["end"][client])
    returning = np.flatnonzero(clients["rereferral"] >= 0)
    client = np.concatenate([client, returning])
    day = np.concatenate([day, clients["rereferral"][returning]])
    attended = np.concatenate([attended, np.ones(len(returning), dtype=bool)])
    order = np.lexsort((day, client))
    client, day, attended = client[order], day[order], attended[order]
    return pd.DataFrame(
        {
            "id": np.arange(1, len(day) + 1),
            "client_id": clinic.client_ids[client],
            "therapist_id": clinic.therapist_of_client[client],
            "session_date": calendar.dates(day),
            "attended": attended,
            "created_at": calendar.timestamps(day, 17 * 3600),
        }
    )
