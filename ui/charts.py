"""Plotly figure builders: DataFrame in, Figure out. Sized to read well on a phone."""
import plotly.graph_objects as go

from clinical.instruments import BANDS, MAX_TOTAL

CALM = {"line": "#2f6f73", "points": "#8fb8b5", "bar": "#2f6f73", "paused": "#c9c9c9",
        "phq": "#6c4f9c", "gad": "#c06b3e"}
BAND_SHADES = ["#e8f3ec", "#f4f1dc", "#f7e6d4", "#f4d8cf", "#efc9c9"]
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
