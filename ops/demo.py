"""A deterministic demo clinic, generated with numpy/pandas and bulk-loaded into DuckDB.

`build_clinic()` returns one DataFrame per table (columns as in the schema, ids from 1);
`load_clinic()` bulk-loads them into a migrated database; `create_demo_database()` does
both for a new file, and `python -m ops.demo PATH [--seed N]` runs it from a shell.

Everything is vectorised over all clients (a loop per week, or per kind of discharge, at
most), because the same generator builds the benchmark clinic of 10,000 clients over a year
(millions of logs).

Episodes of care end, as in a real service (docs/clinical-rules.md, "Outcomes"): episodes
start over the first six weeks of the history, and about a quarter of them have ended
before today, each with its caseload.ended_on and its `discharges` row: most completed
after 8-12 weeks of sessions, some dropped out within days of the start (one questionnaire
pair, one session attended at most), a few referred on. Nothing of an ended episode is
dated after its last day. A few completed or dropped-out clients were referred again in the
last two weeks (a second caseload row, same therapist, in progress, holding its first
session and questionnaire pair), and a few episodes began in the last week (one pair so
far). The documented logins stay in care: client01 (the whole history, engaged) and the
two risk clients (RISK_CLIENTS). Some once-off tasks are done before their due week.

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
"""

import argparse
import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from clinical.homework import CATEGORIES, CREDIT
from data_layer.core import db
from data_layer.users import hash_password

DEFAULT_SEED = 47
DEMO_PASSWORD = "homework-demo"
DEMO_LOGINS = [("client", "client01"), ("therapist", "therapist1"), ("supervisor", "supervisor"), ("admin", "admin")]

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
)
# The id sequence of each table that has one (see migrations.py); discharges is keyed by its caseload row.
SEQUENCES = {
    "users": "user_id_seq",
    "caseload": "caseload_id_seq",
    "supervision": "supervision_id_seq",
    "assignments": "assignment_id_seq",
    "homework_logs": "homework_log_id_seq",
    "paused_periods": "paused_period_id_seq",
    "mood_logs": "mood_log_id_seq",
    "questionnaires": "questionnaire_id_seq",
    "therapy_sessions": "therapy_session_id_seq",
    "risk_flags": "risk_flag_id_seq",
}

# --- The model. Tuned so that the default clinic shows the published association
# (client-level r about -.27, Mausbach et al. 2010) and a lagged within-client effect. ---
COMPLIANCE_CENTRE = 0.5  # compliance that neither speeds nor slows recovery
WEEKLY_COMPLIANCE_SD = 0.28  # week-to-week swing of a client's homework around their propensity
RECOVERY_RATE = 0.10  # share of the distance to the natural endpoint covered per week
PHQ9_BETA = 1.0  # PHQ-9 points per week per unit of compliance above the centre
GAD7_BETA = 0.45  # smaller effect on anxiety
LATENT_SD = 0.6  # weekly innovation of the latent scores
MEASUREMENT_SD = 0.7  # questionnaire-to-questionnaire noise around the latent score
PHQ9_START = (15.0, 4.0)  # latent PHQ-9 at the start: mean, sd (most clients are cases)
PHQ9_NATURAL_CHANGE = (-11.5, 10.0)  # endpoint minus start: mean, sd (recovery differs a lot)
GAD7_START = 10.5  # latent GAD-7 at the start for an average PHQ-9
GAD7_NATURAL_CHANGE = -2.5  # GAD-7 endpoint shift beyond what follows from the PHQ-9 one
SHARE_PARTLY = 0.15  # attempts logged as partly done
SHARE_NOT_DONE = 0.03  # open days on which a client explicitly logs "not done"
SHARE_FORTNIGHTLY = 0.1  # clients filling in questionnaires every 14 days instead of 7
SHARE_PAUSED = 0.12  # clients with a holiday or illness pause
ATTENDANCE = 0.85  # therapy sessions attended
STAGGER_DAYS = 42  # episodes start over the first six weeks of the history
# Episodes that end before today (docs/clinical-rules.md, "Outcomes"), as shares of all clients.
FATE_SHARE = {
    "completed": 0.17,  # discharged as completed at a session COMPLETED_WEEKS after the start
    "dropped_out": 0.06,  # came once, then stopped: discharged DROPOUT_DAYS after the start
    "referred_on": 0.03,  # referred to another service at a session REFERRED_WEEKS after the start
}
# How much the choice leans on the client's natural course (endpoint minus start of the latent
# PHQ-9, in SDs, against a uniform draw): positive picks those who improve most first.
FATE_LEANING = {"completed": 0.15, "dropped_out": 0.0, "referred_on": -0.15}
SHARE_REREFERRED = 0.05  # completed or dropped out, and referred again in the last two weeks
SHARE_RECENT = 0.07  # episodes begun in the last week: one questionnaire pair so far
COMPLETED_WEEKS = (8, 12)
DROPOUT_DAYS = (3, 10)
REFERRED_WEEKS = (2, 6)
RELAPSE = (6.0, 2.0)  # PHQ-9 points gained between discharge and re-referral: mean, sd
SHARE_DONE_EARLY = 0.75  # "done" once-off tasks logged before their due week, when set in an earlier one
FATES = ("in_progress", "completed", "dropped_out", "referred_on")  # codes 1-3: discharges.reason
RISK_CLIENTS = {1: 1, 2: 2}  # client index (client02, client03) -> PHQ-9 item 9 at the last PHQ-9
# client01 is the documented demo login, so it shows the product at its best: an engaged
# client (compliance about 0.87), never paused, with homework logged in the current week.
SHOWCASE_PROPENSITY = 0.92
SECONDS_PER_DAY = 24 * 3600

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
MOOD_NOTES = [
    "Slept badly.",
    "Good day with friends.",
    "Stressful day at work.",
    "Argument at home.",
    "Got outside in the sun.",
    "Felt flat all day.",
]
PAUSE_REASONS = ["Holiday", "Flu", "Family visit", "Hospital stay", "Work trip", "Covid"]

