"""Episodes of care for the compliance-versus-outcome analyses: therapist insights over their
own caseload, supervisor cohort summaries over the therapists they supervise.

A supervisor never receives a client's identity: clients come back as stable pseudonyms
(a keyed hash with the clinic's secret, not derivable from the username without it).
"""
from data_layer.access import (allowed_roles, client_scope, current_link, deny, pseudonym_sql, scope_parameters,
                               therapist_scope)
from data_layer.compliance_sql import assignment_weeks_sql

# Episodes are computed per (client, therapist): a supervisor's scope covers current and
# past episodes of their therapists; a therapist's covers their current clients only.
_EPISODES = {
    "therapist": f"""
        SELECT c.id AS episode_id, c.client_id, c.therapist_id, c.started_on, c.ended_on
        FROM caseload c
        WHERE c.therapist_id = $principal_id AND {current_link('c')}
          AND c.client_id IN ({{clients}})""",
    "supervisor": """
        SELECT c.id AS episode_id, c.client_id, c.therapist_id, c.started_on, c.ended_on
        FROM caseload c
        WHERE c.therapist_id IN ({therapists})""",
}


def _cohort_clients_sql(principal):
    """The client ids whose episodes the principal may aggregate."""
    if principal.role == "therapist":
        return client_scope(principal)
    return f"SELECT client_id FROM caseload c WHERE c.therapist_id IN ({therapist_scope(principal)})"


def _episodes_sql(principal):
    return _EPISODES[principal.role].format(clients=client_scope(principal), therapists=therapist_scope(principal))


def _client_label_sql(principal):
    """Therapists see names; supervisors a pseudonym (access.pseudonym_sql)."""
    if principal.role == "therapist":
        return "u.display_name"
    return pseudonym_sql("e.client_id")


def _check_therapist_filter(cur, principal, therapist_id):
    if therapist_id is None:
        return
    sql = f"SELECT count(*) FROM ({therapist_scope(principal)}) t WHERE t.therapist_id = $therapist_id"
    if principal.role != "supervisor" or not cur.execute(
            sql, scope_parameters(principal, therapist_id=therapist_id)).fetchone()[0]:
        deny(cur, principal, "cohort_therapist_filter", detail=f"therapist {therapist_id}")


def _parameters(principal, window_start, window_end, therapist_id, category):
    return scope_parameters(principal, window_start=window_start, window_end=window_end,
                            therapist_filter=therapist_id, category=category)


def _cohort_ctes(principal):
    """CTEs shared by the queries below: scoped episodes inside the window, assignment-weeks."""
    return f"""
        WITH {assignment_weeks_sql(_cohort_clients_sql(principal))},
        episodes AS (
            SELECT e.*, greatest(e.started_on, CAST($window_start AS DATE)) AS from_day,
                   least(coalesce(e.ended_on, current_date), CAST($window_end AS DATE), current_date) AS to_day
            FROM ({_episodes_sql(principal)}) e
            WHERE ($therapist_filter IS NULL OR e.therapist_id = $therapist_filter)
        ),
        scoped_episodes AS (SELECT * FROM episodes WHERE from_day <= to_day),
        episode_weeks AS (
            SELECT e.episode_id, w.week_start, w.expected14, w.credit14, a.category
            FROM scoped_episodes e
            JOIN assignments a ON a.client_id = e.client_id AND a.therapist_id = e.therapist_id
            JOIN assignment_weeks w ON w.assignment_id = a.id
            WHERE w.week_start BETWEEN CAST(date_trunc('week', e.from_day) AS DATE) AND e.to_day
              AND ($category IS NULL OR a.category = $category)
        )"""


