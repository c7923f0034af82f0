"""Compliance arithmetic of docs/clinical-rules.md as SQL that scoped queries build on.

Exact in integers: every quantity is scaled by 14 (credit 1 = 14, partly 0.5 = 7;
expected = 2 x times_per_week x days), so sums are exact and only the final division
is floating point.
"""


def assignment_weeks_sql(scope_sql):
    """Return SQL (CTEs, ending in `assignment_weeks`) of expected and capped credit per assignment-week.

    A building block for scoped queries, not a query itself: `scope_sql` selects the client ids to include; the
    statement takes $window_start and $window_end (DATE; days after today never
    count, since they cannot have been done yet). Columns of assignment_weeks:
    client_id, assignment_id, week_start, expected14, credit14 (capped at expected14),
    paused_days. A weekly schedule expects times_per_week x (non-paused days of the
    week inside the assignment and the window) / 7, and is credited with the logs of
    that week. A once-assignment expects 1 in the ISO week of its due date and is
    credited there with every log from its start to its due date, even one made in an
    earlier week or before the window (doing it early is doing it); a log after the due
    date counts for nothing.
    """
    return f"""
    window_bounds AS (
        SELECT CAST($window_start AS DATE) AS first_day,
               least(CAST($window_end AS DATE), current_date) AS last_day
    ),
    scoped_assignments AS (
        SELECT a.id AS assignment_id, a.client_id, a.schedule, a.times_per_week, a.starts_on, a.due_on,
               greatest(a.starts_on, w.first_day) AS from_day,
               least(coalesce(a.ends_on, w.last_day), w.last_day) AS to_day
        FROM assignments a, window_bounds w
        WHERE a.client_id IN ({scope_sql})
    ),
    paused_days AS (
        SELECT DISTINCT p.client_id, CAST(d.day AS DATE) AS day
        FROM paused_periods p, window_bounds w,
             generate_series(greatest(p.starts_on, w.first_day), least(p.ends_on, w.last_day),
                             INTERVAL 1 DAY) AS d(day)
        WHERE p.client_id IN ({scope_sql})
    ),
    weekly_spans AS (
        SELECT s.assignment_id, s.client_id, s.times_per_week,
               CAST(g.week AS DATE) AS week_start,
               greatest(s.from_day, CAST(g.week AS DATE)) AS span_from,
               least(s.to_day, CAST(g.week AS DATE) + 6) AS span_to
        FROM scoped_assignments s,
             generate_series(date_trunc('week', s.from_day), date_trunc('week', s.to_day),
                             INTERVAL 7 DAY) AS g(week)
        WHERE s.schedule = 'weekly' AND s.from_day <= s.to_day
    ),
    expected_weeks AS (
        SELECT ws.client_id, ws.assignment_id, ws.week_start,
               2 * ws.times_per_week
                 * (datediff('day', ws.span_from, ws.span_to) + 1 - count(pd.day)) AS expected14,
               count(pd.day) AS paused_days
        FROM weekly_spans ws
        LEFT JOIN paused_days pd
               ON pd.client_id = ws.client_id AND pd.day BETWEEN ws.span_from AND ws.span_to
        GROUP BY ws.client_id, ws.assignment_id, ws.week_start, ws.times_per_week,
                 ws.span_from, ws.span_to
        UNION ALL
        SELECT s.client_id, s.assignment_id, CAST(date_trunc('week', s.due_on) AS DATE), 14, 0
        FROM scoped_assignments s, window_bounds w
        WHERE s.schedule = 'once'
          AND date_trunc('week', s.due_on) BETWEEN date_trunc('week', w.first_day) AND w.last_day
    ),
    credit_weeks AS (
        -- The week a log is credited to: its own week, or for a once-assignment the due week.
        SELECT h.assignment_id,
               CAST(date_trunc('week', CASE WHEN s.schedule = 'once' THEN s.due_on ELSE h.log_date END)
                    AS DATE) AS week_start,
               sum(CASE h.status WHEN 'done' THEN 14 WHEN 'partly' THEN 7 ELSE 0 END) AS credit14
        FROM homework_logs h JOIN scoped_assignments s USING (assignment_id), window_bounds w
        WHERE h.client_id IN ({scope_sql}) AND h.log_date <= w.last_day
          AND CASE WHEN s.schedule = 'once' THEN h.log_date BETWEEN s.starts_on AND s.due_on
                   ELSE h.log_date >= w.first_day END
        GROUP BY ALL
    ),
    assignment_weeks AS (
        SELECT e.client_id, e.assignment_id, e.week_start, e.expected14,
               least(coalesce(c.credit14, 0), e.expected14) AS credit14, e.paused_days
        FROM expected_weeks e
        LEFT JOIN credit_weeks c USING (assignment_id, week_start)
    )"""
