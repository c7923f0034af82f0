"""The compliance-versus-outcome analyses, shown the same way to therapists and supervisors."""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

import pandas as pd
import streamlit as st

from clinical.analysis import (
    CAVEATS,
    REMINDER_CAVEAT,
    before_after,
    compliance_change_association,
    dose_response,
    lagged_models,
)
from clinical.episodes import classify_episodes
from clinical.homework import CATEGORIES
from clinical.reporting import SMALL_CELL, SUPPRESSED, hidden_cells, reveals_few, table_cells
from data_layer.reports import cohort
from ui.cache import cached, derived
from ui.charts import (
    PLOTLY_CONFIG,
    association_figure,
    association_summary,
    dose_response_figure,
    dose_summary,
    lagged_figure,
    lagged_summary,
)
from ui.exports import csv_bytes

# Fewer than 2 pairs: the change is undefined, never 0 (docs/clinical-rules.md, "Outcomes").
FEWER_THAN_TWO_PAIRS = "with fewer than two questionnaire pairs (change not defined: not enough data)"
# measure: (change column, label, direction, why a client has no change)
MEASURES = {
    "PHQ-9": ("phq9_change", "PHQ-9", "lower is better", FEWER_THAN_TWO_PAIRS),
    "GAD-7": ("gad7_change", "GAD-7", "lower is better", FEWER_THAN_TWO_PAIRS),
    "Mood": ("mood_change", "mood", "higher is better", "with no mood logged"),
}


def filters(key, therapists=None, periods=None):
    """The choice of episodes, the outcome measure and, for supervisors, therapist and category.

    Therapists pick a free date range. Supervisors (`therapists` and `periods` given) pick
    one of `periods` (clinical.reporting.reporting_periods: calendar quarters that never
    overlap, the first one by default), never free dates: two overlapping ranges could be
    subtracted (clinical/reporting.py). Returns (window_start, window_end, measure,
    therapist_id, category).
    """
    today = date.today()
    first, second = st.columns(2)
    if periods is None:
        chosen = first.date_input(
            "Date range",
            value=(today - timedelta(days=182), today),
            max_value=today,
            format="DD/MM/YYYY",
            key=f"{key}_range",
        )
        window_start, window_end = chosen if len(chosen) == 2 else (chosen[0], today)
    else:
        period = first.selectbox(
            "Period: the episodes that ended in", periods, key=f"{key}_period", format_func=lambda value: value.label
        )
        window_start, window_end = period.first_day, period.last_day
    measure = second.selectbox("Outcome measure", list(MEASURES), key=f"{key}_measure")
    therapist_id = category = None
    if therapists is not None:
        third, fourth = st.columns(2)
        names = dict(zip(therapists["therapist_id"], therapists["therapist"]))
        therapist_id = third.selectbox(
            "Therapist",
            [None, *names],
            key=f"{key}_therapist",
            format_func=lambda value: "All therapists" if value is None else names[value],
        )
        category = fourth.selectbox(
            "Homework category",
            [None, *CATEGORIES],
            key=f"{key}_category",
            format_func=lambda value: "All categories" if value is None else CATEGORIES[value],
        )
    return window_start, window_end, measure, therapist_id, category


def load_classified_episodes(cur, principal, window_start, window_end, therapist_id=None, category=None):
    """Episodes in scope with compliance, pair scores, changes and outcome classes. Shared
    between page runs until the data change (ui.cache.derived): never change it."""
    episodes = cached(
        cohort.episode_summaries,
        cur,
        principal,
        window_start=window_start,
        window_end=window_end,
        therapist_id=therapist_id,
        category=category,
    )
    questionnaires = cached(
        cohort.episode_questionnaires,
        cur,
        principal,
        window_start=window_start,
        window_end=window_end,
        therapist_id=therapist_id,
    )
    return derived(
        "classified_episodes",
        principal,
        (window_start, window_end, therapist_id, category),
        lambda: _classified(episodes, questionnaires),
    )


def _classified(episodes, questionnaires):
    classified = classify_episodes(episodes, questionnaires)
    classified["mood_change"] = classified["mood_last_week"] - classified["mood_first_week"]
    return classified


def cohort_cells(principal, choices, episodes, categories):
    """Return clinical.reporting.table_cells(episodes, categories), kept until the data change
    (ui.cache.derived; `choices`: what the episodes were read with): in pandas, it was the
    largest cost of a cohort page run at size L."""
    return derived("cohort_cells", principal, choices, lambda: table_cells(episodes, categories))


@st.cache_data(show_spinner=False, max_entries=64)
def _lagged(panel, exact_counts):
    # Keyed by the panel's content: the same data gives the same answer, whoever asks.
    return lagged_models(panel, exact_counts=exact_counts)


