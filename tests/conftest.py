"""A fresh DuckDB file per test, a tiny two-team clinic to test scopes against, and the
whole app under AppTest.

The app runs from a small entry script in a temporary folder: with `pages/` beside the
main script, AppTest would rerun a page on its own instead of the whole app (login,
session checks and navigation included), which the real server never does.
"""

import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from bench.postgres_server import postgres_server
from data_layer import login_sessions, reminders, users
from data_layer.core import db, login_throttle
from data_layer.core.access import LOGIN, Principal
from data_layer.users import hash_password
from ops.demo import create_demo_database
from ui import db as ui_db
from ui.auth import COOKIE_LIFETIME, SESSION_TOKEN

# The folders whose tests run on both engines: the embedded DuckDB file and PostgreSQL (server mode,
# issue #15). Tests elsewhere run on DuckDB; HOMEWORK_TEST_ENGINES=duckdb,postgres (or =postgres)
# runs every test that takes a database on those engines instead.
BOTH_ENGINES = ("tests/data_layer", "tests/clinical")

# Tests see the app's real error messages (production hides them: showErrorDetails = "none").
config.set_option("client.showErrorDetails", "full")

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery"
TEST_COOKIE_KEY = "test-only-cookie-key-0123456789-abcdefghijklmnop"
# bcrypt is slow on purpose: hash once for every test user.
PASSWORD_HASH = hash_password(PASSWORD)


def pytest_generate_tests(metafunc):
    """Run each test that takes a database once per engine it is meant for (BOTH_ENGINES)."""
    if "database" not in metafunc.fixturenames:
        return
    chosen = os.environ.get("HOMEWORK_TEST_ENGINES")
    if chosen:
        engines = chosen.split(",")
    elif hasattr(metafunc.module, "ENGINES"):
        engines = metafunc.module.ENGINES
    elif Path(metafunc.definition.path).relative_to(ROOT).as_posix().startswith(BOTH_ENGINES):
        engines = ["duckdb", "postgres"]
    else:
        engines = ["duckdb"]
    metafunc.parametrize("database", engines, indirect=True)


def pytest_collection_modifyitems(items):
    """Mark the browser tests (tests/e2e) so that `make test-fast` can leave them out."""
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def fresh_login_throttle(monkeypatch):
    """Each test starts with the app's login throttle untouched by other tests' failed logins."""
    throttle = login_throttle.LoginThrottle()
    monkeypatch.setattr(login_throttle, "THROTTLE", throttle)
    return throttle


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """An empty database with every migration applied, made once: each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.duckdb"
    db.connect(path).close()
    return path


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for this test session, with a migrated template database."""
    with postgres_server() as server:
        db.connect(server.create_database("homework_template")).close()
        yield server


@pytest.fixture
def database(request, tmp_path, migrated_database):
    """A fresh database for this test, as HOMEWORK_DB names it: a copy of the migrated template
    (same schema, no rows) as a DuckDB file, or in server mode a PostgreSQL database's URL."""
    if request.param == "postgres":
        return request.getfixturevalue("postgres").create_database(
            f"test_{uuid.uuid4().hex}", template="homework_template"
        )
    path = tmp_path / "test.duckdb"
    shutil.copyfile(migrated_database, path)
    return str(path)


@pytest.fixture
def conn(database):
    """The test's database, opened as the app opens it."""
    connection = db.connect(database)
    yield connection
    connection.close()


@pytest.fixture
def cur(conn):
    return conn.cursor()


@dataclass
class World:
    """Two teams: client_a with therapist_a under supervisor_a, and the same for b."""

    admin: Principal
    client_a: Principal
    therapist_a: Principal
    supervisor_a: Principal
    client_b: Principal
    therapist_b: Principal
    supervisor_b: Principal
    assignment_a: int
    assignment_b: int
    homework_log_b: int
    mood_log_b: int
    paused_period_b: int
    risk_flag_b: int


