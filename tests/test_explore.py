"""Known-answer tests of exploratory modelling (issue 15): scenario discovery, feature scoring,
lever robustness, the ``--where`` parser and the ``--precision`` stopping rule."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from treatysim.analysis.condition import Condition, parse_where
from treatysim.analysis.discovery import cart_rules, choose_step, discover, prim_box
from treatysim.analysis.precision import (
    check_precision,
    half_width,
    precision_path,
    replications_for,
    stopping_size,
)
from treatysim.analysis.robustness import lever_robustness
from treatysim.analysis.scoring import feature_scores
from treatysim.plots.explore import (
    feature_scores_plot,
    precision_plot,
    prim_box_plot,
    prim_tradeoff_plot,
    robustness_plot,
)

# --- a planted box -------------------------------------------------------------------------------

PLANTED = {"x1": (0.2, 0.5), "x2": (0.7, 1.0)}


def planted_table(rows: int = 2000, noise: float = 0.01, seed: int = 7):
    """Uniform points in four factors; of interest inside x1 ∈ [0.2, 0.5] and x2 > 0.7.

    A share ``noise`` of the labels is flipped, so the planted box's coverage and density on these
    labels are a little below 1; they are the truth PRIM's box is compared with.
    """
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.uniform(size=(rows, 4)), columns=["x1", "x2", "x3", "x4"])
    inside = x["x1"].between(*PLANTED["x1"]).to_numpy() & (x["x2"] > PLANTED["x2"][0]).to_numpy()
    y = inside ^ (rng.uniform(size=rows) < noise)
    truth = {
        "coverage": (inside & y).sum() / y.sum(),
        "density": (inside & y).sum() / inside.sum(),
        "mass": inside.mean(),
    }
    return x, y, truth


@pytest.fixture(scope="module")
def planted():
    x, y, truth = planted_table()
    return x, y, truth, prim_box(x, y)


@pytest.mark.slow
def test_prim_recovers_the_planted_box(planted) -> None:
    _, _, truth, result = planted
    box = result["box"]
    assert abs(box["coverage"] - truth["coverage"]) <= 0.05
    assert abs(box["density"] - truth["density"]) <= 0.05
    assert abs(box["mass"] - truth["mass"]) <= 0.05
    limits = {r["factor"]: r for r in box["restrictions"]}
    assert set(limits) == {"x1", "x2"}  # x3 and x4 are left alone
    assert limits["x1"]["min"] == pytest.approx(0.2, abs=0.05)
    assert limits["x1"]["max"] == pytest.approx(0.5, abs=0.05)
    assert limits["x2"]["min"] == pytest.approx(0.7, abs=0.05)
    # x2's upper side was never peeled: no quasi-p for it, and both restrictions are significant
    assert limits["x2"]["quasi_p_max"] is None
    assert all(r["significant"] for r in box["restrictions"])


@pytest.mark.slow
def test_prim_result_is_plain_json_with_a_full_trajectory(planted) -> None:
    _, y, _, result = planted
    assert json.loads(json.dumps(result)) == result
    first = result["trajectory"][0]
    assert first["coverage"] == 1.0 and first["restricted"] == 0 and first["mass"] == 1.0
    assert first["density"] == pytest.approx(y.mean())
    chosen = result["trajectory"][result["chosen_step"]]
    eligible = [s for s in result["trajectory"] if s["coverage"] >= 0.8]
    assert chosen["coverage"] >= 0.8
    assert chosen["density"] >= max(s["density"] for s in eligible) - 0.02


def test_choose_step_takes_the_most_coverage_near_the_highest_density() -> None:
    steps = [
        {"coverage": 1.0, "density": 0.1, "restricted": 0},
        {"coverage": 0.92, "density": 0.95, "restricted": 2},
        {"coverage": 0.9, "density": 0.985, "restricted": 2},
        {"coverage": 0.9, "density": 0.98, "restricted": 1},
        {"coverage": 0.82, "density": 1.0, "restricted": 3},
        {"coverage": 0.7, "density": 1.0, "restricted": 1},  # too little coverage at 0.8
    ]
    # highest density with coverage >= 0.8 is 1.0; within 0.02 of it: steps 2, 3, 4;
    # most coverage: 2 and 3 (0.9); fewer restricted factors: 3
    assert choose_step(steps, 0.8, 0.02) == 3
    assert choose_step(steps, 0.8, 0.0) == 4  # plainly the densest
    assert choose_step(steps, 0.8, 0.06) == 1
    assert choose_step(steps, 1.0, 0.0) == 0


def test_prim_rejects_outcomes_without_cases_of_interest() -> None:
    x = pd.DataFrame({"a": [0.1, 0.2, 0.3]})
    with pytest.raises(ValueError, match="no case of interest"):
        prim_box(x, np.zeros(3, dtype=bool))
    with pytest.raises(ValueError, match="boolean"):
        prim_box(x, np.array([0.0, 1.0, 2.0]))


def test_cart_finds_the_planted_box_as_its_densest_leaf() -> None:
    x, y, truth = planted_table()
    result = cart_rules(x, y, max_depth=3)
    best = result["leaves"][0]
    bounds = {c["factor"]: c for c in best["conditions"]}
    assert set(bounds) == {"x1", "x2"}
    assert bounds["x1"]["min"] == pytest.approx(0.2, abs=0.03)
    assert bounds["x1"]["max"] == pytest.approx(0.5, abs=0.03)
    assert bounds["x2"]["min"] == pytest.approx(0.7, abs=0.03)
    assert bounds["x2"]["max"] is None
    assert abs(best["density"] - truth["density"]) <= 0.05
    assert sum(leaf["n"] for leaf in result["leaves"]) == len(x)
    assert "x2 >" in best["rule"] and "|---" in result["text"]
    assert json.loads(json.dumps(result)) == result


@pytest.mark.slow
def test_discover_handles_categories_integers_and_failed_runs() -> None:
    """Cascades of 8 where kind is "b", x1 < 0.5 and steps >= 3, else 2; ten runs failed."""
    rng = np.random.default_rng(5)
    rows = 1000
    table = pd.DataFrame(
        {
            "x1": rng.uniform(size=rows),
            "kind": rng.choice(["a", "b", "c"], rows),
            "steps": rng.integers(0, 10, rows),
            "x3": rng.uniform(size=rows),
        }
    )
    region = (table["kind"] == "b") & (table["x1"] < 0.5) & (table["steps"] >= 3)
    table["cascade"] = np.where(region, 8.0, 2.0)
    table.loc[:9, "cascade"] = np.nan
    result = discover(
        table, factors=["x1", "kind", "steps", "x3"], outcome="cascade", where=parse_where(">= 7")
    )
    assert result["rows"] == rows - 10 and result["rows_without_outcome"] == 10
    assert result["cases_of_interest"] == int(region.iloc[10:].sum())
    box = result["prim"]["box"]
    assert box["coverage"] == 1.0 and box["density"] == 1.0
    limits = {r["factor"]: r for r in box["restrictions"]}
    assert set(limits) == {"x1", "kind", "steps"}
    assert limits["kind"]["values"] == ["b"] and limits["kind"]["kind"] == "categorical"
    assert 2 <= limits["steps"]["min"] < 3 and limits["x1"]["max"] == pytest.approx(0.5, abs=0.02)
    assert {s["factor"] for s in result["feature_scores"][:3]} == {"x1", "kind", "steps"}
    assert json.loads(json.dumps(result)) == result


# --- feature scoring -----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["extra_trees", "mutual_information"])
def test_feature_scoring_ranks_the_planted_factor_first(method: str) -> None:
    rng = np.random.default_rng(11)
    x = pd.DataFrame(rng.uniform(size=(600, 4)), columns=["a", "b", "influential", "d"])
    x["kind"] = rng.choice(["red", "blue"], size=600)
    outcome = 5 * x["influential"] + 0.5 * x["a"] + rng.normal(0, 0.2, 600)
    scores = feature_scores(x, outcome.to_numpy(), method=method, seed=3, n_trees=100)
    assert scores["factor"].iloc[0] == "influential"
    assert list(scores["rank"]) == [1, 2, 3, 4, 5]
    assert scores["score"].is_monotonic_decreasing
    again = feature_scores(x, outcome.to_numpy(), method=method, seed=3, n_trees=100)
    pd.testing.assert_frame_equal(scores, again)  # seeded


def test_feature_scoring_of_cases_of_interest_ranks_the_box_factors_first() -> None:
    x, y, _ = planted_table(rows=800)
    scores = feature_scores(x, y, seed=0, n_trees=100)
    assert set(scores["factor"].iloc[:2]) == {"x1", "x2"}
    assert scores["score"].sum() == pytest.approx(1.0)


# --- levers against uncertainties ----------------------------------------------------------------


def hand_table() -> pd.DataFrame:
    """Three settings of one lever in four states of the world (u1, u2); lower is better.

    outcome      s1=(0,0) s2=(0,1) s3=(1,0) s4=(1,1)
    lever 0.0        2        4        6        8     (s1 run twice: 1 and 3, mean 2)
    lever 0.5        3        3        3        9
    lever 1.0        1        5        7        4
    best             1        3        3        4
    """
    values = {0.0: [2, 4, 6, 8], 0.5: [3, 3, 3, 9], 1.0: [1, 5, 7, 4]}
    states = [(0, 0), (0, 1), (1, 0), (1, 1)]
    rows = [
        {"reassurance": lever, "u1": u1, "u2": u2, "cascade": outcome}
        for lever, outcomes in values.items()
        for (u1, u2), outcome in zip(states, outcomes, strict=True)
        if not (lever == 0.0 and (u1, u2) == (0, 0))
    ]
    rows += [{"reassurance": 0.0, "u1": 0, "u2": 0, "cascade": c} for c in (1, 3)]
    return pd.DataFrame(rows)


def test_regret_and_satisficing_on_a_hand_computed_table() -> None:
    table = lever_robustness(
        hand_table(),
        levers=["reassurance"],
        uncertainties=["u1", "u2"],
        outcome="cascade",
        satisficing=parse_where("<= 4"),
        percentile=90,
    )
    # regret = outcome − best in the same state:
    #   0.0: 1 1 3 4 → max 4, mean 2.25;  0.5: 2 0 0 5 → max 5, mean 1.75;  1.0: 0 2 4 0 → 4, 1.5
    # satisficing (≤ 4): 0.0: {2, 4} → 0.5;  0.5: {3, 3, 3} → 0.75;  1.0: {1, 4} → 0.5
    # p90 (linear, position 0.9·3 = 2.7 in the sorted four): 6 + 0.7·2 = 7.4; 3 + 0.7·6 = 7.2;
    #   5 + 0.7·2 = 6.4
    expected = pd.DataFrame(
        {
            "reassurance": [0.0, 0.5, 1.0],
            "states": [4, 4, 4],
            "mean": [5.0, 4.5, 4.25],
            "p90": [7.4, 7.2, 6.4],
            "max_regret": [4.0, 5.0, 4.0],
            "mean_regret": [2.25, 1.75, 1.5],
            "satisficing": [0.5, 0.75, 0.5],
            "best_in": [0.0, 0.5, 0.5],
        }
    )
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)


def test_regret_when_larger_is_better_mirrors_lower_is_better() -> None:
    table = hand_table()
    table["negated"] = -table["cascade"]
    mirrored = lever_robustness(
        table,
        levers=["reassurance"],
        uncertainties=["u1", "u2"],
        outcome="negated",
        satisficing=parse_where(">= -4"),
        larger_is_better=True,
    )
    assert list(mirrored["max_regret"]) == [4.0, 5.0, 4.0]
    assert list(mirrored["satisficing"]) == [0.5, 0.75, 0.5]


def test_regret_needs_every_lever_in_every_state() -> None:
    table = hand_table().iloc[:-1]  # lever 0.0 keeps one of its two runs in s1: still crossed
    lever_robustness(
        table,
        levers=["reassurance"],
        uncertainties=["u1", "u2"],
        outcome="cascade",
        satisficing=parse_where("<= 4"),
    )
    gap = hand_table().query("not (reassurance == 1.0 and u1 == 1 and u2 == 1)")
    with pytest.raises(ValueError, match="crossed design"):
        lever_robustness(
            gap,
            levers=["reassurance"],
            uncertainties=["u1", "u2"],
            outcome="cascade",
            satisficing=parse_where("<= 4"),
        )
    with pytest.raises(ValueError, match="both lever and uncertainty"):
        lever_robustness(
            gap,
            levers=["u1"],
            uncertainties=["u1"],
            outcome="cascade",
            satisficing=Condition("<", 1),
        )


# --- --where -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "operator", "value", "expected"),
    [
        (">= 7", ">=", 7.0, [False, True, True]),
        ("> 7", ">", 7.0, [False, False, True]),
        ("<= 7", "<=", 7.0, [True, True, False]),
        ("<7", "<", 7.0, [True, False, False]),
        ("  == 7.0 ", "==", 7.0, [False, True, False]),
        ("!= 7e0", "!=", 7.0, [True, False, True]),
    ],
)
def test_where_accepts_the_six_operators(
    text: str, operator: str, value: float, expected: list[bool]
) -> None:
    condition = parse_where(text)
    assert condition == Condition(operator, value)
    assert condition.holds([6, 7, 8]).tolist() == expected


def test_where_never_counts_a_missing_outcome() -> None:
    assert parse_where("!= 0").holds([np.nan, 1.0]).tolist() == [False, True]
    assert str(parse_where(">=-0.5")) == ">= -0.5"


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "__import__('os').system('true')",
        ">= __import__('os')",
        "7",
        ">=",
        "=> 7",
        "= 7",
        ">== 7",
        "> 7 and < 9",
        "> 7; rm -rf /",
        "> nan",
        "> inf",
        ">= 1e999",
        "in (1, 2)",
        "",
    ],
)
def test_where_rejects_anything_else_with_one_line(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_where(text)
    message = str(caught.value)
    assert "\n" not in message
    assert "--where" in message or "finite" in message


# --- replications that are enough ----------------------------------------------------------------


def test_replications_for_matches_the_wilson_formula() -> None:
    # p = 0.5, H = 0.05: (z/2H)² − z² ≈ 380.3, and the exact crossing is between 380 and 381
    n = replications_for(0.5, 0.05)
    assert n == 381
    assert half_width(0.5 * n, n)[0] <= 0.05 < half_width(0.5 * (n - 1), n - 1)[0]
    assert replications_for(0.5, 0.05, block=50) == 400
    assert replications_for(0.2, 0.05, block=5) % 5 == 0


@pytest.mark.parametrize(("p", "pattern"), [(0.5, [1, 0]), (0.2, [1, 0, 0, 0, 0])])
def test_precision_stops_at_the_predicted_size_on_a_known_bernoulli_case(p, pattern) -> None:
    """An exactly balanced sequence has observed share p at every block boundary."""
    block = len(pattern)
    outcomes = {"exit": np.tile(pattern, 2000).astype(bool)}
    verdict = stopping_size(outcomes, target=0.05, block=block)
    assert verdict.reached and verdict.next_n is None
    assert verdict.n == replications_for(p, 0.05, block=block)


def test_precision_stops_near_the_prediction_on_random_bernoulli_draws() -> None:
    rng = np.random.default_rng(2024)
    predicted = replications_for(0.3, 0.03, block=10)
    stops = [
        stopping_size({"x": rng.uniform(size=4000) < 0.3}, target=0.03, block=10).n
        for _ in range(200)
    ]
    assert abs(np.median(stops) - predicted) <= 0.05 * predicted


def test_precision_waits_for_the_widest_interval_and_respects_the_cap() -> None:
    verdict = check_precision({"rare": 2, "even": 50}, 100, target=0.05, block=100)
    assert verdict.widest == "even" and not verdict.reached and verdict.next_n == 200
    capped = check_precision({"even": 50}, 100, target=0.05, block=100, cap=150)
    assert capped.capped and capped.next_n is None and not capped.reached
    with pytest.raises(ValueError, match="outside"):
        check_precision({"x": 101}, 100, target=0.05, block=10)


def test_precision_path_gives_each_estimate_per_block() -> None:
    path = precision_path({"a": [1, 0, 1, 1], "b": [0, 0, 0, 1]}, block=2)
    assert list(path["n"]) == [2, 4, 2, 4]
    assert list(path["p"]) == [0.5, 0.75, 0.0, 0.25]
    assert (path["lower"] <= path["p"]).all() and (path["p"] <= path["upper"]).all()


# --- figures -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_explore_figures_are_written(planted, tmp_path) -> None:
    x, y, _, result = planted
    robustness = lever_robustness(
        hand_table(),
        levers=["reassurance"],
        uncertainties=["u1", "u2"],
        outcome="cascade",
        satisficing=parse_where("<= 4"),
    )
    rng = np.random.default_rng(0)
    path = precision_path({"exit EE": rng.uniform(size=400) < 0.3}, block=20)
    written = [
        *prim_tradeoff_plot(result, tmp_path / "prim_tradeoff"),
        *prim_box_plot(result, tmp_path / "prim_box", svg=True),
        *feature_scores_plot(feature_scores(x, y, n_trees=50), tmp_path / "scores"),
        *robustness_plot(robustness, ["reassurance"], tmp_path / "robustness"),
        *precision_plot(path, tmp_path / "precision", target=0.05),
    ]
    assert len(written) == 6
    assert all(path.stat().st_size > 5000 for path in written)
