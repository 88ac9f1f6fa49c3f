"""Cost of one replication of the founding scenario, against a bare Mesa reference model.

Prints, for ``scenarios/ottawa_2025.yaml``:
- ms per replication and µs per agent-step with events-only recording and with full time series;
- the same for a bare Mesa model of the same size (the same agents on the same network for the
  same number of steps, each agent setting a float to the mean of its neighbours' floats, no data
  collection), measured in the same process;
- the ratio between them (target: events-only ≤ 1.0);
- the wall time of ``treatysim --help`` as a fresh process (target: < 0.5 s).

Usage: python benchmarks/bench_run.py [--replications N] [--repeats R]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import mesa
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from treatysim.model.treaty_model import TreatyModel  # noqa: E402
from treatysim.model.world import World, build_world  # noqa: E402
from treatysim.scenario.load import load_scenario  # noqa: E402


class MeanAgent(mesa.Agent):
    """Sets its value to the mean of its neighbours' values."""

    def __init__(self, model: mesa.Model, value: float) -> None:
        super().__init__(model)
        self.value = value
        self.neighbours: list[MeanAgent] = []

    def step(self) -> None:
        neighbours = self.neighbours
        self.value = (
            sum(n.value for n in neighbours) / len(neighbours) if neighbours else self.value
        )


class BareModel(mesa.Model):
    """The reference: the founding scenario's agents and network, nothing else."""

    def __init__(self, adjacency: np.ndarray, steps: int, rng: int) -> None:
        super().__init__(rng=rng)
        self.n_steps = steps
        members = [MeanAgent(self, float(v)) for v in self.rng.random(len(adjacency))]
        for i, agent in enumerate(members):
            agent.neighbours = [members[j] for j in np.nonzero(adjacency[i])[0]]

    def step(self) -> None:
        self.agents.shuffle_do("step")
        if self.steps >= self.n_steps:
            self.running = False


def time_treaty(world: World, replications: int, mode: str) -> float:
    """Seconds per replication of the treaty model."""
    start = time.perf_counter()
    for r in range(replications):
        model = TreatyModel(world, rng=r, timeseries=mode)
        model.run_model()
    return (time.perf_counter() - start) / replications


def time_bare(world: World, replications: int) -> float:
    """Seconds per replication of the bare reference model."""
    adjacency = world.weights > 0
    start = time.perf_counter()
    for r in range(replications):
        BareModel(adjacency, world.calendar.n_steps, r).run_model()
    return (time.perf_counter() - start) / replications


def time_help(repeats: int) -> float:
    """Median wall time of ``treatysim --help`` in a fresh interpreter."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "treatysim", "--help"], check=True, capture_output=True, cwd=ROOT
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3, help="best of R for each measurement")
    args = parser.parse_args()
    loaded = load_scenario(ROOT / "scenarios" / "ottawa_2025.yaml")
    world = build_world(loaded.model, loaded.base_dir)
    agent_steps = world.n_states * world.calendar.n_steps
    time_treaty(world, 5, "none")  # warm caches (hazard tables, imports)

    def best(fn, *a) -> float:  # type: ignore[no-untyped-def]
        return min(fn(*a) for _ in range(args.repeats))

    events_only = best(time_treaty, world, args.replications, "none")
    full = best(time_treaty, world, args.replications, "full")
    bare = best(time_bare, world, args.replications)
    print(f"founding scenario: {world.n_states} states x {world.calendar.n_steps} steps")
    print(f"{'model':<28}{'ms/replication':>16}{'us/agent-step':>16}{'ratio to bare':>16}")
    for label, seconds in (
        ("treaty, events only", events_only),
        ("treaty, full time series", full),
        ("bare Mesa reference", bare),
    ):
        print(
            f"{label:<28}{seconds * 1e3:>16.2f}{seconds / agent_steps * 1e6:>16.2f}"
            f"{seconds / bare:>16.2f}"
        )
    help_seconds = time_help(5)
    print(f"treatysim --help as a process: {help_seconds:.3f} s (median of 5)")


if __name__ == "__main__":
    main()