FIRST_NAMES = [
    "Aisha",
    "Ben",
    "Chloe",
    "Daniel",
    "Elif",
    "Finn",
    "Grace",
    "Hamza",
    "Isla",
    "Jamal",
    "Kasia",
    "Liam",
    "Maya",
    "Noah",
    "Olu",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Yara",
    "Zoe",
    "Aaron",
    "Bea",
    "Carlos",
    "Dara",
    "Emeka",
    "Fatima",
    "George",
    "Hana",
    "Ivan",
    "Jess",
    "Kofi",
    "Lena",
    "Marco",
    "Nadia",
    "Oscar",
    "Pavel",
    "Rhys",
    "Sofia",
    "Tomás",
    "Ursula",
    "Viktor",
    "Wendy",
    "Xin",
    "Yusuf",
    "Zainab",
    "Amara",
    "Bilal",
    "Ciara",
    "Declan",
    "Esme",
    "Farid",
    "Gemma",
    "Hiro",
    "Ines",
    "Joel",
]
SURNAMES = [
    "Rivera",
    "Okafor",
    "Chen",
    "Patel",
    "Novak",
    "Müller",
    "Kowalski",
    "Haddad",
    "Nguyen",
    "O'Brien",
    "Santos",
    "Ahmed",
    "Larsen",
    "Mensah",
    "Rossi",
    "Tanaka",
    "Ellis",
    "Jones",
    "Kaur",
    "Dubois",
]


