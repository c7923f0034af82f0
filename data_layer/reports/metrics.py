"""SQL aggregates that the dashboards read: compliance per docs/clinical-rules.md and the caseload,
computed in DuckDB."""

from datetime import date

import duckdb
import pandas as pd

from clinical.compliance import last_complete_weeks
from clinical.episodes import classify_episodes
from data_layer.core.access import (
    Principal,
    allowed_roles,
    client_scope,
    current_link,
    require_client,
    scope_parameters,
)
from data_layer.core.compliance_sql import assignment_weeks_sql
from data_layer.reports import cohort


@allowed_roles("client", "therapist")
def weekly_compliance(
    cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int, window_start: date, window_end: date
) -> pd.DataFrame:
    """Return the client's compliance per ISO week between the two dates, oldest first.

    Limited to a client in the principal's scope (AccessDenied otherwise). Columns:
    week_start, expected (sum over assignments, in completions), credit (capped),
    compliance (credit / expected; NaN when nothing was expected), paused_days
    (paused assignment-days that week), status: "ok", "paused" (nothing expected
    because every day was paused) or "no homework set".
    """
    require_client(cur, principal, client_id, "view_compliance")
    sql = f"""
        WITH {assignment_weeks_sql(client_scope(principal))}
        SELECT week_start,
               sum(expected14) / 14.0 AS expected,
               sum(credit14) / 14.0 AS credit,
               CASE WHEN sum(expected14) > 0 THEN sum(credit14) / sum(expected14) END AS compliance,
               sum(paused_days) AS paused_days,
               CASE WHEN sum(expected14) > 0 THEN 'ok'
                    WHEN sum(paused_days) > 0 THEN 'paused'
                    ELSE 'no homework set' END AS status
        FROM assignment_weeks
        WHERE client_id = $client_id
        GROUP BY week_start
        ORDER BY week_start
    """
    return cur.execute(
        sql, scope_parameters(principal, client_id=client_id, window_start=window_start, window_end=window_end)
    ).df()


@allowed_roles("client", "therapist")
def compliance_by_assignment(
    cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int, window_start: date, window_end: date
) -> pd.DataFrame:
    """Return per assignment: compliance over the window and the weeks in which it was met.

    Limited to a client in the principal's scope (AccessDenied otherwise). Columns:
    assignment_id, title, expected, credit, compliance (NaN when nothing was
    expected), weeks (list of week_start, oldest first) and met (list of booleans:
    credit reached what was expected that week; None for weeks with nothing expected).
    """
    require_client(cur, principal, client_id, "view_compliance")
    sql = f"""
        WITH {assignment_weeks_sql(client_scope(principal))}
        SELECT w.assignment_id, a.title,
               sum(w.expected14) / 14.0 AS expected,
               sum(w.credit14) / 14.0 AS credit,
               CASE WHEN sum(w.expected14) > 0 THEN sum(w.credit14) / sum(w.expected14) END AS compliance,
               list(w.week_start ORDER BY w.week_start) AS weeks,
               list(CASE WHEN w.expected14 > 0 THEN w.credit14 >= w.expected14 END
                    ORDER BY w.week_start) AS met
        FROM assignment_weeks w JOIN assignments a ON a.id = w.assignment_id
        WHERE w.client_id = $client_id
        GROUP BY w.assignment_id, a.title
        ORDER BY a.title
    """
    return cur.execute(
        sql, scope_parameters(principal, client_id=client_id, window_start=window_start, window_end=window_end)
    ).df()