def add_user(cur, username, display_name, role):
    """Insert an account directly (test set-up) and return its Principal."""
    (user_id,) = cur.execute(
        """INSERT INTO users (username, display_name, role, password_hash)
           VALUES (?, ?, ?, ?) RETURNING id""",
        [username, display_name, role, PASSWORD_HASH],
    ).fetchone()
    return Principal(user_id=user_id, role=role, display_name=display_name)


def add_assignment(cur, client, therapist, title, starts_on):
    (assignment_id,) = cur.execute(
        """INSERT INTO assignments (client_id, therapist_id, title, category, instructions,
                                    schedule, times_per_week, starts_on)
           VALUES (?, ?, ?, 'thought_record', 'Write down the thought.', 'weekly', 3, ?)
           RETURNING id""",
        [client.user_id, therapist.user_id, title, starts_on],
    ).fetchone()
    return assignment_id


@pytest.fixture
def world(cur):
    started = date.today() - timedelta(days=30)
    people = {
        "admin": add_user(cur, "admin", "Ada Admin", "admin"),
        "client_a": add_user(cur, "client_a", "Alice Client", "client"),
        "therapist_a": add_user(cur, "therapist_a", "Tom Therapist", "therapist"),
        "supervisor_a": add_user(cur, "supervisor_a", "Sue Supervisor", "supervisor"),
        "client_b": add_user(cur, "client_b", "Foreign Client Bee", "client"),
        "therapist_b": add_user(cur, "therapist_b", "Foreign Therapist Bee", "therapist"),
        "supervisor_b": add_user(cur, "supervisor_b", "Foreign Supervisor Bee", "supervisor"),
    }
    for team in "ab":
        client, therapist, supervisor = (people[f"{role}_{team}"] for role in ("client", "therapist", "supervisor"))
        cur.execute(
            "INSERT INTO caseload (client_id, therapist_id, started_on) VALUES (?, ?, ?)",
            [client.user_id, therapist.user_id, started],
        )
        cur.execute(
            "INSERT INTO supervision (therapist_id, supervisor_id, started_on) VALUES (?, ?, ?)",
            [therapist.user_id, supervisor.user_id, started],
        )
    assignment_b = add_assignment(cur, people["client_b"], people["therapist_b"], "Foreign homework Bee", started)
    client_b = people["client_b"].user_id
    (homework_log_b,) = cur.execute(
        """INSERT INTO homework_logs (assignment_id, client_id, log_date, status, note)
           VALUES (?, ?, current_date, 'done', 'Bee note') RETURNING id""",
        [assignment_b, client_b],
    ).fetchone()
    (mood_log_b,) = cur.execute(
        """INSERT INTO mood_logs (client_id, log_date, mood, note)
           VALUES (?, current_date, 4, 'Bee mood') RETURNING id""",
        [client_b],
    ).fetchone()
    (paused_period_b,) = cur.execute(
        """INSERT INTO paused_periods (client_id, starts_on, ends_on, reason, created_by)
           VALUES (?, current_date, current_date + 3, 'Bee holiday', ?) RETURNING id""",
        [client_b, client_b],
    ).fetchone()
    (questionnaire_b,) = cur.execute(
        """INSERT INTO questionnaires (client_id, instrument, taken_on, item_1, item_2, item_3, item_4, item_5,
               item_6, item_7, item_8, item_9, total)
           VALUES (?, 'PHQ-9', current_date, 1, 1, 1, 1, 1, 1, 1, 1, 1, 9) RETURNING id""",
        [client_b],
    ).fetchone()
    (risk_flag_b,) = cur.execute(
        """INSERT INTO risk_flags (client_id, therapist_id, questionnaire_id, item_9_answer)
           VALUES (?, ?, ?, 1) RETURNING id""",
        [client_b, people["therapist_b"].user_id, questionnaire_b],
    ).fetchone()
    return World(
        **people,
        assignment_a=add_assignment(cur, people["client_a"], people["therapist_a"], "Thought record", started),
        assignment_b=assignment_b,
        homework_log_b=homework_log_b,
        mood_log_b=mood_log_b,
        paused_period_b=paused_period_b,
        risk_flag_b=risk_flag_b,
    )


