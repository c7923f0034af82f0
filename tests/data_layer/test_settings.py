"""Configuration in one place (issue #13): data_layer/core/settings.py is the one module of the app
that reads the environment, and README.md's configuration table lists exactly the variables
it reads, with their defaults. A variable added without a row, or a row left behind, fails here."""

import ast
import re
from pathlib import Path

import pytest
from streamlit import config as streamlit_config

from data_layer.core import settings, validation

ROOT = Path(__file__).resolve().parents[2]
# The app's own code. bench/ is a harness: like the tests, it sets variables for the app.
APP_CODE = ("app.py", "pages", "ui", "data_layer", "ops", "clinical")
SETTINGS_FILE = ROOT / "data_layer" / "core" / "settings.py"


def configuration_table():
    """Return README.md's configuration table as {variable: its default cell}."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    table = {}
    for row in section.splitlines():
        if row.startswith("| `"):  # not the header or its rule
            cells = [cell.strip() for cell in row.strip("|").split("|")]
            # The first cell starts with the variable; it may name another source after it.
            table[re.match(r"`([A-Z_]+)`", cells[0]).group(1)] = cells[-1]
    assert table, "README.md's configuration table was not found"
    return table


def test_the_readme_lists_exactly_the_variables_settings_reads():
    documented = {name for name in configuration_table() if name.startswith("HOMEWORK_")}
    assert documented == {setting.name for setting in settings.SETTINGS}


def test_the_readme_s_other_rows_are_streamlit_options():
    # Streamlit reads these itself (STREAMLIT_SERVER_ALLOWED_HOSTS is server.allowedHosts).
    streamlit_variables = {option.env_var for option in streamlit_config.get_config_options().values()}
    others = {name for name in configuration_table() if not name.startswith("HOMEWORK_")}
    assert others <= streamlit_variables


@pytest.mark.parametrize("setting", settings.SETTINGS, ids=lambda setting: setting.name)
def test_the_readme_gives_the_default_settings_uses(setting):
    shown = configuration_table()[setting.name]
    if setting.default is None:
        assert shown.startswith("none")
    elif " " in setting.default:
        # A text (the crisis resources) is described, not quoted: the numbers it quotes are the text's.
        assert set(re.findall(r"\d+", shown)) <= set(re.findall(r"\d+", setting.default))
    else:
        assert shown.split()[0].strip("`") == setting.default


def test_settings_reads_every_variable_through_its_registry():
    # A variable read in settings.py outside SETTINGS would escape the README check above.
    named = set(re.findall(r"HOMEWORK_[A-Z_]+", SETTINGS_FILE.read_text()))
    assert named == {setting.name for setting in settings.SETTINGS}


def environment_reads(file):
    """Return the lines of `file` that touch os.environ or os.getenv."""
    tree = ast.parse(file.read_text(), filename=str(file))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr in {"environ", "getenv"}
        or isinstance(node, ast.ImportFrom)
        and node.module == "os"
        and {alias.name for alias in node.names} & {"environ", "getenv"}
    ]


def test_no_module_but_settings_reads_the_environment():
    files = [ROOT / "app.py"] + [file for folder in APP_CODE[1:] for file in sorted((ROOT / folder).rglob("*.py"))]
    reads = {
        str(file.relative_to(ROOT)): lines
        for file in files
        if file != SETTINGS_FILE
        for lines in [environment_reads(file)]
        if lines
    }
    assert reads == {}


def test_the_clinic_time_zone_is_utc_unless_set_and_a_bad_name_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("HOMEWORK_TIMEZONE", raising=False)
    assert settings.clinic_time_zone() == "UTC"
    monkeypatch.setenv("HOMEWORK_TIMEZONE", "Europe/London")
    assert settings.clinic_time_zone() == "Europe/London"
    for bad in ("London", "Europe/Londn", "GMT+1", "localtime"):
        monkeypatch.setenv("HOMEWORK_TIMEZONE", bad)
        with pytest.raises(settings.InvalidSetting) as refused:
            settings.clinic_time_zone()
        assert str(refused.value) == (
            f"HOMEWORK_TIMEZONE must be an IANA time zone name such as Europe/London or UTC, not {bad!r}."
        )


def test_every_time_zone_one_may_choose_is_known_to_the_scheduler_s_sql(conn):
    # The scheduler converts times in DuckDB (its ICU time zones), not in Python: a name zoneinfo
    # accepts and ICU does not would stop every client's reminders at each tick.
    known = {name for (name,) in conn.execute("SELECT name FROM pg_timezone_names()").fetchall()}
    assert "Europe/London" in validation.TIME_ZONES
    assert validation.TIME_ZONES <= known
