"""Paired bootstrap intervals for mean scores over states and their differences.

The scored units are states, so the bootstrap resamples states: each of ``n_boot`` resamples
draws ``n`` state indices with replacement (numpy ``Generator`` seeded with ``seed``), and the
*same* indices serve every forecast, so a difference of two forecasts keeps their pairing
(both scored on the same states). Intervals are percentile intervals (numpy's linear quantiles
at ``(1 − confidence)/2`` and ``(1 + confidence)/2``) of the resampled means. The point estimate
is the mean over the original states.

Differences are ``reference − other`` (e.g. ``model − exposure``): with negatively oriented
scores a negative difference favours the reference, and ``share_reference_better`` is the share
of resamples in which it is strictly negative. Two forecasts with identical per-state scores have
a difference of exactly 0 with a zero-width interval.

With few states (tens) or a rare outcome (a handful of movers), percentile intervals are rough:
a resample can miss every mover. They describe the variability of the score over which states
happened to be scored; they do not cover the seed noise of the model's ensemble (small with
hundreds of replications) or its parameter uncertainty (use a posterior ensemble for that).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Bootstrap resamples by default.
DEFAULT_N_BOOT = 10_000
#: Seed of the resampling by default.
DEFAULT_SEED = 20251231
#: Two-sided confidence level by default.
DEFAULT_CONFIDENCE = 0.95
METHOD = "paired percentile bootstrap over states (the same resampled states for every forecast)"


def _stack(scores: Mapping[str, ArrayLike]) -> tuple[list[str], NDArray[np.float64]]:
    """Names and a (forecasts, states) array of per-state scores, checked for equal lengths."""
    names = list(scores)
    if not names:
        raise ValueError("no scores")
    arrays = [np.asarray(scores[n], dtype=float).ravel() for n in names]
    if len({a.size for a in arrays}) != 1 or arrays[0].size == 0:
        raise ValueError("every forecast needs one score per state, for the same states")
    stacked = np.vstack(arrays)
    if np.isnan(stacked).any():
        raise ValueError("scores contain NaN")
    return names, stacked


def resample_indices(n_states: int, n_boot: int, seed: int) -> NDArray[np.int64]:
    """Shape (n_boot, n_states): state indices of each resample, drawn with replacement."""
    if n_states < 1 or n_boot < 1:
        raise ValueError("need n_states >= 1 and n_boot >= 1")
    return np.random.default_rng(seed).integers(0, n_states, size=(n_boot, n_states))


def _interval(point: float, draws: NDArray[np.float64], confidence: float) -> dict[str, float]:
    lo, hi = np.quantile(draws, [(1 - confidence) / 2, (1 + confidence) / 2])
    # an interval of a constant is that constant (quantile rounding could leave 1e-17 off)
    if np.ptp(draws) == 0:
        lo = hi = draws[0]
    return {"mean": float(point), "lower": float(lo), "upper": float(hi)}


def paired_bootstrap(
    scores: Mapping[str, ArrayLike],
    reference: str | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
) -> dict[str, Any]:
    """Mean score of each forecast and each difference ``reference − other``, with intervals.

    Args:
        scores: Forecast name → per-state scores (the same states, in the same order).
        reference: The forecast the others are compared with (e.g. ``"model"``); None: no
            differences.
        n_boot: Bootstrap resamples.
        seed: Seed of the resampling.
        confidence: Two-sided level of the percentile intervals.

    Returns:
        A JSON-ready dict: ``n_states``, ``n_boot``, ``seed``, ``confidence``, ``method``,
        ``means`` (name → ``{mean, lower, upper}``) and, with a reference, ``reference`` and
        ``differences`` (other name → ``{mean, lower, upper, share_reference_better}``).
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie in (0, 1)")
    names, stacked = _stack(scores)
    if reference is not None and reference not in names:
        raise KeyError(f"reference '{reference}' is not among the scores")
    idx = resample_indices(stacked.shape[1], n_boot, seed)
    draws = stacked[:, idx].mean(axis=2)  # (forecasts, n_boot)
    points = stacked.mean(axis=1)
    out: dict[str, Any] = {
        "n_states": int(stacked.shape[1]),
        "n_boot": int(n_boot),
        "seed": int(seed),
        "confidence": float(confidence),
        "method": METHOD,
        "means": {n: _interval(points[i], draws[i], confidence) for i, n in enumerate(names)},
    }
    if reference is not None:
        r = names.index(reference)
        out["reference"] = reference
        out["differences"] = {}
        for i, name in enumerate(names):
            if i == r:
                continue
            # per-state differences first, so identical forecasts give exact zeros
            diff = stacked[r] - stacked[i]
            diff_draws = diff[idx].mean(axis=1)
            entry = _interval(float(diff.mean()), diff_draws, confidence)
            entry["share_reference_better"] = float((diff_draws < 0).mean())
            out["differences"][name] = entry
    return out