APP = str(ROOT / "app.py")


def run_app(app_path):
    import runpy  # AppTest runs this function's source alone, without the module's imports

    runpy.run_path(app_path, run_name="__main__")


@pytest.fixture
def app(database, monkeypatch, world):
    monkeypatch.setenv("HOMEWORK_DB", database)
    monkeypatch.setenv("HOMEWORK_LOGIN_SLEEP_SECONDS", "0")
    monkeypatch.setenv("HOMEWORK_COOKIE_KEY", TEST_COOKIE_KEY)
    return AppTest.from_function(run_app, args=(APP,), default_timeout=30)


def open_page(app, page):
    """Switch to `page` (e.g. "pages/client_today.py"), as the sidebar link would, and run."""
    target = Path(APP).parent / page
    return app.switch_page(os.path.relpath(target, Path(app._script_path).parent)).run()


def logged_in(app, username):
    """Start a real login session for `username`, as the login form does, and run the app in it."""
    cur = ui_db.cursor()  # the app's own connection to $HOMEWORK_DB
    user = users.load_session_user(cur, LOGIN, username=username)
    app.session_state[SESSION_TOKEN] = login_sessions.start_login_session(
        cur, LOGIN, user_id=user.id, lifetime=COOKIE_LIFETIME
    )
    return app.run()


