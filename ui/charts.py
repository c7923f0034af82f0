"""Plotly figure builders: DataFrame in, Figure out. Sized to read well on a phone."""
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from clinical.instruments import BANDS, MAX_TOTAL

CALM = {"line": "#2f6f73", "points": "#8fb8b5", "bar": "#2f6f73", "paused": "#c9c9c9",
        "phq": "#6c4f9c", "gad": "#c06b3e"}
BAND_SHADES = ["#d9eee0", "#f1ecc4", "#f6dcc0", "#f2c9bd", "#eab3b3"]
# Passed to st.plotly_chart: no mode bar to fumble with on a phone.
PLOTLY_CONFIG = {"displayModeBar": False, "responsive": True}


def _layout(figure, title, y_title, y_range=None):
    figure.update_layout(
        title={"text": title, "font": {"size": 16}},
        height=300,
        margin={"l": 40, "r": 10, "t": 50, "b": 30},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        plot_bgcolor="white",
        hovermode="x unified",
    )
    figure.update_yaxes(title=y_title, range=y_range, gridcolor="#eeeeee", fixedrange=True)
    figure.update_xaxes(gridcolor="#f3f3f3", fixedrange=True)
    return figure


def mood_figure(daily):
    """Daily mood points with the 7-day mean line. `daily`: log_date, mood, mood_7day."""
    figure = go.Figure()
    figure.add_scatter(x=daily["log_date"], y=daily["mood"], mode="markers", name="Daily mood",
                       marker={"color": CALM["points"], "size": 7})
    figure.add_scatter(x=daily["log_date"], y=daily["mood_7day"], mode="lines", name="7-day mean",
                       line={"color": CALM["line"], "width": 3})
    return _layout(figure, "Mood (0 = very low, 10 = very good)", "Mood", [-0.5, 10.5])


def compliance_figure(weeks):
    """Weekly homework completion as bars; paused weeks shown as paused, not as missed.

    `weeks`: week_start, compliance (0-1, NaN when nothing was expected), status.
    """
    done = weeks[weeks["status"] == "ok"]
    paused = weeks[weeks["status"] == "paused"]
    figure = go.Figure()
    figure.add_bar(x=done["week_start"], y=done["compliance"] * 100, name="Homework done",
                   marker_color=CALM["bar"],
                   hovertemplate="Week of %{x|%d %b}: %{y:.0f}%<extra></extra>")
    figure.add_bar(x=paused["week_start"], y=[100] * len(paused), name="Paused",
                   marker_color=CALM["paused"], opacity=0.5, text=["paused"] * len(paused),
                   textposition="inside", hovertemplate="Week of %{x|%d %b}: paused<extra></extra>")
    figure.update_xaxes(tickformat="%d %b")
    return _layout(figure, "Homework done per week (% of what was set)", "%", [0, 105])


def scores_figure(questionnaires, instrument):
    """One instrument's totals over time over its severity bands.

    `questionnaires`: instrument, taken_on, total (other instruments are ignored).
    """
    scores = questionnaires[questionnaires["instrument"] == instrument].sort_values("taken_on")
    figure = go.Figure()
    bands = BANDS[instrument]
    for (lowest, name), upper, shade in zip(bands, [b[0] for b in bands[1:]] + [MAX_TOTAL[instrument] + 1],
                                           BAND_SHADES):
        figure.add_hrect(y0=lowest - 0.5, y1=upper - 0.5, fillcolor=shade, line_width=0, layer="below",
                         annotation_text=name, annotation_position="right",
                         annotation_font={"size": 10, "color": "#777777"})
    colour = CALM["phq"] if instrument == "PHQ-9" else CALM["gad"]
    figure.add_scatter(x=scores["taken_on"], y=scores["total"], mode="lines+markers", name=instrument,
                       line={"color": colour, "width": 3}, marker={"size": 8})
    return _layout(figure, f"{instrument} (lower is better)", "Total",
                   [-0.5, MAX_TOTAL[instrument] + 0.5])


