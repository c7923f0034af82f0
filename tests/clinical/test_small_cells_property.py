"""Small cells cannot be recovered by difference: a property test over generated clinics, every
pair of the supervisor's therapist and category filter choices, the per-therapist, per-month and
per-category tables against each other, and every pair of period choices (clinical/reporting.py).

Every count the supervisor sees comes with the episodes behind it. For any two shown counts of
the same family (episodes, ended, finished, finished as a case, active, measured in progress,
with recent homework) where
one group contains the other, the difference must be 0 or at least 5; and in every table column
the total minus the shown cells must be 0 or at least 5 clients, never one hidden cell alone.
The periods offered (calendar quarters) never overlap and take each ended episode exactly once,
the episodes in progress with the current quarter only: checked here on the generated clinics
and through the data layer's own SQL on a real database.
"""

from datetime import date, timedelta
from itertools import combinations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinical.reporting import (
    ANALYSIS_FAMILIES,
    SMALL_CELL,
    SUPPRESSED,
    TILE_FAMILIES,
    category_outcomes,
    cohort_view,
    family_sizes,
    group_outcomes,
    hidden_cells,
    quarter_start,
    reporting_periods,
    reveals_few,
    table_cells,
    with_referral_month,
)
from data_layer.core import db
from data_layer.reports import cohort
from tests.conftest import add_user

THERAPISTS = ["T1", "T2", "T3"]
episode = st.fixed_dictionaries(
    {
        "therapist": st.sampled_from(THERAPISTS),
        "ended": st.booleans(),
        "measured": st.booleans(),
        "case_at_start": st.booleans(),
        "improved": st.booleans(),
        "recovered": st.booleans(),
        "compliance": st.one_of(st.none(), st.floats(0, 1)),
        "in_category": st.one_of(st.none(), st.floats(0, 1)),
        "change": st.one_of(st.none(), st.integers(-15, 10)),
        # The episode began this many days before today and (if ended) lasted this many days at most.
        "start_days_ago": st.integers(0, 400),
        "length": st.integers(0, 400),
    }
)

# Referrals within three months, mostly in each therapist's own month, so that a therapist's
# group often nests inside a month's (or a month's inside a therapist's).
USUAL_MONTH = {"T1": 5, "T2": 40, "T3": 70}
in_usual_month = st.sampled_from([True, True, True, False])
recent_episode = st.tuples(episode, in_usual_month, st.sampled_from(list(USUAL_MONTH.values()))).map(
    lambda drawn: {**drawn[0], "start_days_ago": USUAL_MONTH[drawn[0]["therapist"]] if drawn[1] else drawn[2]}
)


def clinic(rows, today=date(2026, 11, 30)):
    frame = pd.DataFrame(rows)
    frame = frame.assign(episode_id=range(len(frame)), last_log=pd.Timestamp("2026-01-01"))
    frame = frame.assign(start_days_ago=frame.get("start_days_ago", 30), length=frame.get("length", 30))
    frame["started_on"] = [today - timedelta(days=int(days)) for days in frame["start_days_ago"]]
    frame["ended_on"] = [
        min(start + timedelta(days=int(length)), today) if ended else None
        for start, length, ended in zip(frame["started_on"], frame["length"], frame["ended"])
    ]
    frame["referral_month"] = [start.replace(day=1) for start in frame["started_on"]]
    for flag in ("ended", "measured", "case_at_start", "improved", "recovered"):
        frame[flag] = frame[flag].astype(bool)
    frame = frame.assign(
        finished=frame["ended"] & frame["measured"],
        active=~frame["ended"],
        ended_without_finishing=frame["ended"] & ~frame["measured"],
    )
    frame = frame.assign(
        reliable_improvement=frame["improved"] & frame["finished"],
        reliable_deterioration=False,
        recovery=frame["recovered"] & frame["finished"] & frame["case_at_start"],
        reliable_recovery=frame["recovered"] & frame["improved"] & frame["finished"] & frame["case_at_start"],
        compliance=pd.to_numeric(frame["compliance"]),
        phq9_change=pd.to_numeric(frame["change"]),
    )
    # Homework of the category is homework: no compliance over it without compliance overall.
    in_category = frame.assign(compliance=pd.to_numeric(frame["in_category"]).where(frame["compliance"].notna()))
    return frame, in_category


