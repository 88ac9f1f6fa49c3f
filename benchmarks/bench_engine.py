"""CPU milliseconds per replication: the Mesa engine against the batched engine.

Usage:
    python benchmarks/bench_engine.py [--replications 200] [--rounds 3] [--mesa 20]
    python benchmarks/bench_engine.py --extras     # also: size scaling, sweep CPU, peak memory

``--extras`` adds the other figures of issue 10: the batched engine's CPU per replication at
1,000 and 10,000 agents (teaching/watts_cascade with ``states.synthetic.size`` set), the bundled
``sweeps/ceasefire_timing`` sweep's CPU time in-process on each engine, and the peak resident
memory of ``treatysim run ottawa_2025 --replications 2000 --timeseries full``, with and
without the report (a child process each; its ``ru_maxrss``).

For each scenario, rounds alternate the two engines (interleaved, so a change in the machine's
load hits both) and time them with ``time.process_time`` (CPU time of this process), BLAS held
to one thread. The Mesa engine runs ``--mesa`` replications per round, one ``TreatyModel`` each;
the batched engine runs ``--replications`` in one call. The figures are the medians over the
rounds, and the load average is printed before and after: on a shared machine, compare the ratio,
not the milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from treatysim.model.batched import run_batch
from treatysim.model.treaty_model import TreatyModel
from treatysim.model.world import World, build_world
from treatysim.run.plan import prepare
from treatysim.run.runner import replication_seed
from treatysim.run.sweep import SweepOptions, run_sweep
from treatysim.scenario.bundled import bundled_or_path
from treatysim.scenario.load import load_scenario, revalidate

SCENARIOS = ("ottawa_2025", "ceasefire_2025", "teaching/watts_cascade")


def world_of(name: str) -> World:
    """A bundled scenario's world, with its cached arrays computed."""
    from importlib.resources import files

    path = files("treatysim.scenarios").joinpath(f"{name}.yaml")
    loaded = load_scenario(str(path))
    world = build_world(loaded.model, loaded.base_dir)
    _ = (world.timeline, world.network, world.hazards, world.smoothing)
    return world


def mesa_ms(world: World, seeds: list[int], timeseries: str) -> float:
    """CPU ms per replication of the Mesa engine."""
    start = time.process_time()
    for seed in seeds:
        TreatyModel(world, rng=np.random.default_rng(seed), timeseries=timeseries).run_model()
    return (time.process_time() - start) / len(seeds) * 1e3


def batched_ms(world: World, seeds: list[int], timeseries: str) -> float:
    """CPU ms per replication of the batched engine (one call for every seed)."""
    start = time.process_time()
    run_batch(world, seeds, timeseries)
    return (time.process_time() - start) / len(seeds) * 1e3


def size_ms(size: int, replications: int) -> float:
    """Batched CPU ms per replication of watts_cascade with ``size`` agents (own graph per run)."""
    loaded = load_scenario(str(bundled_or_path("teaching/watts_cascade")))
    loaded = revalidate(loaded, [("states.synthetic.size", size)])
    world = build_world(loaded.model, loaded.base_dir)
    seeds = [replication_seed(2, r) for r in range(replications)]
    batched_ms(world, seeds[:2], "none")
    return batched_ms(world, seeds, "none")


def sweep_cpu_seconds(engine: str) -> float:
    """CPU seconds of the bundled ceasefire_timing sweep, in-process, without its report."""
    plan = prepare(bundled_or_path("sweeps/ceasefire_timing"))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.process_time()
        run_sweep(plan, SweepOptions(out=Path(tmp) / "sweep", workers=1, engine=engine))
        return time.process_time() - start


def peak_rss_mib(report: bool) -> float:
    """Peak resident memory (MiB) of a 2,000-replication founding run with full time series.

    Measured in a fresh child of a fresh child: ``RUSAGE_CHILDREN`` reports the largest of all
    waited-for descendants, so each figure gets a process of its own.
    """
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "treatysim", "run", "ottawa_2025", "-n", "2000"]
        command += ["--timeseries", "full", "-q", "--out", f"{tmp}/run"]
        command += [] if report else ["--no-report"]
        probe = (
            "import resource, subprocess, sys; "
            "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
        )
        done = subprocess.run(
            [sys.executable, "-c", probe, *command], check=True, capture_output=True, text=True
        )
    return int(done.stdout.split()[-1]) / 1024


def extras() -> None:
    """Size scaling, the bundled sweep on both engines, and peak memory."""
    small, large = size_ms(1_000, 20), size_ms(10_000, 20)
    print(
        f"watts_cascade batched, 1,000 agents: {small:.1f} ms; 10,000 agents: {large:.1f} ms; "
        f"ratio {large / small:.1f} (linear: 10)",
        flush=True,
    )
    mesa, batched = sweep_cpu_seconds("mesa"), sweep_cpu_seconds("batched")
    print(
        f"sweeps/ceasefire_timing CPU: mesa {mesa:.1f} s, batched {batched:.1f} s, "
        f"{mesa / batched:.1f}x less",
        flush=True,
    )
    for report in (False, True):
        what = "with the report" if report else "--no-report"
        print(
            f"treatysim run ottawa_2025 -n 2000 --timeseries full ({what}): "
            f"peak RSS {peak_rss_mib(report):.0f} MiB",
            flush=True,
        )


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--mesa", type=int, default=20, help="Mesa replications per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeseries", default="none", choices=("none", "counts", "full"))
    parser.add_argument("--extras", action="store_true", help="size, sweep and memory figures")
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'scenario':28s} {'mesa ms':>9s} {'batched ms':>11s} {'ratio':>7s}")
    with threadpool_limits(limits=1, user_api="blas"):
        for name in args.scenarios:
            world = world_of(name)
            seeds = [replication_seed(1, r) for r in range(args.replications)]
            mesa_seeds = seeds[: args.mesa]
            mesa_ms(world, mesa_seeds[:1], args.timeseries)  # warm-up
            batched_ms(world, seeds[:8], args.timeseries)
            mesa, batched = [], []
            for _ in range(args.rounds):
                mesa.append(mesa_ms(world, mesa_seeds, args.timeseries))
                batched.append(batched_ms(world, seeds, args.timeseries))
            m, b = statistics.median(mesa), statistics.median(batched)
            print(f"{name:28s} {m:9.2f} {b:11.3f} {m / b:6.1f}x", flush=True)
        if args.extras:
            extras()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"({args.replications} replications per batched call, {args.mesa} Mesa replications "
        f"per round, {args.rounds} interleaved rounds, timeseries={args.timeseries}, "
        f"{os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    main()
