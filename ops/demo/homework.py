"""Assignments and homework logs, whose compliance tracks each client's weekly target.

Some once-off tasks are done before their due week."""

import numpy as np
import pandas as pd

from clinical.homework import CATEGORIES, CREDIT
from ops.demo.columns import _nullable, _nullable_dates

# Parts of the model (the rest is in ops/demo/questionnaires.py and ops/demo/episodes.py).
WEEKLY_COMPLIANCE_SD = 0.28  # week-to-week swing of a client's homework around their propensity
SHARE_PARTLY = 0.15  # attempts logged as partly done
SHARE_NOT_DONE = 0.03  # open days on which a client explicitly logs "not done"
SHARE_DONE_EARLY = 0.75  # "done" once-off tasks logged before their due week, when set in an earlier one

# (category, title, instructions, times per week or None for "once", typical minutes)
HOMEWORK_CATALOGUE = [
    (
        "thought_record",
        "Thought record when mood drops",
        "When you notice your mood drop, write down the situation, the thought, how much you "
        "believed it (0-100) and a more balanced alternative.",
        3,
        15,
    ),
    (
        "thought_record",
        "Catch one worry a day",
        "Write down one worry each day and the evidence for and against it.",
        7,
        10,
    ),
    (
        "thought_record",
        "Five-column thought record",
        "Fill in all five columns for a situation that upset you this week.",
        2,
        20,
    ),
    (
        "behavioural_activation",
        "Daily walk",
        "Walk for at least 20 minutes, outdoors if you can. Rate your mood before and after.",
        7,
        25,
    ),
    (
        "behavioural_activation",
        "Schedule a pleasant activity",
        "Plan something you used to enjoy, put it in your diary and do it, however you feel.",
        3,
        45,
    ),
    (
        "behavioural_activation",
        "Activity and mood diary",
        "Each evening, note what you did in each part of the day and your mood (0-10).",
        7,
        10,
    ),
    (
        "exposure",
        "Graded exposure: supermarket",
        "Go to the supermarket at a busy time and stay until your anxiety has dropped by half. "
        "Rate it 0-100 before, during and after.",
        2,
        40,
    ),
    (
        "exposure",
        "Graded exposure: bus journey",
        "Take the bus for three stops without your safety behaviours, then note what happened.",
        2,
        35,
    ),
    (
        "exposure",
        "Make the phone call you have been avoiding",
        "Make one call from your avoidance list; predict beforehand what will happen.",
        1,
        15,
    ),
    (
        "relaxation_mindfulness",
        "Breathing practice 10 min",
        "Slow breathing, in for 4 and out for 6, for ten minutes at a quiet time.",
        7,
        10,
    ),
    (
        "relaxation_mindfulness",
        "Body scan recording",
        "Listen to the body-scan recording lying down; notice and let go of tension.",
        5,
        20,
    ),
    (
        "relaxation_mindfulness",
        "Progressive muscle relaxation",
        "Work through the muscle groups on the sheet, tensing for 5 s and relaxing for 15 s.",
        3,
        20,
    ),
    (
        "skills_practice",
        "Problem-solving worksheet",
        "Pick one problem, list options, weigh them, choose one and plan the first step.",
        2,
        25,
    ),
    (
        "skills_practice",
        "Practise an assertive request",
        "Use the script from the session to ask for one thing you need this week.",
        1,
        15,
    ),
    (
        "skills_practice",
        "Same wake-up time every day",
        "Get up at the agreed time every day, weekends included, and note it.",
        7,
        5,
    ),
    (
        "reading_psychoeducation",
        "Read: understanding low mood",
        "Read the booklet section on the vicious cycle of low mood and mark what fits you.",
        1,
        30,
    ),
    (
        "reading_psychoeducation",
        "Read a chapter of the self-help book",
        "Read the next chapter and write down one idea to try.",
        2,
        30,
    ),
    (
        "other",
        "Values worksheet",
        "Note what matters to you in each area of life and one small step towards it.",
        1,
        30,
    ),
    ("other", "Three good things", "Before bed, write down three things that went well today, however small.", 5, 5),
    # One-off tasks with a due date.
    (
        "reading_psychoeducation",
        "Read the leaflet on the anxiety cycle",
        "Read it before our next session and bring your questions.",
        None,
        20,
    ),
    (
        "other",
        "Write a relapse-prevention plan",
        "Draft your early warning signs and what helps; we will finish it together.",
        None,
        40,
    ),
    (
        "skills_practice",
        "Prepare questions for the GP appointment",
        "List what you want to ask about sleep and medication.",
        None,
        15,
    ),
    ("other", "Fill in the goals sheet", "Write three goals for therapy, each specific and measurable.", None, 20),
]
DONE_NOTES = [
    "Felt a bit better afterwards.",
    "Hard to get started but managed it.",
    "Did it with my partner.",
    "Easier than last week.",
    "Short version today.",
    "Noticed the same thought again.",
    "Anxiety went down from 70 to 40.",
]
NOT_DONE_NOTES = ["Too tired.", "Forgot.", "Bad day, couldn't face it.", "No time with work."]


