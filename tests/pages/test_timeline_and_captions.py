"""Issue #12, items 3 and 10: the therapist's timeline (severity bands drawn on the
questionnaire subplot, 0% weeks visible and distinct from paused and from no-homework weeks,
labels inside the figure, an empty timeline says so), the caseload's wording for a new
therapist, the client's greeting, and a plain summary sentence under every chart."""

import re
from datetime import date, timedelta

import pandas as pd
import pytest

from clinical.analysis import Association, LaggedAnalysis, LaggedEstimate
from data_layer import mood
from tests.conftest import add_pair, add_user, logged_in, open_page
from ui.charts import association_summary, dose_summary, lagged_summary, timeline_figure, timeline_summary

TODAY = pd.Timestamp(date.today())


def days_ago(days):
    return TODAY - pd.Timedelta(days=days)


def timeline_inputs(*, questionnaires=True, risk=True):
    monday = TODAY - pd.Timedelta(days=TODAY.weekday())
    daily = pd.DataFrame(
        {
            "log_date": [days_ago(n) for n in range(10)],
            "mood": [4.0] * 5 + [6.0] * 5,
            "mood_7day": [4.0] * 5 + [6.0] * 5,
        }
    )
    weeks = pd.DataFrame(
        {
            "week_start": [monday - pd.Timedelta(weeks=n) for n in (3, 2, 1, 0)],
            "compliance": [0.5, 0.0, float("nan"), float("nan")],
            "status": ["ok", "ok", "paused", "no homework set"],
        }
    )
    scores = pd.DataFrame(
        {
            "instrument": ["PHQ-9", "GAD-7"] if questionnaires else [],
            "taken_on": [days_ago(3)] * 2 if questionnaires else [],
            "total": [12, 8] if questionnaires else [],
        }
    )
    sessions = pd.DataFrame({"session_date": [days_ago(7)], "attended": [True]})
    flags = pd.DataFrame(
        {
            "taken_on": [days_ago(0)] if risk else [],
            "item_9_answer": [1] if risk else [],
            "acknowledged_at": [None] if risk else [],
        }
    )
    return daily, weeks, scores, sessions, flags


def bars_in_homework_row(figure):
    return [trace for trace in figure.data if trace.type == "bar" and trace.yaxis == "y2"]


def height_at(trace, week_start):
    middle = week_start + pd.Timedelta(days=3)
    return {pd.Timestamp(x): y for x, y in zip(trace.x, trace.y)}.get(middle)


@pytest.mark.parametrize("questionnaires", [True, False])
def test_the_severity_bands_are_drawn_on_the_questionnaire_subplot(questionnaires):
    figure = timeline_figure(*timeline_inputs(questionnaires=questionnaires))
    questionnaire_axes = figure.get_subplot(3, 1)
    x_axis, y_axis = questionnaire_axes.xaxis.plotly_name, questionnaire_axes.yaxis.plotly_name  # xaxis3, yaxis3
    bands = [shape for shape in figure.layout.shapes if shape.type == "rect"]
    assert len(bands) == 5  # the five PHQ-9 bands, even before any questionnaire
    for shape in bands:
        assert shape.yref == y_axis.replace("axis", "")
        assert shape.xref in (x_axis.replace("axis", ""), x_axis.replace("axis", "") + " domain")
    assert sorted((shape.y0, shape.y1) for shape in bands) == [
        (-0.5, 4.5),
        (4.5, 9.5),
        (9.5, 14.5),
        (14.5, 19.5),
        (19.5, 27.5),
    ]


def test_a_week_at_0_percent_has_a_visible_stub_distinct_from_paused_and_no_homework_weeks():
    daily, weeks, *rest = timeline_inputs()
    figure = timeline_figure(daily, weeks, *rest)
    half, zero, paused, nothing_set = weeks["week_start"]
    bars = bars_in_homework_row(figure)
    at_zero = [trace for trace in bars if (height_at(trace, zero) or 0) > 0]
    at_paused = [trace for trace in bars if (height_at(trace, paused) or 0) > 0]
    assert len(at_zero) == 1 and len(at_paused) == 1
    stub, paused_bar = at_zero[0], at_paused[0]
    assert 0 < height_at(stub, zero) < height_at(paused_bar, paused)
    assert stub.name != paused_bar.name and stub.marker.color != paused_bar.marker.color
    assert "0%" in " ".join(stub.text)
    assert height_at(next(trace for trace in bars if height_at(trace, half) is not None), half) == 50
    # A week with no homework set draws nothing at all.
    assert not [trace for trace in bars if height_at(trace, nothing_set) is not None]


