"""Insights and Cohort pages through AppTest: on the demo clinic, on an almost empty one, and
who may open them."""

import re
from datetime import date, timedelta

import numpy as np
import pytest

from clinical.reporting import Period, quarter_start
from data_layer import measures
from data_layer.core.access import Principal
from tests.conftest import add_assignment, add_user, logged_in, open_page


@pytest.mark.slow
def test_supervisor_cohort_on_the_demo_shows_every_part(demo_app):
    logged_in(demo_app, "supervisor")
    assert not demo_app.exception
    assert [title.value for title in demo_app.title] == ["Cohort"]
    assert {metric.label for metric in demo_app.metric} >= {
        "Active clients",
        "Engagement",
        "Median 4-week compliance",
        "Recovery",
        "Reliable improvement",
        "Reliable deterioration",
        "Reliable recovery",
        "Finished treatment",
    }
    per_therapist = demo_app.dataframe[0].value
    assert len(per_therapist) == 4
    shown_clients = " ".join(str(value) for frame in demo_app.dataframe for value in frame.value.to_numpy().ravel())
    assert "client0" not in shown_clients
    # The demo's history ends today, so how many episodes ended in the current quarter depends on
    # the day: the analyses are either shown in full or withheld with the reason said.
    if not demo_app.toggle:
        assert any("The analyses are not shown for this choice" in info.value for info in demo_app.info)
        return
    demo_app.toggle[0].set_value(True).run()
    assert not demo_app.exception
    reading = " ".join(markdown.value for markdown in demo_app.markdown)
    assert "homework" in reading.lower()
    assert len(demo_app.get("plotly_chart")) == 3  # scatter, dose-response, lagged


@pytest.mark.slow
def test_the_supervisor_sees_how_well_the_not_on_track_flag_predicted_on_the_demo(demo_app):
    logged_in(demo_app, "supervisor")
    open_page(demo_app, "pages/supervisor_therapists.py")
    assert not demo_app.exception
    infos = " ".join(info.value for info in demo_app.info)
    assert "Too few ended episodes" not in infos
    reading = " ".join(markdown.value for markdown in demo_app.markdown)
    found = re.search(r"Of (\d+) ended episodes judged at week 4, (\d+) were flagged not on track", reading)
    assert found, reading
    judged, flagged = (int(group) for group in found.groups())
    # Every group the rates are worked out over holds 5 or more (the small-cell rule).
    assert flagged >= 5 and judged - flagged >= 5
    assert re.search(r"the flag caught \d+% \(95% CI \d+-\d+%\)", reading)
    assert re.search(r"Reliably improved: \d+% \(95% CI \d+-\d+%\) of the \d+ flagged", reading)


@pytest.mark.slow
def test_therapist_insights_show_their_own_clients(demo_app):
    logged_in(demo_app, "therapist1")
    open_page(demo_app, "pages/therapist_insights.py")
    assert not demo_app.exception
    # 15 clients in care and 15 past clients: enough for the statistics (from 20 clients); those
    # with one questionnaire pair so far are left out, and the page says how many and why.
    reading = " ".join(markdown.value for markdown in demo_app.markdown)
    found = re.search(
        r"n = (\d+)\. .* (\d+) clients \((\d+) left out: .*\d+ with fewer than two questionnaire pairs", reading
    )
    assert found, reading
    n, shown, left_out = (int(group) for group in found.groups())
    assert n == shown >= 20 and shown + left_out >= 30 and left_out >= 1
    assert len(demo_app.get("plotly_chart")) >= 1


@pytest.mark.slow
def test_an_almost_empty_clinic_explains_what_is_missing(app):
    logged_in(app, "supervisor_a")
    assert not app.exception
    texts = " ".join(info.value for info in app.info)
    assert "fewer than 5 clients" in texts  # one client: the analyses are withheld and say why
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_insights.py")
    assert not app.exception


@pytest.mark.slow
def test_a_client_with_one_pair_is_left_out_of_the_analyses_and_reads_not_enough_data(app, cur, world):
    measures.submit_questionnaire(cur, world.client_a, instrument="PHQ-9", answers=[2] * 8 + [0])
    measures.submit_questionnaire(cur, world.client_a, instrument="GAD-7", answers=[2] * 7)
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_insights.py")
    assert not app.exception
    # Alice has homework set and one pair: no change, so she is counted as left out, not as a 0.
    infos = " ".join(info.value for info in app.info)
    assert (
        "0 clients (1 left out: 1 with fewer than two questionnaire pairs (change not defined: not enough data))"
    ) in infos
    assert not app.get("plotly_chart")
    open_page(app, "pages/therapist_client.py")
    assert any(
        caption.value.startswith("Outcome so far: not enough data (1 questionnaire pairs") for caption in app.caption
    )


@pytest.mark.parametrize("username", ["client_a", "admin"])
def test_clients_and_admins_cannot_open_insights_or_cohort(app, username):
    logged_in(app, username)
    for page in ("pages/therapist_insights.py", "pages/supervisor_cohort.py"):
        with pytest.raises(ValueError):
            open_page(app, page)