def _assignments(rng, clients, calendar):
    """2-4 assignments per client in the (first) episode, as arrays in (client, slot) order.

    Slot 0 starts with the episode and slot 1 a few weeks later, both ongoing (so every client
    in care has two active today); slot 2 is a past assignment that ended; slot 3 is either a
    one-off task with a due date or another ongoing weekly one. In an episode that ended,
    every assignment ends by its last day (as a discharge ends them) and a slot that would
    start after it is left out.
    """
    n = len(clients["start"])
    last_day = calendar.n_days - 1
    start, end, ended = clients["start"], clients["end"], clients["ended"]
    n_slots = rng.choice([2, 3, 4], size=n, p=[0.25, 0.4, 0.35])
    weekly = np.array([entry[3] is not None for entry in HOMEWORK_CATALOGUE])
    category_index = np.array([list(CATEGORIES).index(entry[0]) for entry in HOMEWORK_CATALOGUE])

    # Categories rotate from a per-client offset; a permutation of the clients makes every
    # category appear in slot 0 as soon as there are seven clients.
    first_category = rng.permutation(n) % len(CATEGORIES)
    slot_category = (first_category[:, None] + np.arange(4)) % len(CATEGORIES)
    entry = _pick_entries(rng, slot_category, category_index, weekly)
    once_slot = rng.random(n) < 0.75
    once_entries = np.flatnonzero(~weekly)
    entry[:, 3] = np.where(once_slot, once_entries[rng.integers(len(once_entries), size=n)], entry[:, 3])

    wanted_starts = start[:, None] + np.stack(
        [
            np.zeros(n, dtype=np.int64),
            7 * rng.integers(1, 4, n),
            rng.integers(0, 15, n),
            rng.integers(14, 43, n),
        ],
        axis=1,
    )
    starts = np.minimum(wanted_starts, end[:, None])  # in progress: from today at the latest
    # -1: ongoing (ends_on NULL) in care; the episode's last day once it ended.
    ends = np.repeat(np.where(ended, end, -1)[:, None], 4, axis=1)
    ends[:, 2] = np.maximum(
        starts[:, 2], np.minimum(starts[:, 2] + rng.integers(21, 57, n), np.where(ended, end, last_day - 1))
    )
    due = np.full((n, 4), -1)
    due_day = start + 7 + np.floor(rng.random(n) * (end - start - 7)).astype(np.int64)
    due[:, 3] = np.where(once_slot, np.clip(due_day, start, end), -1)
    # Set at a session 4-10 days before it is due (mostly in an earlier week: done early, it counts).
    starts[:, 3] = np.where(once_slot, np.maximum(start, due[:, 3] - rng.integers(4, 11, n)), starts[:, 3])
    ends[:, 3] = np.where(once_slot, -1, ends[:, 3])
    wanted_starts[:, 3] = np.where(once_slot, starts[:, 3], wanted_starts[:, 3])

    keep = (np.arange(4) < n_slots[:, None]) & ~(ended[:, None] & (wanted_starts > end[:, None]))
    client = np.broadcast_to(np.arange(n)[:, None], (n, 4))[keep]
    once = (due >= 0)[keep]
    return {
        "client": client,
        "entry": entry[keep],
        "starts": starts[keep],
        "ends": ends[keep],
        "due": due[keep],
        "once": once,
        # The last day anything can be logged or expected: today, the end date or the due date.
        "last": np.where(once, due[keep], np.where(ends[keep] >= 0, ends[keep], last_day)),
        "times_per_week": np.array([e[3] or 0 for e in HOMEWORK_CATALOGUE])[entry[keep]],
        "minutes": np.array([e[4] for e in HOMEWORK_CATALOGUE])[entry[keep]],
    }


