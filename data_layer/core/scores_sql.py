"""SQL for questionnaire totals by week of the episode: the frame clinical.expected_response
judges and fits on (its SCORE_COLUMNS). One definition of "week" and "intake" for every read."""


def episode_scores_sql(episodes: str) -> str:
    """Return a SELECT of episode_id, instrument, week, total and intake for the episodes of the
    CTE or table named `episodes` (columns episode_id, client_id, from_day, to_day: the days
    the episode covers).

    week is whole weeks since the episode began (its first 7 days are week 0), with one row per
    week: its latest total (the curves are weekly, and the rule judges the latest score);
    intake is the episode's FIRST total of that instrument when it was taken in week 0 (NULL
    when the first came later), on every row of the episode and instrument. Oldest first.
    """
    return f"""
        SELECT episode_id, instrument, CAST(week AS INTEGER) AS week, total,
               first_value(CASE WHEN week = 0 THEN total END)
                   OVER (PARTITION BY episode_id, instrument ORDER BY taken_on, id) AS intake
        FROM (
            SELECT e.episode_id, q.instrument, q.taken_on, q.id, q.total,
                   datediff('day', e.from_day, q.taken_on) // 7 AS week
            FROM {episodes} e JOIN questionnaires q
                 ON q.client_id = e.client_id AND q.taken_on BETWEEN e.from_day AND e.to_day
        )
        QUALIFY row_number() OVER (PARTITION BY episode_id, instrument, week ORDER BY taken_on DESC, id DESC) = 1
        ORDER BY episode_id, instrument, week"""