def _suppressed_quartiles(groups, suppress):
    table = pd.DataFrame(
        {
            "Quartile": [f"Q{q}" for q in groups["quartile"]],
            "Compliance": [
                f"{low:.0%}–{high:.0%}" for low, high in zip(groups["compliance_min"], groups["compliance_max"])
            ],
            "Clients": groups["n"].astype(str),
            "Mean change (95% CI)": [
                f"{mean:+.1f} ({low:+.1f} to {high:+.1f})" if pd.notna(low) else f"{mean:+.1f}"
                for mean, low, high in zip(groups["mean_change"], groups["change_ci_low"], groups["change_ci_high"])
            ],
            "Reliable improvement": [
                f"{rate:.0%} of {n}" if n else "no data"
                for rate, n in zip(groups["improved_rate"], groups["improved_denominator"])
            ],
            "Recovery": [
                f"{rate:.0%} of {n}" if n else "no data"
                for rate, n in zip(groups["recovery_rate"], groups["recovery_eligible"])
            ],
        }
    )
    if suppress:
        # The quartiles add up to the n printed with the analyses: the shared rule hides a
        # small quartile together with enough others that n minus the rest gives nothing away.
        small = hidden_cells(groups["n"]).to_numpy()
        table.loc[small, table.columns[1:]] = SUPPRESSED
        for column, denominator in (
            ("Reliable improvement", "improved_denominator"),
            ("Recovery", "recovery_eligible"),
        ):
            table.loc[hidden_cells(groups[denominator]).to_numpy(), column] = SUPPRESSED
    return table


@dataclass(frozen=True)
class Analyses:
    """What `analyses` shows above the lagged analysis, worked out (see `work_out_analyses`)."""

    association: object  # clinical.analysis.compliance_change_association's result
    scatter: object  # the per-client figure, or None when not shown
    scatter_summary: str | None
    dose: object  # clinical.analysis.dose_response's result
    dose_figure: object  # None when no quartile is shown
    dose_summary: str | None
    dose_table: pd.DataFrame | None


def work_out_analyses(classified, measure, suppress, per_client):
    """Return the Analyses of `classified` for `measure` (see `analyses` for the flags)."""
    change_column, label, _, no_change = MEASURES[measure]
    points = pd.DataFrame(
        {
            "client": classified["client"],
            "compliance": classified["compliance"],
            "change": classified[change_column],
            "colour": classified["phq9_first"],
            "reliable_improvement": classified["reliable_improvement"].where(classified["finished"]),
            "recovery": classified["recovery"].where(classified["finished"] & classified["case_at_start"]),
        }
    )
    association = compliance_change_association(
        points, x="compliance", y="change", reasons={"compliance": "with no homework set", "change": no_change}
    )
    scatter = scatter_summary = None
    if association.n and per_client:
        shown_points = points.dropna(subset=["compliance", "change"])
        scatter = association_figure(shown_points, association, label, "PHQ-9 at start")
        # Supervisors: no number of clients in the text alternative (the rules for counts are
        # clinical/reporting.py's; the caption adds none).
        scatter_summary = association_summary(shown_points, association, label, counts=not suppress)
    dose = dose_response(points, x="compliance", y="change")
    dose_figure = dose_text = table = None
    if dose.groups is not None:
        shown = dose.groups[~hidden_cells(dose.groups["n"])] if suppress else dose.groups
        if len(shown):
            dose_figure = dose_response_figure(shown, label)
            dose_text = dose_summary(shown, label, counts=not suppress)
        table = _suppressed_quartiles(dose.groups, suppress)
    return Analyses(association, scatter, scatter_summary, dose, dose_figure, dose_text, table)


