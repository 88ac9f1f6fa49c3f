"""``treatysim run``: seeded replications of one scenario, in memory or into a run folder.

Replication ``r`` of a run with root seed ``S`` has the seed ``replication_seed(S, r)``
(:mod:`treatysim.run.seeds`), so its result does not depend on the number of workers or the
order in which runs finish. :func:`simulate_tables` runs the replications and returns the
tables; :func:`write_run_folder` stores them; :func:`run_scenario` does both. None of them
writes a report: the caller does (``treatysim run`` calls the report after the run).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from treatysim.model.world import World, build_world
from treatysim.results.manifest import environment_info, sha256_file
from treatysim.results.store import (
    EVENTS,
    MANIFEST,
    RUNS,
    SCENARIO,
    TIMESERIES,
    claim_folder,
    mark_complete,
    write_json,
    write_table,
    write_text,
)
from treatysim.results.tables import Output, Tables, Task, build_tables
from treatysim.run.ensemble import Ensemble, EnsembleMaker, check_length, describe, ensemble_worlds
from treatysim.run.executors import ExecutorHandle, given_executor, open_executor, run_jobs
from treatysim.run.progress import Progress
from treatysim.run.replicate import RunJob, chunked, run_job
from treatysim.run.seeds import replication_seed, run_id, scenario_digest
from treatysim.scenario.dataset import (
    BUNDLED_DATASETS,
    BUNDLED_OBSERVED,
    file_sha256,
)
from treatysim.scenario.errors import Problem, ValidationError
from treatysim.scenario.inherit import scenario_inputs
from treatysim.scenario.inputs import provenance_record
from treatysim.scenario.load import Loaded, revalidate
from treatysim.scenario.yamlio import dump_yaml

#: Where runs go when no --out is given (relative to the working directory).
DEFAULT_RESULTS = Path("results")


# --------------------------------------------------------------------------------------------
# scenario resolution (--set)


def apply_overrides(loaded: Loaded[Any], assignments: Sequence[str]) -> Loaded[Any]:
    """Apply ``key.path=value`` overrides to a loaded scenario and validate the result.

    A problem at (or below) an overridden key is reported as ``--set:N:1: key.path: message``
    (N counting the ``--set`` arguments from 1), since the value came from the command line.

    Raises:
        ValidationError: A malformed assignment, or a value the schema or checks reject.
    """
    items = list(assignments)
    try:
        return revalidate(loaded, items)
    except ValidationError as exc:
        keys = [item.partition("=")[0].strip() for item in items]
        problems = []
        for problem in exc.problems:
            n = next(
                (
                    i
                    for i, key in reversed(list(enumerate(keys, start=1)))
                    if key
                    and (problem.path == key or problem.path.startswith((key + ".", key + "[")))
                ),
                None,
            )
            if n is not None and problem.file != "--set":
                problem = Problem("--set", n, 1, problem.path, problem.message)
            problems.append(problem)
        raise ValidationError(problems) from None


def resolved_document(loaded: Loaded[Any], replications: int, seed: int) -> dict[str, Any]:
    """The scenario as it ran: every default filled in, dataset paths made absolute."""
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
# running


@dataclass
class Simulation:
    """Replications of a scenario, run and tabulated, not yet stored.

    Attributes:
        loaded: The scenario as it ran (after overrides).
        world: Its resolved world.
        resolved: The resolved scenario document (what scenario.yaml stores).
        digest: The resolved document's digest (the base of every run id).
        root: The root seed.
        tasks: One per replication, in order.
        timeseries: The recording mode.
        tables: The runs, events and time series tables.
        seconds: Wall time of the replications.
        started: When the replications started (UTC).
        executor: Where they ran, for the manifest.
        engine: The engine that ran them (``mesa`` or ``batched``).
        ensemble: Per-replication parameters (a posterior ensemble), if any.
        precision: The ``--precision`` record for the manifest (None for a fixed run).
    """

    loaded: Loaded[Any]
    world: World
    resolved: dict[str, Any]
    digest: str
    root: int
    tasks: list[Task]
    timeseries: str
    tables: Tables
    seconds: float
    started: dt.datetime
    executor: str | int
    engine: str
    ensemble: Ensemble | None = None
    precision: dict[str, Any] | None = None

    @property
    def failed(self) -> int:
        """Replications that failed."""
        return self.tables.runs.num_rows - sum(
            s == "ok" for s in self.tables.runs.column("status").to_pylist()
        )


def simulate_tables(
    loaded: Loaded[Any],
    *,
    replications: int | None = None,
    seed: int | None = None,
    timeseries: str | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    quiet: bool = True,
    engine: str = "auto",
    ensemble: EnsembleMaker | None = None,
) -> Simulation:
    """Run a scenario's replications and return their tables in memory (nothing is written).

    Args:
        loaded: A validated scenario (after any ``--set`` overrides).
        replications: Overrides ``run.replications``.
        seed: Overrides ``run.seed``.
        timeseries: Overrides ``run.timeseries`` (full, counts or none).
        workers: Processes (1: in-process).
        executor: Any ``concurrent.futures.Executor`` instead of a process pool (not shut down).
        quiet: No progress display.
        engine: ``mesa``, ``batched`` or ``auto`` (see :func:`choose_engine`).
        ensemble: Makes per-replication parameters from ``(replications, root seed)`` (e.g. a
            posterior ensemble); replication ``r`` runs the scenario with its ``r``-th overrides.

    Raises:
        ValidationError: Fewer than one replication, an engine that cannot run the scenario, or
            an ensemble parameter set the scenario rejects.
    """
    scenario = loaded.model
    n_reps, root, mode = _settings(loaded, replications, seed, timeseries)
    started = dt.datetime.now(dt.UTC)
    resolved = resolved_document(loaded, n_reps, root)
    world = build_world(scenario, loaded.base_dir)
    ran = choose_engine(engine)
    ens = ensemble(n_reps, root) if ensemble is not None else None
    worlds = None
    if ens is not None:
        check_length(ens, n_reps)
        worlds = ensemble_worlds(loaded, ens)
    # a posterior run's ids differ from a fixed-parameter run's: its draws are part of it
    digest = scenario_digest(resolved if ens is None else {**resolved, "_ensemble": ens.record})
    tasks = replication_tasks(digest, root, n_reps)
    clock = time.perf_counter()
    outputs = _execute(world, tasks, mode, workers, executor, quiet, ran, worlds)
    outputs.sort(key=lambda o: o.task.replication)
    seconds = time.perf_counter() - clock
    return Simulation(
        loaded=loaded,
        world=world,
        resolved=resolved,
        digest=digest,
        root=root,
        tasks=tasks,
        timeseries=mode,
        tables=build_tables(world, outputs, mode),
        seconds=seconds,
        started=started,
        executor=workers if executor is None else type(executor).__name__,
        engine=ran,
        ensemble=ens,
    )


ENGINES = ("auto", "mesa", "batched")
#: Replications sent to a worker at once by the batched engine.
BATCH_CHUNK = 512


def choose_engine(requested: str) -> str:
    """The engine that runs a scenario: the one requested, or for ``auto`` the batched engine.

    The batched engine runs every scenario the Mesa model runs, with identical tables, so
    ``auto`` always picks it; ``mesa`` stays the readable reference (and the demo's model).

    Raises:
        ValidationError: An unknown engine.
    """
    if requested not in ENGINES:
        raise ValidationError(
            [Problem("--engine", 1, 1, "engine", f"unknown engine {requested!r}: {ENGINES}")]
        )
    return "batched" if requested == "auto" else requested


def _settings(
    loaded: Loaded[Any], replications: int | None, seed: int | None, timeseries: str | None
) -> tuple[int, int, str]:
    """Replications, root seed and recording mode: the arguments, else the scenario's own."""
    run = loaded.model.run
    n_reps = replications if replications is not None else run.replications
    if n_reps < 1:
        raise ValidationError([Problem("--replications", 1, 1, "run.replications", "must be >= 1")])
    return n_reps, seed if seed is not None else run.seed, timeseries or run.timeseries


def _execute(
    world: World,
    tasks: Sequence[Task],
    mode: str,
    workers: int,
    executor: Executor | None,
    quiet: bool,
    engine: str,
    worlds: Sequence[World] | None = None,
) -> list[Output]:
    """Run the tasks in chunks and collect their outputs (``worlds``: one per task, if given).

    The Mesa engine sends about four chunks to each worker; the batched engine one block per
    worker (at most ``BATCH_CHUNK`` replications), since a larger batch costs less per run.
    """
    slots = max(1, workers)
    if engine == "batched":
        size = max(1, min(BATCH_CHUNK, -(-len(tasks) // slots)))
    elif executor is None and slots == 1:
        size = 16
    else:
        size = max(1, min(64, -(-len(tasks) // (slots * 4))))
    jobs = iter(
        [
            RunJob(
                world,
                tuple(chunk),
                mode,
                engine,
                None if worlds is None else tuple(worlds[t.replication] for t in chunk),
            )
            for chunk in chunked(tasks, size)
        ]
    )
    outputs: list[Output] = []
    with Progress(len(tasks), enabled=not quiet) as progress, _handle(workers, executor) as handle:
        for item in run_jobs(handle, run_job, jobs):
            if item is None:
                continue
            job, result = item
            if isinstance(result, Exception):
                detail = f"chunk failed: {type(result).__name__}: {result}".strip()
                result = [Output(task=t, status="failed", error=detail) for t in job.tasks]
            outputs.extend(result)
            progress.add(len(result), sum(o.status != "ok" for o in result))
    return outputs


def _handle(workers: int, executor: Executor | None) -> AbstractContextManager[ExecutorHandle]:
    if executor is not None:
        return nullcontext(given_executor(executor, workers))
    return open_executor("local", workers)


def default_folder(name: str, root: Path = DEFAULT_RESULTS) -> Path:
    """``results/<name>/<timestamp>``, unique even for runs started within one second."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = root / name / stamp
    n = 1
    while folder.exists():
        n += 1
        folder = root / name / f"{stamp}-{n}"
    return folder


def _empty_folder(folder: Path) -> None:
    if folder.exists() and any(folder.iterdir()):
        raise ValidationError(
            [Problem(str(folder), 0, 0, "--out", "the output folder exists and is not empty")]
        )


@dataclass
class RunSummary:
    """What :func:`run_scenario` and :func:`write_run_folder` return."""

    folder: Path
    replications: int
    failed: int
    seconds: float


def write_run_folder(
    sim: Simulation, folder: Path, *, command: Sequence[str] | None = None
) -> RunSummary:
    """Write a complete run folder (scenario, tables, manifest; no report) from a simulation.

    Raises:
        ValidationError: The folder exists and is not empty.
    """
    _start_folder(folder, sim.resolved)
    return _finish_folder(sim, folder, command)


def _start_folder(folder: Path, resolved: dict[str, Any]) -> None:
    """Claim a new or empty folder (exclusively), mark it incomplete and store the scenario."""
    _empty_folder(folder)
    try:
        claim_folder(folder, "run in progress or interrupted")
    except FileExistsError:
        raise ValidationError(
            [Problem(str(folder), 0, 0, "--out", "the output folder is in use by another run")]
        ) from None
    write_text(folder / SCENARIO, "# The resolved scenario as it ran.\n" + dump_yaml(resolved))


def replication_tasks(digest: str, root: int, n: int) -> list[Task]:
    """The tasks of replications 0..n-1 of a run: their seeds and ids depend on r, not on n."""
    return [Task(r, replication_seed(root, r), run_id(digest, root, r)) for r in range(n)]


def _finish_folder(sim: Simulation, folder: Path, command: Sequence[str] | None) -> RunSummary:
    """Write the tables and the manifest, then remove the INCOMPLETE marker."""
    write_table(folder / RUNS, sim.tables.runs)
    write_table(folder / EVENTS, sim.tables.events)
    sim.tables.write_timeseries(folder / TIMESERIES)  # the full series streamed
    failed = sim.failed
    manifest = {
        "kind": "run",
        **environment_info(),
        "command": list(command) if command is not None else sys.argv,
        "scenario_file": str(sim.loaded.path) if sim.loaded.path else None,
        "scenario_sha256": sha256_file(sim.loaded.path),
        # the stored scenario.yaml's digest (readers check it); a posterior run's ids also
        # cover its draws, so its run-id digest (sim.digest) differs from this one
        "resolved_scenario_sha256": scenario_digest(sim.resolved),
        "inputs": {
            role: {"path": str(path.resolve()), "sha256": file_sha256(path)}
            for role, path in scenario_inputs(sim.loaded).items()
        },
        "scenario_name": sim.loaded.model.name,
        "root_seed": sim.root,
        "replications": len(sim.tasks),
        "seeds": [t.seed for t in sim.tasks],
        "run_ids": [t.run_id for t in sim.tasks],
        "timeseries": sim.timeseries,
        "workers": sim.executor,
        "engine": sim.engine,
        "posterior": dict(sim.ensemble.record) if sim.ensemble is not None else None,
        "parameter_sets": list(sim.ensemble.keys) if sim.ensemble is not None else None,
        "uncertainty": describe(sim.ensemble),
        "provenance": provenance_record(
            sim.loaded.model,
            sim.loaded.base_dir,
            posterior=sim.ensemble.record if sim.ensemble is not None else None,
        ),
        "failed": failed,
        "started": sim.started.isoformat(),
        "finished": dt.datetime.now(dt.UTC).isoformat(),
        "seconds": round(sim.seconds, 3),
    }
    if sim.precision is not None:
        manifest["precision"] = sim.precision
    write_json(folder / MANIFEST, manifest)
    mark_complete(folder)
    return RunSummary(folder, len(sim.tasks), failed, sim.seconds)


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
    engine: str = "auto",
    ensemble: EnsembleMaker | None = None,
) -> RunSummary:
    """Run a scenario's replications and write a complete run folder (tables and manifest).

    The report (summary and plots) is the caller's: ``treatysim run`` draws it afterwards, and
    ``treatysim report DIR`` rebuilds it at any time.

    Args:
        loaded: A validated scenario (after any ``--set`` overrides).
        replications: Overrides ``run.replications``.
        seed: Overrides ``run.seed``.
        out: Output folder (default ``results/<name>/<timestamp>``); must be new or empty.
        workers: Processes (1: in-process).
        timeseries: Overrides ``run.timeseries`` (full, counts or none).
        executor: Any ``concurrent.futures.Executor`` instead of a process pool.
        quiet: No progress display.
        command: The command line, for the manifest.
        engine: ``mesa``, ``batched`` or ``auto`` (see :func:`choose_engine`).
        ensemble: Per-replication parameters (see :func:`simulate_tables`).

    Raises:
        ValidationError: Bad settings (e.g. an output folder that is not empty).
    """
    folder = out if out is not None else default_folder(loaded.model.name)
    n_reps, root, _ = _settings(loaded, replications, seed, timeseries)
    _start_folder(folder, resolved_document(loaded, n_reps, root))
    sim = simulate_tables(
        loaded,
        replications=replications,
        seed=seed,
        timeseries=timeseries,
        workers=workers,
        executor=executor,
        quiet=quiet,
        engine=engine,
        ensemble=ensemble,
    )
    return _finish_folder(sim, folder, command)