@allowed_roles("client", "therapist")
def recent_compliance(
    cur: duckdb.DuckDBPyConnection, principal: Principal, *, client_id: int | None = None
) -> pd.DataFrame:
    """Return "Compliance, last 4 weeks" per client: the one function every page shows it from.

    Over the 4 most recent complete ISO weeks (clinical.compliance.last_complete_weeks);
    the current week is still in progress, so it is left out. Limited to the principal's
    client scope, and with `client_id` to that one client (AccessDenied when it is outside
    the scope). One row per client in the scope: client_id, expected_4w and credit_4w (in
    completions), compliance_4w (credit / expected; NaN when nothing was expected).
    """
    if client_id is not None:
        require_client(cur, principal, client_id, "view_compliance")
    scope = client_scope(principal)
    sql = f"""
        WITH {assignment_weeks_sql(scope)}
        SELECT s.client_id,
               coalesce(sum(w.expected14), 0) / 14.0 AS expected_4w,
               coalesce(sum(w.credit14), 0) / 14.0 AS credit_4w,
               sum(w.credit14) / nullif(sum(w.expected14), 0) AS compliance_4w
        FROM ({scope}) s
        LEFT JOIN assignment_weeks w ON w.client_id = s.client_id
        WHERE CAST($client_id AS BIGINT) IS NULL OR s.client_id = $client_id
        GROUP BY s.client_id
        ORDER BY s.client_id
    """
    window_start, window_end = last_complete_weeks(date.today())
    return cur.execute(
        sql, scope_parameters(principal, client_id=client_id, window_start=window_start, window_end=window_end)
    ).df()


INACTIVE_AFTER_DAYS = 7


@allowed_roles("therapist")
def current_outcomes(cur: duckdb.DuckDBPyConnection, principal: Principal) -> pd.DataFrame:
    """Return the outcome so far of each episode in progress of the therapist's: the cohort's
    figures (cohort.episode_summaries, episode_questionnaires) through classify_episodes.

    Limited to the principal's own episodes in progress. Columns: episode_id, pairs,
    attended_sessions, phq9_first, phq9_last, gad7_first, gad7_last, phq9_change,
    gad7_change (NaN below 2 pairs), case_at_start, recovery, reliable_change (the outcome
    class: "not enough data" below 2 pairs or 2 attended sessions).
    """
    today = date.today()
    episodes = cohort.episode_summaries(cur, principal, window_start=today, window_end=today)
    questionnaires = cohort.episode_questionnaires(cur, principal, window_start=today, window_end=today)
    classified = classify_episodes(episodes[~episodes["ended"].astype(bool)], questionnaires)
    return classified.rename(columns={"outcome": "reliable_change"})[
        [
            "episode_id",
            "pairs",
            "attended_sessions",
            "phq9_first",
            "phq9_last",
            "gad7_first",
            "gad7_last",
            "phq9_change",
            "gad7_change",
            "case_at_start",
            "recovery",
            "reliable_change",
        ]
    ]


