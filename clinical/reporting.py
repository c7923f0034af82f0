"""Cohort tables for supervisors and therapists, and the one small-cell rule they all follow.

A cell built from fewer than 5 clients reads "<5" instead of a number (`hidden_cells`).
Hiding it is not enough when a total is shown too: the total minus the other cells, or a
filtered view subtracted from the unfiltered one, would give the hidden number back. So:

- complementary suppression: in a column of cells that add up to a shown total, a lone
  hidden cell takes the next-smallest with it, until the hidden cells hold 0 or 5+ clients
  (the per-therapist and month-of-referral tables, within the chosen period; the
  homework-category table, whose cells overlap, is hidden by the same function, and the
  analyses under a category filter are checked against its count);
- the per-therapist, per-month and per-category tables split the same episodes three ways,
  so a row of one can lie inside a row of another (a therapist whose clients all came in one
  month): where a month or category row and a shown row (or the total) nest 1-4 clients
  apart, the month or category row is hidden too (`table_cells`), and the filtered views
  are checked against every shown count the same way. Within a row, Clients = Ended +
  in progress, and the Therapists page shows each therapist's clients in progress: a row
  hiding its Ended hides its Clients, one hiding its clients in progress hides its Ended;
- a filtered view (one therapist, one homework category) shows a count only when it
  differs from the same count of every coarser view (the one without that filter) by 0
  or by 5+ clients, and hides a therapist's figures wherever the per-therapist column
  hides them (`cohort_view`);
- the supervisor's period is one calendar quarter (`reporting_periods`), never a free date
  range: the quarters do not overlap, so no ended episode is counted by two choices and no
  difference between two choices singles anyone out (two free ranges [d1, today] and
  [d2, today] would have given the episodes that ended in [d1, d2)). The episodes in
  progress appear with the current quarter only;
- counts from another population than the episodes chosen (the lagged analysis counts
  clients with 4+ weeks of data) are not printed for supervisors: only whether they reach
  the analysis' minimum of 20 (clinical.analysis.lagged_models, `exact_counts=False`).

What this does not cover: the figures are live. The same choice looked at on two days
differs by what changed in between (an episode that ended, a discharge dated back into a
past quarter, a new questionnaire), as any live count does. The therapists' own insights
keep a free date range: they see their own clients by name, and no small-cell rule
applies to them.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from clinical.outcomes import Rate, outcome_rates, progress_so_far

# The episode ids behind each cell of a table: {row: {family: ids}}.
Members = dict[Any, dict[str, frozenset[Any]]]

SMALL_CELL = 5
SUPPRESSED = "<5"
# Rates over ENDED episodes (clinical.outcomes.outcome_rates), in table order.
RATE_MEASURES = (
    "finished treatment",
    "ended without finishing",
    "recovery",
    "reliable improvement",
    "reliable deterioration",
    "reliable recovery",
)
PROGRESS_MEASURES = ("reliable improvement", "reliable deterioration")

# Each shown count is the size of one of these "families" of a group of episodes: the
# group itself, those ended, those who finished, those who finished as a case, those active
# (in progress), those in progress with two pairs and sessions, those with homework set.
# Differences are only meaningful within a family.
_FAMILIES = {
    "episodes": lambda frame: pd.Series(True, index=frame.index),
    "ended": lambda frame: frame["ended"].astype(bool),
    "finished": lambda frame: frame["finished"].astype(bool),
    "finished as a case": lambda frame: frame["finished"].astype(bool) & frame["case_at_start"].astype(bool),
    "active": lambda frame: frame["active"].astype(bool),
    "measured in progress": lambda frame: frame["active"].astype(bool) & frame["measured"].astype(bool),
    "with homework": lambda frame: frame["compliance"].notna(),
}
# The family behind each rate: its denominator.
RATE_FAMILY = {
    "finished treatment": "ended",
    "ended without finishing": "ended",
    "reliable improvement": "finished",
    "reliable deterioration": "finished",
    "recovery": "finished as a case",
    "reliable recovery": "finished as a case",
}
# The two tables that partition the chosen episodes: by therapist and by month of referral.
TABLES = ("therapist", "month")
TILE_FAMILIES = ("episodes", "ended", "finished", "finished as a case", "active", "measured in progress")
ANALYSIS_FAMILIES = ("episodes", "finished", "finished as a case")


def reveals_few(difference: float) -> bool:
    """True when a difference of two shown counts would single out 1 to 4 clients."""
    return 0 < difference < SMALL_CELL


def hidden_cells(sizes: pd.Series, already: pd.Series | None = None) -> pd.Series:
    """Return which cells of one table column to hide, given the clients behind each cell.

    The one small-cell rule: a cell of fewer than 5 clients is hidden (and so is any cell
    `already` marks); then, because the column's total is shown elsewhere, the next-smallest
    cells are hidden too until the hidden cells are none, or at least two holding 0 or 5+
    clients together (so that total minus shown cells gives no small number). `sizes`: a
    Series, one per cell; `already`: a boolean Series on the same index, or None.
    """
    sizes = pd.Series(sizes).astype(int)
    hidden = sizes < SMALL_CELL
    if already is not None:
        hidden |= already
    while (
        hidden.any()
        and not hidden.all()
        and (reveals_few(sizes[hidden].sum()) or (hidden.sum() == 1 and sizes[hidden].sum() > 0))
    ):
        # pandas-stubs types idxmin() as any Hashable, which its Series.__setitem__ does not take.
        hidden[sizes[~hidden].idxmin()] = True  # type: ignore[call-overload]
    return hidden


def count_text(size: int, hidden: bool) -> str:
    """A count as shown: the number, or "<5" when hidden."""
    return SUPPRESSED if hidden else str(size)


def family_sizes(frame: pd.DataFrame, families: Sequence[str] = tuple(_FAMILIES)) -> pd.Series:
    """Return the size of each family of the episodes in `frame` (a Series by family name)."""
    return pd.Series({family: int(_FAMILIES[family](frame).sum()) for family in families}, dtype=int)


def family_members(frame: pd.DataFrame, family: str) -> frozenset[Any]:
    """The episode ids behind one family's count of the episodes in `frame`."""
    return frozenset(frame.loc[_FAMILIES[family](frame), "episode_id"])


