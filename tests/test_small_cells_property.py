"""Small cells cannot be recovered by difference: a property test over generated clinics and
every pair of the supervisor's therapist and category filter choices (clinical/reporting.py).

Every count the supervisor sees comes with the episodes behind it. For any two shown counts of
the same family (episodes, ended, finished, finished as a case, active, measured in progress,
with recent homework) where
one group contains the other, the difference must be 0 or at least 5; and in every table column
the total minus the shown cells must be 0 or at least 5 clients, never one hidden cell alone.
Not covered (see README): differences between two date ranges.
"""
from itertools import combinations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from clinical.reporting import (ANALYSIS_FAMILIES, SMALL_CELL, SUPPRESSED, TILE_FAMILIES, cohort_view,
                                family_sizes, group_outcomes, hidden_cells, reveals_few)

THERAPISTS = ["T1", "T2", "T3"]
episode = st.fixed_dictionaries({
    "therapist": st.sampled_from(THERAPISTS),
    "ended": st.booleans(), "measured": st.booleans(), "case_at_start": st.booleans(),
    "improved": st.booleans(), "recovered": st.booleans(),
    "compliance": st.one_of(st.none(), st.floats(0, 1)),
    "in_category": st.one_of(st.none(), st.floats(0, 1)),
    "change": st.one_of(st.none(), st.integers(-15, 10)),
})


def clinic(rows):
    frame = pd.DataFrame(rows)
    frame = frame.assign(episode_id=range(len(frame)), last_log=pd.Timestamp("2026-01-01"))
    for flag in ("ended", "measured", "case_at_start", "improved", "recovered"):
        frame[flag] = frame[flag].astype(bool)
    frame = frame.assign(finished=frame["ended"] & frame["measured"], active=~frame["ended"],
                         ended_without_finishing=frame["ended"] & ~frame["measured"])
    frame = frame.assign(reliable_improvement=frame["improved"] & frame["finished"],
                         reliable_deterioration=False,
                         recovery=frame["recovered"] & frame["finished"] & frame["case_at_start"],
                         reliable_recovery=frame["recovered"] & frame["improved"] & frame["finished"]
                         & frame["case_at_start"],
                         compliance=pd.to_numeric(frame["compliance"]),
                         phq9_change=pd.to_numeric(frame["change"]))
    # Homework of the category is homework: no compliance over it without compliance overall.
    in_category = frame.assign(compliance=pd.to_numeric(frame["in_category"]).where(frame["compliance"].notna()))
    return frame, in_category


def shown_counts(episodes, in_category, therapist, category):
    """[(family, frozenset of episode ids)] for every count this filter choice shows."""
    view = cohort_view(episodes, in_category, episodes, in_category, therapist=therapist, category=category)
    if view.refusal:
        return []
    shown = [(family, ids(view.tiles, family)) for family in TILE_FAMILIES if family not in view.hidden_tiles]
    if not view.recent_hidden:
        shown.append(("recent homework", frozenset(view.recent["episode_id"])))
    if not view.analyses_hidden:
        shown += [(family, ids(view.points, family)) for family in ANALYSIS_FAMILIES]
    return shown


def ids(frame, family):
    members = {"episodes": frame["episode_id"] >= 0, "ended": frame["ended"], "finished": frame["finished"],
               "finished as a case": frame["finished"] & frame["case_at_start"], "active": frame["active"],
               "measured in progress": frame["active"] & frame["measured"]}[family]
    return frozenset(frame.loc[members, "episode_id"])


def table_counts(episodes):
    """Per-therapist table cells (cohort-wide, whatever the filters): [(family, ids)] shown, and the
    columns (family -> [(ids, shown)]) to check against their totals."""
    table = group_outcomes(episodes, "therapist").set_index("therapist")
    columns = {"episodes": "Clients", "ended": "Ended", "finished": "Reliable improvement",
               "finished as a case": "Recovery"}
    shown, by_column = [], {}
    for family, column in columns.items():
        for therapist, group in episodes.groupby("therapist"):
            members = ids(group, family)
            visible = table.loc[therapist, column] != SUPPRESSED
            by_column.setdefault(family, []).append((members, visible))
            if visible:
                shown.append((family, members))
    return shown, by_column


VIEWS = [(therapist, category) for therapist in [None, *THERAPISTS] for category in (None, "exposure")]


@settings(max_examples=40, deadline=None)
@given(st.lists(episode, min_size=8, max_size=40))
def test_no_hidden_count_can_be_derived_from_two_shown_numbers(rows):
    episodes, in_category = clinic(rows)
    tables, columns = table_counts(episodes)
    views = {view: shown_counts(episodes, in_category, *view) for view in VIEWS}
    for first, second in combinations(VIEWS, 2):
        counts = views[first] + views[second] + tables
        for (family_a, a), (family_b, b) in combinations(counts, 2):
            if family_a == family_b and (a <= b or b <= a):
                assert not reveals_few(abs(len(a) - len(b))), (first, second, family_a, len(a), len(b))
    for family, cells in columns.items():
        hidden = [members for members, visible in cells if not visible]
        hidden_total = sum(len(members) for members in hidden)
        if len(hidden) == len(cells):
            continue  # all hidden: the remainder is the column total, a headline count checked above
        assert not reveals_few(hidden_total), family
        assert len(hidden) != 1 or hidden_total == 0 or len(cells) == 1, family


@given(st.lists(st.integers(1, 30), min_size=1, max_size=8))
def test_complementary_suppression_never_leaves_a_small_remainder(sizes):
    hidden = hidden_cells(pd.Series(sizes))
    remainder = sum(size for size, hide in zip(sizes, hidden) if hide)
    assert all(hide for size, hide in zip(sizes, hidden) if size < SMALL_CELL)
    assert hidden.all() or not reveals_few(remainder)
    assert hidden.sum() != 1 or hidden.all()


def test_family_sizes_count_each_family():
    episodes, _ = clinic([{"therapist": "T1", "ended": True, "measured": True, "case_at_start": True,
                           "improved": True, "recovered": True, "compliance": 0.5, "in_category": None,
                           "change": -7}])
    assert family_sizes(episodes).to_dict() == {"episodes": 1, "ended": 1, "finished": 1, "finished as a case": 1,
                                                "active": 0, "measured in progress": 0, "with homework": 1}
