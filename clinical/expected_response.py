"""Expected treatment response and the "not on track" rule (issue #17; docs/clinical-rules.md,
"Expected treatment response and not on track").

For PHQ-9 and GAD-7, the expected score at each week of an episode given the intake score, with
a one-sided upper bound (Lutz's "failure boundary"), from a linear mixed model fitted on the
clinic's own ENDED episodes:

    total ~ intake + log(week + 1) + intake:log(week + 1),  random intercept and slope on
    log(week + 1) per episode.

Until the clinic has MIN_ENDED_EPISODES ended episodes (or when a fit fails) the BUILT_IN curves
are used, and the curve says so in its `note`. `not_on_track` judges one episode's latest score
against the band; `judge_episodes` judges every episode on PHQ-9 and GAD-7 at once and combines
them; `backtest` sets the week-4 flag against ended episodes' final outcomes; `disengagement`
reads the client's homework; `off_track_and_disengaging` joins the two.
"""

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from numpy.typing import ArrayLike
from scipy import stats
from statsmodels.stats.proportion import proportion_confint
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from clinical.compliance import RECENT_WEEKS
from clinical.outcomes import ENDED_WITHOUT_FINISHING, GAD7_CASENESS, OUTCOMES, PHQ9_CASENESS

Instrument = Literal["PHQ-9", "GAD-7"]
Source = Literal["clinic", "built-in"]
Status = Literal["no judgement yet", "on track", "not on track"]

# Long format of the scores the curves are fitted on: one row per questionnaire of an ENDED
# episode. `week` is whole weeks since the episode started (the intake is week 0); `intake` is the
# episode's week-0 total of that instrument, repeated on every row.
SCORE_COLUMNS = ("episode_id", "instrument", "week", "total", "intake")

MAX_TOTAL: dict[Instrument, int] = {"PHQ-9": 27, "GAD-7": 21}
CASENESS: dict[Instrument, int] = {"PHQ-9": PHQ9_CASENESS, "GAD-7": GAD7_CASENESS}

# One-sided 90th percentile for a new client: the upper bound is the failure boundary, so about
# one client in ten who follows the clinic's usual course lies above it at any one week.
BAND_PERCENTILE = 0.90
BAND_Z = float(stats.norm.ppf(BAND_PERCENTILE))

# Smallest number of ended episodes (of 20-400 tried) for which a fit's upper bound at week 6
# (intakes 12, 16 and 20) was within 1 point of the truth in at least 90% of simulated fits, in
# every simulation run (docs/clinical-rules.md).
MIN_ENDED_EPISODES = 300

FIRST_JUDGED_WEEK = 3  # earlier scores move too much from week to week to be judged
MAX_GAP_WEEKS = 4  # a longer gap before the latest score breaks the expected course
NO_LOG_DAYS = 7  # no homework logged for this long, while homework is set, is disengaging
EARLIER_WEEKS_NEEDED = 2  # the client's own earlier level needs this many weeks of homework


@dataclass(frozen=True)
class ExpectedResponse:
    """One instrument's expected course: the mixed model's fixed effects (per point of intake
    and per unit of log(week + 1)), its variance components and where they came from."""

    instrument: Instrument
    intercept: float
    intake: float
    log_week: float
    intake_log_week: float
    var_intercept: float  # between-episode variance of the random intercept
    var_slope: float  # between-episode variance of the random slope on log(week + 1)
    cov_intercept_slope: float
    var_residual: float
    n_episodes: int  # the episodes the numbers were fitted on (simulated ones for a built-in curve)
    source: Source
    note: str = ""  # where the numbers came from and, after a fall-back, why

    def band(self, intake: float, weeks: ArrayLike) -> pd.DataFrame:
        """Return a DataFrame[week, expected, lower, upper]; see expected_band."""
        return expected_band(self, intake, weeks)