def _nested_and_near(first: frozenset[Any], second: frozenset[Any]) -> bool:
    """Whether one of two groups of episodes holds the other and they differ by 1-4 clients."""
    return (first <= second or second <= first) and reveals_few(abs(len(first) - len(second)))


def with_referral_month(episodes: pd.DataFrame) -> pd.DataFrame:
    """The episodes with the "month" the per-month table groups them by (YYYY-MM of referral)."""
    return episodes.assign(month=pd.to_datetime(episodes["referral_month"]).dt.strftime("%Y-%m"))


def _members_by_row(grouped: pd.DataFrame, by: str, families: Sequence[str] = tuple(_FAMILIES)) -> Members:
    return {
        key: {family: family_members(group, family) for family in families}
        for key, group in grouped.groupby(by, sort=True)
    }


# Within one row, Clients = Ended + in progress ("active"), and the supervisor's Therapists page
# shows each therapist's clients in progress: a row hiding its Ended hides its Clients too, and a
# row hiding its clients in progress hides its Ended, so that no one of the three is worked out
# from the other two.
_ALSO_HIDE = {"ended": "episodes", "active": "ended"}


def _hidden_rows(
    members: Members, reference: Mapping[str, Sequence[frozenset[Any]]], families: Sequence[str] = tuple(_FAMILIES)
) -> pd.DataFrame:
    """Return which cells of a table to hide (rows x families), given the episode ids behind
    each cell (`members`: {row: {family: ids}}) and the counts shown elsewhere that it must
    not be set against (`reference`: {family: [ids]}), for `families`.

    hidden_cells in each column; a row hiding "ended" or "active" hides more (_ALSO_HIDE);
    a shown cell that holds, or lies in, a reference count or
    another shown cell of its own table, 1-4 clients apart, is hidden too. After each step
    the column's complementary suppression runs again, until nothing changes.
    """
    sizes = pd.DataFrame(
        {key: {family: len(ids) for family, ids in row.items()} for key, row in members.items()},
        columns=list(members),
        index=list(families),
    ).T.astype(int)
    hidden = sizes.apply(hidden_cells).astype(bool) if len(sizes) else sizes.astype(bool)

    def exposed(key: Any, family: str, shown: list[Any]) -> bool:
        cell = members[key][family]
        return any(_nested_and_near(cell, other) for other in reference[family]) or any(
            _nested_and_near(cell, members[other][family]) for other in shown if other != key
        )

    def hide(family: str, already: pd.Series) -> bool:
        changed = bool((already & ~hidden[family]).any())
        hidden[family] = hidden_cells(sizes[family], already | hidden[family])
        return changed

    changed = len(sizes) > 0
    while changed:
        changed = False
        if {"episodes", "ended", "active"} <= set(families):
            for family, also in _ALSO_HIDE.items():
                changed |= hide(also, hidden[family])
        for family in families:
            shown = [key for key in members if not hidden.loc[key, family]]
            culprit = next((key for key in shown if exposed(key, family, shown)), None)
            if culprit is not None:
                changed |= hide(family, hidden[family].index == culprit)
    return hidden


