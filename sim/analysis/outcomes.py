"""Observed and simulated outcomes of a backtest: who moved to leave a treaty, and when.

A state *moved* when it reached one of :data:`treatysim.analysis.scores.MOVED_STAGES`; its
move's date is the date of the first such stage. Dates become day numbers (days since
1970-01-01, :func:`treatysim.analysis.stats.to_day`); NaN stands for "did not move".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from treatysim.analysis.scores import MOVED_STAGES
from treatysim.analysis.stats import day_array, to_day
from treatysim.scenario.dataset import Dataset, load_observed

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ObservedOutcome:
    """The observed outcome of one treaty for a set of states.

    Attributes:
        iso3: The states, in the order asked for.
        moved: 1 if the state's first move is dated within the window, else 0.
        dates: The date of that first move, None where ``moved`` is 0.
        days: ``dates`` as day numbers, NaN where ``moved`` is 0.
        before: True where the state had already moved before the window's start (it is not
            at risk in the window; ``moved`` is 0 for it). All False without a start.
    """

    iso3: tuple[str, ...]
    moved: NDArray[np.int64]
    dates: tuple[dt.date | None, ...]
    days: FloatArray
    before: NDArray[np.bool_]


def _as_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def first_moves(rows: Iterable[Mapping[str, str]], treaty: str) -> dict[str, dt.date]:
    """Each state's first observed moved-stage date for ``treaty``.

    Args:
        rows: Observed-stage rows with ``iso3``, ``treaty``, ``stage`` and ``date`` (ISO).
        treaty: The treaty's name.

    Returns:
        State → date of its earliest stage in :data:`MOVED_STAGES`.
    """
    firsts: dict[str, dt.date] = {}
    for row in rows:
        if row["treaty"] == treaty and row["stage"] in MOVED_STAGES:
            date = dt.date.fromisoformat(str(row["date"]))
            firsts[row["iso3"]] = min(date, firsts.get(row["iso3"], date))
    return firsts


def observed_outcome(
    states: Sequence[str],
    treaty: str,
    until: dt.date | str,
    since: dt.date | str | None = None,
    observed: str | Iterable[Mapping[str, str]] = "observed_2025",
) -> ObservedOutcome:
    """Observed "moved to leave by ``until``" per state, with the date of the move.

    Args:
        states: ISO3 codes of the scored states.
        treaty: The treaty's name in the observed table (e.g. ``"ottawa"``).
        until: Last date that counts (inclusive).
        since: First date that counts (inclusive); a state whose first move is earlier is
            flagged in ``before`` and counts as not moved. None: no lower bound.
        observed: A table name or path for :func:`treatysim.scenario.dataset.load_observed`,
            or its rows.

    Returns:
        The :class:`ObservedOutcome` of ``states``.
    """
    rows = load_observed(observed) if isinstance(observed, str) else list(observed)
    firsts = first_moves(rows, treaty)
    end = _as_date(until)
    start = _as_date(since) if since is not None else None
    moved, dates, before = [], [], []
    for state in states:
        date = firsts.get(state)
        early = date is not None and start is not None and date < start
        hit = date is not None and not early and date <= end
        moved.append(int(hit))
        dates.append(date if hit else None)
        before.append(early)
    days = np.array([to_day(d) if d is not None else np.nan for d in dates], dtype=float)
    return ObservedOutcome(
        iso3=tuple(states),
        moved=np.array(moved, dtype=np.int64),
        dates=tuple(dates),
        days=days,
        before=np.array(before, dtype=bool),
    )


def simulated_move_days(
    events: pd.DataFrame, run_ids: Sequence[str], states: Sequence[str], treaty: str
) -> FloatArray:
    """Each state's first simulated moved-stage day in each run, from an events table.

    Args:
        events: Rows with ``run_id``, ``iso3``, ``treaty``, ``stage`` and ``date`` (the columns
            of ``events.parquet``).
        run_ids: The runs to use (e.g. the ok runs), the second axis.
        states: The scored states, the first axis.
        treaty: The treaty's name.

    Returns:
        Shape (states, runs): day numbers, NaN where the state never moved in that run.
    """
    out = np.full((len(states), len(run_ids)), np.nan)
    ev = events[
        (events["treaty"] == treaty)
        & events["stage"].isin(list(MOVED_STAGES))
        & events["iso3"].isin(list(states))
        & events["run_id"].isin(list(run_ids))
    ]
    if len(ev):
        day = pd.Series(day_array(ev["date"]), index=ev.index)
        first = day.groupby([ev["iso3"], ev["run_id"]], sort=False).min()
        s = pd.Index(list(states)).get_indexer(first.index.get_level_values(0))
        r = pd.Index(list(run_ids)).get_indexer(first.index.get_level_values(1))
        out[s, r] = first.to_numpy(dtype=float)
    return out


def dataset_borders(dataset: Dataset) -> dict[str, tuple[str, ...]]:
    """State → land neighbours of a dataset (the ``borders`` input of the exposure nulls)."""
    return {iso3: record.land_borders for iso3, record in dataset.states.items()}
