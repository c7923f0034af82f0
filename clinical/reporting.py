"""Cohort tables for supervisors and therapists, and the one small-cell rule they all follow.

A cell built from fewer than 5 clients reads "<5" instead of a number (`hidden_cells`).
Hiding it is not enough when a total is shown too: the total minus the other cells, or a
filtered view subtracted from the unfiltered one, would give the hidden number back. So:

- complementary suppression: in a column of cells that add up to a shown total, a lone
  hidden cell takes the next-smallest with it, until the hidden cells hold 0 or 5+ clients
  (the per-therapist and month-of-referral tables, within the chosen period; the
  homework-category table, whose cells overlap, is hidden by the same function, and the
  analyses under a category filter are checked against its count);
- the per-therapist and per-month tables split the same episodes two ways, so a row of one
  can lie inside a row of the other (a therapist whose clients all came in one month); where
  two shown rows nest 1-4 clients apart, the smaller is hidden too (`table_hidden`), and the
  filtered views are checked against every shown row the same way;
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
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from clinical.outcomes import outcome_rates, progress_so_far

SMALL_CELL = 5
SUPPRESSED = "<5"
# Rates over ENDED episodes (clinical.outcomes.outcome_rates), in table order.
RATE_MEASURES = ("finished treatment", "ended without finishing", "recovery", "reliable improvement",
                 "reliable deterioration", "reliable recovery")
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
RATE_FAMILY = {"finished treatment": "ended", "ended without finishing": "ended", "reliable improvement": "finished",
               "reliable deterioration": "finished", "recovery": "finished as a case",
               "reliable recovery": "finished as a case"}
# The two tables that partition the chosen episodes: by therapist and by month of referral.
TABLES = ("therapist", "month")
TILE_FAMILIES = ("episodes", "ended", "finished", "finished as a case", "active", "measured in progress")
ANALYSIS_FAMILIES = ("episodes", "finished", "finished as a case")


def reveals_few(difference):
    """True when a difference of two shown counts would single out 1 to 4 clients."""
    return 0 < difference < SMALL_CELL


def hidden_cells(sizes, already=None):
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
    while hidden.any() and not hidden.all() and (
            reveals_few(sizes[hidden].sum()) or (hidden.sum() == 1 and sizes[hidden].sum() > 0)):
        hidden[sizes[~hidden].idxmin()] = True
    return hidden


def count_text(size, hidden):
    """A count as shown: the number, or "<5" when hidden."""
    return SUPPRESSED if hidden else str(size)


def family_sizes(frame, families=tuple(_FAMILIES)):
    """Return the size of each family of the episodes in `frame` (a Series by family name)."""
    return pd.Series({family: int(_FAMILIES[family](frame).sum()) for family in families}, dtype=int)


def family_members(frame, family):
    """The episode ids behind one family's count of the episodes in `frame`."""
    return frozenset(frame.loc[_FAMILIES[family](frame), "episode_id"])


def _nested_and_near(first, second):
    """Whether one of two groups of episodes holds the other and they differ by 1-4 clients."""
    return (first <= second or second <= first) and reveals_few(abs(len(first) - len(second)))


def with_referral_month(episodes):
    """The episodes with the "month" the per-month table groups them by (YYYY-MM of referral)."""
    return episodes.assign(month=pd.to_datetime(episodes["referral_month"]).dt.strftime("%Y-%m"))


def _nested_shown_cell(members, hidden, family):
    """(table, row) of a shown cell that a shown cell of the other table holds, or is held by,
    1-4 clients apart (the smaller of the two), or None."""
    first, second = TABLES
    for first_key, first_members in members[first].items():
        for second_key, second_members in members[second].items():
            a, b = first_members[family], second_members[family]
            if hidden[first].loc[first_key, family] or hidden[second].loc[second_key, family] \
                    or not _nested_and_near(a, b):
                continue
            return (first, first_key) if len(a) < len(b) else (second, second_key)
    return None


def table_hidden(episodes):
    """Return, for the per-therapist and per-month tables ({"therapist": ..., "month": ...}),
    whether each count is hidden: a DataFrame per table, one row per group, one column per family.

    Each column follows hidden_cells. The two tables partition the same episodes, so a row of
    one can lie inside a row of the other (a therapist whose clients all came in one month):
    the difference of the two would give the other clients of that month. Where a shown row
    holds another shown row 1-4 clients smaller, the smaller is hidden too, and its column's
    complementary suppression runs again, until no such pair is left.
    """
    grouped = with_referral_month(episodes)
    members = {table: {key: {family: family_members(group, family) for family in _FAMILIES}
                       for key, group in grouped.groupby(table, sort=True)} for table in TABLES}
    sizes = {table: pd.DataFrame({key: {family: len(ids) for family, ids in families.items()}
                                  for key, families in rows.items()}, columns=list(rows), index=list(_FAMILIES)).T
             for table, rows in members.items()}
    hidden = {table: table_sizes.apply(hidden_cells).astype(bool) if len(table_sizes) else table_sizes.astype(bool)
              for table, table_sizes in sizes.items()}
    for family in _FAMILIES:
        while (nested := _nested_shown_cell(members, hidden, family)) is not None:
            table, key = nested
            already = hidden[table][family].copy()
            already[key] = True
            hidden[table][family] = hidden_cells(sizes[table][family], already)
    return hidden


