"""Statistics: interval formulas and coverage, and a hand-made run whose figures are known."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from treatysim.analysis import intervals, stats
from treatysim.analysis.run_summary import Layout, summarize
from treatysim.report.run_report import render_markdown

Z95 = 1.959963984540054  # norm.ppf(0.975), written out so the test does not share the code path


def wilson_by_hand(k: float, n: int, z: float = Z95) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


# --------------------------------------------------------------------------------------------
# intervals


def test_wilson_matches_formula_and_published_values() -> None:
    # Newcombe (1998), Table I: 81/263 -> 0.2553 to 0.3662; 15/148 -> 0.0624 to 0.1605.
    assert wilson_interval_rounded(81, 263) == (0.2553, 0.3662)
    assert wilson_interval_rounded(15, 148) == (0.0624, 0.1605)
    for k, n in [(0, 10), (3, 4), (10, 10), (7, 29), (1.5, 3)]:
        assert intervals.wilson_interval(k, n) == pytest.approx(wilson_by_hand(k, n), abs=1e-12)
    assert intervals.wilson_interval(0, 10)[0] == 0.0
    assert intervals.wilson_interval(10, 10)[1] == 1.0
    lo, hi = intervals.wilson_interval(0, 0)
    assert math.isnan(lo) and math.isnan(hi)
    lo_arr, hi_arr = intervals.wilson_interval(np.array([0, 2, 4]), 4)
    assert lo_arr.shape == (3,) and np.all(lo_arr <= hi_arr)
    assert intervals.wilson_interval(3, 4, 0.5)[1] < intervals.wilson_interval(3, 4, 0.99)[1]


def wilson_interval_rounded(k: int, n: int) -> tuple[float, float]:
    lo, hi = intervals.wilson_interval(k, n)
    return round(lo, 4), round(hi, 4)


#: (n, p) where Wilson's exact coverage is within 0.014 of 0.95 (it oscillates with n and p).
COVERAGE_CASES = [(20, 0.5), (30, 0.2), (60, 0.5), (100, 0.3), (400, 0.05), (1000, 0.5)]


def test_wilson_coverage_on_simulated_binomial_data() -> None:
    rng = np.random.default_rng(20250318)
    draws = 20_000  # standard error of a coverage near 0.95: 0.0015
    empirical = []
    for n, p in COVERAGE_CASES:
        k = rng.binomial(n, p, size=draws)
        lo, hi = intervals.wilson_interval(k, n)
        cover = float(np.mean((lo <= p) & (p <= hi)))
        support = np.arange(n + 1)
        lo_all, hi_all = intervals.wilson_interval(support, n)
        exact = float(sps.binom.pmf(support, n, p)[(lo_all <= p) & (p <= hi_all)].sum())
        se = math.sqrt(exact * (1 - exact) / draws)
        assert abs(cover - exact) < 5 * se, (n, p, cover, exact)
        assert abs(cover - 0.95) < 0.025, (n, p, cover)
        empirical.append(cover)
    assert abs(np.mean(empirical) - 0.95) < 0.01
    # the confidence argument is used: an 80% interval covers about 80% of the time
    k = rng.binomial(1000, 0.5, size=draws)
    lo, hi = intervals.wilson_interval(k, 1000, confidence=0.80)
    assert abs(np.mean((lo <= 0.5) & (hi >= 0.5)) - 0.80) < 0.02


def test_coverage_check_is_able_to_fail() -> None:
    """The tolerance above rejects a poor interval: Wald's at n=200, p=0.02 covers ~0.88."""
    rng = np.random.default_rng(7)
    n, p = 200, 0.02
    k = rng.binomial(n, p, size=20_000)
    phat = k / n
    half = Z95 * np.sqrt(phat * (1 - phat) / n)
    wald = float(np.mean((phat - half <= p) & (p <= phat + half)))
    assert abs(wald - 0.95) > 0.025


