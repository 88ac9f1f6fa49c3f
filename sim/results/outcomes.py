"""The per-run outcomes: the one definition behind runs.parquet and the statistics.

Both callers bring the same two arrays, whatever their source (a replication's stage changes,
or a stored events table):

- ``first``: shape (runs, states, len(STAGES)), the day each state first reached each stage
  (``inf``: never);
- ``final``: shape (runs, states), each state's stage code at the end (-1: no stage recorded).

Day numbers may be counted from any origin, as long as ``start`` uses the same one.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from treatysim.model.pipeline import ANNOUNCED, NOTIFIED, RETRACTED, SUSPENDED, WITHDRAWN
from treatysim.scenario.types import STAGES
from treatysim.scenario.sweep import DATE_OUTCOMES, OUTCOMES

__all__ = ["DATE_OUTCOMES", "OUTCOMES", "first_reach", "outcome_columns"]


def first_reach(
    run: NDArray[np.integer],
    state: NDArray[np.integer],
    stage: NDArray[np.integer],
    day: NDArray[np.integer],
    n_runs: int,
    n_states: int,
) -> NDArray[np.float64]:
    """The ``first`` array from stacked stage changes (one treaty's), given as index arrays."""
    first = np.full((n_runs, n_states, len(STAGES)), np.inf)
    np.minimum.at(first, (run, state, stage), np.asarray(day, dtype=np.float64))
    return first


def outcome_columns(
    first: NDArray[np.float64], final: NDArray[np.integer], start: int
) -> dict[str, NDArray[np.float64] | NDArray[np.int64]]:
    """Per-run outcomes of one treaty, named as in :data:`OUTCOMES`.

    Args:
        first: Day each state first reached each stage (``inf``: never).
        final: Each state's final stage code (-1: none).
        start: Day number of the calendar's first day.

    Returns:
        Counts as int64 arrays: cascade_size (states that announced or suspended), n_announced,
        n_notified, n_retracted (states that reached the stage), n_withdrawn and n_suspended
        (final stage). Days as float64 arrays with NaN for never: first_announcement, first_exit
        and days_to_first_exit (from ``start``).
    """
    reached = np.isfinite(first)
    moved = reached[:, :, ANNOUNCED] | reached[:, :, SUSPENDED]

    def earliest(code: int) -> NDArray[np.float64]:
        days = first[:, :, code].min(axis=1) if first.shape[1] else np.full(len(first), np.inf)
        return np.where(np.isinf(days), np.nan, days)

    first_exit = earliest(WITHDRAWN)
    return {
        "cascade_size": moved.sum(axis=1).astype(np.int64),
        "n_announced": reached[:, :, ANNOUNCED].sum(axis=1).astype(np.int64),
        "n_notified": reached[:, :, NOTIFIED].sum(axis=1).astype(np.int64),
        "n_withdrawn": (final == WITHDRAWN).sum(axis=1).astype(np.int64),
        "n_suspended": (final == SUSPENDED).sum(axis=1).astype(np.int64),
        "n_retracted": reached[:, :, RETRACTED].sum(axis=1).astype(np.int64),
        "first_announcement": earliest(ANNOUNCED),
        "first_exit": first_exit,
        "days_to_first_exit": first_exit - start,
    }
