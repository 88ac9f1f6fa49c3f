"""Reliability-diagram data: predicted probability against observed frequency, by bin.

A forecast is reliable when, among the states given probability about ``p``, a share of about
``p`` moved. Bins are ``[lower, upper)`` (the last one also holds its upper edge), either of
equal width on [0, 1] (``"uniform"``) or at quantiles of the predicted probabilities
(``"quantile"``, so bins hold similar numbers of states). Each bin reports its count, the mean
predicted probability, the observed frequency and its Wilson interval. Empty bins are kept,
with NaNs, so several forecasts binned alike line up row by row.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from treatysim.analysis.intervals import wilson_interval

COLUMNS = (
    "bin", "lower", "upper", "n", "mean_predicted", "observed_frequency",
    "observed_lower", "observed_upper",
)  # fmt: skip


def bin_edges(
    p: ArrayLike, n_bins: int = 10, strategy: Literal["uniform", "quantile"] = "uniform"
) -> np.ndarray:
    """Edges of the bins, from 0 to 1 (quantile edges are deduplicated)."""
    if n_bins < 1:
        raise ValueError("n_bins must be at least 1")
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, n_bins + 1)
    if strategy == "quantile":
        inner = np.quantile(np.asarray(p, dtype=float), np.linspace(0, 1, n_bins + 1)[1:-1])
        return np.unique(np.concatenate([[0.0], inner, [1.0]]))
    raise ValueError(f"unknown strategy '{strategy}' (uniform or quantile)")


def reliability_table(
    p: ArrayLike,
    y: ArrayLike,
    n_bins: int = 10,
    strategy: Literal["uniform", "quantile"] = "uniform",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Binned predicted probabilities against observed frequencies.

    Args:
        p: Predicted probabilities per state, in [0, 1].
        y: Observed outcomes per state, 0 or 1.
        n_bins: Number of bins (fewer with ``"quantile"`` when edges coincide).
        strategy: ``"uniform"`` (equal widths) or ``"quantile"`` (equal counts).
        confidence: Level of the Wilson interval on each bin's observed frequency.

    Returns:
        One row per bin with the columns of :data:`COLUMNS`; NaN statistics in empty bins.
    """
    pa, ya = np.asarray(p, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if pa.shape != ya.shape:
        raise ValueError("p and y must have the same length")
    if not np.all((pa >= 0) & (pa <= 1)) or not np.all((ya == 0) | (ya == 1)):
        raise ValueError("p must lie in [0, 1] and y must be 0 or 1")
    edges = bin_edges(pa, n_bins, strategy)
    which = np.clip(np.searchsorted(edges, pa, side="right") - 1, 0, len(edges) - 2)
    rows = []
    for b in range(len(edges) - 1):
        mask = which == b
        n = int(mask.sum())
        k = float(ya[mask].sum())
        lower, upper = wilson_interval(k, n, confidence) if n else (np.nan, np.nan)
        rows.append(
            {
                "bin": b,
                "lower": float(edges[b]),
                "upper": float(edges[b + 1]),
                "n": n,
                "mean_predicted": float(pa[mask].mean()) if n else np.nan,
                "observed_frequency": k / n if n else np.nan,
                "observed_lower": lower,
                "observed_upper": upper,
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))
