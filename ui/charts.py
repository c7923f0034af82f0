"""Plotly figure builders: DataFrame in, Figure out. Sized to read well on a phone."""

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from clinical.instruments import BANDS, MAX_TOTAL

CALM = {
    "line": "#2f6f73",
    "points": "#8fb8b5",
    "bar": "#2f6f73",
    "paused": "#c9c9c9",
    "phq": "#6c4f9c",
    "gad": "#c06b3e",
    "zero": "#9c3d2e",
}
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
    figure.add_scatter(
        x=daily["log_date"],
        y=daily["mood"],
        mode="markers",
        name="Daily mood",
        marker={"color": CALM["points"], "size": 7},
    )
    figure.add_scatter(
        x=daily["log_date"],
        y=daily["mood_7day"],
        mode="lines",
        name="7-day mean",
        line={"color": CALM["line"], "width": 3},
    )
    return _layout(figure, "Mood (0 = very low, 10 = very good)", "Mood", [-0.5, 10.5])


def compliance_figure(weeks):
    """Weekly homework completion as bars; paused weeks shown as paused, not as missed.

    `weeks`: week_start, compliance (0-1, NaN when nothing was expected), status.
    """
    done = weeks[weeks["status"] == "ok"]
    paused = weeks[weeks["status"] == "paused"]
    figure = go.Figure()
    figure.add_bar(
        x=done["week_start"],
        y=done["compliance"] * 100,
        name="Homework done",
        marker_color=CALM["bar"],
        hovertemplate="Week of %{x|%d %b}: %{y:.0f}%<extra></extra>",
    )
    figure.add_bar(
        x=paused["week_start"],
        y=[100] * len(paused),
        name="Paused",
        marker_color=CALM["paused"],
        opacity=0.5,
        text=["paused"] * len(paused),
        textposition="inside",
        hovertemplate="Week of %{x|%d %b}: paused<extra></extra>",
    )
    figure.update_xaxes(tickformat="%d %b")
    return _layout(figure, "Homework done per week (% of what was set)", "%", [0, 105])


def scores_figure(questionnaires, instrument):
    """One instrument's totals over time over its severity bands.

    `questionnaires`: instrument, taken_on, total (other instruments are ignored).
    """
    scores = questionnaires[questionnaires["instrument"] == instrument].sort_values("taken_on")
    figure = go.Figure()
    bands = BANDS[instrument]
    for (lowest, name), upper, shade in zip(
        bands, [b[0] for b in bands[1:]] + [MAX_TOTAL[instrument] + 1], BAND_SHADES
    ):
        figure.add_hrect(
            y0=lowest - 0.5,
            y1=upper - 0.5,
            fillcolor=shade,
            line_width=0,
            layer="below",
            annotation_text=name,
            annotation_position="right",
            annotation_font={"size": 10, "color": "#777777"},
        )
    colour = CALM["phq"] if instrument == "PHQ-9" else CALM["gad"]
    figure.add_scatter(
        x=scores["taken_on"],
        y=scores["total"],
        mode="lines+markers",
        name=instrument,
        line={"color": colour, "width": 3},
        marker={"size": 8},
    )
    return _layout(figure, f"{instrument} (lower is better)", "Total", [-0.5, MAX_TOTAL[instrument] + 0.5])


# Height of the stub that marks a week with homework set and none done (in % points).
ZERO_WEEK_STUB = 4


def timeline_is_empty(daily, weeks, questionnaires, sessions, risk_flags):
    """True when there is nothing to draw: no mood, no week with homework set or paused, no
    questionnaire, session or risk flag."""
    return (
        daily["mood"].dropna().empty
        and not weeks["status"].isin(["ok", "paused"]).any()
        and questionnaires.empty
        and sessions.empty
        and risk_flags.empty
    )


