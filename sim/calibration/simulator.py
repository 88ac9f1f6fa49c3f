"""What calibration needs of a model: a block simulator, and seeds for its simulations.

The calibration layer does not import the model. It takes a :class:`BlockSimulator`, a callable
that evaluates a whole block of parameter sets in one call (the batched engine's shape) and
returns each one's summary statistics. :func:`events_simulator` builds one from an
:class:`EventsRunner` (a block of scenario overrides → an events table), which is what the
treaty model's batched engine is to provide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np
import pandas as pd

from treatysim.calibration.targets import simulated_statistics
from treatysim.scenario.calibration import Target

Params = Mapping[str, float]
Stats = dict[str, float]


class BlockSimulator(Protocol):
    """Summary statistics of a block of parameter sets, in one call."""

    def __call__(self, params: Sequence[Params], seeds: Sequence[int]) -> list[Stats]:
        """Simulate each parameter set once.

        Args:
            params: One ``{key path: value}`` mapping per simulation.
            seeds: One seed per simulation (same length as ``params``).

        Returns:
            One ``{statistic name: value}`` per simulation, in order.
        """
        ...


class EventsRunner(Protocol):
    """A block of runs of a base scenario with overrides (the batched engine's interface)."""

    def __call__(self, overrides: Sequence[Params], seeds: Sequence[int]) -> pd.DataFrame:
        """Run the base scenario once per override set.

        Args:
            overrides: One ``{key path: value}`` mapping per run.
            seeds: One seed per run.

        Returns:
            The events table of the block (``run_id``, ``iso3``, ``treaty``, ``stage``,
            ``date``) with ``run_id`` equal to ``str(i)`` for the i-th run of the block.
        """
        ...


def events_simulator(
    runner: EventsRunner, targets: Sequence[Target], treaty: str
) -> BlockSimulator:
    """A block simulator whose statistics are the targets', computed from a runner's events."""

    def simulate(params: Sequence[Params], seeds: Sequence[int]) -> list[Stats]:
        events = runner(params, seeds)
        return simulated_statistics(targets, events, [str(i) for i in range(len(params))], treaty)

    return simulate


def replicated(simulate: BlockSimulator, replications: int) -> BlockSimulator:
    """A block simulator that runs each parameter set ``replications`` times and averages.

    The block handed to ``simulate`` has ``len(params) * replications`` entries (each parameter
    set repeated, consecutively), so it is still one call per block. The seeds of replication
    ``r`` of particle ``i`` are derived from the particle's seed: ``SeedSequence(seed).spawn``.
    """
    if replications == 1:
        return simulate

    def run(params: Sequence[Params], seeds: Sequence[int]) -> list[Stats]:
        wide = [p for p in params for _ in range(replications)]
        wide_seeds = [
            int(child.generate_state(1, np.uint64)[0] >> np.uint64(1))
            for seed in seeds
            for child in np.random.SeedSequence(int(seed)).spawn(replications)
        ]
        stats = simulate(wide, wide_seeds)
        out = []
        for i in range(len(params)):
            group = stats[i * replications : (i + 1) * replications]
            out.append({k: float(np.mean([s[k] for s in group])) for k in group[0]})
        return out

    return run


def simulation_seed(root: int, generation: int, index: int) -> int:
    """The seed of the ``index``-th simulation of a generation (generation -1: calibration).

    Derived with ``numpy.random.SeedSequence(root, spawn_key=(generation + 1, index))``, so it
    depends only on the root seed and the simulation's place, never on workers or blocks.
    """
    seq = np.random.SeedSequence(root, spawn_key=(generation + 1, index))
    return int(seq.generate_state(1, np.uint64)[0] >> np.uint64(1))
