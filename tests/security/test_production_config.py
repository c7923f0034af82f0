"""Production settings: the Streamlit config, and the app refusing to start outside demo mode
without a fit cookie key (docs/architecture.md, "Authentication" and "Hardening the server")."""

import re
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit import config as streamlit_config
from streamlit.testing.v1 import AppTest

from data_layer import users
from data_layer.core import db, settings
from tests.conftest import APP, run_app
from ui import auth

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "first-admin-password"
GOOD_KEY = "3q2-1mZc_xY0cL7gK9vT4wP8sR6nB5hJ2fD1aE0uQ9oI"


def test_the_streamlit_config_hides_errors_and_the_toolbar_and_phones_nobody():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
    assert config["client"]["toolbarMode"] == "viewer"
    assert config["server"]["enableXsrfProtection"] is True
    assert config["browser"]["gatherUsageStats"] is False
    # Streamlit 1.67's experimental API for driving the app without a browser stays off.
    assert config["server"].get("enableAgentApi", False) is False


def test_the_server_listens_on_loopback_and_accepts_only_local_host_names_by_default():
    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert server["address"] == "127.0.0.1"  # the reverse proxy is the one way in
    assert server["allowedHosts"] == ["localhost", "127.0.0.1"]
    # Streamlit still has the options (an upgrade that dropped one would ignore it silently).
    options = streamlit_config.get_config_options()
    assert {"server.address", "server.allowedHosts"} <= set(options)


def test_the_proxy_example_blocks_metrics_and_names_the_public_host():
    guide = (ROOT / "docs" / "reverse-proxy.md").read_text()
    assert re.search(r"location = /_stcore/metrics\s*\{\s*return 404;\s*\}", guide)
    assert re.search(r"^STREAMLIT_SERVER_ALLOWED_HOSTS=homework\.example\.org$", guide, re.M)
    assert re.search(r"^\s*proxy_set_header Host \$host;$", guide, re.M)


def test_the_session_settings_are_the_production_ones(monkeypatch):
    monkeypatch.delenv("HOMEWORK_LOGIN_SLEEP_SECONDS", raising=False)
    monkeypatch.delenv("HOMEWORK_IDLE_MINUTES", raising=False)
    assert settings.login_sleep_seconds() > 0  # the login throttle stays on
    assert settings.idle_limit() == timedelta(minutes=30)
    assert auth.COOKIE_LIFETIME <= timedelta(hours=12)


def test_the_example_secrets_file_holds_a_key_the_app_refuses():
    example = tomllib.loads((ROOT / ".streamlit" / "secrets.toml.example").read_text())
    assert auth.cookie_key_problem(example["cookie_key"]) == "The cookie key is a known placeholder."
    assert auth.cookie_key_problem(GOOD_KEY) is None


@pytest.fixture
def clinic(tmp_path, monkeypatch):
    """A new, empty production clinic (not the demo) with its first admin."""
    path = tmp_path / "clinic.duckdb"
    conn = db.connect(path)
    users.create_first_admin(conn.cursor(), username="boss", display_name="First Admin", password=ADMIN_PASSWORD)
    monkeypatch.setenv("HOMEWORK_DB", str(path))
    monkeypatch.setenv("HOMEWORK_LOGIN_SLEEP_SECONDS", "0")
    monkeypatch.delenv("HOMEWORK_COOKIE_KEY", raising=False)
    yield conn
    conn.close()


def production_app(secrets=None):
    app = AppTest.from_function(run_app, args=(APP,), default_timeout=30)
    # AppTest replaces st.secrets only when given some: so a secrets.toml on this machine is never read.
    app.secrets = secrets or {"unrelated": "value"}
    return app


def login_fields(app):
    return [field.label for field in app.text_input]


@pytest.mark.parametrize(
    "environment,secrets,problem",
    [
        (None, None, "No cookie key is configured."),
        ("", None, "No cookie key is configured."),
        ("k" * 31, None, "The cookie key is shorter than 32 characters."),
        ("changeme", None, "The cookie key is a known placeholder."),
        (" Some_Key ", None, "The cookie key is a known placeholder."),
        (
            None,
            {"cookie_key": "replace-me-with-a-random-key-of-at-least-32-characters"},
            "The cookie key is a known placeholder.",
        ),
        (None, {"cookie_key": "secret"}, "The cookie key is a known placeholder."),
    ],
    ids=["missing", "empty", "short", "placeholder", "placeholder-spaced", "example-file", "secrets-short"],
)
@pytest.mark.slow
def test_outside_demo_mode_the_app_refuses_to_start_without_a_fit_key(
    clinic, monkeypatch, environment, secrets, problem
):
    if environment is not None:
        monkeypatch.setenv("HOMEWORK_COOKIE_KEY", environment)
    app = production_app(secrets).run()
    assert not app.exception
    [error] = [error.value for error in app.error]
    assert error.startswith(problem)
    assert "HOMEWORK_COOKIE_KEY" in error
    assert login_fields(app) == []
    assert not app.title and not app.get("button") and not app.sidebar.children


@pytest.mark.parametrize("where", ["environment", "secrets"])
def test_with_a_good_key_the_app_starts_and_the_admin_logs_in(clinic, monkeypatch, where):
    if where == "environment":
        monkeypatch.setenv("HOMEWORK_COOKIE_KEY", GOOD_KEY)
    app = production_app({"cookie_key": GOOD_KEY} if where == "secrets" else None).run()
    assert not app.exception
    assert not app.error
    assert login_fields(app) == ["Username", "Password"]
    assert not [info for info in app.info if "Demo clinic" in info.value]
    fields = {field.label: field for field in app.text_input}
    fields["Username"].input("boss")
    fields["Password"].input(ADMIN_PASSWORD)
    next(button for button in app.button if button.label == "Log in").click().run()
    assert not app.exception
    assert [title.value for title in app.title] == ["Accounts"]


def test_the_demo_clinic_starts_without_a_key(clinic):
    clinic.execute("UPDATE clinic_settings SET demo = true")
    app = production_app().run()
    assert not app.exception
    assert not app.error
    assert login_fields(app) == ["Username", "Password"]
    assert any("Demo clinic" in info.value for info in app.info)
