"""One "Compliance, last 4 weeks" (docs/clinical-rules.md): the 4 most recent complete ISO weeks,
computed by one function (metrics.recent_compliance) that every page-facing entry point delegates to.
Dates are relative to today, since the figure always is."""

import math
from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinical.compliance import last_complete_weeks
from data_layer.reports import metrics
from tests.conftest import add_user

TODAY = date.today()
FIRST_MONDAY, LAST_SUNDAY = last_complete_weeks(TODAY)


def on(offset):
    """The day `offset` days after the first Monday of the 4 complete weeks."""
    return FIRST_MONDAY + timedelta(days=offset)


def insert_log(cur, client, assignment_id, log_date, status="done"):
    cur.execute(
        "INSERT INTO homework_logs (assignment_id, client_id, log_date, status) VALUES (?, ?, ?, ?)",
        [assignment_id, client.user_id, log_date, status],
    )


def insert_assignment(cur, client, therapist, title, starts_on, *, times_per_week=None, due_on=None, ends_on=None):
    (assignment_id,) = cur.execute(
        """INSERT INTO assignments (client_id, therapist_id, title, category, schedule, times_per_week, due_on,
                                    starts_on, ends_on)
           VALUES (?, ?, ?, 'other', ?, ?, ?, ?, ?) RETURNING id""",
        [
            client.user_id,
            therapist.user_id,
            title,
            "once" if due_on else "weekly",
            times_per_week,
            due_on,
            starts_on,
            ends_on,
        ],
    ).fetchone()
    return assignment_id


# The hand-computed history of client_a that the page tests show (test_therapist_pages, test_client_pages).
# Their "Thought record" (3 a week) runs from a week before the 4 complete weeks:
#   week 1: done Mon, Tue, Wed          -> 3 of 3
#   week 2: nothing                     -> 0 of 3
#   week 3: partly on Tuesday           -> 0.5 of 3
#   week 4: nothing                     -> 0 of 3
#   this week: done today (in progress, not counted)
# plus a once-off reading due on the Tuesday of week 4 and done on the Friday of week 3 -> 1 of 1.
# Last 4 weeks: (3 + 0.5 + 1) / (12 + 1) = 4.5 / 13. A 28-day window, or whole weeks from today - 27,
# would count this week's log and leave part or all of week 1 out.
CLIENT_A_LAST_4_WEEKS = 4.5 / 13
ONCE_OFF_TITLE = "Read the leaflet"


def give_client_a_a_recent_history(cur, world):
    """Write client_a's history above; return the once-off reading's id."""
    cur.execute("UPDATE assignments SET starts_on = ? WHERE id = ?", [on(-7), world.assignment_a])
    for offset in (0, 1, 2):
        insert_log(cur, world.client_a, world.assignment_a, on(offset))
    insert_log(cur, world.client_a, world.assignment_a, on(15), status="partly")
    insert_log(cur, world.client_a, world.assignment_a, TODAY)
    reading = insert_assignment(cur, world.client_a, world.therapist_a, ONCE_OFF_TITLE, on(14), due_on=on(22))
    insert_log(cur, world.client_a, reading, on(18))  # the Friday before the Tuesday it is due
    return reading


@pytest.mark.parametrize("today", [date(2026, 1, 5), date(2026, 1, 8), date(2026, 1, 11)])
def test_the_last_4_weeks_are_the_complete_weeks_before_this_one(today):
    assert last_complete_weeks(today) == (date(2025, 12, 8), date(2026, 1, 4))


def test_every_entry_point_gives_the_hand_computed_4_weeks(cur, world):
    give_client_a_a_recent_history(cur, world)
    client_id = world.client_a.user_id
    caseload = metrics.caseload_summary(cur, world.therapist_a).set_index("client_id")
    as_therapist = metrics.recent_compliance(cur, world.therapist_a, client_id=client_id).iloc[0]
    as_client = metrics.recent_compliance(cur, world.client_a, client_id=client_id).iloc[0]

    assert (as_therapist["expected_4w"], as_therapist["credit_4w"]) == (13.0, 4.5)
    for value in (caseload.loc[client_id, "compliance_4w"], as_therapist["compliance_4w"], as_client["compliance_4w"]):
        assert value == pytest.approx(CLIENT_A_LAST_4_WEEKS)


def test_no_homework_expected_is_undefined_not_zero(cur, world):
    cur.execute("UPDATE assignments SET starts_on = ? WHERE id = ?", [TODAY, world.assignment_a])
    row = metrics.recent_compliance(cur, world.client_a, client_id=world.client_a.user_id).iloc[0]
    assert row["expected_4w"] == 0
    assert math.isnan(row["compliance_4w"])


# --- Property: for any homework history, every page-facing function gives the same 4-week value,
# and it is the rule's value computed here independently, in plain Python with exact fractions. ---

CREDIT = {"done": Fraction(1), "partly": Fraction(1, 2), "not_done": Fraction(0)}
DAYS_SO_FAR = (TODAY - FIRST_MONDAY).days  # the last offset that is not in the future
offsets = st.integers(min_value=-10, max_value=DAYS_SO_FAR)