def timeline_figure(daily, weeks, questionnaires, sessions, risk_flags, expected=None):
    """One client's story on one shared time axis: mood, weekly homework, PHQ-9 and GAD-7.

    `daily`: log_date, mood, mood_7day; `weeks`: week_start, compliance, status;
    `questionnaires`: instrument, taken_on, total; `sessions`: session_date, attended;
    `risk_flags`: taken_on, item_9_answer, acknowledged_at; `expected` (optional):
    {instrument: DataFrame[day, expected, lower, upper]}, the expected range (ui.tracking).

    Weekly homework: a bar per week with homework set; a week with none done gets a short
    stub marked "0%" (it would otherwise look like a week with nothing set, which draws
    nothing); a paused week a full-height grey bar. The PHQ-9 severity bands are shapes bound
    to the questionnaire subplot's axes (x3 domain, y3), added even while that subplot is
    empty. Labels stay inside the figure.
    """
    figure = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.07,
        row_heights=[0.3, 0.25, 0.45],
        subplot_titles=(
            "Mood (0-10, higher is better)",
            "Homework done per week (%)",
            "PHQ-9 and GAD-7 (lower is better)",
        ),
    )
    figure.add_scatter(
        x=daily["log_date"],
        y=daily["mood"],
        mode="markers",
        name="Daily mood",
        marker={"color": CALM["points"], "size": 5},
        row=1,
        col=1,
    )
    figure.add_scatter(
        x=daily["log_date"],
        y=daily["mood_7day"],
        mode="lines",
        name="Mood, 7-day mean",
        line={"color": CALM["line"], "width": 2},
        row=1,
        col=1,
    )

    done = weeks[(weeks["status"] == "ok") & (weeks["compliance"] > 0)]
    none_done = weeks[(weeks["status"] == "ok") & ~(weeks["compliance"] > 0)]
    paused = weeks[weeks["status"] == "paused"]
    week_width = 5 * 86_400_000
    # Bars are centred mid-week so they line up with the days they summarise.
    figure.add_bar(
        x=done["week_start"] + pd.Timedelta(days=3),
        y=done["compliance"] * 100,
        name="Homework done",
        marker_color=CALM["bar"],
        width=week_width,
        hovertemplate="Week of %{x|%d %b}: %{y:.0f}% done<extra></extra>",
        row=2,
        col=1,
    )
    figure.add_bar(
        x=none_done["week_start"] + pd.Timedelta(days=3),
        y=[ZERO_WEEK_STUB] * len(none_done),
        name="Set, none done (0%)",
        marker={"color": CALM["zero"]},
        width=week_width,
        text=["0%"] * len(none_done),
        textposition="outside",
        cliponaxis=False,
        textfont={"color": CALM["zero"], "size": 11},
        hovertemplate="Week of %{x|%d %b}: homework set, 0% done<extra></extra>",
        row=2,
        col=1,
    )
    figure.add_bar(
        x=paused["week_start"] + pd.Timedelta(days=3),
        y=[100] * len(paused),
        name="Paused week",
        marker={"color": CALM["paused"], "pattern": {"shape": "/", "fgcolor": "#9a9a9a"}},
        opacity=0.5,
        width=week_width,
        hovertemplate="Week of %{x|%d %b}: paused<extra></extra>",
        row=2,
        col=1,
    )

    phq_bands = BANDS["PHQ-9"]
    uppers = [b[0] for b in phq_bands[1:]] + [MAX_TOTAL["PHQ-9"] + 1]
    for (lowest, name), upper, shade in zip(phq_bands, uppers, BAND_SHADES):
        # exclude_empty_subplots=False: Plotly otherwise drops shapes on a subplot with no data yet.
        figure.add_hrect(
            y0=lowest - 0.5,
            y1=upper - 0.5,
            fillcolor=shade,
            line_width=0,
            layer="below",
            row=3,
            col=1,
            exclude_empty_subplots=False,
        )
        figure.add_annotation(
            text=f"PHQ-9 {name}" if lowest == 0 else name,
            x=0.995,
            xref="x3 domain",
            xanchor="right",
            y=(lowest + upper) / 2 - 0.5,
            yref="y3",
            yanchor="middle",
            showarrow=False,
            font={"size": 9, "color": "#777777"},
        )
    for instrument, band in (expected or {}).items():
        _add_expected_range(figure, instrument, band)
    for instrument, colour in (("PHQ-9", CALM["phq"]), ("GAD-7", CALM["gad"])):
        scores = questionnaires[questionnaires["instrument"] == instrument].sort_values("taken_on")
        figure.add_scatter(
            x=scores["taken_on"],
            y=scores["total"],
            mode="lines+markers",
            name=instrument,
            line={"color": colour, "width": 2},
            marker={"size": 6},
            row=3,
            col=1,
        )
    for attended, symbol, label in ((True, "triangle-up", "Session"), (False, "triangle-up-open", "Missed session")):
        chosen = sessions[sessions["attended"] == attended]
        figure.add_scatter(
            x=chosen["session_date"],
            y=[-1.5] * len(chosen),
            mode="markers",
            name=label,
            marker={"symbol": symbol, "size": 9, "color": "#4a4a4a"},
            row=3,
            col=1,
        )
    if len(risk_flags):
        # The label sits below the marker, inside the subplot, and is not clipped at its edges
        # (cliponaxis False, with right margin for half the word).
        figure.add_scatter(
            x=risk_flags["taken_on"],
            y=[25.5] * len(risk_flags),
            mode="markers+text",
            name="Risk (PHQ-9 item 9)",
            text=["risk"] * len(risk_flags),
            textposition="bottom center",
            cliponaxis=False,
            textfont={"color": "#b00020", "size": 11},
            marker={"symbol": "x", "size": 12, "color": "#b00020"},
            row=3,
            col=1,
        )
    figure.update_yaxes(range=[-0.5, 10.5], row=1, col=1, fixedrange=True)
    figure.update_yaxes(range=[0, 105], row=2, col=1, fixedrange=True)
    figure.update_yaxes(range=[-3, 28], row=3, col=1, fixedrange=True)
    figure.update_layout(
        height=620,
        margin={"l": 40, "r": 30, "t": 40, "b": 30},
        plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.08},
        barmode="overlay",
        hovermode="x",
    )
    if timeline_is_empty(daily, weeks, questionnaires, sessions, risk_flags):
        figure.update_xaxes(showticklabels=False)
        figure.add_annotation(
            text="Nothing logged yet",
            x=0.5,
            xref="paper",
            y=0.5,
            yref="paper",
            showarrow=False,
            font={"size": 14, "color": "#555555"},
        )
    return figure


