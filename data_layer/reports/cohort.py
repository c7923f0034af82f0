"""Episodes of care for the compliance-versus-outcome analyses: therapist insights over their
own caseload, supervisor cohort summaries over the therapists they supervise.

A supervisor never receives a client's identity: clients come back as stable pseudonyms
(a keyed hash with the clinic's secret, not derivable from the username without it).

Also "does reminding help?" (issue #16; docs/clinical-rules.md, "Reminders"): how often a sent
reminder was followed by homework logged within 24 hours, and the compliance of the 4 complete
weeks before and after a client turned reminders on, over the same clients.
"""

import threading
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb
import pandas as pd

from clinical.compliance import last_complete_weeks
from data_layer.core import db
from data_layer.core.access import Principal, allowed_roles, deny, pseudonym_sql, scope_parameters, therapist_scope
from data_layer.core.compliance_sql import assignment_weeks_sql, week_start_sql
from data_layer.core.scores_sql import episode_scores_sql

# Episodes are computed per (client, therapist). A therapist's scope is their own episodes,
# in progress or ended (a discharged client stays part of their own figures); a supervisor's
# covers the episodes of the therapists they supervise now. An episode has ENDED once its
# caseload row's last day (ended_on) is today or earlier.
_EPISODES = """
    SELECT c.id AS episode_id, c.client_id, c.therapist_id, c.started_on, c.ended_on,
           coalesce(c.ended_on <= current_date, false) AS ended
    FROM caseload c
    WHERE c.therapist_id IN ({therapists}) AND c.started_on <= current_date"""


def _cohort_clients_sql(principal: Principal) -> str:
    """The client ids whose episodes the principal may aggregate."""
    return f"SELECT e.client_id FROM ({_episodes_sql(principal)}) e"


def _therapists_sql(principal: Principal) -> str:
    """The therapist ids whose clients the principal may aggregate: their own, or their supervisees."""
    return "$principal_id" if principal.role == "therapist" else therapist_scope(principal)


def _episodes_sql(principal: Principal) -> str:
    return _EPISODES.format(therapists=_therapists_sql(principal))


def _client_label_sql(principal: Principal) -> str:
    """Therapists see names; supervisors a pseudonym (access.pseudonym_sql)."""
    if principal.role == "therapist":
        return "u.display_name"
    return pseudonym_sql("e.client_id")


def _check_therapist_filter(cur: duckdb.DuckDBPyConnection, principal: Principal, therapist_id: int | None) -> None:
    if therapist_id is None:
        return
    sql = f"SELECT count(*) FROM ({therapist_scope(principal)}) t WHERE t.therapist_id = $therapist_id"
    if (
        principal.role != "supervisor"
        or not db.one_row(cur.execute(sql, scope_parameters(principal, therapist_id=therapist_id)))[0]
    ):
        deny(cur, principal, "cohort_therapist_filter", detail=f"therapist {therapist_id}")


def _parameters(
    cur: duckdb.DuckDBPyConnection, principal: Principal, window_start: date, window_end: date, therapist_id: int | None
) -> dict[str, Any]:
    """Named parameters of _shared_compliance. $ended_from/$ended_to choose the episodes;
    $window_start/$window_end bound the compliance arithmetic (compliance_sql) to the days
    of the chosen episodes, from the earliest start among them."""
    parameters = _chosen_parameters(principal, window_start, window_end, therapist_id)
    sql = f"{_chosen_episodes_sql(principal)} SELECT min(from_day) FROM scoped_episodes"
    (first_day,) = db.one_row(cur.execute(sql, parameters))
    return parameters | {"window_start": first_day or window_start, "window_end": date.today()}


def _chosen_parameters(
    principal: Principal, window_start: date, window_end: date, therapist_id: int | None
) -> dict[str, Any]:
    """Named parameters of _chosen_episodes_sql: the principal's, the range and the therapist filter."""
    return scope_parameters(principal, ended_from=window_start, ended_to=window_end, therapist_filter=therapist_id)