@allowed_roles("therapist", "supervisor")
def episode_summaries(cur, principal, *, window_start, window_end, therapist_id=None, category=None):
    """Return one row per episode of care in scope that overlaps the window.

    Limited to the therapist's current clients, or to the episodes of the therapists
    a supervisor supervises (clients then appear only as pseudonyms). `therapist_id`
    (supervisors only, one of theirs) and `category` narrow it. Columns: episode_id,
    client (name or pseudonym), therapist, started_on, referral_month, active,
    compliance (credit / expected over the window; NaN when nothing was expected),
    expected, attended_sessions, mood_first_week, mood_last_week (mean mood in the
    first and last 7 logged days), last_log.
    """
    _check_therapist_filter(cur, principal, therapist_id)
    sql = f"""{_cohort_ctes(principal)},
        compliance AS (
            SELECT episode_id, sum(credit14) / nullif(sum(expected14), 0) AS compliance,
                   sum(expected14) / 14.0 AS expected
            FROM episode_weeks GROUP BY episode_id
        ),
        attended AS (
            SELECT e.episode_id, count(*) FILTER (WHERE s.attended) AS attended_sessions
            FROM scoped_episodes e JOIN therapy_sessions s
                 ON s.client_id = e.client_id AND s.therapist_id = e.therapist_id
                AND s.session_date BETWEEN e.from_day AND e.to_day
            GROUP BY e.episode_id
        ),
        moods AS (
            SELECT e.episode_id,
                   avg(m.mood) FILTER (WHERE m.log_date < e.from_day + 7) AS mood_first_week,
                   avg(m.mood) FILTER (WHERE m.log_date > e.to_day - 7) AS mood_last_week,
                   max(m.log_date) AS last_mood_log
            FROM scoped_episodes e JOIN mood_logs m
                 ON m.client_id = e.client_id AND m.log_date BETWEEN e.from_day AND e.to_day
            GROUP BY e.episode_id
        ),
        homework_logged AS (
            SELECT e.episode_id, max(h.log_date) AS last_homework_log
            FROM scoped_episodes e JOIN homework_logs h
                 ON h.client_id = e.client_id AND h.log_date BETWEEN e.from_day AND e.to_day
            GROUP BY e.episode_id
        )
        SELECT e.episode_id, {_client_label_sql(principal)} AS client, t.display_name AS therapist,
               e.started_on, CAST(date_trunc('month', e.started_on) AS DATE) AS referral_month,
               e.ended_on IS NULL OR e.ended_on > current_date AS active,
               c.compliance, coalesce(c.expected, 0) AS expected,
               coalesce(a.attended_sessions, 0) AS attended_sessions,
               m.mood_first_week, m.mood_last_week,
               greatest(m.last_mood_log, h.last_homework_log) AS last_log
        FROM scoped_episodes e
        JOIN users u ON u.id = e.client_id
        JOIN users t ON t.id = e.therapist_id
        LEFT JOIN compliance c USING (episode_id)
        LEFT JOIN attended a USING (episode_id)
        LEFT JOIN moods m USING (episode_id)
        LEFT JOIN homework_logged h USING (episode_id)
        ORDER BY e.episode_id
    """
    return cur.execute(sql, _parameters(principal, window_start, window_end, therapist_id, category)).df()


@allowed_roles("therapist", "supervisor")
def episode_questionnaires(cur, principal, *, window_start, window_end, therapist_id=None):
    """Return the PHQ-9 and GAD-7 totals of the episodes in scope, within the window.

    Same scope as episode_summaries (no identities: episode ids only). Columns:
    episode_id, instrument, taken_on, total.
    """
    _check_therapist_filter(cur, principal, therapist_id)
    sql = f"""{_cohort_ctes(principal)}
        SELECT e.episode_id, q.instrument, q.taken_on, q.total
        FROM scoped_episodes e JOIN questionnaires q
             ON q.client_id = e.client_id AND q.taken_on BETWEEN e.from_day AND e.to_day
        ORDER BY e.episode_id, q.taken_on, q.id
    """
    return cur.execute(sql, _parameters(principal, window_start, window_end, therapist_id, None)).df()


