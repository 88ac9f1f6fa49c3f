"""Parameter sweeps: points × replications, run in chunks on any executor, streamed to disk.

A sweep file names a base scenario, factors (scenario key paths), a design, replications per
point, outcomes and a root seed. Point ``p``'s scenario is the base document with the point's
factor values set (:func:`treatysim.scenario.keypath.set_path`) and validated like any scenario file. Run
``(p, r)`` has the seed ``replication_seed(root, p, r)`` and the id
``run_id(digest of p's resolved scenario, root, p, r)``, so its result is the same whatever the
executor, the number of workers or the order in which chunks finish.

Execution and storage (the folder layout is in ``docs/sweeps.md``):

- Pending runs are cut into chunks of consecutive ``(point, replication)`` keys. A chunk carries
  each of its points' :class:`~treatysim.model.world.World` once, and a worker returns compact Arrow tables,
  never Python objects per run.
- At most ``2 × slots`` chunks are in flight; finished chunks are buffered (a bounded number of
  runs, first for about a second, then for up to 30 s) and written as numbered shards: first
  ``shards/events-N.parquet`` (and ``timeseries-N``), then ``shards/runs-N.parquet``, each
  written to a temporary name and renamed. A runs shard is the commit record of its number.
- The parent keeps one status byte per run (missing, ok, failed) and no other per-run data.
- ``--resume`` deletes temporary leftovers and uncommitted event shards, re-reads the committed
  runs shards' keys and runs only what is missing. ``--retry-failed`` also reruns keys whose
  latest row failed; the newer shard supersedes the older row.
- Consolidation streams the shards, point range by point range, into ``runs.parquet`` and
  ``events.parquet`` sorted by ``(point, replication)``, keeping for each key the row from the
  newest shard and the events from that same shard. The ``INCOMPLETE`` marker goes last.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED as _FIRST_COMPLETED
from concurrent.futures import BrokenExecutor, Executor, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from treatysim.results.shards import (
    FAILURES_LISTED,
    SHARDS,
    STATUS_FAILED,
    STATUS_MISSING,
    STATUS_OK,
    ChunkResult,
    Consolidated,
    ShardWriter,
    SweepError,
    consolidate,
    events_arrow,
    events_schema,
    runs_arrow,
    runs_schema,
    scan_folder,
    timeseries_arrow,
    timeseries_schema,
    write_table,
)
from treatysim.run.runner import (
    Output,
    Task,
    replication_seed,
    run_chunk,
    run_id,
    scenario_digest,
)
from treatysim.scenario.errors import Problem, ValidationError

if TYPE_CHECKING:
    from treatysim.model.world import World
    from treatysim.scenario.designs import Points
    from treatysim.scenario.load import Loaded
    from treatysim.scenario.sweep import Sweep

#: What a sweep folder must match to be resumed (written when the sweep starts).
PLAN = "plan.json"
#: One row per point.
DESIGN = "design.parquet"
#: A copy of the sweep file as given.
SWEEP_COPY = "sweep.yaml"
#: Per point and outcome statistics (written by :mod:`treatysim.report.sweep_report`).
POINT_SUMMARY = "point_summary.parquet"
#: Sobol' or Morris indices (saltelli and morris designs).
SENSITIVITY = "sensitivity.json"
#: Held while a process writes to the folder.
LOCK = ".lock"
#: Version of the shard layout; a folder written by another layout is not resumed.
LAYOUT_VERSION = 1


@dataclass(frozen=True)
class PointJob:
    """Replications of one point: its world, sent once per chunk, and its tasks."""

    point: int
    world: World
    tasks: tuple[Task, ...]


@dataclass(frozen=True)
class ChunkJob:
    """What one submitted call runs: replications of one or several consecutive points."""

    points: tuple[PointJob, ...]
    timeseries: str

    @property
    def n_runs(self) -> int:
        """Replications in the chunk."""
        return sum(len(p.tasks) for p in self.points)


def run_sweep_chunk(job: ChunkJob) -> ChunkResult:
    """Run a chunk's replications (in a worker) and return their tables.

    A replication that raises becomes a ``failed`` row with its error; the chunk goes on.
    """
    import pyarrow as pa

    start = time.perf_counter()
    runs, events, series = [], [], []
    failed = 0
    for point_job in job.points:
        outputs = run_chunk(point_job.world, point_job.tasks, job.timeseries)
        failed += sum(o.status != "ok" for o in outputs)
        runs.append(runs_arrow(point_job.world, outputs))
        events.append(events_arrow(point_job.world, outputs))
        if job.timeseries == "counts":
            series.append(timeseries_arrow(point_job.world, outputs, point_job.point))
    return ChunkResult(
        runs=pa.concat_tables(runs),
        events=pa.concat_tables(events),
        timeseries=pa.concat_tables(series) if series else None,
        failed=failed,
        seconds=time.perf_counter() - start,
    )


def failed_chunk(job: ChunkJob, error: BaseException) -> ChunkResult:
    """Rows for a chunk whose call raised outside the replications (e.g. a worker died)."""
    import pyarrow as pa

    detail = f"chunk failed: {type(error).__name__}: {error}".strip()
    runs = []
    for point_job in job.points:
        outputs = [Output(task=t, status="failed", error=detail) for t in point_job.tasks]
        runs.append(runs_arrow(point_job.world, outputs))
    return ChunkResult(
        runs=pa.concat_tables(runs),
        events=events_schema().empty_table(),
        timeseries=timeseries_schema().empty_table() if job.timeseries == "counts" else None,
        failed=job.n_runs,
        seconds=0.0,
    )


# --------------------------------------------------------------------------------------------
# the plan: a sweep file resolved into points


@dataclass
class SweepPlan:
    """A validated sweep with its base scenario and design, ready to run.

    Attributes:
        loaded: The sweep file.
        base: The base scenario.
        points: The design's points.
        base_resolved: The base scenario as it runs (defaults filled, seed and replications set).
    """

    loaded: Loaded[Sweep]
    base: Loaded[Any]
    points: Points
    base_resolved: dict[str, Any]

    @property
    def sweep(self) -> Sweep:
        """The sweep model."""
        return self.loaded.model

    @property
    def n_points(self) -> int:
        """Points in the design."""
        return len(self.points)

    @property
    def replications(self) -> int:
        """Replications per point."""
        return self.sweep.replications

    @property
    def n_runs(self) -> int:
        """Points × replications."""
        return self.n_points * self.replications

    @property
    def root(self) -> int:
        """The root seed."""
        return self.sweep.seed

    def point_scenario(self, point: int) -> tuple[Loaded[Any], str]:
        """The point's validated scenario and the digest of its resolved document.

        Raises:
            ValidationError: The factor values make a scenario the schema or checks reject.
        """
        from treatysim.run.runner import resolved_document
        from treatysim.scenario.checks import check_scenario
        from treatysim.scenario.keypath import set_path
        from treatysim.scenario.load import Loaded, validate_document
        from treatysim.scenario.schema import Scenario
        from treatysim.scenario.yamlio import Document

        base = self.base.document
        data = base.data
        for path, value in self.points.assignments(point):
            data = set_path(data, path, value)
        doc = Document(data, base.file, base.value_pos, base.key_pos)
        loaded = Loaded(validate_document(doc, Scenario), doc, self.base.path)
        problems = check_scenario(loaded)
        if problems:
            raise ValidationError(problems)
        resolved = resolved_document(loaded, self.replications, self.root)
        resolved["run"]["timeseries"] = self.sweep.timeseries
        return loaded, scenario_digest(resolved)

    def fingerprint(self) -> dict[str, Any]:
        """Everything a run's result depends on; a folder is resumed only if this matches."""
        import hashlib

        design = hashlib.sha256()
        for column in self.points.columns:
            design.update(str(column.dtype).encode())
            if column.dtype == object:
                design.update("\x1f".join(map(repr, column)).encode())
            else:
                design.update(np.ascontiguousarray(column).tobytes())
        return {
            "layout": LAYOUT_VERSION,
            "base_scenario_digest": scenario_digest(self.base_resolved),
            "factors": [f.model_dump(mode="json") for f in self.sweep.factors],
            "design": self.sweep.design.model_dump(mode="json"),
            "design_digest": design.hexdigest(),
            "points": self.n_points,
            "replications": self.replications,
            "root_seed": self.root,
            "timeseries": self.sweep.timeseries,
        }


