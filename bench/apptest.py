"""The whole app under Streamlit's AppTest: a logged-in app per user, one timed page run, the
environment the app reads while it runs, and the full garbage collections inside timed samples."""

import contextlib
import os
import secrets
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from bench.pages import start_session
from ui import db as ui_db
from ui.auth import SESSION_TOKEN

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
APP_TIMEOUT_SECONDS = 300


def run_app(app_path):
    import runpy  # AppTest runs this function's source alone, without the module's imports

    runpy.run_path(app_path, run_name="__main__")


def logged_in_app(username):
    """Return an AppTest of the whole app with `username` logged in (a real login session, as
    the login form starts it), after its first run."""
    app = AppTest.from_function(run_app, args=(APP,), default_timeout=APP_TIMEOUT_SECONDS)
    app.session_state[SESSION_TOKEN] = start_session(ui_db.cursor(), username)
    app.run()
    if app.exception:
        raise RuntimeError(f"logging in {username} failed: {app.exception[0].message}")
    return app


def time_page_run(app, page):
    """Run the whole app on `page` once; return the seconds the run took. Raises if the page failed."""
    target = os.path.relpath(ROOT / page.script, Path(app._script_path).parent)
    app.switch_page(target)
    started = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    if app.exception:
        raise RuntimeError(f"{page.script} raised: {app.exception[0].message}")
    if not app.title:
        raise RuntimeError(f"{page.script} showed no title: it did not run to the end")
    return elapsed


def timed(function, *args):
    """Return the seconds `function(*args)` took."""
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


class FullCollections:
    """The pauses of Python's full (generation 2) garbage collections, seen through gc.callbacks.

    They matter here: at L every page run allocates the login gate's 10,000-account dict,
    which sets off a full collection of the whole heap every few runs.
    """

    def __init__(self):
        self.pauses = []
        self._started = None

    def __call__(self, phase, info):
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            self.pauses.append(time.perf_counter() - self._started)
            self._started = None

    @property
    def seconds(self):
        """Return the total pause so far."""
        return sum(self.pauses)


FULL_GC = FullCollections()


@contextlib.contextmanager
def environment(**values):
    """Set these environment variables for the block, each restored afterwards (removed when it was unset)."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def use_database(path):
    """Point the app (settings: $HOMEWORK_DB) at `path` for the block."""
    return environment(HOMEWORK_DB=str(path))


def app_environment():
    """The environment the app needs under the benchmark for the block: no login throttle, and one
    cookie key (every app process in server mode needs the configured one: ui/auth.py)."""
    return environment(HOMEWORK_LOGIN_SLEEP_SECONDS="0", HOMEWORK_COOKIE_KEY=secrets.token_urlsafe(48))