def timeline_figure(daily, weeks, questionnaires, sessions, risk_flags):
    """One client's story on one shared time axis: mood, weekly homework, PHQ-9 and GAD-7.

    `daily`: log_date, mood, mood_7day; `weeks`: week_start, compliance, status;
    `questionnaires`: instrument, taken_on, total; `sessions`: session_date, attended;
    `risk_flags`: taken_on, item_9_answer, acknowledged_at.
    """
    figure = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07,
                           row_heights=[0.3, 0.25, 0.45],
                           subplot_titles=("Mood (0-10, higher is better)", "Homework done per week (%)",
                                           "PHQ-9 and GAD-7 (lower is better)"))
    figure.add_scatter(x=daily["log_date"], y=daily["mood"], mode="markers", name="Daily mood",
                       marker={"color": CALM["points"], "size": 5}, row=1, col=1)
    figure.add_scatter(x=daily["log_date"], y=daily["mood_7day"], mode="lines", name="Mood, 7-day mean",
                       line={"color": CALM["line"], "width": 2}, row=1, col=1)

    done = weeks[weeks["status"] == "ok"]
    paused = weeks[weeks["status"] == "paused"]
    # Bars are centred mid-week so they line up with the days they summarise.
    figure.add_bar(x=done["week_start"] + pd.Timedelta(days=3), y=done["compliance"] * 100,
                   name="Homework done", marker_color=CALM["bar"], width=5 * 86_400_000, row=2, col=1)
    figure.add_bar(x=paused["week_start"] + pd.Timedelta(days=3), y=[100] * len(paused), name="Paused week",
                   marker_color=CALM["paused"], opacity=0.5, width=5 * 86_400_000, row=2, col=1)

    for (lowest, _name), upper, shade in zip(BANDS["PHQ-9"], [b[0] for b in BANDS["PHQ-9"][1:]] + [28],
                                           BAND_SHADES):
        figure.add_hrect(y0=lowest - 0.5, y1=upper - 0.5, fillcolor=shade, line_width=0, layer="below",
                         row=3, col=1)
    for instrument, colour in (("PHQ-9", CALM["phq"]), ("GAD-7", CALM["gad"])):
        scores = questionnaires[questionnaires["instrument"] == instrument].sort_values("taken_on")
        figure.add_scatter(x=scores["taken_on"], y=scores["total"], mode="lines+markers", name=instrument,
                           line={"color": colour, "width": 2}, marker={"size": 6}, row=3, col=1)
    for attended, symbol, label in ((True, "triangle-up", "Session"), (False, "triangle-up-open", "Missed session")):
        chosen = sessions[sessions["attended"] == attended]
        figure.add_scatter(x=chosen["session_date"], y=[-1.5] * len(chosen), mode="markers", name=label,
                           marker={"symbol": symbol, "size": 9, "color": "#4a4a4a"}, row=3, col=1)
    if len(risk_flags):
        figure.add_scatter(x=risk_flags["taken_on"], y=[26] * len(risk_flags), mode="markers+text",
                           name="Risk (PHQ-9 item 9)", text=["risk"] * len(risk_flags), textposition="top center",
                           marker={"symbol": "x", "size": 12, "color": "#b00020"}, row=3, col=1)
    figure.update_yaxes(range=[-0.5, 10.5], row=1, col=1, fixedrange=True)
    figure.update_yaxes(range=[0, 105], row=2, col=1, fixedrange=True)
    figure.update_yaxes(range=[-3, 28], row=3, col=1, fixedrange=True)
    figure.update_layout(height=620, margin={"l": 40, "r": 10, "t": 40, "b": 30}, plot_bgcolor="white",
                         legend={"orientation": "h", "y": -0.08}, barmode="overlay", hovermode="x")
    return figure


