"""Compliance versus outcome analyses (docs/clinical-rules.md, "Compliance versus outcome analyses").

1. The association of each client's compliance with their PHQ-9 change
   (Spearman rho with a 95% CI, OLS line).
2. Dose-response over compliance quartiles.
3. The within-client lagged analysis (Burns & Spangler 2000): does homework come
   before improvement, or improvement before homework?
4. Compliance in the weeks before and after a client turned reminders on (issue #16), within
   each client.
All are associations, never causes; every result carries its n (for supervisors, the
lagged analysis says only whether its n reaches 20: see lagged_models).
"""

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning

MIN_CLIENTS_FOR_STATISTICS = 20
# r = .26 (Mausbach et al. 2010) needs about 114 clients for 80% power at the 5% level.
EXPLORATORY_BELOW = 110
MIN_LAGGED_CLIENTS = 20
MIN_LAGGED_WEEKS = 4
MIN_DOSE_RESPONSE_CLIENTS = 8
MIN_DOSE_RESPONSE_VALUES = 4

CONFIDENCE = 0.95
_Z = stats.norm.ppf(0.5 + CONFIDENCE / 2)

CAVEATS = (
    "Confounding: clients who do more homework may differ in other ways (less severe, "
    "more motivated, a better alliance with their therapist), and those differences could "
    "explain their better outcomes.",
    "Regression to the mean: clients who start with very high scores tend to score lower "
    "later whatever they do, so compare clients with similar starting scores.",
    "Drop-outs: clients who stop coming have no final scores, so the ones analysed are "
    "those who stayed, who may have done more homework and improved more.",
    "Clinic-level patterns say little about any one client: a link across clients does "
    "not mean that more homework will help the client in front of you.",
    "Homework is self-reported, and people tend to over-report what they did, so "
    "compliance is probably lower than it looks.",
)


# ---------------------------------------------------------------------------
# 1. Association of compliance with change
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Association:
    """Compliance against change over the episode, one point per client.

    `status` is "too few clients", "no variation in compliance",
    "no variation in change", "exploratory" or "ok"; the statistics are None
    unless it is "exploratory" or "ok". CIs are (low, high) tuples.
    """

    n: int
    n_dropped: int
    status: str
    message: str
    rho: float | None = None
    rho_ci: tuple[float, float] | None = None
    rho_p: float | None = None
    intercept: float | None = None
    slope: float | None = None
    slope_ci: tuple[float, float] | None = None
    slope_p: float | None = None


def left_out(frame: pd.DataFrame, reasons: Mapping[str, str]) -> dict[str, int]:
    """Return {reason: number of rows} for the rows of `frame` that an analysis leaves out.

    `reasons` maps a column to why a row missing it is left out, e.g. {"change": "with
    fewer than two questionnaire pairs"}; a row missing several columns counts once,
    under the first. Reasons that leave out nobody are omitted.
    """
    counts: dict[str, int]
    counts, counted = {}, pd.Series(False, index=frame.index)
    for column, reason in reasons.items():
        here = frame[column].isna() & ~counted
        counts[reason] = counts.get(reason, 0) + int(here.sum())
        counted |= here
    return {reason: count for reason, count in counts.items() if count}


def compliance_change_association(
    frame: pd.DataFrame, x: str = "compliance", y: str = "change", reasons: Mapping[str, str] | None = None
) -> Association:
    """Return an Association of column `x` with column `y` (rows with a NaN are dropped and counted).

    `reasons` ({x or y: why}, see left_out) words the message's count of the rows
    left out; by default they are "for missing values". Spearman rho and its p come
    from scipy. Its 95% CI is the Fisher z interval with the standard error
    sqrt(1.06 / (n - 3)) that Fieller, Hartley & Pearson (1957) give for Spearman's
    rho (the Pearson 1/(n - 3) would be too narrow). The line is a statsmodels OLS
    fit of y on x.
    """
    data = frame[[x, y]].astype("float64")
    complete = data.dropna()
    n, n_dropped = len(complete), len(data) - len(complete)
    counted = f"{n} clients" + _left_out_text(data, reasons or {x: "for missing values", y: "for missing values"})

    if n < MIN_CLIENTS_FOR_STATISTICS:
        return Association(
            n,
            n_dropped,
            "too few clients",
            f"{counted}: statistics are shown from {MIN_CLIENTS_FOR_STATISTICS} clients.",
        )
    if complete[x].nunique() == 1:
        return Association(
            n,
            n_dropped,
            "no variation in compliance",
            f"{counted}, all with the same compliance: no association can be measured.",
        )
    if complete[y].nunique() == 1:
        return Association(
            n,
            n_dropped,
            "no variation in change",
            f"{counted}, all with the same change: no association can be measured.",
        )

    rho, rho_p = stats.spearmanr(complete[x], complete[y])
    ols = sm.OLS(complete[y], sm.add_constant(complete[x])).fit()
    slope_low, slope_high = ols.conf_int(alpha=1 - CONFIDENCE).loc[x]
    status = "exploratory" if n < EXPLORATORY_BELOW else "ok"
    message = f"{counted}. An association, not a cause."
    if status == "exploratory":
        message += (
            f" Exploratory: fewer than {EXPLORATORY_BELOW} clients, too few to detect "
            "a correlation as small as the published r = .26 reliably."
        )
    return Association(
        n,
        n_dropped,
        status,
        message,
        rho=float(rho),
        rho_ci=spearman_ci(rho, n),
        rho_p=float(rho_p),
        intercept=float(ols.params["const"]),
        slope=float(ols.params[x]),
        slope_ci=(float(slope_low), float(slope_high)),
        slope_p=float(ols.pvalues[x]),
    )


