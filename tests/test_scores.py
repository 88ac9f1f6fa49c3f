"""Known-answer tests of the backtest scores, null models, bootstrap, reliability and outcomes.

Every expected number is worked out by hand in the comments beside it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from treatysim.analysis.bootstrap import paired_bootstrap, resample_indices
from treatysim.analysis.nulls import (
    base_rate_null,
    exposure,
    exposure_null,
    group_rate_null,
    null_date_ensemble,
    standard_nulls,
    training_rate,
)
from treatysim.analysis.outcomes import (
    dataset_borders,
    observed_outcome,
    simulated_move_days,
)
from treatysim.analysis.reliability import reliability_table
from treatysim.analysis.scoreboard import (
    describe_nulls,
    reliability_tables,
    score_backtest,
    score_events,
)
from treatysim.analysis.scores import (
    MOVED_STAGES,
    brier_score,
    censor_days,
    clip_probabilities,
    crps_dates,
    log_score,
    moved_probability,
    replication_epsilon,
)
from treatysim.analysis.stats import to_day
from treatysim.plots.reliability import reliability_plot
from treatysim.scenario.dataset import load_dataset

ROOT = Path(__file__).resolve().parent.parent
NAN = np.nan

# --------------------------------------------------------------------------------------------
# binary scores


def test_moved_stages_are_every_stage_past_deliberation_but_retraction() -> None:
    assert set(MOVED_STAGES) == {"announced", "approved", "notified", "withdrawn", "suspended"}


def test_brier_score_by_hand() -> None:
    # (0.2 − 0)² = 0.04, (0.9 − 1)² = 0.01, (0.5 − 1)² = 0.25, (1 − 0)² = 1
    got = brier_score([0.2, 0.9, 0.5, 1.0], [0, 1, 1, 0])
    np.testing.assert_allclose(got, [0.04, 0.01, 0.25, 1.0])


def test_log_score_by_hand_with_clipping() -> None:
    # eps = 0.1: p = 0.5, y = 1 → ln 2; p = 0.8, y = 0 → −ln 0.2;
    # p = 0 → 0.1, y = 0 → −ln 0.9; p = 1 → 0.9, y = 0 → −ln 0.1 (the worst possible: −ln eps)
    got = log_score([0.5, 0.8, 0.0, 1.0], [1, 0, 0, 0], eps=0.1)
    want = [math.log(2), -math.log(0.2), -math.log(0.9), -math.log(0.1)]
    np.testing.assert_allclose(got, want)


def test_replication_epsilon_is_half_a_replication() -> None:
    assert replication_epsilon(50) == 0.01
    # a model of 50 runs that gave 0 of 50 to a state that moved: −ln(1/100)
    assert log_score([0.0], [1], eps=replication_epsilon(50))[0] == pytest.approx(math.log(100))
    np.testing.assert_allclose(clip_probabilities([0, 0.5, 1], 0.01), [0.01, 0.5, 0.99])


@pytest.mark.parametrize(("p", "y"), [([1.2], [1]), ([-0.1], [0]), ([0.5], [2]), ([0.5], [0.5])])
def test_binary_scores_reject_bad_input(p: list[float], y: list[float]) -> None:
    with pytest.raises(ValueError):
        brier_score(p, y)
    with pytest.raises(ValueError):
        log_score(p, y)


def test_bad_epsilon_and_replications() -> None:
    with pytest.raises(ValueError):
        clip_probabilities([0.5], 0.5)
    with pytest.raises(ValueError):
        replication_epsilon(0)


def test_moved_probability_counts_runs_by_the_horizon() -> None:
    # state 0: days 1 and 2 are by day 5, NaN (never) and 10 are not → 2/4; state 1 never moves
    sim = [[1, 2, NAN, 10], [NAN, NAN, NAN, NAN]]
    np.testing.assert_allclose(moved_probability(sim, 5), [0.5, 0.0])


# --------------------------------------------------------------------------------------------
# CRPS of dates


def test_crps_of_a_two_member_ensemble_by_hand() -> None:
    # members {0, 2}, observed 1: E|X − y| = 1, E|X − X'| = (0 + 2 + 2 + 0)/4 = 1 → 1 − 1/2
    assert crps_dates([[0, 2]], [1], horizon=100)[0] == pytest.approx(0.5)


def test_crps_of_a_point_forecast_is_the_absolute_error() -> None:
    # one member at 3, observed 5: |3 − 5| = 2; a perfect ensemble scores 0
    np.testing.assert_allclose(crps_dates([[3], [1]], [5, 1], horizon=100), [2.0, 0.0])


def test_crps_censoring_at_the_horizon_by_hand() -> None:
    horizon = 10
    # members {4, never, never, 12 > H} → {4, 10, 10, 10}; not observed → 10.
    # ∫_{−∞}^{H} (F − 1{y ≤ x})² dx: F = 1/4 on [4, 10), indicator 0 → 6 · 1/16 = 0.375
    # observed moved on 4 but no run moved: ∫_4^10 (0 − 1)² dx = 6
    # every run moves on 3, not observed: H − 3 = 7; nothing predicted, nothing observed: 0
    # an observed date after the horizon counts as not moved (15 → 10)
    sim = [[4, NAN, NAN, 12], [NAN, NAN, NAN, NAN], [3, 3, 3, 3], [NAN] * 4, [4, NAN, NAN, 12]]
    obs = [NAN, 4, NAN, NAN, 15]
    np.testing.assert_allclose(
        crps_dates(sim, obs, horizon), [0.375, 6.0, 7.0, 0.0, 0.375], atol=1e-12
    )


def test_crps_equals_the_integral_of_the_censored_cdfs() -> None:
    rng = np.random.default_rng(3)
    horizon = 30.0
    sim = np.where(rng.random((6, 9)) < 0.3, NAN, rng.uniform(0, 40, (6, 9)))
    obs = np.array([5.0, NAN, 29.0, 31.0, 12.5, 0.5])
    grid = np.linspace(-1, horizon, 310_001)
    want = []
    for members, y in zip(censor_days(sim, horizon), censor_days(obs, horizon), strict=True):
        cdf = (members[None, :] <= grid[:, None]).mean(axis=1)
        want.append(np.trapezoid((cdf - (y <= grid)) ** 2, grid))
    np.testing.assert_allclose(crps_dates(sim, obs, horizon), want, atol=2e-3)


def test_fair_crps_estimator_is_passed_through() -> None:
    # fair: E|X − X'| over distinct pairs = 4/2 = 2 → 1 − 2/2 = 0
    assert crps_dates([[0, 2]], [1], 100, estimator="fair")[0] == pytest.approx(0.0)


def test_crps_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError):
        crps_dates([[1, 2]], [1, 2], 10)


# --------------------------------------------------------------------------------------------
# null models on a five-state toy: AAA borders RUS; BBB borders RUS's ally BLR; BLR borders
# RUS (listed only on RUS's side: borders are symmetric); CCC borders AAA only; DDD is alone

TOY = ["AAA", "BBB", "BLR", "CCC", "DDD"]
TOY_BORDERS = {"AAA": ["RUS", "CCC"], "BBB": ["BLR"], "RUS": ["BLR"], "DDD": []}
TOY_Y = [1, 1, 0, 0, 0]


def test_exposure_and_exposure_minus_allies_on_the_toy() -> None:
    got = exposure(TOY, TOY_BORDERS, ["RUS"], {"RUS": ["BLR"]})
    assert got.tolist() == [True, True, True, False, False]
    got = exposure(TOY, TOY_BORDERS, ["RUS"], {"RUS": ["BLR"]}, minus_allies=True)
    assert got.tolist() == [True, True, False, False, False]
    # without the alliance BBB is not exposed, and BLR is (it borders RUS)
    assert exposure(TOY, TOY_BORDERS, ["RUS"]).tolist() == [True, False, True, False, False]


def test_exposure_null_probabilities() -> None:
    exposed = exposure(TOY, TOY_BORDERS, ["RUS"], {"RUS": ["BLR"]}, minus_allies=True)
    np.testing.assert_allclose(exposure_null(exposed, 0.9, 0.01), [0.9, 0.9, 0.01, 0.01, 0.01])
    # Brier: 2·(0.1)² + 3·(0.01)² = 0.0203 over 5 states
    brier = brier_score(exposure_null(exposed, 0.9, 0.01), TOY_Y).mean()
    assert brier == pytest.approx(0.0203 / 5)


def test_base_rates() -> None:
    # in-sample: 2 of 5 moved → 0.4 each; Brier (2·0.36 + 3·0.16)/5 = 0.24
    np.testing.assert_allclose(base_rate_null(TOY_Y), [0.4] * 5)
    assert brier_score(base_rate_null(TOY_Y), TOY_Y).mean() == pytest.approx(0.24)
    # training window: 0 of 46 moved → (0 + ½)/(46 + 1); raw share 0 with prior 0
    assert training_rate(0, 46) == pytest.approx(0.5 / 47)
    assert training_rate(0, 46, prior=0) == 0.0
    # a constant daily hazard: 3 of 10 over 2 years → 1 − 0.7^(1/2) over 1 year
    got = training_rate(3, 10, prior=0, train_days=730, test_days=365)
    assert got == pytest.approx(1 - math.sqrt(0.7))
    with pytest.raises(ValueError):
        training_rate(3, 10, train_days=730)


def test_group_rates_are_smoothed_within_groups() -> None:
    # exposed minus allies: AAA, BBB (2 of 2 moved) → 2.5/3; the others (0 of 3) → 0.5/4
    groups = [True, True, False, False, False]
    want = [2.5 / 3, 2.5 / 3, 0.125, 0.125, 0.125]
    np.testing.assert_allclose(group_rate_null(groups, TOY_Y), want)


def test_standard_nulls_say_which_use_the_outcome() -> None:
    nulls = standard_nulls(
        TOY, TOY_Y, TOY_BORDERS, ["RUS"], {"RUS": ["BLR"]}, training=(0, 5), p_hi=0.8, p_lo=0.1
    )
    assert list(nulls) == [
        "base_rate_in_sample", "base_rate_training", "exposure", "exposure_minus_allies",
        "exposure_minus_allies_fitted",
    ]  # fmt: skip
    in_sample = {name for name, null in nulls.items() if null.uses_outcome}
    assert in_sample == {"base_rate_in_sample", "exposure_minus_allies_fitted"}
    np.testing.assert_allclose(nulls["exposure"].p, [0.8, 0.8, 0.8, 0.1, 0.1])
    np.testing.assert_allclose(nulls["base_rate_training"].p, [0.5 / 6] * 5)


def test_null_date_ensemble_holds_quantiles() -> None:
    # members 4: levels 1/8, 3/8, 5/8, 7/8; p = ½ over (0, 10]: 2.5, 7.5, never, never
    got = null_date_ensemble([0.5, 0.0, 1.0], start=0, horizon=10, members=4)
    np.testing.assert_allclose(got[0], [2.5, 7.5, NAN, NAN])
    assert np.isnan(got[1]).all()
    np.testing.assert_allclose(got[2], [1.25, 3.75, 6.25, 8.75])


def test_null_date_ensemble_crps_approaches_the_continuous_value() -> None:
    # uniform on (0, 10], observed 10 (not moved): ∫_0^10 (x/10)² dx = 10/3
    ens = null_date_ensemble([1.0], start=0, horizon=10, members=2000)
    assert crps_dates(ens, [NAN], 10)[0] == pytest.approx(10 / 3, rel=1e-3)


def test_exposure_on_the_bundled_dataset() -> None:
    ds = load_dataset("europe_2025")
    states = ["EST", "NOR", "BLR", "DEU", "POL", "UKR"]
    borders = dataset_borders(ds)
    got = exposure(states, borders, ["RUS"], {"RUS": ["BLR"]}, minus_allies=True)
    assert got.tolist() == [True, True, False, False, True, True]


# --------------------------------------------------------------------------------------------
# paired bootstrap


def test_identical_forecasts_differ_by_exactly_zero() -> None:
    scores = np.random.default_rng(0).random(30)
    out = paired_bootstrap({"model": scores, "null": scores.copy()}, reference="model", n_boot=500)
    diff = out["differences"]["null"]
    assert diff == {"mean": 0.0, "lower": 0.0, "upper": 0.0, "share_reference_better": 0.0}


def test_a_clear_win_has_an_interval_below_zero() -> None:
    rng = np.random.default_rng(1)
    model, null = rng.uniform(0, 0.1, 40), rng.uniform(0.3, 0.6, 40)
    out = paired_bootstrap({"model": model, "null": null}, reference="model", n_boot=2000)
    diff = out["differences"]["null"]
    assert diff["upper"] < 0
    assert diff["lower"] <= diff["mean"] <= diff["upper"]
    assert diff["mean"] == pytest.approx(model.mean() - null.mean())
    assert diff["share_reference_better"] == 1.0


def test_bootstrap_of_two_states_by_hand() -> None:
    # states scored 0 and 1: a resample's mean is 0, ½ or 1 with chance ¼, ½, ¼, so the 2.5%
    # and 97.5% quantiles are 0 and 1; the point estimate is ½
    out = paired_bootstrap({"m": [0.0, 1.0]}, n_boot=4000, seed=5)
    assert out["means"]["m"] == {"mean": 0.5, "lower": 0.0, "upper": 1.0}
    # a single state: every resample is that state
    assert paired_bootstrap({"m": [0.3]}, n_boot=50)["means"]["m"]["lower"] == 0.3


def test_bootstrap_is_seeded_and_paired() -> None:
    assert (resample_indices(5, 10, 7) == resample_indices(5, 10, 7)).all()
    assert not (resample_indices(5, 10, 7) == resample_indices(5, 10, 8)).all()
    rng = np.random.default_rng(2)
    a, b = rng.random(20), rng.random(20)
    one = paired_bootstrap({"a": a, "b": b}, reference="a", n_boot=300, seed=9)
    two = paired_bootstrap({"a": a, "b": b}, reference="a", n_boot=300, seed=9)
    assert one == two
    # paired: the difference's draws are the differences of the same resamples' means
    idx = resample_indices(20, 300, 9)
    draws = a[idx].mean(axis=1) - b[idx].mean(axis=1)
    lo, hi = np.quantile(draws, [0.025, 0.975])
    assert one["differences"]["b"]["lower"] == pytest.approx(lo)
    assert one["differences"]["b"]["upper"] == pytest.approx(hi)


def test_bootstrap_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        paired_bootstrap({"a": [1.0, 2.0], "b": [1.0]})
    with pytest.raises(ValueError):
        paired_bootstrap({"a": [1.0, NAN]})
    with pytest.raises(KeyError):
        paired_bootstrap({"a": [1.0]}, reference="model")


# --------------------------------------------------------------------------------------------
# reliability


def test_reliability_table_by_hand() -> None:
    p, y = [0.05, 0.15, 0.15, 0.95, 1.0], [0, 0, 1, 1, 1]
    table = reliability_table(p, y, n_bins=4)
    # [0, .25): 3 states, mean p 0.35/3, 1 of 3 moved; [.25, .5) and [.5, .75) empty;
    # [.75, 1]: 2 states (1.0 in the last bin), mean p 0.975, both moved
    assert table["n"].tolist() == [3, 0, 0, 2]
    np.testing.assert_allclose(table["mean_predicted"], [0.35 / 3, NAN, NAN, 0.975])
    np.testing.assert_allclose(table["observed_frequency"], [1 / 3, NAN, NAN, 1.0])
    assert table.loc[3, "observed_upper"] == 1.0
    assert 0 < table.loc[0, "observed_lower"] < 1 / 3 < table.loc[0, "observed_upper"]


def test_reliability_quantile_bins_hold_similar_counts() -> None:
    p = np.linspace(0, 1, 20)
    table = reliability_table(p, (p > 0.5).astype(int), n_bins=4, strategy="quantile")
    assert table["n"].tolist() == [5, 5, 5, 5]


def test_reliability_plot_is_written(tmp_path: Path) -> None:
    from matplotlib import image as mpimg

    rng = np.random.default_rng(4)
    p = rng.random(60)
    y = (rng.random(60) < p).astype(int)
    tables = {
        "model": reliability_table(p, y, n_bins=5),
        "exposure": reliability_table(np.where(p > 0.5, 0.9, 0.01), y, n_bins=5),
    }
    paths = reliability_plot(tables, tmp_path / "reliability", title="toy", svg=True)
    assert [q.suffix for q in paths] == [".png", ".svg"]
    pixels = mpimg.imread(paths[0])
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 900
    assert pixels[..., :3].std() > 0.05


# --------------------------------------------------------------------------------------------
# outcomes


def test_observed_outcome_of_the_bundled_2025_table() -> None:
    states = ["EST", "FIN", "NOR", "UKR", "POL"]
    out = observed_outcome(states, "ottawa", "2025-12-31")
    assert out.moved.tolist() == [1, 1, 0, 1, 1]
    assert out.dates == (
        dt.date(2025, 3, 18), dt.date(2025, 4, 1), None, dt.date(2025, 7, 18),
        dt.date(2025, 3, 18),
    )  # fmt: skip
    assert out.days[0] == to_day(dt.date(2025, 3, 18)) and np.isnan(out.days[2])
    # by the end of March only the joint statement of 2025-03-18 counts
    assert observed_outcome(states, "ottawa", "2025-03-31").moved.tolist() == [1, 0, 0, 0, 1]


def test_observed_outcome_flags_states_that_moved_before_the_window() -> None:
    # Lithuania left the CCM in 2024 (announced 2024-07-18)
    out = observed_outcome(["LTU", "LVA"], "ccm", "2025-12-31", since="2025-01-01")
    assert out.moved.tolist() == [0, 0] and out.before.tolist() == [True, False]
    assert observed_outcome(["LTU"], "ccm", "2024-12-31").moved.tolist() == [1]


def test_observed_outcome_ignores_stages_that_are_not_a_move() -> None:
    rows = [
        {"iso3": "AAA", "treaty": "t", "stage": "deliberating", "date": "2025-01-01"},
        {"iso3": "AAA", "treaty": "t", "stage": "retracted", "date": "2025-02-01"},
        {"iso3": "BBB", "treaty": "t", "stage": "notified", "date": "2025-03-01"},
        {"iso3": "BBB", "treaty": "t", "stage": "announced", "date": "2025-02-01"},
        {"iso3": "CCC", "treaty": "other", "stage": "announced", "date": "2025-02-01"},
    ]
    out = observed_outcome(["AAA", "BBB", "CCC"], "t", dt.date(2025, 12, 31), observed=rows)
    assert out.moved.tolist() == [0, 1, 0]
    assert out.dates[1] == dt.date(2025, 2, 1)


def test_simulated_move_days_from_an_events_table() -> None:
    events = pd.DataFrame(
        {
            "run_id": ["r0", "r0", "r0", "r1", "r1", "r1"],
            "iso3": ["AAA", "AAA", "BBB", "AAA", "BBB", "BBB"],
            "treaty": ["t", "t", "t", "t", "t", "other"],
            "stage": ["deliberating", "announced", "retracted", "suspended", "notified",
                      "announced"],
            "date": ["2025-01-01", "2025-01-08", "2025-01-08", "2025-02-01", "2025-03-01",
                     "2025-01-01"],
        }
    )  # fmt: skip
    got = simulated_move_days(events, ["r1", "r0"], ["BBB", "AAA", "CCC"], "t")
    day = {d: to_day(dt.date.fromisoformat(d)) for d in ["2025-01-08", "2025-02-01", "2025-03-01"]}
    want = [[day["2025-03-01"], NAN], [day["2025-02-01"], day["2025-01-08"]], [NAN, NAN]]
    np.testing.assert_array_equal(got, want)


# --------------------------------------------------------------------------------------------
# the scoreboard


def test_score_backtest_on_the_toy() -> None:
    nulls = standard_nulls(TOY, TOY_Y, TOY_BORDERS, ["RUS"], {"RUS": ["BLR"]})
    model = [0.95, 0.6, 0.05, 0.0, 0.0]
    forecasts = {"model": model, "copy": model, **{n: v.p for n, v in nulls.items()}}
    obs_days = [3.0, 8.0, NAN, NAN, NAN]
    sim = [[2, 4, 4, 5], [NAN, 6, 9, 20], [NAN] * 4, [NAN] * 4, [NAN] * 4]
    dates = {"model": sim, "copy": sim, "exposure": null_date_ensemble(nulls["exposure"].p, 0, 10)}
    out = score_backtest(
        TOY, TOY_Y, forecasts, observed_days=obs_days, date_ensembles=dates, horizon=10,
        eps=0.01, descriptions=describe_nulls(nulls), n_boot=200,
    )  # fmt: skip
    summary = json.loads(json.dumps(out.summary))
    assert set(summary["scores"]) == {"brier", "log", "crps_days"}
    brier = summary["scores"]["brier"]
    # model: (0.05² + 0.4² + 0.05²)/5 = 0.165/5
    assert brier["means"]["model"]["mean"] == pytest.approx(0.165 / 5)
    assert brier["differences"]["copy"]["upper"] == 0.0
    assert set(summary["scores"]["crps_days"]["differences"]) == {"copy", "exposure"}
    assert summary["forecasts"]["base_rate_in_sample"]["uses_outcome"] is True
    assert summary["n_observed_moved"] == 2
    assert {"iso3", "observed", "p_model", "brier_model", "log_exposure", "crps_model"} <= set(
        out.table.columns
    )
    # CRPS of AAA by hand: members {2, 4, 4, 5}, observed 3:
    # E|X − y| = (1 + 1 + 1 + 2)/4 = 5/4; E|X − X'| = 2·(2 + 2 + 3 + 0 + 1 + 1)/16 = 18/16
    assert out.table.loc[0, "crps_model"] == pytest.approx(5 / 4 - 9 / 16)


def test_score_backtest_needs_the_reference() -> None:
    with pytest.raises(KeyError):
        score_backtest(TOY, TOY_Y, {"null": [0.5] * 5})
    with pytest.raises(ValueError):
        score_backtest(TOY, TOY_Y, {"model": [0.5] * 5}, date_ensembles={"model": [[1]] * 5})


def test_score_events_on_the_golden_ottawa_run() -> None:
    events = pd.read_csv(ROOT / "tests" / "golden" / "ottawa_2025.events.csv")
    run_ids = list(dict.fromkeys(events["run_id"]))
    ds = load_dataset("europe_2025")
    parties = [s for s, r in ds.states.items() if r.columns["ottawa_party_2025"] == "1"]
    start, until = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
    out = score_events(
        events, run_ids, parties, "ottawa", start=start, until=until,
        borders=dataset_borders(ds), sources=["RUS"], allies={"RUS": ["BLR"]},
        training=(0, len(parties)), train_days=1036, n_boot=300,
    )  # fmt: skip
    summary = json.loads(json.dumps(out.summary))
    assert summary["n_states"] == len(parties) and summary["n_observed_moved"] == 6
    assert summary["log_score_epsilon"] == 1 / (2 * len(run_ids))
    assert summary["excluded_moved_before_start"] == []
    # the model's probabilities are its share of runs that moved by the horizon
    sim = simulated_move_days(events, run_ids, parties, "ottawa")
    np.testing.assert_allclose(out.table["p_model"], moved_probability(sim, to_day(until)))
    for score in ("brier", "log", "crps_days"):
        assert set(summary["scores"][score]["differences"]) == {
            "base_rate_in_sample", "base_rate_training", "exposure", "exposure_minus_allies",
            "exposure_minus_allies_fitted",
        }  # fmt: skip
    tables = reliability_tables(out)
    assert set(tables) == {"model", *summary["scores"]["brier"]["differences"]}
    assert int(tables["model"]["n"].sum()) == len(parties)


def test_score_events_leaves_out_states_that_moved_before_the_window() -> None:
    events = pd.DataFrame(columns=["run_id", "iso3", "treaty", "stage", "date"])
    out = score_events(
        events, ["r0", "r1"], ["LTU", "LVA", "DEU"], "ccm", start=dt.date(2025, 1, 1),
        until=dt.date(2025, 12, 31), borders={"LVA": ["RUS"]}, sources=["RUS"], n_boot=50,
    )  # fmt: skip
    assert out.summary["excluded_moved_before_start"] == ["LTU"]
    assert out.table["iso3"].tolist() == ["LVA", "DEU"]
