"""Global sensitivity indices of a sweep's outcomes: Sobol' (Saltelli design) and Morris, via SALib.

The indices are computed on each point's outcome *averaged over its replications*, so that the
model's stochastic noise is not read as sensitivity to a factor: with R replications per point
the noise variance left in the averages is σ²/R. Inputs are the design's unit-cube coordinates
(:class:`treatysim.scenario.designs.Points.unit`), in the row order the design produced them.

- Sobol' (Saltelli 2002; Jansen 1999 for the total effect, as SALib implements them): ``S1`` is
  the share of the outcome's variance explained by a factor alone, ``ST`` the share it takes part
  in, interactions included. Bootstrap confidence intervals at ``conf_level``.
- Morris (1991; Campolongo et al. 2007): ``mu_star`` is the mean absolute elementary effect,
  the outcome's change per unit-cube step scaled to the factor's whole range; ``sigma`` its
  standard deviation (non-linearity or interactions).

SALib is an optional dependency (``pip install "treatysim[sensitivity]"``); it is imported only
when indices are computed. :func:`sweep_sensitivity` reads a sweep's manifest and per-point
summary (:mod:`treatysim.analysis.point_summary`) and computes the indices of sensitivity.json.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from treatysim.analysis.point_summary import mean_table

if TYPE_CHECKING:
    import pandas as pd

#: Bootstrap resamples for the confidence intervals.
RESAMPLES = 1000
#: Confidence level of the intervals.
CONF_LEVEL = 0.95


class SensitivityError(ValueError):
    """Indices cannot be computed (outcomes missing at some points, or a wrong row count)."""


def _problem(names: Sequence[str]) -> dict[str, Any]:
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def _floats(values: ArrayLike) -> list[float | None]:
    """Plain floats for JSON, with None for NaN."""
    out: list[float | None] = []
    for v in np.asarray(values, dtype=np.float64).ravel():
        out.append(None if math.isnan(v) else float(v))
    return out


def _outcome_vector(y: ArrayLike, rows: int) -> NDArray[np.float64]:
    values = np.asarray(y, dtype=np.float64).ravel()
    if values.size != rows:
        raise SensitivityError(f"{values.size} outcome values for {rows} design points")
    missing = int(np.isnan(values).sum())
    if missing:
        raise SensitivityError(
            f"{missing} of {rows} points have no value (every run failed, or the outcome is empty)"
        )
    return values


def sobol_indices(
    unit: ArrayLike,
    y: ArrayLike,
    names: Sequence[str],
    *,
    second_order: bool = False,
    conf_level: float = CONF_LEVEL,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> dict[str, Any]:
    """First-order and total Sobol' indices from a Saltelli design's outcomes.

    Args:
        unit: The design's unit-cube rows (only their count is used; SALib reads the outcomes
            by position: ``N`` blocks of ``D + 2`` rows, or ``2D + 2`` with second order).
        y: One outcome per row, in the design's order.
        names: Factor names, in column order.
        second_order: Whether the design holds the extra rows for second-order indices.
        conf_level: Confidence level of the bootstrap intervals.
        resamples: Bootstrap resamples.
        seed: Seed of the bootstrap.

    Returns:
        ``{"factors", "S1", "S1_conf", "ST", "ST_conf"}`` (lists in factor order; ``*_conf`` is
        the half-width of the interval), plus ``"S2"`` and ``"S2_conf"`` (D×D, upper triangle)
        with second order.

    Raises:
        SensitivityError: Missing outcomes or a row count that does not fit the design.
    """
    from SALib.analyze import sobol as salib_sobol

    rows = np.asarray(unit).shape[0]
    values = _outcome_vector(y, rows)
    d = len(names)
    block = 2 * d + 2 if second_order else d + 2
    if rows % block:
        raise SensitivityError(f"{rows} rows is not a multiple of {block} (a Saltelli design)")
    if np.ptp(values) == 0:
        zeros = [0.0] * d
        result: dict[str, Any] = {
            "factors": list(names),
            "S1": zeros,
            "S1_conf": zeros,
            "ST": zeros,
            "ST_conf": zeros,
            "note": "the outcome is constant across the design; every index is zero",
        }
        return result
    si = salib_sobol.analyze(
        _problem(names),
        values,
        calc_second_order=second_order,
        num_resamples=resamples,
        conf_level=conf_level,
        seed=seed,
    )
    result = {
        "factors": list(names),
        "S1": _floats(si["S1"]),
        "S1_conf": _floats(si["S1_conf"]),
        "ST": _floats(si["ST"]),
        "ST_conf": _floats(si["ST_conf"]),
    }
    if second_order:
        result["S2"] = [_floats(row) for row in si["S2"]]
        result["S2_conf"] = [_floats(row) for row in si["S2_conf"]]
    return result


def morris_indices(
    unit: ArrayLike,
    y: ArrayLike,
    names: Sequence[str],
    *,
    levels: int = 4,
    conf_level: float = CONF_LEVEL,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> dict[str, Any]:
    """Morris elementary-effect statistics from a Morris design's outcomes.

    Args:
        unit: The design's unit-cube rows (trajectories of ``D + 1`` rows).
        y: One outcome per row, in the design's order.
        names: Factor names, in column order.
        levels: The grid levels the design was sampled with.
        conf_level: Confidence level of the bootstrap interval of ``mu_star``.
        resamples: Bootstrap resamples.
        seed: Seed of the bootstrap.

    Returns:
        ``{"factors", "mu", "mu_star", "mu_star_conf", "sigma"}``, lists in factor order.
        ``mu_star`` is in outcome units over the factor's whole range (unit-cube scaling).
    """
    from SALib.analyze import morris as salib_morris

    x = np.asarray(unit, dtype=np.float64)
    values = _outcome_vector(y, x.shape[0])
    if x.shape[0] % (len(names) + 1):
        raise SensitivityError(f"{x.shape[0]} rows is not a multiple of {len(names) + 1}")
    si = salib_morris.analyze(
        _problem(names),
        x,
        values,
        num_resamples=resamples,
        conf_level=conf_level,
        num_levels=levels,
        seed=seed,
    )
    return {
        "factors": list(names),
        "mu": _floats(si["mu"]),
        "mu_star": _floats(si["mu_star"]),
        "mu_star_conf": _floats(si["mu_star_conf"]),
        "sigma": _floats(si["sigma"]),
    }


def design_indices(
    design_type: str,
    unit: ArrayLike,
    outcomes: Mapping[str, ArrayLike],
    names: Sequence[str],
    *,
    second_order: bool = False,
    levels: int = 4,
    seed: int = 0,
    conf_level: float = CONF_LEVEL,
    resamples: int = RESAMPLES,
) -> dict[str, Any]:
    """Indices of every outcome for a saltelli or morris design (the body of sensitivity.json).

    Args:
        design_type: ``saltelli`` or ``morris``.
        unit: The design's unit-cube rows.
        outcomes: Outcome name -> one value per design row (the mean over its replications).
        names: Factor names.
        second_order: Saltelli: the design has second-order rows.
        levels: Morris: grid levels.
        seed: Seed of the bootstrap.
        conf_level: Confidence level.
        resamples: Bootstrap resamples.

    Returns:
        ``{"method", "conf_level", "outcomes": {name: indices or {"error": message}}}``.
    """
    if design_type not in ("saltelli", "morris"):
        raise SensitivityError(f"no sensitivity indices for a {design_type} design")
    per_outcome: dict[str, Any] = {}
    for name, y in outcomes.items():
        try:
            if design_type == "saltelli":
                per_outcome[name] = sobol_indices(
                    unit,
                    y,
                    names,
                    second_order=second_order,
                    conf_level=conf_level,
                    resamples=resamples,
                    seed=seed,
                )
            else:
                per_outcome[name] = morris_indices(
                    unit,
                    y,
                    names,
                    levels=levels,
                    conf_level=conf_level,
                    resamples=resamples,
                    seed=seed,
                )
        except SensitivityError as exc:
            per_outcome[name] = {"factors": list(names), "error": str(exc)}
    return {
        "method": "sobol" if design_type == "saltelli" else "morris",
        "conf_level": conf_level,
        "resamples": resamples,
        "outcomes": per_outcome,
    }


#: Sobol' indices further than this outside [0, 1] are flagged (estimates near 0 wobble).
OUTSIDE_TOLERANCE = 0.05
#: Sobol' intervals narrower than this half-width are not flagged as wider than their index.
NOISE_FLOOR = 0.1


def reliability_warnings(method: str, indices: Mapping[str, Any]) -> list[str]:
    """Plain-language warnings about indices too uncertain to read.

    Sobol': an index whose bootstrap interval is wider than the index itself (and than
    ±:data:`NOISE_FLOOR`), or an index outside [0, 1] by more than :data:`OUTSIDE_TOLERANCE`:
    both mean the design has too few samples (or too few replications) for that factor.
    Morris: a ``mu_star`` whose interval is wider than ``mu_star``.

    Args:
        method: ``sobol`` or ``morris``.
        indices: One outcome's indices (:func:`sobol_indices` or :func:`morris_indices`).

    Returns:
        One sentence per doubtful index; empty when every index is usable.
    """
    keys = ("S1", "ST") if method == "sobol" else ("mu_star",)
    out = []
    for i, factor in enumerate(indices["factors"]):
        for key in keys:
            value, conf = indices[key][i], indices[f"{key}_conf"][i]
            if value is None:
                continue
            shown = f"{key} of {factor} = {value:.2f} ± {conf or 0:.2f}"
            if method == "sobol" and not -OUTSIDE_TOLERANCE <= value <= 1 + OUTSIDE_TOLERANCE:
                out.append(f"{shown} lies outside [0, 1]: too few samples to estimate it")
            elif (
                conf is not None and conf > abs(value) and (method != "sobol" or conf > NOISE_FLOOR)
            ):
                out.append(f"{shown}: the interval is wider than the index")
    return out


def sweep_sensitivity(
    manifest: Mapping[str, Any],
    design: pd.DataFrame,
    summary: pd.DataFrame,
    outcomes: Sequence[str],
) -> dict[str, Any]:
    """Sobol' or Morris indices of each outcome's per-point mean (the body of sensitivity.json).

    Args:
        manifest: The sweep's manifest (design type, factors, replications, root seed).
        design: design.parquet, with the ``unit.<factor>`` coordinates.
        summary: :func:`treatysim.analysis.point_summary.point_summary`'s table; its means are
            the outcomes analysed.
        outcomes: Outcomes to analyse.

    Returns:
        :func:`design_indices`' body, with the replications averaged and a note on the inputs.

    Raises:
        ImportError: SALib is not installed.
    """
    labels = [f["name"] for f in manifest["factors"]]
    unit = design[[f"unit.{label}" for label in labels]].to_numpy(dtype=float)
    means = {o: mean_table(summary, o)["estimate"].to_numpy(dtype=float) for o in outcomes}
    body = design_indices(
        manifest["design"]["type"],
        unit,
        means,
        labels,
        second_order=bool(manifest["design"].get("second_order", False)),
        levels=int(manifest["design"].get("levels", 4)),
        seed=int(manifest["root_seed"]) % (2**32),
    )
    for indices in body["outcomes"].values():
        if "error" not in indices:
            indices["warnings"] = reliability_warnings(body["method"], indices)
    body["replications_averaged"] = int(manifest["replications"])
    body["note"] = (
        "indices of each point's mean over its replications (stochastic noise averaged out); "
        "factors are in unit-cube coordinates"
    )
    return body