def test_newcombe_welch_and_mean_intervals() -> None:
    # Newcombe (1998), Table II example (a): 56/70 - 48/80 = 0.2000, method 10: 0.0524 to 0.3339
    d = intervals.newcombe_difference(48, 80, 56, 70)
    assert d["diff"] == pytest.approx(0.2)
    assert (round(d["lo"], 4), round(d["hi"], 4)) == (0.0524, 0.3339)
    a, b = [1.0, 2, 3, 4, 2], [2.0, 5, 7, 9, 3, 4]
    w = intervals.welch_difference(a, b)
    ci = sps.ttest_ind(b, a, equal_var=False).confidence_interval()
    assert w["diff"] == pytest.approx(np.mean(b) - np.mean(a))
    assert (w["lo"], w["hi"]) == pytest.approx((ci.low, ci.high))
    m = intervals.mean_interval([1.0, 1, 2, 2])
    half = sps.t.ppf(0.975, 3) * np.std([1, 1, 2, 2], ddof=1) / 2
    assert (m["mean"], m["lo"], m["hi"]) == pytest.approx((1.5, 1.5 - half, 1.5 + half))
    assert intervals.mean_interval([0.0, 0, 0, 1])["lo"] == 0.0  # clipped: counts are non-negative
    assert intervals.mean_interval([5.0])["lo"] is None
    assert intervals.mean_interval([2.0, 2, 2])["lo"] == 2.0


# --------------------------------------------------------------------------------------------
# a hand-made run: 4 ok runs (r0..r3), 1 failed (r4), states AAA, BBB, CCC (parties), DDD (not)

D = dt.date
DATES = (D(2025, 1, 1), D(2025, 2, 1), D(2025, 3, 1), D(2025, 4, 1), D(2025, 5, 1), D(2025, 6, 1))
EVENTS = [
    ("r0", "AAA", "deliberating", D(2025, 2, 1)),
    ("r0", "AAA", "announced", D(2025, 2, 1)),
    ("r0", "AAA", "notified", D(2025, 3, 1)),
    ("r0", "AAA", "withdrawn", D(2025, 5, 1)),
    ("r0", "BBB", "announced", D(2025, 3, 1)),
    ("r1", "AAA", "announced", D(2025, 3, 1)),
    ("r1", "BBB", "announced", D(2025, 3, 1)),
    ("r1", "BBB", "retracted", D(2025, 4, 1)),
    ("r2", "CCC", "suspended", D(2025, 2, 1)),
    ("r3", "AAA", "announced", D(2025, 3, 1)),
    ("r3", "AAA", "notified", D(2025, 4, 1)),
    ("r3", "AAA", "withdrawn", D(2025, 6, 1)),
    ("r4", "AAA", "announced", D(2025, 2, 1)),  # a failed run: must be ignored
]
OBSERVED = (
    {"iso3": "AAA", "treaty": "t", "stage": "announced", "date": "2025-02-20", "source": ""},
    {"iso3": "CCC", "treaty": "t", "stage": "suspended", "date": "2025-03-10", "source": ""},
    {"iso3": "ZZZ", "treaty": "t", "stage": "announced", "date": "2025-01-10", "source": ""},
)


@pytest.fixture
def hand() -> tuple[pd.DataFrame, pd.DataFrame, Layout]:
    runs = pd.DataFrame(
        {
            "run_id": ["r0", "r1", "r2", "r3", "r4"],
            "replication": [0, 1, 2, 3, 4],
            "status": ["ok", "ok", "ok", "ok", "failed"],
        }
    )
    events = pd.DataFrame(
        [
            {"run_id": r, "replication": int(r[1]), "iso3": s, "treaty": "t", "stage": g,
             "date": d, "step": DATES.index(d) if d in DATES else 0}
            for r, s, g, d in EVENTS
        ]
    )  # fmt: skip
    layout = Layout(
        name="hand",
        ids=("AAA", "BBB", "CCC", "DDD"),
        names=("A", "B", "C", "D"),
        treaties=("t",),
        party=np.array([[True], [True], [True], [False]]),
        dates=DATES,
        primary="t",
        report_dates=(D(2025, 3, 1),),
        observed=OBSERVED,
    )
    return runs, events, layout


