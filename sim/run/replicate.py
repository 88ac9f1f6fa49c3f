"""One replication, and a chunk of them: what a worker runs."""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from treatysim.model.treaty_model import TreatyModel
from treatysim.model.world import World
from treatysim.results.tables import Output, Task


def run_one(world: World, task: Task, timeseries: str) -> Output:
    """Run one replication; an exception becomes a ``failed`` output, never a crash."""
    start = time.perf_counter()
    try:
        model = TreatyModel(world, rng=np.random.default_rng(task.seed), timeseries=timeseries)
        model.run_model()
        rec = model.records
        return Output(
            task=task,
            status="ok",
            seconds=time.perf_counter() - start,
            events={
                "step": np.asarray(rec.event_step, dtype=np.int32),
                "state": np.asarray(rec.event_state, dtype=np.int32),
                "treaty": np.asarray(rec.event_treaty, dtype=np.int32),
                "stage": np.asarray(rec.event_stage, dtype=np.int8),
                "date": np.asarray(rec.event_date, dtype=np.int64),
            },
            final_stage=model.stage.astype(np.int8),
            threat=rec.threat,
            commitment=rec.commitment,
            stage=rec.stage,
            counts=rec.counts,
        )
    except Exception as exc:
        detail = "".join(traceback.format_exception_only(exc)).strip()
        return Output(task=task, status="failed", error=detail, seconds=time.perf_counter() - start)


def run_chunk(world: World, tasks: Sequence[Task], timeseries: str) -> list[Output]:
    """Run several replications in one call (one task sent to a worker).

    BLAS is held to one thread: a replication's matrices are small, parallelism comes from
    running replications side by side, and a multithreaded BLAS on a busy machine is up to 50
    times slower on them. ``run_one`` is looked up at call time, so tests can wrap it.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return [run_one(world, task, timeseries) for task in tasks]


def chunked[T](items: Sequence[T], size: int) -> list[Sequence[T]]:
    """Split a sequence into consecutive chunks."""
    return [items[i : i + size] for i in range(0, len(items), size)]


@dataclass(frozen=True)
class RunJob:
    """What one submitted call of ``treatysim run`` computes: a chunk of one world's tasks."""

    world: World
    tasks: tuple[Task, ...]
    timeseries: str


def run_job(job: RunJob) -> list[Output]:
    """Run a :class:`RunJob` (in a worker)."""
    return run_chunk(job.world, job.tasks, job.timeseries)
