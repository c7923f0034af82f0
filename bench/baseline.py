"""The supervisor's cohort numbers computed two ways: the page's way (cohort SQL + clinical/)
and a naive pandas baseline (SELECT * of the supervisor's tables, everything else in pandas),
and the exact comparison of the two."""

import numpy as np
import pandas as pd

from clinical.episodes import classify_episodes
from clinical.outcomes import outcome_rates
from data_layer.reports import cohort

COMPARED_COLUMNS = [
    "ended",
    "compliance",
    "attended_sessions",
    "pairs",
    "phq9_first",
    "gad7_first",
    "phq9_last",
    "gad7_last",
    "case_at_start",
    "case_at_end",
    "finished",
    "ended_without_finishing",
    "reliable_improvement",
    "reliable_deterioration",
    "recovery",
    "reliable_recovery",
    "outcome",
]


def page_cohort_numbers(cur, principal, window_start, window_end):
    """Compute the supervisor's cohort numbers the way the cohort page does, without any cache.

    Returns (episodes: DataFrame indexed by episode_id with COMPARED_COLUMNS,
    rates: {measure: (numerator, denominator, rate)}).
    """
    episodes = cohort.episode_summaries(
        cur, principal, window_start=window_start, window_end=window_end, therapist_id=None, category=None
    )
    questionnaires = cohort.episode_questionnaires(
        cur, principal, window_start=window_start, window_end=window_end, therapist_id=None
    )
    classified = classify_episodes(episodes, questionnaires)
    rates = {name: (rate.numerator, rate.denominator, rate.rate) for name, rate in outcome_rates(classified).items()}
    return classified.set_index("episode_id")[COMPARED_COLUMNS], rates


# The supervisor's scope, as plain SQL: therapists supervised today, and their clients.
_THERAPISTS_SQL = """SELECT therapist_id FROM supervision
                     WHERE supervisor_id = $supervisor AND started_on <= current_date
                       AND (ended_on IS NULL OR ended_on > current_date)"""
_CLIENTS_SQL = f"SELECT client_id FROM caseload WHERE therapist_id IN ({_THERAPISTS_SQL})"
_BASELINE_READS = {
    "caseload": f"SELECT * FROM caseload WHERE therapist_id IN ({_THERAPISTS_SQL})",
    **{
        table: f"SELECT * FROM {table} WHERE client_id IN ({_CLIENTS_SQL})"
        for table in ("assignments", "homework_logs", "paused_periods", "questionnaires", "therapy_sessions")
    },
}
CREDIT14 = {"done": 14, "partly": 7, "not_done": 0}  # docs/clinical-rules.md credits x 14: exact integer sums


def read_cohort_tables(cur, supervisor_id):
    """Return {table: DataFrame} of every row of the supervisor's therapists and their clients."""
    return {table: cur.execute(sql, {"supervisor": supervisor_id}).df() for table, sql in _BASELINE_READS.items()}


def pandas_cohort_numbers(cur, supervisor_id, window_start, window_end):
    """Compute the supervisor's cohort numbers the naive way: plain SELECT * into pandas, the rest in pandas.

    Implements docs/clinical-rules.md ("Homework and compliance", "Outcomes") independently of the app's
    code. Returns the same (episodes, rates) as page_cohort_numbers.
    """
    (today,) = cur.execute("SELECT current_date").fetchone()  # the database's today, as the SQL uses
    today = pd.Timestamp(today)
    tables = read_cohort_tables(cur, supervisor_id)
    episodes = _baseline_episodes(tables["caseload"], pd.Timestamp(window_start), pd.Timestamp(window_end), today)
    result = episodes[["episode_id", "ended"]].set_index("episode_id")
    first_day = episodes["from_day"].min() if len(episodes) else pd.Timestamp(window_start)
    result["compliance"] = _baseline_compliance(tables, episodes, first_day, today)
    result["attended_sessions"] = _baseline_attended(tables["therapy_sessions"], episodes)
    result["attended_sessions"] = result["attended_sessions"].fillna(0).astype("int64")
    pairs = _baseline_pairs(tables["questionnaires"], episodes)
    result = result.join(pairs)
    result["pairs"] = result["pairs"].fillna(0).astype("int64")
    classified = _baseline_outcomes(result)
    return classified[COMPARED_COLUMNS], _baseline_rates(classified)


