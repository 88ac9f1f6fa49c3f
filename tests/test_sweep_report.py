"""The sweep report: point_summary.parquet checked by hand, sensitivity.json, plots, rebuilds."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import stats

from treatysim.analysis.intervals import wilson_interval
from treatysim.cli import main
from treatysim.plots.style import DPI
from treatysim.report.sweep_report import build_sweep_report
from treatysim.results.store import StoreError
from treatysim.run.sweep import SweepOptions, SweepSummary, run_sweep

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def setup(folder: Path, body: str) -> Path:
    """A nine-month founding scenario and a sweep over it, in ``folder``."""
    base = (SCENARIOS / "ottawa_2025.yaml").read_text(encoding="utf-8")
    base = base.replace("end: 2027-12-31", "end: 2025-09-30").replace(
        "report_dates: [2025-12-31, 2026-12-31]", "report_dates: []"
    )
    (folder / "base.yaml").write_text(base, encoding="utf-8")
    path = folder / "sweep.yaml"
    path.write_text(
        "schema_version: 1\nname: rep\nbase: base.yaml\ntimeseries: none\nseed: 8\n" + body,
        encoding="utf-8",
    )
    return path


ONE_FACTOR = """\
factors:
  - {name: sensitivity, path: parameters.threat.sensitivity, values: [1.0, 3.0, 5.0]}
design: {type: grid}
replications: 8
outcomes: [cascade_size, days_to_first_exit]
thresholds: [2, 4]
"""


def swept(sweep: Path, out: Path) -> SweepSummary:
    """Run a sweep in-process and build its report, as ``treatysim sweep`` does."""
    summary = run_sweep(sweep, SweepOptions(out=out, workers=1))
    build_sweep_report(summary.folder)
    return summary


def test_point_summary_matches_a_hand_computation(tmp_path: Path) -> None:
    """Means with t intervals and P(cascade ≥ k) with Wilson intervals, from runs.parquet."""
    summary = swept(setup(tmp_path, ONE_FACTOR), tmp_path / "out")
    folder = summary.folder
    runs = pd.read_parquet(folder / "runs.parquet")
    table = pd.read_parquet(folder / "point_summary.parquet")
    assert len(table) == 3 * (2 + 2)  # points × (outcomes + thresholds)
    assert {"point", "sensitivity", "outcome", "statistic", "threshold", "n", "estimate"} <= set(
        table.columns
    )
    for point in range(3):
        sizes = runs.loc[runs["point"] == point, "cascade_size"].to_numpy(dtype=float)
        row = table[
            (table["point"] == point)
            & (table["outcome"] == "cascade_size")
            & (table["statistic"] == "mean")
        ].iloc[0]
        mean, sd = sizes.mean(), sizes.std(ddof=1)
        half = stats.t.ppf(0.975, len(sizes) - 1) * sd / math.sqrt(len(sizes))
        assert row["n"] == 8 and row["sensitivity"] == [1.0, 3.0, 5.0][point]
        assert row["estimate"] == pytest.approx(mean)
        if sd > 0:  # a count's interval is clipped at 0, as in the run reports
            expected = (max(mean - half, 0.0), mean + half)
            assert (row["ci_low"], row["ci_high"]) == pytest.approx(expected)
        for k in (2, 4):
            prob = table[(table["point"] == point) & (table["threshold"] == k)].iloc[0]
            hits = int((sizes >= k).sum())
            low, high = wilson_interval(hits, 8)
            assert prob["estimate"] == pytest.approx(hits / 8)
            assert (prob["ci_low"], prob["ci_high"]) == pytest.approx((float(low), float(high)))
        days = runs.loc[runs["point"] == point, "days_to_first_exit"].dropna()
        exit_row = table[(table["point"] == point) & (table["outcome"] == "days_to_first_exit")]
        assert exit_row["n"].iloc[0] == len(days)  # runs without an exit do not count
    # a one-factor sweep is drawn as lines with bands, at the package's one resolution
    plots = folder / "plots"
    for name in ("sweep_cascade_size", "sweep_days_to_first_exit", "sweep_probability"):
        with Image.open(plots / f"{name}.png") as image:
            assert image.info["dpi"][0] == pytest.approx(DPI, abs=1)
    text = (folder / "summary.md").read_text()
    assert "# Sweep rep" in text and "P(cascade ≥ 4)" in text


def test_wilson_interval_known_values() -> None:
    """Wilson 95% intervals: 0 of 10, 5 of 10 and 10 of 10 (Newcombe 1998, table I)."""
    low, high = wilson_interval([0, 5, 10], [10, 10, 10])
    np.testing.assert_allclose(low, [0.0, 0.2366, 0.7225], atol=1e-4)
    np.testing.assert_allclose(high, [0.2775, 0.7634, 1.0], atol=1e-4)


def test_two_factor_grid_gives_heatmaps_and_report_rebuilds(tmp_path: Path) -> None:
    body = """\
