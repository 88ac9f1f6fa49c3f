"""Parameter sweeps: points × replications, run in chunks on any executor, streamed to disk.

A sweep file names a base scenario, factors (scenario key paths), a design, replications per
point, outcomes and a root seed. Point ``p``'s scenario is the base document with the point's
factor values set (:func:`sim.keypath.set_path`) and validated like any scenario file. Run
``(p, r)`` has the seed ``replication_seed(root, p, r)`` and the id
``run_id(digest of p's resolved scenario, root, p, r)``, so its result is the same whatever the
executor, the number of workers or the order in which chunks finish.

Execution and storage (the folder layout is in ``docs/sweeps.md``):

- Pending runs are cut into chunks of consecutive ``(point, replication)`` keys. A chunk carries
  each of its points' :class:`~sim.world.World` once, and a worker returns compact Arrow tables,
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
import re
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED as _FIRST_COMPLETED
from concurrent.futures import BrokenExecutor, Executor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from sim.errors import Problem, ValidationError
from sim.records import OUTCOMES
from sim.runner import (
    Output,
    Task,
    replication_seed,
    run_chunk,
    run_id,
    scenario_digest,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from sim.designs import Points
    from sim.loader import Loaded
    from sim.sweep_schema import Sweep
    from sim.world import World

#: Shards of an unfinished sweep.
SHARDS = "shards"
#: What a sweep folder must match to be resumed (written when the sweep starts).
PLAN = "plan.json"
#: One row per point.
DESIGN = "design.parquet"
#: A copy of the sweep file as given.
SWEEP_COPY = "sweep.yaml"
#: Per point and outcome statistics (written by :mod:`sim.sweep_report`).
POINT_SUMMARY = "point_summary.parquet"
#: Sobol' or Morris indices (saltelli and morris designs).
SENSITIVITY = "sensitivity.json"
#: Held while a process writes to the folder.
LOCK = ".lock"
#: Version of the shard layout; a folder written by another layout is not resumed.
LAYOUT_VERSION = 1
#: Failures listed in the manifest (the full list is runs.parquet's failed rows).
FAILURES_LISTED = 1000

_SHARD_NAME = re.compile(r"^(runs|events|timeseries)-(\d{6,})\.parquet$")
_DATE_OUTCOMES = frozenset({"first_announcement", "first_exit"})
_MISSING, _OK, _FAILED = 0, 1, 2


class SweepError(RuntimeError):
    """A sweep stopped before it finished (its folder can be resumed)."""


# --------------------------------------------------------------------------------------------
# table schemas and the chunk function that workers run


def outcome_fields(world: World) -> list[tuple[str, pa.DataType]]:
    """Outcome columns of runs.parquet, as :func:`sim.records.outcomes` names them."""
    import pyarrow as pa

    primary = world.scenario.primary_treaty
    fields = []
    for treaty in world.treaties:
        suffix = "" if treaty == primary else f"__{treaty}"
        for name in OUTCOMES:
            kind = pa.date32() if name in _DATE_OUTCOMES else pa.int64()
            fields.append((f"{name}{suffix}", kind))
    return fields


def runs_schema(world: World) -> pa.Schema:
    """Schema of runs.parquet: ids, seed, status, error, seconds, then the outcomes."""
    import pyarrow as pa

    return pa.schema(
        [
            ("run_id", pa.string()),
            ("point", pa.int64()),
            ("replication", pa.int64()),
            ("seed", pa.uint64()),
            ("status", pa.string()),
            ("error", pa.string()),
            ("seconds", pa.float64()),
            *outcome_fields(world),
        ]
    )


def events_schema() -> pa.Schema:
    """Schema of events.parquet: one row per stage change of a run."""
    import pyarrow as pa

    return pa.schema(
        [
            ("run_id", pa.string()),
            ("point", pa.int64()),
            ("replication", pa.int64()),
            ("iso3", pa.string()),
            ("treaty", pa.string()),
            ("stage", pa.string()),
            ("date", pa.date32()),
            ("step", pa.int64()),
        ]
    )


def timeseries_schema() -> pa.Schema:
    """Schema of timeseries.parquet (``counts`` mode): stage counts per step and treaty."""
    import pyarrow as pa

    from sim.scenario import STAGES

    return pa.schema(
        [
            ("run_id", pa.string()),
            ("point", pa.int64()),
            ("replication", pa.int64()),
            ("step", pa.int64()),
            ("date", pa.date32()),
            ("treaty", pa.string()),
            *[(f"n_{stage}", pa.int64()) for stage in STAGES],
        ]
    )


def runs_arrow(world: World, outputs: Sequence[Output]) -> pa.Table:
    """One row per output with its outcomes (nulls for failed runs)."""
    import pyarrow as pa

    from sim.records import outcomes

    rows = [outcomes(world, out) if out.status == "ok" else {} for out in outputs]
    columns: dict[str, Any] = {
        "run_id": [o.task.run_id for o in outputs],
        "point": [o.task.point for o in outputs],
        "replication": [o.task.replication for o in outputs],
        "seed": [o.task.seed for o in outputs],
        "status": [o.status for o in outputs],
        "error": [o.error for o in outputs],
        "seconds": [o.seconds for o in outputs],
    }
    for name, _ in outcome_fields(world):
        columns[name] = [row.get(name) for row in rows]
    schema = runs_schema(world)
    return pa.table([pa.array(columns[f.name], type=f.type) for f in schema], schema=schema)


_EPOCH = dt.date(1970, 1, 1).toordinal()


def events_arrow(world: World, outputs: Sequence[Output]) -> pa.Table:
    """One row per stage change, in each run's order."""
    import pyarrow as pa

    from sim.scenario import STAGES

    schema = events_schema()
    parts = [o for o in outputs if o.events and len(o.events["step"])]
    if not parts:
        return schema.empty_table()
    counts = np.array([len(o.events["step"]) for o in parts])
    ids = np.array(world.ids, dtype=object)
    treaties = np.array(world.treaties, dtype=object)
    stages = np.array(STAGES, dtype=object)
    state = np.concatenate([o.events["state"] for o in parts])
    treaty = np.concatenate([o.events["treaty"] for o in parts])
    stage = np.concatenate([o.events["stage"] for o in parts])
    days = np.concatenate([o.events["date"] for o in parts]).astype(np.int64) - _EPOCH
    columns = [
        pa.array(np.repeat(np.array([o.task.run_id for o in parts], dtype=object), counts)),
        pa.array(np.repeat([o.task.point for o in parts], counts).astype(np.int64)),
        pa.array(np.repeat([o.task.replication for o in parts], counts).astype(np.int64)),
        pa.array(ids[state], type=pa.string()),
        pa.array(treaties[treaty], type=pa.string()),
        pa.array(stages[stage], type=pa.string()),
        pa.array(days.astype("datetime64[D]"), type=pa.date32()),
        pa.array(np.concatenate([o.events["step"] for o in parts]).astype(np.int64)),
    ]
    return pa.table(columns, schema=schema)