def test_labels_stay_inside_the_figure():
    figure = timeline_figure(*timeline_inputs())
    for annotation in figure.layout.annotations:
        if annotation.yref == "paper":
            assert 0 <= annotation.y <= 1, annotation.text
        if annotation.xref == "paper" or annotation.xref.endswith("domain"):
            assert 0 <= annotation.x <= 1, annotation.text
    labelled = [trace for trace in figure.data if trace.text is not None and len(trace.text)]
    risk = next(trace for trace in labelled if trace.name.startswith("Risk"))
    assert list(risk.text) == ["risk"]
    for trace in labelled:
        # Not clipped at the subplot's edge, drawn below its marker (inside the subplot, not
        # over the one above), and with room in the right margin for half a word.
        assert trace.cliponaxis is False, trace.name
    assert risk.textposition.startswith("bottom")
    assert figure.layout.margin.r >= 24


def test_an_empty_timeline_says_nothing_is_logged_instead_of_blank_numbered_axes():
    def empty(**columns):
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})

    day, number = "datetime64[ns]", "float64"
    figure = timeline_figure(
        empty(log_date=day, mood=number, mood_7day=number),
        empty(week_start=day, compliance=number, status="object"),
        empty(instrument="object", taken_on=day, total=number),
        empty(session_date=day, attended="bool"),
        empty(taken_on=day, item_9_answer=number, acknowledged_at=day),
    )
    assert any(annotation.text == "Nothing logged yet" for annotation in figure.layout.annotations)
    assert all(axis.showticklabels is False for axis in figure.select_xaxes())


def test_the_timeline_summary_says_the_numbers():
    text = timeline_summary(*timeline_inputs())
    assert "2 weeks with homework set: 25% on average (1 week at 0%); 1 paused week." in text
    assert "the 7-day mean went from 6 to 4" in text
    assert "PHQ-9: one questionnaire, 12" in text and "1 risk flag" in text


def scatter_points():
    return pd.DataFrame(
        {
            "client": ["P-1", "P-2", "P-3"],
            "compliance": [0.2, 0.5, 0.9],
            "change": [-1.0, -3.0, -6.0],
            "colour": [12, 14, 18],
        }
    )


def test_a_supervisors_chart_summaries_print_no_number_of_clients():
    association = Association(
        n=3, n_dropped=0, rho=-0.5, rho_ci=(-0.9, 0.2), slope=-7.0, intercept=0.5, status="exploratory", message=""
    )
    groups = pd.DataFrame(
        {
            "quartile": [1, 2],
            "compliance_min": [0.1, 0.5],
            "compliance_max": [0.4, 0.9],
            "mean_change": [-1.5, -4.0],
            "n": [6, 7],
        }
    )
    for counts in (True, False):
        texts = [
            association_summary(scatter_points(), association, "PHQ-9", counts=counts),
            dose_summary(groups, "PHQ-9", counts=counts),
        ]
        assert "from 20% to 90%" in texts[0] and "-6.0 to -1.0" in texts[0] and "-0.70 PHQ-9 points" in texts[0]
        assert "Q1 (10%–40%) -1.5" in texts[1] and "Q2 (50%–90%) -4.0" in texts[1]
        counted = "3 clients" in texts[0] and "n=6" in texts[1] and "n=7" in texts[1]
        assert counted == counts
        if not counts:
            assert not re.search(r"\b[367] clients|n=", " ".join(texts))


def test_the_lagged_summary_gives_both_coefficients():
    estimate = LaggedEstimate(
        term="x", coefficient=-0.8, ci_low=-1.5, ci_high=-0.1, p=0.03, n_clients=25, n_observations=300, supported=True
    )
    analysis = LaggedAnalysis(
        status="ok", n_eligible_clients=25, forward=estimate, reverse=None, converged=True, reading=""
    )
    assert lagged_summary(analysis) == (
        "Homework first: -0.80 PHQ-9 points next week (95% CI -1.50 to -0.10); Improvement first: no estimate."
    )


# The pages, through AppTest.


def captions(app):
    return [caption.value for caption in app.caption]


def test_the_client_page_shows_a_new_clients_empty_timeline_as_a_message(app, cur, world):
    newcomer = add_user(cur, "newcomer", "Nina Newcomer", "client")
    cur.execute(
        "INSERT INTO caseload (client_id, therapist_id, started_on) VALUES (?, ?, current_date)",
        [newcomer.user_id, world.therapist_a.user_id],
    )
    logged_in(app, "therapist_a")
    app.session_state["open_client_id"] = newcomer.user_id
    open_page(app, "pages/therapist_client.py")
    assert not app.exception
    assert [title.value for title in app.title] == ["Nina Newcomer"]
    assert not app.get("plotly_chart")
    assert any(info.value.startswith("Nothing logged yet in this episode") for info in app.info)