def prepare(path: str | Path | Loaded[Any], *, check_points: bool = True) -> SweepPlan:
    """Load a sweep file, its base scenario and its design; validate every point's scenario.

    Args:
        path: The sweep file (or one already loaded with :func:`treatysim.scenario.load.load_sweep`).
        check_points: Validate each point's scenario now (catches a bad value before any run).

    Raises:
        ValidationError: Any problem in the sweep, its base, its design or a point.
    """
    from treatysim.run.runner import resolved_document
    from treatysim.scenario.designs import DesignError, generate
    from treatysim.scenario.load import load_scenario
    from treatysim.scenario.load import load_sweep

    loaded = load_sweep(path) if isinstance(path, str | Path) else path
    sweep: Sweep = loaded.model
    base = load_scenario((loaded.base_dir or Path.cwd()) / sweep.base)
    try:
        points = generate(sweep, loaded.base_dir)
    except DesignError as exc:
        raise ValidationError([loaded.document.problem(("design",), "design", str(exc))]) from None
    resolved = resolved_document(base, sweep.replications, sweep.seed)
    resolved["run"]["timeseries"] = sweep.timeseries
    plan = SweepPlan(loaded, base, points, resolved)
    if check_points:
        _check_points(plan)
    return plan


def _check_points(plan: SweepPlan, limit: int = 20) -> None:
    problems: list[Problem] = []
    for point in range(plan.n_points):
        try:
            plan.point_scenario(point)
        except ValidationError as exc:
            first = exc.problems[0]
            values = ", ".join(f"{p}={v}" for p, v in plan.points.assignments(point))
            problems.append(
                plan.loaded.document.problem(
                    ("factors",),
                    f"design point {point}",
                    f"{values}: {first.path}: {first.message}",
                )
            )
            if len(problems) >= limit:
                break
    if problems:
        raise ValidationError(problems)