def expected_band(curve: ExpectedResponse, intake: float, weeks: ArrayLike) -> pd.DataFrame:
    """Return a DataFrame with columns week, expected, lower and upper for a NEW client.

    `expected` is the fixed-effect mean; `lower`/`upper` are it -/+ BAND_Z * the standard
    deviation of a new client's score at that week (random effects plus residual), so `upper` is
    the one-sided BAND_PERCENTILE bound. At week 0 all three are the intake. All three are
    clipped to the instrument's range.
    """
    week = np.asarray(weeks, dtype=float)
    expected, lower, upper = _band_values(curve, np.full(week.shape, intake, dtype=float), week)
    return pd.DataFrame({"week": week.astype(int), "expected": expected, "lower": lower, "upper": upper})


def _band_values(
    curve: ExpectedResponse, intake: np.ndarray, week: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the band's (expected, lower, upper) arrays, element by element for the intakes and
    weeks given (arrays of one shape): the one computation behind expected_band and judge_episodes."""
    x = np.log(week + 1)
    expected = curve.intercept + curve.intake * intake + (curve.log_week + curve.intake_log_week * intake) * x
    variance = curve.var_intercept + 2 * curve.cov_intercept_slope * x + curve.var_slope * x**2 + curve.var_residual
    # Week 0 is the intake itself, known without error: the model is fitted on later weeks only.
    expected = np.where(week == 0, intake, expected)
    spread = np.where(week == 0, 0.0, BAND_Z * np.sqrt(np.maximum(variance, 0.0)))
    top = MAX_TOTAL[curve.instrument]
    return np.clip(expected, 0, top), np.clip(expected - spread, 0, top), np.clip(expected + spread, 0, top)


# Fitted once by fit_expected_response on 3,000 episodes simulated from the demo generator's
# symptom model (ops/demo: latent weekly score drifting at RECOVERY_RATE to a natural endpoint,
# homework push, latent and measurement noise; weekly questionnaires to week 12):
# demo_episodes(np.random.default_rng(17), 3000) in tests/clinical/test_expected_response.py,
# whose test_built_in_curves_come_from_the_demo_model refits 300 of them and checks they agree.
_BUILT_IN_NOTE = "Built-in curve: fitted on episodes simulated from the demo generator's symptom model."
BUILT_IN: dict[Instrument, ExpectedResponse] = {
    "PHQ-9": ExpectedResponse(
        instrument="PHQ-9",
        intercept=0.888,
        intake=1.051,
        log_week=-1.078,
        intake_log_week=-0.132,
        var_intercept=3.527,
        var_slope=6.259,
        cov_intercept_slope=-3.693,
        var_residual=1.057,
        n_episodes=3000,
        source="built-in",
        note=_BUILT_IN_NOTE,
    ),
    "GAD-7": ExpectedResponse(
        instrument="GAD-7",
        intercept=0.707,
        intake=1.030,
        log_week=-0.761,
        intake_log_week=-0.116,
        var_intercept=2.433,
        var_slope=2.276,
        cov_intercept_slope=-1.652,
        var_residual=0.975,
        n_episodes=3000,
        source="built-in",
        note=_BUILT_IN_NOTE,
    ),
}


def fit_expected_response(
    scores: pd.DataFrame, instrument: Instrument, min_episodes: int = MIN_ENDED_EPISODES
) -> ExpectedResponse:
    """Return the instrument's ExpectedResponse fitted on `scores` (SCORE_COLUMNS, ended episodes
    only), or the BUILT_IN curve with a `note` saying why when there are fewer than
    `min_episodes` episodes or the fit fails (an error, a ConvergenceWarning, a singular or
    non-positive random-effects covariance, a non-finite estimate).

    The intake row (week 0) is the predictor, not an outcome, so only later weeks are fitted.
    """
    rows = scores[(scores["instrument"] == instrument) & (scores["week"] > 0)].dropna(subset=["total", "intake"])
    n_episodes = int(rows["episode_id"].nunique())
    if n_episodes < min_episodes:
        return _fallback(
            instrument,
            f"The clinic has {n_episodes} ended episodes with a {instrument} after the intake; "
            f"its own curve needs at least {min_episodes}, so the built-in curve is used.",
        )
    data = pd.DataFrame(
        {
            "total": rows["total"].astype(float),
            "intake": rows["intake"].astype(float),
            "log_week": np.log(rows["week"].astype(float) + 1),
            "episode_id": rows["episode_id"],
        }
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = smf.mixedlm(
                "total ~ intake * log_week", data, groups=data["episode_id"], re_formula="~log_week"
            ).fit(reml=True, method=["lbfgs"])
        except Exception as error:  # any numerical failure must fall back, never crash a page
            return _fallback(instrument, f"The clinic's {instrument} curve could not be fitted ({error}).")
    if any(issubclass(w.category, ConvergenceWarning) for w in caught) or not result.converged:
        return _fallback(instrument, f"The clinic's {instrument} curve did not converge.")
    params = result.fe_params
    cov_re = np.asarray(result.cov_re, dtype=float)
    estimates = [*params.to_numpy(), *cov_re.ravel(), float(result.scale)]
    if not np.isfinite(estimates).all() or np.linalg.eigvalsh(cov_re).min() <= 1e-8:
        return _fallback(
            instrument,
            f"The clinic's {instrument} curve found no usable differences between clients "
            "(a singular random-effects covariance).",
        )
    return ExpectedResponse(
        instrument=instrument,
        intercept=float(params["Intercept"]),
        intake=float(params["intake"]),
        log_week=float(params["log_week"]),
        intake_log_week=float(params["intake:log_week"]),
        var_intercept=float(cov_re[0, 0]),
        var_slope=float(cov_re[1, 1]),
        cov_intercept_slope=float(cov_re[0, 1]),
        var_residual=float(result.scale),
        n_episodes=n_episodes,
        source="clinic",
        note=f"Fitted on the clinic's {n_episodes} ended episodes.",
    )


def _fallback(instrument: Instrument, reason: str) -> ExpectedResponse:
    built_in = BUILT_IN[instrument]
    return replace(built_in, note=f"{reason} {built_in.note}")


@dataclass(frozen=True)
class TrackResult:
    """A judgement of one episode's latest score: status, the reason in words and, when judged,
    the score, its week and the band's expected score and upper bound at that week."""

    status: Status
    reason: str
    week: int | None = None
    score: float | None = None
    expected: float | None = None
    upper: float | None = None


