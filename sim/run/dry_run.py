"""A sweep's dry run: its size, and the time and disk it will take, from a few timed runs."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from treatysim.model.world import build_world
from treatysim.results.tables import Task, events_arrow, runs_arrow, timeseries_arrow
from treatysim.run.plan import SweepPlan
from treatysim.run.replicate import run_chunk
from treatysim.run.seeds import replication_seed, run_id, scenario_digest
from treatysim.scenario.designs import describe


@dataclass
class Estimate:
    """What a dry run measures: seconds and bytes per run of the base scenario."""

    seconds_per_run: float
    bytes_per_run: float
    timed_runs: int


def estimate(plan: SweepPlan, runs: int = 3) -> Estimate:
    """Time a few real runs of the base scenario (after one warm-up) and size their tables."""
    world = build_world(plan.base.model, plan.base.base_dir)
    digest = scenario_digest(plan.base_resolved)
    tasks = [
        Task(r, replication_seed(plan.root, 0, r), run_id(digest, plan.root, 0, r), point=0)
        for r in range(runs + 1)
    ]
    mode = plan.sweep.timeseries
    run_chunk(world, tasks[:1], mode)  # warm-up: imports and caches
    start = time.perf_counter()
    outputs = run_chunk(world, tasks[1:], mode)
    per_run = (time.perf_counter() - start) / runs

    def parquet_bytes(table: pa.Table) -> int:
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        return sink.tell()

    size = 0
    for table in (runs_arrow(world, outputs, point=True), events_arrow(world, outputs, point=True)):
        size += parquet_bytes(table) - parquet_bytes(table.schema.empty_table())
    series = timeseries_arrow(world, outputs, mode, point=True)
    if series is not None:
        size += parquet_bytes(series)
    return Estimate(per_run, max(size, 0) / runs, runs)


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


def dry_run_text(plan: SweepPlan, workers: int, *, stored: int = 0, timed_runs: int = 3) -> str:
    """The dry run's report: points, runs, estimated time and disk, one fact a line."""
    est = estimate(plan, timed_runs)
    to_run = plan.n_runs - stored
    seconds = to_run * est.seconds_per_run / max(1, workers)
    disk = plan.n_runs * est.bytes_per_run
    lines = [
        f"sweep {plan.sweep.name}: {describe(plan.points)}",
        f"{plan.n_points:,} points × {plan.replications:,} replications = {plan.n_runs:,} runs",
    ]
    if stored:
        lines.append(f"already stored: {stored:,} runs; to run: {to_run:,} runs")
    lines += [
        f"time: ~{_human_seconds(seconds)} with {workers} worker{'s' if workers != 1 else ''} "
        f"({est.seconds_per_run * 1000:,.1f} ms per run, timed on {est.timed_runs} runs of the "
        "base scenario)",
        f"disk: ~{_human_bytes(disk)} of tables (~{_human_bytes(2 * disk)} at the peak, while "
        "shards are consolidated)",
    ]
    return "\n".join(lines)
