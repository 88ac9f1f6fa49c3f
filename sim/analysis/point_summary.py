"""Per-point statistics of a sweep: each outcome's mean and the probability of a cascade.

For each design point and outcome, the mean over the point's ok runs with a Student-t interval
(``mean ± t(n−1)·sd/√n``, clipped at 0 where every value is non-negative, as
:func:`treatysim.analysis.intervals.mean_interval` does), and for each threshold k of the sweep
``P(cascade_size ≥ k)`` with Wilson's interval
(:func:`treatysim.analysis.intervals.wilson_interval`, the same as the run reports'). The table
is long: one row per point and statistic, with the point's factor values.

Runs are read a row group at a time and reduced to per-point sums, so memory grows with the
number of points, not of runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from treatysim.analysis.intervals import t_quantile, wilson_interval

if TYPE_CHECKING:
    import pandas as pd

#: Confidence level of every interval in the table.
CONFIDENCE = 0.95


def t_interval(
    n: ArrayLike, mean: ArrayLike, sd: ArrayLike, confidence: float = CONFIDENCE
) -> tuple[NDArray[Any], NDArray[Any]]:
    """Student-t intervals of means from n values each, elementwise (NaN for fewer than two).

    Args:
        n: Values behind each mean.
        mean: The means.
        sd: The sample standard deviations (``ddof=1``).
        confidence: Two-sided confidence level.

    Returns:
        ``(lower, upper)`` arrays.
    """
    n_arr = np.asarray(n, dtype=float)
    mean_arr = np.asarray(mean, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        dfs = np.maximum(n_arr - 1, 1)
        p = 0.5 + confidence / 2
        q = np.array([t_quantile(p, float(d)) for d in dfs.ravel()]).reshape(dfs.shape)
        half = np.where(n_arr >= 2, q * np.asarray(sd, dtype=float) / np.sqrt(n_arr), np.nan)
    return mean_arr - half, mean_arr + half


def point_summary(
    runs_path: Path,
    design: pd.DataFrame,
    outcomes: list[str],
    thresholds: list[int],
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Per point: each outcome's mean with a t interval, and P(cascade_size ≥ k) with Wilson's.

    Reads ``runs_path`` a row group at a time and keeps only per-point sums.

    Args:
        runs_path: The sweep's runs.parquet (columns ``point``, ``status`` and the outcomes).
        design: The sweep's design.parquet (``point`` and the factor columns).
        outcomes: Outcomes whose means are summarised.
        thresholds: Cascade sizes k for ``P(cascade_size ≥ k)``.
        confidence: Two-sided confidence level of the intervals.

    Returns:
        Columns ``point``, the factor columns, ``outcome``, ``statistic`` (``mean`` or
        ``probability``), ``threshold`` (k, null for means), ``n`` (ok runs with a value),
        ``n_failed``, ``estimate``, ``ci_low``, ``ci_high`` and ``sd`` (means only).
    """
    import pandas as pd
    import pyarrow.parquet as pq

    n_points = len(design)
    handle = pq.ParquetFile(runs_path)
    wanted = sorted(set(outcomes) | ({"cascade_size"} if thresholds else set()))
    count = {o: np.zeros(n_points) for o in wanted}
    total = {o: np.zeros(n_points) for o in wanted}
    squares = {o: np.zeros(n_points) for o in wanted}
    lowest = {o: np.full(n_points, np.inf) for o in wanted}
    hits = {k: np.zeros(n_points) for k in thresholds}
    ok_runs = np.zeros(n_points)
    failed = np.zeros(n_points)
    for batch in handle.iter_batches(columns=["point", "status", *wanted]):
        point = batch.column(0).to_numpy().astype(np.int64)
        ok = np.asarray(batch.column(1).to_pylist(), dtype=object) == "ok"
        failed += np.bincount(point[~ok], minlength=n_points)
        ok_runs += np.bincount(point[ok], minlength=n_points)
        for j, name in enumerate(wanted, start=2):
            values = batch.column(j).to_numpy(zero_copy_only=False).astype(float)
            has = ok & ~np.isnan(values)
            count[name] += np.bincount(point[has], minlength=n_points)
            total[name] += np.bincount(point[has], weights=values[has], minlength=n_points)
            squares[name] += np.bincount(point[has], weights=values[has] ** 2, minlength=n_points)
            np.minimum.at(lowest[name], point[has], values[has])
            if name == "cascade_size":
                for k in thresholds:
                    hit = has & (values >= k)
                    hits[k] += np.bincount(point[hit], minlength=n_points)
    parts = []
    points = np.arange(n_points, dtype=np.int64)

    def rows(outcome: str, statistic: str, k: int | None, n: NDArray[Any], **values: Any) -> Any:
        return pd.DataFrame(
            {
                "point": points,
                "outcome": outcome,
                "statistic": statistic,
                "threshold": pd.array([k] * n_points, dtype="Int64"),
                "n": n.astype(np.int64),
                "n_failed": failed.astype(np.int64),
                **values,
            }
        )

    for name in outcomes:
        n = count[name]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total[name] / n
            var = np.maximum(squares[name] - n * mean * mean, 0) / (n - 1)
        sd = np.where(n >= 2, np.sqrt(var), np.nan)
        low, high = t_interval(n, mean, sd, confidence)
        # as intervals.mean_interval: a mean of non-negative values (counts, days) is not below 0
        low = np.where(lowest[name] >= 0, np.maximum(low, 0.0), low)
        parts.append(rows(name, "mean", None, n, estimate=mean, ci_low=low, ci_high=high, sd=sd))
    for k in thresholds:
        n = count.get("cascade_size", ok_runs)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = hits[k] / n
        low, high = (np.asarray(b, dtype=float) for b in wilson_interval(hits[k], n, confidence))
        parts.append(
            rows(
                "cascade_size",
                "probability",
                k,
                n,
                estimate=p,
                ci_low=low,
                ci_high=high,
                sd=np.full(n_points, np.nan),
            )
        )
    summary = pd.concat(parts, ignore_index=True)
    factors = design[[c for c in design.columns if not c.startswith("unit.")]]
    merged = summary.merge(factors, on="point", how="left")
    order = ["point", *[c for c in factors.columns if c != "point"]]
    rest = [c for c in merged.columns if c not in order]
    return (
        merged[order + rest]
        .sort_values(["point", "statistic", "outcome", "threshold"], kind="stable")
        .reset_index(drop=True)
    )


def mean_table(summary: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Rows of one outcome's means, one per point, in point order."""
    rows = summary[(summary["statistic"] == "mean") & (summary["outcome"] == outcome)]
    return rows.sort_values("point").reset_index(drop=True)


def probability_table(summary: pd.DataFrame, k: int) -> pd.DataFrame:
    """Rows of P(cascade_size ≥ k), one per point, in point order."""
    rows = summary[(summary["statistic"] == "probability") & (summary["threshold"] == k)]
    return rows.sort_values("point").reset_index(drop=True)