def categories_of(episodes):
    """The category table's input as data_layer.reports.cohort.category_summary gives it: two categories,
    "exposure" (the episodes with homework of the filter's category) and "other" (the rest of
    those with homework)."""
    with_homework = episodes["compliance"].notna()
    exposure = with_homework & pd.to_numeric(episodes["in_category"]).notna()
    members = {
        "exposure": episodes.loc[exposure, "episode_id"],
        "other": episodes.loc[with_homework & ~exposure, "episode_id"],
    }
    return pd.DataFrame(
        [
            {
                "category": name,
                "clients": len(ids),
                "episode_ids": list(ids),
                "compliance": 0.5,
                "mean_helpfulness": 3.0,
            }
            for name, ids in members.items()
            if len(ids)
        ],
        columns=["category", "clients", "episode_ids", "compliance", "mean_helpfulness"],
    )


def cells_of(episodes):
    categories = categories_of(episodes)
    return table_cells(episodes, dict(zip(categories["category"], categories["episode_ids"])))


def shown_counts(episodes, in_category, therapist, category):
    """[(family, frozenset of episode ids)] for every count this filter choice shows."""
    view = cohort_view(
        episodes, in_category, episodes, in_category, therapist=therapist, category=category, cells=cells_of(episodes)
    )
    if view.refusal:
        return []
    shown = [(family, ids(view.tiles, family)) for family in TILE_FAMILIES if family not in view.hidden_tiles]
    if not view.recent_hidden:
        shown.append(("recent homework", frozenset(view.recent["episode_id"])))
    if not view.analyses_hidden:
        shown += [(family, ids(view.points, family)) for family in ANALYSIS_FAMILIES]
    return shown


def ids(frame, family):
    members = {
        "episodes": frame["episode_id"] >= 0,
        "ended": frame["ended"],
        "finished": frame["finished"],
        "finished as a case": frame["finished"] & frame["case_at_start"],
        "active": frame["active"],
        "measured in progress": frame["active"] & frame["measured"],
        "with homework": frame["compliance"].notna(),
    }[family]
    return frozenset(frame.loc[members, "episode_id"])


# The family behind each column of the tables: "<5" in the column hides that family's count.
TABLE_COLUMNS = {
    "episodes": "Clients",
    "ended": "Ended",
    "with homework": "Median compliance",
    "finished": "Reliable improvement",
    "finished as a case": "Recovery",
}
CATEGORY_COLUMNS = {"episodes": "Clients", "finished": "Reliable improvement"}


def table_counts(episodes, by="therapist"):
    """Per-therapist, per-month or per-category (`by`) table cells, read from the table the page
    shows (cohort-wide, whatever the filters): [(family, ids)] shown, and the columns
    (family -> [(ids, shown)]) to check against their totals. Clients minus Ended gives the
    row's episodes in progress: shown when both are."""
    cells = cells_of(episodes)
    if by == "category":
        categories = categories_of(episodes)
        table = category_outcomes(episodes, categories, cells, {name: name for name in categories["category"]})
        groups = {
            name: episodes[episodes["episode_id"].isin(members)]
            for name, members in zip(categories["category"], categories["episode_ids"])
        }
        table, columns = table.set_index("Category"), CATEGORY_COLUMNS
    else:
        table = group_outcomes(episodes, by, cells).set_index(by)
        groups, columns = dict(tuple(with_referral_month(episodes).groupby(by))), TABLE_COLUMNS
    shown, by_column = [], {}
    for key, group in groups.items():
        visible = {family: table.loc[key, column] != SUPPRESSED for family, column in columns.items()}
        if by != "category":
            visible["active"] = visible["episodes"] and visible["ended"]
        for family, seen in visible.items():
            by_column.setdefault(family, []).append((ids(group, family), seen))
            if seen:
                shown.append((family, ids(group, family)))
    return shown, by_column