# The instruments' own colours (CALM), faint: the client's line must stay the first thing seen.
_RANGE_FILL = {"PHQ-9": "rgba(108, 79, 156, 0.15)", "GAD-7": "rgba(192, 107, 62, 0.12)"}


def _add_expected_range(figure, instrument, band):
    """The instrument's expected range (lower to upper bound) as a shaded band with the expected
    score dotted inside it, under the client's own line."""
    range_name = f"{instrument} expected range"
    figure.add_scatter(
        x=band["day"],
        y=band["lower"],
        mode="lines",
        line={"width": 0},
        name=range_name,
        legendgroup=range_name,
        showlegend=False,
        hoverinfo="skip",
        row=3,
        col=1,
    )
    figure.add_scatter(
        x=band["day"],
        y=band["upper"],
        mode="lines",
        line={"width": 0},
        fill="tonexty",
        fillcolor=_RANGE_FILL[instrument],
        name=range_name,
        legendgroup=range_name,
        hovertemplate=f"{instrument} upper bound: %{{y:.1f}}<extra></extra>",
        row=3,
        col=1,
    )
    figure.add_scatter(
        x=band["day"],
        y=band["expected"],
        mode="lines",
        line={"width": 1, "dash": "dot", "color": "#555555"},
        name=f"{instrument} expected",
        legendgroup=range_name,
        showlegend=False,
        hovertemplate=f"{instrument} expected: %{{y:.1f}}<extra></extra>",
        row=3,
        col=1,
    )


