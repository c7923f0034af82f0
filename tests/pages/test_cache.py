"""ui.cache: a dashboard read served from the cache leaves the same audit trail as one that was
computed (the audit log is a compliance record), in the real pages through AppTest; refusals
are never cached; what a cached read keys on."""

import contextvars
import functools
import threading
from datetime import date, timedelta

import pytest

from data_layer import caseload, mood
from data_layer.core import access, db
from data_layer.core.access import AccessDenied
from data_layer.reports import cohort, metrics
from tests.conftest import logged_in, open_page
from ui import cache
from ui.cache import cached

# (user, page, a data-layer function that page reads through ui.cache.cached, the audit row
# that read leaves: its own name, or the run's one view of the client for a client's record)
CACHED_PAGES = [
    ("therapist_a", "pages/therapist_caseload.py", metrics, "caseload_summary", "caseload_summary"),
    ("therapist_a", "pages/therapist_client.py", metrics, "current_outcomes", "current_outcomes"),
    ("therapist_a", "pages/therapist_client.py", mood, "daily_mood", "view_client_record"),
    ("therapist_a", "pages/therapist_insights.py", cohort, "weekly_panel", "weekly_panel"),
    ("supervisor_a", "pages/supervisor_cohort.py", cohort, "earliest_episode_start", "earliest_episode_start"),
    ("supervisor_a", "pages/supervisor_cohort.py", cohort, "reminder_follow_through", "reminder_follow_through"),
    (
        "therapist_a",
        "pages/therapist_insights.py",
        cohort,
        "compliance_around_reminders",
        "compliance_around_reminders",
    ),
]


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


def audit_rows_of_one_run(app, cur):
    """Run the app once more; return the audit rows that run wrote, oldest first. Not the reminder
    scheduler's: its thread (started with this process's connection) may tick during the run, and
    the world's fresh risk flag gives it an alert to audit."""
    (last_id,) = cur.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()
    app.run()
    assert not app.exception
    return cur.execute(
        """SELECT actor_id, actor_role, action, client_id, record_kind, record_id, outcome, detail
                          FROM audit_log WHERE id > ? AND actor_role <> 'scheduler' ORDER BY id""",
        [last_id],
    ).fetchall()


@pytest.mark.slow
@pytest.mark.parametrize("username, page, module, name, audited_as", CACHED_PAGES)
def test_a_cache_hit_writes_the_same_audit_rows_as_a_miss(
    app, cur, monkeypatch, username, page, module, name, audited_as
):
    computations = count_computations(monkeypatch, module, name)
    logged_in(app, username)
    open_page(app, page)
    before_miss = len(computations)
    db.write(cur, lambda cur: None)  # any write: the next run computes every cached read again
    miss = audit_rows_of_one_run(app, cur)
    after_miss = len(computations)
    hit = audit_rows_of_one_run(app, cur)
    assert after_miss > before_miss and len(computations) == after_miss  # a miss, then a hit
    assert hit == miss
    assert any(row[2] == audited_as for row in hit)  # the cached read itself is audited, on both


# The Cohort and Insights pages' heavy reads: ui.cache.prefetch works them out side by side before
# the page reads them.
PREFETCHED = [
    (
        "supervisor_a",
        "pages/supervisor_cohort.py",
        (
            "weekly_panel",
            "episode_summaries",
            "category_summary",
            "compliance_around_reminders",
            "recent_episode_compliance",
            "episode_questionnaires",
            "reminder_follow_through",
        ),
    ),
    (
        "therapist_a",
        "pages/therapist_insights.py",
        (
            "weekly_panel",
            "episode_summaries",
            "category_summary",
            "compliance_around_reminders",
            "episode_questionnaires",
            "reminder_follow_through",
        ),
    ),
]


def record_threads(monkeypatch, names):
    """Replace each cohort function in `names` by a wrapper (same name, roles and cache key) that
    notes the thread each computation ran on; return {name: [thread name, ...]}."""
    threads = {name: [] for name in names}
    for name, ran_on in threads.items():
        function = getattr(cohort, name)

        @functools.wraps(function)
        def counted(*args, _function=function, _ran_on=ran_on, **kwargs):
            _ran_on.append(threading.current_thread().name)
            return _function(*args, **kwargs)

        monkeypatch.setattr(cohort, name, counted)
    return threads


def cold_run_threads(app, cur, threads):
    """Run the app once more after a write (every read computed again); return `threads` then."""
    db.write(cur, lambda cur: None)
    for ran_on in threads.values():
        ran_on.clear()
    audit_rows_of_one_run(app, cur)
    return threads


@pytest.mark.parametrize("username, page, names", PREFETCHED)
def test_a_dashboard_works_out_each_heavy_read_once_per_run_side_by_side(app, cur, monkeypatch, username, page, names):
    threads = record_threads(monkeypatch, names)
    logged_in(app, username)
    open_page(app, page)
    cold_run_threads(app, cur, threads)
    # Once each (the page's own reads are hits: the prefetch used their exact arguments), and on the
    # prefetch's threads, not one after another on the page's.
    assert {name: len(ran_on) for name, ran_on in threads.items()} == dict.fromkeys(names, 1)
    assert all(ran_on[0].startswith("ThreadPoolExecutor") for ran_on in threads.values())