def _left_out_text(frame: pd.DataFrame, reasons: Mapping[str, str]) -> str:
    """E.g. " (3 left out: 2 with no homework set, 1 with one questionnaire pair)", or ""."""
    counts = left_out(frame, reasons)
    if not counts:
        return ""
    return (
        f" ({sum(counts.values())} left out: "
        + ", ".join(f"{count} {reason}" for reason, count in counts.items())
        + ")"
    )


def spearman_ci(rho: float, n: int) -> tuple[float, float]:
    """Return the 95% CI (low, high) of Spearman's rho: Fisher z with SE sqrt(1.06 / (n - 3))."""
    with np.errstate(divide="ignore"):  # rho = +-1 gives z = +-inf and the CI (+-1, +-1)
        z = np.arctanh(rho)
    half_width = _Z * np.sqrt(1.06 / (n - 3))
    return float(np.tanh(z - half_width)), float(np.tanh(z + half_width))


# ---------------------------------------------------------------------------
# 2. Dose-response
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DoseResponse:
    """Change and outcomes per compliance quartile.

    `groups` is None when there are too few clients or compliance values
    (then `explanation` says why); otherwise one row per non-empty quartile
    with the columns `quartile` (1 = lowest compliance), `n`,
    `compliance_min`, `compliance_max`, `mean_change`, `change_ci_low`,
    `change_ci_high`, `improved_n`, `improved_denominator`, `improved_rate`,
    `recovered_n`, `recovery_eligible`, `recovery_rate`. Rates are
    proportions (0-1), NaN when their denominator is 0; a CI is NaN for a
    quartile of one client. `explanation` also says when ties left fewer than
    four quartiles.
    """

    n: int
    n_dropped: int
    groups: pd.DataFrame | None
    explanation: str | None


def compliance_quartiles(compliance: pd.Series) -> pd.Series:
    """Return each client's compliance quartile (1-4) as an int Series with the same index.

    Rule: sort the clients by compliance; a client's quartile is
    1 + floor(4 x (number of clients with LOWER compliance) / n). Clients with
    equal compliance therefore always share a quartile (the one where the
    first of them falls), the result does not depend on row order, and heavy
    ties leave some quartiles empty rather than splitting equal values
    (e.g. 12 of 20 clients at 0 fill quartile 1; quartile 2 is empty).
    """
    lower = compliance.rank(method="min").astype(int) - 1
    return 1 + (4 * lower) // len(compliance)


def dose_response(
    frame: pd.DataFrame,
    x: str = "compliance",
    y: str = "change",
    improved: str = "reliable_improvement",
    recovered: str = "recovery",
) -> DoseResponse:
    """Return a DoseResponse: the clients of `frame` in quartiles of column `x`.

    Rows with no `x` or `y` are dropped and counted. `improved` and `recovered`
    are per-client flags; a NaN flag means "not eligible" and leaves the
    client out of that rate's denominator (recovery is only defined for
    clients who were a case at the start).
    """
    complete = frame.dropna(subset=[x, y])
    n, n_dropped = len(complete), len(frame) - len(complete)
    distinct = complete[x].nunique()
    if n < MIN_DOSE_RESPONSE_CLIENTS or distinct < MIN_DOSE_RESPONSE_VALUES:
        return DoseResponse(
            n,
            n_dropped,
            None,
            (
                f"Quartiles need at least {MIN_DOSE_RESPONSE_CLIENTS} clients and "
                f"{MIN_DOSE_RESPONSE_VALUES} different compliance values; there are {n} clients "
                f"and {distinct} values."
            ),
        )

    quartile = compliance_quartiles(complete[x].astype("float64"))
    groups = pd.DataFrame(
        [_quartile_row(q, members, x, y, improved, recovered) for q, members in complete.groupby(quartile, sort=True)]
    )
    explanation = None
    if len(groups) < 4:
        explanation = (
            f"Only {len(groups)} quartiles hold clients: many clients share the same "
            "compliance, and equal values are never split between quartiles."
        )
    return DoseResponse(n, n_dropped, groups, explanation)