def analyses(principal, choices, classified, panel, measure, key, suppress, per_client=True):
    """Scatter, dose-response and the lagged analysis, with n, thresholds and caveats.

    `suppress` (supervisors) hides small quartiles and withholds the lagged analysis'
    exact numbers of clients (clinical.analysis.lagged_models); `per_client` False leaves
    out the per-client points and keeps the statistics (a supervisor's category filter).
    `choices`: what `classified` was read with (the figures are kept until the data change).
    """
    _, label, direction, _ = MEASURES[measure]
    worked = derived(
        f"{key}_analyses",
        principal,
        (choices, measure, suppress, per_client),
        lambda: work_out_analyses(classified, measure, suppress, per_client),
    )
    association = worked.association
    st.header("Does more homework go with more improvement?", anchor=False)
    st.caption(
        f"{label} change from the first to the last questionnaire pair ({direction})"
        if measure != "Mood"
        else "Mood: mean of the last logged week minus the first (higher is better)"
    )
    if association.n == 0:
        st.info(
            f"No client has both homework set and a change in this range: nothing to show yet. {association.message}"
        )
    else:
        if per_client:
            st.plotly_chart(worked.scatter, config=PLOTLY_CONFIG, key=f"{key}_scatter")
            st.caption(worked.scatter_summary)
        else:
            st.caption(
                "Per-client points are not shown with a category filter: clients with homework of "
                "several categories could be matched across filters."
            )
        if association.rho is None:
            st.info(association.message)
        else:
            tag = "Exploratory. " if association.status == "exploratory" else ""
            st.markdown(
                f"{tag}Spearman rho = **{association.rho:.2f}** (95% CI {association.rho_ci[0]:.2f} to "
                f"{association.rho_ci[1]:.2f}), n = {association.n}. Each 10 points of compliance go with "
                f"{association.slope / 10:+.2f} {label} points of change (OLS). {association.message}"
            )
            st.caption(
                "Published anchors: r = .22 (Kazantzis, Deane & Ronan 2000) and r = .26, 95% CI .19-.33 "
                "(Mausbach et al. 2010)."
            )

    st.header("Dose and response", anchor=False)
    if worked.dose.groups is None:
        st.info(worked.dose.explanation)
    else:
        if worked.dose.explanation:
            st.caption(worked.dose.explanation)
        if worked.dose_figure is not None:
            st.plotly_chart(worked.dose_figure, config=PLOTLY_CONFIG, key=f"{key}_dose")
            st.caption(worked.dose_summary)
        st.dataframe(worked.dose_table, hide_index=True)
        st.download_button(
            "Download this table (CSV)",
            partial(csv_bytes, worked.dose_table),
            file_name="dose-response.csv",
            key=f"{key}_dose_csv",
        )

    st.header("Which comes first: homework or improvement?", anchor=False)
    st.caption(
        "PHQ-9 and weekly homework. Two mixed models on the weekly panel (random intercept per "
        "client), each predictor split into the client's own average and the week's distance from it "
        "(the question of Burns & Spangler 2000)."
    )
    if st.toggle("Run the lagged analysis", key=f"{key}_lagged"):
        with st.spinner("Fitting the two mixed models..."):
            analysis = _lagged(panel, exact_counts=not suppress)
        if analysis.forward is not None or analysis.reverse is not None:
            st.plotly_chart(lagged_figure(analysis), config=PLOTLY_CONFIG, key=f"{key}_lagged_chart")
            st.caption(lagged_summary(analysis))
        st.markdown(analysis.reading)
        for note in analysis.notes:
            st.caption(note)

    with st.expander("Read before drawing conclusions"):
        st.markdown("These are associations in this clinic's records, not causes.")
        for caveat in CAVEATS:
            st.markdown(f"- {caveat}")


TOO_FEW_WITH_REMINDERS = "Too few clients with reminders on to show yet."


def comparison_clients_text(compared, followed, suppress):
    """The number of clients of the before-and-after comparison as shown: exact, except to a
    supervisor (`suppress`) when it lies 1-4 away from the `followed` clients shown above it
    (nearly the same clients: the difference would single out a few), then "5 or more clients"
    (the comparison is shown from 5)."""
    if suppress and reveals_few(abs(followed - compared)):
        return "5 or more clients"
    return f"{compared} client{'' if compared == 1 else 's'}"


def reminding(cur, principal, suppress):
    """The "Does reminding help?" section (issue #16): of the clients with reminders on now, the
    share of reminded days followed by homework within 24 hours, and their compliance in the 4
    complete weeks before and after they turned reminders on (docs/clinical-rules.md, "Reminders").

    `suppress` (supervisors): nothing below 5 clients ("Too few ..."), and the comparison's
    number of clients is printed only where it is not 1-4 away from the first one (the two
    groups are nearly the same clients: the difference would single out a few). Therapists see
    their own numbers whatever n, with n, as the rest of Insights.
    """
    st.header("Does reminding help?", anchor=False)
    st.caption(
        "Clients who have reminders on now, since they turned them on; the date range and filters above "
        f"do not apply. {REMINDER_CAVEAT}"
    )
    follow = cached(cohort.reminder_follow_through, cur, principal)
    compared = cached(cohort.compliance_around_reminders, cur, principal)
    if suppress and follow.clients < SMALL_CELL:
        st.info(TOO_FEW_WITH_REMINDERS)
        return
    if follow.reminded_days == 0:
        st.info("None of your clients with reminders on has had a reminder sent yet (a day ago or more).")
    else:
        st.metric(
            "Reminded days with homework logged within 24 hours",
            f"{follow.followed_days / follow.reminded_days:.0%}",
        )
        st.caption(
            f"{follow.followed_days} of {follow.reminded_days} reminded days (a reminder the mail server took), "
            f"{follow.clients} client{'s' if follow.clients != 1 else ''}; homework logged as done or partly done."
        )
    result = before_after(compared["before"], compared["after"])
    if result.n == 0 or (suppress and result.n < SMALL_CELL):
        st.info(
            "Too few clients with homework in the 4 complete weeks before and the 4 after turning reminders on "
            "to compare yet."
        )
        return
    n_text = comparison_clients_text(result.n, follow.clients, suppress)
    before, after, difference = st.columns(3)
    before.metric("Compliance, 4 weeks before", f"{result.mean_before:.0%}")
    after.metric("Compliance, 4 weeks after", f"{result.mean_after:.0%}")
    points = round(100 * result.mean_difference)
    difference.metric("Mean difference", f"{points:+d} point{'' if abs(points) == 1 else 's'}")
    low, high = result.difference_ci
    interval = (
        f"95% CI {100 * low:+.0f} to {100 * high:+.0f} points (paired t)"
        if pd.notna(low)
        else "no confidence interval from one client"
    )
    st.caption(
        f"Within each client: the 4 complete weeks before the week they turned reminders on against the 4 "
        f"after it, clients with homework set in both; n = {n_text}; {interval}. An association, not a cause."
    )
