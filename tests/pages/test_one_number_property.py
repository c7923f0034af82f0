"""One true number: for any generated clinic, every page that shows a client's "last 4 weeks"
compliance or outcome class shows the same value (docs/clinical-rules.md).

The pages read them from these functions: the client's progress page and the therapist's client
page from metrics.recent_compliance and metrics.current_outcomes, the caseload from
metrics.caseload_summary, the insights (therapist) and the cohort (supervisor) from
cohort.episode_summaries + episode_questionnaires through classify_episodes, and the cohort's
4-week tile from cohort.recent_episode_compliance.
"""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinical.episodes import classify_episodes
from data_layer.core import db
from data_layer.core.access import Principal
from data_layer.reports import cohort, metrics

TODAY = date.today()
LONG_AGO = TODAY - timedelta(days=400)

assignment = st.fixed_dictionaries(
    {
        "once": st.booleans(),
        "offset": st.integers(0, 40),  # days after the episode start
        "times_per_week": st.integers(1, 7),
        "length": st.integers(0, 60),  # days to the due date (once) or the end (weekly, 60 = open)
        "logs": st.lists(st.tuples(st.integers(0, 70), st.sampled_from(["done", "partly", "not_done"])), max_size=12),
    }
)
client = st.fixed_dictionaries(
    {
        "started_days_ago": st.integers(3, 120),
        "ended_days_ago": st.one_of(st.none(), st.integers(1, 30)),
        "earlier_episode": st.booleans(),  # an earlier, ended episode with the same therapist
        "assignments": st.lists(assignment, max_size=2),
        "pairs": st.lists(
            st.tuples(st.integers(0, 120), st.integers(0, 27), st.integers(0, 21), st.integers(0, 7)), max_size=4
        ),  # (days ago, PHQ-9, GAD-7, days between the two)
        "sessions": st.lists(st.tuples(st.integers(0, 120), st.booleans()), max_size=5),
    }
)