def test_the_cohort_page_with_a_category_prefetches_its_reads_in_that_category_too(app, cur, monkeypatch):
    supervisor_cohort, names = PREFETCHED[0][1:]
    threads = record_threads(monkeypatch, names)
    logged_in(app, "supervisor_a")
    open_page(app, supervisor_cohort)
    app.selectbox(key="cohort_category").set_value("exposure").run()
    cold_run_threads(app, cur, threads)
    # The episodes and the recent compliance with and without the category; the rest once.
    twice = {"episode_summaries", "recent_episode_compliance"}
    assert {name: len(ran_on) for name, ran_on in threads.items()} == {
        name: 2 if name in twice else 1 for name in names
    }
    assert all(name.startswith("ThreadPoolExecutor") for ran_on in threads.values() for name in ran_on)


def audit_rows(cur):
    return cur.execute("SELECT actor_id, action, outcome, detail FROM audit_log ORDER BY id").fetchall()


def test_a_refused_therapist_filter_is_audited_on_every_call_and_no_view_with_it(cur, world, tmp_path, monkeypatch):
    monkeypatch.setenv("HOMEWORK_DB", str(tmp_path / "test.duckdb"))  # part of the cache key
    window = {"window_start": date.today() - timedelta(days=28), "window_end": date.today()}
    for _ in range(2):  # a refusal raises, so it is never cached: the second call checks again
        with pytest.raises(AccessDenied):
            cached(cohort.weekly_panel, cur, world.supervisor_a, therapist_id=world.therapist_b.user_id, **window)
    denied = (world.supervisor_a.user_id, "cohort_therapist_filter", "denied", f"therapist {world.therapist_b.user_id}")
    assert audit_rows(cur) == [denied, denied]


def test_a_cached_client_read_is_checked_and_audited_once_per_page_run_hit_or_miss(cur, world, tmp_path, monkeypatch):
    # Page runs begin here, in a context of this test's own: nothing leaks into the next test.
    contextvars.Context().run(reads_of_client_a_in_page_runs, cur, world, tmp_path, monkeypatch)


def reads_of_client_a_in_page_runs(cur, world, tmp_path, monkeypatch):
    monkeypatch.setenv("HOMEWORK_DB", str(tmp_path / "test.duckdb"))  # part of the cache key
    computations = count_computations(monkeypatch, metrics, "recent_compliance")
    client_a = world.client_a.user_id
    view = (world.therapist_a.user_id, "view_client_record", "ok", None)
    for _ in range(2):  # two page runs: a miss, then a hit
        access.begin_page_run()
        for _ in range(2):
            cached(metrics.recent_compliance, cur, world.therapist_a, client_id=client_a)
        access.end_page_run(lambda: cur)
    assert len(computations) == 1
    assert audit_rows(cur) == [view, view]

    access.begin_page_run()
    with pytest.raises(AccessDenied):  # another therapist's call is refused, not served from the cache
        cached(metrics.recent_compliance, cur, world.therapist_b, client_id=client_a)
    caseload.link_client_to_therapist(cur, world.admin, client_id=client_a, therapist_id=world.therapist_b.user_id)
    access.begin_page_run()
    with pytest.raises(AccessDenied):  # moved to another therapist: refused on the next run
        cached(metrics.recent_compliance, cur, world.therapist_a, client_id=client_a)
    assert len(computations) == 1


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


def test_a_dashboard_read_is_audited_once_per_page_run(cur, world, tmp_path, monkeypatch):
    contextvars.Context().run(caseload_reads_in_page_runs, cur, world, tmp_path, monkeypatch)


def caseload_reads_in_page_runs(cur, world, tmp_path, monkeypatch):
    monkeypatch.setenv("HOMEWORK_DB", str(tmp_path / "test.duckdb"))  # part of the cache key
    viewed = (world.therapist_a.user_id, "caseload_summary", "ok", None)
    for run_number in (1, 2):  # two page runs, each reading the caseload twice (a miss, then hits)
        access.begin_page_run()
        cache.begin_page_run()
        cached(metrics.caseload_summary, cur, world.therapist_a)
        cached(metrics.caseload_summary, cur, world.therapist_a)
        assert audit_rows(cur) == [viewed] * (run_number - 1)  # written when the run ends
        access.end_page_run(lambda: cur)
    assert audit_rows(cur) == [viewed, viewed]


def test_derived_work_is_done_again_after_a_write_and_never_kept_under_a_newer_version(
    cur, world, tmp_path, monkeypatch
):
    contextvars.Context().run(derived_work_in_page_runs, cur, world, tmp_path, monkeypatch)


def derived_work_in_page_runs(cur, world, tmp_path, monkeypatch):
    monkeypatch.setenv("HOMEWORK_DB", str(tmp_path / "test.duckdb"))  # part of the cache key
    therapist = world.therapist_a

    def page_run(meanwhile=None):
        """One run: read the caseload, let `meanwhile` write (another session), count the clients."""
        cache.begin_page_run()
        summary = cached(metrics.caseload_summary, cur, therapist)
        if meanwhile:
            meanwhile()
        return cache.derived("clients", therapist, (), lambda: len(summary))

    clients = page_run()
    assert page_run() == clients
    client_id = world.client_a.user_id
    caseload.discharge_client(cur, therapist, client_id=client_id, ended_on=date.today(), reason="completed")
    assert page_run() == clients - 1  # a write: worked out again from the new data

    def referred_again():
        caseload.link_client_to_therapist(cur, world.admin, client_id=client_id, therapist_id=therapist.user_id)

    # A write lands between this run's read and its work: the run shows what it read, and the
    # result is kept under the older version, so the next run works it out again.
    assert page_run(meanwhile=referred_again) == clients - 1
    assert page_run() == clients