@dataclass(frozen=True)
class TableCells:
    """What the supervisor's three tables show: `hidden` ({"therapist", "month", "category"}:
    a DataFrame of one row per group and one column per family, True where the count reads
    "<5") and `shown` ({family: [episode ids behind each shown count, the total's too]})."""

    hidden: dict
    shown: dict


def _shown(members: Members, hidden: pd.DataFrame) -> dict[str, list[frozenset[Any]]]:
    return {
        family: [row[family] for key, row in members.items() if not hidden.loc[key, family]] for family in _FAMILIES
    }


def table_cells(episodes: pd.DataFrame, categories: Mapping[str, Any] | None = None) -> TableCells:
    """Return the TableCells of the per-therapist, per-month and per-category tables.

    The per-therapist table follows _hidden_rows against nothing but the total (as does the
    therapist filter). The per-month table splits the same episodes another way, so a month
    can hold a therapist's whole group (or lie inside it): the difference would give the
    month's other clients. So month rows are checked against the shown therapist rows and
    the total; the homework-category table (`categories`: {category: episode ids},
    overlapping groups) against those, the shown month rows and the other categories.
    """
    grouped = with_referral_month(episodes)
    therapists = _members_by_row(grouped, "therapist")
    shown = {family: [family_members(episodes, family)] for family in _FAMILIES}
    hidden = {"therapist": _hidden_rows(therapists, shown)}
    shown = {family: shown[family] + cells for family, cells in _shown(therapists, hidden["therapist"]).items()}
    months = _members_by_row(grouped, "month")
    hidden["month"] = _hidden_rows(months, shown)
    shown = {family: shown[family] + cells for family, cells in _shown(months, hidden["month"]).items()}
    in_category = {
        category: {family: family_members(episodes[episodes["episode_id"].isin(ids)], family) for family in _FAMILIES}
        for category, ids in (categories or {}).items()
    }
    hidden["category"] = _hidden_rows(in_category, shown)
    shown = {family: shown[family] + cells for family, cells in _shown(in_category, hidden["category"]).items()}
    return TableCells(hidden, shown)


def therapist_hidden(population: pd.DataFrame, families: Sequence[str]) -> pd.DataFrame:
    """Return, per therapist (rows) and family (columns), whether that count of `population`
    is hidden in a per-therapist column of it: the per-therapist table's rule (table_cells),
    used for the therapist filter too."""
    members = _members_by_row(population, "therapist", families)
    return _hidden_rows(members, {family: [family_members(population, family)] for family in families}, families)


def _percent(rate: Rate) -> str:
    return "no data" if rate.rate is None else f"{rate.rate:.0%}"