factors:
  - {name: sensitivity, path: parameters.threat.sensitivity, values: [1.0, 4.0]}
  - {name: ceasefire, path: events.zapad_2025.date, values: [2025-03-01, 2025-06-01, 2025-08-01]}
design: {type: grid}
replications: 3
outcomes: [cascade_size]
thresholds: [3]
"""
    folder = swept(setup(tmp_path, body), tmp_path / "out").folder
    names = sorted(p.name for p in (folder / "plots").glob("*.png"))
    # the sweep's own figures, then the exploratory ones (issue 15): envelopes, feature scores
    assert names == [
        "envelopes.png",
        "feature_scores_cascade_size.png",
        "heatmap_mean_cascade_size.png",
        "heatmap_p_cascade_ge_3.png",
    ]
    before = pd.read_parquet(folder / "point_summary.parquet")
    for path in (folder / "plots").iterdir():
        path.unlink()
    build_sweep_report(folder, svg=True)
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "point_summary.parquet"), before)
    assert (folder / "plots" / "heatmap_p_cascade_ge_3.svg").is_file()
    for path in (folder / "plots").iterdir():
        path.unlink()
    assert main(["report", str(folder)]) == 0  # `treatysim report` hands sweep folders over
    assert (folder / "plots" / "heatmap_mean_cascade_size.png").is_file()
    (folder / "INCOMPLETE").write_text("interrupted\n")
    with pytest.raises(StoreError, match="incomplete"):
        build_sweep_report(folder)


@pytest.mark.parametrize(
    ("design", "points"), [("saltelli, samples: 8", 32), ("morris, samples: 4", 12)]
)
def test_sensitivity_designs_write_indices_and_bar_charts(
    tmp_path: Path, design: str, points: int
) -> None:
    body = f"""\
factors:
  - {{name: sensitivity, path: parameters.threat.sensitivity, low: 1.5, high: 4.5}}
  - {{name: alarm, path: parameters.threat.alarm_spread, low: 0.0, high: 0.4}}
design: {{type: {design}}}
replications: 2
outcomes: [cascade_size]
thresholds: [3]
"""
    folder = swept(setup(tmp_path, body), tmp_path / "out").folder
    assert len(pd.read_parquet(folder / "design.parquet")) == points
    indices = json.loads((folder / "sensitivity.json").read_text())
    body_ = indices["outcomes"]["cascade_size"]
    assert body_["factors"] == ["sensitivity", "alarm"]
    keys = {"S1", "S1_conf", "ST", "ST_conf"} if "saltelli" in design else {"mu_star", "sigma"}
    assert keys <= set(body_)
    assert indices["replications_averaged"] == 2
    assert (folder / "plots" / "sensitivity_cascade_size.png").is_file()
    assert (folder / "plots" / "scatter_cascade_size.png").is_file()
