"""Daily mood logs, which follow the latent depression and anxiety."""

import numpy as np
import pandas as pd

from ops.demo.columns import _nullable

MOOD_NOTES = [
    "Slept badly.",
    "Good day with friends.",
    "Stressful day at work.",
    "Argument at home.",
    "Got outside in the sun.",
    "Felt flat all day.",
]


def _mood_logs(rng, clients, depression, anxiety, clinic, calendar):
    """Daily mood 0-10 (higher is better) during the (first) episode, on a share of days that
    grows with engagement."""
    n = len(clients["start"])
    day = np.arange(calendar.n_days)
    logged = (
        (day >= clients["start"][:, None])
        & (day <= clients["end"][:, None])
        & (rng.random((n, calendar.n_days)) < 0.35 + 0.55 * clients["propensity"][:, None])
    )
    client, day = np.nonzero(logged)  # in (client, date) order
    count = len(day)
    latent_phq = depression[client, day // 7]
    mood = np.clip(np.rint(9.0 - 0.28 * latent_phq + rng.normal(0, 1.1, count)), 0, 10)
    worry = np.clip(np.rint(0.45 * anxiety[client, day // 7] + rng.normal(0, 1.2, count)), 0, 10)
    note_code = np.where(rng.random(count) < 0.03, rng.integers(len(MOOD_NOTES), size=count), -1)
    return pd.DataFrame(
        {
            "id": np.arange(1, count + 1),
            "client_id": clinic.client_ids[client],
            "log_date": calendar.dates(day),
            "mood": mood.astype(np.int64),
            "anxiety": _nullable(worry, rng.random(count) < 0.4),
            "note": pd.Categorical.from_codes(note_code, MOOD_NOTES),
            "created_at": calendar.timestamps(day, rng.integers(19 * 3600, 23 * 3600, count)),
        }
    )
