"""A deterministic demo clinic, generated with numpy/pandas and bulk-loaded into DuckDB.

`build_clinic()` returns one DataFrame per table (columns as in the schema, ids from 1);
`load_clinic()` bulk-loads them into a migrated database; `create_demo_database()` does
both for a new file, and `python -m ops.demo PATH [--seed N]` runs it from a shell.

Everything is vectorised over all clients (a loop per week, or per kind of discharge, at
most), because the same generator builds the benchmark clinic of 10,000 clients over a year
(millions of logs).

The clinic has a built-in effect that the compliance-versus-outcome analyses (docs/clinical-rules.md)
must recover: homework done in week t lowers the latent PHQ-9 of week t+1, while severity
has no effect on homework. Weekly latent depression of client i, from the episode start:

    s[t+1] = s[t] + rate * (endpoint_i - s[t]) - beta * (compliance[t] - 0.5) + noise

`rate * (endpoint_i - s[t])` is the client's natural drift: endpoints differ a lot between
clients (recovery rates differ), and the drift slows as the client nears it, so a year-long
history does not run every client into the floor. `compliance[t]` is the client's realised
compliance in ISO week t, computed from the generated logs exactly as docs/clinical-rules.md defines it.
The latent scores stop changing when an episode ends. Who completes leans a little on the
natural endpoint (clients who get better complete, those who do not are more often referred
on), never on homework, so the built-in effect is untouched.

The generators, by what they make (each returns arrays or one table's DataFrame):
ops/demo/people.py (the calendar, user ids by role, the accounts), episodes.py (each client's
parameters and episodes of care), homework.py (assignments and homework logs),
questionnaires.py (symptom courses, questionnaires and risk flags), mood.py (mood logs),
care.py (caseload, discharges, supervision, paused periods, therapy sessions), reminders.py
(reminders turned on some weeks ago, their history and the reminders sent), columns.py
(nullable columns); build.py runs them all (build_clinic), load.py loads the frames into a
database (load_clinic, create_demo_database) and __main__.py is the command line.
"""

from ops.demo.build import DEFAULT_SEED, DEMO_PAST_CLIENTS, TABLES, build_clinic
from ops.demo.load import SEQUENCES, create_demo_database, load_clinic
from ops.demo.people import DEMO_LOGINS, DEMO_PASSWORD, Calendar, Clinic

__all__ = [
    "DEFAULT_SEED",
    "DEMO_PAST_CLIENTS",
    "DEMO_LOGINS",
    "DEMO_PASSWORD",
    "SEQUENCES",
    "TABLES",
    "Calendar",
    "Clinic",
    "build_clinic",
    "create_demo_database",
    "load_clinic",
]