weekly_assignments = st.fixed_dictionaries(
    {"start": offsets, "times_per_week": st.integers(1, 14), "length": st.none() | st.integers(0, 30)}
)
once_assignments = st.fixed_dictionaries({"start": offsets, "due_after": st.integers(0, 12)})
logs = st.lists(st.tuples(st.integers(0, 5), offsets, st.sampled_from(list(CREDIT))), max_size=25)
pauses = st.lists(st.tuples(offsets, st.integers(0, 9)), max_size=2)
histories = st.lists(
    st.fixed_dictionaries(
        {
            "weekly": st.lists(weekly_assignments, max_size=3),
            "once": st.lists(once_assignments, max_size=3),
            "logs": logs,
            "pauses": pauses,
        }
    ),
    min_size=2,
    max_size=2,
)


def expected_4_weeks(assignments, logged, paused):
    """The rule, by hand: sum of min(credit, expected) over assignment-weeks / sum of expected."""
    credit_sum = expected_sum = Fraction(0)
    mondays = [on(7 * week) for week in range(4)]
    for assignment in assignments:
        own_logs = [(day, credit) for index, day, credit in logged if index == assignment["id"]]
        for monday in mondays:
            week = [monday + timedelta(days=n) for n in range(7)]
            if assignment["due_on"] is None:
                last = assignment["ends_on"] or LAST_SUNDAY
                open_days = [day for day in week if assignment["starts_on"] <= day <= last and day not in paused]
                expected = Fraction(assignment["times_per_week"] * len(open_days), 7)
                credit = sum((credit for day, credit in own_logs if day in week), Fraction(0))
            else:
                expected = Fraction(int(assignment["due_on"] in week))
                credit = sum(
                    (credit for day, credit in own_logs if assignment["starts_on"] <= day <= assignment["due_on"]),
                    Fraction(0),
                )
            credit_sum += min(credit, expected)
            expected_sum += expected
    return credit_sum / expected_sum if expected_sum else math.nan


def write_history(cur, client, therapist, history):
    """Replace the client's homework with `history`; return what expected_4_weeks needs."""
    cur.execute("DELETE FROM homework_logs WHERE client_id = ?", [client.user_id])
    cur.execute("DELETE FROM assignments WHERE client_id = ?", [client.user_id])
    cur.execute("DELETE FROM paused_periods WHERE client_id = ?", [client.user_id])
    assignments = []
    for plan in history["weekly"]:
        ends_on = None if plan["length"] is None else on(plan["start"] + plan["length"])
        assignments.append(
            {
                "starts_on": on(plan["start"]),
                "ends_on": ends_on,
                "due_on": None,
                "times_per_week": plan["times_per_week"],
            }
        )
    for plan in history["once"]:
        assignments.append({"starts_on": on(plan["start"]), "due_on": on(plan["start"] + plan["due_after"])})
    for assignment in assignments:
        assignment["id"] = insert_assignment(
            cur,
            client,
            therapist,
            "Task",
            assignment["starts_on"],
            times_per_week=assignment.get("times_per_week"),
            due_on=assignment["due_on"],
            ends_on=assignment.get("ends_on"),
        )
    logged = []
    for index, offset, status in history["logs"]:
        if assignments:
            assignment_id = assignments[index % len(assignments)]["id"]
            insert_log(cur, client, assignment_id, on(offset), status)
            logged.append((assignment_id, on(offset), CREDIT[status]))
    paused = set()
    for start, length in history["pauses"]:
        cur.execute(
            "INSERT INTO paused_periods (client_id, starts_on, ends_on, created_by) VALUES (?, ?, ?, ?)",
            [client.user_id, on(start), on(start + length), client.user_id],
        )
        paused |= {on(start + n) for n in range(length + 1)}
    return assignments, logged, paused


@pytest.fixture
def two_clients(cur, world):
    second = add_user(cur, "client_d", "Dana Client", "client")
    cur.execute(
        "INSERT INTO caseload (client_id, therapist_id, started_on) VALUES (?, ?, ?)",
        [second.user_id, world.therapist_a.user_id, on(-30)],
    )
    return [world.client_a, second]


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories=histories)
def test_every_page_facing_function_gives_the_same_4_weeks(cur, world, two_clients, histories):
    by_hand = {
        client.user_id: expected_4_weeks(*write_history(cur, client, world.therapist_a, history))
        for client, history in zip(two_clients, histories)
    }

    caseload = metrics.caseload_summary(cur, world.therapist_a).set_index("client_id")["compliance_4w"]
    whole_scope = metrics.recent_compliance(cur, world.therapist_a).set_index("client_id")["compliance_4w"]
    for client in two_clients:
        client_id = client.user_id
        shown = [
            caseload[client_id],
            whole_scope[client_id],
            metrics.recent_compliance(cur, world.therapist_a, client_id=client_id)["compliance_4w"].iloc[0],
            metrics.recent_compliance(cur, client, client_id=client_id)["compliance_4w"].iloc[0],
        ]
        if math.isnan(by_hand[client_id]):
            assert all(math.isnan(value) for value in shown)
        else:
            assert shown == [pytest.approx(float(by_hand[client_id]))] * 4