def not_on_track(scores: pd.DataFrame, intake: float, curve: ExpectedResponse) -> TrackResult:
    """Return the TrackResult of one episode's `scores` (columns week, total; one instrument,
    the curve's) for an episode with this `intake` score.

    Only the LATEST score is judged, from week FIRST_JUDGED_WEEK on: "not on track" when it lies
    above the band's upper bound at its week. "no judgement yet", with the reason, when the
    intake is below caseness, there is nothing after the intake, the latest score is before
    week FIRST_JUDGED_WEEK, or it came more than MAX_GAP_WEEKS after the score before it.
    """
    name = curve.instrument
    ordered = scores.dropna(subset=["total"]).sort_values("week")
    later = ordered[ordered["week"] > 0]
    if intake < CASENESS[name]:
        return TrackResult("no judgement yet", _below_caseness(name, intake))
    if later.empty:
        return TrackResult("no judgement yet", _only_intake(name))
    week, score = int(later["week"].iloc[-1]), float(later["total"].iloc[-1])
    if week < FIRST_JUDGED_WEEK:
        return TrackResult("no judgement yet", _too_early(name, week), week, score)
    previous = int(ordered["week"].iloc[-2]) if len(ordered) > 1 else 0
    if week - previous > MAX_GAP_WEEKS:
        return TrackResult("no judgement yet", _after_gap(name, week, previous), week, score)
    band = expected_band(curve, intake, [week]).iloc[0]
    expected, upper = float(band["expected"]), float(band["upper"])
    status: Status = "not on track" if score > upper else "on track"
    return TrackResult(status, _judged(name, score, week, expected, upper, intake), week, score, expected, upper)


# The reasons in words, shared by not_on_track and judge_episodes so that both say the same.


def _no_intake(name: str) -> str:
    return f"No intake {name} in the episode's first week."


def _below_caseness(name: Instrument, intake: float) -> str:
    return (
        f"The intake {name} of {intake:g} is below caseness ({CASENESS[name]}): "
        "there is no expected recovery to judge against."
    )


def _only_intake(name: str) -> str:
    return f"Only the intake {name} so far."


def _too_early(name: str, week: int) -> str:
    return (
        f"The latest {name} is at week {week}; scores are judged from week {FIRST_JUDGED_WEEK}, "
        "because early scores move a lot from week to week."
    )


