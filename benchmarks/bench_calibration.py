"""CPU milliseconds per calibration simulation: shared compiled timelines against one per particle.

Usage:
    python benchmarks/bench_calibration.py [--calibration calibration/ottawa_full]
                                           [--block 400] [--rounds 3]

Draws ``--block`` particles from the calibration's priors and evaluates them with its block
simulator (:class:`treatysim.calibration.treaty.TreatySimulator`, the batched engine), as one
ABC-SMC block. Two ways, interleaved round by round so that a change in the machine's load hits
both, timed with ``time.process_time`` with BLAS held to one thread:

- ``shared``: the simulator as it runs (particles that differ only in credibility numbers share
  one compiled timeline, :mod:`treatysim.model.credibility`);
- ``compiled per particle``: the baseline, the same simulator with its timeline cache emptied
  before every particle, so each compiles its own timeline (what it did before).

It checks that both give the same statistics, prints the medians over the rounds and their
ratio, and the load average before and after: on a shared machine compare the ratio, not the
milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from treatysim.calibration.priors import PriorSet
from treatysim.calibration.treaty import TreatySimulator
from treatysim.model.world import World
from treatysim.scenario.bundled import bundled_or_path
from treatysim.scenario.calibration_load import load_calibration


class PerParticle(TreatySimulator):
    """The baseline: every particle compiles its own event timeline."""

    def world(self, params: Any) -> World:
        """A particle's world after emptying the cache of compiled timelines."""
        self._timelines.clear()
        return super().world(params)


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--calibration", default="calibration/ottawa_full", help="(default: %(default)s)"
    )
    parser.add_argument("--block", type=int, default=400, help="particles per block (default: 400)")
    parser.add_argument("--rounds", type=int, default=3, help="(default: 3)")
    args = parser.parse_args()
    loaded = load_calibration(bundled_or_path(args.calibration))
    model = loaded.model
    priors = PriorSet.from_mapping(model.priors)
    params = priors.as_dicts(priors.sample(np.random.default_rng(20261130), args.block))
    seeds = list(range(args.block))
    sims = {
        "shared": TreatySimulator(loaded.base, model.targets, model.treaty),
        "compiled per particle": PerParticle(loaded.base, model.targets, model.treaty),
    }
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    times: dict[str, list[float]] = {name: [] for name in sims}
    results: dict[str, Any] = {}
    with threadpool_limits(limits=1, user_api="blas"):
        for sim in sims.values():  # warm-up: imports, caches of the base world
            sim(params[:10], seeds[:10])
        for _ in range(args.rounds):
            for name, sim in sims.items():
                start = time.process_time()
                results[name] = sim(params, seeds)
                times[name].append(time.process_time() - start)
    if results["shared"] != results["compiled per particle"]:
        raise SystemExit("the two ways gave different statistics")
    print(f"{args.calibration}: {args.block} particles per block, {args.rounds} rounds")
    print(f"{'way':<24}{'ms CPU per simulation':>24}")
    per = {name: 1000 * statistics.median(t) / args.block for name, t in times.items()}
    for name, ms in per.items():
        print(f"{name:<24}{ms:>24.2f}")
    print(f"ratio (per particle / shared): {per['compiled per particle'] / per['shared']:.2f}x")
    print("statistics identical: yes")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
