"""Seeded replications of a scenario, executed in-process or on any executor.

Replication ``r`` of a run with root seed ``S`` draws all its randomness from
``numpy.random.SeedSequence(S).spawn(R)[r]`` (equivalently ``SeedSequence(S, spawn_key=(r,))``),
so its result does not depend on the number of workers or the order in which runs finish.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from treatysim.model.world import World
from treatysim.scenario.errors import Problem, ValidationError
from treatysim.scenario.load import Loaded, revalidate

#: Where runs go when no --out is given (relative to the working directory).
DEFAULT_RESULTS = Path("results")


# --------------------------------------------------------------------------------------------
# seeds and ids


def replication_seed(root: int, *key: int) -> int:
    """The 63-bit seed of a replication, from the root seed and its spawn key.

    ``replication_seed(S, r)`` is the seed of ``SeedSequence(S).spawn(...)[r]``; sweeps use the
    key ``(point, replication)``.
    """
    child = np.random.SeedSequence(root, spawn_key=key)
    return int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def scenario_digest(resolved: dict[str, Any]) -> str:
    """A stable digest of a resolved scenario (canonical JSON)."""
    text = json.dumps(resolved, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def run_id(digest: str, root_seed: int, *key: int) -> str:
    """A run's id: the same scenario, root seed and replication give the same id."""
    text = f"{digest}:{root_seed}:{':'.join(map(str, key))}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# one replication


@dataclass
class Task:
    """One replication to run."""

    replication: int
    seed: int
    run_id: str
    point: int = -1


@dataclass
class Output:
    """What a replication returns to the parent: compact arrays, not DataFrames."""

    task: Task
    status: str
    error: str = ""
    seconds: float = 0.0
    events: dict[str, np.ndarray] = field(default_factory=dict)
    final_stage: np.ndarray | None = None
    threat: np.ndarray | None = None
    commitment: np.ndarray | None = None
    stage: np.ndarray | None = None
    counts: np.ndarray | None = None


#: Test hook: a replication whose (point, replication) is listed here raises (failure injection).
FAIL_ENV = "TREATYSIM_FAIL_RUNS"


def run_one(world: World, task: Task, timeseries: str) -> Output:
    """Run one replication; an exception becomes a ``failed`` output, never a crash."""
    from treatysim.model.treaty_model import TreatyModel

    start = time.perf_counter()
    try:
        _maybe_fail(task)
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


def _maybe_fail(task: Task) -> None:
    spec = os.environ.get(FAIL_ENV)
    if not spec:
        return
    for item in spec.split(","):
        point, _, replication = item.partition(":")
        if int(point) == task.point and int(replication) == task.replication:
            raise RuntimeError(
                f"injected failure (point {task.point}, replication {task.replication})"
            )