# --------------------------------------------------------------------------------------------
# chunks of pending runs


def _jobs(
    plan: SweepPlan, pending: np.ndarray, chunk_size: int, timeseries: str
) -> Iterator[ChunkJob]:
    """Chunk jobs over the pending run keys (``point · R + replication``), in key order.

    A point's world is built once and reused while consecutive chunks hold the same point.
    """
    from treatysim.model.world import build_world

    reps = plan.replications
    cache: tuple[int, World, str] | None = None
    for start in range(0, len(pending), chunk_size):
        keys = pending[start : start + chunk_size]
        point_jobs = []
        for point in np.unique(keys // reps):
            point = int(point)
            if cache is None or cache[0] != point:
                loaded, digest = plan.point_scenario(point)
                cache = (point, build_world(loaded.model, loaded.base_dir), digest)
            _, world, digest = cache
            tasks = tuple(
                Task(
                    replication=int(r),
                    seed=replication_seed(plan.root, point, int(r)),
                    run_id=run_id(digest, plan.root, point, int(r)),
                    point=point,
                )
                for r in keys[keys // reps == point] % reps
            )
            point_jobs.append(PointJob(point, world, tasks))
        yield ChunkJob(tuple(point_jobs), timeseries)


def default_chunk_size(pending: int, slots: int) -> int:
    """About sixteen chunks per worker, between 1 and 32 runs each.

    Small enough that the last chunks do not leave workers idle for long, large enough that a
    chunk's overhead (one pickled world, one result) is a few percent of its run time.
    """
    return max(1, min(32, math.ceil(pending / max(1, slots * 16))))


# --------------------------------------------------------------------------------------------
# shards


class _Progress:
    """A one-line progress bar on a terminal: runs done, failures, rate and ETA."""

    def __init__(self, total: int, *, enabled: bool, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty() and total > 0
        self.start = time.perf_counter()
        self._last = 0.0

    def add(self, runs: int, failed: int) -> None:
        """Count a finished chunk and redraw at most ten times a second."""
        self.done += runs
        self.failed += failed
        now = time.perf_counter()
        if not self.enabled or (now - self._last < 0.1 and self.done < self.total):
            return
        self._last = now
        rate = self.done / max(now - self.start, 1e-9)
        eta = (self.total - self.done) / rate if rate > 0 else float("nan")
        filled = int(30 * self.done / self.total)
        bar = "#" * filled + "-" * (30 - filled)
        fail = f"  {self.failed} failed" if self.failed else ""
        self.stream.write(
            f"\r[{bar}] {self.done:,}/{self.total:,} runs{fail}  {rate:,.1f} runs/s  "
            f"ETA {eta:,.0f} s "
        )
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


# --------------------------------------------------------------------------------------------
# running a sweep


@dataclass
class SweepSummary:
    """What :func:`run_sweep` returns.

    Attributes:
        folder: The sweep folder.
        points: Points in the design.
        replications: Replications per point.
        runs: Points × replications.
        executed: Runs executed by this call (the rest were stored already).
        ok: Runs whose latest row is ok.
        failed: Runs whose latest row failed.
        failures: The first failures: point, replication, run_id and error.
        seconds: Wall time of the execution phase of this call.
        executor: Where the runs executed.
    """

    folder: Path
    points: int
    replications: int
    runs: int
    executed: int
    ok: int
    failed: int
    failures: list[dict[str, Any]]
    seconds: float
    executor: str

    @property
    def runs_per_second(self) -> float:
        """Runs executed per second of execution (0 when nothing ran)."""
        return self.executed / self.seconds if self.seconds > 0 else 0.0


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder, so two processes never write one sweep."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK
    with path.open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SweepError(f"{folder}: another treatysim process is writing this sweep") from None
        try:
            yield
        finally:
            path.unlink(missing_ok=True)
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _bad_input(key: str, message: str, where: str = "") -> ValidationError:
    return ValidationError([Problem(where or key, 0, 0, key, message)])


def _open_folder(plan: SweepPlan, folder: Path, *, resume: bool) -> dict[str, Any]:
    """Start a new sweep folder or check that an existing one is this sweep's; return its plan."""
    from treatysim.results.store import (
        INCOMPLETE,
        SCENARIO,
        mark_incomplete,
        write_json,
        write_text,
    )
    from treatysim.scenario.yamlio import dump_yaml

    fingerprint = plan.fingerprint()
    stored_path = folder / PLAN
    now = dt.datetime.now(dt.UTC).isoformat()
    if stored_path.is_file():
        if not resume:
            raise _bad_input(
                "--out", "holds a sweep already; add --resume to finish it", str(folder)
            )
        stored = json.loads(stored_path.read_text(encoding="utf-8"))
        old = stored.get("fingerprint", {})
        changed = sorted(k for k in set(old) | set(fingerprint) if old.get(k) != fingerprint.get(k))
        if changed:
            raise _bad_input(
                "--resume",
                f"the sweep in this folder differs from {plan.loaded.path} "
                f"({', '.join(changed)} changed); resume with the same sweep file",
                str(folder),
            )
        return dict(stored)
    # a folder with INCOMPLETE but no plan.json was interrupted before its first run
    started = resume and (folder / INCOMPLETE).exists() and not (folder / SHARDS).exists()
    if folder.exists() and not started and any(p.name != LOCK for p in folder.iterdir()):
        raise _bad_input("--out", "the output folder exists and is not empty", str(folder))
    mark_incomplete(folder, "sweep in progress or interrupted; finish it with --resume")
    assert plan.loaded.path is not None
    shutil.copyfile(plan.loaded.path, folder / SWEEP_COPY)
    write_text(
        folder / SCENARIO,
        "# The sweep's base scenario as it runs; each point sets the factors in design.parquet.\n"
        + dump_yaml(plan.base_resolved),
    )
    write_table(folder / DESIGN, plan.points.table())
    stored = {"fingerprint": fingerprint, "created": now, "sessions": []}
    write_json(stored_path, stored)
    assert (folder / INCOMPLETE).exists()
    return stored


def run_sweep(
    sweep: str | Path | SweepPlan,
    *,
    out: Path | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    executor_kind: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    retry_failed: bool = False,
    quiet: bool = True,
    command: Sequence[str] | None = None,
    report: bool = True,
    svg: bool = False,
    chunk_size: int | None = None,
    flush_seconds: float = 30.0,
    flush_runs: int = 5000,
    log: TextIO | None = None,
) -> SweepSummary:
    """Run a sweep (or finish one) and write a complete sweep folder.

    Args:
        sweep: A sweep file, or a plan from :func:`prepare`.
        out: The sweep folder (default ``results/<name>/<timestamp>``). Required to resume.
        workers: Worker processes (default: all cores); 1 runs in-process.
        executor: Any ``concurrent.futures.Executor`` (used as given, not shut down); chunks
            are sent with ``executor.submit(run_sweep_chunk, job)``.
        executor_kind: Without ``executor``: ``local`` or ``dask``.
        scheduler: Dask scheduler address (``executor_kind="dask"``); default a LocalCluster.
        resume: Finish the interrupted sweep in ``out``: stored runs are kept, the rest run.
        retry_failed: Also rerun the runs whose stored row failed (implies ``resume``).
        quiet: No progress bar.
        command: The command line, for the manifest.
        report: Write point_summary, sensitivity.json, summary and plots.
        svg: Also write SVG plots.
        chunk_size: Runs per submitted call (default: the sweep's ``chunk_size``, else automatic).
        flush_seconds: Longest time a finished chunk waits in memory before it is written
            (the first shard is written after about a second; see :class:`ShardWriter`).
        flush_runs: Most runs buffered before a shard is written.
        log: Where notes go (default stderr); nothing is written when ``quiet``.

    Raises:
        ValidationError: Bad input: the sweep, an output folder in use, a different sweep.
        SweepError: The executor broke; the folder can be resumed.
    """
    from treatysim.results.store import INCOMPLETE, MANIFEST, mark_incomplete, write_json
    from treatysim.run.executors import ExecutorHandle, default_workers, open_executor
    from treatysim.run.runner import default_folder

    plan = sweep if isinstance(sweep, SweepPlan) else prepare(sweep)
    resume = resume or retry_failed
    if resume and out is None:
        raise _bad_input("--resume", "resuming needs --out DIR, the folder of the sweep to finish")
    folder = out if out is not None else default_folder(plan.sweep.name)
    stream = log or sys.stderr

    def note(text: str) -> None:
        if not quiet:
            print(text, file=stream)

    with _folder_lock(folder):
        stored = _open_folder(plan, folder, resume=resume)
        state = scan_folder(folder, plan.n_points, plan.replications)
        for text in state.notes:
            note(f"resume: {text}")
        todo = state.status == STATUS_MISSING
        if retry_failed:
            todo |= state.status == STATUS_FAILED
        pending = np.flatnonzero(todo)
        complete = not (folder / INCOMPLETE).exists()
        if complete and len(pending) == 0 and (folder / MANIFEST).is_file():
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            note(f"{folder}: the sweep is complete; nothing to run")
            return _summary_from_manifest(folder, manifest)
        if complete:
            mark_incomplete(folder, "retrying failed runs; finish with --resume")
        session = {
            "started": dt.datetime.now(dt.UTC).isoformat(),
            "resumed": bool(stored.get("sessions")),
            "retry_failed": retry_failed,
            "stored_runs": int(plan.n_runs - todo.sum()),
            "to_run": len(pending),
        }
        n_workers = workers if workers is not None else default_workers()
        executed = 0
        clock = time.perf_counter()
        with contextlib.ExitStack() as stack:
            if executor is not None:
                handle = ExecutorHandle(executor, n_workers, type(executor).__name__)
            else:
                handle = stack.enter_context(open_executor(executor_kind, n_workers, scheduler))
            session["executor"] = handle.description
            stored.setdefault("sessions", []).append(session)
            write_json(folder / PLAN, stored)
            size = (
                chunk_size
                or plan.sweep.chunk_size
                or default_chunk_size(len(pending), handle.slots)
            )
            writer = ShardWriter(
                folder / SHARDS,
                state.next_number,
                flush_runs=flush_runs,
                flush_seconds=flush_seconds,
            )
            (folder / SHARDS).mkdir(exist_ok=True)
            progress = _Progress(len(pending), enabled=not quiet)
            jobs = _jobs(plan, pending, size, plan.sweep.timeseries)
            try:
                executed = _execute(jobs, handle, writer, progress)
            finally:
                writer.flush()
        seconds = time.perf_counter() - clock
        session["finished"] = dt.datetime.now(dt.UTC).isoformat()
        session["executed"] = executed
        session["seconds"] = round(seconds, 3)
        write_json(folder / PLAN, stored)

        state = scan_folder(folder, plan.n_points, plan.replications)
        result = consolidate(
            folder,
            state.layers,
            plan.n_points,
            plan.replications,
            timeseries=plan.sweep.timeseries == "counts",
        )
        manifest = _manifest(plan, stored, result, command, n_workers, session)
        write_json(folder / MANIFEST, manifest)
        if report:
            from treatysim.report.sweep_report import build_sweep_report

            build_sweep_report(folder, svg=svg, require_complete=False)
        shutil.rmtree(folder / SHARDS, ignore_errors=True)
        (folder / INCOMPLETE).unlink(missing_ok=True)
    return SweepSummary(
        folder=folder,
        points=plan.n_points,
        replications=plan.replications,
        runs=plan.n_runs,
        executed=executed,
        ok=result.ok,
        failed=result.failed,
        failures=result.failures,
        seconds=seconds,
        executor=str(session["executor"]),
    )


def _execute(
    jobs: Iterator[ChunkJob], handle: Any, writer: ShardWriter, progress: _Progress
) -> int:
    """Run chunk jobs on the handle's executor (or in-process), writing shards as they finish."""
    executed = 0

    def finished(result: ChunkResult) -> None:
        nonlocal executed
        writer.add(result)
        executed += result.n_runs
        progress.add(result.n_runs, result.failed)
        if writer.due():
            writer.flush()

    executor: Executor | None = handle.executor
    if executor is None:
        for job in jobs:
            try:
                result = run_sweep_chunk(job)
            except Exception as exc:  # a chunk that raises outside its replications
                result = failed_chunk(job, exc)
            finished(result)
        return executed
    window = max(2, 2 * handle.slots)
    in_flight: dict[Future[ChunkResult], ChunkJob] = {}
    exhausted = False
    while True:
        while not exhausted and len(in_flight) < window:
            upcoming = next(jobs, None)
            if upcoming is None:
                exhausted = True
                break
            in_flight[executor.submit(run_sweep_chunk, upcoming)] = upcoming
        if not in_flight:
            return executed
        done, _ = wait(list(in_flight), timeout=writer.seconds_left(), return_when=_FIRST_COMPLETED)
        for future in done:
            job = in_flight.pop(future)
            try:
                result = future.result()
            except BrokenExecutor as exc:
                raise SweepError(
                    f"the workers stopped ({exc}); finish the sweep with --resume"
                ) from exc
            except Exception as exc:
                result = failed_chunk(job, exc)
            finished(result)
        if writer.due():
            writer.flush()


def _versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {}
    for name in ("pandas", "pyarrow", "scipy", "SALib", "dask", "distributed"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _manifest(
    plan: SweepPlan,
    stored: dict[str, Any],
    result: Consolidated,
    command: Sequence[str] | None,
    workers: int,
    session: dict[str, Any],
) -> dict[str, Any]:
    from treatysim.run.runner import environment_info, sha256_file
    from treatysim.scenario.designs import DESIGN_STREAM

    sweep = plan.sweep
    design = sweep.design.model_dump(mode="json")
    if sweep.design.type == "table" and sweep.design.file:
        design["file_sha256"] = sha256_file(
            (plan.loaded.base_dir or Path.cwd()) / sweep.design.file
        )
    sessions = stored.get("sessions", [])
    return {
        "kind": "sweep",
        **environment_info(),
        "packages": _versions(),
        "command": list(command) if command is not None else sys.argv,
        "sweep_name": sweep.name,
        "sweep_file": str(plan.loaded.path) if plan.loaded.path else None,
        "sweep_sha256": sha256_file(plan.loaded.path),
        "base_scenario_file": str(plan.base.path) if plan.base.path else None,
        "base_scenario_sha256": sha256_file(plan.base.path),
        "resolved_base_sha256": scenario_digest(plan.base_resolved),
        "scenario_name": plan.base.model.name,
        "root_seed": sweep.seed,
        "design": design,
        "design_seed_rule": (
            f"design samples draw from numpy SeedSequence(root_seed, spawn_key=({DESIGN_STREAM},))"
        ),
        "factors": [
            {"name": f.label, "path": f.path, **f.model_dump(mode="json", exclude={"name", "path"})}
            for f in sweep.factors
        ],
        "points": plan.n_points,
        "replications": sweep.replications,
        "runs": plan.n_runs,
        "seed_rule": (
            "run (point p, replication r): seed = replication_seed(root_seed, p, r), the first "
            "uint64 of numpy SeedSequence(root_seed, spawn_key=(p, r)) shifted right by 1"
        ),
        "seeds": "one per run in runs.parquet, column 'seed'",
        "run_id_rule": (
            "run_id(sha256 of point p's resolved scenario, root_seed, p, r); column 'run_id'"
        ),
        "outcomes": list(sweep.outcomes),
        "thresholds": list(sweep.thresholds),
        "timeseries": sweep.timeseries,
        "ok": result.ok,
        "failed": result.failed,
        "failures": result.failures,
        "failures_listed": min(result.failed, FAILURES_LISTED),
        "workers": workers,
        "executor": session.get("executor"),
        "sessions": sessions,
        "started": stored.get("created"),
        "finished": dt.datetime.now(dt.UTC).isoformat(),
        "seconds": round(sum(float(s.get("seconds", 0.0)) for s in sessions), 3),
    }


def _summary_from_manifest(folder: Path, manifest: dict[str, Any]) -> SweepSummary:
    return SweepSummary(
        folder=folder,
        points=int(manifest["points"]),
        replications=int(manifest["replications"]),
        runs=int(manifest["runs"]),
        executed=0,
        ok=int(manifest["ok"]),
        failed=int(manifest["failed"]),
        failures=list(manifest.get("failures", []))[:FAILURES_LISTED],
        seconds=0.0,
        executor=str(manifest.get("executor")),
    )


# --------------------------------------------------------------------------------------------
# dry run


@dataclass
class Estimate:
    """What a dry run measures: seconds and bytes per run of the base scenario."""

    seconds_per_run: float
    bytes_per_run: float
    timed_runs: int


def estimate(plan: SweepPlan, runs: int = 3) -> Estimate:
    """Time a few real runs of the base scenario (after one warm-up) and size their tables."""
    import io

    import pyarrow.parquet as pq

    from treatysim.model.world import build_world

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

    def parquet_bytes(table: Any) -> int:
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        return sink.tell()

    size = parquet_bytes(runs_arrow(world, outputs)) - parquet_bytes(
        runs_schema(world).empty_table()
    )
    size += parquet_bytes(events_arrow(world, outputs)) - parquet_bytes(
        events_schema().empty_table()
    )
    if mode == "counts":
        size += parquet_bytes(timeseries_arrow(world, outputs, 0))
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
    from treatysim.scenario.designs import describe

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


# --------------------------------------------------------------------------------------------
# the command


def _require_salib(plan_design: str) -> str | None:
    """The one-line error for a saltelli or morris design without SALib, else None."""
    if plan_design not in ("saltelli", "morris"):
        return None
    try:
        import SALib.analyze
        import SALib.sample  # noqa: F401
    except ImportError:
        from treatysim.scenario.designs import missing_salib

        return missing_salib(plan_design)
    return None


def sweep_command(args: argparse.Namespace, command: Sequence[str]) -> int:
    """``treatysim sweep``: run, resume, retry or size up a sweep; returns the exit code.

    Exit codes: 0 every run ok, 1 some runs failed or the sweep stopped, 2 bad input.
    """
    from treatysim.run.executors import ExecutorError, default_workers
    from treatysim.scenario.load import load_sweep

    workers = args.workers if args.workers is not None else default_workers()
    if workers < 1:
        print("--workers: must be >= 1", file=sys.stderr)
        return 2
    if args.scheduler and args.executor != "dask":
        print("--scheduler: only with --executor dask", file=sys.stderr)
        return 2
    if (args.resume or args.retry_failed) and args.out is None:
        print("--resume/--retry-failed: give --out DIR, the folder of the sweep", file=sys.stderr)
        return 2
    loaded = load_sweep(args.sweep)
    missing = _require_salib(loaded.model.design.type)
    if missing:
        print(f"error: {missing}", file=sys.stderr)
        return 2
    plan = prepare(loaded)
    if args.dry_run:
        stored = 0
        if args.out is not None and (args.out / PLAN).is_file():
            state = scan_folder(args.out, plan.n_points, plan.replications, clean=False)
            stored = int((state.status == STATUS_OK).sum())
        print(dry_run_text(plan, workers, stored=stored))
        return 0
    try:
        summary = run_sweep(
            plan,
            out=args.out,
            workers=workers,
            executor_kind=args.executor,
            scheduler=args.scheduler,
            resume=args.resume,
            retry_failed=args.retry_failed,
            quiet=args.quiet,
            command=command,
        )
    except ExecutorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SweepError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(_summary_text(summary))
    return 1 if summary.failed else 0


def _summary_text(summary: SweepSummary, listed: int = 20) -> str:
    before = summary.runs - summary.executed
    lines = [
        f"sweep: {summary.points:,} points × {summary.replications:,} replications = "
        f"{summary.runs:,} runs ({summary.executed:,} run now"
        + (f", {before:,} stored before" if before else "")
        + ")",
        f"executor: {summary.executor}; {summary.seconds:,.1f} s, "
        f"{summary.runs_per_second:,.1f} runs/s",
        f"ok: {summary.ok:,}; failed: {summary.failed:,}",
    ]
    for failure in summary.failures[:listed]:
        lines.append(
            f"  failed: point {failure['point']}, replication {failure['replication']}: "
            f"{failure['error']}"
        )
    if summary.failed > listed:
        lines.append(f"  ... and {summary.failed - listed:,} more (runs.parquet, status 'failed')")
    if summary.failed:
        lines.append(
            f"rerun them with: treatysim sweep SWEEP --out {summary.folder} --retry-failed"
        )
    lines.append(f"results: {summary.folder}")
    if (summary.folder / "summary.md").is_file():
        lines.append(f"report: {summary.folder / 'summary.md'}")
    return "\n".join(lines)