def _week_start(days):
    """The Monday of each date's ISO week."""
    return days - pd.to_timedelta(days.dt.day_of_week, unit="D")


def _expand_days(frame, first, last):
    """One row per day from `first` to `last` (inclusive columns) of each row, as column `day`."""
    frame = frame[frame[first] <= frame[last]].reset_index(drop=True)
    counts = (frame[last] - frame[first]).dt.days + 1
    days = frame.loc[frame.index.repeat(counts)]
    offsets = days.groupby(level=0).cumcount()
    days = days.assign(day=days[first] + pd.to_timedelta(offsets, unit="D"))
    return days.reset_index(drop=True)


def _baseline_episodes(caseload_rows, window_start, window_end, today):
    """The episodes the range chooses: ended (last day today or earlier) within the range, or in
    progress when the range reaches today; each whole, from_day (its start) to to_day (its end, or today)."""
    episodes = caseload_rows.rename(columns={"id": "episode_id"})
    episodes = episodes[episodes["started_on"] <= today]
    episodes["ended"] = episodes["ended_on"].notna() & (episodes["ended_on"] <= today)
    chosen = np.where(
        episodes["ended"],
        (episodes["ended_on"] >= window_start) & (episodes["ended_on"] <= window_end),
        window_end >= today,
    )
    episodes = episodes[chosen].copy()
    episodes["from_day"] = episodes["started_on"]
    episodes["to_day"] = episodes["ended_on"].where(episodes["ended"], today)
    return episodes.sort_values("episode_id")


def _baseline_compliance(tables, episodes, first_day, last_day):
    """Per episode: sum over assignment-weeks of min(credit, expected) / sum of expected (NaN if 0)."""
    keys = ["client_id", "therapist_id"]
    assignments = tables["assignments"].merge(episodes[keys].drop_duplicates(), on=keys)
    assignments["times_per_week"] = assignments["times_per_week"].astype("float64")

    # Weekly schedules: times_per_week x open days (in the assignment and the window, not paused) / 7.
    weekly = assignments[assignments["schedule"] == "weekly"].assign(
        from_day=lambda a: a["starts_on"].clip(lower=first_day),
        to_day=lambda a: a["ends_on"].fillna(last_day).clip(upper=last_day),
    )
    days = _expand_days(weekly[["id", "client_id", "times_per_week", "from_day", "to_day"]], "from_day", "to_day")
    breaks = tables["paused_periods"].assign(
        from_day=lambda p: p["starts_on"].clip(lower=first_day), to_day=lambda p: p["ends_on"].clip(upper=last_day)
    )
    paused_days = _expand_days(breaks[["client_id", "from_day", "to_day"]], "from_day", "to_day")
    paused_days = paused_days[["client_id", "day"]].drop_duplicates().assign(paused=True)
    days = days.merge(paused_days, on=["client_id", "day"], how="left")
    days["open"] = days["paused"].isna().astype("int64")
    days["week_start"] = _week_start(days["day"])
    expected = days.groupby(["id", "week_start"], as_index=False).agg(
        open_days=("open", "sum"), times_per_week=("times_per_week", "first")
    )
    expected["expected14"] = (2 * expected["times_per_week"] * expected["open_days"]).astype("int64")

    # Once: 1 in the ISO week of the due date, when that week is in the window.
    once = assignments[assignments["schedule"] == "once"].assign(week_start=lambda a: _week_start(a["due_on"]))
    once = once[(once["week_start"] >= _week_start(pd.Series([first_day]))[0]) & (once["week_start"] <= last_day)]
    expected = pd.concat(
        [expected[["id", "week_start", "expected14"]], once[["id", "week_start"]].assign(expected14=14)],
        ignore_index=True,
    )

    # Credit, capped at what was expected: a weekly schedule gets the credits logged that week inside the
    # window; a once-assignment gets, in its due week, every credit logged from its start to its due date.
    schedules = assignments[["id", "schedule", "starts_on", "due_on"]].rename(columns={"id": "assignment_id"})
    logs = tables["homework_logs"].merge(schedules, on="assignment_id")
    once_log = logs["schedule"] == "once"
    counted = (logs["log_date"] <= last_day) & np.where(
        once_log,
        (logs["log_date"] >= logs["starts_on"]) & (logs["log_date"] <= logs["due_on"]),
        logs["log_date"] >= first_day,
    )
    logs = logs.assign(
        credit14=logs["status"].astype(str).map(CREDIT14),
        week_start=_week_start(logs["due_on"].where(once_log, logs["log_date"])),
    )[counted]
    credit = logs.groupby(["assignment_id", "week_start"], as_index=False)["credit14"].sum()
    weeks = expected.merge(credit, left_on=["id", "week_start"], right_on=["assignment_id", "week_start"], how="left")
    weeks["credit14"] = np.minimum(weeks["credit14"].fillna(0).astype("int64"), weeks["expected14"])

    # An episode counts its assignments' weeks from the week of its first day to its last day.
    episode_weeks = (
        episodes[["episode_id", *keys, "from_day", "to_day"]]
        .merge(assignments[["id", *keys]], on=keys)
        .merge(weeks[["id", "week_start", "expected14", "credit14"]], on="id")
    )
    inside = (episode_weeks["week_start"] >= _week_start(episode_weeks["from_day"])) & (
        episode_weeks["week_start"] <= episode_weeks["to_day"]
    )
    sums = episode_weeks[inside].groupby("episode_id")[["credit14", "expected14"]].sum()
    compliance = (sums["credit14"] / sums["expected14"]).where(sums["expected14"] > 0)
    return compliance.reindex(episodes["episode_id"].to_numpy())