def _after_gap(name: str, week: int, previous: int) -> str:
    return (
        f"The latest {name} (week {week}) came {week - previous} weeks after the one before: "
        f"after a gap of more than {MAX_GAP_WEEKS} weeks the episode has not followed the "
        "usual weekly course, so its expected score does not apply. Judge the next score."
    )


def _judged(name: str, score: float, week: int, expected: float, upper: float, intake: float) -> str:
    where = "above" if score > upper else "within"
    return (
        f"{name} {score:g} at week {week} is {where} the expected {expected:.0f} "
        f"(upper bound {upper:.1f}) for an intake of {intake:g}"
    )


# judge_episodes' per-instrument columns: phq9_status, phq9_reason, gad7_status, gad7_reason.
INSTRUMENT_COLUMNS: dict[Instrument, str] = {"PHQ-9": "phq9", "GAD-7": "gad7"}


def judge_episodes(
    scores: pd.DataFrame, curves: Mapping[Instrument, ExpectedResponse], up_to_week: int | None = None
) -> pd.DataFrame:
    """Return one row per episode_id in `scores` (SCORE_COLUMNS; `intake` NaN when the episode has
    no week-0 score of that instrument), sorted by episode_id, with columns episode_id, status,
    reason, phq9_status, phq9_reason, gad7_status and gad7_reason.

    Each instrument is judged exactly as not_on_track judges it, against `curves[instrument]`
    (both PHQ-9 and GAD-7 are needed), using only the rows with week <= `up_to_week` when given:
    the flag as it would have been raised at that week. An episode without an intake of an
    instrument gets "no judgement yet" for it, "No intake {name} in the episode's first week."

    The episode's status: "not on track" when ANY instrument is not on track (Delgadillo et al.
    2018 flagged a case off track on the PHQ-9 or the GAD-7), else "on track" when at least one
    instrument was judged on track, else "no judgement yet". Its reason joins, with "; ", the
    reasons of the instruments that decided it: the off-track ones, the on-track ones, or (no
    judgement yet) every instrument's.

    Vectorised over episodes (tests/clinical check it against not_on_track episode by episode).
    Within an instrument an episode is expected to have at most one score per week.
    """
    episode_ids = pd.Index(scores["episode_id"].unique()).sort_values()
    result = pd.DataFrame({"episode_id": episode_ids})
    judged = [_judge_instrument(scores, episode_ids, curves[name], up_to_week) for name in INSTRUMENT_COLUMNS]
    for prefix, (status_list, reason_list) in zip(INSTRUMENT_COLUMNS.values(), judged, strict=True):
        result[f"{prefix}_status"], result[f"{prefix}_reason"] = status_list, reason_list
    statuses: list[str] = []
    reasons: list[str] = []
    for i in range(len(episode_ids)):
        episode = [(status_list[i], reason_list[i]) for status_list, reason_list in judged]
        found = {status for status, _ in episode}
        decided = next((s for s in ("not on track", "on track") if s in found), "no judgement yet")
        statuses.append(decided)
        reasons.append("; ".join(reason.rstrip(".") for status, reason in episode if status == decided) + ".")
    result.insert(1, "status", statuses)
    result.insert(2, "reason", reasons)
    return result[["episode_id", "status", "reason", "phq9_status", "phq9_reason", "gad7_status", "gad7_reason"]]


