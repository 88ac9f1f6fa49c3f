"""Summary statistics of calibration targets, observed and simulated, and the ABC distance.

A target's statistic is computed from two mappings, whichever side they come from: the day of
each state's first stage (``(iso3, stage) → day``) and the day of each state's first move
(``iso3 → day``; a move is any stage of :data:`treatysim.analysis.scores.MOVED_STAGES`). Days
are day numbers (:func:`treatysim.analysis.stats.to_day`). The observed side reads the observed
dataset; the simulated side reads an events table (the columns of ``events.parquet``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from treatysim.analysis.outcomes import first_moves
from treatysim.analysis.scores import MOVED_STAGES
from treatysim.analysis.stats import day_array, to_day
from treatysim.scenario.calibration import (
    Calibration,
    MoverCount,
    NotMoved,
    QuietWindow,
    StageDate,
    StageSpan,
    Target,
)
from treatysim.scenario.dataset import load_observed

FloatArray = NDArray[np.float64]
StageDays = Mapping[tuple[str, str], float]
MoveDays = Mapping[str, float]


def statistic(target: Target, stage_day: StageDays, move_day: MoveDays) -> float:
    """One target's summary statistic (see the target kinds in ``treatysim.scenario.calibration``).

    Args:
        target: The target.
        stage_day: Day of each state's first stage, keyed by ``(iso3, stage)``.
        move_day: Day of each state's first move, keyed by ``iso3``.

    Returns:
        stage_date: days from the window's start to the stage, clipped to the window (a stage
        before the start counts 0) and censored at the window's length when not reached within
        it; stage_span: days between the first and last of the states to reach the stage
        within the window (the window's length if one did not); not_moved: the share of the
        states that moved within the window; quiet_window: 1.0 if any state moved within it,
        else 0.0; mover_count: the number of movers within it.
    """
    lo, hi = to_day(target.window.start), to_day(target.window.end)

    def within(day: float | None) -> bool:
        return day is not None and lo <= day <= hi

    if isinstance(target, StageDate):
        day = (
            move_day.get(target.state)
            if target.stage == "moved"
            else stage_day.get((target.state, target.stage))
        )
        if day is None or day > hi:
            return float(hi - lo)
        return float(max(day - lo, 0))
    if isinstance(target, StageSpan):
        got = [
            move_day.get(s) if target.stage == "moved" else stage_day.get((s, target.stage))
            for s in target.states
        ]
        if not all(within(day) for day in got):
            return float(hi - lo)
        days = [float(day) for day in got if day is not None]
        return max(days) - min(days)
    if isinstance(target, NotMoved):
        return sum(within(move_day.get(s)) for s in target.states) / len(target.states)
    states = target.states if target.states is not None else list(move_day)
    movers = sum(within(move_day.get(s)) for s in states)
    if isinstance(target, QuietWindow):
        return float(movers > 0)
    if isinstance(target, MoverCount):
        return float(movers)
    raise TypeError(f"not a target: {target!r}")


def statistics(targets: Sequence[Target], stage_day: StageDays, move_day: MoveDays) -> dict:
    """Every target's statistic, keyed by the target's name."""
    return {t.name: statistic(t, stage_day, move_day) for t in targets}


def observed_days(rows: Iterable[Mapping[str, str]], treaty: str) -> tuple[StageDays, MoveDays]:
    """First stage days and first move days of ``treaty`` in observed-stage rows."""
    rows = list(rows)
    stage_day: dict[tuple[str, str], float] = {}
    for row in rows:
        if row["treaty"] != treaty:
            continue
        key = (row["iso3"], row["stage"])
        day = float(day_array([row["date"]])[0])
        stage_day[key] = min(day, stage_day.get(key, day))
    move_day = {iso3: float(to_day(date)) for iso3, date in first_moves(rows, treaty).items()}
    return stage_day, move_day


def observed_statistics(
    targets: Sequence[Target],
    treaty: str,
    observed: str | Iterable[Mapping[str, str]] = "observed_2025",
) -> dict[str, float]:
    """The targets' statistics on the observed data.

    Args:
        targets: The targets.
        treaty: The treaty's name in the observed table.
        observed: A table name or CSV path for :func:`~treatysim.scenario.dataset.load_observed`,
            or its rows.
    """
    rows = load_observed(observed) if isinstance(observed, str) else list(observed)
    return statistics(targets, *observed_days(rows, treaty))


def simulated_statistics(
    targets: Sequence[Target], events: pd.DataFrame, run_ids: Sequence[str], treaty: str
) -> list[dict[str, float]]:
    """The targets' statistics in each run of an events table.

    Args:
        targets: The targets.
        events: Rows with ``run_id``, ``iso3``, ``treaty``, ``stage`` and ``date``.
        run_ids: The runs, in the order of the result.
        treaty: The treaty's name.

    Returns:
        One ``{target name: statistic}`` per run.
    """
    ev = events[(events["treaty"] == treaty) & events["run_id"].isin(list(run_ids))]
    ev = ev.assign(day=day_array(ev["date"]).astype(float))
    first = ev.groupby(["run_id", "iso3", "stage"], sort=False)["day"].min()
    per_run: dict[str, dict[tuple[str, str], float]] = {}
    keys = first.index.to_list()
    for (run_id, state, stage_name), day in zip(keys, first.to_numpy(dtype=float), strict=True):
        per_run.setdefault(str(run_id), {})[(str(state), str(stage_name))] = float(day)
    out = []
    for run in run_ids:
        stage_day = per_run.get(str(run), {})
        move_day: dict[str, float] = {}
        for (iso3, stage), day in stage_day.items():
            if stage in MOVED_STAGES:
                move_day[iso3] = min(day, move_day.get(iso3, day))
        out.append(statistics(targets, stage_day, move_day))
    return out


def default_scale(target: Target, observed: float) -> float:
    """The scale of a target when the file gives none (documented on ``TargetBase.scale``)."""
    if target.scale is not None:
        return target.scale
    if isinstance(target, StageDate | StageSpan):
        return float(target.window.days)
    if isinstance(target, MoverCount):
        return max(1.0, observed)
    return 1.0


class WeightedDistance:
    """``d(s, o) = (sum_k w_k |s_k - o_k|^p / scale_k^p)^(1/p)`` over the targets.

    Callable as ``distance(simulated, observed)`` on ``{name: value}`` mappings, the signature
    pyabc expects of a distance function; :meth:`many` evaluates an array of statistics.

    Args:
        names: The statistics' names, in a fixed order.
        weights: ``w_k`` per name.
        scales: ``scale_k`` per name.
        p: 1 or 2.
    """

    def __init__(
        self,
        names: Sequence[str],
        weights: Mapping[str, float],
        scales: Mapping[str, float],
        p: int = 2,
    ) -> None:
        self.names = tuple(names)
        self.weights = np.array([weights[n] for n in self.names], dtype=float)
        self.scales = np.array([scales[n] for n in self.names], dtype=float)
        self.p = p

    def vector(self, stats: Mapping[str, float]) -> FloatArray:
        """A statistics mapping as a vector in ``names`` order."""
        return np.array([float(stats[n]) for n in self.names], dtype=float)

    def many(self, simulated: FloatArray, observed: FloatArray) -> FloatArray:
        """Distances of the rows of ``simulated`` (shape (n, k)) to ``observed`` (shape (k,))."""
        diff = np.abs(np.atleast_2d(simulated) - observed) / self.scales
        return np.asarray((self.weights * diff**self.p).sum(axis=1) ** (1.0 / self.p))

    def __call__(self, simulated: Mapping[str, float], observed: Mapping[str, float]) -> float:
        """The distance between two ``{name: value}`` mappings."""
        return float(self.many(self.vector(simulated), self.vector(observed))[0])


def calibration_distance(
    calibration: Calibration, observed: Mapping[str, float]
) -> WeightedDistance:
    """The distance of a calibration file, with default scales from the observed statistics."""
    targets = calibration.targets
    return WeightedDistance(
        [t.name for t in targets],
        {t.name: t.weight for t in targets},
        {t.name: default_scale(t, observed[t.name]) for t in targets},
        calibration.distance.p,
    )
