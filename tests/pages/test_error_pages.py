"""What an anonymous visitor sees when the app cannot open its database: a plain message, never
the file's path or the process holding it (issue #10, defect 8). The operator finds those in
the server's log."""

import logging
import os
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from data_layer.core import db
from tests.conftest import APP, TEST_COOKIE_KEY, run_app


@pytest.fixture
def held_database(tmp_path):
    """A database file held open by another process, as a second app process would hold it."""
    path = tmp_path / "secret-clinic-name.duckdb"
    db.connect(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "ready"
    yield path, holder
    holder.stdin.close()
    holder.wait(timeout=10)


def test_a_visitor_is_told_the_app_is_unavailable_without_path_or_process(held_database, monkeypatch, caplog):
    path, holder = held_database
    monkeypatch.setenv("HOMEWORK_DB", str(path))
    monkeypatch.setenv("HOMEWORK_COOKIE_KEY", TEST_COOKIE_KEY)
    with caplog.at_level(logging.ERROR, logger="data_layer.core.db"):
        app = AppTest.from_function(run_app, args=(APP,), default_timeout=30).run()

    assert not app.exception
    [shown] = [error.value for error in app.error]
    assert "in use by another process" in shown
    holder_executable = os.path.realpath(sys.executable)
    for secret in (
        str(path.parent),
        path.name,
        str(holder.pid),
        "PID",
        holder_executable,
        os.path.basename(holder_executable),
    ):
        assert secret not in shown
    # The operator's log names the file and the holder.
    [logged] = [record.getMessage() for record in caplog.records if record.name == "data_layer.core.db"]
    assert str(path) in logged and f"PID {holder.pid}" in logged


def test_a_clinic_time_zone_that_is_no_zone_stops_the_app_with_a_message_saying_so(tmp_path, monkeypatch):
    monkeypatch.setenv("HOMEWORK_DB", str(tmp_path / "clinic.duckdb"))
    monkeypatch.setenv("HOMEWORK_COOKIE_KEY", TEST_COOKIE_KEY)
    monkeypatch.setenv("HOMEWORK_TIMEZONE", "Europe/Lodnon")
    app = AppTest.from_function(run_app, args=(APP,), default_timeout=30).run()
    assert not app.exception
    assert [error.value for error in app.error] == [
        "HOMEWORK_TIMEZONE must be an IANA time zone name such as Europe/London or UTC, not 'Europe/Lodnon'."
    ]
    assert not (tmp_path / "clinic.duckdb").exists()  # nothing opened, no scheduler started