def _pick_entries(rng, slot_category, category_index, weekly):
    """A random weekly catalogue entry of each slot's category."""
    entries = np.flatnonzero(weekly)
    order = entries[np.argsort(category_index[entries], kind="stable")]
    counts = np.bincount(category_index[order], minlength=len(CATEGORIES))
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pick = first[slot_category] + np.floor(rng.random(slot_category.shape) * counts[slot_category]).astype(np.int64)
    return order[pick]


def _weekly_compliance_targets(rng, propensity, n_weeks):
    """What share of its homework each client means to do each week: propensity plus a
    weekly swing. Drawn before and independently of any symptom score."""
    swing = rng.normal(0, WEEKLY_COMPLIANCE_SD, (len(propensity), n_weeks))
    return np.clip(propensity[:, None] + swing, 0, 1)


def _assignment_weeks(assignments, clients, calendar):
    """One row per assignment and ISO week it touches: its open days (in its window, not
    paused, not in the future) as a 7-column mask, and what was expected (docs/clinical-rules.md)."""
    first_week = assignments["starts"] // 7
    n_rows = assignments["last"] // 7 - first_week + 1
    row_assignment = np.repeat(np.arange(len(n_rows)), n_rows)
    row_offset = np.arange(n_rows.sum()) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    week = first_week[row_assignment] + row_offset
    day = week[:, None] * 7 + np.arange(7)
    client = assignments["client"][row_assignment]
    in_window = (day >= assignments["starts"][row_assignment, None]) & (
        day <= assignments["last"][row_assignment, None]
    )
    paused = (day >= clients["pause_start"][client, None]) & (day <= clients["pause_end"][client, None])
    open_days = in_window & ~paused
    once = assignments["once"][row_assignment]
    due_week = assignments["due"][row_assignment] // 7
    weekly_expected = assignments["times_per_week"][row_assignment] * open_days.sum(axis=1) / 7
    expected = np.where(once, (week == due_week).astype(float), weekly_expected)
    return {
        "assignment": row_assignment,
        "client": client,
        "week": week,
        "day": day,
        "open": open_days & (expected > 0)[:, None],
        "expected": expected,
    }


def _homework_logs(rng, assignments, clients, target, calendar):
    """Logged attempts whose compliance tracks each client's weekly target.

    Per assignment-week the number of credited attempts is the target credit (target x
    expected) rounded at random, placed on distinct random open days. Returns the log rows
    and the realised weekly compliance per client (n_clients x n_weeks, NaN when nothing was
    expected), computed exactly as docs/clinical-rules.md defines it.
    """
    weeks = _assignment_weeks(assignments, clients, calendar)
    n_rows = len(weeks["week"])
    n_open = weeks["open"].sum(axis=1)
    wanted_credit = target[weeks["client"], weeks["week"]] * weeks["expected"]
    mean_credit = 1 - SHARE_PARTLY * (1 - CREDIT["partly"])
    attempts = np.floor(wanted_credit / mean_credit + rng.random(n_rows)).astype(np.int64)
    attempts = np.minimum(attempts, n_open)
    attempts = np.where(assignments["once"][weeks["assignment"]], np.minimum(attempts, 1), attempts)
    # client01 has something logged in the current week as soon as the week has an open day.
    showcase = np.flatnonzero(
        (weeks["client"] == 0)
        & (weeks["week"] == calendar.n_weeks - 1)
        & (n_open > 0)
        & ~assignments["once"][weeks["assignment"]]
    )
    if len(showcase) and attempts[showcase].sum() == 0:
        attempts[showcase[0]] = 1

    # Rank the open days of each row at random; the first `attempts` of them get an attempt.
    keys = np.where(weeks["open"], rng.random((n_rows, 7)), 2.0)
    rank = np.empty((n_rows, 7), dtype=np.int64)
    np.put_along_axis(rank, np.argsort(keys, axis=1), np.arange(7)[None, :], axis=1)
    attempted = rank < attempts[:, None]
    not_done = weeks["open"] & ~attempted & (rng.random((n_rows, 7)) < SHARE_NOT_DONE)

    row, weekday = np.nonzero(attempted | not_done)  # in (client, assignment, day) order
    status = np.where(not_done[row, weekday], 2, np.where(rng.random(len(row)) < SHARE_PARTLY, 1, 0))
    credit_of_status = np.array([CREDIT["done"], CREDIT["partly"], CREDIT["not_done"]])
    credit = np.bincount(row, weights=credit_of_status[status], minlength=n_rows)

    # Realised compliance per client-week: capped credit over expected.
    cell = weeks["client"] * calendar.n_weeks + weeks["week"]
    n_cells = len(clients["start"]) * calendar.n_weeks
    capped = np.bincount(cell, weights=np.minimum(credit, weeks["expected"]), minlength=n_cells)
    expected = np.bincount(cell, weights=weeks["expected"], minlength=n_cells)
    with np.errstate(invalid="ignore", divide="ignore"):
        realised = np.where(expected > 0, capped / expected, np.nan).reshape(-1, calendar.n_weeks)

    logs = {"assignment": weeks["assignment"][row], "day": weeks["day"][row, weekday], "status": status}
    return _done_early(rng, logs, assignments, clients), realised