VIEWS = [(therapist, category) for therapist in [None, *THERAPISTS] for category in (None, "exposure")]


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(st.lists(recent_episode, min_size=8, max_size=40))
def test_no_hidden_count_can_be_derived_from_two_shown_numbers(rows):
    episodes, in_category = clinic(rows)
    tables = {by: table_counts(episodes, by) for by in ("therapist", "month", "category")}
    table_cells_shown = [count for shown, _ in tables.values() for count in shown]
    views = {view: shown_counts(episodes, in_category, *view) for view in VIEWS}
    for first, second in combinations(VIEWS, 2):
        counts = views[first] + views[second] + table_cells_shown
        for (family_a, a), (family_b, b) in combinations(counts, 2):
            if family_a == family_b and (a <= b or b <= a):
                assert not reveals_few(abs(len(a) - len(b))), (first, second, family_a, len(a), len(b))
    assert_columns_leave_no_small_remainder(tables["therapist"][1])
    assert_columns_leave_no_small_remainder(tables["month"][1])
    # Clients = Ended + in progress, and the Therapists page shows each therapist's clients in
    # progress: two of the three shown would give the third.
    in_progress = episodes[episodes["active"]].groupby("therapist").size().reindex(THERAPISTS, fill_value=0)
    on_therapists_page = ~hidden_cells(in_progress)
    therapist_rows = tables["therapist"][1]
    for row, therapist in enumerate(sorted(episodes["therapist"].unique())):
        seen = [therapist_rows["episodes"][row][1], therapist_rows["ended"][row][1], on_therapists_page[therapist]]
        assert sum(seen) != 2, (therapist, seen)


def test_a_therapist_whose_clients_all_came_in_one_month_hides_that_months_other_clients():
    # T1's 5 clients all came in January, as did 2 of T2's: January's 7 minus T1's 5 would
    # give T2's January clients (2) and their outcomes.
    def referred(therapist, days_ago):
        return {
            "therapist": therapist,
            "ended": True,
            "measured": True,
            "case_at_start": True,
            "improved": True,
            "recovered": False,
            "compliance": 0.5,
            "in_category": None,
            "change": -6,
            "start_days_ago": days_ago,
            "length": 10,
        }

    rows = [referred("T1", 320)] * 5 + [referred("T2", 320)] * 2 + [referred("T2", 290)] * 5 + [referred("T3", 260)] * 5
    episodes, _ = clinic(rows)
    therapist_table, _ = table_counts(episodes)
    month_table, _ = table_counts(episodes, "month")
    for (family_a, a), (family_b, b) in combinations(therapist_table + month_table, 2):
        if family_a == family_b and (a <= b or b <= a):
            assert not reveals_few(abs(len(a) - len(b))), (family_a, len(a), len(b))


def assert_columns_leave_no_small_remainder(columns):
    for family, cells in columns.items():
        hidden = [members for members, visible in cells if not visible]
        hidden_total = sum(len(members) for members in hidden)
        if len(hidden) == len(cells):
            continue  # all hidden: the remainder is the column total, a headline count checked above
        assert not reveals_few(hidden_total), family
        assert len(hidden) != 1 or hidden_total == 0 or len(cells) == 1, family


def chosen_by(period, episodes):
    """The episodes a period takes, by Period.chooses (the data layer's SQL is checked against it below)."""
    return episodes[
        [
            period.chooses(ended_on if ended else None)
            for ended, ended_on in zip(episodes["ended"], episodes["ended_on"])
        ]
    ]


def assert_periods_partition(periods, earliest_start, today):
    """Whole calendar quarters, newest first, touching and never overlapping, from the quarter of
    the earliest start to the current one (the only one marked current)."""
    assert [period.current for period in periods] == [True] + [False] * (len(periods) - 1)
    assert periods[0].first_day <= today <= periods[0].last_day
    assert periods[-1].first_day <= earliest_start
    for period in periods:
        assert period.first_day == quarter_start(period.first_day) == quarter_start(period.last_day)
        assert quarter_start(period.last_day + timedelta(days=1)) == period.last_day + timedelta(days=1)
    for newer, older in zip(periods, periods[1:]):
        assert older.last_day + timedelta(days=1) == newer.first_day