@allowed_roles("therapist", "supervisor")
def weekly_panel(cur, principal, *, window_start, window_end, therapist_id=None, category=None):
    """Return the weekly panel for the lagged analysis: one row per episode and ISO week.

    Same scope as episode_summaries. Columns: client_id (the episode id: no identities),
    week (0 = the episode's first week in the window), compliance (NaN when nothing
    was expected), phq9 (the mean PHQ-9 of that week; NaN when none was taken).
    """
    _check_therapist_filter(cur, principal, therapist_id)
    sql = f"""{_cohort_ctes(principal)},
        weeks AS (
            SELECT e.episode_id, CAST(w.week AS DATE) AS week_start,
                   datediff('week', date_trunc('week', e.from_day), w.week) AS week
            FROM scoped_episodes e,
                 generate_series(date_trunc('week', e.from_day), date_trunc('week', e.to_day),
                                 INTERVAL 7 DAY) AS w(week)
        ),
        compliance AS (
            SELECT episode_id, week_start, sum(credit14) / nullif(sum(expected14), 0) AS compliance
            FROM episode_weeks GROUP BY episode_id, week_start
        ),
        phq AS (
            SELECT e.episode_id, CAST(date_trunc('week', q.taken_on) AS DATE) AS week_start,
                   avg(q.total) AS phq9
            FROM scoped_episodes e JOIN questionnaires q
                 ON q.client_id = e.client_id AND q.instrument = 'PHQ-9'
                AND q.taken_on BETWEEN e.from_day AND e.to_day
            GROUP BY ALL
        )
        SELECT w.episode_id AS client_id, w.week, c.compliance, p.phq9
        FROM weeks w
        LEFT JOIN compliance c USING (episode_id, week_start)
        LEFT JOIN phq p USING (episode_id, week_start)
        ORDER BY w.episode_id, w.week
    """
    return cur.execute(sql, _parameters(principal, window_start, window_end, therapist_id, category)).df()


@allowed_roles("therapist", "supervisor")
def category_summary(cur, principal, *, window_start, window_end, therapist_id=None):
    """Return, per homework category: clients, compliance and mean helpfulness in the window.

    Same scope as episode_summaries. Columns: category, clients (episodes with homework
    of that category expected in the window: the same episodes that have a compliance when
    episode_summaries is asked for that category), episode_ids (list, to join outcomes), compliance, mean_helpfulness,
    rated_logs.
    """
    _check_therapist_filter(cur, principal, therapist_id)
    sql = f"""{_cohort_ctes(principal)},
        helpfulness AS (
            SELECT a.category, avg(h.helpfulness) AS mean_helpfulness, count(h.helpfulness) AS rated_logs
            FROM scoped_episodes e
            JOIN assignments a ON a.client_id = e.client_id AND a.therapist_id = e.therapist_id
            JOIN homework_logs h ON h.assignment_id = a.id AND h.log_date BETWEEN e.from_day AND e.to_day
            GROUP BY a.category
        )
        SELECT w.category, count(DISTINCT w.episode_id) FILTER (WHERE w.expected14 > 0) AS clients,
               list(DISTINCT w.episode_id) FILTER (WHERE w.expected14 > 0) AS episode_ids,
               sum(w.credit14) / nullif(sum(w.expected14), 0) AS compliance,
               h.mean_helpfulness, coalesce(h.rated_logs, 0) AS rated_logs
        FROM episode_weeks w LEFT JOIN helpfulness h USING (category)
        GROUP BY w.category, h.mean_helpfulness, h.rated_logs
        ORDER BY w.category
    """
    return cur.execute(sql, _parameters(principal, window_start, window_end, therapist_id, None)).df()


@allowed_roles("supervisor")
def list_cohort_therapists(cur, principal):
    """Return the therapists the supervisor currently supervises: therapist_id, therapist."""
    sql = f"""SELECT u.id AS therapist_id, u.display_name AS therapist FROM users u
              WHERE u.id IN ({therapist_scope(principal)}) ORDER BY u.display_name"""
    return cur.execute(sql, scope_parameters(principal)).df()

