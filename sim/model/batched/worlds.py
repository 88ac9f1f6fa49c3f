"""The worlds of a batch, as arrays with a batch axis where they differ.

Replications that share one World share its arrays unchanged (they broadcast against the batch
axis); replications with their own worlds (sweep points, posterior draws) get each world's
numbers stacked along the batch axis.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from treatysim.model import dynamics
from treatysim.model.calendar import add_months
from treatysim.model.networks import NetworkViews
from treatysim.model.population import same_weights
from treatysim.model.world import World

FloatArray = NDArray[np.float64]


class Worlds:
    """One world per replication, stored once per distinct world.

    Args:
        worlds: Each replication's world; they must have the same shape (see
            :func:`check_shapes`).
    """

    def __init__(self, worlds: Sequence[World]) -> None:
        check_shapes(worlds)
        self.each = list(worlds)
        self.unique: list[World] = []
        index: list[int] = []
        for w in worlds:
            position = next((u for u, x in enumerate(self.unique) if x is w), None)
            if position is None:
                position = len(self.unique)
                self.unique.append(w)
            index.append(position)
        self.index = np.asarray(index)
        self.shared = len(self.unique) == 1
        self.first = worlds[0]
        self.B = len(worlds)

    def per(self, get: Callable[[World], Any]) -> NDArray[Any]:
        """A world array: the shared one, or stacked, shape (B, ...)."""
        if self.shared:
            return np.asarray(get(self.first))
        return np.stack([np.asarray(get(w)) for w in self.unique])[self.index]

    def scalar(self, get: Callable[[World], float], dims: int) -> Any:
        """A number per world: the number, or shape (B,) followed by ``dims`` ones."""
        if self.shared:
            return get(self.first)
        values = np.array([get(w) for w in self.unique], dtype=float)[self.index]
        return values.reshape((self.B,) + (1,) * dims)

    def steps(self, get: Callable[[World], NDArray[Any]], dims: int = 0) -> NDArray[Any]:
        """A per-step world array, step first: (steps, ...) shared, else (steps, B, ...).

        ``dims`` trailing ones are added to a per-step number when it differs between worlds,
        so that it broadcasts against the batch's (B, n) or (B, n, k) arrays. Worlds that differ
        elsewhere but agree here (ABC particles that share a timeline) get the shared array.
        """
        if self.shared:
            return np.asarray(get(self.first))
        arrays = [np.asarray(get(w)) for w in self.unique]
        if all(np.array_equal(a, arrays[0]) for a in arrays[1:]):
            return arrays[0]
        stacked = np.moveaxis(np.stack(arrays)[self.index], 0, 1)
        return stacked.reshape(stacked.shape + (1,) * dims)

    def campaigns(self) -> FloatArray:
        """Campaign layers: (steps + 1, layers, n, k) shared, else (steps + 1, layers, B, n, k)."""
        if self.shared:
            return self.first.timeline.campaigns.dense()
        dense = [w.timeline.campaigns.dense() for w in self.unique]
        depth = max(d.shape[1] for d in dense)
        padded = [
            np.concatenate([d, np.zeros((d.shape[0], depth - d.shape[1], *d.shape[2:]))], axis=1)
            for d in dense
        ]
        return np.moveaxis(np.stack(padded)[self.index], 0, 2)

    def same_network(self) -> bool:
        """Whether every replication has the same network (fixed, with the same weights)."""
        w0 = self.first
        if w0.graph_per_replication:
            return False
        return self.shared or all(
            same_weights(w.weights, w0.weights) and np.array_equal(w.party, w0.party)
            for w in self.unique
        )


def check_shapes(worlds: Sequence[World]) -> None:
    """The worlds of one batch may differ only in numbers.

    Raises:
        ValueError: They differ in states, treaties, calendar, sources, deposit blocs, decision
            rule or population.
    """
    reference = shape_key(worlds[0])
    for w in worlds[1:]:
        if w is not worlds[0] and shape_key(w) != reference:
            raise ValueError(
                "the worlds of a batch differ in shape (states, treaties, calendar, sources, "
                "deposit blocs, joint groups, armed-conflict and suspension clauses, rule or "
                "population)"
            )


def shape_key(w: World) -> tuple[Any, ...]:
    """What the worlds of one batch must share (everything else may differ per replication)."""
    population = w.population
    return (
        w.ids,
        w.treaties,
        w.calendar.dates,
        w.sources.ids,
        w.bloc.tobytes(),
        tuple((g.rows.tobytes(), g.follow, g.leader) for g in w.joint_groups),
        tuple(w.scenario.treaties[t].suspension_allowed for t in w.treaties),
        w.scenario.parameters.rule,
        tuple(w.scenario.treaties[t].armed_conflict_blocks_exit for t in w.treaties),
        None if population is None else (population.size, w.graph_per_replication),
    )


def exposure(world: World) -> FloatArray:
    """How exposed each state is to any source (0 for a source's allies), as in the model."""
    sources = world.sources
    if not sources.ids:
        return np.zeros(world.n_states)
    return (sources.intent * (sources.proximity > 0)).max(axis=0)


def effective_dates(world: World) -> NDArray[np.int64]:
    """Shape (steps + 1, k): the date a notice deposited at the end of each step takes effect."""
    notice = tuple(world.scenario.treaties[t].notice_months for t in world.treaties)
    return _effective_dates(world.calendar.dates, notice)


@functools.lru_cache(maxsize=32)
def _effective_dates(dates: tuple[dt.date, ...], notice: tuple[float, ...]) -> NDArray[np.int64]:
    """Cached: the worlds of a batch (ABC particles, sweep points) mostly share them."""
    out = np.array(
        [[add_months(d, months).toordinal() for months in notice] for d in dates], dtype=np.int64
    )
    out.setflags(write=False)
    return out


def stack_views(views: Sequence[NetworkViews]) -> NetworkViews:
    """One network per replication: dense ones stacked, sparse ones block-diagonal."""

    def stack(matrices: list[Any]) -> Any:
        if all(isinstance(m, np.ndarray) for m in matrices):
            return np.stack(matrices)
        if all(isinstance(m, dynamics.Complete) for m in matrices):
            return dynamics.Complete.stack(matrices)
        if not any(isinstance(m, np.ndarray | dynamics.Complete) for m in matrices):
            return dynamics.BlockDiagonal(matrices)
        return dynamics.PerReplication(matrices)

    first = views[0]
    reference: Any
    if all(isinstance(v.reference_weights, np.ndarray) for v in views):
        reference = np.stack([v.reference_weights for v in views])
    else:
        k = len(first.reference_weights)
        reference = tuple(stack([v.reference_weights[j] for v in views]) for j in range(k))
    return NetworkViews(
        stack([v.neighbour_weights for v in views]), reference, stack([v.adjacency for v in views])
    )