@pytest.mark.slow
@settings(max_examples=15, deadline=None)
@given(st.lists(episode, min_size=8, max_size=30), st.dates(date(2025, 1, 1), date(2027, 12, 31)))
def test_no_count_of_one_period_minus_a_count_of_another_singles_anyone_out(rows, today):
    episodes, in_category = clinic(rows, today)
    periods = reporting_periods(min(episodes["started_on"]), today)
    assert_periods_partition(periods, min(episodes["started_on"]), today)
    for row in episodes.itertuples():
        choosing = [period for period in periods if period.chooses(row.ended_on if row.ended else None)]
        assert len(choosing) == 1, row  # each ended episode in exactly one period; in progress: the current one
        assert row.ended or choosing[0].current
    shown = {}
    for period in periods:
        chosen = chosen_by(period, episodes)
        if chosen.empty:
            shown[period] = []  # the page says that no episode ended in it, and stops
            continue
        in_chosen = in_category.loc[chosen.index]
        therapist_table, therapist_columns = table_counts(chosen)
        month_table, month_columns = table_counts(chosen, "month")
        assert_columns_leave_no_small_remainder(therapist_columns)
        assert_columns_leave_no_small_remainder(month_columns)
        shown[period] = (
            therapist_table
            + month_table
            + [count for view in VIEWS for count in shown_counts(chosen, in_chosen, *view)]
        )
    for first, second in combinations(periods, 2):
        for family_a, a in shown[first]:
            for family_b, b in shown[second]:
                assert not a & b, (first, second)  # no episode counted by two periods
                if family_a == family_b and (a <= b or b <= a):
                    assert not reveals_few(abs(len(a) - len(b))), (first, second, family_a, len(a), len(b))


@pytest.fixture(scope="module")
def supervised(tmp_path_factory):
    """A real database: one supervisor over two therapists, and 30 clients to give episodes to."""
    connection = db.connect(tmp_path_factory.mktemp("periods") / "periods.duckdb")
    cur = connection.cursor()
    supervisor = add_user(cur, "supervisor", "Sue Supervisor", "supervisor")
    therapists = [add_user(cur, f"therapist{n}", f"Therapist {n}", "therapist") for n in range(2)]
    for therapist in therapists:
        cur.execute(
            "INSERT INTO supervision (therapist_id, supervisor_id, started_on) VALUES (?, ?, ?)",
            [therapist.user_id, supervisor.user_id, date.today() - timedelta(days=900)],
        )
    clients = [add_user(cur, f"client{n}", f"Client {n}", "client") for n in range(30)]
    yield cur, supervisor, therapists, clients
    connection.close()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 400), st.one_of(st.none(), st.integers(0, 400))),
        min_size=1,
        max_size=30,
    )
)
@pytest.mark.slow
def test_the_data_layer_takes_each_ended_episode_in_exactly_one_period(supervised, rows):
    cur, supervisor, therapists, clients = supervised
    today = date.today()
    cur.execute("DELETE FROM caseload")
    expected = {}
    for client, (therapist, start_days_ago, length) in zip(clients, rows):
        started = today - timedelta(days=start_days_ago)
        ended = None if length is None else min(started + timedelta(days=length), today)
        (episode_id,) = cur.execute(
            "INSERT INTO caseload (client_id, therapist_id, started_on, ended_on) VALUES (?, ?, ?, ?) RETURNING id",
            [client.user_id, therapists[therapist].user_id, started, ended],
        ).fetchone()
        expected[episode_id] = ended
    earliest = cohort.earliest_episode_start(cur, supervisor)
    assert earliest == min(today - timedelta(days=start_days_ago) for _, start_days_ago, _ in rows)
    periods = reporting_periods(earliest, today)
    assert_periods_partition(periods, earliest, today)
    taken = []
    for period in periods:
        chosen = cohort.episode_summaries(cur, supervisor, window_start=period.first_day, window_end=period.last_day)
        assert set(chosen["episode_id"]) == {
            episode for episode, ended_on in expected.items() if period.chooses(ended_on)
        }, period
        taken += list(chosen["episode_id"])
    assert sorted(taken) == sorted(expected)  # every episode once: none twice, none left out


@given(st.lists(st.integers(1, 30), min_size=1, max_size=8))
def test_complementary_suppression_never_leaves_a_small_remainder(sizes):
    hidden = hidden_cells(pd.Series(sizes))
    remainder = sum(size for size, hide in zip(sizes, hidden) if hide)
    assert all(hide for size, hide in zip(sizes, hidden) if size < SMALL_CELL)
    assert hidden.all() or not reveals_few(remainder)
    assert hidden.sum() != 1 or hidden.all()


def test_family_sizes_count_each_family():
    episodes, _ = clinic(
        [
            {
                "therapist": "T1",
                "ended": True,
                "measured": True,
                "case_at_start": True,
                "improved": True,
                "recovered": True,
                "compliance": 0.5,
                "in_category": None,
                "change": -7,
            }
        ]
    )
    assert family_sizes(episodes).to_dict() == {
        "episodes": 1,
        "ended": 1,
        "finished": 1,
        "finished as a case": 1,
        "active": 0,
        "measured in progress": 0,
        "with homework": 1,
    }