def _judge_instrument(
    scores: pd.DataFrame, episode_ids: pd.Index, curve: ExpectedResponse, up_to_week: int | None
) -> tuple[list[str], list[str]]:
    """Return the (statuses, reasons) of one instrument for `episode_ids`, in their order: the
    rules of not_on_track, array by array."""
    name = curve.instrument
    rows = scores[scores["instrument"] == name]
    intake = rows.groupby("episode_id")["intake"].first().reindex(episode_ids).to_numpy(dtype=float)
    kept = rows.dropna(subset=["total"])
    if up_to_week is not None:
        kept = kept[kept["week"] <= up_to_week]
    kept = kept.sort_values(["episode_id", "week"], kind="mergesort")
    from_end = kept.groupby("episode_id", sort=False).cumcount(ascending=False).to_numpy()
    last = kept[from_end == 0].set_index("episode_id").reindex(episode_ids)
    before_last = kept[from_end == 1].set_index("episode_id")["week"].reindex(episode_ids)
    raw_week = last["week"].to_numpy(dtype=float)
    score = last["total"].to_numpy(dtype=float)
    week = np.trunc(raw_week)  # int() as not_on_track does
    previous = np.trunc(before_last.to_numpy(dtype=float))
    previous = np.where(np.isnan(previous), 0.0, previous)
    with np.errstate(invalid="ignore"):
        expected, _, upper = _band_values(curve, intake, week)
    statuses, reasons = [], []
    for i in range(len(episode_ids)):
        status, reason = "no judgement yet", ""
        if np.isnan(intake[i]):
            reason = _no_intake(name)
        elif intake[i] < CASENESS[name]:
            reason = _below_caseness(name, float(intake[i]))
        elif np.isnan(raw_week[i]) or raw_week[i] <= 0:
            reason = _only_intake(name)
        elif week[i] < FIRST_JUDGED_WEEK:
            reason = _too_early(name, int(week[i]))
        elif week[i] - previous[i] > MAX_GAP_WEEKS:
            reason = _after_gap(name, int(week[i]), int(previous[i]))
        else:
            status = "not on track" if score[i] > upper[i] else "on track"
            reason = _judged(name, float(score[i]), int(week[i]), float(expected[i]), float(upper[i]), float(intake[i]))
        statuses.append(status)
        reasons.append(reason)
    return statuses, reasons


@dataclass(frozen=True)
class Disengagement:
    """Whether the client's homework is falling off, with the reason in words."""

    disengaging: bool
    reason: str


def disengagement(compliance: pd.DataFrame, last_log_on: date | None, today: date, homework_set: bool) -> Disengagement:
    """Return the client's Disengagement from their weekly homework compliance.

    `compliance` has columns week_start (the Monday of an ISO week of the episode) and
    compliance (0-1, NaN when no homework was set). Disengaging: the RECENT_WEEKS most recent
    complete weeks all have homework and all lie below the client's own earlier level (mean of
    the episode's earlier complete weeks with homework, at least EARLIER_WEEKS_NEEDED of them);
    or, while homework is set, nothing logged for NO_LOG_DAYS days or more (`last_log_on` None:
    never logged).
    """
    if homework_set:
        if last_log_on is None:
            return Disengagement(True, "homework is set and the client has never logged any")
        idle = (today - last_log_on).days
        if idle >= NO_LOG_DAYS:
            return Disengagement(True, f"homework is set and nothing has been logged for {idle} days")
    this_monday = today - timedelta(days=today.weekday())
    weeks = compliance.assign(week_start=pd.to_datetime(compliance["week_start"]).dt.date).sort_values("week_start")
    complete = weeks[weeks["week_start"] < this_monday]
    recent, earlier = complete.tail(RECENT_WEEKS), complete.iloc[:-RECENT_WEEKS]["compliance"].dropna()
    if len(recent) < RECENT_WEEKS or recent["compliance"].isna().any():
        return Disengagement(False, f"fewer than {RECENT_WEEKS} recent complete weeks with homework")
    if len(earlier) < EARLIER_WEEKS_NEEDED:
        return Disengagement(False, f"fewer than {EARLIER_WEEKS_NEEDED} earlier weeks with homework to compare with")
    level = float(earlier.mean())
    if (recent["compliance"] < level).all():
        return Disengagement(
            True,
            f"homework compliance has fallen: last {RECENT_WEEKS} weeks below the client's earlier {level:.0%}",
        )
    return Disengagement(False, f"homework compliance has held up against the client's earlier {level:.0%}")


@dataclass(frozen=True)
class OffTrackAlert:
    """Not on track AND disengaging, with the reason in words."""

    alert: bool
    reason: str


def off_track_and_disengaging(track: TrackResult, engagement: Disengagement) -> OffTrackAlert:
    """Return an OffTrackAlert: raised when the episode is "not on track" and the client is
    disengaging; the reason joins both in words."""
    if track.status != "not on track":
        return OffTrackAlert(False, track.reason)
    return OffTrackAlert(engagement.disengaging, f"{track.reason}; {engagement.reason}.")