def _chosen_episodes_sql(principal: Principal) -> str:
    """CTEs `episodes` and `scoped_episodes`: the episodes in scope that the date range chooses
    (ended within it, or in progress when it reaches today), each with its whole span
    from_day..to_day (start to end, or to today while in progress): never clipped."""
    return f"""
        WITH episodes AS (
            SELECT e.*, e.started_on AS from_day,
                   CASE WHEN e.ended THEN e.ended_on ELSE current_date END AS to_day
            FROM ({_episodes_sql(principal)}) e
            WHERE (CAST($therapist_filter AS BIGINT) IS NULL OR e.therapist_id = $therapist_filter)
        ),
        scoped_episodes AS (
            SELECT * FROM episodes
            WHERE CASE WHEN ended THEN ended_on BETWEEN CAST($ended_from AS DATE) AND CAST($ended_to AS DATE)
                       ELSE CAST($ended_to AS DATE) >= current_date END
        )"""


# The compliance reads in flight, by scope and parameters (_shared_compliance).
_in_flight: dict[tuple[Principal, date, date, int | None], Future[pd.DataFrame]] = {}
_in_flight_lock = threading.Lock()


def _shared_compliance(
    cur: duckdb.DuckDBPyConnection, principal: Principal, window_start: date, window_end: date, therapist_id: int | None
) -> Future[pd.DataFrame]:
    """Return (as a Future) expected and credited homework (x 14, compliance_sql) of the episodes
    the range chooses, summed per episode, ISO week and homework category: episode_id, week_start,
    category, expected14, credit14; one row per such week with homework of that category set
    (expected14 >= 0), over each episode's whole span. Same scope as episode_summaries.

    The compliance is the heavy part of episode_summaries, weekly_panel and category_summary,
    which a dashboard asks for at once (ui.cache.prefetch). The first of them works it out here and
    now, before its own figures, so that it is under way from the start; one asked for while it is
    being worked out (same principal, range and therapist filter) gets the same Future at once,
    reads its own figures meanwhile, then waits for it. Nothing is kept once it is done, so a later
    call always reads the database again. The result is shared between those callers: never change it.
    """
    key = (principal, window_start, window_end, therapist_id)
    with _in_flight_lock:
        running = _in_flight.get(key)
        if running is not None:
            return running
        running = _in_flight[key] = Future()
    sql = f"""{_chosen_episodes_sql(principal)},
        {assignment_weeks_sql("SELECT client_id FROM scoped_episodes")}
        SELECT e.episode_id, w.week_start, w.category,
               CAST(sum(w.expected14) AS BIGINT) AS expected14, CAST(sum(w.credit14) AS BIGINT) AS credit14
        FROM scoped_episodes e
        JOIN assignment_weeks w ON w.client_id = e.client_id AND w.therapist_id = e.therapist_id
        WHERE w.week_start BETWEEN {week_start_sql("e.from_day")} AND e.to_day
        GROUP BY e.episode_id, w.week_start, w.category
    """
    try:
        running.set_result(cur.execute(sql, _parameters(cur, principal, window_start, window_end, therapist_id)).df())
    except BaseException as error:
        running.set_exception(error)
    finally:
        with _in_flight_lock:
            del _in_flight[key]
    return running


