"""ui.cache: what a cached dashboard read keys on."""
import functools
from datetime import date, timedelta

from data_layer import metrics
from ui import cache
from ui.cache import cached


def count_computations(monkeypatch, module, name):
    """Replace module.name by a wrapper with the same name, roles and cache key; return the list
    that each call of it (each computation) appends to."""
    function = getattr(module, name)
    calls = []

    @functools.wraps(function)
    def counted(*args, **kwargs):
        calls.append(1)
        return function(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_a_cached_read_is_computed_again_the_next_day(cur, world, tmp_path, monkeypatch):
    # The scopes follow caseload and supervision links in force today: one that ends tonight
    # must not keep its clients in yesterday's cached result.
    monkeypatch.setenv("HOMEWORK_DB", str(tmp_path / "test.duckdb"))  # part of the cache key
    computations = count_computations(monkeypatch, metrics, "caseload_summary")
    cached(metrics.caseload_summary, cur, world.therapist_a)
    cached(metrics.caseload_summary, cur, world.therapist_a)
    assert len(computations) == 1

    class Tomorrow(date):
        @classmethod
        def today(cls):
            return date.today() + timedelta(days=1)

    monkeypatch.setattr(cache, "date", Tomorrow)
    cached(metrics.caseload_summary, cur, world.therapist_a)
    assert len(computations) == 2