def _done_early(rng, logs, assignments, clients):
    """Move some "done" logs of once-off tasks to an open day before their due week (from the
    day the task was set): the compliance rule credits them in the due week all the same, so
    the realised compliance does not change. Returns the logs in (assignment, day) order."""
    assignment = logs["assignment"]
    due = assignments["due"][assignment]
    set_on = assignments["starts"][assignment]
    due_monday = due // 7 * 7
    client = assignments["client"][assignment]
    early_day = set_on + np.floor(rng.random(len(assignment)) * (due_monday - set_on)).astype(np.int64)
    paused = (early_day >= clients["pause_start"][client]) & (early_day <= clients["pause_end"][client])
    early = (
        assignments["once"][assignment]
        & (logs["status"] == 0)
        & (set_on < due_monday)
        & ~paused
        & (rng.random(len(assignment)) < SHARE_DONE_EARLY)
    )
    day = np.where(early, early_day, logs["day"])
    order = np.lexsort((day, assignment))
    return {"assignment": assignment[order], "day": day[order], "status": logs["status"][order]}


def _homework_log_frame(rng, logs, assignments, clinic, calendar):
    """Details of each attempt: minutes, ratings and the odd note."""
    n = len(logs["day"])
    status = logs["status"]
    tried = status < 2
    client = assignments["client"][logs["assignment"]]
    typical = assignments["minutes"][logs["assignment"]]
    minutes = np.rint(typical * np.exp(rng.normal(0, 0.35, n)) * np.where(status == 1, 0.5, 1.0))
    helpfulness = np.clip(np.rint(rng.normal(3.5, 0.9, n)), 1, 5)
    difficulty = np.clip(np.rint(rng.normal(2.7, 1.0, n)), 1, 5)
    # A short note on a minority of logs, worded for what happened.
    note_code = np.where(
        tried, rng.integers(len(DONE_NOTES), size=n), len(DONE_NOTES) + rng.integers(len(NOT_DONE_NOTES), size=n)
    )
    note_code = np.where(rng.random(n) < 0.07, note_code, -1)
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "assignment_id": logs["assignment"] + 1,
            "client_id": clinic.client_ids[client],
            "log_date": calendar.dates(logs["day"]),
            "status": pd.Categorical.from_codes(status, ["done", "partly", "not_done"]),
            "minutes": _nullable(np.clip(minutes, 1, 600), tried & (rng.random(n) < 0.8)),
            "helpfulness": _nullable(helpfulness, tried & (rng.random(n) < 0.7)),
            "difficulty": _nullable(difficulty, tried & (rng.random(n) < 0.6)),
            "note": pd.Categorical.from_codes(note_code, DONE_NOTES + NOT_DONE_NOTES),
            "created_at": calendar.timestamps(logs["day"], rng.integers(18 * 3600, 23 * 3600, n)),
        }
    )


def _assignment_frame(assignments, clinic, calendar):
    category, title, instructions = (np.array(column) for column in list(zip(*HOMEWORK_CATALOGUE))[:3])
    entry = assignments["entry"]
    client = assignments["client"]
    once = assignments["once"]
    return pd.DataFrame(
        {
            "id": np.arange(1, len(entry) + 1),
            "client_id": clinic.client_ids[client],
            "therapist_id": clinic.therapist_of_client[client],
            "title": title[entry],
            "category": category[entry],
            "instructions": instructions[entry],
            "schedule": np.where(once, "once", "weekly"),
            "times_per_week": _nullable(assignments["times_per_week"], ~once),
            "due_on": _nullable_dates(calendar, assignments["due"], once),
            "starts_on": calendar.dates(assignments["starts"]),
            "ends_on": _nullable_dates(calendar, assignments["ends"], assignments["ends"] >= 0),
            # Set at the session where it was agreed.
            "created_at": calendar.timestamps(assignments["starts"], 16 * 3600),
        }
    )