def insert_questionnaire(cur, client_id, instrument, taken_on, total):
    n_items = 9 if instrument == "PHQ-9" else 7
    scored = n_items - 1 if instrument == "PHQ-9" else n_items  # item 9 stays 0
    items = [min(3, max(0, total - 3 * k)) for k in range(scored)] + [0] * (n_items - scored)
    total = sum(items)
    items += [None] * (9 - n_items)
    cur.execute(
        """INSERT INTO questionnaires (client_id, instrument, taken_on, item_1, item_2, item_3, item_4,
                   item_5, item_6, item_7, item_8, item_9, total) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [client_id, instrument, taken_on, *items, total],
    )


def build(cur, clients):
    """Insert the clinic; return (therapist, supervisor) principals."""

    def user(name, role):
        (user_id,) = cur.execute(
            "INSERT INTO users (username, display_name, role, password_hash) VALUES (?, ?, ?, 'x') RETURNING id",
            [name, name, role],
        ).fetchone()
        return Principal(user_id, role, name)

    therapist, supervisor = user("therapist", "therapist"), user("supervisor", "supervisor")
    cur.execute(
        "INSERT INTO supervision (therapist_id, supervisor_id, started_on) VALUES (?, ?, ?)",
        [therapist.user_id, supervisor.user_id, LONG_AGO],
    )
    for index, spec in enumerate(clients):
        person = user(f"client{index}", "client")
        start = TODAY - timedelta(days=spec["started_days_ago"])
        end = None
        if spec["ended_days_ago"] is not None:
            end = max(start, TODAY - timedelta(days=spec["ended_days_ago"]))
        if spec["earlier_episode"]:
            cur.execute(
                "INSERT INTO caseload (client_id, therapist_id, started_on, ended_on) VALUES (?, ?, ?, ?)",
                [person.user_id, therapist.user_id, start - timedelta(days=90), start - timedelta(days=20)],
            )
        cur.execute(
            "INSERT INTO caseload (client_id, therapist_id, started_on, ended_on) VALUES (?, ?, ?, ?)",
            [person.user_id, therapist.user_id, start, end],
        )
        last_day = end or TODAY
        for item in spec["assignments"]:
            starts_on = min(start + timedelta(days=item["offset"]), last_day)
            span = starts_on + timedelta(days=item["length"])
            (assignment_id,) = cur.execute(
                """INSERT INTO assignments (client_id, therapist_id, title, category, schedule, times_per_week,
                                            due_on, starts_on, ends_on)
                   VALUES (?, ?, 'Task', 'exposure', ?, ?, ?, ?, ?) RETURNING id""",
                [
                    person.user_id,
                    therapist.user_id,
                    "once" if item["once"] else "weekly",
                    None if item["once"] else item["times_per_week"],
                    min(span, last_day) if item["once"] else None,
                    starts_on,
                    None if item["once"] or (item["length"] == 60 and end is None) else min(span, last_day),
                ],
            ).fetchone()
            for offset, status in item["logs"]:
                log_date = starts_on + timedelta(days=offset)
                if log_date <= last_day:
                    cur.execute(
                        "INSERT INTO homework_logs (assignment_id, client_id, log_date, status) VALUES (?, ?, ?, ?)",
                        [assignment_id, person.user_id, log_date, status],
                    )
        for days_ago, phq9, gad7, apart in spec["pairs"]:
            taken_on = TODAY - timedelta(days=days_ago)
            insert_questionnaire(cur, person.user_id, "PHQ-9", taken_on, phq9)
            insert_questionnaire(cur, person.user_id, "GAD-7", max(taken_on - timedelta(days=apart), LONG_AGO), gad7)
        for days_ago, was_there in spec["sessions"]:
            cur.execute(
                "INSERT INTO therapy_sessions (client_id, therapist_id, session_date, attended) VALUES (?, ?, ?, ?)",
                [person.user_id, therapist.user_id, TODAY - timedelta(days=days_ago), was_there],
            )
    return therapist, supervisor


def classified(cur, principal):
    """What the insights (therapist) and the cohort (supervisor) show for a range ending today."""
    window = {"window_start": LONG_AGO, "window_end": TODAY}
    return classify_episodes(
        cohort.episode_summaries(cur, principal, **window), cohort.episode_questionnaires(cur, principal, **window)
    ).set_index("episode_id")


def same(a, b):
    return (pd.isna(a) and pd.isna(b)) or (not pd.isna(a) and not pd.isna(b) and np.isclose(a, b))


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(st.lists(client, min_size=1, max_size=5))
def test_every_page_agrees_on_each_clients_4_week_compliance_and_outcome(clients):
    conn = db.connect(":memory:")
    try:
        cur = conn.cursor()
        therapist, supervisor = build(cur, clients)
        caseload = metrics.caseload_summary(cur, therapist).set_index("episode_id")
        client_page = metrics.current_outcomes(cur, therapist).set_index("episode_id")
        insights, cohort_view = classified(cur, therapist), classified(cur, supervisor)
        cohort_recent = cohort.recent_episode_compliance(cur, supervisor).set_index("episode_id")["compliance"]

        # Outcome class: the same for every episode on every page that shows it.
        assert insights["outcome"].to_dict() == cohort_view["outcome"].to_dict()
        for episode_id, row in caseload.iterrows():
            assert row["reliable_change"] == client_page.loc[episode_id, "reliable_change"]
            assert row["reliable_change"] == insights.loc[episode_id, "outcome"]
            assert same(row["phq9_change"], insights.loc[episode_id, "phq9_change"])

        # "Compliance, last 4 weeks": client page (as the client and as the therapist), caseload, cohort tile.
        for episode_id, row in caseload.iterrows():
            client_principal = Principal(int(row["client_id"]), "client")
            as_client = metrics.recent_compliance(cur, client_principal, client_id=client_principal.user_id)
            as_therapist = metrics.recent_compliance(cur, therapist, client_id=client_principal.user_id)
            for value in (
                as_client["compliance_4w"].iloc[0],
                as_therapist["compliance_4w"].iloc[0],
                cohort_recent.loc[episode_id],
            ):
                assert same(row["compliance_4w"], value), (episode_id, row["compliance_4w"], value)
        # Every episode in progress is on the caseload, and only those.
        assert set(caseload.index) == set(insights.index[~insights["ended"].astype(bool)])
    finally:
        conn.close()
