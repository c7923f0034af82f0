"""Insights and Cohort pages through AppTest: on the demo clinic, on an almost empty one, and
who may open them."""
import pytest

from tests.conftest import logged_in, open_page


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
    # 15 clients: the points are shown, the statistics wait for 20 (CLINICAL.md).
    assert any("15 clients: statistics are shown from 20 clients" in info.value for info in demo_app.info)
    assert len(demo_app.get("plotly_chart")) >= 1


def test_an_almost_empty_clinic_explains_what_is_missing(app):
    logged_in(app, "supervisor_a")
    assert not app.exception
    texts = " ".join(info.value for info in app.info)
    assert "Statistics are shown from 20 clients" in texts or "nothing to show" in texts
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_insights.py")
    assert not app.exception


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
    assert per_therapist.loc["Cara Therapist", "Clients"] == "6"
