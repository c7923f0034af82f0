"""The whole demo clinic as one DataFrame per table: build_clinic() runs the generators."""

from datetime import datetime

import numpy as np

from ops.demo.care import _caseload, _discharges, _paused_periods, _supervision, _therapy_sessions
from ops.demo.episodes import _client_parameters
from ops.demo.homework import (
    _assignment_frame,
    _assignments,
    _homework_log_frame,
    _homework_logs,
    _weekly_compliance_targets,
)
from ops.demo.mood import _mood_logs
from ops.demo.people import _calendar, _people, _users
from ops.demo.questionnaires import _questionnaire_frame, _questionnaires, _risk_flags, _symptom_courses
from ops.demo.reminders import _reminders

DEFAULT_SEED = 47
# Past clients of the demo: a clinic's earlier intake, whose episodes all ended before today.
DEMO_PAST_CLIENTS = 64

# Load order respects the foreign keys (discharges after caseload, risk flags after questionnaires).
TABLES = (
    "users",
    "caseload",
    "discharges",
    "supervision",
    "assignments",
    "homework_logs",
    "paused_periods",
    "mood_logs",
    "questionnaires",
    "therapy_sessions",
    "risk_flags",
    "reminder_preferences",
    "reminder_history",
    "outbox",
)


def build_clinic(
    *,
    seed=DEFAULT_SEED,
    n_clients=60,
    n_past_clients=DEMO_PAST_CLIENTS,
    n_therapists=4,
    n_supervisors=1,
    weeks=16,
    today=None,
    now=None,
):
    """Return {table name: DataFrame} for a whole demo clinic, deterministic for (seed, today, now).

    `n_clients` clients are in care or ended as a service's clients do (ops/demo/episodes.py);
    `n_past_clients` more (usernames numbered on after them) are past clients, each with one
    episode that ended before today, so that what is computed over ended episodes (outcomes,
    the not-on-track flag's check) has enough of them.

    History: `weeks` ISO weeks ending `today` (the current week is partial). `now` is the
    moment of the build (default datetime.now(); `today` defaults to its date): nothing is
    dated after today and no timestamp is later than now (or than the end of a `today` in
    the past). For a `today` in the past the result does not depend on the clock at all.
    Columns are named as in the schema; ids start at 1 in each table that has one (discharges
    is keyed by its caseload row).
    """
    if n_clients < 1 or n_past_clients < 0 or n_therapists < 1 or n_supervisors < 1 or weeks < 1:
        raise ValueError("A demo clinic needs at least one client, therapist, supervisor and week.")
    now = now or datetime.now()
    today = today or now.date()
    if today > now.date():
        raise ValueError(f"The history cannot end after now ({today} is later than {now:%Y-%m-%d}).")
    calendar = _calendar(today, weeks, now)
    rng = _streams(
        seed,
        [
            "names",
            "clients",
            "assignments",
            "engagement",
            "homework",
            "latent",
            "questionnaires",
            "mood",
            "sessions",
            "episodes",
            "reminders",
        ],
    )
    clinic = _people(n_clients, n_therapists, n_supervisors, n_past_clients)
    clients = _client_parameters(rng["clients"], rng["episodes"], n_clients + n_past_clients, calendar, n_past_clients)

    assignments = _assignments(rng["assignments"], clients, calendar)
    target = _weekly_compliance_targets(rng["engagement"], clients["propensity"], calendar.n_weeks)
    homework_logs, realised = _homework_logs(rng["homework"], assignments, clients, target, calendar)
    depression, anxiety = _symptom_courses(rng["latent"], clients, realised)
    questionnaires = _questionnaires(rng["questionnaires"], clients, depression, anxiety, calendar)

    frames = {
        "users": _users(rng["names"], clinic, calendar),
        "caseload": _caseload(clinic, clients, calendar),
        "discharges": _discharges(clinic, clients, calendar),
        "supervision": _supervision(clinic, calendar),
        "assignments": _assignment_frame(assignments, clinic, calendar),
        "homework_logs": _homework_log_frame(rng["homework"], homework_logs, assignments, clinic, calendar),
        "paused_periods": _paused_periods(clients, clinic, calendar),
        "mood_logs": _mood_logs(rng["mood"], clients, depression, anxiety, clinic, calendar),
        "questionnaires": _questionnaire_frame(questionnaires, clinic, calendar),
        "therapy_sessions": _therapy_sessions(rng["sessions"], clients, clinic, calendar),
    }
    frames["risk_flags"] = _risk_flags(frames["questionnaires"], clinic)
    frames |= _reminders(rng["reminders"], clients, assignments, homework_logs, clinic, calendar)
    return {table: frames[table] for table in TABLES}


def _streams(seed, names):
    """One independent generator per part of the clinic, so that changing the shape of one
    part (e.g. `today` moving the week boundaries) leaves the draws of the others alone."""
    children = np.random.SeedSequence(seed).spawn(len(names))
    return {name: np.random.default_rng(child) for name, child in zip(names, children)}