# A backtest compares the flag with the final outcomes reliable improvement, reliable
# deterioration and no reliable change (clinical.outcomes.OUTCOMES); "not enough data" and
# ENDED_WITHOUT_FINISHING carry no change to predict and are left out.
CONFIDENCE = 0.95

Interval = tuple[float, float]


@dataclass(frozen=True)
class Backtest:
    """The not-on-track flag as raised at week `at_week`, against the final outcome of ended
    episodes. "Positive" is ending WITHOUT reliable improvement; every rate is a proportion with
    its Wilson 95% interval, NaN with (NaN, NaN) when its denominator is 0."""

    at_week: int
    episodes: int  # ended, judged at at_week and with a known final outcome
    flagged: int  # of them, not on track at at_week
    unflagged: int  # of them, on track at at_week
    true_positive: int  # flagged, ended without reliable improvement
    false_positive: int  # flagged, reliably improved
    false_negative: int  # unflagged, ended without reliable improvement
    true_negative: int  # unflagged, reliably improved
    sensitivity: float  # of those without reliable improvement, the share flagged
    sensitivity_ci: Interval
    specificity: float  # of those who reliably improved, the share not flagged
    specificity_ci: Interval
    improvement_rate_flagged: float  # of the flagged, the share who reliably improved
    improvement_rate_flagged_ci: Interval
    improvement_rate_unflagged: float
    improvement_rate_unflagged_ci: Interval
    left_out: dict[str, int]  # reason -> episodes, in the order the reasons were applied

    def summary(self, with_left_out: bool = True) -> str:
        """Return the backtest in three plain sentences for a supervisor (and, `with_left_out`, a
        fourth on what was left out); a rate without episodes reads "no episodes" instead of a
        number."""
        no_improvement = self.true_positive + self.false_negative
        improved = self.false_positive + self.true_negative
        caught = (
            f"Of the {no_improvement:,} that ended without reliable improvement, the flag caught "
            f"{_percent(self.sensitivity, self.sensitivity_ci)}"
            if no_improvement
            else "There were no episodes that ended without reliable improvement for the flag to catch"
        )
        spared = (
            f"of the {improved:,} that reliably improved, it left "
            f"{_percent(self.specificity, self.specificity_ci)} unflagged"
            if improved
            else "there were no episodes that reliably improved"
        )
        text = (
            f"Of {self.episodes:,} ended episodes judged at week {self.at_week}, {self.flagged:,} were "
            f"flagged not on track. {caught}; {spared}. Reliably improved: "
            f"{_of(self.improvement_rate_flagged, self.improvement_rate_flagged_ci, self.flagged, 'flagged')}, "
            f"against "
            f"{_of(self.improvement_rate_unflagged, self.improvement_rate_unflagged_ci, self.unflagged, 'unflagged')}."
        )
        if with_left_out and self.left_out:
            parts = ", ".join(f"{count:,} {reason}" for reason, count in self.left_out.items())
            text += f" Left out: {parts}."
        return text

    def smallest_group(self) -> int:
        """Return the size of the smallest of the four groups the rates are worked out over
        (flagged, unflagged, ended without reliable improvement, reliably improved): what a
        small-cell rule looks at."""
        return min(
            self.flagged,
            self.unflagged,
            self.true_positive + self.false_negative,
            self.false_positive + self.true_negative,
        )


def _percent(rate: float, ci: Interval) -> str:
    """A proportion in words: "38% (95% CI 31-45%)"."""
    return f"{rate:.0%} (95% CI {100 * ci[0]:.0f}-{100 * ci[1]:.0f}%)"


def _of(rate: float, ci: Interval, total: int, group: str) -> str:
    """A rate of a group in words, "6% (95% CI 5-8%) of the 771 flagged", or "no episodes flagged"."""
    return f"{_percent(rate, ci)} of the {total:,} {group}" if total else f"no episodes {group}"


def _proportion(count: int, total: int) -> tuple[float, Interval]:
    """The proportion count/total and its Wilson 95% interval; NaN and (NaN, NaN) when total is 0."""
    if total == 0:
        return float("nan"), (float("nan"), float("nan"))
    low, high = proportion_confint(count, total, alpha=1 - CONFIDENCE, method="wilson")
    return count / total, (float(low), float(high))