def association_figure(points, association, measure_label, colour_label):
    """Each client's compliance (x, %) against their change (y), with the OLS line when shown.

    `points`: compliance (0-1), change, client, colour (severity at start, or NaN).
    """
    figure = go.Figure()
    figure.add_scatter(
        x=points["compliance"] * 100, y=points["change"], mode="markers", name="Clients",
        text=points["client"], customdata=points[["colour"]],
        marker={"size": 9, "color": points["colour"], "colorscale": "Sunsetdark", "showscale": True,
                "colorbar": {"title": {"text": colour_label, "side": "right"}, "thickness": 12}},
        hovertemplate="%{text}<br>Compliance %{x:.0f}%<br>Change %{y:+.1f}<extra></extra>",
    )
    if association.slope is not None:
        xs = [0, 100]
        figure.add_scatter(x=xs, y=[association.intercept + association.slope * x / 100 for x in xs],
                           mode="lines", name="OLS line", line={"color": "#333333", "dash": "dash"})
    figure.add_hline(y=0, line_color="#bbbbbb")
    figure.update_layout(showlegend=False)
    _layout(figure, f"Homework compliance and {measure_label}", f"Change in {measure_label}")
    figure.update_xaxes(title="Homework compliance over the episode (%)", range=[-3, 103])
    return figure


def dose_response_figure(groups, measure_label):
    """Mean change per compliance quartile with its 95% CI, labelled with n and outcome rates."""
    labels = [f"Q{row.quartile}: {row.compliance_min:.0%}–{row.compliance_max:.0%}" for row in groups.itertuples()]
    figure = go.Figure()
    figure.add_bar(
        x=labels, y=groups["mean_change"], marker_color=CALM["bar"],
        error_y={"type": "data", "symmetric": False,
                 "array": groups["change_ci_high"] - groups["mean_change"],
                 "arrayminus": groups["mean_change"] - groups["change_ci_low"]},
        text=[f"n={row.n}" for row in groups.itertuples()], textposition="outside",
        hovertemplate="%{x}<br>Mean change %{y:+.1f}<extra></extra>",
    )
    figure.add_hline(y=0, line_color="#bbbbbb")
    _layout(figure, f"Mean change in {measure_label} by compliance quartile (95% CI)",
            f"Change in {measure_label}")
    figure.update_yaxes(fixedrange=True, autorange=True)
    return figure


def lagged_figure(analysis):
    """Both directions of the lagged analysis side by side, each coefficient with its 95% CI.

    Forward: PHQ-9 points next week for a week with all the homework done against none
    (relative to the client's own average). Reverse: percentage points of next week's
    homework per PHQ-9 point above the client's own average.
    """
    panels = (("Homework first", analysis.forward, 1, "PHQ-9 points next week"),
              ("Improvement first", analysis.reverse, 100, "homework % points next week"))
    figure = make_subplots(rows=1, cols=2, subplot_titles=[title for title, *_ in panels],
                           horizontal_spacing=0.12)
    for column, (title, estimate, scale, unit) in enumerate(panels, start=1):
        if estimate is None:
            continue
        colour = CALM["bar"] if estimate.supported else "#8a8a8a"
        figure.add_scatter(
            x=[estimate.coefficient * scale], y=[title], mode="markers", showlegend=False,
            marker={"size": 13, "color": colour},
            error_x={"type": "data", "symmetric": False,
                     "array": [(estimate.ci_high - estimate.coefficient) * scale],
                     "arrayminus": [(estimate.coefficient - estimate.ci_low) * scale]},
            hovertemplate=f"%{{x:+.2f}} {unit}<extra></extra>", row=1, col=column,
        )
        figure.add_vline(x=0, line_color="#888888", row=1, col=column)
        figure.update_xaxes(title=unit, row=1, col=column, fixedrange=True, gridcolor="#eeeeee")
    figure.update_yaxes(showticklabels=False, fixedrange=True)
    figure.update_layout(height=230, margin={"l": 10, "r": 10, "t": 40, "b": 40}, plot_bgcolor="white")
    return figure
