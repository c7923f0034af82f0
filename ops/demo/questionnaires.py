"""Symptom courses (latent weekly PHQ-9 and GAD-7), the questionnaires measuring them and the
risk flags they raise.

The model of the symptom courses and its built-in effect: see the package's docstring
(ops/demo/__init__.py).
"""

import numpy as np
import pandas as pd

from ops.demo.columns import _nullable
from ops.demo.episodes import RISK_CLIENTS

# --- The model (its other parts are in ops/demo/episodes.py and ops/demo/homework.py). Tuned so
# that the default clinic shows the published association (client-level r about -.27,
# Mausbach et al. 2010) and a lagged within-client effect. ---
COMPLIANCE_CENTRE = 0.5  # compliance that neither speeds nor slows recovery
RECOVERY_RATE = 0.10  # share of the distance to the natural endpoint covered per week
PHQ9_BETA = 1.0  # PHQ-9 points per week per unit of compliance above the centre
GAD7_BETA = 0.45  # smaller effect on anxiety
LATENT_SD = 0.6  # weekly innovation of the latent scores
MEASUREMENT_SD = 0.7  # questionnaire-to-questionnaire noise around the latent score


def _symptom_courses(rng, clients, realised):
    """Weekly latent PHQ-9 and GAD-7 (n_clients x n_weeks): constant before the episode,
    then drifting to the client's endpoint, pushed down by last week's compliance; constant
    again from the week the episode ended (out of care nobody measures it)."""
    n, n_weeks = realised.shape
    effort = np.nan_to_num(realised - COMPLIANCE_CENTRE, nan=0.0)  # no homework set: no push
    shared = rng.normal(0, 1, (n, n_weeks))
    phq_noise = LATENT_SD * shared
    gad_noise = LATENT_SD * (0.6 * shared + 0.8 * rng.normal(0, 1, (n, n_weeks)))
    depression = np.empty((n, n_weeks))
    anxiety = np.empty((n, n_weeks))
    phq, gad = clients["phq_start"].copy(), clients["gad_start"].copy()
    for week in range(n_weeks):  # one vectorised step per week over all clients
        depression[:, week], anxiety[:, week] = phq, gad
        in_episode = (week >= clients["start_week"]) & (week < clients["end"] // 7)
        phq_step = RECOVERY_RATE * (clients["phq_end"] - phq) - PHQ9_BETA * effort[:, week] + phq_noise[:, week]
        gad_step = RECOVERY_RATE * (clients["gad_end"] - gad) - GAD7_BETA * effort[:, week] + gad_noise[:, week]
        phq = np.where(in_episode, np.clip(phq + phq_step, 0, 27), phq)
        gad = np.where(in_episode, np.clip(gad + gad_step, 0, 21), gad)
    return depression, anxiety


def _questionnaires(rng, clients, depression, anxiety, calendar):
    """PHQ-9 and GAD-7 pairs on the same day every 7 or 14 days from the episode start to its
    end (a drop-out's only pair is at the start), and one at the start of a re-referral."""
    per_client = (clients["q_last"] - clients["start"]) // clients["cadence"] + 1
    client = np.repeat(np.arange(len(per_client)), per_client)
    number = np.arange(per_client.sum()) - np.repeat(np.cumsum(per_client) - per_client, per_client)
    day = clients["start"][client] + number * clients["cadence"][client]
    returning = np.flatnonzero(clients["rereferral"] >= 0)
    client = np.concatenate([client, returning])
    day = np.concatenate([day, clients["rereferral"][returning]])
    order = np.lexsort((day, client))
    client, day = client[order], day[order]
    week = day // 7
    n = len(day)
    # Back after a relapse: the latent scores stopped at discharge, plus what was lost since.
    relapse = np.where(day > clients["end"][client], clients["relapse"][client], 0.0)
    # Item 9 is 0 for everyone (risk clients are set below): PHQ-9 totals stop at 8 x 3 = 24.
    phq_total = np.clip(np.rint(depression[client, week] + relapse + rng.normal(0, MEASUREMENT_SD, n)), 0, 24)
    gad_total = np.clip(np.rint(anxiety[client, week] + 0.6 * relapse + rng.normal(0, MEASUREMENT_SD, n)), 0, 21)
    phq_items = np.zeros((n, 9), dtype=np.int64)
    phq_items[:, :8] = _spread_over_items(rng, phq_total.astype(np.int64), 8)
    gad_items = _spread_over_items(rng, gad_total.astype(np.int64), 7)
    is_last = np.r_[client[1:] != client[:-1], True]
    for index, answer in RISK_CLIENTS.items():
        phq_items[is_last & (client == index), 8] = answer
    difficulty = np.clip(np.rint(phq_total / 8 + rng.normal(0, 0.5, n)), 0, 3)
    return {
        "client": client,
        "day": day,
        "phq_items": phq_items,
        "gad_items": gad_items,
        "difficulty": _nullable(difficulty, rng.random(n) < 0.75),
        "seconds": rng.integers(9 * 3600, 21 * 3600, n),
    }


def _spread_over_items(rng, totals, n_items):
    """Split each total into n_items answers of 0-3 that add up to it, at random.

    Every item has three one-point "slots"; a total of T takes the T slots with the lowest
    random keys. A higher level of an item gets a slightly higher key, so answers of 3
    are rarer than spreading points over several items.
    """
    slot_level = np.tile(np.arange(3), n_items)
    keys = rng.random((len(totals), 3 * n_items)) + 0.3 * slot_level
    rank = np.empty(keys.shape, dtype=np.int64)
    np.put_along_axis(rank, np.argsort(keys, axis=1), np.arange(3 * n_items)[None, :], axis=1)
    taken = rank < totals[:, None]
    return taken.reshape(len(totals), n_items, 3).sum(axis=2)


def _questionnaire_frame(q, clinic, calendar):
    """PHQ-9 then GAD-7 rows of each pair, in (client, date) order."""
    n = len(q["day"])
    pair = {
        "client_id": clinic.client_ids[q["client"]],
        "taken_on": calendar.dates(q["day"]),
        "created_at": calendar.timestamps(q["day"], q["seconds"]),
    }
    phq = pd.DataFrame(
        {
            "order": 2 * np.arange(n),
            **pair,
            "instrument": "PHQ-9",
            **_item_columns(q["phq_items"]),
            "difficulty": q["difficulty"],
        }
    )
    gad_items = np.concatenate([q["gad_items"], np.full((n, 2), -1)], axis=1)  # items 8-9 NULL
    gad = pd.DataFrame(
        {
            "order": 2 * np.arange(n) + 1,
            **pair,
            "instrument": "GAD-7",
            **_item_columns(gad_items),
            "difficulty": pd.array([None] * n, dtype="Int64"),
        }
    )
    frame = pd.concat([phq, gad], ignore_index=True).sort_values("order", ignore_index=True)
    items = frame[[f"item_{k}" for k in range(1, 10)]]
    frame["total"] = items.sum(axis=1).astype(np.int64)
    frame["id"] = np.arange(1, len(frame) + 1)
    frame["instrument"] = frame["instrument"].astype("category")
    columns = ["id", "client_id", "instrument", "taken_on", *items.columns, "difficulty", "total", "created_at"]
    return frame[columns]


def _item_columns(items):
    return {f"item_{k + 1}": _nullable(items[:, k], items[:, k] >= 0) for k in range(items.shape[1])}


def _risk_flags(questionnaires, clinic):
    """A flag for the treating therapist on every PHQ-9 with item 9 above 0."""
    risky = questionnaires[questionnaires["item_9"].fillna(0) > 0]
    therapist = dict(zip(clinic.client_ids, clinic.therapist_of_client))
    return pd.DataFrame(
        {
            "id": np.arange(1, len(risky) + 1),
            "client_id": risky["client_id"].to_numpy(),
            "therapist_id": risky["client_id"].map(therapist).to_numpy(dtype=np.int64),
            "questionnaire_id": risky["id"].to_numpy(),
            "item_9_answer": risky["item_9"].to_numpy(dtype=np.int64),
            "raised_at": risky["created_at"].to_numpy(),
        }
    )