def test_hand_made_stage_probabilities_and_dates(hand) -> None:
    runs, events, layout = hand
    s = summarize(runs, events, layout)
    assert s["runs"] == {"total": 5, "ok": 4, "failed": 1}
    st = s["treaties"]["t"]["states"]
    a = st["AAA"]["stages"]
    # AAA announced in r0 (Feb 1), r1 and r3 (Mar 1): 3 of 4
    assert a["announced"]["end"]["p"] == 0.75
    assert (a["announced"]["end"]["lo"], a["announced"]["end"]["hi"]) == pytest.approx(
        wilson_by_hand(3, 4)
    )
    assert a["announced"]["by_date"]["2025-03-01"]["k"] == 3
    # median of Feb 1, Mar 1, Mar 1 is Mar 1; the 25% quantile is halfway from Feb 1 to Mar 1
    assert (a["announced"]["median"], a["announced"]["q25"], a["announced"]["q75"]) == (
        "2025-03-01", "2025-02-15", "2025-03-01",
    )  # fmt: skip
    # withdrawn in r0 (May 1) and r3 (Jun 1): median May 1 + 15.5 days, rounded half up: May 17
    assert a["withdrawn"]["end"]["p"] == 0.5
    assert a["withdrawn"]["median"] == "2025-05-17"
    assert a["withdrawn"]["by_date"]["2025-03-01"]["p"] == 0.0
    assert a["deliberating"]["end"]["p"] == 0.25
    assert a["suspended"]["end"]["p"] == 0.0 and a["suspended"]["median"] is None
    assert st["BBB"]["stages"]["announced"]["end"]["p"] == 0.5
    assert st["BBB"]["stages"]["retracted"]["end"]["p"] == 0.25
    assert st["CCC"]["stages"]["suspended"]["end"]["p"] == 0.25
    assert st["DDD"]["party"] is False
    assert st["DDD"]["stages"]["announced"]["end"]["p"] == 0.0


def test_hand_made_cascade_exit_and_order(hand) -> None:
    runs, events, layout = hand
    t = summarize(runs, events, layout)["treaties"]["t"]
    # cascade (announced or suspended): r0 {AAA,BBB}=2, r1 {AAA,BBB}=2, r2 {CCC}=1, r3 {AAA}=1
    size = t["cascade_size"]
    assert size["distribution"] == {"0": 0, "1": 2, "2": 2}
    half = sps.t.ppf(0.975, 3) * math.sqrt(1 / 3) / 2
    assert (size["mean"]["mean"], size["mean"]["lo"], size["mean"]["hi"]) == pytest.approx(
        (1.5, 1.5 - half, 1.5 + half)
    )
    assert [(r["size"], r["p"]) for r in size["p_at_least"]] == [(1, 1.0), (2, 0.5)]
    assert (size["p_at_least"][1]["lo"], size["p_at_least"][1]["hi"]) == pytest.approx(
        wilson_by_hand(2, 4)
    )
    means = t["means"]
    assert means["n_withdrawn"]["mean"] == 0.5  # AAA's final stage in r0 and r3
    assert means["n_retracted"]["mean"] == 0.25
    assert means["n_suspended"]["mean"] == 0.25
    # first exits: r0 May 1 = day 120, r3 Jun 1 = day 151 after Jan 1
    fe = t["first_exit"]
    assert (fe["median_days"], fe["q25_days"], fe["q75_days"]) == (135.5, 127.75, 143.25)
    assert fe["n_with_exit"] == 2 and fe["no_exit"]["p"] == 0.5
    # order: runs with AAA or BBB announcing: r0 (AAA first), r1 (same day: 1/2), r3 (only AAA)
    order = t["order"]
    assert order["states"] == ["AAA", "BBB"]
    assert order["p"][0][1] == pytest.approx(2.5 / 3)
    assert order["p"][1][0] == pytest.approx(0.5 / 3)
    assert order["n"][0][1] == 3
    assert (order["lo"][0][1], order["hi"][0][1]) == pytest.approx(wilson_by_hand(2.5, 3))


