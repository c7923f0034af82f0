"""Compliance arithmetic of docs/clinical-rules.md as SQL that scoped queries build on.

Exact in integers: every quantity is scaled by 14 (credit 1 = 14, partly 0.5 = 7;
expected = 2 x times_per_week x days), so sums are exact and only the final division
is floating point. A week split between two schedule versions adds 2 x times_per_week x days
of each part: still a whole number.
"""

# The credit of homework log `h` (x 14): done counts 1, partly half, not done nothing.
_CREDIT14_SQL = "CASE h.status WHEN 'done' THEN 14 WHEN 'partly' THEN 7 ELSE 0 END"


def week_start_sql(day_sql: str) -> str:
    """Return SQL of the Monday (DATE) of the ISO week of `day_sql`, a DATE."""
    return f"CAST({_week_start_timestamp_sql(day_sql)} AS DATE)"


def _week_start_timestamp_sql(day_sql: str) -> str:
    """Return SQL of the Monday of the ISO week of `day_sql` (a DATE) as a TIMESTAMP (what
    generate_series steps through).

    Through TIMESTAMP on purpose: PostgreSQL reads date_trunc of a bare date as of a timestamp
    with time zone, converting each row through the session's time zone (twice the cost over a
    clinic's logs); DuckDB gives the same Monday either way."""
    return f"date_trunc('week', CAST({day_sql} AS TIMESTAMP))"


