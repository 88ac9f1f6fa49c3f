"""Parameter sweeps: points × replications, run in chunks on any executor, streamed to disk.

A sweep's plan (:mod:`treatysim.run.plan`) gives every run ``(p, r)`` its seed and id, so its
result is the same whatever the executor, the number of workers or the order in which chunks
finish. The runner returns a summary and writes no report (the CLI draws it afterwards).

Execution and storage (the folder layout is in ``docs/sweeps.md``):

- Pending runs are cut into chunks of consecutive ``(point, replication)`` keys. A chunk
  carries each of its points' :class:`~treatysim.model.world.World` once, and a worker returns
  compact Arrow tables, never Python objects per run.
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

import contextlib
import datetime as dt
import json
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import BrokenExecutor, Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from treatysim.results.integrity import RUNS_DIGEST, read_keys, runs_digest
from treatysim.results.manifest import environment_info, package_versions, sha256_file
from treatysim.results.shards import (
    FAILURES_LISTED,
    SHARDS,
    STATUS_FAILED,
    STATUS_MISSING,
    Consolidated,
    Layer,
    ShardWriter,
    SweepError,
    consolidate,
    scan_folder,
)
from treatysim.results.store import (
    DESIGN,
    INCOMPLETE,
    LOCK,
    MANIFEST,
    PLAN,
    RUNS,
    SCENARIO,
    SWEEP_COPY,
    atomic_path,
    mark_incomplete,
    write_json,
    write_table,
    write_text,
)
from treatysim.run.chunks import failed_chunk, run_sweep_chunk
from treatysim.run.ensemble import describe
from treatysim.run.executors import (
    ExecutorHandle,
    default_workers,
    given_executor,
    open_executor,
    run_jobs,
)
from treatysim.run.plan import (
    ChunkJob,
    SweepPlan,
    changed_inputs,
    chunk_jobs,
    default_chunk_size,
    prepare,
)
from treatysim.run.precise import Judge
from treatysim.run.progress import Progress
from treatysim.run.runner import choose_engine, default_folder
from treatysim.run.seeds import scenario_digest
from treatysim.run.sweep_precise import PrecisionRounds, new_layers
from treatysim.scenario.designs import DESIGN_STREAM
from treatysim.scenario.errors import Problem, ValidationError
from treatysim.scenario.yamlio import dump_yaml


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


@dataclass
class SweepOptions:
    """How to run a sweep (everything but the sweep itself).

    Attributes:
        out: The sweep folder (default ``results/<name>/<timestamp>``). Required to resume.
        workers: Worker processes (default: all cores); 1 runs in-process.
        executor: Any ``concurrent.futures.Executor`` (used as given, not shut down); chunks
            are sent with ``executor.submit(run_sweep_chunk, job)``.
        executor_kind: Without ``executor``: ``local`` or ``dask``.
        scheduler: Dask scheduler address (``executor_kind="dask"``); default a LocalCluster.
        resume: Finish the interrupted sweep in ``out``: stored runs are kept, the rest run.
        retry_failed: Also rerun the runs whose stored row failed (implies ``resume``).
        quiet: No progress display and no notes.
        command: The command line, for the manifest.
        chunk_size: Runs per submitted call (default: the sweep's ``chunk_size``, else automatic).
        flush_seconds: Longest time a finished chunk waits in memory before it is written
            (the first shard is written after about a second; see :class:`ShardWriter`).
        flush_runs: Most runs buffered before a shard is written.
        log: Where notes go (default stderr).
        engine: ``mesa``, ``batched`` or ``auto`` (batched); the tables are the same.
        judge: With a plan's ``--precision`` rule: the check after each point's block
            (:func:`treatysim.analysis.precision.headline_judge`).
    """

    out: Path | None = None
    workers: int | None = None
    executor: Executor | None = None
    executor_kind: str = "local"
    scheduler: str | None = None
    resume: bool = False
    retry_failed: bool = False
    quiet: bool = True
    command: Sequence[str] | None = None
    chunk_size: int | None = None
    engine: str = "auto"
    flush_seconds: float = 30.0
    flush_runs: int = 5000
    log: TextIO | None = None
    judge: Judge | None = None


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
        if "inputs" not in old:  # written before input files were fingerprinted
            fingerprint.pop("inputs")
        if inputs := changed_inputs(old.get("inputs", {}), fingerprint.get("inputs", {})):
            message = f"{inputs} changed since the sweep started; restore it or use a new --out"
            raise _bad_input("--resume", message, str(folder))
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
    with atomic_path(folder / SWEEP_COPY) as tmp:
        shutil.copyfile(plan.loaded.path, tmp)
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


def run_sweep(sweep: str | Path | SweepPlan, options: SweepOptions | None = None) -> SweepSummary:
    """Run a sweep (or finish one) and write a complete sweep folder (tables and manifest).

    The report (point summary, sensitivity, summary and plots) is the caller's: ``treatysim
    sweep`` draws it afterwards, and ``treatysim report DIR`` rebuilds it at any time.

    Args:
        sweep: A sweep file, or a plan from :func:`treatysim.run.plan.prepare`.
        options: How to run it (default :class:`SweepOptions`).

    Raises:
        ValidationError: Bad input: the sweep, an output folder in use, a different sweep.
        SweepError: The executor broke; the folder can be resumed.
    """
    opts = options or SweepOptions()
    plan = sweep if isinstance(sweep, SweepPlan) else prepare(sweep)
    resume = opts.resume or opts.retry_failed
    if resume and opts.out is None:
        raise _bad_input("--resume", "resuming needs --out DIR, the folder of the sweep to finish")
    folder = opts.out if opts.out is not None else default_folder(plan.sweep.name)
    stream = opts.log or sys.stderr

    def note(text: str) -> None:
        if not opts.quiet:
            print(text, file=stream)

    with _folder_lock(folder):
        stored = _open_folder(plan, folder, resume=resume)
        state = scan_folder(folder, plan.n_points, plan.replications)
        for text in state.notes:
            note(f"resume: {text}")
        todo = state.status == STATUS_MISSING
        if opts.retry_failed:
            todo |= state.status == STATUS_FAILED
        pending = np.flatnonzero(todo)
        rounds = None
        if plan.precision is not None:  # the rule replayed on the stored rows picks the keys
            if opts.judge is None:
                raise ValueError("a precision sweep needs SweepOptions.judge")
            rounds = PrecisionRounds(plan, opts.judge, state.status, retry_failed=opts.retry_failed)
            rounds.ingest(state.layers)
            pending = rounds.advance()
            todo = state.status == STATUS_MISSING  # stored_runs counts what is stored
        complete = not (folder / INCOMPLETE).exists()
        if complete and len(pending) == 0 and (folder / MANIFEST).is_file():
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            note(f"{folder}: the sweep is complete; nothing to run")
            return _summary_from_manifest(folder, manifest)
        if complete:
            mark_incomplete(folder, "retrying failed runs; finish with --resume")
        session: dict[str, Any] = {
            "started": dt.datetime.now(dt.UTC).isoformat(),
            "resumed": bool(stored.get("sessions")),
            "retry_failed": opts.retry_failed,
            "stored_runs": int(plan.n_runs - todo.sum()),
            "to_run": len(pending),
        }
        n_workers = opts.workers if opts.workers is not None else default_workers(len(pending))
        executed = 0
        clock = time.perf_counter()
        with contextlib.ExitStack() as stack:
            if opts.executor is not None:
                handle = given_executor(opts.executor, n_workers)
            else:
                handle = stack.enter_context(
                    open_executor(opts.executor_kind, n_workers, opts.scheduler)
                )
            session["executor"] = handle.description
            session["engine"] = engine = choose_engine(opts.engine)
            stored.setdefault("sessions", []).append(session)
            write_json(folder / PLAN, stored)
            size = (
                opts.chunk_size
                or plan.sweep.chunk_size
                or default_chunk_size(len(pending), handle.slots, engine)
            )
            (folder / SHARDS).mkdir(exist_ok=True)
            writer = ShardWriter(
                folder / SHARDS,
                state.next_number,
                flush_runs=opts.flush_runs,
                flush_seconds=opts.flush_seconds,
            )
            total = len(pending) if rounds is None else 0  # rounds: a note each instead
            progress = stack.enter_context(Progress(total, enabled=not opts.quiet))

            done = [0]

            def run_keys(keys: np.ndarray) -> list[Layer]:
                first = writer.number
                chunk = size
                if rounds is not None:  # each round is cut for itself
                    auto = default_chunk_size(len(keys), handle.slots, engine)
                    chunk = opts.chunk_size or plan.sweep.chunk_size or auto
                jobs = chunk_jobs(plan, keys, chunk, plan.sweep.timeseries, engine)
                try:
                    done[0] += _execute(jobs, handle, writer, progress)
                finally:
                    writer.flush()
                return new_layers(folder / SHARDS, first, writer.number)

            if rounds is None:
                run_keys(pending)
            else:
                rounds.run(run_keys, note)
            executed = done[0]
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
            sizes=None if rounds is None else rounds.sizes(),
            relabel=None if rounds is None else rounds.relabel(),
        )
        manifest = _manifest(plan, stored, result, opts.command, n_workers, session)
        if rounds is not None:
            manifest.update(rounds.manifest())
        manifest[RUNS_DIGEST] = runs_digest(read_keys(folder / RUNS))
        write_json(folder / MANIFEST, manifest)
        shutil.rmtree(folder / SHARDS, ignore_errors=True)
        (folder / INCOMPLETE).unlink(missing_ok=True)
    return SweepSummary(
        folder=folder,
        points=plan.n_points,
        replications=int(manifest["replications"]),
        runs=int(manifest["runs"]),
        executed=executed,
        ok=result.ok,
        failed=result.failed,
        failures=result.failures,
        seconds=seconds,
        executor=str(session["executor"]),
    )


def _execute(
    jobs: Iterator[ChunkJob], handle: ExecutorHandle, writer: ShardWriter, progress: Progress
) -> int:
    """Run chunk jobs on the handle's executor (or in-process), writing shards as they finish."""
    executed = 0
    try:
        for item in run_jobs(handle, run_sweep_chunk, jobs, timeout=writer.seconds_left):
            if item is not None:
                job, result = item
                if isinstance(result, Exception):  # a chunk that raised outside its runs
                    result = failed_chunk(job, result)
                writer.add(result)
                executed += result.n_runs
                progress.add(result.n_runs, result.failed)
            if writer.due():
                writer.flush()
    except BrokenExecutor as exc:
        raise SweepError(f"the workers stopped ({exc}); finish the sweep with --resume") from exc
    return executed


def _manifest(
    plan: SweepPlan,
    stored: dict[str, Any],
    result: Consolidated,
    command: Sequence[str] | None,
    workers: int,
    session: dict[str, Any],
) -> dict[str, Any]:
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
        "packages": package_versions(),
        "command": list(command) if command is not None else sys.argv,
        "sweep_name": sweep.name,
        "sweep_file": str(plan.loaded.path) if plan.loaded.path else None,
        "sweep_sha256": sha256_file(plan.loaded.path),
        "base_scenario_file": str(plan.base.path) if plan.base.path else None,
        "base_scenario_sha256": sha256_file(plan.base.path),
        "resolved_base_sha256": scenario_digest(plan.base_resolved),
        "inputs": plan.inputs(),
        "scenario_name": plan.base.model.name,
        "root_seed": sweep.seed,
        "posterior": dict(plan.ensemble.record) if plan.ensemble is not None else None,
        "parameter_sets": list(plan.ensemble.keys) if plan.ensemble is not None else None,
        "uncertainty": describe(plan.ensemble),
        "provenance": plan.provenance(),
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
        "robustness": sweep.robustness.model_dump(mode="json") if sweep.robustness else None,
        "timeseries": sweep.timeseries,
        "ok": result.ok,
        "failed": result.failed,
        "failures": result.failures,
        "failures_listed": min(result.failed, FAILURES_LISTED),
        "workers": workers,
        "executor": session.get("executor"),
        "engine": session.get("engine"),
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