@allowed_roles("therapist")
def caseload_summary(cur: duckdb.DuckDBPyConnection, principal: Principal) -> pd.DataFrame:
    """Return one row per client currently in the therapist's caseload, flagged clients first.

    Limited to the principal's current clients. Columns: client_id, episode_id, name,
    in_care_since, days_since_last_log (homework or mood; NaN if never), compliance_4w
    (taken from recent_compliance; NaN when no homework was expected), mood_now and
    mood_4_weeks_ago (7-day means) and mood_trend, phq9_latest, gad7_latest, the
    outcome so far of the current episode as every page reads it (cohort.episode_summaries
    and clinical.episodes.classify_episodes): phq9_change and gad7_change (last minus
    first questionnaire pair; NaN below 2 pairs) and reliable_change (the outcome class, or
    "not enough data"), active_assignments, open_risk_flags, and the flags flag_risk
    (unacknowledged PHQ-9 item 9 > 0), flag_deterioration (reliable deterioration),
    flag_inactive (homework set but no log for 7+ days), flagged (any of them).
    Writes no audit row: the caseload page reads it through ui.cache.cached, which audits
    every read, served from its cache or not.
    """
    scope = client_scope(principal)
    sql = f"""
        WITH episodes AS (
            SELECT c.id AS episode_id, c.client_id, c.started_on FROM caseload c
            WHERE c.therapist_id = $principal_id AND {current_link('c')} AND c.client_id IN ({scope})
        ),
        last_logs AS (
            SELECT client_id, max(log_date) AS last_log FROM (
                SELECT client_id, log_date FROM homework_logs WHERE client_id IN ({scope})
                UNION ALL
                SELECT client_id, log_date FROM mood_logs WHERE client_id IN ({scope})
            ) GROUP BY client_id
        ),
        moods AS (
            SELECT client_id,
                   avg(mood) FILTER (WHERE log_date > current_date - 7) AS mood_now,
                   avg(mood) FILTER (WHERE log_date BETWEEN current_date - 34 AND current_date - 28)
                       AS mood_4_weeks_ago
            FROM mood_logs
            WHERE client_id IN ({scope}) AND log_date >= current_date - 34
            GROUP BY client_id
        ),
        latest_scores AS (
            SELECT q.client_id, q.instrument,
                   (array_agg(q.total ORDER BY q.taken_on DESC, q.id DESC))[1] AS latest_total
            FROM questionnaires q JOIN episodes e ON e.client_id = q.client_id AND q.taken_on >= e.started_on
            GROUP BY q.client_id, q.instrument
        ),
        active_homework AS (
            SELECT client_id, count(*) AS active_assignments FROM assignments
            WHERE client_id IN ({scope}) AND starts_on <= current_date
              AND coalesce(ends_on, due_on, DATE '9999-12-31') >= current_date
            GROUP BY client_id
        ),
        open_risk AS (
            SELECT f.client_id, count(*) AS open_risk_flags FROM risk_flags f
            WHERE f.client_id IN ({scope})
              AND NOT EXISTS (SELECT 1 FROM risk_acknowledgements a WHERE a.risk_flag_id = f.id)
            GROUP BY f.client_id
        )
        SELECT u.id AS client_id, e.episode_id, u.display_name AS name, e.started_on AS in_care_since,
               datediff('day', l.last_log, current_date) AS days_since_last_log,
               m.mood_now, m.mood_4_weeks_ago, m.mood_now - m.mood_4_weeks_ago AS mood_trend,
               phq.latest_total AS phq9_latest, gad.latest_total AS gad7_latest,
               coalesce(h.active_assignments, 0) AS active_assignments,
               coalesce(r.open_risk_flags, 0) AS open_risk_flags
        FROM episodes e
        JOIN users u ON u.id = e.client_id
        LEFT JOIN last_logs l ON l.client_id = e.client_id
        LEFT JOIN moods m ON m.client_id = e.client_id
        LEFT JOIN latest_scores phq ON phq.client_id = e.client_id AND phq.instrument = 'PHQ-9'
        LEFT JOIN latest_scores gad ON gad.client_id = e.client_id AND gad.instrument = 'GAD-7'
        LEFT JOIN active_homework h ON h.client_id = e.client_id
        LEFT JOIN open_risk r ON r.client_id = e.client_id
    """
    frame = cur.execute(sql, scope_parameters(principal)).df()
    compliance = recent_compliance(cur, principal)[["client_id", "compliance_4w"]]
    frame = frame.merge(compliance, on="client_id", how="left")
    frame = frame.merge(current_outcomes(cur, principal), on="episode_id", how="left")
    frame["flag_risk"] = frame["open_risk_flags"] > 0
    frame["flag_deterioration"] = frame["reliable_change"] == "reliable deterioration"
    # Never logged counts as inactive: NaN compares False, so the negation is True.
    logged_lately = frame["days_since_last_log"].astype(float) < INACTIVE_AFTER_DAYS
    frame["flag_inactive"] = (frame["active_assignments"] > 0) & ~logged_lately
    frame["flagged"] = frame["flag_risk"] | frame["flag_deterioration"] | frame["flag_inactive"]
    return frame.sort_values(["flag_risk", "flagged", "name"], ascending=[False, False, True], ignore_index=True)