def _baseline_attended(therapy_sessions, episodes):
    """Per episode: attended sessions with its therapist inside the episode's days."""
    joined = therapy_sessions.merge(
        episodes[["episode_id", "client_id", "therapist_id", "from_day", "to_day"]], on=["client_id", "therapist_id"]
    )
    inside = (joined["session_date"] >= joined["from_day"]) & (joined["session_date"] <= joined["to_day"])
    counts = joined[inside & joined["attended"]].groupby("episode_id").size()
    return counts.reindex(episodes["episode_id"].to_numpy())


def _baseline_pairs(questionnaires, episodes):
    """Per episode: number of PHQ-9/GAD-7 pairs and the scores of the first and last pair.

    Pairing (docs/clinical-rules.md): a PHQ-9 and a GAD-7 at most 7 days apart, dated by the later one;
    closest first (gap, then pair date, PHQ-9 date, GAD-7 date, order taken), each used once.
    """
    joined = questionnaires.merge(episodes[["episode_id", "client_id", "from_day", "to_day"]], on="client_id")
    joined = joined[(joined["taken_on"] >= joined["from_day"]) & (joined["taken_on"] <= joined["to_day"])]
    joined = joined.sort_values(["episode_id", "taken_on", "id"])
    joined["order"] = joined.groupby(["episode_id", "instrument"]).cumcount()
    columns = ["episode_id", "taken_on", "total", "order"]
    phq = joined.loc[joined["instrument"] == "PHQ-9", columns]
    gad = joined.loc[joined["instrument"] == "GAD-7", columns]
    candidates = phq.merge(gad, on="episode_id", suffixes=("_phq", "_gad"))
    candidates["gap"] = (candidates["taken_on_phq"] - candidates["taken_on_gad"]).abs().dt.days
    candidates = candidates[candidates["gap"] <= 7]
    candidates["paired_on"] = candidates[["taken_on_phq", "taken_on_gad"]].max(axis=1)
    candidates = candidates.sort_values(
        ["episode_id", "gap", "paired_on", "taken_on_phq", "taken_on_gad", "order_phq", "order_gad"], kind="stable"
    )
    # The greedy step is sequential: one plain loop over the candidates in that order (plain
    # Python lists, so the baseline is naive but not needlessly slow).
    columns = ["episode_id", "order_phq", "order_gad", "paired_on", "total_phq", "total_gad"]
    candidates = candidates.assign(paired_on=candidates["paired_on"].to_numpy().astype("datetime64[D]").astype("int64"))
    used, pairs_of = set(), {}
    for episode_id, phq_order, gad_order, paired_on, phq_total, gad_total in zip(
        *(candidates[column].tolist() for column in columns)
    ):
        if (episode_id, "phq", phq_order) in used or (episode_id, "gad", gad_order) in used:
            continue
        used.update({(episode_id, "phq", phq_order), (episode_id, "gad", gad_order)})
        pairs_of.setdefault(episode_id, []).append((paired_on, phq_total, gad_total))
    rows = []
    for episode_id, pairs in pairs_of.items():
        pairs.sort(key=lambda pair: pair[0])  # stable: pairs of one day keep the order they were made
        rows.append((episode_id, len(pairs), pairs[0][1], pairs[0][2], pairs[-1][1], pairs[-1][2]))
    return (
        pd.DataFrame(rows, columns=["episode_id", "pairs", "phq9_first", "gad7_first", "phq9_last", "gad7_last"])
        .set_index("episode_id")
        .astype("float64")
    )