def group_outcomes(classified: pd.DataFrame, by: str, cells: TableCells | None = None) -> pd.DataFrame:
    """Return the per-therapist (`by`="therapist") or per-month (`by`="month", of referral)
    table of classified episodes, small cells hidden as `cells` says (table_cells of the same
    episodes; worked out here when None).

    Columns: the group, Clients, Ended, Median compliance, then one column per outcome
    rate (over the group's ended episodes). A rate hides with its own denominator's count
    (e.g. recovery counts only clients who finished as a case).
    """
    hidden = (cells or table_cells(classified)).hidden[by]
    rows = []
    for key, group in with_referral_month(classified).groupby(by, sort=True):
        rates = outcome_rates(group)
        measured = group["compliance"].dropna()
        row = {
            by: key,
            "Clients": count_text(len(group), hidden.loc[key, "episodes"]),
            "Ended": count_text(int(group["ended"].sum()), hidden.loc[key, "ended"]),
        }
        row["Median compliance"] = (
            SUPPRESSED
            if hidden.loc[key, "with homework"]
            else "no homework set"
            if measured.empty
            else f"{measured.median():.0%}"
        )
        for measure in RATE_MEASURES:
            row[measure.capitalize()] = (
                SUPPRESSED if hidden.loc[key, RATE_FAMILY[measure]] else _percent(rates[measure])
            )
        rows.append(row)
    return pd.DataFrame(rows)


def category_outcomes(
    classified: pd.DataFrame, categories: pd.DataFrame, cells: TableCells, names: Mapping[str, str]
) -> pd.DataFrame:
    """Return the by-homework-category table, small cells hidden as `cells` says (table_cells
    with the same `categories`).

    `categories`: data_layer.reports.cohort.category_summary (one row per category: clients,
    episode_ids, compliance, mean_helpfulness); `names`: the categories' display names.
    Clients, compliance and helpfulness hide with the category's count of clients; reliable
    improvement with its count of clients who finished.
    """
    hidden = cells.hidden["category"]
    rows = []
    # A row's attributes are the frame's columns; pandas-stubs can only type them as any scalar.
    row: Any
    for row in categories.itertuples():
        members = classified[classified["episode_id"].isin(row.episode_ids) & classified["finished"].astype(bool)]
        clients_hidden = hidden.loc[row.category, "episodes"]
        rows.append(
            {
                "Category": names[row.category],
                "Clients": count_text(row.clients, clients_hidden),
                "Compliance": SUPPRESSED if clients_hidden or pd.isna(row.compliance) else f"{row.compliance:.0%}",
                "Mean helpfulness (1-5)": SUPPRESSED
                if clients_hidden or pd.isna(row.mean_helpfulness)
                else f"{row.mean_helpfulness:.1f}",
                "Reliable improvement": SUPPRESSED
                if hidden.loc[row.category, "finished"]
                else _percent(outcome_rates(members)["reliable improvement"]),
            }
        )
    return pd.DataFrame(
        rows, columns=["Category", "Clients", "Compliance", "Mean helpfulness (1-5)", "Reliable improvement"]
    )


def analysed(classified: pd.DataFrame, change_column: str) -> pd.DataFrame:
    """The episodes the compliance-versus-outcome analyses use: compliance and change known."""
    return classified.dropna(subset=["compliance", change_column])


def _hidden_families(
    population: pd.DataFrame,
    supersets: Sequence[pd.DataFrame],
    families: Sequence[str],
    by_therapist: pd.DataFrame | None = None,
    therapist: str | None = None,
    shown_cells: Mapping[str, Sequence[frozenset[Any]]] | None = None,
) -> set[str]:
    """Families of `population` to hide: fewer than 5, 1-4 away from the same count of a
    shown superset or of a shown table count that holds it or that it holds (`shown_cells`:
    TableCells.shown), or hidden for this therapist in `by_therapist` (therapist_hidden)."""
    sizes = family_sizes(population, families)
    # A family of 0 is shown as it is ("no finished episodes yet"): it holds nobody to single out.
    hidden = {family for family in families if reveals_few(sizes[family])}
    for superset in supersets:
        difference = family_sizes(superset, families) - sizes
        hidden |= {family for family in families if reveals_few(difference[family])}
    shown = shown_cells or {}
    for family in set(families) & set(shown):
        members = family_members(population, family)
        if any(_nested_and_near(members, cell) for cell in shown[family]):
            hidden.add(family)
    if therapist is not None:
        assert by_therapist is not None, "a therapist's figures are checked against by_therapist"
        if therapist in by_therapist.index:
            hidden |= {family for family in families if by_therapist.loc[therapist, family]}
    return hidden