def run_chunk(world: World, tasks: Sequence[Task], timeseries: str) -> list[Output]:
    """Run several replications in one call (one task sent to a worker).

    BLAS is held to one thread: a replication's matrices are small, parallelism comes from
    running replications side by side, and a multithreaded BLAS on a busy machine is up to 50
    times slower on them.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return [run_one(world, task, timeseries) for task in tasks]


def chunked[T](items: Sequence[T], size: int) -> list[Sequence[T]]:
    """Split a sequence into consecutive chunks."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def execute(
    world: World,
    tasks: Sequence[Task],
    timeseries: str,
    *,
    workers: int = 1,
    executor: Executor | None = None,
    chunk_size: int | None = None,
    on_done: Callable[[list[Output]], None] | None = None,
) -> Iterable[list[Output]]:
    """Run tasks in-process, on a process pool, or on a given executor; yield finished chunks.

    Args:
        world: The resolved scenario.
        tasks: Replications to run.
        timeseries: Recording mode.
        workers: Process count when no executor is given (1 runs in-process).
        executor: Any ``concurrent.futures.Executor`` (used as given, not shut down).
        chunk_size: Tasks per submitted call; by default about four chunks per worker.
        on_done: Called with each finished chunk (e.g. a progress bar).
    """
    if not tasks:
        return
    if executor is None and workers <= 1:
        for chunk in chunked(tasks, chunk_size or 16):
            outputs = run_chunk(world, chunk, timeseries)
            if on_done:
                on_done(outputs)
            yield outputs
        return
    size = chunk_size or max(1, min(64, -(-len(tasks) // (max(workers, 1) * 4))))
    owned = executor is None
    pool = executor or _process_pool(workers)
    try:
        futures = [
            pool.submit(run_chunk, world, chunk, timeseries) for chunk in chunked(tasks, size)
        ]
        for future in as_completed(futures):
            outputs = future.result()
            if on_done:
                on_done(outputs)
            yield outputs
    finally:
        if owned:
            pool.shutdown(wait=True, cancel_futures=True)


def _process_pool(workers: int) -> Executor:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # forkserver: no fork of a parent that may hold threads or locks, and no global side effect
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("forkserver")
    )


# --------------------------------------------------------------------------------------------
# scenario resolution (--set)


def apply_overrides(loaded: Loaded[Any], assignments: Sequence[str]) -> Loaded[Any]:
    """Apply ``key.path=value`` overrides to a loaded scenario and validate the result.

    Raises:
        ValidationError: A malformed assignment, or a value the schema or checks reject.
    """
    return revalidate(loaded, assignments)


def resolved_document(loaded: Loaded[Any], replications: int, seed: int) -> dict[str, Any]:
    """The scenario as it ran: every default filled in, dataset paths made absolute."""
    from treatysim.scenario.dataset import BUNDLED_DATASETS, BUNDLED_OBSERVED

    data = loaded.model.model_dump(mode="json")
    data["run"]["replications"] = replications
    data["run"]["seed"] = seed
    base = loaded.base_dir or Path.cwd()
    population = data["states"].get("synthetic")
    if population is not None:
        del data["states"]["dataset"]  # a synthetic population replaces the dataset
        network = population["network"]
        if network.get("file"):
            network["file"] = str((base / network["file"]).resolve())
    elif data["states"]["dataset"] not in BUNDLED_DATASETS:
        data["states"]["dataset"] = str((base / data["states"]["dataset"]).resolve())
    observed = data["observed"]["dataset"]
    if observed is not None and observed not in BUNDLED_OBSERVED:
        data["observed"]["dataset"] = str((base / observed).resolve())
    return data


# --------------------------------------------------------------------------------------------
# progress


class Progress:
    """A one-line progress bar on a terminal: runs done, rate and ETA. Silent elsewhere."""

    def __init__(self, total: int, *, enabled: bool, stream: Any = None) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.enabled = enabled and getattr(self.stream, "isatty", lambda: False)()
        self.start = time.perf_counter()
        self._last = 0.0

    def update(self, outputs: list[Output]) -> None:
        """Count finished runs and redraw at most ten times a second."""
        self.done += len(outputs)
        now = time.perf_counter()
        if not self.enabled or (now - self._last < 0.1 and self.done < self.total):
            return
        self._last = now
        elapsed = now - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else float("nan")
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(
            f"\r[{bar}] {self.done}/{self.total} runs  {rate:,.1f} runs/s  ETA {eta:,.0f} s "
        )
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


# --------------------------------------------------------------------------------------------
# the run command


def environment_info() -> dict[str, Any]:
    """Versions and commit for the manifest."""
    import mesa

    from treatysim import __version__

    return {
        "treatysim": __version__,
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "mesa": mesa.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def _git_commit() -> str | None:
    import subprocess

    here = Path(__file__).resolve().parent.parent
    if not (here / ".git").exists():
        return None
    try:
        out = subprocess.run(  # noqa: S603 (fixed arguments, no user input)
            ["git", "-C", str(here), "rev-parse", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def default_folder(name: str, root: Path = DEFAULT_RESULTS) -> Path:
    """``results/<name>/<timestamp>``, unique even for runs started within one second."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = root / name / stamp
    n = 1
    while folder.exists():
        n += 1
        folder = root / name / f"{stamp}-{n}"
    return folder


def sha256_file(path: Path | None) -> str | None:
    """Hex sha256 of a file's bytes, or None."""
    if path is None or not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class RunSummary:
    """What :func:`run_scenario` returns."""

    folder: Path
    replications: int
    failed: int
    seconds: float


def run_scenario(
    loaded: Loaded[Any],
    *,
    replications: int | None = None,
    seed: int | None = None,
    out: Path | None = None,
    workers: int = 1,
    timeseries: str | None = None,
    executor: Executor | None = None,
    quiet: bool = False,
    command: Sequence[str] | None = None,
    report: bool = True,
    svg: bool = False,
) -> RunSummary:
    """Run a scenario's replications and write a complete run folder.

    Args:
        loaded: A validated scenario (after any ``--set`` overrides).
        replications: Overrides ``run.replications``.
        seed: Overrides ``run.seed``.
        out: Output folder (default ``results/<name>/<timestamp>``); must be new or empty.
        workers: Processes (1: in-process).
        timeseries: Overrides ``run.timeseries`` (full, counts or none).
        executor: Any ``concurrent.futures.Executor`` instead of a process pool.
        quiet: No progress bar.
        command: The command line, for the manifest.
        report: Write the summary and plots after the tables.
        svg: Also write SVG plots.

    Raises:
        ValidationError: Bad settings (e.g. an output folder that is not empty).
    """
    from treatysim.model.world import build_world
    from treatysim.results import tables as records
    from treatysim.results.store import (
        EVENTS,
        MANIFEST,
        RUNS,
        SCENARIO,
        TIMESERIES,
        mark_complete,
        mark_incomplete,
        write_json,
        write_parquet,
        write_text,
    )
    from treatysim.scenario.yamlio import dump_yaml

    scenario = loaded.model
    n_reps = replications if replications is not None else scenario.run.replications
    root = seed if seed is not None else scenario.run.seed
    mode = timeseries or scenario.run.timeseries
    if n_reps < 1:
        raise ValidationError([Problem("--replications", 1, 1, "run.replications", "must be >= 1")])
    folder = out if out is not None else default_folder(scenario.name)
    if folder.exists() and any(folder.iterdir()):
        raise ValidationError(
            [Problem(str(folder), 0, 0, "--out", "the output folder exists and is not empty")]
        )
    started = dt.datetime.now(dt.UTC)
    resolved = resolved_document(loaded, n_reps, root)
    digest = scenario_digest(resolved)
    mark_incomplete(folder, "run in progress or interrupted")
    write_text(folder / SCENARIO, "# The resolved scenario as it ran.\n" + dump_yaml(resolved))

    world = build_world(scenario, loaded.base_dir)
    tasks = [Task(r, replication_seed(root, r), run_id(digest, root, r)) for r in range(n_reps)]
    progress = Progress(n_reps, enabled=not quiet)
    clock = time.perf_counter()
    outputs: list[Output] = []
    for chunk in execute(
        world, tasks, mode, workers=workers, executor=executor, on_done=progress.update
    ):
        outputs.extend(chunk)
    outputs.sort(key=lambda o: o.task.replication)
    seconds = time.perf_counter() - clock

    tables = records.tables(world, outputs, mode)
    write_parquet(folder / RUNS, tables.runs)
    write_parquet(folder / EVENTS, tables.events)
    if tables.timeseries is not None:
        write_parquet(folder / TIMESERIES, tables.timeseries)
    failed = int((tables.runs["status"] == "failed").sum())
    manifest = {
        "kind": "run",
        **environment_info(),
        "command": list(command) if command is not None else sys.argv,
        "scenario_file": str(loaded.path) if loaded.path else None,
        "scenario_sha256": sha256_file(loaded.path),
        "resolved_scenario_sha256": digest,
        "scenario_name": scenario.name,
        "root_seed": root,
        "replications": n_reps,
        "seeds": [t.seed for t in tasks],
        "run_ids": [t.run_id for t in tasks],
        "timeseries": mode,
        "workers": workers if executor is None else type(executor).__name__,
        "failed": failed,
        "started": started.isoformat(),
        "finished": dt.datetime.now(dt.UTC).isoformat(),
        "seconds": round(seconds, 3),
    }
    write_json(folder / MANIFEST, manifest)
    if report:
        from treatysim.report.run_report import build_report

        build_report(folder, svg=svg, require_complete=False)
    mark_complete(folder)
    return RunSummary(folder, n_reps, failed, seconds)