def test_hand_made_curves_occupancy_and_observed(hand) -> None:
    runs, events, layout = hand
    s = summarize(runs, events, layout)
    curves = s["treaties"]["t"]["curves"]
    # announced by each step date: r0 0,1,2,2,2,2  r1 0,0,2,2,2,2  r2 0s  r3 0,0,1,1,1,1
    # quantiles are counts some run had (inverse empirical CDF): of 0, 1, 2, 2 the median is 1
    # (the smallest count reached or passed by half the runs), not the interpolated 1.5
    assert curves["announced"]["q50"] == [0, 0, 1, 1, 1, 1]
    assert curves["announced"]["q95"] == [0, 1, 2, 2, 2, 2]
    assert curves["announced"]["mean"] == pytest.approx([0, 0.25, 1.25, 1.25, 1.25, 1.25])
    assert curves["withdrawn"]["q50"] == [0, 0, 0, 0, 0, 0]
    assert curves["notified"]["q95"][3] == pytest.approx(1.0)
    # P(stage) of AAA at each step date (stage = last event on or before the date)
    steps = stats.day_array(DATES)
    occ = stats.occupancy(events, ["r0", "r1", "r2", "r3"], "AAA", "t", True, steps)
    row = {g: occ[i] for i, g in enumerate(stats.OCCUPANCY_STAGES)}
    assert row["party"].tolist() == [1, 0.75, 0.25, 0.25, 0.25, 0.25]
    assert row["announced"].tolist() == [0, 0.25, 0.5, 0.25, 0.25, 0.25]
    assert row["notified"].tolist() == [0, 0, 0.25, 0.5, 0.25, 0.0]
    assert row["withdrawn"].tolist() == [0, 0, 0, 0, 0.25, 0.5]
    assert np.allclose(occ.sum(axis=0), 1.0)
    ddd = stats.occupancy(events, ["r0", "r1"], "DDD", "t", False, steps)
    assert ddd[stats.OCCUPANCY_STAGES.index("not_party")].tolist() == [1.0] * 6
    # several states in one pass: each its own occupancy (AAA's events do not leak into DDD's)
    both = stats.occupancies(events, ["r0", "r1"], ["DDD", "AAA"], "t", [False, True], steps)
    assert both.shape == (2, len(stats.OCCUPANCY_STAGES), 6)
    assert np.array_equal(both[0], ddd)
    assert np.array_equal(both[1], stats.occupancy(events, ["r0", "r1"], "AAA", "t", True, steps))
    assert not np.array_equal(both[0], both[1])
    # observed: AAA announced Feb 20; the model's median is Mar 1 (9 days later)
    rec = s["observed"]["records"]
    assert rec[0]["median"] == "2025-03-01" and rec[0]["error_days"] == -9
    assert rec[0]["by_observed_date"]["p"] == 0.25  # only r0 announced by Feb 20
    assert rec[0]["ever"]["p"] == 0.75
    assert rec[1]["by_observed_date"]["p"] == 0.25 and rec[1]["error_days"] == 37
    assert rec[2] == {**{k: OBSERVED[2][k] for k in ("iso3", "treaty", "stage", "date")},
                      "modelled": False}  # fmt: skip
    assert s["observed"]["mean_abs_error_days"] == pytest.approx(23.0)
    assert s["treaties"]["t"]["observed_size"] == 2  # AAA announced, CCC suspended
    assert s["treaties"]["t"]["observed_curves"]["announced"] == [0, 0, 1, 1, 1, 1]
    md = render_markdown(s)
    assert "| AAA | 0.75 [" in md and "same-day announcement counts 1/2" in md


def test_run_outcomes_match_runs_table_columns(hand) -> None:
    _, events, layout = hand
    out = stats.run_outcomes(events, ["r0", "r1", "r2", "r3"], layout.ids, "t", DATES[0])
    assert out["cascade_size"].tolist() == [2, 2, 1, 1]
    assert out["n_announced"].tolist() == [2, 2, 0, 1]
    assert out["n_notified"].tolist() == [1, 0, 0, 1]
    assert out["n_withdrawn"].tolist() == [1, 0, 0, 1]
    assert out["n_retracted"].tolist() == [0, 1, 0, 0]
    assert np.allclose(out["days_to_first_exit"], [120, np.nan, np.nan, 151], equal_nan=True)


def test_empty_run_summarizes_without_errors(hand) -> None:
    runs, events, layout = hand
    s = summarize(runs, events.iloc[0:0], layout)
    t = s["treaties"]["t"]
    assert t["cascade_size"]["distribution"] == {"0": 4}
    assert t["first_exit"]["median_days"] is None and t["first_exit"]["no_exit"]["p"] == 1.0
    assert t["order"]["states"] == []
    assert t["curves"]["announced"]["q95"] == [0] * 6
