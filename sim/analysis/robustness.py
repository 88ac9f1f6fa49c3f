"""Levers against uncertainties: how well each policy setting does across states of the world.

In the XLRM vocabulary of Lempert, Popper & Bankes (2003), a sweep's factors are either *levers*
(what a decision maker sets, e.g. allied reassurance) or *uncertainties* (what nobody controls,
e.g. the ceasefire date). A *state of the world* is one combination of the uncertainties' values.
For each lever setting, :func:`lever_robustness` summarises the outcome over the states of the
world with the robustness metrics McPhail et al. (2018) classify:

- ``mean`` and a chosen percentile (``p90`` by default): expected value and the bad tail when
  lower is better (Kwakkel, Eker & Pruyt 2016);
- ``max_regret``: Savage's (1951) minimax regret. In each state of the world the regret of a
  lever setting is its outcome minus the outcome of the best lever setting in that same state;
  ``max_regret`` is the largest over the states (``mean_regret`` the average);
- ``satisficing``: the share of states of the world in which the outcome meets a stated
  condition, Starr's (1962) domain criterion as Herman et al. (2015) use it.

The outcome is "lower is better" (a cascade size, a probability of a large cascade, a 0/1 flag)
unless ``larger_is_better`` is set. Rows that repeat a (lever setting, state of the world) pair,
such as replications, are averaged first, so a 0/1 flag becomes a probability; the satisficing
condition is applied to that average.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from treatysim.analysis.condition import Condition

#: The percentile reported beside the mean by default (the bad tail when lower is better).
PERCENTILE = 90.0


def _state_matrix(
    table: pd.DataFrame, levers: Sequence[str], uncertainties: Sequence[str], outcome: str
) -> pd.DataFrame:
    """The outcome's mean per lever setting (rows) and state of the world (columns)."""
    missing = [c for c in (*levers, *uncertainties, outcome) if c not in table.columns]
    if missing:
        raise ValueError(f"columns not in the table: {', '.join(missing)}")
    if not levers or not uncertainties:
        raise ValueError("give at least one lever column and one uncertainty column")
    overlap = set(levers) & set(uncertainties)
    if overlap:
        raise ValueError(f"columns marked both lever and uncertainty: {', '.join(sorted(overlap))}")
    values = table[[*levers, *uncertainties]].copy()
    values["_outcome"] = table[outcome].astype(float)
    means = values.groupby([*levers, *uncertainties], sort=True, dropna=False)["_outcome"].mean()
    matrix = means.unstack(list(range(len(levers), len(levers) + len(uncertainties))))
    if matrix.isna().to_numpy().any():
        gaps = int(matrix.isna().to_numpy().sum())
        raise ValueError(
            f"{gaps} (lever setting, state of the world) pairs have no outcome: regret needs every "
            "lever setting run in every state of the world (a crossed design)"
        )
    return matrix


def lever_robustness(
    table: pd.DataFrame,
    *,
    levers: Sequence[str],
    uncertainties: Sequence[str],
    outcome: str,
    satisficing: Condition,
    percentile: float = PERCENTILE,
    larger_is_better: bool = False,
) -> pd.DataFrame:
    """Robustness of each lever setting across the states of the world.

    Args:
        table: One row per run or sweep point, with the lever, uncertainty and outcome columns.
        levers: Columns that are levers; each distinct combination is one lever setting.
        uncertainties: Columns that are uncertainties; each distinct combination is one state of
            the world. Every lever setting must appear in every state of the world.
        outcome: The outcome column (numbers or booleans; booleans count as 0 and 1).
        satisficing: The condition an outcome must meet to be acceptable, e.g.
            ``parse_where("<= 3")``; it is applied to the per-state mean.
        percentile: The percentile of the outcome over the states to report (0–100, linear
            interpolation).
        larger_is_better: Regret is ``best − outcome`` instead of ``outcome − best``.

    Returns:
        A tidy DataFrame, one row per lever setting in sorted order: the lever columns, then
        ``states`` (the number of states of the world), ``mean``, ``p<percentile>`` (e.g.
        ``p90``), ``max_regret``, ``mean_regret``, ``satisficing`` (a share in [0, 1]) and
        ``best_in`` (the share of states in which this setting has zero regret).

    Raises:
        ValueError: On missing columns, overlapping roles, a percentile outside 0–100, or a
            design that does not run every lever setting in every state of the world.
    """
    if not 0.0 <= percentile <= 100.0:
        raise ValueError(f"percentile must be within 0–100, got {percentile}")
    matrix = _state_matrix(table, levers, uncertainties, outcome)
    outcomes = matrix.to_numpy(dtype=float)
    best = outcomes.max(axis=0) if larger_is_better else outcomes.min(axis=0)
    regret = best - outcomes if larger_is_better else outcomes - best
    result = matrix.index.to_frame(index=False)
    result["states"] = outcomes.shape[1]
    result["mean"] = outcomes.mean(axis=1)
    result[f"p{percentile:g}"] = np.percentile(outcomes, percentile, axis=1)
    result["max_regret"] = regret.max(axis=1)
    result["mean_regret"] = regret.mean(axis=1)
    result["satisficing"] = satisficing.holds(outcomes).mean(axis=1)
    result["best_in"] = np.isclose(regret, 0.0).mean(axis=1)
    return result