def _quartile_row(
    quartile: int, members: pd.DataFrame, x: str, y: str, improved: str, recovered: str
) -> dict[str, Any]:
    change = members[y].astype("float64")
    ci_low, ci_high = mean_ci(change)
    improved_n, improved_denominator = _flag_counts(members[improved])
    recovered_n, recovery_eligible = _flag_counts(members[recovered])
    return {
        "quartile": int(quartile),
        "n": len(members),
        "compliance_min": float(members[x].min()),
        "compliance_max": float(members[x].max()),
        "mean_change": float(change.mean()),
        "change_ci_low": ci_low,
        "change_ci_high": ci_high,
        "improved_n": improved_n,
        "improved_denominator": improved_denominator,
        "improved_rate": improved_n / improved_denominator if improved_denominator else np.nan,
        "recovered_n": recovered_n,
        "recovery_eligible": recovery_eligible,
        "recovery_rate": recovered_n / recovery_eligible if recovery_eligible else np.nan,
    }


def mean_ci(values: pd.Series) -> tuple[float, float]:
    """Return the 95% t-interval (low, high) of the mean of `values` (scipy.stats.t).

    NaN for fewer than 2 values; (mean, mean) when all values are equal.
    """
    if len(values) < 2:
        return np.nan, np.nan
    mean, sem = float(values.mean()), float(stats.sem(values))
    if sem == 0:
        return mean, mean
    low, high = stats.t.interval(CONFIDENCE, len(values) - 1, loc=mean, scale=sem)
    return float(low), float(high)


def _flag_counts(flag: pd.Series) -> tuple[int, int]:
    """(number True, number not missing) of a flag column where NaN means 'not eligible'."""
    eligible = flag.dropna().astype(bool)
    return int(eligible.sum()), len(eligible)


# ---------------------------------------------------------------------------
# 3. Within-client lagged analysis
# ---------------------------------------------------------------------------

# (outcome, predictors, the predictor whose coefficient is read)
FORWARD_MODEL = (
    "phq9_change_next",
    ("compliance_within", "compliance_mean", "phq9_within", "phq9_mean", "week"),
    "compliance_within",
)
REVERSE_MODEL = ("compliance_next", ("phq9_within", "phq9_mean", "compliance", "week"), "phq9_within")

# Below these sizes an estimate whose CI includes 0 reads as "little change".
# Forward: PHQ-9 points per 10 percentage points of homework (0.1 = 1 point for
# a full week of homework against none, a sixth of a reliable change).
# Reverse: percentage points of homework per PHQ-9 point.
NEGLIGIBLE_FORWARD = 0.1
NEGLIGIBLE_REVERSE = 1.0


def lagged_panel(panel: pd.DataFrame) -> pd.DataFrame:
    """Return the weekly panel with the lagged and the within/between variables.

    `panel` has one row per client and week: `client_id`, `week` (int, from
    the start of the episode), `compliance` (0-1, NaN when nothing was
    expected) and `phq9` (NaN when none was taken). Added columns:
    `phq9_next` and `compliance_next` (week + 1 exactly; NaN when that week is
    missing), `phq9_change_next` (phq9_next - phq9), and for compliance and
    phq9 the client's mean over their observed weeks (`*_mean`, the
    between-client part) and the week's distance from it (`*_within`).
    Sorted by client and week. Raises ValueError on a repeated client-week.
    """
    frame = panel[["client_id", "week", "compliance", "phq9"]].copy()
    if frame.duplicated(["client_id", "week"]).any():
        raise ValueError("The weekly panel must have one row per client and week.")
    frame["week"] = frame["week"].astype(int)
    frame[["compliance", "phq9"]] = frame[["compliance", "phq9"]].astype("float64")

    following = frame.rename(columns={"compliance": "compliance_next", "phq9": "phq9_next"})
    following["week"] -= 1
    frame = frame.merge(following, on=["client_id", "week"], how="left")
    frame["phq9_change_next"] = frame["phq9_next"] - frame["phq9"]
    for measure in ("compliance", "phq9"):
        frame[f"{measure}_mean"] = frame.groupby("client_id")[measure].transform("mean")
        frame[f"{measure}_within"] = frame[measure] - frame[f"{measure}_mean"]
    return frame.sort_values(["client_id", "week"]).reset_index(drop=True)


