"""A sweep chunk, as a worker runs it: its points' replications on either engine, as tables."""

from __future__ import annotations

import time

import pyarrow as pa
from threadpoolctl import threadpool_limits

from treatysim.results.shards import ChunkResult
from treatysim.results.tables import (
    Output,
    build_tables,
    events_schema,
    runs_arrow,
    timeseries_schema,
)
from treatysim.run.plan import ChunkJob, PointJob
from treatysim.run.replicate import run_batched, run_chunk, run_one


def run_sweep_chunk(job: ChunkJob) -> ChunkResult:
    """Run a chunk's replications (in a worker) and return their tables.

    A replication that raises becomes a ``failed`` row with its error; the chunk goes on.
    """
    start = time.perf_counter()
    runs, events, series = [], [], []
    failed = 0
    if job.engine == "batched":  # every point of the chunk on one batch axis
        worlds = [p.task_world(t) for p in job.points for t in p.tasks]
        with threadpool_limits(limits=1, user_api="blas"):
            flat = run_batched(worlds, [t for p in job.points for t in p.tasks], job.timeseries)
        per_point, at = [], 0
        for p in job.points:
            per_point.append(flat[at : at + len(p.tasks)])
            at += len(p.tasks)
    else:
        per_point = [
            run_chunk(p.world, p.tasks, job.timeseries)
            if p.worlds is None
            else _per_task(p, job.timeseries)
            for p in job.points
        ]
    for point_job, outputs in zip(job.points, per_point, strict=True):
        failed += sum(o.status != "ok" for o in outputs)
        tables = build_tables(point_job.world, outputs, job.timeseries, point=True)
        runs.append(tables.runs)
        events.append(tables.events)
        if tables.timeseries is not None:
            series.append(tables.timeseries)
    return ChunkResult(
        runs=pa.concat_tables(runs),
        events=pa.concat_tables(events),
        timeseries=pa.concat_tables(series) if series else None,
        failed=failed,
        seconds=time.perf_counter() - start,
    )


def _per_task(point: PointJob, timeseries: str) -> list[Output]:
    """A point's replications on the Mesa engine, each with its own world (a posterior)."""
    with threadpool_limits(limits=1, user_api="blas"):
        return [run_one(point.task_world(t), t, timeseries) for t in point.tasks]


def failed_chunk(job: ChunkJob, error: BaseException) -> ChunkResult:
    """Rows for a chunk whose call raised outside the replications (e.g. a worker died)."""
    detail = f"chunk failed: {type(error).__name__}: {error}".strip()
    runs = []
    for point_job in job.points:
        outputs = [Output(task=t, status="failed", error=detail) for t in point_job.tasks]
        runs.append(runs_arrow(point_job.world, outputs, point=True))
    return ChunkResult(
        runs=pa.concat_tables(runs),
        events=events_schema(point=True).empty_table(),
        timeseries=(
            timeseries_schema("counts", point=True).empty_table()
            if job.timeseries == "counts"
            else None
        ),
        failed=job.n_runs,
        seconds=0.0,
    )