def association_figure(points, association, measure_label, colour_label):
    """Each client's compliance (x, %) against their change (y), with the OLS line when shown.

    `points`: compliance (0-1), change, client, colour (severity at start, or NaN).
    """
    figure = go.Figure()
    figure.add_scatter(
        x=points["compliance"] * 100,
        y=points["change"],
        mode="markers",
        name="Clients",
        text=points["client"],
        customdata=points[["colour"]],
        marker={
            "size": 9,
            "color": points["colour"],
            "colorscale": "Sunsetdark",
            "showscale": True,
            "colorbar": {"title": {"text": colour_label, "side": "right"}, "thickness": 12},
        },
        hovertemplate="%{text}<br>Compliance %{x:.0f}%<br>Change %{y:+.1f}<extra></extra>",
    )
    if association.slope is not None:
        xs = [0, 100]
        figure.add_scatter(
            x=xs,
            y=[association.intercept + association.slope * x / 100 for x in xs],
            mode="lines",
            name="OLS line",
            line={"color": "#333333", "dash": "dash"},
        )
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
        x=labels,
        y=groups["mean_change"],
        marker_color=CALM["bar"],
        error_y={
            "type": "data",
            "symmetric": False,
            "array": groups["change_ci_high"] - groups["mean_change"],
            "arrayminus": groups["mean_change"] - groups["change_ci_low"],
        },
        text=[f"n={row.n}" for row in groups.itertuples()],
        textposition="outside",
        hovertemplate="%{x}<br>Mean change %{y:+.1f}<extra></extra>",
    )
    figure.add_hline(y=0, line_color="#bbbbbb")
    _layout(figure, f"Mean change in {measure_label} by compliance quartile (95% CI)", f"Change in {measure_label}")
    figure.update_yaxes(fixedrange=True, autorange=True)
    return figure


def lagged_figure(analysis):
    """Both directions of the lagged analysis side by side, each coefficient with its 95% CI.

    Forward: PHQ-9 points next week for a week with all the homework done against none
    (relative to the client's own average). Reverse: percentage points of next week's
    homework per PHQ-9 point above the client's own average.
    """
    panels = (
        ("Homework first", analysis.forward, 1, "PHQ-9 points next week"),
        ("Improvement first", analysis.reverse, 100, "homework % points next week"),
    )
    figure = make_subplots(rows=1, cols=2, subplot_titles=[title for title, *_ in panels], horizontal_spacing=0.12)
    for column, (title, estimate, scale, unit) in enumerate(panels, start=1):
        if estimate is None:
            continue
        colour = CALM["bar"] if estimate.supported else "#8a8a8a"
        figure.add_scatter(
            x=[estimate.coefficient * scale],
            y=[title],
            mode="markers",
            showlegend=False,
            marker={"size": 13, "color": colour},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [(estimate.ci_high - estimate.coefficient) * scale],
                "arrayminus": [(estimate.coefficient - estimate.ci_low) * scale],
            },
            hovertemplate=f"%{{x:+.2f}} {unit}<extra></extra>",
            row=1,
            col=column,
        )
        figure.add_vline(x=0, line_color="#888888", row=1, col=column)
        figure.update_xaxes(title=unit, row=1, col=column, fixedrange=True, gridcolor="#eeeeee")
    figure.update_yaxes(showticklabels=False, fixedrange=True)
    figure.update_layout(height=230, margin={"l": 10, "r": 10, "t": 40, "b": 40}, plot_bgcolor="white")
    return figure


# Text alternatives: one plain sentence (or two) under each chart saying what it shows in numbers.


def _plural(count, word):
    return f"{count} {word}{'' if count == 1 else 's'}"


def _number(value):
    return f"{value:.1f}".rstrip("0").rstrip(".")


def compliance_summary(weeks):
    """What the weekly homework chart shows, e.g. "Homework done over the last 6 weeks with
    homework set: 58% on average (1 week at 0%); 1 paused week." """
    counted = weeks[weeks["status"] == "ok"]
    paused = int((weeks["status"] == "paused").sum())
    if counted.empty:
        text = "No week with homework set in this period"
    else:
        zero = int((~(counted["compliance"] > 0)).sum())
        text = (
            f"Homework done over the last {_plural(len(counted), 'week')} with homework set: "
            f"{counted['compliance'].mean():.0%} on average"
        )
        if zero:
            text += f" ({_plural(zero, 'week')} at 0%)"
    return text + (f"; {_plural(paused, 'paused week')}." if paused else ".")


