"""Cascade curves over time for sweeps: per point, and envelopes per lever setting.

A sweep keeps no time series by default (``timeseries: none``), but every run's events are
stored, and the cascade size of a run at a date is the number of states that have announced an
exit or suspended the treaty by then, the same definition as the ``cascade_size`` outcome
(:func:`treatysim.results.outcomes.outcome_columns`). So each point's mean cascade curve is
rebuilt from ``events.parquet``: for each (run, state) the first announcement or suspension date,
counted cumulatively on a weekly date grid and divided by the point's ok runs.

Per group of points (a lever setting, or all points), the *envelope* is the range (minimum to
maximum) of the points' mean curves at each date, with the median curve inside it, as EMA
Workbench's ``envelopes`` plot draws it (Kwakkel 2017).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

#: The stages that make a state part of the cascade (as ``cascade_size`` counts them).
CASCADE_STAGES = ("announced", "suspended")
#: Days between the points of the date grid.
GRID_DAYS = 7


def _ordinals(dates: pd.Series) -> NDArray[np.int64]:
    return np.asarray(pd.to_datetime(dates).to_numpy().astype("datetime64[D]").astype(np.int64))


def point_curves(
    events: pd.DataFrame,
    ok_runs: pd.Series,
    *,
    treaty: str,
    start: str | None = None,
    end: str | None = None,
    grid_days: int = GRID_DAYS,
) -> tuple[NDArray[np.datetime64], NDArray[np.float64]]:
    """Each point's mean cascade size over time, from a sweep's events table.

    Args:
        events: Columns ``point``, ``replication``, ``iso3``, ``treaty``, ``stage``, ``date``
            (the events of ok runs only, or of all runs: failed runs have no events).
        ok_runs: Ok runs per point, indexed by point (0..P-1); the curves' denominators.
        treaty: The treaty whose cascade is counted (the scenario's primary treaty).
        start: First date of the grid (ISO); default the earliest event.
        end: Last date of the grid (ISO); default the latest event.
        grid_days: Days between grid dates.

    Returns:
        ``(dates, curves)``: the grid as ``datetime64[D]`` and an array (points, dates) of mean
        cascade sizes (NaN for a point without ok runs).
    """
    n_points = len(ok_runs)
    moved = events[
        (events["treaty"].astype(str) == treaty) & events["stage"].astype(str).isin(CASCADE_STAGES)
    ]
    days = _ordinals(moved["date"]) if len(moved) else np.zeros(0, dtype=np.int64)
    first = (
        pd.DataFrame(
            {
                "point": moved["point"].to_numpy(),
                "replication": moved["replication"].to_numpy(),
                "iso3": moved["iso3"].astype(str).to_numpy(),
                "day": days,
            }
        )
        .groupby(["point", "replication", "iso3"], sort=False)["day"]
        .min()
        .reset_index()
    )
    low = _ordinals(pd.Series([start]))[0] if start else (int(days.min()) if len(days) else 0)
    high = _ordinals(pd.Series([end]))[0] if end else (int(days.max()) if len(days) else low)
    grid = np.arange(low, max(high, low) + grid_days, grid_days, dtype=np.int64)
    counts = np.zeros((n_points, len(grid)), dtype=np.float64)
    if len(first):
        slot = np.searchsorted(grid, first["day"].to_numpy(), side="left")
        keep = slot < len(grid)
        np.add.at(counts, (first["point"].to_numpy()[keep], slot[keep]), 1.0)
    denominators = ok_runs.reindex(range(n_points)).to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        curves = np.cumsum(counts, axis=1) / denominators[:, None]
    curves[denominators == 0] = np.nan
    return grid.astype("datetime64[D]"), curves


def envelopes(
    curves: NDArray[np.float64], groups: Sequence[str]
) -> dict[str, dict[str, NDArray[np.float64]]]:
    """The range and median of the point curves in each group, date by date.

    Args:
        curves: Points × dates, from :func:`point_curves`.
        groups: One group label per point (e.g. the point's lever setting).

    Returns:
        For each group, in order of first appearance: ``{"low", "median", "high"}`` arrays over
        the dates (NaN where no point of the group has a value).
    """
    labels = np.asarray(list(groups), dtype=object)
    out: dict[str, dict[str, NDArray[np.float64]]] = {}
    for label in dict.fromkeys(labels.tolist()):
        rows = curves[labels == label]
        if np.isnan(rows).all():
            nan = np.full(curves.shape[1], np.nan)
            out[str(label)] = {"low": nan, "median": nan, "high": nan}
            continue
        out[str(label)] = {
            "low": np.nanmin(rows, axis=0),
            "median": np.nanmedian(rows, axis=0),
            "high": np.nanmax(rows, axis=0),
        }
    return out
