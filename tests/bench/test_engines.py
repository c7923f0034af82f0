"""The engines benchmark (bench/engines.py) end to end at size S on both engines: every page runs to
its end on each, and the write path loses and doubles nothing. Timings are printed, never asserted."""

import os

import pytest

from bench import engines
from bench.apptest import app_environment
from bench.pages import PAGES


def app_settings():
    return {name: value for name, value in os.environ.items() if name.startswith("HOMEWORK_")}


@pytest.mark.slow
def test_both_engines_run_every_page_and_the_write_path_at_size_s(postgres, tmp_path):
    before = app_settings()
    with app_environment():
        results = {"S": engines.measure_size("S", 1, postgres, tmp_path)}
    # A cookie key left behind made every later test server accept the cookies of the one before.
    assert app_settings() == before
    print(engines.format_table(results))
    for engine in engines.ENGINES:
        figures = results["S"][engine]
        assert set(figures["pages"]) == {page.key for page in PAGES}
        writes = figures["writes"]
        assert writes["lost"] == writes["duplicated"] == writes["errors"] == 0
        assert writes["entries_per_second"] > 0