def eligible_clients(panel: pd.DataFrame) -> pd.Index:
    """Return the ids of clients with at least MIN_LAGGED_WEEKS weeks of both compliance and PHQ-9."""
    both = panel.dropna(subset=["compliance", "phq9"])
    weeks = both.groupby("client_id")["week"].nunique()
    return weeks.index[weeks >= MIN_LAGGED_WEEKS]


@dataclass(frozen=True)
class LaggedEstimate:
    """One model's reading: the coefficient of `term`, its 95% CI and p.

    `supported` is True when the CI lies wholly below 0 (the direction of
    benefit in both models).
    """

    term: str
    coefficient: float
    ci_low: float
    ci_high: float
    p: float
    n_clients: int
    n_observations: int
    supported: bool


@dataclass(frozen=True)
class LaggedAnalysis:
    """Both lagged models side by side.

    `status` is "not enough data", "model failed" or "ok". `forward` is
    the compliance_within coefficient of the forward model (PHQ-9 change over
    the next week), `reverse` the phq9_within coefficient of the reverse model
    (next week's compliance); either is None when its model was not fitted or
    did not converge. `reading` is a plain-language paragraph; `notes` lists
    fitting problems in words.
    """

    status: str
    n_eligible_clients: int
    forward: LaggedEstimate | None
    reverse: LaggedEstimate | None
    converged: bool
    reading: str
    notes: tuple[str, ...] = ()


# Said instead of the counts when they are withheld (exact_counts=False).
COUNTS_WITHHELD = "exact numbers withheld to protect small groups"


def lagged_models(panel: pd.DataFrame, exact_counts: bool = True) -> LaggedAnalysis:
    """Fit the forward and reverse mixed models (random intercept per client) and return a LaggedAnalysis.

    `panel` is a weekly panel as described in lagged_panel. Only clients with
    at least MIN_LAGGED_WEEKS weeks of both measures are used; with fewer than
    MIN_LAGGED_CLIENTS of them no model is fitted. Never raises for a fitting
    problem: it is reported in `notes` and `converged` is False.
    `exact_counts` False (supervisors): the reading says only whether the numbers of
    clients reach MIN_LAGGED_CLIENTS, never the numbers themselves (clients with 4+ weeks
    are another group than those the page counts elsewhere, so an exact number minus a
    shown count could single out fewer than 5 clients: clinical/reporting.py).
    """
    eligible = eligible_clients(panel)
    if len(eligible) < MIN_LAGGED_CLIENTS:
        there_are = (
            f"there are {len(eligible)}"
            if exact_counts
            else f"there are fewer than {MIN_LAGGED_CLIENTS} ({COUNTS_WITHHELD})"
        )
        return LaggedAnalysis(
            "not enough data",
            len(eligible),
            None,
            None,
            False,
            f"Not enough data for the lagged analysis: it needs at least {MIN_LAGGED_CLIENTS} "
            f"clients with {MIN_LAGGED_WEEKS} or more weeks of both homework and PHQ-9 scores, "
            f"and {there_are}.",
        )

    lagged = lagged_panel(panel[panel["client_id"].isin(eligible)])
    forward, forward_notes = _fit_mixed("forward", FORWARD_MODEL, lagged, exact_counts)
    reverse, reverse_notes = _fit_mixed("reverse", REVERSE_MODEL, lagged, exact_counts)
    converged = forward is not None and reverse is not None
    return LaggedAnalysis(
        "ok" if converged else "model failed",
        len(eligible),
        forward,
        reverse,
        converged,
        lagged_reading(forward, reverse, exact_counts),
        tuple(forward_notes + reverse_notes),
    )