def backtest(
    scores: pd.DataFrame,
    outcomes: pd.DataFrame,
    curves: Mapping[Instrument, ExpectedResponse],
    at_week: int = 4,
) -> Backtest:
    """Return the Backtest of the not-on-track flag on the clinic's own episodes: the flag as
    judge_episodes would have raised it at week `at_week` (scores up to that week only), against
    each episode's final outcome.

    `scores` has SCORE_COLUMNS; `outcomes` has episode_id and outcome (clinical.outcomes.OUTCOMES
    or ENDED_WITHOUT_FINISHING, as classify_outcomes gives) and, optionally, `ended`; one row per
    episode (a repeated episode_id is an error, as is an outcome outside these). Counted:
    episodes with a known final outcome (reliable improvement, reliable deterioration, no
    reliable change) that were judged at `at_week` (on track or not on track). Left out, counted
    in `left_out` under the first reason that applies: "not ended" (when `ended` is given),
    "with no final outcome" (no outcome row, or a missing outcome), "with not enough data",
    "ended without finishing", "with no scores", "not judged at week {at_week}".

    When the curves were fitted on these same ended episodes (fit_expected_response on the
    clinic's own data), the backtest is IN-SAMPLE and flatters the flag a little: the band was
    drawn around the very courses it is tested on.
    """
    unknown = set(outcomes["outcome"].dropna()) - {*OUTCOMES, ENDED_WITHOUT_FINISHING}
    if unknown:
        raise ValueError(
            f"Unknown outcomes: {sorted(unknown)}; expected one of {(*OUTCOMES, ENDED_WITHOUT_FINISHING)}."
        )
    judged = judge_episodes(scores, curves, up_to_week=at_week)[["episode_id", "status"]]
    columns = ["episode_id", "outcome", *(["ended"] if "ended" in outcomes.columns else [])]
    episodes = outcomes[columns].merge(judged, on="episode_id", how="outer", indicator=True, validate="one_to_one")
    remaining = pd.Series(True, index=episodes.index)
    left_out: dict[str, int] = {}
    reasons = [
        ("not ended", ~episodes["ended"].fillna(True).astype(bool) if "ended" in episodes else None),
        ("with no final outcome", episodes["outcome"].isna()),
        ("with not enough data", episodes["outcome"] == "not enough data"),
        (ENDED_WITHOUT_FINISHING, episodes["outcome"] == ENDED_WITHOUT_FINISHING),
        ("with no scores", episodes["_merge"] == "left_only"),
        (f"not judged at week {at_week}", ~episodes["status"].isin(["on track", "not on track"])),
    ]
    for reason, mask in reasons:
        if mask is None:
            continue
        hit = remaining & mask
        if hit.any():
            left_out[reason] = int(hit.sum())
        remaining &= ~hit
    counted = episodes[remaining]
    flagged = (counted["status"] == "not on track").to_numpy()
    improved = (counted["outcome"] == "reliable improvement").to_numpy()
    tp, fp = int((flagged & ~improved).sum()), int((flagged & improved).sum())
    fn, tn = int((~flagged & ~improved).sum()), int((~flagged & improved).sum())
    sensitivity, sensitivity_ci = _proportion(tp, tp + fn)
    specificity, specificity_ci = _proportion(tn, tn + fp)
    rate_flagged, rate_flagged_ci = _proportion(fp, tp + fp)
    rate_unflagged, rate_unflagged_ci = _proportion(tn, fn + tn)
    return Backtest(
        at_week=at_week,
        episodes=len(counted),
        flagged=tp + fp,
        unflagged=fn + tn,
        true_positive=tp,
        false_positive=fp,
        false_negative=fn,
        true_negative=tn,
        sensitivity=sensitivity,
        sensitivity_ci=sensitivity_ci,
        specificity=specificity,
        specificity_ci=specificity_ci,
        improvement_rate_flagged=rate_flagged,
        improvement_rate_flagged_ci=rate_flagged_ci,
        improvement_rate_unflagged=rate_unflagged,
        improvement_rate_unflagged_ci=rate_unflagged_ci,
        left_out=left_out,
    )
