"""The not-on-track flag's backtest on a whole clinic: `python -m bench.backtest DATABASE`.

Prints, for the README, what the supervisor's page shows for their own therapists
(ui.tracking.flag_backtest), over every supervisor's episodes at once: the flag as it would have
been raised at week 4 of each ended episode against its outcome, and where the curves came from.
"""

import argparse
from datetime import date

import duckdb
import pandas as pd

from clinical.episodes import classify_episodes
from data_layer.core.access import Principal
from data_layer.reports import cohort, expected_curves
from ui.tracking import curves_note, ended_episodes_backtest


def clinic_backtest(cur):
    """Return (Backtest, curves) over the episodes of every supervisor's therapists; ValueError
    when the clinic has no active supervisor (nobody would see the backtest)."""
    today = date.today()
    frames = {"episodes": [], "questionnaires": [], "scores": []}
    seen = set()  # a therapist has one supervisor at a time, but never count an episode twice
    supervisors = [
        Principal(user_id=supervisor_id, role="supervisor")
        for (supervisor_id,) in cur.execute(
            "SELECT id FROM users WHERE role = 'supervisor' AND active ORDER BY id"
        ).fetchall()
    ]
    if not supervisors:
        raise ValueError("The clinic has no active supervisor: nobody sees the backtest.")
    for principal in supervisors:
        start = cohort.earliest_episode_start(cur, principal)
        if start is None:
            continue
        window = {"window_start": start, "window_end": today}
        episodes = cohort.episode_summaries(cur, principal, **window)
        new = ~episodes["episode_id"].isin(seen)
        for name, frame in (
            ("episodes", episodes),
            ("questionnaires", cohort.episode_questionnaires(cur, principal, **window)),
            ("scores", cohort.episode_scores(cur, principal, **window)),
        ):
            frames[name].append(frame[frame["episode_id"].isin(episodes.loc[new, "episode_id"])])
        seen.update(episodes["episode_id"])
    episodes, questionnaires, scores = (pd.concat(frames[name]) for name in ("episodes", "questionnaires", "scores"))
    curves = expected_curves.clinic_curves(cur, supervisors[0])  # clinic-wide: the same for every supervisor
    return ended_episodes_backtest(classify_episodes(episodes, questionnaires), scores, curves), curves


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database")
    arguments = parser.parse_args()
    cur = duckdb.connect(arguments.database, read_only=True).cursor()
    result, curves = clinic_backtest(cur)
    print(curves_note(curves))
    print(result.summary())
    print(result)


if __name__ == "__main__":
    main()
