"""Sensitivity indices against functions whose answers are known analytically.

The functions stand in for the model's averaged outcome and go through the same machinery as a
sweep: the design from :func:`treatysim.scenario.designs.generate`, a runs table with
replications per point,
:func:`treatysim.analysis.point_summary.point_summary` (means over replications) and
:func:`treatysim.analysis.sensitivity.sweep_sensitivity`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from treatysim.analysis import sensitivity
from treatysim.analysis.point_summary import point_summary
from treatysim.analysis.sensitivity import sweep_sensitivity
from treatysim.scenario import designs
from treatysim.scenario.sweep import Sweep

#: Ishigami (a = 7, b = 0.1) on [-π, π]³: analytic first-order and total Sobol' indices.
ISHIGAMI_S1 = [0.3139, 0.4424, 0.0]
ISHIGAMI_ST = [0.5576, 0.4424, 0.2437]


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def sweep_of(factors: list[dict[str, Any]], design: dict[str, Any], seed: int) -> Sweep:
    return Sweep.model_validate(
        {
            "schema_version": 1,
            "name": "f",
            "base": "none.yaml",
            "factors": factors,
            "design": design,
            "seed": seed,
            "replications": 2,
            "outcomes": ["y"],
            "thresholds": [],
        }
    )


def indices_through_sweep_machinery(
    tmp_path: Path, sweep: Sweep, values: np.ndarray, noise: float
) -> dict[str, Any]:
    """Write a runs table (two replications per point, ±noise) and analyse its point means."""
    points = designs.generate(sweep)
    n = len(points)
    runs = pa.table(
        {
            "point": np.repeat(np.arange(n), 2),
            "replication": np.tile([0, 1], n),
            "status": ["ok"] * (2 * n),
            "y": np.repeat(values, 2) + np.tile([noise, -noise], n),
        }
    )
    pq.write_table(runs, tmp_path / "runs.parquet")
    design = points.frame()
    summary = point_summary(tmp_path / "runs.parquet", design, ["y"], [])
    manifest = {
        "design": sweep.design.model_dump(mode="json"),
        "factors": [{"name": f.label, "path": f.path} for f in sweep.factors],
        "replications": 2,
        "root_seed": sweep.seed,
    }
    result = sweep_sensitivity(manifest, design, summary, ["y"])
    assert result is not None
    return result


def test_sobol_indices_of_ishigami(tmp_path: Path) -> None:
    """S1 and ST of Ishigami within 0.01 of the analytic values (N = 4096, 20,480 points)."""
    sweep = sweep_of(
        [{"name": f"x{i}", "path": f"p.x{i}", "low": -math.pi, "high": math.pi} for i in (1, 2, 3)],
        {"type": "saltelli", "samples": 4096},
        seed=2024,
    )
    points = designs.generate(sweep)
    x = np.column_stack(points.columns)
    # replication noise of ±3 around the function: averaging over the replications removes it
    result = indices_through_sweep_machinery(tmp_path, sweep, ishigami(x), noise=3.0)
    assert result["method"] == "sobol" and result["replications_averaged"] == 2
    body = result["outcomes"]["y"]
    assert body["factors"] == ["x1", "x2", "x3"]
    np.testing.assert_allclose(body["S1"], ISHIGAMI_S1, atol=0.01)
    np.testing.assert_allclose(body["ST"], ISHIGAMI_ST, atol=0.01)
    assert all(0 < c < 0.05 for c in body["S1_conf"] + body["ST_conf"])


def test_morris_recovers_coefficients_of_a_linear_function(tmp_path: Path) -> None:
    """For y = Σ c_i x_i, μ* = |c_i| × range_i exactly, σ = 0, and the ranking follows."""
    coefficients = np.array([3.0, -5.0, 0.5, 0.0])
    ranges = np.array([2.0, 1.0, 4.0, 3.0])
    sweep = sweep_of(
        [
            {"name": f"x{i}", "path": f"p.x{i}", "low": 1.0, "high": 1.0 + r}
            for i, r in enumerate(ranges)
        ],
        {"type": "morris", "samples": 12, "levels": 4},
        seed=5,
    )
    points = designs.generate(sweep)
    x = np.column_stack(points.columns)
    result = indices_through_sweep_machinery(tmp_path, sweep, x @ coefficients, noise=0.25)
    body = result["outcomes"]["y"]
    np.testing.assert_allclose(body["mu_star"], np.abs(coefficients) * ranges, atol=1e-9)
    np.testing.assert_allclose(body["mu"], coefficients * ranges, atol=1e-9)
    np.testing.assert_allclose(body["sigma"], 0.0, atol=1e-9)
    assert np.argsort(body["mu_star"])[::-1].tolist() == [0, 1, 2, 3]  # 6 > 5 > 2 > 0


def test_missing_or_constant_outcomes() -> None:
    """NaN means give an error entry, not a crash; a constant outcome has zero indices."""
    unit = np.random.default_rng(0).random((4 * 5, 3))
    y = np.ones(20)
    zero = sensitivity.sobol_indices(unit, y, ["a", "b", "c"])
    assert zero["S1"] == [0.0, 0.0, 0.0] and "constant" in zero["note"]
    y[3] = np.nan
    out = sensitivity.design_indices("saltelli", unit, {"y": y}, ["a", "b", "c"])
    assert "1 of 20 points have no value" in out["outcomes"]["y"]["error"]
    with pytest.raises(sensitivity.SensitivityError, match="not a multiple"):
        sensitivity.sobol_indices(unit[:19], np.arange(19.0), ["a", "b", "c"])


def test_reliability_warnings_flag_impossible_and_too_wide_indices() -> None:
    """S1 = 1.57 ± 2.48 is flagged; a near-zero index with a narrow interval is not."""
    body = {
        "factors": ["a", "b", "c"],
        "S1": [1.57, 0.30, 0.01],
        "S1_conf": [2.48, 0.50, 0.02],
        "ST": [0.60, 0.55, 0.02],
        "ST_conf": [0.10, 0.05, 0.03],
    }
    warnings = sensitivity.reliability_warnings("sobol", body)
    assert len(warnings) == 2
    assert warnings[0].startswith("S1 of a = 1.57 ± 2.48") and "outside [0, 1]" in warnings[0]
    assert warnings[1].startswith("S1 of b = 0.30 ± 0.50") and "wider than the index" in warnings[1]
    morris = {"factors": ["a"], "mu_star": [0.2], "mu_star_conf": [0.3]}
    assert sensitivity.reliability_warnings("morris", morris) == [
        "mu_star of a = 0.20 ± 0.30: the interval is wider than the index"
    ]