def _compliance(sums: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Return `sums` (rows of _shared_compliance) added up per `by`: expected14, credit14 and
    compliance (credit / expected; NaN when nothing was expected), indexed by `by`."""
    totals = sums.groupby(by)[["expected14", "credit14"]].sum()
    expected = totals["expected14"].astype("float64")
    totals["compliance"] = totals["credit14"] / expected.where(expected != 0)
    return totals


def _in_category(sums: pd.DataFrame, category: str | None) -> pd.DataFrame:
    return sums if category is None else sums[sums["category"] == category]


@allowed_roles("therapist", "supervisor")
def episode_summaries(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    window_start: date,
    window_end: date,
    therapist_id: int | None = None,
    category: str | None = None,
) -> pd.DataFrame:
    """Return one row per episode of care in scope that the date range chooses.

    The range chooses episodes by the day they ENDED (window_start..window_end) and
    takes the episodes in progress when it reaches today; it never clips what happened
    inside an episode: every figure covers the whole episode, start to end (or to today).
    Limited to the therapist's own episodes (in progress or ended), or to the episodes of
    the therapists a supervisor supervises (clients then appear only as pseudonyms).
    `therapist_id` (supervisors only, one of theirs) and `category` narrow it. Columns:
    episode_id, client (name or pseudonym), therapist, started_on, referral_month,
    ended (bool), ended_on, end_reason (a clinical.episodes.DISCHARGE_REASONS key; NULL
    in progress or when the client moved to another therapist), active (= not ended),
    compliance (credit / expected over the episode; NaN when nothing was expected),
    expected, attended_sessions, mood_first_week, mood_last_week (mean mood in the
    first and last 7 days of the episode), last_log.
    """
    _check_therapist_filter(cur, principal, therapist_id)
    compliance_sums = _shared_compliance(cur, principal, window_start, window_end, therapist_id)
    sql = f"""{_chosen_episodes_sql(principal)},
        attended AS (
            SELECT e.episode_id, count(*) FILTER (WHERE s.attended) AS attended_sessions
            FROM scoped_episodes e JOIN therapy_sessions s
                 ON s.client_id = e.client_id AND s.therapist_id = e.therapist_id
                AND s.session_date BETWEEN e.from_day AND e.to_day
            GROUP BY e.episode_id
        ),
        -- Each episode's first and last 7 days, and its last log (a lookup per episode), rather
        -- than every log of the episode: a year of daily logs at L.
        first_moods AS (
            SELECT e.episode_id, avg(m.mood) AS mood_first_week
            FROM scoped_episodes e JOIN mood_logs m
                 ON m.client_id = e.client_id AND m.log_date BETWEEN e.from_day AND least(e.from_day + 6, e.to_day)
            GROUP BY e.episode_id
        ),
        last_moods AS (
            SELECT e.episode_id, avg(m.mood) AS mood_last_week
            FROM scoped_episodes e JOIN mood_logs m
                 ON m.client_id = e.client_id AND m.log_date BETWEEN greatest(e.to_day - 6, e.from_day) AND e.to_day
            GROUP BY e.episode_id
        ),
        last_logs AS (
            SELECT e.episode_id,
                   greatest((SELECT max(m.log_date) FROM mood_logs m
                             WHERE m.client_id = e.client_id AND m.log_date BETWEEN e.from_day AND e.to_day),
                            (SELECT max(h.log_date) FROM homework_logs h
                             WHERE h.client_id = e.client_id AND h.log_date BETWEEN e.from_day AND e.to_day))
                       AS last_log
            FROM scoped_episodes e
        )
        SELECT e.episode_id, {_client_label_sql(principal)} AS client, t.display_name AS therapist,
               e.started_on, CAST(date_trunc('month', e.started_on) AS DATE) AS referral_month,
               e.ended, CASE WHEN e.ended THEN e.ended_on END AS ended_on, d.reason AS end_reason,
               NOT e.ended AS active,
               coalesce(a.attended_sessions, 0) AS attended_sessions,
               f.mood_first_week, m.mood_last_week, l.last_log
        FROM scoped_episodes e
        JOIN users u ON u.id = e.client_id
        JOIN users t ON t.id = e.therapist_id
        JOIN last_logs l USING (episode_id)
        LEFT JOIN attended a USING (episode_id)
        LEFT JOIN first_moods f USING (episode_id)
        LEFT JOIN last_moods m USING (episode_id)
        LEFT JOIN discharges d ON d.caseload_id = e.episode_id AND e.ended
        ORDER BY e.episode_id
    """
    episodes = cur.execute(sql, _chosen_parameters(principal, window_start, window_end, therapist_id)).df()
    compliance = _compliance(_in_category(compliance_sums.result(), category), ["episode_id"])
    position = list(episodes.columns).index("active") + 1
    episodes.insert(position, "compliance", episodes["episode_id"].map(compliance["compliance"]).astype("float64"))
    expected = episodes["episode_id"].map(compliance["expected14"] / 14.0)
    episodes.insert(position + 1, "expected", expected.astype("float64").fillna(0.0))
    return episodes


@allowed_roles("therapist", "supervisor")
def episode_questionnaires(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    window_start: date,
    window_end: date,
    therapist_id: int | None = None,
) -> pd.DataFrame:
    """Return the PHQ-9 and GAD-7 totals of the episodes the range chooses, each over the
    whole episode (the questionnaires dated from its start to its end, or to today).

    Same scope as episode_summaries (no identities: episode ids only). Columns:
    episode_id, instrument, taken_on, total.
    """
    _check_therapist_filter(cur, principal, therapist_id)
    sql = f"""{_chosen_episodes_sql(principal)}
        SELECT e.episode_id, q.instrument, q.taken_on, q.total
        FROM scoped_episodes e JOIN questionnaires q
             ON q.client_id = e.client_id AND q.taken_on BETWEEN e.from_day AND e.to_day
        ORDER BY e.episode_id, q.taken_on, q.id
    """
    parameters = _chosen_parameters(principal, window_start, window_end, therapist_id)
    return cur.execute(sql, parameters).df()


@allowed_roles("therapist", "supervisor")
def episode_scores(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    window_start: date,
    window_end: date,
    therapist_id: int | None = None,
) -> pd.DataFrame:
    """Return the PHQ-9 and GAD-7 totals of the episodes the range chooses by week of the
    episode, as clinical.expected_response judges them (its SCORE_COLUMNS).

    Same scope as episode_summaries (no identities: episode ids only). Columns: episode_id,
    instrument, week (whole weeks since the episode began: its first 7 days are week 0),
    total (the latest of that week), intake (core.scores_sql.episode_scores_sql: the first
    total of that instrument when taken in week 0, else NULL), oldest first.
    """
    _check_therapist_filter(cur, principal, therapist_id)
    sql = f"{_chosen_episodes_sql(principal)} {episode_scores_sql('scoped_episodes')}"
    parameters = _chosen_parameters(principal, window_start, window_end, therapist_id)
    return cur.execute(sql, parameters).df()


@allowed_roles("therapist", "supervisor")
def weekly_panel(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    window_start: date,
    window_end: date,
    therapist_id: int | None = None,
    category: str | None = None,
) -> pd.DataFrame:
    """Return the weekly panel for the lagged analysis: one row per episode and ISO week.

    Same scope as episode_summaries. Columns: client_id (the episode id: no identities),
    week (0 = the episode's first week), week_start (its Monday), compliance (NaN when nothing
    was expected), phq9 (the mean PHQ-9 of that week; NaN when none was taken).
    """
    _check_therapist_filter(cur, principal, therapist_id)
    compliance_sums = _shared_compliance(cur, principal, window_start, window_end, therapist_id)
    sql = f"""{_chosen_episodes_sql(principal)},
        weeks AS (
            SELECT e.episode_id, CAST(w.week AS DATE) AS week_start,
                   datediff('week', date_trunc('week', e.from_day), w.week) AS week
            FROM scoped_episodes e,
                 generate_series(date_trunc('week', e.from_day), date_trunc('week', e.to_day),
                                 INTERVAL 7 DAY) AS w(week)
        ),
        phq AS (
            SELECT e.episode_id, {week_start_sql("q.taken_on")} AS week_start,
                   avg(q.total) AS phq9
            FROM scoped_episodes e JOIN questionnaires q
                 ON q.client_id = e.client_id AND q.instrument = 'PHQ-9'
                AND q.taken_on BETWEEN e.from_day AND e.to_day
            GROUP BY e.episode_id, {week_start_sql("q.taken_on")}
        )
        SELECT w.episode_id, w.week, w.week_start, p.phq9
        FROM weeks w
        LEFT JOIN phq p USING (episode_id, week_start)
        ORDER BY w.episode_id, w.week
    """
    weeks = cur.execute(sql, _chosen_parameters(principal, window_start, window_end, therapist_id)).df()
    sums = _in_category(compliance_sums.result(), category)
    compliance = _compliance(sums, ["episode_id", "week_start"])["compliance"]
    panel = weeks.merge(compliance.reset_index(), on=["episode_id", "week_start"], how="left")
    panel["compliance"] = panel["compliance"].astype("float64")
    return panel.rename(columns={"episode_id": "client_id"})[["client_id", "week", "week_start", "compliance", "phq9"]]


@allowed_roles("therapist", "supervisor")
def category_summary(
    cur: duckdb.DuckDBPyConnection,
    principal: Principal,
    *,
    window_start: date,
    window_end: date,
    therapist_id: int | None = None,
) -> pd.DataFrame:
    """Return, per homework category: clients, compliance and mean helpfulness over the episodes
    the range chooses (whole episodes).

    Same scope as episode_summaries. Columns: category, clients (episodes with homework
    of that category expected in the window: the same episodes that have a compliance when
    episode_summaries is asked for that category), episode_ids (list, to join outcomes), compliance, mean_helpfulness,
    rated_logs.
    """
    _check_therapist_filter(cur, principal, therapist_id)
    compliance_sums = _shared_compliance(cur, principal, window_start, window_end, therapist_id)
    sql = f"""{_chosen_episodes_sql(principal)}
        SELECT a.category, avg(h.helpfulness) AS mean_helpfulness, count(h.helpfulness) AS rated_logs
        FROM scoped_episodes e
        JOIN assignments a ON a.client_id = e.client_id AND a.therapist_id = e.therapist_id
        JOIN homework_logs h ON h.assignment_id = a.id AND h.log_date BETWEEN e.from_day AND e.to_day
        GROUP BY a.category
    """
    helpfulness = cur.execute(sql, _chosen_parameters(principal, window_start, window_end, therapist_id)).df()
    sums = compliance_sums.result()
    categories = _compliance(sums, ["category"])[["compliance"]].reset_index()
    # The episodes with homework of each category expected (expected14 is never negative).
    expected = {
        category: sorted(set(ids.tolist()))
        for category, ids in sums[sums["expected14"] > 0].groupby("category")["episode_id"]
    }
    categories["episode_ids"] = [expected.get(category, []) for category in categories["category"]]
    categories["clients"] = [len(ids) for ids in categories["episode_ids"]]
    summary = categories.merge(helpfulness, on="category", how="left")
    summary["mean_helpfulness"] = summary["mean_helpfulness"].astype("float64")
    summary["rated_logs"] = summary["rated_logs"].fillna(0).astype("int64")
    summary["compliance"] = summary["compliance"].astype("float64")
    columns = ["category", "clients", "episode_ids", "compliance", "mean_helpfulness", "rated_logs"]
    return summary.sort_values("category", ignore_index=True)[columns]


@allowed_roles("supervisor")
def recent_episode_compliance(
    cur: duckdb.DuckDBPyConnection, principal: Principal, *, category: str | None = None
) -> pd.DataFrame:
    """Return "Compliance, last 4 weeks" of each episode in progress of the supervisor's therapists.

    The 4 most recent complete ISO weeks (clinical.compliance.last_complete_weeks) and the
    arithmetic of compliance_sql: the same figure metrics.recent_compliance gives the
    therapist and the client. No identities. `category` narrows it to that homework.
    Columns: episode_id, therapist, active (always true), compliance (NaN when nothing
    was expected).
    """
    sql = f"""
        WITH {assignment_weeks_sql(_cohort_clients_sql(principal))},
        current_episodes AS (SELECT * FROM ({_episodes_sql(principal)}) e WHERE NOT e.ended)
        SELECT e.episode_id, t.display_name AS therapist, true AS active,
               sum(w.credit14) / nullif(sum(w.expected14), 0) AS compliance
        FROM current_episodes e
        JOIN users t ON t.id = e.therapist_id
        LEFT JOIN assignment_weeks w
               ON w.client_id = e.client_id AND (CAST($category AS VARCHAR) IS NULL OR w.category = $category)
        GROUP BY e.episode_id, t.display_name
        ORDER BY e.episode_id
    """
    window_start, window_end = last_complete_weeks(date.today())
    return cur.execute(
        sql, scope_parameters(principal, category=category, window_start=window_start, window_end=window_end)
    ).df()


@allowed_roles("therapist", "supervisor")
def current_episodes(cur: duckdb.DuckDBPyConnection, principal: Principal) -> pd.DataFrame:
    """Return the episodes in progress in scope and whose they are: episode_id, therapist_id,
    therapist (name).

    Limited to the therapist's own episodes, or those of the therapists a supervisor
    supervises now; no client identities.
    """
    sql = f"""
        SELECT e.episode_id, e.therapist_id, t.display_name AS therapist
        FROM ({_episodes_sql(principal)}) e JOIN users t ON t.id = e.therapist_id
        WHERE NOT e.ended
        ORDER BY e.episode_id
    """
    return cur.execute(sql, scope_parameters(principal)).df()


@allowed_roles("supervisor")
def earliest_episode_start(cur: duckdb.DuckDBPyConnection, principal: Principal) -> date | None:
    """Return the first day of the earliest episode of care of the therapists the supervisor
    supervises (None when they have none): where the supervisor's period choices begin
    (clinical.reporting.reporting_periods). A date only, no client."""
    sql = f"SELECT min(e.started_on) FROM ({_episodes_sql(principal)}) e"
    return db.one_row(cur.execute(sql, scope_parameters(principal)))[0]


# A reminder is judged once this long has passed since it was sent: a log within it follows it.
FOLLOW_UP_HOURS = 24
# Compliance is compared over this many complete ISO weeks before and after the week reminders
# were turned on (that week itself is left out: it is split between the two).
REMINDER_WEEKS = 4


@dataclass(frozen=True)
class FollowThrough:
    """Reminded days of the clients with reminders on, and how many were followed by homework."""

    clients: int  # clients with at least one reminded day counted
    reminded_days: int  # reminders sent (one a day at most) at least FOLLOW_UP_HOURS ago
    followed_days: int  # of those, the ones with homework logged done or partly within FOLLOW_UP_HOURS


def _reminder_clients_sql(principal: Principal) -> str:
    """CTE `reminder_clients`: the clients in scope who have reminders on now, with the day they
    turned them on (the latest 'on' of reminder_history: the history holds changes only, so the
    latest 'on' began the current spell)."""
    return f"""
        reminder_clients AS (
            SELECT h.client_id, CAST(max(h.changed_at) AS DATE) AS turned_on
            FROM reminder_history h JOIN reminder_preferences p ON p.client_id = h.client_id AND p.enabled
            WHERE h.enabled AND h.client_id IN ({_cohort_clients_sql(principal)})
            GROUP BY h.client_id
        )"""


@allowed_roles("therapist", "supervisor")
def reminder_follow_through(cur: duckdb.DuckDBPyConnection, principal: Principal) -> FollowThrough:
    """Return how many reminded days of the clients who have reminders on now were followed by a
    homework log (done or partly) made within 24 hours after the reminder was sent.

    A reminded day is a client reminder the mail server took (outbox status 'sent'), sent at
    least 24 hours ago (a later one cannot be judged yet) during an episode of care in scope.
    Limited to the therapist's own episodes (in progress or ended), or to those of the
    therapists a supervisor supervises; counts only, no client identities.
    """
    sql = f"""
        WITH {_reminder_clients_sql(principal)},
        reminded AS (
            SELECT DISTINCT o.id, o.recipient_id AS client_id, o.sent_at
            FROM outbox o
            JOIN reminder_clients r ON r.client_id = o.recipient_id
            JOIN ({_episodes_sql(principal)}) e
                 ON e.client_id = o.recipient_id
                AND CAST(o.sent_at AS DATE) BETWEEN e.started_on AND coalesce(e.ended_on, current_date)
            WHERE o.kind = 'client_reminder' AND o.status = 'sent'
              AND o.sent_at <= now() - INTERVAL {FOLLOW_UP_HOURS} HOUR
        ),
        judged AS (
            SELECT r.client_id,
                   EXISTS (SELECT 1 FROM homework_logs h
                           WHERE h.client_id = r.client_id AND h.status IN ('done', 'partly')
                             AND h.created_at >= r.sent_at
                             AND h.created_at < r.sent_at + INTERVAL {FOLLOW_UP_HOURS} HOUR) AS followed
            FROM reminded r
        )
        SELECT count(DISTINCT client_id), count(*), count(*) FILTER (WHERE followed) FROM judged
    """
    clients, reminded_days, followed_days = db.one_row(cur.execute(sql, scope_parameters(principal)))
    return FollowThrough(int(clients), int(reminded_days), int(followed_days))


@allowed_roles("therapist", "supervisor")
def compliance_around_reminders(cur: duckdb.DuckDBPyConnection, principal: Principal) -> pd.DataFrame:
    """Return, for each client who has reminders on now, their compliance in the 4 complete ISO
    weeks before and the 4 complete ISO weeks after the week they turned reminders on.

    The arithmetic of compliance_sql, over the homework set by therapists in scope. Only clients
    with both windows: turned on long enough ago for the 4 weeks after to be over, and with
    homework expected in both. Limited to the therapist's own episodes' clients, or to those of
    the therapists a supervisor supervises; no client identities. Columns: before, after
    (compliance, 0-1), ordered by them.
    """
    first_sql = f"WITH {_reminder_clients_sql(principal)} SELECT min(turned_on) FROM reminder_clients"
    (first_turned_on,) = db.one_row(cur.execute(first_sql, scope_parameters(principal)))
    if first_turned_on is None:
        return pd.DataFrame({"before": pd.Series(dtype=float), "after": pd.Series(dtype=float)})
    days = 7 * REMINDER_WEEKS
    window_start = first_turned_on - timedelta(days=first_turned_on.weekday() + days)
    # The compliance arithmetic over the clients with reminders on only: a few of the cohort.
    with_reminders = f"""SELECT p.client_id FROM reminder_preferences p
                         WHERE p.enabled AND p.client_id IN ({_cohort_clients_sql(principal)})"""
    sql = f"""
        WITH {assignment_weeks_sql(with_reminders)},
        {_reminder_clients_sql(principal)},
        compared AS (
            SELECT r.client_id, {week_start_sql("r.turned_on")} AS on_week
            FROM reminder_clients r
            WHERE {week_start_sql("r.turned_on")} + {days + 7} <= {week_start_sql("current_date")}
        ),
        windows AS (
            SELECT c.client_id,
                   sum(w.credit14) FILTER (WHERE w.week_start < c.on_week)
                       / nullif(sum(w.expected14) FILTER (WHERE w.week_start < c.on_week), 0) AS before,
                   sum(w.credit14) FILTER (WHERE w.week_start > c.on_week)
                       / nullif(sum(w.expected14) FILTER (WHERE w.week_start > c.on_week), 0) AS after
            FROM compared c
            JOIN assignment_weeks w ON w.client_id = c.client_id AND w.therapist_id IN ({_therapists_sql(principal)})
            WHERE w.week_start BETWEEN c.on_week - {days} AND c.on_week + {days}
            GROUP BY c.client_id
        )
        SELECT before, after FROM windows
        WHERE before IS NOT NULL AND after IS NOT NULL
        ORDER BY before, after
    """
    return cur.execute(sql, scope_parameters(principal, window_start=window_start, window_end=date.today())).df()