def _fit_mixed(
    name: str, model: tuple[str, tuple[str, ...], str], lagged: pd.DataFrame, details: bool = True
) -> tuple[LaggedEstimate | None, list[str]]:
    """Fit one MixedLM on the rows where all its variables exist; return (LaggedEstimate or None, notes).

    `details` False leaves statsmodels' own messages out of the notes (they may quote array
    sizes, i.e. numbers of client-weeks: see lagged_models' `exact_counts`)."""
    outcome, predictors, term = model
    data = lagged.dropna(subset=[outcome, *predictors])
    formula = f"{outcome} ~ {' + '.join(predictors)}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # Powell copes with a client variance of zero (common in the forward model), where
            # the gradient methods statsmodels tries first fail slowly; L-BFGS is the fallback.
            result = smf.mixedlm(formula, data, groups=data["client_id"]).fit(reml=True, method=["powell", "lbfgs"])
        except Exception as error:  # any numerical failure must become a message, not a crash
            return None, [f"The {name} model could not be fitted" + (f" ({error})." if details else ".")]
    notes = list(
        dict.fromkeys(
            _describe_warning(name, str(w.message), details)
            for w in caught
            if issubclass(w.category, ConvergenceWarning) and not str(w.message).startswith("Retrying")
        )
    )
    low, high = result.conf_int(alpha=1 - CONFIDENCE).loc[term]
    coefficient, p = result.params[term], result.pvalues[term]
    if not result.converged or not np.isfinite([coefficient, low, high, p]).all():
        return None, notes + [f"The {name} model did not converge, so its result is not shown."]
    return LaggedEstimate(
        term,
        float(coefficient),
        float(low),
        float(high),
        float(p),
        n_clients=int(data["client_id"].nunique()),
        n_observations=len(data),
        supported=bool(high < 0),
    ), notes


def _describe_warning(name: str, message: str, details: bool = True) -> str:
    # statsmodels warns about the boundary (and the Hessian) when the client variance is zero:
    # harmless for the coefficients we read, but worth saying in words.
    if "boundary" in message or "Hessian" in message:
        return (
            f"The {name} model found no differences between clients beyond what it already "
            "explains (client variance estimated at zero)."
        )
    return f"The {name} model reported: {message}" if details else f"The {name} model reported a fitting problem."


def lagged_reading(forward: LaggedEstimate | None, reverse: LaggedEstimate | None, exact_counts: bool = True) -> str:
    """Return the plain-language paragraph for two LaggedEstimates (either may be None).

    Each estimate reads as supported (CI wholly on the side of benefit), the
    opposite (CI wholly on the side of harm), little change (CI within the
    NEGLIGIBLE_* band) or unclear (CI wide); then a verdict on the direction,
    the association and short-panel caveat, and the numbers of clients and
    client-weeks: exactly, or with `exact_counts` False only "20 or more clients"
    or "fewer than 20 clients" (MIN_LAGGED_CLIENTS), a threshold that no difference
    of two readings can narrow down to fewer than 5 clients.
    """
    parts = [
        _forward_sentence(forward)
        if forward
        else "The model of homework followed by PHQ-9 change could not be fitted reliably.",
        _reverse_sentence(reverse)
        if reverse
        else "The model of PHQ-9 followed by homework could not be fitted reliably.",
    ]
    if forward and reverse:
        parts.append(_verdict(forward.supported, reverse.supported))
    parts.append(
        "These are associations within clients over time, not proof that one causes the "
        "other: something else that changes from week to week (a life event, a change in "
        "medication) could move both. Weekly panels are short, so lagged estimates like "
        "these carry some bias (Nickell bias): read the sizes as approximate."
    )
    for estimate, label in ((forward, "homework then PHQ-9"), (reverse, "PHQ-9 then homework")):
        if estimate and exact_counts:
            parts.append(f"Model {label}: {estimate.n_clients} clients, {estimate.n_observations} client-weeks.")
        elif estimate:
            n = (
                f"{MIN_LAGGED_CLIENTS} or more"
                if estimate.n_clients >= MIN_LAGGED_CLIENTS
                else f"fewer than {MIN_LAGGED_CLIENTS}"
            )
            parts.append(f"Model {label}: n = {n} clients ({COUNTS_WITHHELD}).")
    return " ".join(parts)