def add_questionnaire(cur, client, instrument, taken_on, total):
    """Insert a PHQ-9 (item 9 = 0) or GAD-7 with the given total (test set-up)."""
    n_items = 9 if instrument == "PHQ-9" else 7
    items = [min(3, max(0, total - 3 * k)) for k in range(n_items)]
    if instrument == "PHQ-9":
        items[8] = 0
        items[0] += total - sum(items)
    items += [None] * (9 - n_items)
    cur.execute(
        """INSERT INTO questionnaires (client_id, instrument, taken_on, item_1, item_2, item_3, item_4,
                   item_5, item_6, item_7, item_8, item_9, total) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [client.user_id, instrument, taken_on, *items, total],
    )


def add_pair(cur, client, taken_on, phq9, gad7):
    """A PHQ-9 and a GAD-7 taken on the same day."""
    add_questionnaire(cur, client, "PHQ-9", taken_on, phq9)
    add_questionnaire(cur, client, "GAD-7", taken_on, gad7)


def add_attended_sessions(cur, client, therapist, *days_ago):
    for days in days_ago:
        cur.execute(
            "INSERT INTO therapy_sessions (client_id, therapist_id, session_date, attended) VALUES (?, ?, ?, true)",
            [client.user_id, therapist.user_id, date.today() - timedelta(days=days)],
        )


def turn_on_reminders(cur, client, on_day):
    """The client turns reminders on (through the data layer, so with its history row), as if at
    noon on `on_day`."""
    reminders.set_reminders(cur, client, enabled=True, send_at=time(18, 0), days=[1, 2, 3, 4, 5, 6, 7])
    cur.execute(
        "UPDATE reminder_history SET changed_at = ? WHERE client_id = ?",
        [datetime.combine(on_day, time(12, 0)), client.user_id],
    )


def add_reminder(cur, client, sent_at, status="sent"):
    """A client reminder in the outbox, due at `sent_at` (and sent then, when 'sent')."""
    cur.execute(
        """INSERT INTO outbox (message_key, recipient_id, kind, due_at, status, sent_at)
           VALUES (?, ?, 'client_reminder', ?, ?, ?)""",
        [
            f"reminder:{client.user_id}:{sent_at:%Y-%m-%d}",
            client.user_id,
            sent_at,
            status,
            sent_at if status == "sent" else None,
        ],
    )


def add_homework_log(cur, assignment_id, client, created_at, status="done"):
    """A homework log for the day of `created_at`, made at that moment."""
    cur.execute(
        """INSERT INTO homework_logs (assignment_id, client_id, log_date, status, created_at)
           VALUES (?, ?, ?, ?, ?)""",
        [assignment_id, client.user_id, created_at.date(), status, created_at],
    )


@pytest.fixture
def earlier_episode_elsewhere(cur, world):
    """client_a had an earlier episode with therapist_b (two pairs, three attended sessions)
    before coming to therapist_a 5 days ago; this episode has one pair and no session yet."""

    def ago(days):
        return date.today() - timedelta(days=days)

    cur.execute("UPDATE caseload SET started_on = ? WHERE client_id = ?", [ago(5), world.client_a.user_id])
    cur.execute(
        "INSERT INTO caseload (client_id, therapist_id, started_on, ended_on) VALUES (?, ?, ?, ?)",
        [world.client_a.user_id, world.therapist_b.user_id, ago(120), ago(6)],
    )
    add_attended_sessions(cur, world.client_a, world.therapist_b, 100, 60, 20)
    add_pair(cur, world.client_a, ago(100), 20, 15)
    add_pair(cur, world.client_a, ago(20), 8, 6)
    add_pair(cur, world.client_a, ago(2), 9, 7)


@pytest.fixture
def two_teams_under_one_supervisor(cur, world):
    """supervisor_a: therapist_a with 4 clients, therapist_c with 6; every episode ended today and
    finished (two pairs, two attended sessions)."""
    therapist_c = add_user(cur, "therapist_c", "Cara Therapist", "therapist")
    cur.execute(
        "INSERT INTO supervision (therapist_id, supervisor_id, started_on) VALUES (?, ?, ?)",
        [therapist_c.user_id, world.supervisor_a.user_id, date.today() - timedelta(days=90)],
    )
    clients = [(world.client_a, world.therapist_a)]
    clients += [(add_user(cur, f"a{n}", f"A team {n}", "client"), world.therapist_a) for n in range(3)]
    clients += [(add_user(cur, f"c{n}", f"C team {n}", "client"), therapist_c) for n in range(6)]
    for index, (client, therapist) in enumerate(clients):
        if index:
            cur.execute(
                "INSERT INTO caseload (client_id, therapist_id, started_on) VALUES (?, ?, ?)",
                [client.user_id, therapist.user_id, date.today() - timedelta(days=60)],
            )
        for weeks_ago, phq, gad in ((8, 16, 12), (1, 6 + index % 3, 5)):
            add_pair(cur, client, date.today() - timedelta(weeks=weeks_ago), phq, gad)
        add_attended_sessions(cur, client, therapist, 49, 21)
    # Every episode ended today (today always lies in the period the cohort page shows first).
    cur.execute(
        "UPDATE caseload SET ended_on = current_date WHERE therapist_id IN (?, ?)",
        [world.therapist_a.user_id, therapist_c.user_id],
    )
    cur.execute(
        """INSERT INTO discharges (caseload_id, reason, discharged_by)
                   SELECT id, 'completed', therapist_id FROM caseload WHERE therapist_id IN (?, ?)""",
        [world.therapist_a.user_id, therapist_c.user_id],
    )
    return therapist_c


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    """A demo clinic database file, one per test module."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    create_demo_database(path)
    return path


@pytest.fixture
def demo_app(demo_path, monkeypatch):
    """The whole app under AppTest on the demo clinic."""
    monkeypatch.setenv("HOMEWORK_DB", str(demo_path))
    monkeypatch.setenv("HOMEWORK_LOGIN_SLEEP_SECONDS", "0")
    return AppTest.from_function(run_app, args=(APP,), default_timeout=60)
