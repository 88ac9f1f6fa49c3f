"""A sweep file resolved into a plan: its points, their scenarios, and chunk jobs.

Point ``p``'s scenario is the base document with the point's factor values set
(:func:`treatysim.scenario.keypath.set_path`), their provenance retagged ``swept``
(:mod:`treatysim.scenario.retag`), and validated like any scenario file. Run
``(p, r)`` has the seed ``replication_seed(root, p, r)`` and the id
``run_id(digest of p's resolved scenario, root, p, r)``. The plan's fingerprint is what a sweep
folder must match to be resumed.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from treatysim.model.world import World, build_world
from treatysim.results.tables import Task
from treatysim.run.ensemble import Ensemble, EnsembleMaker, ensemble_worlds
from treatysim.run.precise import PrecisionRule
from treatysim.run.runner import resolved_document
from treatysim.run.seeds import replication_seed, run_id, scenario_digest
from treatysim.scenario.checks import check_scenario
from treatysim.scenario.dataset import file_sha256, input_files
from treatysim.scenario.designs import DesignError, Points, generate
from treatysim.scenario.errors import Problem, ValidationError
from treatysim.scenario.inherit import scenario_inputs
from treatysim.scenario.inputs import provenance_record
from treatysim.scenario.keypath import set_path
from treatysim.scenario.load import Loaded, load_scenario, load_sweep, validate_document
from treatysim.scenario.retag import retag_document
from treatysim.scenario.schema import Scenario
from treatysim.scenario.sweep import Factor, Sweep
from treatysim.scenario.yamlio import Document

#: Version of the shard layout; a folder written by another layout is not resumed.
LAYOUT_VERSION = 1
#: Scenario key paths that name a file (a factor that sets one makes points read other files).
FILE_KEYS = ("states.dataset", "states.synthetic.network.file", "observed.dataset")


def _touches(path: str, key: str) -> bool:
    """Whether setting key path ``path`` can change the value at ``key`` (equal or a parent)."""
    return key == path or key.startswith(path + ".")


@dataclass(frozen=True)
class PointJob:
    """Replications of one point: its world, sent once per chunk, and its tasks."""

    point: int
    world: World
    tasks: tuple[Task, ...]
    #: With a posterior: one world per replication index of the point (tasks use
    #: ``worlds[task.replication]``); None: ``world`` for every task.
    worlds: tuple[World, ...] | None = None

    def task_world(self, task: Task) -> World:
        """The world a task runs."""
        return self.world if self.worlds is None else self.worlds[task.replication]


@dataclass(frozen=True)
class ChunkJob:
    """What one submitted call runs: replications of one or several consecutive points."""

    points: tuple[PointJob, ...]
    timeseries: str
    engine: str = "mesa"

    @property
    def n_runs(self) -> int:
        """Replications in the chunk."""
        return sum(len(p.tasks) for p in self.points)


@dataclass
class SweepPlan:
    """A validated sweep with its base scenario and design, ready to run.

    Attributes:
        loaded: The sweep file.
        base: The base scenario.
        points: The design's points.
        base_resolved: The base scenario as it runs (defaults filled, seed and replications set).
        precision: The ``--precision`` rule, or None for a fixed number of replications. With a
            rule, the run keys span ``points × cap`` and each point stops at its own size
            (:mod:`treatysim.run.sweep_precise`).
    """

    loaded: Loaded[Sweep]
    base: Loaded[Any]
    points: Points
    base_resolved: dict[str, Any]
    #: Per-replication parameters (a posterior ensemble): replication r of every point runs
    #: draw r, so points are compared on the same parameter draws.
    ensemble: Ensemble | None = None
    precision: PrecisionRule | None = None
    _input_files: dict[str, Path] | None = field(default=None, repr=False, compare=False)

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
        """Replications per point (with ``--precision``: the cap, the most any point can have)."""
        return self.precision.cap if self.precision is not None else self.sweep.replications

    @property
    def n_runs(self) -> int:
        """Points × replications (with ``--precision``: the largest possible number of runs)."""
        return self.n_points * self.replications

    @property
    def root(self) -> int:
        """The root seed."""
        return self.sweep.seed

    def point_scenario(
        self, point: int, replications: int | None = None
    ) -> tuple[Loaded[Any], str]:
        """The point's validated scenario and the digest of its resolved document.

        Args:
            point: The point.
            replications: The size the digest records (default :attr:`replications`); a
                precision sweep relabels each point's runs with its final size.

        Raises:
            ValidationError: The factor values make a scenario the schema or checks reject.
        """
        base = self.base.document
        data = base.data
        for factor, (path, value) in zip(
            self.points.factors, self.points.assignments(point), strict=True
        ):
            data = set_path(data, path, value)
            data = retag_document(data, path, self.factor_tag(factor))
        doc = Document(data, base.file, base.value_pos, base.key_pos)
        loaded = Loaded(validate_document(doc, Scenario), doc, self.base.path)
        problems = check_scenario(loaded)
        if problems:
            raise ValidationError(problems)
        size = self.replications if replications is None else replications
        resolved = resolved_document(loaded, size, self.root)
        resolved["run"]["timeseries"] = self.sweep.timeseries
        if self.ensemble is not None:
            resolved["_ensemble"] = dict(self.ensemble.record)
        return loaded, scenario_digest(resolved)

    def factor_tag(self, factor: Factor) -> dict[str, Any]:
        """The provenance a factor gives the inputs it sets: ``swept``, naming it and the file."""
        where = self.loaded.path if self.loaded.path is not None else self.sweep.name
        name = f"'{factor.label}'" + (f" ({factor.path})" if factor.name else "")
        return {"kind": "swept", "source": f"sweep factor {name} of {where}"}

    def provenance(self) -> dict[str, Any]:
        """The manifest's ``provenance``: the effective tags of a point (the same at every point).

        Each factor's inputs are tagged ``swept`` (the factor and the sweep file), a posterior's
        ``fitted`` (:func:`treatysim.scenario.inputs.provenance_record`).
        """
        loaded, _ = self.point_scenario(0)
        record = dict(self.ensemble.record) if self.ensemble is not None else None
        return provenance_record(loaded.model, loaded.base_dir, posterior=record)

    def input_files(self) -> dict[str, Path]:
        """Every file the sweep reads besides the sweep and base files, by role.

        The base scenario's dataset, observed dataset, edge list and ``extends`` bases
        (``base.<role>``); the design table (``design.file``); and, when a factor sets one of
        those file keys, every other file a point's scenario reads
        (``points.<role>[<path>]``, the path relative to the sweep file's folder).
        """
        if self._input_files is None:
            files = {f"base.{role}": path for role, path in scenario_inputs(self.base).items()}
            design = self.sweep.design
            if design.type == "table" and design.file:
                path = (self.loaded.base_dir or Path.cwd()) / design.file
                if path.is_file():
                    files["design.file"] = path
            files.update(self._point_files({p.resolve() for p in files.values()}))
            self._input_files = files
        return dict(self._input_files)

    def _point_files(self, known: set[Path]) -> dict[str, Path]:
        """Files the points read that the base does not, when a factor sets a file key."""
        paths = [f.path for f in self.sweep.factors]
        if not any(_touches(path, role) for path in paths for role in FILE_KEYS):
            return {}
        folder = self.loaded.base_dir or Path.cwd()
        files: dict[str, Path] = {}
        for point in range(self.n_points):
            try:
                loaded, _ = self.point_scenario(point)
            except ValidationError:
                continue  # refused by prepare's point check (or later, at run time)
            for role, path in input_files(loaded.model, loaded.base_dir).items():
                if path.resolve() not in known:
                    known.add(path.resolve())
                    name = os.path.relpath(path.resolve(), folder.resolve())
                    files[f"points.{role}[{name}]"] = path
        return files

    def inputs(self) -> dict[str, dict[str, str]]:
        """The sha256 and path of every file in :meth:`input_files`."""
        return {
            role: {"path": str(path.resolve()), "sha256": file_sha256(path)}
            for role, path in self.input_files().items()
        }

    def fingerprint(self) -> dict[str, Any]:
        """Everything a run's result depends on; a folder is resumed only if this matches.

        Besides the plan itself, it holds the sha256 of every file the sweep reads
        (:meth:`inputs`), so a dataset edited between a crash and ``--resume`` is noticed.
        """
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
            "inputs": self.inputs(),
            **({"posterior": dict(self.ensemble.record)} if self.ensemble is not None else {}),
            **({"precision": _rule_record(self.precision)} if self.precision else {}),
        }


def _rule_record(rule: PrecisionRule) -> dict[str, Any]:
    """The rule's settings, as stored in the fingerprint and the manifest."""
    return {
        "target": rule.target,
        "block": rule.block,
        "cap": rule.cap,
        "confidence": rule.confidence,
    }


def changed_inputs(old: dict[str, Any], new: dict[str, Any]) -> str:
    """The input files whose content (or presence) differs, named, or an empty string."""
    names = []
    for role in sorted(set(old) | set(new)):
        before, after = old.get(role) or {}, new.get(role) or {}
        if before.get("sha256") != after.get("sha256"):
            path = after.get("path") or before.get("path")
            names.append(f"{path} ({role})")
    return ", ".join(names)


def prepare(
    path: str | Path | Loaded[Any],
    *,
    check_points: bool = True,
    ensemble: EnsembleMaker | None = None,
) -> SweepPlan:
    """Load a sweep file, its base scenario and its design; validate every point's scenario.

    Args:
        path: The sweep file, or one already loaded
            (:func:`treatysim.scenario.load.load_sweep`).
        check_points: Validate each point's scenario now (catches a bad value before any run).
        ensemble: Per-replication parameters (``--posterior``), drawn for the sweep's
            replications and root seed; its keys may not be factors of the sweep.

    Raises:
        ValidationError: Any problem in the sweep, its base, its design or a point.
    """
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
    if ensemble is not None:
        plan.ensemble = ensemble(sweep.replications, sweep.seed)
        clash = sorted({f.path for f in sweep.factors} & set(plan.ensemble.overrides[0]))
        if clash:
            raise ValidationError(
                [
                    Problem(plan.ensemble.source, 0, 0, "--posterior",
                            f"the posterior sets {key}, a factor of the sweep")
                    for key in clash
                ]
            )  # fmt: skip
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


def chunk_jobs(
    plan: SweepPlan, pending: np.ndarray, chunk_size: int, timeseries: str, engine: str = "mesa"
) -> Iterator[ChunkJob]:
    """Chunk jobs over the pending run keys (``point · R + replication``), in key order.

    A point's world is built once and reused while consecutive chunks hold the same point.
    """
    reps = plan.replications
    cache: tuple[int, World, str, tuple[World, ...] | None] | None = None
    for start in range(0, len(pending), chunk_size):
        keys = pending[start : start + chunk_size]
        point_jobs = []
        for point in np.unique(keys // reps):
            point = int(point)
            if cache is None or cache[0] != point:
                loaded, digest = plan.point_scenario(point)
                worlds = (
                    None if plan.ensemble is None else tuple(ensemble_worlds(loaded, plan.ensemble))
                )
                cache = (point, build_world(loaded.model, loaded.base_dir), digest, worlds)
            _, world, digest, worlds = cache
            tasks = tuple(
                Task(
                    replication=int(r),
                    seed=replication_seed(plan.root, point, int(r)),
                    run_id=run_id(digest, plan.root, point, int(r)),
                    point=point,
                )
                for r in keys[keys // reps == point] % reps
            )
            point_jobs.append(PointJob(point, world, tasks, worlds))
        yield ChunkJob(tuple(point_jobs), timeseries, engine)


def default_chunk_size(pending: int, slots: int, engine: str = "mesa") -> int:
    """Runs per submitted chunk.

    Mesa engine: about sixteen chunks per worker, between 1 and 32 runs each: small enough that
    the last chunks do not leave workers idle for long, large enough that a chunk's overhead
    (one pickled world, one result) is a few percent of its run time. Batched engine: about four
    chunks per worker, up to 512 runs each, since a larger batch costs less per run.
    """
    if engine == "batched":
        return max(1, min(512, math.ceil(pending / max(1, slots * 4))))
    return max(1, min(32, math.ceil(pending / max(1, slots * 16))))