def _forward_sentence(estimate: LaggedEstimate) -> str:
    # Per 10 percentage points of homework; negative = PHQ-9 fell (better).
    size, low, high = (v / 10 for v in (estimate.coefficient, estimate.ci_low, estimate.ci_high))
    interval = f"95% CI {low:+.2f} to {high:+.2f}"
    lead = "In weeks when clients did more homework than their own average, their PHQ-9"
    if high < 0:
        small = ", a small difference" if -size < NEGLIGIBLE_FORWARD else ""
        return (
            f"{lead} fell more over the following week: by about {-size:.2f} points more "
            f"for every 10 percentage points of extra homework (95% CI {-high:.2f} to "
            f"{-low:.2f}{small})."
        )
    if low > 0:
        return (
            f"{lead} fell less (or rose more) over the following week: by about {size:.2f} "
            f"points for every 10 percentage points of extra homework (95% CI {low:.2f} to "
            f"{high:.2f}), the opposite of a benefit."
        )
    if -NEGLIGIBLE_FORWARD < low and high < NEGLIGIBLE_FORWARD:
        return (
            f"Weeks with more homework than a client's own average were followed by little "
            f"change in PHQ-9 ({size:+.2f} points per 10 percentage points, {interval}; "
            "minus means a fall)."
        )
    return (
        f"Weeks with more homework than a client's own average were not followed by a clear "
        f"change in PHQ-9: {size:+.2f} points per 10 percentage points (minus means a fall), "
        f"but the interval ({interval}) is wide enough to include both a benefit and none."
    )


def _reverse_sentence(estimate: LaggedEstimate) -> str:
    # Percentage points of next week's homework per PHQ-9 point BELOW (better than) the client's average.
    size = -100 * estimate.coefficient
    low, high = -100 * estimate.ci_high, -100 * estimate.ci_low
    interval = f"95% CI {low:+.1f} to {high:+.1f}"
    lead = "In weeks when clients' PHQ-9 was lower (better) than their own average, they did"
    if low > 0:
        small = ", a small difference" if size < NEGLIGIBLE_REVERSE else ""
        return (
            f"{lead} more homework the following week: about {size:.1f} percentage points "
            f"more per PHQ-9 point (95% CI {low:.1f} to {high:.1f}{small})."
        )
    if high < 0:
        return (
            f"{lead} less homework the following week: about {-size:.1f} percentage points "
            f"less per PHQ-9 point (95% CI {-high:.1f} to {-low:.1f}), the opposite of "
            "improvement leading to more homework."
        )
    if -NEGLIGIBLE_REVERSE < low and high < NEGLIGIBLE_REVERSE:
        return (
            f"Changes in PHQ-9 were followed by little change in homework ({size:+.1f} "
            f"percentage points per PHQ-9 point lower, {interval})."
        )
    return (
        f"It is not clear whether changes in PHQ-9 were followed by changes in homework: "
        f"{size:+.1f} percentage points per PHQ-9 point lower, but the interval ({interval}) "
        "is wide enough to include both an effect and none."
    )


def _verdict(homework_first: bool, improvement_first: bool) -> str:
    if homework_first and improvement_first:
        return "Both directions are seen: more homework was followed by improvement, and improvement by more homework."
    if homework_first:
        return (
            "So the data fit homework coming before improvement, not improvement coming "
            "before homework (the pattern Burns & Spangler 2000 reported)."
        )
    if improvement_first:
        return (
            "So the data fit improvement coming before more homework, rather than homework coming before improvement."
        )
    return "Neither direction is supported by these data."


# ---------------------------------------------------------------------------
# 4. Compliance before and after reminders were turned on
# ---------------------------------------------------------------------------

REMINDER_CAVEAT = (
    "An association, not a cause: clients choose to turn reminders on, often when they mean to do "
    "more homework anyway, and other things change too (the homework set, the stage of therapy)."
)


@dataclass(frozen=True)
class BeforeAfter:
    """Within-client compliance before and after reminders were turned on: n clients, the means
    of each window, and the mean of the per-client differences (after minus before) with its 95%
    paired t interval (NaN with fewer than 2 clients)."""

    n: int
    mean_before: float
    mean_after: float
    mean_difference: float
    difference_ci: tuple[float, float]


def before_after(before: pd.Series, after: pd.Series) -> BeforeAfter:
    """Return the paired comparison of `after` with `before` (one value of each per client, 0-1).

    The interval is the one-sample t interval of the per-client differences (a paired t
    interval): each client is compared with themself.
    """
    differences = pd.Series(np.asarray(after, dtype=float) - np.asarray(before, dtype=float))
    return BeforeAfter(
        n=len(differences),
        mean_before=float(np.mean(before)) if len(differences) else np.nan,
        mean_after=float(np.mean(after)) if len(differences) else np.nan,
        mean_difference=float(differences.mean()) if len(differences) else np.nan,
        difference_ci=mean_ci(differences),
    )
