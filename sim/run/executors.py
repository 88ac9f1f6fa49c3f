"""Where runs execute: in-process, a local process pool, or a Dask cluster.

The only pool layer, used by ``treatysim run`` and ``treatysim sweep``. An executor decides where
runs execute and nothing else (the EMA Workbench's evaluators): every backend receives the same
picklable jobs and returns the same results, so tables do not depend on the backend or the
number of workers.

- ``in-process``: one worker, no pool (``--workers 1``).
- ``local``: a :class:`~concurrent.futures.ProcessPoolExecutor` whose processes live for the
  whole sweep (forkserver start method, set on the pool's own context, never globally).
- ``dask``: a ``dask.distributed`` client, either to an existing scheduler (``--scheduler
  tcp://HOST:PORT``) or to a ``LocalCluster`` of single-threaded worker processes. Dask is
  imported only here, only when chosen.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from treatysim.model import treaty_model  # noqa: F401  (warms a worker: see _init_worker)

#: Dask settings for the LocalCluster's workers (the nannies pass them on). A worker's event loop
#: shares the GIL with the thread that runs the model; by default it wakes about 160 times a
#: second (a 20 ms tick, a 100 ms memory monitor, a 10 ms statistical profiler), and on a busy
#: machine every wake-up can stall the pure-Python model for a scheduler time slice. Fewer
#: wake-ups keep Dask's throughput close to the local pool's.
QUIET_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
}


class ExecutorError(RuntimeError):
    """An executor cannot be opened (a missing optional dependency, an unreachable scheduler)."""


@dataclass(frozen=True)
class ExecutorHandle:
    """An open executor and what the sweep needs to know about it.

    Attributes:
        executor: The executor, or None to run chunks in the calling process.
        slots: How many chunks run at once (worker processes or Dask worker threads).
        description: For the progress line and the manifest, e.g. ``local process pool (2)``.
    """

    executor: Executor | None
    slots: int
    description: str


#: Sweeps with fewer runs than this run in-process by default. Opening the process pool costs
#: 1 to 3 s on an idle machine (a forkserver, then Mesa, numpy and the model imported in every
#: worker) and far more on a busy one, while a run of the founding case takes 30 to 80 ms: with
#: two workers the pool only pays once the runs alone take several seconds. Measured on a
#: 2-core machine (issue 13): 90 runs took 3.2 s in-process against 8.2 s on the pool.
POOL_MIN_RUNS = 200


def default_workers(runs: int | None = None) -> int:
    """The worker count a sweep uses when none is given.

    In-process (1) for a sweep of fewer than :data:`POOL_MIN_RUNS` runs; otherwise the cores the
    machine has free: all cores less the one-minute load average (other work already running),
    at least 1. On a machine whose cores are all busy a pool only adds start-up and contention:
    measured on a 2-core machine at load 6, 300 runs took 15 s in-process and 31 s on a pool of
    two.

    Args:
        runs: Runs the sweep will execute (None: unknown, only the load counts).
    """
    cores = os.cpu_count() or 1
    if runs is not None and runs < POOL_MIN_RUNS:
        return 1
    try:
        busy = os.getloadavg()[0]
    except (OSError, AttributeError):  # not available on every platform
        busy = 0.0
    return max(1, min(cores, round(cores - busy)))


def _init_worker(parent: int | None = None) -> None:
    """Start a pool worker before the first job arrives.

    Unpickling this function imports this module, and with it Mesa and the model (imported at
    the top for that reason), so the first job does not pay for the imports. With ``parent``
    (the pid of the process that owns the pool) the worker exits when that process dies,
    even by SIGKILL: a watchdog thread polls it (the worker's own parent is the forkserver).
    """
    if parent is not None:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int, interval: float = 0.5) -> None:
    """Exit this process as soon as ``parent`` is gone."""
    while True:
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # the pid was reused by another user's process
            os._exit(1)
        time.sleep(interval)


def _prepare_dask_worker() -> None:
    """Start a LocalCluster worker like a pool worker, and hold the GIL longer.

    The model runs in a worker thread beside Dask's event loop. A longer switch interval
    (50 ms instead of 5 ms) means fewer GIL hand-overs, each of which can cost a scheduler
    time slice when the machine is busy.
    """
    import sys

    sys.setswitchinterval(0.05)
    _init_worker()


def local_pool(workers: int) -> Executor:
    """A process pool of ``workers`` long-lived processes (forkserver start method)."""
    context = multiprocessing.get_context("forkserver")
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(os.getpid(),),
    )


@contextmanager
def open_executor(
    kind: str = "local", workers: int | None = None, scheduler: str | None = None
) -> Iterator[ExecutorHandle]:
    """Open an executor and close it afterwards.

    Args:
        kind: ``local`` (in-process for one worker, else a process pool) or ``dask``.
        workers: Worker processes (default: all cores). For Dask with a scheduler address the
            cluster's own workers are used and this is ignored.
        scheduler: Address of a running Dask scheduler, e.g. ``tcp://10.0.0.5:8786``.

    Raises:
        ExecutorError: Dask is not installed, or the scheduler cannot be reached.
    """
    n = workers if workers is not None else default_workers()
    if kind == "local":
        if n <= 1:
            yield ExecutorHandle(None, 1, "in-process (1 worker)")
            return
        pool = local_pool(n)
        try:
            yield ExecutorHandle(pool, n, f"local process pool ({n} workers)")
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    if kind != "dask":
        raise ExecutorError(f"unknown executor '{kind}' (local or dask)")
    with _dask_client(n, scheduler) as (client, description):
        slots = sum(client.nthreads().values()) or n
        yield ExecutorHandle(client.get_executor(pure=False), slots, description)


@contextmanager
def _dask_client(workers: int, scheduler: str | None) -> Iterator[tuple[Any, str]]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ExecutorError(
            'the dask executor needs dask.distributed: pip install "treatysim[distributed]"'
        ) from exc
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
        try:
            yield client, f"dask cluster at {scheduler}"
        finally:
            client.close()
        return
    import dask

    with dask.config.set(QUIET_WORKERS):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    client = Client(cluster)
    client.run(_prepare_dask_worker)
    try:
        yield client, f"dask LocalCluster ({workers} workers)"
    finally:
        client.close()
        cluster.close()


def given_executor(executor: Executor, slots: int) -> ExecutorHandle:
    """A handle for an executor the caller owns (it is used as given, never shut down)."""
    return ExecutorHandle(executor, max(1, slots), type(executor).__name__)


def run_jobs[J, R](
    handle: ExecutorHandle,
    function: Callable[[J], R],
    jobs: Iterator[J],
    *,
    window: int | None = None,
    timeout: Callable[[], float | None] = lambda: None,
) -> Iterator[tuple[J, R | Exception] | None]:
    """Run ``function(job)`` for every job on the handle's executor; yield results as they come.

    Yields ``(job, result)``, or ``(job, exception)`` when the call raised. At most ``window``
    jobs (default ``2 × slots``) are in flight, so jobs are built only as they are needed. When
    ``timeout()`` seconds pass without a result, None is yielded (a chance to flush buffers).

    Raises:
        concurrent.futures.BrokenExecutor: The workers died; nothing more can run.
    """
    from concurrent.futures import BrokenExecutor

    executor = handle.executor
    if executor is None:
        for job in jobs:
            try:
                yield job, function(job)
            except Exception as exc:  # a job that raises outside its replications
                yield job, exc
        return
    limit = window or max(2, 2 * handle.slots)
    in_flight: dict[Future[R], J] = {}
    exhausted = False
    try:
        while True:
            while not exhausted and len(in_flight) < limit:
                upcoming = next(jobs, None)
                if upcoming is None:
                    exhausted = True
                    break
                in_flight[executor.submit(function, upcoming)] = upcoming
            if not in_flight:
                return
            done, _ = wait(list(in_flight), timeout=timeout(), return_when=FIRST_COMPLETED)
            if not done:
                yield None
            for future in done:
                job = in_flight.pop(future)
                try:
                    outcome: R | Exception = future.result()
                except BrokenExecutor:
                    raise
                except Exception as exc:
                    outcome = exc
                yield job, outcome
    finally:
        for future in in_flight:
            future.cancel()