@dataclass(frozen=True)
class CohortView:
    """What a supervisor may see for one choice of filters (see the module docstring).

    `refusal`: why nothing is shown for this choice, or None. `tiles`: the episodes behind
    the headline figures; `hidden_tiles`: families whose tiles read "<5". `recent`: active
    episodes with homework in the last 4 weeks; `recent_hidden`. `points`: the episodes of
    the analyses; `analyses_hidden`: whether the analyses must be withheld; `per_client`:
    whether per-client points may be plotted (only without a category filter, whose
    overlapping groups could be intersected point by point).
    """

    refusal: str | None
    tiles: pd.DataFrame
    hidden_tiles: frozenset
    recent: pd.DataFrame
    recent_hidden: bool
    points: pd.DataFrame
    analyses_hidden: bool
    per_client: bool


def _of(frame: pd.DataFrame, therapist: str | None) -> pd.DataFrame:
    return frame if therapist is None else frame[frame["therapist"] == therapist]


def _with_homework(recent: pd.DataFrame) -> pd.DataFrame:
    return recent[recent["active"].astype(bool) & recent["compliance"].notna()]


def cohort_view(
    episodes: pd.DataFrame,
    in_category: pd.DataFrame,
    recent: pd.DataFrame,
    recent_in_category: pd.DataFrame,
    *,
    therapist: str | None = None,
    category: str | None = None,
    change_column: str = "phq9_change",
    cells: TableCells | None = None,
) -> CohortView:
    """Decide what the supervisor sees for filters (`therapist`, `category`; None = all).

    `episodes`: classified episodes of all the supervisor's therapists, compliance over
    every category; `in_category`: the same with compliance over the chosen category only
    (the same frame when none is chosen). `recent` and `recent_in_category`: the same two
    for the last 4 weeks (columns therapist, active, compliance). `cells`: the tables'
    TableCells (table_cells of `episodes`; worked out here when None). Returns a CohortView.
    """
    tiles = _of(episodes, therapist)
    cells = cells or table_cells(episodes)
    if therapist is not None and (tiles.empty or cells.hidden["therapist"].loc[therapist, "episodes"]):
        return CohortView(
            "This therapist's figures are not shown on their own: their group is smaller than 5 clients, or "
            "showing it would let another small group be worked out from the totals. Choose all therapists.",
            tiles.iloc[:0],
            frozenset(TILE_FAMILIES),
            recent.iloc[:0],
            True,
            tiles.iloc[:0],
            True,
            False,
        )
    hidden_tiles = _hidden_families(tiles, [episodes], TILE_FAMILIES, cells.hidden["therapist"], therapist, cells.shown)

    recent_view = _with_homework(_of(recent_in_category, therapist))
    recent_coarser = [
        _with_homework(_of(recent, therapist)),
        _with_homework(recent_in_category),
        _with_homework(recent),
    ]
    recent_hidden = bool(
        _hidden_families(
            recent_view,
            recent_coarser,
            ["episodes"],
            therapist_hidden(_with_homework(recent_in_category), ["episodes"]),
            therapist,
        )
    )

    points = analysed(_of(in_category, therapist), change_column)
    shown_supersets = [
        tiles,
        episodes,
        analysed(tiles, change_column),
        analysed(in_category, change_column),
        analysed(episodes, change_column),
        in_category[in_category["compliance"].notna()],
    ]
    analyses_hidden = bool(
        _hidden_families(
            points,
            shown_supersets,
            ANALYSIS_FAMILIES,
            therapist_hidden(analysed(in_category, change_column), ANALYSIS_FAMILIES),
            therapist,
            cells.shown,
        )
    )
    return CohortView(
        None,
        tiles,
        frozenset(hidden_tiles),
        recent_view,
        recent_hidden,
        points,
        analyses_hidden,
        per_client=category is None,
    )


