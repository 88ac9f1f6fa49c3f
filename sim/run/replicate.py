"""One replication, and a chunk of them: what a worker runs, on either engine.

``mesa`` runs each replication alone as a :class:`TreatyModel`; ``batched`` runs a chunk's
replications together on one array axis (:func:`treatysim.model.batched.run_batch`). Both give
identical tables for the same seeds (docs/ODD.md, section 7.7).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from treatysim.model.batched import Replication, run_batch, shape_key
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


def _output(task: Task, replication: Replication, seconds: float) -> Output:
    return Output(
        task=task,
        status="ok",
        seconds=seconds,
        events=replication.events,
        final_stage=replication.final_stage,
        threat=replication.threat,
        commitment=replication.commitment,
        stage=replication.stage,
        counts=replication.counts,
    )


def run_batched(worlds: Sequence[World], tasks: Sequence[Task], timeseries: str) -> list[Output]:
    """Run replications on the batched engine: ``worlds[i]`` is task i's world.

    Consecutive tasks whose worlds share their shape run as one batch. A batch that raises is
    run again one replication at a time, so only the replications that fail become ``failed``
    outputs. Each output's ``seconds`` is its batch's time shared equally.
    """
    outputs: list[Output] = []
    start = 0
    while start < len(tasks):
        key = shape_key(worlds[start])
        stop = start + 1
        while stop < len(tasks) and (
            worlds[stop] is worlds[start] or shape_key(worlds[stop]) == key
        ):
            stop += 1
        group, group_worlds = tasks[start:stop], worlds[start:stop]
        clock = time.perf_counter()
        try:
            replications = run_batch(group_worlds, [t.seed for t in group], timeseries)
        except Exception:
            outputs.extend(_one_by_one(group_worlds, group, timeseries))
        else:
            share = (time.perf_counter() - clock) / len(group)
            outputs.extend(_output(t, r, share) for t, r in zip(group, replications, strict=True))
        start = stop
    return outputs


def _one_by_one(worlds: Sequence[World], tasks: Sequence[Task], timeseries: str) -> list[Output]:
    """Each replication alone on the batched engine; an exception becomes a failed output."""
    outputs = []
    for world, task in zip(worlds, tasks, strict=True):
        clock = time.perf_counter()
        try:
            (replication,) = run_batch(world, [task.seed], timeseries)
            outputs.append(_output(task, replication, time.perf_counter() - clock))
        except Exception as exc:
            detail = "".join(traceback.format_exception_only(exc)).strip()
            seconds = time.perf_counter() - clock
            outputs.append(Output(task=task, status="failed", error=detail, seconds=seconds))
    return outputs


def run_chunk(
    world: World, tasks: Sequence[Task], timeseries: str, engine: str = "mesa"
) -> list[Output]:
    """Run several replications of one world in one call (one task sent to a worker).

    BLAS is held to one thread: a replication's matrices are small, parallelism comes from
    running replications side by side, and a multithreaded BLAS on a busy machine is up to 50
    times slower on them. ``run_one`` and ``run_batch`` are looked up at call time, so tests
    can wrap them.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        if engine == "batched":
            return run_batched([world] * len(tasks), tasks, timeseries)
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
    engine: str = "mesa"
    #: One world per task (per-replication parameters); None: ``world`` for every task.
    worlds: tuple[World, ...] | None = None


def run_job(job: RunJob) -> list[Output]:
    """Run a :class:`RunJob` (in a worker)."""
    if job.worlds is None:
        return run_chunk(job.world, job.tasks, job.timeseries, job.engine)
    with threadpool_limits(limits=1, user_api="blas"):
        if job.engine == "batched":
            return run_batched(job.worlds, job.tasks, job.timeseries)
        return [run_one(w, t, job.timeseries) for w, t in zip(job.worlds, job.tasks, strict=True)]