@dataclass(frozen=True)
class Calendar:
    """ISO-week grid of the history: day 0 is the Monday of the first week, the last day is today.

    `seconds_today` is how much of today has passed when the clinic is built (86,400 for
    a `today` in the past): no timestamp may be later than that moment.
    """

    first_day: date
    n_days: int
    n_weeks: int
    seconds_today: int = SECONDS_PER_DAY

    def dates(self, day_index):
        """Day indices -> datetime64 dates."""
        return np.datetime64(self.first_day, "D") + np.asarray(day_index, dtype="int64")

    def timestamps(self, day_index, seconds):
        """Day indices plus seconds into the day -> datetime64[s] timestamps, none after the build.

        Today's rows are squeezed into the part of today that has passed (seconds scaled by
        seconds_today / 86,400), so they keep their order and never lie in the future.
        """
        day_index = np.asarray(day_index, dtype="int64")
        seconds = np.broadcast_to(np.asarray(seconds, dtype="int64"), day_index.shape)
        seconds = np.where(day_index == self.n_days - 1, seconds * self.seconds_today // SECONDS_PER_DAY, seconds)
        return self.dates(day_index).astype("datetime64[s]") + seconds


@dataclass(frozen=True)
class Clinic:
    """Who is who: user ids by role, and each client's therapist."""

    supervisor_ids: np.ndarray
    therapist_ids: np.ndarray
    client_ids: np.ndarray
    therapist_of_client: np.ndarray  # user id of each client's therapist


def build_clinic(*, seed=DEFAULT_SEED, n_clients=60, n_therapists=4, n_supervisors=1, weeks=16, today=None, now=None):
    """Return {table name: DataFrame} for a whole demo clinic, deterministic for (seed, today, now).

    History: `weeks` ISO weeks ending `today` (the current week is partial). `now` is the
    moment of the build (default datetime.now(); `today` defaults to its date): nothing is
    dated after today and no timestamp is later than now (or than the end of a `today` in
    the past). For a `today` in the past the result does not depend on the clock at all.
    Columns are named as in the schema; ids start at 1 in each table that has one (discharges
    is keyed by its caseload row).
    """
    if n_clients < 1 or n_therapists < 1 or n_supervisors < 1 or weeks < 1:
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
        ],
    )
    clinic = _people(n_clients, n_therapists, n_supervisors)
    clients = _client_parameters(rng["clients"], rng["episodes"], n_clients, calendar)

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
    return {table: frames[table] for table in TABLES}


def load_clinic(conn, frames):
    """Bulk-load `frames` (from build_clinic) into a migrated, empty database, in one transaction.

    Each frame is registered and copied with INSERT ... SELECT, sorted by client id where it
    has one (DuckDB then skips row groups for queries about a few clients). Afterwards every
    id sequence is advanced past the largest id, each assignment gets its one schedule version
    (assignment_schedules) and clinic_settings.demo is set to true.
    """
    cur = conn.cursor()
    with db.transaction(cur):
        for table in TABLES:
            _insert_frame(cur, table, _sorted_by_client(frames[table]))
        for table, sequence in SEQUENCES.items():
            # Table and sequence names are this module's constants; the count is a parameter.
            largest_sql = f"SELECT coalesce(max(id), 0) FROM {table}"
            draw_sql = f"SELECT max(nextval('{sequence}')) FROM range(?)"
            (max_id,) = cur.execute(largest_sql).fetchone()
            if max_id:
                cur.execute(draw_sql, [max_id])
        # Each assignment's one schedule version, set on the day it was created (docs/clinical-rules.md).
        cur.execute(
            """INSERT INTO assignment_schedules (assignment_id, valid_from, schedule, times_per_week, due_on,
                                                 starts_on, ends_on, created_at)
               SELECT id, CAST(created_at AS DATE), schedule, times_per_week, due_on, starts_on, ends_on,
                      created_at
               FROM assignments ORDER BY id"""
        )
        cur.execute("UPDATE clinic_settings SET demo = true")