def mood_summary(daily):
    """What the mood chart shows: the number of check-ins and the 7-day mean from first to last."""
    logged = daily.dropna(subset=["mood"]).sort_values("log_date")
    if logged.empty:
        return "No mood logged in this period."
    means = logged["mood_7day"].dropna()
    text = (
        f"Mood: {_plural(len(logged), 'check-in')} from {logged['log_date'].iloc[0]:%d %b} to "
        f"{logged['log_date'].iloc[-1]:%d %b}, between {_number(logged['mood'].min())} and "
        f"{_number(logged['mood'].max())} out of 10"
    )
    if len(means) > 1:
        text += f"; the 7-day mean went from {_number(means.iloc[0])} to {_number(means.iloc[-1])}"
    return text + "."


def scores_summary(questionnaires, instrument):
    """What one instrument's chart shows: how many, from the first total to the latest."""
    scores = questionnaires[questionnaires["instrument"] == instrument].sort_values("taken_on")
    if scores.empty:
        return f"No {instrument} yet."
    first, last = scores.iloc[0], scores.iloc[-1]
    latest = f"{int(last['total'])}" + (f" ({last['band']})" if "band" in scores and pd.notna(last["band"]) else "")
    if len(scores) == 1:
        return f"{instrument}: one questionnaire, {latest} on {last['taken_on']:%d %b}."
    return (
        f"{instrument}: {len(scores)} questionnaires, from {int(first['total'])} on {first['taken_on']:%d %b} "
        f"to {latest} on {last['taken_on']:%d %b} (lower is better)."
    )


def timeline_summary(daily, weeks, questionnaires, sessions, risk_flags):
    """The timeline in words: homework, mood, questionnaires, sessions and risk flags."""
    if timeline_is_empty(daily, weeks, questionnaires, sessions, risk_flags):
        return "Nothing logged yet: no mood, homework, questionnaires or sessions in this episode."
    parts = [compliance_summary(weeks), mood_summary(daily)]
    for instrument in ("PHQ-9", "GAD-7"):
        if (questionnaires["instrument"] == instrument).any():
            parts.append(scores_summary(questionnaires, instrument))
    if len(sessions):
        attended = int(sessions["attended"].sum())
        parts.append(f"Sessions: {attended} attended, {len(sessions) - attended} missed.")
    if len(risk_flags):
        parts.append(f"{_plural(len(risk_flags), 'risk flag')} (PHQ-9 item 9), marked in red.")
    return " ".join(parts)


def association_summary(points, association, measure_label, counts=True):
    """The scatter in words. `counts` False (supervisors) leaves out every number of clients."""
    who = f"{_plural(len(points), 'client')}" if counts else "clients"
    text = (
        f"Each dot is one client: homework compliance from {points['compliance'].min():.0%} to "
        f"{points['compliance'].max():.0%} across, change in {measure_label} from "
        f"{points['change'].min():+.1f} to {points['change'].max():+.1f} up the chart ({who})"
    )
    if association.slope is not None:
        text += (
            f"; the dashed line changes by {association.slope / 10:+.2f} {measure_label} points per "
            "10 points of compliance"
        )
    return text + "."


def dose_summary(groups, measure_label, counts=True):
    """The dose-response bars in words: the mean change per quartile shown (with n when `counts`)."""
    parts = []
    for row in groups.itertuples():
        part = f"Q{row.quartile} ({row.compliance_min:.0%}–{row.compliance_max:.0%}) {row.mean_change:+.1f}"
        parts.append(part + (f" (n={row.n})" if counts else ""))
    return f"Mean change in {measure_label} per compliance quartile: " + "; ".join(parts) + "."


def lagged_summary(analysis):
    """The lagged chart in words: each direction's coefficient with its 95% CI (no counts)."""
    parts = []
    for title, estimate, scale, unit in (
        ("Homework first", analysis.forward, 1, "PHQ-9 points next week"),
        ("Improvement first", analysis.reverse, 100, "homework % points next week"),
    ):
        if estimate is not None:
            low, high = sorted((estimate.ci_low * scale, estimate.ci_high * scale))
            parts.append(f"{title}: {estimate.coefficient * scale:+.2f} {unit} (95% CI {low:+.2f} to {high:+.2f})")
        else:
            parts.append(f"{title}: no estimate")
    return "; ".join(parts) + "."