def cohort_tiles(view: CohortView, today: date) -> dict[str, tuple[str, str]]:
    """Return the headline figures of a CohortView as {name: (value text, detail text)}.

    Every count is hidden as the view says (`hidden_tiles`, `recent_hidden`).
    """
    active = view.tiles[view.tiles["active"].astype(bool)]
    logged = pd.to_datetime(active["last_log"]) >= pd.Timestamp(today) - pd.Timedelta(days=6)
    tiles = {}

    def tile(name: str, numerator: int, denominator: int, hidden: bool, unit: str) -> None:
        if hidden:
            tiles[name] = (SUPPRESSED, f"fewer than {SMALL_CELL} {unit}, or hidden to protect a small group")
        else:
            tiles[name] = (
                f"{numerator / denominator:.0%}" if denominator else "no data",
                f"{numerator} of {denominator} {unit}",
            )

    active_hidden = "active" in view.hidden_tiles
    tiles["Active clients"] = (SUPPRESSED if active_hidden and len(active) else str(len(active)), "in care now")
    tile("Engagement", int(logged.sum()), len(active), active_hidden, "active clients logged in the last 7 days")
    measured = view.recent["compliance"]
    tiles["Median 4-week compliance"] = (
        (SUPPRESSED, f"fewer than {SMALL_CELL} clients with homework, or hidden to protect a small group")
        if view.recent_hidden
        else (f"{measured.median():.0%}", f"{len(measured)} clients with homework set")
    )
    for measure, rate in outcome_rates(view.tiles).items():
        tile(
            measure.capitalize(),
            rate.numerator,
            rate.denominator,
            RATE_FAMILY[measure] in view.hidden_tiles,
            {"ended": "ended episodes", "finished": "who finished"}.get(RATE_FAMILY[measure], "who finished as a case"),
        )
    return tiles


def progress_tiles(view: CohortView) -> dict[str, tuple[str, str]]:
    """Return the progress so far of the episodes in progress of a CohortView, apart from the
    rates: {name: (value text, detail text)}, hidden as the view says."""
    tiles = {}
    hidden = "measured in progress" in view.hidden_tiles
    for measure, rate in progress_so_far(view.tiles).items():
        if measure not in PROGRESS_MEASURES:
            continue
        name = f"{measure.capitalize()} so far"
        tiles[name] = (
            (
                SUPPRESSED,
                f"fewer than {SMALL_CELL} episodes in progress with two pairs, or hidden to protect a small group",
            )
            if hidden
            else (
                f"{rate.rate:.0%}" if rate.denominator else "no data",
                f"{rate.numerator} of {rate.denominator} in progress with two pairs and sessions",
            )
        )
    return tiles


def quarter_start(day: date) -> date:
    """The first day of the calendar quarter that holds `day`."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _next_quarter(first_day: date) -> date:
    return date(first_day.year + first_day.month // 10, (first_day.month + 2) % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """One of the supervisor's period choices: the episodes that ENDED from `first_day` to
    `last_day` (one calendar quarter), and for the `current` quarter also those in progress.
    Pass (first_day, last_day) as the data layer's window_start, window_end: it chooses the
    same episodes (data_layer.reports.cohort._chosen_episodes_sql)."""

    first_day: date
    last_day: date
    current: bool

    @property
    def label(self) -> str:
        months = f"{self.first_day:%b}–{self.last_day:%b %Y}"
        return f"{months} (so far), and the episodes in progress" if self.current else months

    def chooses(self, ended_on: date | None) -> bool:
        """Whether this period takes an episode that ended on `ended_on` (None: in progress)."""
        return self.current if ended_on is None else self.first_day <= ended_on <= self.last_day


def reporting_periods(earliest_start: date | None, today: date) -> list[Period]:
    """Return the supervisor's period choices, newest (the current quarter, the default) first.

    Calendar quarters from the one holding `earliest_start` (the earliest episode start in
    the supervisor's scope; None when there is none) to the one holding `today`. They never
    overlap and every episode that has ended falls in exactly one of them (it ended on or
    after its start, and not after today), so two choices never share an ended episode and
    no difference between them can single anyone out. The episodes in progress belong to
    the current quarter only.
    """
    current = quarter_start(today)
    first = min(quarter_start(earliest_start), current) if earliest_start else current
    periods = []
    while first <= current:
        following = _next_quarter(first)
        periods.append(Period(first, following - timedelta(days=1), current=first == current))
        first = following
    return periods[::-1]