def test_supervisor_page_shows_only_their_therapists_and_hides_small_cells(app, two_teams_under_one_supervisor):
    logged_in(app, "supervisor_a")
    assert not app.exception
    per_therapist = app.dataframe[0].value.set_index("Therapist")
    assert set(per_therapist.index) == {"Tom Therapist", "Cara Therapist"}  # not team b's
    assert (per_therapist.loc["Tom Therapist"] == "<5").all()
    # 10 clients in all: Cara's 6 would give Tom's 4 back, so it is hidden too.
    assert per_therapist.loc["Cara Therapist", "Clients"] == "<5"


@pytest.mark.slow
def test_supervisor_cannot_single_out_a_small_group_with_the_filters(app, two_teams_under_one_supervisor):
    logged_in(app, "supervisor_a")
    assert any(metric.label == "Finished treatment" for metric in app.metric)
    # Either therapist alone would give the other's group by difference (10 - 6 = 4): refused.
    for therapist in ("Tom Therapist", "Cara Therapist"):
        box = next(box for box in app.selectbox if box.label == "Therapist")
        box.select_index(box.options.index(therapist)).run()
        assert not app.exception
        assert any("not shown on their own" in warning.value for warning in app.warning), therapist
        assert not app.metric and not app.get("plotly_chart")
        assert not [frame for frame in app.dataframe if "Quartile" in frame.value.columns]


def test_supervisor_sees_no_per_client_points_for_a_group_under_5(app, cur, world, two_teams_under_one_supervisor):
    # Tom's 4 clients get homework (so a compliance) besides their two scores: 4 points, one group
    # under 5, which the old page plotted with their pseudonyms.
    started = date.today() - timedelta(days=60)
    for username in ("a0", "a1", "a2"):
        (client_id,) = cur.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()
        add_assignment(cur, Principal(client_id, "client"), world.therapist_a, "Thought record", started)
    logged_in(app, "supervisor_a")
    assert not app.exception
    assert not app.get("plotly_chart")
    assert any("fewer than 5 clients" in info.value for info in app.info)


@pytest.mark.slow
def test_supervisor_category_filter_shows_statistics_without_per_client_points(demo_app):
    logged_in(demo_app, "supervisor")
    next(box for box in demo_app.selectbox if box.label == "Homework category").select_index(1).run()
    assert not demo_app.exception
    captions = " ".join(caption.value for caption in demo_app.caption)
    assert "Per-client points are not shown with a category filter" in captions or any(
        "analyses are not shown" in info.value for info in demo_app.info
    )
    assert not [chart for chart in demo_app.get("plotly_chart") if "Clients" in str(chart.proto.spec)]


# ---------------------------------------------------------------- periods and the lagged n


def previous_quarter_start(today):
    return quarter_start(quarter_start(today) - timedelta(days=1))


def end_alices_episode_last_quarter(cur, world):
    """client_a's episode: begun in the quarter before last, ended in the last one."""
    last_quarter = previous_quarter_start(date.today())
    cur.execute(
        "UPDATE caseload SET started_on = ?, ended_on = ? WHERE client_id = ?",
        [last_quarter - timedelta(days=40), last_quarter + timedelta(days=5), world.client_a.user_id],
    )
    return last_quarter


