"""Reminders (issue #16): some clients in care turned them on some weeks ago, so that "Does
reminding help?" has something to show on the demo.

About half of the clients in care who were in care 4 weeks before it (SHARE_ON) turned reminders
on 5 to 8 weeks before the current one: the 4 complete weeks after that week are over, so their
compliance before and after can be compared. Each gets a reminder_preferences row (on, a time and
days), the reminder_history row of turning them on, and the reminders the mail server took
('sent' outbox rows) on the days from the next day to yesterday on which ops/scheduler.py's rule
would have sent one: one of their days, not paused, and a weekly homework in force whose target
this ISO week was not met by the logs of the days before (the demo's logs are made in the evening,
after every reminder time here). The reminders change nothing in the homework drawn: the demo has
no built-in effect of reminding.
"""

from datetime import time

import numpy as np
import pandas as pd

SHARE_ON = 0.5
SEND_HOURS = (8, 12, 17, 18)  # the reminder times chosen, all before the demo's evening logs
SHARE_WEEKDAYS_ONLY = 0.3  # the others chose every day
WEEKS_BEFORE = 4  # complete weeks in care before the week reminders came on
ON_WEEKS_AGO = (5, 8)  # the week reminders came on, counted back from the current week


def _reminders(rng, clients, assignments, homework_logs, clinic, calendar):
    """Return the reminder_preferences, reminder_history and outbox frames (see the module docstring).

    `assignments` and `homework_logs` are the generators' arrays (day indices), not the frames.
    """
    n = len(clients["start"])
    last_day = calendar.n_days - 1
    on_week = calendar.n_weeks - 1 - rng.integers(ON_WEEKS_AGO[0], ON_WEEKS_AGO[1] + 1, n)
    on_day = on_week * 7 + rng.integers(0, 7, n)
    hour = np.array(SEND_HOURS)[rng.integers(len(SEND_HOURS), size=n)]
    weekdays_only = rng.random(n) < SHARE_WEEKDAYS_ONLY
    changed_seconds = rng.integers(19 * 3600, 22 * 3600, n)
    eligible = ~clients["ended"] & (on_week - WEEKS_BEFORE >= 0) & (clients["start"] // 7 <= on_week - WEEKS_BEFORE)
    chosen = np.flatnonzero(eligible & (rng.random(n) < SHARE_ON))
    client_ids = clinic.client_ids[chosen]
    changed_at = calendar.timestamps(on_day[chosen], changed_seconds[chosen])
    preferences = pd.DataFrame(
        {
            "client_id": client_ids,
            "enabled": True,
            "send_at": [time(int(h)) for h in hour[chosen]],
            "days": [[1, 2, 3, 4, 5] if only else [1, 2, 3, 4, 5, 6, 7] for only in weekdays_only[chosen]],
            "updated_at": changed_at,
            "updated_by": client_ids,
        }
    )
    history = pd.DataFrame(
        {
            "id": np.arange(1, len(chosen) + 1),
            "client_id": client_ids,
            "enabled": True,
            "changed_at": changed_at,
            "changed_by": client_ids,
        }
    )
    client, day = _reminded_days(chosen, on_day, weekdays_only, clients, assignments, homework_logs, last_day)
    due_at = calendar.timestamps(day, hour[client] * 3600)
    return {
        "reminder_preferences": preferences,
        "reminder_history": history,
        "outbox": pd.DataFrame(
            {
                "id": np.arange(1, len(day) + 1),
                "message_key": "reminder:"
                + pd.Series(clinic.client_ids[client]).astype(str)
                + ":"
                + pd.Series(calendar.dates(day)).dt.strftime("%Y-%m-%d"),
                "recipient_id": clinic.client_ids[client],
                "kind": "client_reminder",
                "due_at": due_at,
                "status": "sent",
                "attempts": 1,
                "sent_at": due_at + rng.integers(1, 60, len(day)).astype("timedelta64[s]"),
                "created_at": due_at,
            }
        ),
    }


def _reminded_days(chosen, on_day, weekdays_only, clients, assignments, homework_logs, last_day):
    """The (client index, day) of each reminder sent, from the day after reminders came on to
    yesterday, by the scheduler's rule (module docstring), in (client, day) order."""
    first = on_day[chosen] + 1
    per_client = np.maximum(last_day - first, 0)
    client = np.repeat(chosen, per_client)
    day = (
        np.repeat(first, per_client)
        + np.arange(per_client.sum())
        - np.repeat(np.cumsum(per_client) - per_client, per_client)
    )
    weekday = day % 7  # day 0 is a Monday
    paused = (day >= clients["pause_start"][client]) & (day <= clients["pause_end"][client])
    keep = ~paused & ~(weekdays_only[client] & (weekday >= 5))
    client, day = client[keep], day[keep]

    # Weekly homework of these clients, and its logs done or partly, counted up to each day.
    weekly = np.flatnonzero(~assignments["once"] & np.isin(assignments["client"], chosen))
    row_of = np.full(len(assignments["client"]), -1)
    row_of[weekly] = np.arange(len(weekly))
    logged = (homework_logs["status"] < 2) & (row_of[homework_logs["assignment"]] >= 0)
    width = last_day + 2
    cell = row_of[homework_logs["assignment"][logged]] * width + homework_logs["day"][logged] + 1
    counts = np.bincount(cell, minlength=len(weekly) * width).reshape(len(weekly), width)
    logs_before = np.cumsum(counts, axis=1)  # logs_before[row, d]: logs on days before day d

    pairs = pd.DataFrame({"candidate": np.arange(len(day)), "client": client}).merge(
        pd.DataFrame({"client": assignments["client"][weekly], "row": np.arange(len(weekly))}), on="client"
    )
    row, candidate = pairs["row"].to_numpy(), pairs["candidate"].to_numpy()
    on = day[candidate]
    in_force = (assignments["starts"][weekly][row] <= on) & (
        (assignments["ends"][weekly][row] < 0) | (assignments["ends"][weekly][row] >= on)
    )
    this_week = logs_before[row, on] - logs_before[row, on - on % 7]
    unmet = in_force & (this_week < assignments["times_per_week"][weekly][row])
    due = np.zeros(len(day), dtype=bool)
    due[candidate[unmet]] = True
    return client[due], day[due]
