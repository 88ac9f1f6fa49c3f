"""The batched engine: a block of replications advanced together on a leading batch axis.

It runs the same model as :class:`treatysim.model.treaty_model.TreatyModel`, through the same
functions (:mod:`~treatysim.model.dynamics`, :mod:`~treatysim.model.pipeline`, the decision rules
of :mod:`treatysim.agents.rules`), on arrays whose first axis is the replication. Each
replication draws its numbers from its own Generator in the layout of
:mod:`treatysim.model.draws`, as the Mesa model does, and every network product gives each
replication the bits it gets alone (:func:`treatysim.model.dynamics.product`). So the two engines
give identical stage changes and identical time series.

Each replication may carry its own World (parameters along the batch axis: sweep points,
posterior draws, ABC particles). The worlds of one call must share their shape: states,
treaties, calendar, threat sources, deposit blocs, armed-conflict clauses, decision rule and
population kind. Every number may differ: parameters, overrides, event dates, network weights.
"""

from __future__ import annotations

from collections.abc import Sequence

from treatysim.model.batched.engine import Batch
from treatysim.model.batched.records import Replication
from treatysim.model.batched.worlds import shape_key
from treatysim.model.world import World

__all__ = ["Replication", "run_batch", "shape_key"]

#: Replications advanced together at most; a larger call runs in blocks of equal size.
BLOCK = 512
#: Memory for a block's recorded time series (``timeseries="full"``); blocks shrink to fit.
RECORD_BYTES = 256 * 2**20


def run_batch(
    world: World | Sequence[World],
    seeds: Sequence[int],
    timeseries: str = "none",
    *,
    block: int = BLOCK,
) -> list[Replication]:
    """Run replications on one batch axis; replication r is ``TreatyModel(world, rng=seeds[r])``.

    Args:
        world: One world for every replication, or one world per replication (same shape).
        seeds: One seed per replication; its Generator is ``numpy.random.default_rng(seed)``.
        timeseries: ``full`` (per state), ``counts`` (states per stage) or ``none``.
        block: Replications advanced together at most (fewer when full time series would
            take more than ``RECORD_BYTES``).

    Returns:
        One :class:`Replication` per seed, in order: what ``TreatyModel.records`` and
        ``TreatyModel.stage`` hold after ``run_model()``.

    Raises:
        ValueError: The worlds differ in shape, or their number differs from the seeds'.
    """
    worlds = [world] * len(seeds) if isinstance(world, World) else list(world)
    if len(worlds) != len(seeds):
        raise ValueError(f"{len(worlds)} worlds for {len(seeds)} seeds")
    out: list[Replication] = []
    if not seeds:
        return out
    w = worlds[0]
    n, k = w.party.shape
    if timeseries == "full":  # threat, commitment and stage of every step
        per_replication = (w.calendar.n_steps + 1) * (8 * n + 9 * n * k)
        block = min(block, max(1, RECORD_BYTES // per_replication))
    blocks = -(-len(seeds) // max(1, block))
    size = -(-len(seeds) // blocks)
    for start in range(0, len(seeds), size):
        part = slice(start, start + size)
        batch = Batch(worlds[part], [int(s) for s in seeds[part]], timeseries)
        batch.run()
        events = batch.log.split()
        out.extend(batch.records.replication(r, events[r], batch.stage[r]) for r in range(batch.B))
    return out