def test_the_client_page_says_what_the_timeline_shows(app, cur, world):
    mood.log_mood(cur, world.client_a, log_date=date.today(), mood=6)
    logged_in(app, "therapist_a")
    open_page(app, "pages/therapist_client.py")
    assert not app.exception
    assert len(app.get("plotly_chart")) == 1
    # client_a's homework has been set for 30 days and never done: every week is a 0% week.
    summary = next(text for text in captions(app) if text.startswith("Homework done over the last"))
    assert "0% on average" in summary and "at 0%)" in summary and "Mood: 1 check-in" in summary


def test_a_new_therapists_caseload_reads_one_current_client_and_never_shows_none(app):
    logged_in(app, "therapist_a")  # one client, who has never logged anything
    open_page(app, "pages/therapist_caseload.py")
    assert not app.exception
    assert any(text.startswith("1 current client, flagged ones first.") for text in captions(app))
    table = app.dataframe[0]
    assert "Days since last log (blank: never)" in table.value.columns
    assert table.value["Days since last log (blank: never)"].isna().all()
    assert table.proto.placeholder == ""  # a missing value is a blank cell, not "None"


def test_a_name_ending_in_a_full_stop_gets_no_second_one(app, cur):
    cur.execute("UPDATE users SET display_name = 'Zainab R.' WHERE username = 'client_a'")
    logged_in(app, "client_a")
    assert not app.exception
    hello = next(text for text in captions(app) if text.startswith("Hello"))
    assert hello == r"Hello Zainab R\. Small steps count."


def test_the_greeting_still_ends_a_name_without_a_full_stop(app):
    logged_in(app, "client_a")
    assert r"Hello Alice Client. Small steps count." in captions(app)


def test_every_chart_on_the_progress_page_has_a_summary_sentence(app, cur, world):
    for days, value in ((6, 3), (3, 5), (0, 7)):
        mood.log_mood(cur, world.client_a, log_date=date.today() - timedelta(days=days), mood=value)
    add_pair(cur, world.client_a, date.today() - timedelta(days=14), 14, 11)
    add_pair(cur, world.client_a, date.today(), 9, 6)
    logged_in(app, "client_a")
    open_page(app, "pages/client_progress.py")
    assert not app.exception
    assert len(app.get("plotly_chart")) == 4  # homework, mood, PHQ-9, GAD-7
    texts = captions(app)
    assert any(text.startswith("Homework done over the last") and "0% on average" in text for text in texts)
    assert any(text.startswith("Mood: 3 check-ins") and "between 3 and 7 out of 10" in text for text in texts)
    assert any(text.startswith("PHQ-9: 2 questionnaires, from 14") and "to 9 (mild)" in text for text in texts)
    assert any(text.startswith("GAD-7: 2 questionnaires, from 11") and "to 6 (mild)" in text for text in texts)


@pytest.mark.slow
def test_every_insights_chart_has_a_summary_sentence(demo_app):
    logged_in(demo_app, "therapist1")
    open_page(demo_app, "pages/therapist_insights.py")
    next(toggle for toggle in demo_app.toggle if toggle.label == "Run the lagged analysis").set_value(True).run()
    assert not demo_app.exception
    charts = {chart.key for chart in demo_app.get("plotly_chart")}
    assert {"insights_scatter", "insights_dose"} <= charts
    texts = captions(demo_app)
    assert any(re.match(r"Each dot is one client: .*\(\d+ clients\)", text) for text in texts)
    assert any(text.startswith("Mean change in PHQ-9 per compliance quartile: Q1") and "(n=" in text for text in texts)
    assert any(text.startswith("Homework first: ") for text in texts) == ("insights_lagged_chart" in charts)


@pytest.mark.slow
def test_the_supervisors_chart_summaries_print_no_count_of_clients(demo_app):
    logged_in(demo_app, "supervisor")
    if not demo_app.toggle:  # the current quarter's analyses may be withheld, with the reason said
        assert any("The analyses are not shown for this choice" in info.value for info in demo_app.info)
        return
    demo_app.toggle[0].set_value(True).run()
    assert not demo_app.exception
    charts = len(demo_app.get("plotly_chart"))
    summaries = [
        text
        for text in captions(demo_app)
        if text.startswith(("Each dot is one client", "Mean change in", "Homework first"))
    ]
    assert len(summaries) == charts
    for text in summaries:
        assert not re.search(r"\d+ clients?\b|n=\d", text), text
