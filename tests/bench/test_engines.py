"""The engines benchmark (bench/engines.py) end to end at size S on both engines: every page runs to
its end on each, and the write path loses and doubles nothing. Timings are printed, never asserted."""

import pytest

from bench import engines
from bench.pages import PAGES


@pytest.mark.slow
def test_both_engines_run_every_page_and_the_write_path_at_size_s(postgres, tmp_path):
    results = {"S": engines.measure_size("S", 1, postgres, tmp_path)}
    print(engines.format_table(results))
    for engine in engines.ENGINES:
        figures = results["S"][engine]
        assert set(figures["pages"]) == {page.key for page in PAGES}
        writes = figures["writes"]
        assert writes["lost"] == writes["duplicated"] == writes["errors"] == 0
        assert writes["entries_per_second"] > 0
