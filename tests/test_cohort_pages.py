"""Insights and Cohort pages through AppTest: on the demo clinic, on an almost empty one, and
who may open them."""
import re
from datetime import date, timedelta

import pytest

from data_layer import measures
from data_layer.access import Principal
from tests.conftest import add_assignment, logged_in, open_page


def test_supervisor_cohort_on_the_demo_shows_every_part(demo_app):
    logged_in(demo_app, "supervisor")
    assert not demo_app.exception
    assert [title.value for title in demo_app.title] == ["Cohort"]
    assert {metric.label for metric in demo_app.metric} >= {
        "Active clients", "Engagement", "Median 4-week compliance", "Recovery", "Reliable improvement",
        "Reliable deterioration", "Reliable recovery", "Finished treatment"}
    per_therapist = demo_app.dataframe[0].value
    assert len(per_therapist) == 4
    shown_clients = " ".join(str(value) for frame in demo_app.dataframe for value in frame.value.to_numpy().ravel())
    assert "client0" not in shown_clients
    demo_app.toggle[0].set_value(True).run()
    assert not demo_app.exception
    reading = " ".join(markdown.value for markdown in demo_app.markdown)
    assert "homework" in reading.lower()
    assert len(demo_app.get("plotly_chart")) == 3  # scatter, dose-response, lagged


def test_therapist_insights_show_their_own_clients(demo_app):
    logged_in(demo_app, "therapist1")
    open_page(demo_app, "pages/therapist_insights.py")
    assert not demo_app.exception
    # 15 clients, some with one questionnaire pair so far (left out, said so): the points are
    # shown, the statistics wait for 20 (docs/clinical-rules.md).
    counts = [re.search(r"(\d+) clients \((\d+) left out: \2 with fewer than two questionnaire pairs .*\): "
                        r"statistics are shown from 20 clients", info.value) for info in demo_app.info]
    (shown, left_out), = [(int(found[1]), int(found[2])) for found in counts if found]
    assert shown + left_out == 15 and left_out >= 1
    assert len(demo_app.get("plotly_chart")) >= 1


def test_an_almost_empty_clinic_explains_what_is_missing(app):
    logged_in(app, "supervisor_a")
    assert not app.exception
    texts = " ".join(info.value for info in app.info)
    assert "fewer than 5 clients" in texts  # one client: the analyses are withheld and say why
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_insights.py")
    assert not app.exception


def test_a_client_with_one_pair_is_left_out_of_the_analyses_and_reads_not_enough_data(app, cur, world):
    measures.submit_questionnaire(cur, world.client_a, instrument="PHQ-9", answers=[2] * 8 + [0])
    measures.submit_questionnaire(cur, world.client_a, instrument="GAD-7", answers=[2] * 7)
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_insights.py")
    assert not app.exception
    # Alice has homework set and one pair: no change, so she is counted as left out, not as a 0.
    infos = " ".join(info.value for info in app.info)
    assert ("0 clients (1 left out: 1 with fewer than two questionnaire pairs (change not defined: "
            "not enough data))") in infos
    assert not app.get("plotly_chart")
    open_page(app, "pages/therapist_client.py")
    assert any(caption.value.startswith("Outcome so far: not enough data (1 questionnaire pairs")
               for caption in app.caption)


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


def test_supervisor_category_filter_shows_statistics_without_per_client_points(demo_app):
    logged_in(demo_app, "supervisor")
    next(box for box in demo_app.selectbox if box.label == "Homework category").select_index(1).run()
    assert not demo_app.exception
    captions = " ".join(caption.value for caption in demo_app.caption)
    assert "Per-client points are not shown with a category filter" in captions or any(
        "analyses are not shown" in info.value for info in demo_app.info)
    assert not [chart for chart in demo_app.get("plotly_chart") if "Clients" in str(chart.proto.spec)]