def _baseline_outcomes(episodes):
    """The outcome flags and class of each episode (docs/clinical-rules.md "Outcomes").

    Measured: 2+ attended sessions and 2+ pairs; finished: ended and measured. The change flags
    of an episode in progress are its progress so far (set once measured); the rates count
    ended episodes only."""
    result = episodes.copy()
    two_pairs = result["pairs"] >= 2
    phq_change = (result["phq9_last"] - result["phq9_first"]).where(two_pairs)
    gad_change = (result["gad7_last"] - result["gad7_first"]).where(two_pairs)
    result["case_at_start"] = (result["phq9_first"] >= 10) | (result["gad7_first"] >= 8)
    result["case_at_end"] = (result["phq9_last"] >= 10) | (result["gad7_last"] >= 8)
    measured = (result["attended_sessions"] >= 2) & two_pairs
    result["finished"] = result["ended"] & measured
    result["ended_without_finishing"] = result["ended"] & ~measured
    fell = (phq_change <= -6) | (gad_change <= -4)
    rose = (phq_change >= 6) | (gad_change >= 4)
    result["reliable_improvement"] = measured & fell & ~rose
    result["reliable_deterioration"] = measured & rose
    result["recovery"] = measured & result["case_at_start"] & ~result["case_at_end"]
    result["reliable_recovery"] = result["recovery"] & result["reliable_improvement"]
    result["outcome"] = "no reliable change"
    result.loc[result["reliable_improvement"], "outcome"] = "reliable improvement"
    result.loc[result["reliable_deterioration"], "outcome"] = "reliable deterioration"
    result.loc[~measured, "outcome"] = "not enough data"
    result.loc[result["ended_without_finishing"], "outcome"] = "ended without finishing"
    return result


def _baseline_rates(classified):
    """Return {measure: (numerator, denominator, rate or None)}: the rates over ended episodes."""
    ended, finished = classified["ended"], classified["finished"]
    eligible = finished & classified["case_at_start"]

    def rate(flag, among):
        numerator, denominator = int((flag & among).sum()), int(among.sum())
        return numerator, denominator, numerator / denominator if denominator else None

    return {
        "finished treatment": rate(finished, ended),
        "ended without finishing": rate(classified["ended_without_finishing"], ended),
        "reliable improvement": rate(classified["reliable_improvement"], finished),
        "reliable deterioration": rate(classified["reliable_deterioration"], finished),
        "recovery": rate(classified["recovery"], eligible),
        "reliable recovery": rate(classified["reliable_recovery"], eligible),
    }


def cohort_differences(page, baseline):
    """Return a list of the ways two (episodes, rates) results differ; empty when they are IDENTICAL.

    Numbers must be equal exactly (NaN equals NaN), not approximately.
    """
    (page_episodes, page_rates), (base_episodes, base_rates) = page, baseline
    problems = []
    if list(page_episodes.index) != list(base_episodes.index):
        missing = set(page_episodes.index) ^ set(base_episodes.index)
        return [f"episode ids differ ({len(page_episodes)} vs {len(base_episodes)}; e.g. {sorted(missing)[:5]})"]
    for column in COMPARED_COLUMNS:
        mine, theirs = page_episodes[column], base_episodes[column]
        if column == "outcome":
            same = mine.astype(str).to_numpy() == theirs.astype(str).to_numpy()
        else:
            a, b = mine.astype("float64").to_numpy(), theirs.astype("float64").to_numpy()
            same = (a == b) | (np.isnan(a) & np.isnan(b))
        if not same.all():
            first = page_episodes.index[~same][0]
            problems.append(
                f"{column} differs for {(~same).sum()} episodes, e.g. episode {first}: "
                f"page {mine.loc[first]!r}, pandas {theirs.loc[first]!r}"
            )
    if page_rates != base_rates:
        problems.append(f"rates differ: page {page_rates}, pandas {base_rates}")
    return problems
