"""A sweep's dry run: its size, and the time and disk it will take, from a short trial run.

The estimate is calibrated on a trial of the sweep's own points run the way the sweep runs
them: worlds built per point (as :func:`~treatysim.run.plan.chunk_jobs` builds them), chunks
run by :func:`~treatysim.run.sweep.run_sweep_chunk` and their tables built; with more than one
worker, a process pool is opened (the real start-up cost: forkserver, imports in every worker)
and the trial chunks are sent through it, pickled world and tables included. Timing only the
base scenario in-process, as earlier versions did, left out all of these and was 3 to 13 times
too low.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from treatysim.results.shards import ChunkResult
from treatysim.run.executors import open_executor, run_jobs
from treatysim.run.plan import ChunkJob, SweepPlan, chunk_jobs
from treatysim.run.sweep import run_sweep_chunk
from treatysim.scenario.designs import describe

#: Trial size: replications per sampled point, and at most this many points.
TRIAL_REPLICATIONS = 2
TRIAL_POINTS = 4


@dataclass
class Estimate:
    """What the trial measured.

    Attributes:
        world_seconds: Building one point's world (once per point, in the main process).
        seconds_per_run: One run and its tables, in-process.
        bytes_per_run: Parquet bytes of the tables, per run.
        timed_runs: Runs in the trial (after one warm-up run).
        timed_points: Points the trial sampled, spread over the design.
        pool_workers: Workers of the trial's process pool (0: no pool was opened).
        pool_startup: Opening the pool until every worker answered, seconds.
        pool_seconds_per_run: Wall-clock seconds per run through the pool (all workers busy).
    """

    world_seconds: float
    seconds_per_run: float
    bytes_per_run: float
    timed_runs: int
    timed_points: int
    pool_workers: int = 0
    pool_startup: float = 0.0
    pool_seconds_per_run: float = 0.0

    def seconds(self, runs: int, points: int, workers: int) -> float:
        """Estimated wall-clock seconds for ``runs`` runs over ``points`` points."""
        build = points * self.world_seconds
        if workers <= 1 or self.pool_workers == 0:
            return build + runs * self.seconds_per_run
        return self.pool_startup + build + runs * self.pool_seconds_per_run


def _sample_keys(plan: SweepPlan) -> np.ndarray:
    """Run keys (``point · R + replication``) of a few points spread over the design."""
    n = min(plan.n_points, TRIAL_POINTS)
    points = np.unique(np.linspace(0, plan.n_points - 1, n).round().astype(np.int64))
    reps = min(plan.replications, TRIAL_REPLICATIONS)
    return np.array([p * plan.replications + r for p in points for r in range(reps)], np.int64)


def _parquet_bytes(table: pa.Table | None) -> int:
    if table is None:
        return 0
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    empty = io.BytesIO()
    pq.write_table(table.schema.empty_table(), empty, compression="zstd")
    return max(0, sink.tell() - empty.tell())


def estimate(plan: SweepPlan, workers: int = 1, engine: str = "batched") -> Estimate:
    """Run the trial (see the module's docstring) on the sweep's engine; return what it measured.

    The batched engine runs the whole trial as one chunk, as the sweep batches a chunk's runs
    across points; its per-run time still includes the batch's fixed cost, so the estimate errs
    high for large sweeps.
    """
    keys = _sample_keys(plan)
    mode = plan.sweep.timeseries
    warm = next(chunk_jobs(plan, keys[:1], 1, mode, engine))
    run_sweep_chunk(warm)  # warm-up: imports and caches, not counted
    start = time.perf_counter()
    size = len(keys) if engine == "batched" else TRIAL_REPLICATIONS
    jobs = list(chunk_jobs(plan, keys, size, mode, engine))
    points = len({p.point for job in jobs for p in job.points})
    world_seconds = (time.perf_counter() - start) / max(1, points)
    start = time.perf_counter()
    results = [run_sweep_chunk(job) for job in jobs]
    per_run = (time.perf_counter() - start) / len(keys)
    size = sum(
        _parquet_bytes(r.runs) + _parquet_bytes(r.events) + _parquet_bytes(r.timeseries)
        for r in results
    )
    est = Estimate(world_seconds, per_run, size / len(keys), len(keys), points)
    if workers > 1:
        _time_pool(est, jobs, workers)
    return est


def _time_pool(est: Estimate, jobs: list[ChunkJob], workers: int) -> None:
    """Open the sweep's process pool and send the trial chunks through it, timed."""
    start = time.perf_counter()
    with open_executor("local", workers) as handle:
        list(run_jobs(handle, run_sweep_chunk, iter(jobs[:1] * handle.slots)))  # all started
        est.pool_startup = time.perf_counter() - start
        start = time.perf_counter()
        # every worker busy, as in the sweep: at least two trial chunks per worker
        work = jobs * max(1, -(-2 * handle.slots // len(jobs)))
        done = [item for item in run_jobs(handle, run_sweep_chunk, iter(work)) if item]
        elapsed = time.perf_counter() - start
    runs = sum(r.n_runs for _, r in done if isinstance(r, ChunkResult))
    est.pool_workers = handle.slots
    est.pool_seconds_per_run = elapsed / max(1, runs)


def _human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} TB"


def _human_seconds(s: float) -> str:
    if s < 120:
        return f"{s:,.0f} s"
    if s < 7200:
        return f"{s / 60:,.1f} min"
    return f"{s / 3600:,.1f} h"


def dry_run_text(plan: SweepPlan, workers: int, *, stored: int = 0, engine: str = "batched") -> str:
    """The dry run's report: points, runs, estimated time and disk, and what they rest on."""
    est = estimate(plan, workers, engine)
    to_run = plan.n_runs - stored
    points = int(np.unique(np.arange(stored, plan.n_runs) // plan.replications).size)
    seconds = est.seconds(to_run, points, workers)
    disk = plan.n_runs * est.bytes_per_run
    lines = [
        f"sweep {plan.sweep.name}: {describe(plan.points)}",
        f"{plan.n_points:,} points × {plan.replications:,} replications = {plan.n_runs:,} runs",
    ]
    if stored:
        lines.append(f"already stored: {stored:,} runs; to run: {to_run:,} runs")
    where = "in-process" if workers <= 1 else f"with {workers} workers"
    lines.append(f"time: ~{_human_seconds(seconds)} {where}, before the report")
    basis = (
        f"  basis: a trial of {est.timed_runs} runs at {est.timed_points} of the sweep's points: "
        f"{est.seconds_per_run * 1000:,.1f} ms per run in-process, "
        f"{est.world_seconds * 1000:,.0f} ms per point's world"
    )
    if est.pool_workers:
        basis += (
            f"; a pool of {est.pool_workers} took {est.pool_startup:,.1f} s to start and ran "
            f"{est.pool_seconds_per_run * 1000:,.1f} ms per run (wall clock, all workers busy)"
        )
        alone = est.seconds(to_run, points, 1)
        basis += f"; in-process it would take ~{_human_seconds(alone)}"
    lines.append(basis)
    lines.append(
        f"disk: ~{_human_bytes(disk)} of tables (~{_human_bytes(2 * disk)} at the peak, while "
        "shards are consolidated)"
    )
    return "\n".join(lines)