def shown_table_cells(episodes, hidden):
    """{family: [episode ids of each count the per-therapist and per-month tables show]}, given
    the tables' `hidden` (table_hidden of the same episodes)."""
    grouped = with_referral_month(episodes)
    return {family: [family_members(group, family) for table in TABLES
                     for key, group in grouped.groupby(table, sort=True) if not hidden[table].loc[key, family]]
            for family in _FAMILIES}


def therapist_hidden(population, families):
    """Return, per therapist (rows) and family (columns), whether that count of `population`
    is hidden in a per-therapist column of it (hidden_cells). The per-therapist table of the
    chosen episodes also hides what the month table makes recoverable: see table_hidden."""
    sizes = pd.DataFrame({therapist: family_sizes(group, families)
                          for therapist, group in population.groupby("therapist", sort=True)}).T
    return sizes.apply(hidden_cells)


def _percent(rate):
    return "no data" if rate.rate is None else f"{rate.rate:.0%}"


def group_outcomes(classified, by):
    """Return the per-therapist (`by`="therapist") or per-month (`by`="month", of referral)
    table of classified episodes, small cells hidden (table_hidden).

    Columns: the group, Clients, Ended, Median compliance, then one column per outcome
    rate (over the group's ended episodes). A rate hides with its own denominator's count
    (e.g. recovery counts only clients who finished as a case).
    """
    hidden = table_hidden(classified)[by]
    rows = []
    for key, group in with_referral_month(classified).groupby(by, sort=True):
        rates = outcome_rates(group)
        measured = group["compliance"].dropna()
        row = {by: key, "Clients": count_text(len(group), hidden.loc[key, "episodes"]),
               "Ended": count_text(int(group["ended"].sum()), hidden.loc[key, "ended"])}
        row["Median compliance"] = ("no homework set" if measured.empty else SUPPRESSED
                                    if hidden.loc[key, "with homework"] else f"{measured.median():.0%}")
        for measure in RATE_MEASURES:
            row[measure.capitalize()] = (SUPPRESSED if hidden.loc[key, RATE_FAMILY[measure]]
                                         else _percent(rates[measure]))
        rows.append(row)
    return pd.DataFrame(rows)


def analysed(classified, change_column):
    """The episodes the compliance-versus-outcome analyses use: compliance and change known."""
    return classified.dropna(subset=["compliance", change_column])


def _hidden_families(population, supersets, families, by_therapist=None, therapist=None, table_cells=None):
    """Families of `population` to hide: fewer than 5, 1-4 away from the same count of a
    shown superset or of a shown table cell that holds it or that it holds (`table_cells`,
    from shown_table_cells), or hidden for this therapist in `by_therapist` (therapist_hidden
    or table_hidden's per-therapist table)."""
    sizes = family_sizes(population, families)
    # A family of 0 is shown as it is ("no finished episodes yet"): it holds nobody to single out.
    hidden = {family for family in families if reveals_few(sizes[family])}
    for superset in supersets:
        difference = family_sizes(superset, families) - sizes
        hidden |= {family for family in families if reveals_few(difference[family])}
    for family in set(families) & set(table_cells or {}):
        members = family_members(population, family)
        if any(_nested_and_near(members, cell) for cell in table_cells[family]):
            hidden.add(family)
    if therapist is not None:
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


def _of(frame, therapist):
    return frame if therapist is None else frame[frame["therapist"] == therapist]


def _with_homework(recent):
    return recent[recent["active"].astype(bool) & recent["compliance"].notna()]