def assignment_weeks_sql(scope_sql: str) -> str:
    """Return SQL (CTEs, ending in `assignment_weeks`) of expected and capped credit per assignment-week.

    A building block for scoped queries, not a query itself: `scope_sql` selects the client ids to include; the
    statement takes $window_start and $window_end (DATE; days after today never
    count, since they cannot have been done yet). Columns of assignment_weeks, one row per
    assignment and ISO week: client_id, therapist_id and category (the assignment's), assignment_id,
    week_start, expected14, credit14 (capped at expected14), paused_days.

    Schedule versions (table assignment_schedules): every day is judged by the version in force
    on it, the one with the greatest valid_from on or before that day; the first version also
    covers the days before it. An assignment without any version (a row written without the
    data layer, e.g. by a test) reads as one version: its own row. So a change of schedule
    applies from the day of the change and earlier weeks keep what they expected.

    A weekly schedule expects times_per_week x (non-paused days of the week inside that
    version's start and end dates, the days it is in force and the window) / 7; a week split
    between versions adds up its parts. It is credited with the logs of that week made while a
    weekly version was in force. A once-version expects 1 in the ISO week of its due date when it
    is the version in force on its due date and the homework did not end before that date. It is
    credited there with the logs made while a once-version was in force from its start to its due
    date, even one made in an earlier week or before the window (doing it early is doing it); a
    log counts toward the earliest due date it meets, and a log after the due date counts for
    nothing. The weekly and the once part of a week are each capped at what they expected.
    """
    return f"""
    window_bounds AS (
        SELECT CAST($window_start AS DATE) AS first_day,
               least(CAST($window_end AS DATE), current_date) AS last_day
    ),
    schedule_versions AS (
        SELECT v.assignment_id, a.client_id, a.therapist_id, a.category, v.valid_from, v.schedule,
               v.times_per_week, v.due_on, v.starts_on, v.ends_on
        FROM assignment_schedules v JOIN assignments a ON a.id = v.assignment_id
        WHERE a.client_id IN ({scope_sql})
        UNION ALL
        SELECT a.id, a.client_id, a.therapist_id, a.category, CAST(a.created_at AS DATE), a.schedule,
               a.times_per_week, a.due_on, a.starts_on, a.ends_on
        FROM assignments a
        WHERE a.client_id IN ({scope_sql})
          AND NOT EXISTS (SELECT 1 FROM assignment_schedules v WHERE v.assignment_id = a.id)
    ),
    versions_in_force AS (
        -- The days each version is in force: in_force_from to in_force_to, NULL meaning unbounded
        -- (the first version reaches back, the last one forward).
        SELECT *,
               CASE WHEN lag(valid_from) OVER by_day IS NOT NULL THEN valid_from END AS in_force_from,
               CAST(lead(valid_from) OVER by_day - 1 AS DATE) AS in_force_to
        FROM schedule_versions
        WINDOW by_day AS (PARTITION BY assignment_id ORDER BY valid_from)
    ),
    paused_days AS (
        SELECT DISTINCT p.client_id, CAST(d.day AS DATE) AS day
        FROM paused_periods p, window_bounds w,
             generate_series(greatest(p.starts_on, w.first_day), least(p.ends_on, w.last_day),
                             INTERVAL 1 DAY) AS d(day)
        WHERE p.client_id IN ({scope_sql})
    ),
    weekly_versions AS (
        SELECT v.assignment_id, v.client_id, v.therapist_id, v.category, v.times_per_week,
               greatest(v.starts_on, coalesce(v.in_force_from, v.starts_on), w.first_day) AS from_day,
               least(coalesce(v.ends_on, w.last_day), coalesce(v.in_force_to, w.last_day), w.last_day) AS to_day
        FROM versions_in_force v, window_bounds w
        WHERE v.schedule = 'weekly'
    ),
    weekly_spans AS (
        SELECT s.assignment_id, s.client_id, s.therapist_id, s.category, s.times_per_week,
               CAST(g.week AS DATE) AS week_start,
               greatest(s.from_day, CAST(g.week AS DATE)) AS span_from,
               least(s.to_day, CAST(g.week AS DATE) + 6) AS span_to
        FROM weekly_versions s,
             generate_series({_week_start_timestamp_sql("s.from_day")}, {_week_start_timestamp_sql("s.to_day")},
                             INTERVAL 7 DAY) AS g(week)
        WHERE s.from_day <= s.to_day
    ),
    span_pauses AS (
        -- The paused days inside each weekly span (a span is one version's days in one week), found
        -- from the versions' days (few rows) rather than from the spans.
        SELECT v.assignment_id, {week_start_sql("pd.day")} AS week_start, v.times_per_week, count(*) AS paused_days
        FROM weekly_versions v
        JOIN paused_days pd ON pd.client_id = v.client_id AND pd.day BETWEEN v.from_day AND v.to_day
        GROUP BY v.assignment_id, v.from_day, {week_start_sql("pd.day")}, v.times_per_week
    ),
    once_due AS (
        -- Once-versions in force on their due date, for an assignment not ended before it.
        SELECT v.assignment_id, v.client_id, v.therapist_id, v.category, v.starts_on, v.due_on,
               {week_start_sql("v.due_on")} AS week_start
        FROM versions_in_force v
        WHERE v.schedule = 'once'
          AND v.due_on >= coalesce(v.in_force_from, v.due_on)
          AND v.due_on <= coalesce(v.in_force_to, v.due_on)
          AND v.due_on <= coalesce(v.ends_on, v.due_on)
    ),
    weekly_logs AS (
        -- The logs of the window made while a weekly version was in force: found through each
        -- version's own days (an index range per version, not every log of the client).
        SELECT h.assignment_id, h.log_date,
               {_CREDIT14_SQL} AS credit14
        FROM versions_in_force v, window_bounds w, homework_logs h
        WHERE v.schedule = 'weekly' AND h.assignment_id = v.assignment_id
          AND h.log_date >= greatest(w.first_day, coalesce(v.in_force_from, w.first_day))
          AND h.log_date <= least(w.last_day, coalesce(v.in_force_to, w.last_day))
    ),
    once_logs AS MATERIALIZED (
        -- The logs up to the window's last day made while a once version was in force, from before
        -- the window too (doing it early is doing it). Set apart (MATERIALIZED): PostgreSQL
        -- otherwise looks them up again for every once-off due date it joins them to.
        SELECT h.id AS log_id, h.assignment_id, h.log_date,
               {_CREDIT14_SQL} AS credit14
        FROM versions_in_force v, window_bounds w, homework_logs h
        WHERE v.schedule = 'once' AND h.assignment_id = v.assignment_id
          AND h.log_date <= least(w.last_day, coalesce(v.in_force_to, w.last_day))
          AND h.log_date >= coalesce(v.in_force_from, h.log_date)
    ),
    once_log_targets AS (
        -- The earliest due date a log made under a once-schedule meets.
        SELECT l.log_id, l.assignment_id, l.credit14, min(o.week_start) AS week_start
        FROM once_logs l
        JOIN once_due o ON o.assignment_id = l.assignment_id AND l.log_date BETWEEN o.starts_on AND o.due_on
        GROUP BY l.log_id, l.assignment_id, l.credit14
    ),
    week_parts AS (
        -- What each assignment-week expected and was credited with, weekly part and once part
        -- apart, as rows to add up: its spans, the paused days they take off, its once-off due
        -- dates, its logs. One aggregation of them all rather than joins between aggregates:
        -- PostgreSQL cannot estimate the rows of an aggregate of CTEs, and a join planned for a
        -- handful of rows that meets tens of thousands takes seconds. Only the expected rows carry
        -- the assignment's client, therapist and category.
        SELECT ws.client_id, ws.therapist_id, ws.category, ws.assignment_id, ws.week_start,
               2 * ws.times_per_week * (datediff('day', ws.span_from, ws.span_to) + 1) AS expected_weekly,
               0 AS expected_once, 0 AS paused_days, 0 AS credit_weekly, 0 AS credit_once
        FROM weekly_spans ws
        UNION ALL
        SELECT NULL, NULL, NULL, assignment_id, week_start, -2 * times_per_week * paused_days, 0, paused_days, 0, 0
        FROM span_pauses
        UNION ALL
        SELECT o.client_id, o.therapist_id, o.category, o.assignment_id, o.week_start, 0, 14, 0, 0, 0
        FROM once_due o, window_bounds w
        WHERE o.week_start BETWEEN {week_start_sql("w.first_day")} AND w.last_day
        UNION ALL
        SELECT NULL, NULL, NULL, assignment_id, {week_start_sql("log_date")}, 0, 0, 0, credit14, 0
        FROM weekly_logs
        UNION ALL
        SELECT NULL, NULL, NULL, assignment_id, week_start, 0, 0, 0, 0, credit14
        FROM once_log_targets
    ),
    assignment_weeks AS (
        -- Each part capped at what it expected: over-doing the weekly part never makes up for a
        -- once-off task due the same week. Weeks that expected nothing (no row with a client) are
        -- left out, and their logs with them.
        SELECT max(client_id) AS client_id, max(therapist_id) AS therapist_id, max(category) AS category,
               assignment_id, week_start,
               CAST(sum(expected_weekly) + sum(expected_once) AS BIGINT) AS expected14,
               CAST(least(sum(credit_weekly), sum(expected_weekly)) + least(sum(credit_once), sum(expected_once))
                    AS BIGINT) AS credit14,
               CAST(sum(paused_days) AS BIGINT) AS paused_days
        FROM week_parts
        GROUP BY assignment_id, week_start
        HAVING count(client_id) > 0
    )"""
