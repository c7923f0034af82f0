"""Expected treatment response and the "not on track" rule (docs/clinical-rules.md, "Expected
treatment response and not on track"): the fit, its band, its fall-back, the rule's edge cases
and its accuracy on simulated clinics, and the disengaging rules."""

import warnings
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest
from statsmodels.tools.sm_exceptions import ConvergenceWarning

import clinical.expected_response as er
from clinical.expected_response import (
    BUILT_IN,
    MIN_ENDED_EPISODES,
    SCORE_COLUMNS,
    Disengagement,
    ExpectedResponse,
    OffTrackAlert,
    TrackResult,
    disengagement,
    expected_band,
    fit_expected_response,
    not_on_track,
    off_track_and_disengaging,
)
from ops.demo.episodes import GAD7_NATURAL_CHANGE, GAD7_START, PHQ9_NATURAL_CHANGE, PHQ9_START
from ops.demo.homework import WEEKLY_COMPLIANCE_SD
from ops.demo.questionnaires import (
    COMPLIANCE_CENTRE,
    GAD7_BETA,
    LATENT_SD,
    MEASUREMENT_SD,
    PHQ9_BETA,
    RECOVERY_RATE,
)

WEEKS = 12
# The rule at week 4 on a simulated clinic with 25% non-responders (test_the_rule_at_week_4_finds_non_responders):
# measured over four seed pairs, sensitivity 0.21-0.23 and specificity 0.91-0.93; thresholds a little below.
SENSITIVITY_AT_LEAST = 0.15
SPECIFICITY_AT_LEAST = 0.88

# --- simulators ---------------------------------------------------------------------------------