def cohort_view(episodes, in_category, recent, recent_in_category, *, therapist=None, category=None,
                change_column="phq9_change"):
    """Decide what the supervisor sees for filters (`therapist`, `category`; None = all).

    `episodes`: classified episodes of all the supervisor's therapists, compliance over
    every category; `in_category`: the same with compliance over the chosen category only
    (the same frame when none is chosen). `recent` and `recent_in_category`: the same two
    for the last 4 weeks (columns therapist, active, compliance). Returns a CohortView.
    """
    tiles = _of(episodes, therapist)
    tables_hidden = table_hidden(episodes)
    if therapist is not None and (tiles.empty or tables_hidden["therapist"].loc[therapist, "episodes"]):
        return CohortView(
            "This therapist's figures are not shown on their own: their group is smaller than 5 clients, or "
            "showing it would let another small group be worked out from the totals. Choose all therapists.",
            tiles.iloc[:0], frozenset(TILE_FAMILIES), recent.iloc[:0], True, tiles.iloc[:0], True, False)
    table_cells = shown_table_cells(episodes, tables_hidden)
    hidden_tiles = _hidden_families(tiles, [episodes], TILE_FAMILIES, tables_hidden["therapist"], therapist,
                                    table_cells)

    recent_view = _with_homework(_of(recent_in_category, therapist))
    recent_coarser = [_with_homework(_of(recent, therapist)), _with_homework(recent_in_category),
                      _with_homework(recent)]
    recent_hidden = bool(_hidden_families(recent_view, recent_coarser, ["episodes"],
                                          therapist_hidden(_with_homework(recent_in_category), ["episodes"]),
                                          therapist))

    points = analysed(_of(in_category, therapist), change_column)
    shown_supersets = [tiles, episodes, analysed(tiles, change_column), analysed(in_category, change_column),
                       analysed(episodes, change_column), in_category[in_category["compliance"].notna()]]
    analyses_hidden = bool(_hidden_families(
        points, shown_supersets, ANALYSIS_FAMILIES,
        therapist_hidden(analysed(in_category, change_column), ANALYSIS_FAMILIES), therapist, table_cells))
    return CohortView(None, tiles, frozenset(hidden_tiles), recent_view, recent_hidden, points, analyses_hidden,
                      per_client=category is None)


def cohort_tiles(view, today):
    """Return the headline figures of a CohortView as {name: (value text, detail text)}.

    Every count is hidden as the view says (`hidden_tiles`, `recent_hidden`).
    """
    active = view.tiles[view.tiles["active"].astype(bool)]
    logged = pd.to_datetime(active["last_log"]) >= pd.Timestamp(today) - pd.Timedelta(days=6)
    tiles = {}

    def tile(name, numerator, denominator, hidden, unit):
        if hidden:
            tiles[name] = (SUPPRESSED, f"fewer than {SMALL_CELL} {unit}, or hidden to protect a small group")
        else:
            tiles[name] = (f"{numerator / denominator:.0%}" if denominator else "no data",
                           f"{numerator} of {denominator} {unit}")

    active_hidden = "active" in view.hidden_tiles
    tiles["Active clients"] = (SUPPRESSED if active_hidden and len(active) else str(len(active)), "in care now")
    tile("Engagement", int(logged.sum()), len(active), active_hidden, "active clients logged in the last 7 days")
    measured = view.recent["compliance"]
    tiles["Median 4-week compliance"] = (
        (SUPPRESSED, f"fewer than {SMALL_CELL} clients with homework, or hidden to protect a small group")
        if view.recent_hidden else (f"{measured.median():.0%}", f"{len(measured)} clients with homework set"))
    for measure, rate in outcome_rates(view.tiles).items():
        tile(measure.capitalize(), rate.numerator, rate.denominator, RATE_FAMILY[measure] in view.hidden_tiles,
             {"ended": "ended episodes", "finished": "who finished"}.get(RATE_FAMILY[measure], "who finished as a case"))
    return tiles


def progress_tiles(view):
    """Return the progress so far of the episodes in progress of a CohortView, apart from the
    rates: {name: (value text, detail text)}, hidden as the view says."""
    tiles = {}
    hidden = "measured in progress" in view.hidden_tiles
    for measure, rate in progress_so_far(view.tiles).items():
        if measure not in PROGRESS_MEASURES:
            continue
        name = f"{measure.capitalize()} so far"
        tiles[name] = ((SUPPRESSED, f"fewer than {SMALL_CELL} episodes in progress with two pairs, or hidden "
                                    "to protect a small group") if hidden else
                       (f"{rate.rate:.0%}" if rate.denominator else "no data",
                        f"{rate.numerator} of {rate.denominator} in progress with two pairs and sessions"))
    return tiles


def quarter_start(day):
    """The first day of the calendar quarter that holds `day`."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _next_quarter(first_day):
    return date(first_day.year + first_day.month // 10, (first_day.month + 2) % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """One of the supervisor's period choices: the episodes that ENDED from `first_day` to
    `last_day` (one calendar quarter), and for the `current` quarter also those in progress.
    Pass (first_day, last_day) as the data layer's window_start, window_end: it chooses the
    same episodes (data_layer.cohort._chosen_episodes_sql)."""

    first_day: date
    last_day: date
    current: bool

    @property
    def label(self):
        months = f"{self.first_day:%b}–{self.last_day:%b %Y}"
        return f"{months} (so far), and the episodes in progress" if self.current else months

    def chooses(self, ended_on):
        """Whether this period takes an episode that ended on `ended_on` (None: in progress)."""
        return self.current if ended_on is None else self.first_day <= ended_on <= self.last_day


def reporting_periods(earliest_start, today):
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