def timeseries_arrow(world: World, outputs: Sequence[Output], point: int) -> pa.Table:
    """Stage counts per step and treaty (``counts`` mode) with the point's id."""
    import pyarrow as pa

    from sim.records import timeseries_table

    schema = timeseries_schema()
    frame = timeseries_table(world, outputs, "counts")
    if frame is None or frame.empty:
        return schema.empty_table()
    frame.insert(1, "point", np.int64(point))
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)


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


@dataclass
class ChunkResult:
    """A finished chunk: its rows as Arrow tables, ready to be written as shards."""

    runs: pa.Table
    events: pa.Table
    timeseries: pa.Table | None
    failed: int
    seconds: float

    @property
    def n_runs(self) -> int:
        """Rows of the runs table."""
        return int(self.runs.num_rows)


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
        from sim.checks import check_scenario
        from sim.keypath import set_path
        from sim.loader import Loaded, validate_document
        from sim.runner import resolved_document
        from sim.scenario import Scenario
        from sim.yamlio import Document

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
        path: The sweep file (or one already loaded with :func:`sim.validate.load_sweep`).
        check_points: Validate each point's scenario now (catches a bad value before any run).

    Raises:
        ValidationError: Any problem in the sweep, its base, its design or a point.
    """
    from sim.designs import DesignError, generate
    from sim.loader import load_scenario
    from sim.runner import resolved_document
    from sim.validate import load_sweep

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
    from sim.world import build_world

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


@dataclass
class ShardWriter:
    """Buffers finished chunks and writes them as numbered shards.

    The first shard is written about ``first_seconds`` after the first chunk finishes, and the
    interval doubles after each write up to ``flush_seconds``: a short sweep shows stored results
    at once, a long one writes a few large shards (at most ``3600 / flush_seconds`` an hour),
    and a crash loses at most ``flush_seconds`` of finished work.

    Attributes:
        folder: The shards folder.
        number: The next shard number.
        flush_runs: Write once this many runs are buffered, whatever the time.
        flush_seconds: Longest interval between writes.
        first_seconds: The first interval.
    """

    folder: Path
    number: int
    flush_runs: int = 5000
    flush_seconds: float = 30.0
    first_seconds: float = 1.0
    _buffer: list[ChunkResult] = field(default_factory=list)
    _buffered: int = 0
    _since: float = 0.0
    _interval: float = 0.0

    def __post_init__(self) -> None:
        self._interval = min(self.first_seconds, self.flush_seconds)

    @property
    def buffered(self) -> int:
        """Runs waiting to be written."""
        return self._buffered

    def add(self, result: ChunkResult) -> None:
        """Buffer a finished chunk."""
        if not self._buffer:
            self._since = time.monotonic()
        self._buffer.append(result)
        self._buffered += result.n_runs

    def seconds_left(self) -> float | None:
        """Seconds until the buffer is due, or None when it is empty."""
        if not self._buffer:
            return None
        return max(0.0, self._interval - (time.monotonic() - self._since))

    def due(self) -> bool:
        """Whether the buffer should be written now."""
        left = self.seconds_left()
        return left is not None and (left <= 0 or self.buffered >= self.flush_runs)

    def flush(self) -> None:
        """Write the buffer: events (and time series) first, the runs shard last (the commit)."""
        import pyarrow as pa

        if not self._buffer:
            return
        name = f"{self.number:06d}"
        events = pa.concat_tables([r.events for r in self._buffer])
        _write_table(self.folder / f"events-{name}.parquet", _by_key(events))
        series = [r.timeseries for r in self._buffer if r.timeseries is not None]
        if series:
            table = _by_key(pa.concat_tables(series))
            _write_table(self.folder / f"timeseries-{name}.parquet", table)
        runs = pa.concat_tables([r.runs for r in self._buffer])
        _write_table(self.folder / f"runs-{name}.parquet", _by_key(runs))
        self.number += 1
        self._buffer.clear()
        self._buffered = 0
        self._interval = min(self.flush_seconds, 2 * self._interval)
        _release_memory()


def _by_key(table: pa.Table) -> pa.Table:
    """Rows sorted by (point, replication), keeping their order within a run."""
    import pyarrow as pa

    points = table.column("point").to_numpy()
    reps = table.column("replication").to_numpy()
    order = np.lexsort((np.arange(table.num_rows), reps, points))
    return table.take(pa.array(order))


#: Rows per row group of shards and consolidated tables: small groups let consolidation read a
#: point range without reading whole files.
ROW_GROUP_ROWS = 8192


def _write_table(target: Path, table: pa.Table) -> None:
    import pyarrow.parquet as pq

    from sim.store import atomic_path

    with atomic_path(target) as tmp:
        pq.write_table(table, tmp, compression="zstd", row_group_size=ROW_GROUP_ROWS)


@dataclass
class Layer:
    """Stored rows of one session's write: a shard, or the consolidated tables (number -1).

    Rows of a higher-numbered layer supersede rows of the same key in lower ones.
    """

    number: int
    runs: Path
    events: Path | None
    timeseries: Path | None
    first_point: int
    last_point: int


@dataclass
class StoredState:
    """What a sweep folder already holds.

    Attributes:
        layers: Readable layers, oldest first.
        status: One byte per run key ``point · R + replication``: 0 missing, 1 ok, 2 failed
            (the newest layer's row decides).
        next_number: The next free shard number.
        notes: What the scan cleaned up, for the log.
    """

    layers: list[Layer]
    status: np.ndarray
    next_number: int
    notes: list[str]


def scan_folder(
    folder: Path, n_points: int, replications: int, *, clean: bool = True
) -> StoredState:
    """Clean up after a crash and read which runs a sweep folder already holds.

    Removes temporary files of interrupted writes and event/time-series shards whose runs shard
    was never written (they are uncommitted: their runs are run again), and sets aside runs
    shards that cannot be read. Reads only the key and status columns of each runs shard, a row
    group at a time.

    Args:
        folder: The sweep folder.
        n_points: Points of the sweep.
        replications: Replications per point.
        clean: Remove and set aside files as described; False only reads (dry runs). Call with
            True only while holding the folder's lock.

    Raises:
        SweepError: A stored row has a key outside the sweep (the folder is not this sweep's).
    """
    import pyarrow.parquet as pq

    notes: list[str] = []
    shards = folder / SHARDS
    for place in (folder, shards):
        if clean and place.is_dir():
            for tmp in place.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
                notes.append(f"removed the partial file {tmp.name}")
    files: dict[int, dict[str, Path]] = {}
    if shards.is_dir():
        for path in shards.iterdir():
            match = _SHARD_NAME.match(path.name)
            if match:
                files.setdefault(int(match.group(2)), {})[match.group(1)] = path
    next_number = max(files, default=-1) + 1
    for group in files.values():
        if clean and "runs" not in group:
            for path in group.values():
                path.unlink(missing_ok=True)
                notes.append(f"removed the uncommitted shard {path.name}")
    candidates: list[tuple[int, dict[str, Path]]] = []
    if (folder / "runs.parquet").is_file():
        base = {"runs": folder / "runs.parquet"}
        for kind in ("events", "timeseries"):
            if (folder / f"{kind}.parquet").is_file():
                base[kind] = folder / f"{kind}.parquet"
        candidates.append((-1, base))
    candidates += [(n, g) for n, g in sorted(files.items()) if "runs" in g]

    total = n_points * replications
    status = np.zeros(total, dtype=np.int8)
    layers: list[Layer] = []
    for number, group in candidates:
        first, last = n_points, -1
        updates: list[tuple[np.ndarray, np.ndarray]] = []
        try:
            handle = pq.ParquetFile(group["runs"])
            columns = ["point", "replication", "status"]
            for batch in handle.iter_batches(columns=columns, use_threads=False):
                points = batch.column(0).to_numpy().astype(np.int64)
                reps = batch.column(1).to_numpy().astype(np.int64)
                ok = np.asarray(batch.column(2).to_pylist(), dtype=object) == "ok"
                if len(points) and (
                    points.min() < 0
                    or points.max() >= n_points
                    or reps.min() < 0
                    or reps.max() >= replications
                ):
                    raise SweepError(f"{group['runs']}: rows outside this sweep's points")
                if len(points):
                    first, last = min(first, int(points.min())), max(last, int(points.max()))
                updates.append((points * replications + reps, np.where(ok, _OK, _FAILED)))
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            if isinstance(exc, SweepError):
                raise
            if number < 0 or not clean:
                notes.append(f"ignored the unreadable {group['runs'].name}: {exc}")
                continue
            for path in group.values():
                path.rename(path.with_name(path.name + ".corrupt"))
            notes.append(f"set aside the unreadable shard {group['runs'].name}: {exc}")
            continue
        for keys, values in updates:
            status[keys] = values
        layers.append(
            Layer(number, group["runs"], group.get("events"), group.get("timeseries"), first, last)
        )
    _release_memory()
    return StoredState(layers, status, next_number, notes)


# --------------------------------------------------------------------------------------------
# consolidation


@dataclass
class Consolidated:
    """Counts from consolidation, and the first failures for the summary."""

    ok: int
    failed: int
    failures: list[dict[str, Any]]


def _read_layer(path: Path, first: int, stop: int, number: int) -> pa.Table:
    """Rows of points ``first .. stop - 1`` of a stored table, tagged with the layer number.

    Only row groups whose statistics overlap the range are read, on the calling thread: the
    dataset API's thread pools keep far more memory than the rows need.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    handle = pq.ParquetFile(path)
    column = handle.schema_arrow.get_field_index("point")
    groups = []
    for i in range(handle.metadata.num_row_groups):
        stats = handle.metadata.row_group(i).column(column).statistics
        if stats is None or not stats.has_min_max or (stats.min < stop and stats.max >= first):
            groups.append(i)
    table = handle.read_row_groups(groups, use_threads=False)
    points = table.column("point")
    table = table.filter(pc.and_(pc.greater_equal(points, first), pc.less(points, stop)))
    return table.append_column("_layer", pa.array(np.full(table.num_rows, number, np.int64)))


def _release_memory() -> None:
    """Hand memory Arrow no longer uses back to the system, so the parent's RSS stays flat."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def consolidate(
    folder: Path,
    layers: Sequence[Layer],
    n_points: int,
    replications: int,
    *,
    timeseries: bool = False,
    batch_runs: int = 1024,
) -> Consolidated:
    """Merge stored layers into runs.parquet, events.parquet (and timeseries.parquet).

    Streams point ranges of about ``batch_runs`` runs, so memory stays bounded: for each key the
    row of the newest layer wins, events come from that same layer, and rows are sorted by
    ``(point, replication)`` (events keep their order within a run).

    Raises:
        SweepError: A run has no row in any layer.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.store import atomic_path

    runs_layers = list(layers)
    if not runs_layers:
        raise SweepError("no stored runs to consolidate")
    schema = pq.read_schema(runs_layers[0].runs)
    ev_schema = events_schema()
    ts_schema = timeseries_schema()
    step = max(1, batch_runs // replications)
    ok = failed = 0
    failures: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        runs_tmp = stack.enter_context(atomic_path(folder / "runs.parquet"))
        events_tmp = stack.enter_context(atomic_path(folder / "events.parquet"))
        ts_tmp = (
            stack.enter_context(atomic_path(folder / "timeseries.parquet")) if timeseries else None
        )
        runs_out = pq.ParquetWriter(runs_tmp, schema, compression="zstd")
        events_out = pq.ParquetWriter(events_tmp, ev_schema, compression="zstd")
        ts_out = pq.ParquetWriter(ts_tmp, ts_schema, compression="zstd") if ts_tmp else None
        for first in range(0, n_points, step):
            stop = min(n_points, first + step)
            size = (stop - first) * replications
            overlap = [
                lay for lay in runs_layers if lay.first_point < stop and lay.last_point >= first
            ]
            table = pa.concat_tables(
                [_read_layer(lay.runs, first, stop, lay.number) for lay in overlap]
                or [schema.empty_table().append_column("_layer", pa.array([], pa.int64()))]
            )
            points = table.column("point").to_numpy()
            reps = table.column("replication").to_numpy()
            layer = table.column("_layer").to_numpy()
            order = np.lexsort((-layer, reps, points))
            key = (points[order] - first) * replications + reps[order]
            keep = order[np.r_[True, key[1:] != key[:-1]]] if len(order) else order
            if len(keep) != size:
                raise SweepError(
                    f"{size - len(keep)} runs of points {first}..{stop - 1} are missing"
                )
            winners = table.take(pa.array(keep))
            winner_layer = np.full(size, -2, dtype=np.int64)
            winner_layer[(points[keep] - first) * replications + reps[keep]] = layer[keep]
            runs_out.write_table(winners.drop_columns(["_layer"]).cast(schema))
            status = np.asarray(winners.column("status").to_pylist(), dtype=object)
            bad = np.flatnonzero(status != "ok")
            ok += size - len(bad)
            failed += len(bad)
            for i in bad[: max(0, FAILURES_LISTED - len(failures))]:
                failures.append(
                    {
                        "point": int(points[keep][i]),
                        "replication": int(reps[keep][i]),
                        "run_id": winners.column("run_id")[int(i)].as_py(),
                        "error": winners.column("error")[int(i)].as_py(),
                    }
                )
            events_out.write_table(
                _winning_rows(overlap, "events", first, stop, replications, winner_layer, ev_schema)
            )
            if ts_out is not None:
                ts_out.write_table(
                    _winning_rows(
                        overlap, "timeseries", first, stop, replications, winner_layer, ts_schema
                    )
                )
            del table, winners
            _release_memory()
        runs_out.close()
        events_out.close()
        if ts_out is not None:
            ts_out.close()
    return Consolidated(ok, failed, failures)


def _winning_rows(
    layers: Sequence[Layer],
    kind: str,
    first: int,
    stop: int,
    replications: int,
    winner_layer: np.ndarray,
    schema: pa.Schema,
) -> pa.Table:
    """Rows of ``kind`` from the layer that won each run, sorted by key, run order kept."""
    import pyarrow as pa

    parts = []
    for lay in layers:
        path = lay.events if kind == "events" else lay.timeseries
        if path is not None and path.is_file():
            parts.append(_read_layer(path, first, stop, lay.number))
    if not parts:
        return schema.empty_table()
    table = pa.concat_tables(parts)
    if table.num_rows == 0:
        return schema.empty_table()
    points = table.column("point").to_numpy()
    reps = table.column("replication").to_numpy()
    layer = table.column("_layer").to_numpy()
    kept = np.flatnonzero(winner_layer[(points - first) * replications + reps] == layer)
    order = kept[np.lexsort((kept, reps[kept], points[kept]))]
    return table.take(pa.array(order)).drop_columns(["_layer"]).cast(schema)


# --------------------------------------------------------------------------------------------
# progress


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
    from sim.store import INCOMPLETE, SCENARIO, mark_incomplete, write_json, write_text
    from sim.yamlio import dump_yaml

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
    _write_table(folder / DESIGN, plan.points.table())
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
    from sim.executors import ExecutorHandle, default_workers, open_executor
    from sim.runner import default_folder
    from sim.store import INCOMPLETE, MANIFEST, mark_incomplete, write_json

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
        todo = state.status == _MISSING
        if retry_failed:
            todo |= state.status == _FAILED
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
            from sim.sweep_report import build_sweep_report

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
    from sim.designs import DESIGN_STREAM
    from sim.runner import environment_info, sha256_file

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

    from sim.world import build_world

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
    from sim.designs import describe

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
        from sim.designs import missing_salib

        return missing_salib(plan_design)
    return None


def sweep_command(args: argparse.Namespace, command: Sequence[str]) -> int:
    """``treatysim sweep``: run, resume, retry or size up a sweep; returns the exit code.

    Exit codes: 0 every run ok, 1 some runs failed or the sweep stopped, 2 bad input.
    """
    from sim.executors import ExecutorError, default_workers
    from sim.validate import load_sweep

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
            stored = int((state.status == _OK).sum())
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