def demo_episodes(rng: np.random.Generator, n: int, non_responder_share: float = 0.0) -> pd.DataFrame:
    """Weekly PHQ-9 and GAD-7 (SCORE_COLUMNS plus `non_responder`) of n episodes, weeks 0-WEEKS,
    from the demo generator's symptom model (ops/demo/episodes.py, questionnaires.py): latent
    scores drift at RECOVERY_RATE to a natural endpoint, pushed by homework (propensity plus a
    weekly swing, standing in for the generated logs), with latent and measurement noise.
    Non-responders' endpoints are their starting scores: their scores do not fall."""
    phq_start = np.clip(rng.normal(*PHQ9_START, n), 7, 26)
    non_responder = rng.random(n) < non_responder_share
    phq_end = np.clip(phq_start + np.where(non_responder, 0.0, rng.normal(*PHQ9_NATURAL_CHANGE, n)), 0, 27)
    gad_start = np.clip(GAD7_START + 0.5 * (phq_start - PHQ9_START[0]) + rng.normal(0, 3.0, n), 2, 21)
    gad_shift = np.where(non_responder, 0.0, rng.normal(GAD7_NATURAL_CHANGE, 3.0, n))
    gad_end = np.clip(gad_start + 0.45 * (phq_end - phq_start) + gad_shift, 0, 21)
    propensity = rng.uniform(0.03, 0.97, n)
    phq, gad = phq_start.copy(), gad_start.copy()
    latent = {"PHQ-9": np.empty((n, WEEKS + 1)), "GAD-7": np.empty((n, WEEKS + 1))}
    for week in range(WEEKS + 1):
        latent["PHQ-9"][:, week], latent["GAD-7"][:, week] = phq, gad
        effort = np.clip(propensity + rng.normal(0, WEEKLY_COMPLIANCE_SD, n), 0, 1) - COMPLIANCE_CENTRE
        shared = rng.normal(0, 1, n)
        gad_noise = LATENT_SD * (0.6 * shared + 0.8 * rng.normal(0, 1, n))
        phq = np.clip(phq + RECOVERY_RATE * (phq_end - phq) - PHQ9_BETA * effort + LATENT_SD * shared, 0, 27)
        gad = np.clip(gad + RECOVERY_RATE * (gad_end - gad) - GAD7_BETA * effort + gad_noise, 0, 21)
    frames = []
    for name, top in (("PHQ-9", 24), ("GAD-7", 21)):  # the demo's PHQ-9 item 9 is 0: totals stop at 24
        observed = np.clip(np.rint(latent[name] + rng.normal(0, MEASUREMENT_SD, (n, WEEKS + 1))), 0, top)
        frames.append(
            pd.DataFrame(
                {
                    "episode_id": np.repeat(np.arange(n), WEEKS + 1),
                    "instrument": name,
                    "week": np.tile(np.arange(WEEKS + 1), n),
                    "total": observed.ravel(),
                    "intake": np.repeat(observed[:, 0], WEEKS + 1),
                    "non_responder": np.repeat(non_responder, WEEKS + 1),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


TRUTH = ExpectedResponse(
    instrument="PHQ-9",
    intercept=1.0,
    intake=1.0,
    log_week=-1.0,
    intake_log_week=-0.12,
    var_intercept=4.0,
    var_slope=6.0,
    cov_intercept_slope=-3.5,
    var_residual=1.0,
    n_episodes=0,
    source="built-in",
)


def mixed_model_episodes(rng: np.random.Generator, n: int, truth: ExpectedResponse = TRUTH) -> pd.DataFrame:
    """PHQ-9 scores (SCORE_COLUMNS) at weeks 0-WEEKS of n episodes drawn exactly from the mixed
    model `truth` (unrounded, unclipped), intakes 10-22."""
    intake = rng.integers(10, 23, n).astype(float)
    cov = [[truth.var_intercept, truth.cov_intercept_slope], [truth.cov_intercept_slope, truth.var_slope]]
    effects = rng.multivariate_normal([0, 0], cov, n)
    x = np.log(np.arange(WEEKS + 1) + 1.0)
    mean = (
        truth.intercept
        + truth.intake * intake[:, None]
        + (truth.log_week + truth.intake_log_week * intake[:, None]) * x
    )
    total = mean + effects[:, [0]] + effects[:, [1]] * x + rng.normal(0, np.sqrt(truth.var_residual), mean.shape)
    total[:, 0] = intake
    return pd.DataFrame(
        {
            "episode_id": np.repeat(np.arange(n), WEEKS + 1),
            "instrument": "PHQ-9",
            "week": np.tile(np.arange(WEEKS + 1), n),
            "total": total.ravel(),
            "intake": np.repeat(intake, WEEKS + 1),
        }
    )


def scores(*pairs: tuple[int, float]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["week", "total"])


# --- the fit and its band -----------------------------------------------------------------------


@pytest.mark.slow
def test_the_fit_recovers_a_known_mixed_model_and_its_band_covers_new_clients():
    """300 episodes: expected scores within 0.5 points of the truth at weeks 0-12 for intakes 12
    and 20; the 90% upper bound covers 85-95% of 300 fresh clients' scores (weeks 1-12).
    Measured: largest error 0.43 points, coverage 89.8%."""
    curve = fit_expected_response(mixed_model_episodes(np.random.default_rng(1), 300), "PHQ-9", min_episodes=300)
    assert curve.source == "clinic" and curve.n_episodes == 300
    for intake in (12, 20):
        fitted = expected_band(curve, intake, range(WEEKS + 1))
        truth = expected_band(TRUTH, intake, range(WEEKS + 1))
        assert np.abs(fitted["expected"] - truth["expected"]).max() < 0.5
    fresh = mixed_model_episodes(np.random.default_rng(2), 300)
    fresh = fresh[fresh["week"] > 0]
    bands = pd.concat(
        curve.band(intake, range(1, WEEKS + 1)).assign(intake=intake) for intake in fresh["intake"].unique()
    )
    judged = fresh.merge(bands, on=["intake", "week"], validate="many_to_one")
    assert len(judged) == len(fresh)
    coverage = (judged["total"] <= judged["upper"]).mean()
    assert 0.85 <= coverage <= 0.95


def test_the_band_is_the_fixed_effect_mean_plus_minus_z_standard_deviations():
    band = BUILT_IN["PHQ-9"].band(18, [0, 4])
    curve = BUILT_IN["PHQ-9"]
    x = np.log(5.0)
    mean = curve.intercept + curve.intake * 18 + (curve.log_week + curve.intake_log_week * 18) * x
    sd = np.sqrt(curve.var_intercept + 2 * curve.cov_intercept_slope * x + curve.var_slope * x**2 + curve.var_residual)
    assert list(band.columns) == ["week", "expected", "lower", "upper"]
    assert band["expected"].iloc[1] == pytest.approx(mean)
    assert band["upper"].iloc[1] == pytest.approx(mean + 1.2816 * sd, abs=1e-3)
    assert band["lower"].iloc[1] == pytest.approx(mean - 1.2816 * sd, abs=1e-3)
    assert band.iloc[0][["expected", "lower", "upper"]].tolist() == [18, 18, 18]  # week 0 is the intake


def test_the_band_stays_inside_the_instrument_range():
    band = expected_band(BUILT_IN["GAD-7"], 21, range(30))
    assert band[["expected", "lower", "upper"]].to_numpy().min() >= 0
    assert band[["expected", "lower", "upper"]].to_numpy().max() <= 21


@pytest.mark.slow
def test_built_in_curves_come_from_the_demo_model():
    """Refitted on 300 fresh demo-model episodes (the constants came from 3,000), the expected
    scores and upper bounds agree within 1.25 points at weeks 1-12 for three intakes per
    instrument. Measured: at most 0.64 (PHQ-9) and 0.74 (GAD-7) here, up to 1.04 with seeds 4-5."""
    episodes = demo_episodes(np.random.default_rng(3), 300)
    for instrument, intakes in (("PHQ-9", (10, 16, 22)), ("GAD-7", (8, 12, 16))):
        refit = fit_expected_response(episodes, instrument, min_episodes=300)
        assert refit.source == "clinic"
        for intake in intakes:
            ours, theirs = (
                refit.band(intake, range(1, WEEKS + 1)),
                BUILT_IN[instrument].band(intake, range(1, WEEKS + 1)),
            )
            assert np.abs(ours[["expected", "upper"]] - theirs[["expected", "upper"]]).to_numpy().max() < 1.25


# --- fall-back to the built-in curves -----------------------------------------------------------


def test_too_few_episodes_fall_back_to_the_built_in_curve_with_a_note():
    few = mixed_model_episodes(np.random.default_rng(4), MIN_ENDED_EPISODES - 1)
    curve = fit_expected_response(few, "PHQ-9")
    assert curve.source == "built-in"
    assert curve.intercept == BUILT_IN["PHQ-9"].intercept
    assert f"{MIN_ENDED_EPISODES - 1} ended episodes" in curve.note
    assert f"at least {MIN_ENDED_EPISODES}" in curve.note and "built-in curve" in curve.note


def test_no_scores_of_the_instrument_fall_back():
    curve = fit_expected_response(mixed_model_episodes(np.random.default_rng(4), 100), "GAD-7")
    assert (curve.source, curve.instrument) == ("built-in", "GAD-7")
    assert "0 ended episodes" in curve.note


@pytest.mark.slow
def test_a_convergence_warning_is_a_failed_fit(monkeypatch):
    real = er.smf.mixedlm

    def warning_mixedlm(*args, **kwargs):
        model = real(*args, **kwargs)
        fit = model.fit

        def warned_fit(**options):
            warnings.warn("The MLE may be on the boundary of the parameter space.", ConvergenceWarning, stacklevel=2)
            return fit(**options)

        model.fit = warned_fit
        return model

    monkeypatch.setattr(er.smf, "mixedlm", warning_mixedlm)
    curve = fit_expected_response(mixed_model_episodes(np.random.default_rng(5), 80), "PHQ-9", min_episodes=80)
    assert curve.source == "built-in" and "did not converge" in curve.note


def test_a_fit_that_raises_falls_back(monkeypatch):
    def failing(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(er.smf, "mixedlm", failing)
    curve = fit_expected_response(mixed_model_episodes(np.random.default_rng(5), 80), "PHQ-9", min_episodes=80)
    assert curve.source == "built-in" and "could not be fitted (Singular matrix)" in curve.note


def test_a_singular_design_falls_back():
    """Every intake the same: the intake cannot be told from the intercept."""
    same = mixed_model_episodes(np.random.default_rng(6), 30)
    same["intake"] = 15.0
    curve = fit_expected_response(same, "PHQ-9", min_episodes=30)
    assert curve.source == "built-in" and "could not be fitted (Singular matrix)" in curve.note


@pytest.mark.slow
def test_episodes_that_do_not_differ_fall_back():
    """No random effects at all: statsmodels does not converge on a zero covariance."""
    flat = mixed_model_episodes(
        np.random.default_rng(6), 80, replace(TRUTH, var_intercept=0.0, var_slope=0.0, cov_intercept_slope=0.0)
    )
    curve = fit_expected_response(flat, "PHQ-9", min_episodes=80)
    assert curve.source == "built-in" and curve.note.endswith(BUILT_IN["PHQ-9"].note)


# --- the not-on-track rule: edge cases ----------------------------------------------------------

PHQ = BUILT_IN["PHQ-9"]


@pytest.mark.parametrize(
    ("episode", "intake", "reason"),
    [
        (scores((0, 18)), 18, "Only the intake PHQ-9 so far."),
        (scores(), 18, "Only the intake PHQ-9 so far."),
        (scores((0, 18), (1, 27)), 18, "at week 1; scores are judged from week 3"),
        (scores((0, 18), (1, 17), (2, 27)), 18, "at week 2; scores are judged from week 3"),
        (scores((0, 9), (4, 20)), 9, "below caseness (10): there is no expected recovery"),
        (scores((0, 18), (1, 17), (7, 20)), 18, "came 6 weeks after the one before"),
        (scores((0, 18), (6, 20)), 18, "came 6 weeks after the one before"),
    ],
    ids=["intake only", "nothing", "week 1 far above", "week 2 far above", "below caseness", "gap", "gap after intake"],
)
def test_edge_cases_give_no_judgement_yet(episode, intake, reason):
    result = not_on_track(episode, intake, PHQ)
    assert result.status == "no judgement yet"
    assert reason in result.reason


def test_gad7_caseness_is_8():
    gad = BUILT_IN["GAD-7"]
    assert not_on_track(scores((0, 7), (4, 21)), 7, gad).status == "no judgement yet"
    assert not_on_track(scores((0, 8), (3, 21), (4, 21)), 8, gad).status == "not on track"


def test_a_gap_of_4_weeks_is_still_judged():
    assert not_on_track(scores((0, 18), (1, 17), (5, 27)), 18, PHQ).status == "not on track"


def test_the_latest_score_is_judged_above_or_within_the_upper_bound():
    upper = PHQ.band(18, [5])["upper"].iloc[0]
    above = not_on_track(scores((5, np.ceil(upper + 0.01)), (0, 18), (4, 20)), 18, PHQ)  # any row order
    within = not_on_track(scores((0, 18), (4, 20), (5, np.floor(upper))), 18, PHQ)
    assert above.status == "not on track" and within.status == "on track"
    assert above.week == 5 and above.upper == pytest.approx(upper)
    expected = PHQ.band(18, [5])["expected"].iloc[0]
    assert above.reason == (
        f"PHQ-9 {np.ceil(upper + 0.01):g} at week 5 is above the expected {expected:.0f} "
        f"(upper bound {upper:.1f}) for an intake of 18"
    )
    # An earlier score above the band is not what is judged: only the latest.
    assert not_on_track(scores((0, 18), (3, 27), (4, 10)), 18, PHQ).status == "on track"


@pytest.mark.slow
def test_the_rule_at_week_4_finds_non_responders():
    """A clinic with 25% non-responders (scores that do not fall): curve fitted on its 200 ended
    episodes, the rule applied at week 4 to 400 new clients who are cases at intake. Non-responders
    must also be flagged at least twice as often as the others (a likelihood ratio above 2)."""
    curve = fit_expected_response(demo_episodes(np.random.default_rng(8), 200, 0.25), "PHQ-9", min_episodes=200)
    assert curve.source == "clinic"
    new = demo_episodes(np.random.default_rng(9), 400, 0.25)
    new = new[(new["instrument"] == "PHQ-9") & (new["week"] <= 4) & (new["intake"] >= 10)]
    flagged, truth = [], []
    for _, episode in new.groupby("episode_id"):
        result = not_on_track(episode, episode["intake"].iloc[0], curve)
        flagged.append(result.status == "not on track")
        truth.append(bool(episode["non_responder"].iloc[0]))
    flagged_array, truth_array = np.array(flagged), np.array(truth)
    sensitivity = flagged_array[truth_array].mean()
    specificity = 1 - flagged_array[~truth_array].mean()
    assert sensitivity >= SENSITIVITY_AT_LEAST
    assert specificity >= SPECIFICITY_AT_LEAST
    assert sensitivity > 2 * (1 - specificity)


# --- disengaging ---------------------------------------------------------------------------------

TODAY = date(2026, 11, 25)  # a Wednesday: the week of 23 November is in progress


def weekly(*compliance: float, last_monday: str = "2026-11-16") -> pd.DataFrame:
    starts = pd.date_range(end=last_monday, periods=len(compliance), freq="7D")
    return pd.DataFrame({"week_start": starts.date, "compliance": compliance})


def test_four_recent_weeks_below_the_earlier_level_is_disengaging():
    result = disengagement(weekly(0.8, 0.6, 0.5, 0.4, 0.3, 0.2), date(2026, 11, 24), TODAY, True)
    assert result == Disengagement(True, "homework compliance has fallen: last 4 weeks below the client's earlier 70%")


def test_one_recent_week_at_the_earlier_level_is_not_disengaging():
    assert not disengagement(weekly(0.8, 0.6, 0.5, 0.7, 0.3, 0.2), date(2026, 11, 24), TODAY, True).disengaging


def test_the_week_in_progress_is_not_one_of_the_recent_weeks():
    # The week of 23 November (0.0 so far) is left out: the 4 complete weeks are 0.5, 0.7, 0.7, 0.7.
    series = weekly(0.6, 0.6, 0.5, 0.7, 0.7, 0.7, 0.0, last_monday="2026-11-23")
    assert not disengagement(series, date(2026, 11, 24), TODAY, True).disengaging


def test_the_earlier_level_needs_two_weeks_with_homework():
    result = disengagement(weekly(0.9, np.nan, 0.5, 0.4, 0.3, 0.2), date(2026, 11, 24), TODAY, True)
    assert result == Disengagement(False, "fewer than 2 earlier weeks with homework to compare with")


def test_a_recent_week_without_homework_is_not_judged_below():
    result = disengagement(weekly(0.9, 0.9, 0.5, np.nan, 0.3, 0.2), date(2026, 11, 24), TODAY, True)
    assert result == Disengagement(False, "fewer than 4 recent complete weeks with homework")


def test_no_log_for_7_days_while_homework_is_set_is_disengaging():
    steady = weekly(0.8, 0.8, 0.8, 0.8, 0.8, 0.8)
    assert disengagement(steady, date(2026, 11, 18), TODAY, True) == Disengagement(
        True, "homework is set and nothing has been logged for 7 days"
    )
    assert not disengagement(steady, date(2026, 11, 19), TODAY, True).disengaging
    assert not disengagement(steady, date(2026, 11, 1), TODAY, False).disengaging  # no homework set
    assert disengagement(steady, None, TODAY, True).reason == "homework is set and the client has never logged any"


def test_off_track_and_disengaging_needs_both():
    off = TrackResult(
        "not on track", "PHQ-9 14 at week 5 is above the expected 11 (upper bound 13.0) for an intake of 18"
    )
    falling = Disengagement(True, "homework compliance has fallen: last 4 weeks below the client's earlier 70%")
    held = Disengagement(False, "homework compliance has held up against the client's earlier 70%")
    alert = off_track_and_disengaging(off, falling)
    assert alert.alert
    assert alert.reason == (
        "PHQ-9 14 at week 5 is above the expected 11 (upper bound 13.0) for an intake of 18; "
        "homework compliance has fallen: last 4 weeks below the client's earlier 70%."
    )
    assert not off_track_and_disengaging(off, held).alert
    on = TrackResult("on track", "within")
    assert off_track_and_disengaging(on, falling) == OffTrackAlert(False, "within")


def test_score_columns_are_documented():
    assert SCORE_COLUMNS == ("episode_id", "instrument", "week", "total", "intake")