def add_questionnaire(cur, client_id, instrument, total, taken_on):
    items = [min(3, max(0, total - 3 * k)) for k in range(8 if instrument == "PHQ-9" else 7)]
    items += [0] if instrument == "PHQ-9" else [None, None]
    cur.execute(
        """INSERT INTO questionnaires (client_id, instrument, taken_on, item_1, item_2, item_3, item_4,
                   item_5, item_6, item_7, item_8, item_9, total) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [client_id, instrument, taken_on, *items, sum(items[: 9 if instrument == "PHQ-9" else 7])],
    )


@pytest.fixture
def weekly_clinic(cur, world):
    """supervisor_a over therapist_a (12 clients) and therapist_c (10): 8 weeks of homework and
    weekly PHQ-9 and GAD-7 each, enough for the lagged analysis over all 22 but not for one
    therapist's. 6 of Tom's and 5 of Cara's episodes finish today (the analyses need 5 or more
    finished episodes), the others are in progress; client_a's episode ended 200 days ago."""
    cur.execute(
        "UPDATE caseload SET started_on = current_date - 300, ended_on = current_date - 200 WHERE client_id = ?",
        [world.client_a.user_id],
    )
    therapist_c = add_user(cur, "therapist_c", "Cara Therapist", "therapist")
    cur.execute(
        "INSERT INTO supervision (therapist_id, supervisor_id, started_on) VALUES (?, ?, ?)",
        [therapist_c.user_id, world.supervisor_a.user_id, date.today() - timedelta(days=90)],
    )
    started = date.today() - timedelta(days=56 + date.today().weekday())  # a Monday: weeks are ISO weeks
    rng = np.random.default_rng(7)
    for n in range(22):
        therapist = world.therapist_a if n < 12 else therapist_c
        client = add_user(cur, f"w{n}", f"Weekly {n}", "client")
        cur.execute(
            "INSERT INTO caseload (client_id, therapist_id, started_on, ended_on) VALUES (?, ?, ?, ?)",
            [client.user_id, therapist.user_id, started, date.today() if n % 12 < 6 - n // 12 else None],
        )
        assignment = add_assignment(cur, client, therapist, "Thought record", started)
        phq, habit = rng.uniform(14, 20), rng.uniform(0.2, 0.9)
        for week in range(8):
            monday = started + timedelta(weeks=week)
            done = int(rng.binomial(3, habit))
            for day in range(done):
                cur.execute(
                    "INSERT INTO homework_logs (assignment_id, client_id, log_date, status) VALUES (?, ?, ?, 'done')",
                    [assignment, client.user_id, monday + timedelta(days=day)],
                )
            for instrument, total in (("PHQ-9", phq), ("GAD-7", phq * 0.7)):
                add_questionnaire(cur, client.user_id, instrument, int(np.clip(round(total), 0, 21)), monday)
            phq += -0.4 - 1.5 * (done / 3 - 0.5) + rng.normal(0, 1.5)
        for week in (1, 5):
            cur.execute(
                "INSERT INTO therapy_sessions (client_id, therapist_id, session_date, attended) VALUES (?, ?, ?, true)",
                [client.user_id, therapist.user_id, started + timedelta(weeks=week)],
            )
    return therapist_c


def period_box(app):
    return next(box for box in app.selectbox if box.label.startswith("Period"))


@pytest.mark.slow
def test_the_supervisor_chooses_a_quarter_not_free_dates(app, cur, world):
    last_quarter = end_alices_episode_last_quarter(cur, world)
    this_quarter = quarter_start(date.today())
    # A period that is not offered (here one that overlaps two quarters), put in the session as
    # tampering would: Streamlit keeps only a value among the options.
    app.session_state["cohort_period"] = Period(this_quarter - timedelta(days=20), date.today(), current=True)
    logged_in(app, "supervisor_a")
    assert not app.exception
    assert not app.date_input  # no free dates: two ranges [d1, today] and [d2, today] could be subtracted
    box = period_box(app)
    quarters = [this_quarter, last_quarter, previous_quarter_start(last_quarter)]  # from Alice's start
    assert [option.split(" ")[0] for option in box.options] == [
        f"{first:%b}–{(first + timedelta(days=62)):%b}" for first in quarters
    ]
    assert box.options[0].startswith(f"{this_quarter:%b}") and "in progress" in box.options[0]
    assert box.value.current and box.value.first_day == this_quarter  # the current quarter by default
    assert any("none are in progress" in info.value for info in app.info)  # Alice's episode ended before it

    box.select_index(1).run()  # last quarter: Alice's ended episode, and nothing in progress
    assert not app.exception
    labels = {metric.label: metric.value for metric in app.metric}
    assert labels["Finished treatment"] == "<5" and "Active clients" not in labels
    tom = app.dataframe[0].value.set_index("Therapist").loc["Tom Therapist"]
    assert (tom["Clients"], tom["Ended"], tom["Finished treatment"]) == ("<5", "<5", "<5")

    period_box(app).select_index(2).run()  # Alice began then, but ended later: nothing here
    assert any(info.value == "No episodes of care ended in this period." for info in app.info)

    logged_in(app, "therapist_a")  # the therapist keeps a free date range over their own clients
    open_page(app, "pages/therapist_insights.py")
    assert not app.exception
    assert [date_input.label for date_input in app.date_input] == ["Date range"]


def lagged_text(app):
    """The lagged analysis' reading (the markdown after its toggle)."""
    (reading,) = [
        markdown.value
        for markdown in app.markdown
        if "Nickell" in markdown.value or "Not enough data for the lagged analysis" in markdown.value
    ]
    return reading


@pytest.mark.slow
def test_the_supervisor_never_sees_an_exact_lagged_n(app, weekly_clinic):
    logged_in(app, "supervisor_a")
    assert not app.exception
    app.toggle[0].set_value(True).run()  # the lagged analysis
    assert not app.exception
    text = lagged_text(app)
    assert "n = 20 or more clients (exact numbers withheld" in text
    assert not re.search(r"\b\d+ clients", text.replace("20 or more clients", "")) and "client-weeks" not in text
    # The other counts beside it are those of the analysed episodes (the rule covers them), and
    # nobody is "left out" of what the supervisor's analyses are given.
    assert not [markdown.value for markdown in app.markdown if "left out" in markdown.value]
    tom = next(box for box in app.selectbox if box.label == "Therapist")
    tom.select_index(tom.options.index("Tom Therapist")).run()  # 12 clients: too few for the models
    assert not app.exception
    text = lagged_text(app)
    assert "there are fewer than 20 (exact numbers withheld" in text and "there are 12" not in text

    logged_in(app, "therapist_a")  # therapists keep the exact n of their own clients
    open_page(app, "pages/therapist_insights.py")
    app.toggle[0].set_value(True).run()
    assert "and there are 12." in lagged_text(app)