def create_demo_database(path, *, seed=DEFAULT_SEED):
    """Create a new database file at `path` holding the demo clinic; return its row counts.

    One ongoing homework then gets a schedule change from 3 weeks ago (_change_one_schedule).

    Refuses (FileExistsError) when the file exists: the demo never overwrites data.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(
            f"{path} already exists. The demo clinic is only written to a new file: remove it or choose another path."
        )
    frames = build_clinic(seed=seed)
    conn = db.connect(path)
    try:
        load_clinic(conn, frames)
        _change_one_schedule(conn.cursor())
    except BaseException:
        conn.close()
        for leftover in (path, path.with_name(path.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    conn.close()
    return {table: len(frame) for table, frame in frames.items()}


def _change_one_schedule(cur):
    """Show a schedule edit that keeps its history: the first ongoing weekly homework (started 5+
    weeks ago) of the first client in care after the showcase ones goes up by 2 times a week
    from the Monday 3 weeks ago; the weeks before keep the old schedule (docs/clinical-rules.md)."""
    today = date.today()
    change_day = today - timedelta(days=today.weekday(), weeks=3)
    candidate = cur.execute(
        """SELECT a.id, a.times_per_week FROM assignments a
           JOIN caseload c ON c.client_id = a.client_id AND c.therapist_id = a.therapist_id AND c.ended_on IS NULL
           WHERE a.schedule = 'weekly' AND a.ends_on IS NULL AND a.times_per_week <= 12
             AND a.starts_on <= CAST(? AS DATE) - 14
             AND a.client_id > (SELECT min(id) + ? FROM users WHERE role = 'client')
             AND a.client_id NOT IN (SELECT client_id FROM paused_periods)
           ORDER BY a.client_id, a.id LIMIT 1""",
        [change_day, len(RISK_CLIENTS)],
    ).fetchone()
    if candidate is None:
        return
    assignment_id, times_per_week = candidate
    with db.transaction(cur):
        cur.execute(
            """INSERT INTO assignment_schedules (assignment_id, valid_from, schedule, times_per_week, due_on,
                                                 starts_on, ends_on, created_at)
               SELECT id, ?, schedule, ?, due_on, starts_on, ends_on, CAST(? AS DATE) + INTERVAL 16 HOUR
               FROM assignments WHERE id = ?""",
            [change_day, times_per_week + 2, change_day, assignment_id],
        )
        cur.execute("UPDATE assignments SET times_per_week = ? WHERE id = ?", [times_per_week + 2, assignment_id])


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m ops.demo", description="Create a new DuckDB file holding the demo clinic and print its logins."
    )
    parser.add_argument("path", help="where to create the database (must not exist)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        counts = create_demo_database(args.path, seed=args.seed)
    except FileExistsError as error:
        parser.error(str(error))
    print(
        f"Demo clinic written to {args.path} (seed {args.seed}): "
        + ", ".join(f"{rows} {table}" for table, rows in counts.items())
    )
    print(f"Demo logins (password for every account: {DEMO_PASSWORD}):")
    for role, username in DEMO_LOGINS:
        print(f"  {role:<11} {username}")


# ---------------------------------------------------------------- set-up


def _calendar(today, weeks, now):
    first_day = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    passed = SECONDS_PER_DAY if now.date() > today else int((now - datetime.combine(today, time())).total_seconds())
    return Calendar(first_day=first_day, n_days=(today - first_day).days + 1, n_weeks=weeks, seconds_today=passed)


def _streams(seed, names):
    """One independent generator per part of the clinic, so that changing the shape of one
    part (e.g. `today` moving the week boundaries) leaves the draws of the others alone."""
    children = np.random.SeedSequence(seed).spawn(len(names))
    return {name: np.random.default_rng(child) for name, child in zip(names, children)}


def _people(n_clients, n_therapists, n_supervisors):
    """User ids in the order admin, supervisors, therapists, clients; clients split evenly
    over therapists in order (client01.. -> therapist1, ...)."""
    supervisor_ids = np.arange(n_supervisors) + 2
    therapist_ids = np.arange(n_therapists) + 2 + n_supervisors
    client_ids = np.arange(n_clients) + 2 + n_supervisors + n_therapists
    therapist_of_client = therapist_ids[np.arange(n_clients) * n_therapists // n_clients]
    return Clinic(supervisor_ids, therapist_ids, client_ids, therapist_of_client)


def _client_parameters(rng, episode_rng, n, calendar):
    """Per-client facts and latent traits; all drawn with shapes that depend only on n.

    `start` and `end` are the first and last day of the client's (first) episode: `end` is
    the last day of the history while the episode is in progress (see _episodes).
    """
    last_day = calendar.n_days - 1
    start = np.floor(rng.random(n) * min(STAGGER_DAYS, calendar.n_days)).astype(np.int64)
    start[0] = 0  # client01 has the whole history
    fortnightly = rng.random(n) < SHARE_FORTNIGHTLY
    fortnightly[:3] = False  # client01 and the two risk clients answer weekly
    # Engagement from near 0 to near 1, independent of severity (severity must not drive homework).
    propensity = rng.uniform(0.03, 0.97, n)
    propensity[0] = SHOWCASE_PROPENSITY
    # Latent PHQ-9 and GAD-7 at the start and the natural endpoint each drifts to.
    phq_start = np.clip(rng.normal(*PHQ9_START, n), 7, 26)
    phq_end = np.clip(phq_start + rng.normal(*PHQ9_NATURAL_CHANGE, n), 0, 27)
    # Anxiety goes with depression, at the start and in its course.
    gad_start = np.clip(GAD7_START + 0.5 * (phq_start - PHQ9_START[0]) + rng.normal(0, 3.0, n), 2, 21)
    gad_end = np.clip(gad_start + 0.45 * (phq_end - phq_start) + rng.normal(GAD7_NATURAL_CHANGE, 3.0, n), 0, 21)
    # A holiday or illness pause of 4-10 days inside the episode for about one client in ten
    # (the episode must be long enough to hold it).
    paused = rng.random(n) < SHARE_PAUSED
    pause_days = rng.integers(4, 11, n)
    pause_position = rng.random(n)
    pause_by_client = rng.random(n) < 0.5
    pause_reason = rng.integers(len(PAUSE_REASONS), size=n)
    episodes = _episodes(episode_rng, start, phq_end - phq_start, calendar)
    start, end = episodes["start"], episodes["end"]
    pause_start = start + np.floor(pause_position * (end - start - pause_days)).astype(np.int64)
    paused &= pause_start > start
    paused[0] = False  # client01 has no break
    return {
        **episodes,
        "start_week": start // 7,
        "cadence": np.where(fortnightly, 14, 7),
        "propensity": propensity,
        "phq_start": phq_start,
        "phq_end": phq_end,
        "gad_start": gad_start,
        "gad_end": gad_end,
        # Clients without a pause get an empty interval (start after end).
        "pause_start": np.where(paused, pause_start, last_day + 1),
        "pause_end": np.where(paused, pause_start + pause_days - 1, -1),
        "pause_by_client": pause_by_client,
        "pause_reason": pause_reason,
        "paused": paused,
    }


def _episodes(rng, start, natural_change, calendar):
    """Who is still in care, who ended before today and how, and who came back.

    Per client: `fate` (a FATES index), `start` and `end` (first and last day of the first
    episode: the last day of the history while it is in progress), `ended`, `q_last` (the
    last day a questionnaire may be taken: a drop-out answers at the start only),
    `rereferral` (the start of a second episode, in progress, or -1) and `relapse` (PHQ-9
    points gained by then). The counts are shares of all clients, rounded; client01 and the
    risk clients stay in progress. Which clients get which fate is drawn at random among
    those whose episode fits in the history before today, leaning on the client's natural
    course (FATE_LEANING; never on their homework): clients who get better complete, those
    who do not are more often referred on (stepped care).
    """
    n = len(start)
    last_day = calendar.n_days - 1
    priority = rng.random(n)
    recent_days = rng.integers(0, 7, n)
    completed_weeks = rng.integers(COMPLETED_WEEKS[0], COMPLETED_WEEKS[1] + 1, n)
    dropout_days = rng.integers(DROPOUT_DAYS[0], DROPOUT_DAYS[1] + 1, n)
    referred_weeks = rng.integers(REFERRED_WEEKS[0], REFERRED_WEEKS[1] + 1, n)
    rereferral_priority = rng.random(n)
    rereferral_days = rng.integers(0, 14, n)
    relapse = rng.normal(*RELAPSE, n)

    free = np.ones(n, dtype=bool)
    free[[index for index in (0, *RISK_CLIENTS) if index < n]] = False  # the showcase logins

    def choose(share, eligible, leaning=0.0):
        """The `share` of all clients, by priority among the free and eligible ones."""
        order = np.argsort(priority + leaning * natural_change / PHQ9_NATURAL_CHANGE[1], kind="stable")
        chosen = order[(free & eligible)[order]][: round(share * n)]
        free[chosen] = False
        return chosen

    start = start.copy()
    recent = choose(SHARE_RECENT, np.ones(n, dtype=bool))
    start[recent] = np.maximum(last_day - recent_days[recent], 0)
    # A completed episode ends at a weekly session 8-12 weeks in (fewer when that would reach today).
    completed_weeks = np.minimum(completed_weeks, (last_day - 1 - start) // 7)
    ends = {
        "completed": start + 7 * completed_weeks,
        "dropped_out": start + dropout_days,
        "referred_on": start + 7 * referred_weeks,
    }
    eligible = {
        "completed": completed_weeks >= COMPLETED_WEEKS[0],
        "dropped_out": ends["dropped_out"] < last_day,
        "referred_on": ends["referred_on"] < last_day,
    }
    fate = np.zeros(n, dtype=np.int64)
    end = np.full(n, last_day)
    for code, name in enumerate(FATES[1:], 1):
        chosen = choose(FATE_SHARE[name], eligible[name], FATE_LEANING[name])
        fate[chosen] = code
        end[chosen] = ends[name][chosen]
    ended = fate > 0
    # Back in the last two weeks, at least a week after a completed or dropped-out episode ended.
    can_return = np.isin(fate, [FATES.index("completed"), FATES.index("dropped_out")]) & (end <= last_day - 21)
    returning = np.argsort(rereferral_priority, kind="stable")
    returning = returning[can_return[returning]][: round(SHARE_REREFERRED * n)]
    rereferral = np.full(n, -1)
    rereferral[returning] = last_day - rereferral_days[returning]
    return {
        "fate": fate,
        "start": start,
        "end": end,
        "ended": ended,
        "q_last": np.where(fate == FATES.index("dropped_out"), start, end),
        "rereferral": rereferral,
        "relapse": np.where(rereferral >= 0, np.maximum(relapse, 0), 0.0),
    }


# ---------------------------------------------------------------- homework


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


# ---------------------------------------------------------------- symptoms


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


# ---------------------------------------------------------------- people and sessions


def _users(rng, clinic, calendar):
    """Accounts in id order: admin, supervisors, therapists, clients; one shared password hash."""
    n_sup, n_ther, n_cli = len(clinic.supervisor_ids), len(clinic.therapist_ids), len(clinic.client_ids)
    width = max(2, len(str(n_cli)))
    usernames = (
        ["admin"]
        + ["supervisor" + (str(k + 1) if k else "") for k in range(n_sup)]
        + [f"therapist{k + 1}" for k in range(n_ther)]
        + [f"client{k + 1:0{width}d}" for k in range(n_cli)]
    )
    first = np.array(FIRST_NAMES)
    staff = [
        f"Dr. {f} {s}"
        for f, s in zip(
            first[rng.integers(len(first), size=n_sup + n_ther)],
            np.array(SURNAMES)[rng.integers(len(SURNAMES), size=n_sup + n_ther)],
        )
    ]
    initials = np.array(list("ABCDEFGHIJKLMNOPRSTUVWY"))
    clients = [
        f"{f} {i}."
        for f, i in zip(first[rng.integers(len(first), size=n_cli)], initials[rng.integers(len(initials), size=n_cli)])
    ]
    n = len(usernames)
    joined = datetime.combine(calendar.first_day - timedelta(days=30), time(9, 0))
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "username": usernames,
            "display_name": ["Clinic Admin"] + staff + clients,
            "email": [f"{name}@demo.invalid" for name in usernames],
            "role": ["admin"] + ["supervisor"] * n_sup + ["therapist"] * n_ther + ["client"] * n_cli,
            "password_hash": _demo_password_hash(),
            "active": True,
            "failed_logins": 0,
            "locked_until": pd.Series(pd.NaT, index=range(n), dtype="datetime64[s]"),
            "sessions_valid_after": pd.Timestamp(joined),
            "created_at": pd.Timestamp(joined),
        }
    )


@functools.cache
def _demo_password_hash():
    # bcrypt is slow on purpose: hash once per process and share it among all demo accounts.
    return hash_password(DEMO_PASSWORD)


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


# ---------------------------------------------------------------- helpers


def _nullable(values, present):
    """Integer values with NULL where `present` is false (pandas Int64)."""
    return pd.arrays.IntegerArray(np.where(present, values, 0).astype(np.int64), ~np.asarray(present))


def _nullable_dates(calendar, day_index, present):
    dates = calendar.dates(np.where(present, day_index, 0)).astype("datetime64[s]")
    return pd.Series(np.where(present, dates, np.datetime64("NaT")), dtype="datetime64[s]")


def _sorted_by_client(frame):
    if "client_id" not in frame.columns or frame["client_id"].is_monotonic_increasing:
        return frame
    return frame.sort_values(["client_id", "id"], kind="stable", ignore_index=True)


def _insert_frame(cur, table, frame):
    """INSERT ... SELECT from the registered frame; column names must be the table's own."""
    known = {
        name
        for (name,) in cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
        ).fetchall()
    }
    unknown = set(frame.columns) - known
    if unknown:
        raise ValueError(f"{table} has no column(s) {sorted(unknown)}")
    columns = ", ".join(f'"{name}"' for name in frame.columns)
    view = f"demo_{table}"
    # Arrow scans faster than a DataFrame with categorical and nullable columns.
    cur.register(view, pa.Table.from_pandas(frame, preserve_index=False))
    insert_sql = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {view}"  # constant names only
    try:
        cur.execute(insert_sql)
    finally:
        cur.unregister(view)


if __name__ == "__main__":
    main()
