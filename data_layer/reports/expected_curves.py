"""The clinic's expected recovery curves (clinical.expected_response), fitted on its own ended
episodes: the one read that spans the whole clinic, because a curve describes the clinic's
usual course, not any one therapist's clients. What leaves it is model parameters only,
fitted on at least clinical.expected_response.MIN_ENDED_EPISODES episodes (below that the
built-in curves), so no client's scores can be read back from it.
"""

import duckdb

from clinical.expected_response import ExpectedResponse, Instrument, fit_expected_response
from data_layer.core import db
from data_layer.core.access import Principal, allowed_roles
from data_layer.core.scores_sql import episode_scores_sql

# The curves are fitted on the most recent ended episodes only: a mixed model on 600 episodes
# takes about 3.5 s per instrument on one core (15 s on 3,000), and the simulation behind
# MIN_ENDED_EPISODES found the upper bound within 1 point of the truth in 90% of fits from 300
# on; the most recent episodes also describe the clinic's practice as it is now.
MAX_FIT_EPISODES = 600

# Episodes count once their last day has passed: the curves then stay the same all day, and are
# refitted at most once a day (or when an episode is ended with a date in the past).
_ENDED_BEFORE_TODAY = """
    SELECT id AS episode_id, client_id, started_on, ended_on FROM caseload
    WHERE ended_on < current_date
    ORDER BY ended_on DESC, id DESC
    LIMIT $max_episodes"""


@allowed_roles("therapist", "supervisor")
def curves_input_version(cur: duckdb.DuckDBPyConnection, principal: Principal) -> tuple[int, int]:
    """Return (count, sum of ids) of the episodes that clinic_curves is fitted on: it changes
    whenever that set does, so a fit can be kept until then.

    Clinic-wide, two numbers and no client's data (module docstring).
    """
    sql = f"SELECT count(*), coalesce(sum(episode_id), 0) FROM ({_ENDED_BEFORE_TODAY})"
    count, ids = db.one_row(cur.execute(sql, {"max_episodes": MAX_FIT_EPISODES}))
    return int(count), int(ids)


@allowed_roles("therapist", "supervisor")
def clinic_curves(cur: duckdb.DuckDBPyConnection, principal: Principal) -> dict[Instrument, ExpectedResponse]:
    """Return the PHQ-9 and GAD-7 ExpectedResponse fitted on the clinic's MAX_FIT_EPISODES most
    recent episodes that ended before today (clinical.expected_response.fit_expected_response:
    the built-in curves, with the reason in their note, below MIN_ENDED_EPISODES or when a fit
    fails).

    Clinic-wide by design: model parameters only, no client's data (module docstring).
    """
    sql = f"""
        WITH ended AS (
            SELECT episode_id, client_id, started_on AS from_day, ended_on AS to_day
            FROM ({_ENDED_BEFORE_TODAY})
        )
        {episode_scores_sql('ended')}"""
    scores = cur.execute(sql, {"max_episodes": MAX_FIT_EPISODES}).df()
    return {instrument: fit_expected_response(scores, instrument) for instrument in ("PHQ-9", "GAD-7")}
