"""Sweep storage: Arrow tables of finished runs, numbered shards, resume scans, consolidation.

Only the parent process writes. A finished chunk's runs are written as shards, first
``shards/events-N.parquet`` (and ``timeseries-N``), then ``shards/runs-N.parquet``, each to a
temporary name and renamed: a runs shard is the commit record of its number. A resume scan
deletes leftovers and reads back which (point, replication) keys are stored; consolidation
streams every layer into ``runs.parquet`` and ``events.parquet``, keeping for each key the row
from the newest layer and the events of that same layer.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from treatysim.results.store import RUNS, atomic_path, write_table
from treatysim.results.tables import events_schema, timeseries_schema

#: Shards of an unfinished sweep.
SHARDS = "shards"
#: Failures listed in the manifest (the full list is runs.parquet's failed rows).
FAILURES_LISTED = 1000

_SHARD_NAME = re.compile(r"^(runs|events|timeseries)-(\d{6,})\.parquet$")
STATUS_MISSING, STATUS_OK, STATUS_FAILED = 0, 1, 2


class SweepError(RuntimeError):
    """A sweep stopped before it finished (its folder can be resumed)."""


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
        if not self._buffer:
            return
        name = f"{self.number:06d}"
        events = pa.concat_tables([r.events for r in self._buffer])
        write_table(self.folder / f"events-{name}.parquet", _by_key(events))
        series = [r.timeseries for r in self._buffer if r.timeseries is not None]
        if series:
            table = _by_key(pa.concat_tables(series))
            write_table(self.folder / f"timeseries-{name}.parquet", table)
        runs = pa.concat_tables([r.runs for r in self._buffer])
        write_table(self.folder / f"runs-{name}.parquet", _by_key(runs))
        self.number += 1
        self._buffer.clear()
        self._buffered = 0
        self._interval = min(self.flush_seconds, 2 * self._interval)
        _release_memory()


def _by_key(table: pa.Table) -> pa.Table:
    """Rows sorted by (point, replication), keeping their order within a run."""
    points = table.column("point").to_numpy()
    reps = table.column("replication").to_numpy()
    order = np.lexsort((np.arange(table.num_rows), reps, points))
    return table.take(pa.array(order))


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
    if (folder / RUNS).is_file():
        base = {"runs": folder / RUNS}
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
            handle = pq.ParquetFile(group["runs"], page_checksum_verification=True)
            for batch in handle.iter_batches(use_threads=False):  # every column: a full check
                points = batch.column("point").to_numpy().astype(np.int64)
                reps = batch.column("replication").to_numpy().astype(np.int64)
                ok = np.asarray(batch.column("status").to_pylist(), dtype=object) == "ok"
                if len(points) and (
                    points.min() < 0
                    or points.max() >= n_points
                    or reps.min() < 0
                    or reps.max() >= replications
                ):
                    raise SweepError(f"{group['runs']}: rows outside this sweep's points")
                if len(points):
                    first, last = min(first, int(points.min())), max(last, int(points.max()))
                updates.append(
                    (points * replications + reps, np.where(ok, STATUS_OK, STATUS_FAILED))
                )
            for kind in ("events", "timeseries"):
                if kind in group:
                    _check_readable(group[kind])
        except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
            if isinstance(exc, SweepError):
                raise
            damaged = next((p.name for p in group.values() if not _readable(p)), None)
            detail = f"{damaged or group['runs'].name}: {exc}".splitlines()[0]
            if number < 0 or not clean:
                notes.append(f"ignored the unreadable {detail}")
                continue
            for path in group.values():
                path.rename(path.with_name(path.name + ".corrupt"))
            notes.append(f"set aside the unreadable shard group {number:06d} ({detail})")
            continue
        for keys, values in updates:
            status[keys] = values
        layers.append(
            Layer(number, group["runs"], group.get("events"), group.get("timeseries"), first, last)
        )
    _release_memory()
    return StoredState(layers, status, next_number, notes)


def _check_readable(path: Path) -> None:
    """Read every page of a Parquet file, verifying page checksums where it has them.

    Raises:
        OSError, ValueError, pyarrow.ArrowException: The file is damaged.
    """
    handle = pq.ParquetFile(path, page_checksum_verification=True)
    for _ in handle.iter_batches(use_threads=False):
        pass


def _readable(path: Path) -> bool:
    try:
        _check_readable(path)
    except (OSError, ValueError, pa.ArrowException):
        return False
    return True


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
    handle = pq.ParquetFile(path, page_checksum_verification=True)
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
    pa.default_memory_pool().release_unused()


def consolidate(
    folder: Path,
    layers: Sequence[Layer],
    n_points: int,
    replications: int,
    *,
    timeseries: bool = False,
    batch_runs: int = 1024,
    sizes: np.ndarray | None = None,
    relabel: Callable[[pa.Table], pa.Table] | None = None,
) -> Consolidated:
    """Merge stored layers into runs.parquet, events.parquet (and timeseries.parquet).

    Streams point ranges of about ``batch_runs`` runs, so memory stays bounded: for each key the
    row of the newest layer wins, events come from that same layer, and rows are sorted by
    ``(point, replication)`` (events keep their order within a run).

    A precision sweep passes ``sizes`` (each point's final number of replications: only keys
    ``r < sizes[p]`` are kept) and ``relabel`` (sets each table's ``run_id`` column from its
    ``point`` and ``replication`` columns, as a fixed sweep of that size would).

    Raises:
        SweepError: A run has no row in any layer, or a stored file cannot be read (the
            folder keeps its shards and can be resumed).
    """
    try:
        return _consolidate(
            folder,
            layers,
            n_points,
            replications,
            timeseries=timeseries,
            batch_runs=batch_runs,
            sizes=np.full(n_points, replications, np.int64) if sizes is None else sizes,
            relabel=relabel or (lambda table: table),
        )
    except (OSError, ValueError, pa.ArrowException) as exc:
        if isinstance(exc, SweepError):
            raise
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SweepError(
            f"consolidation failed ({first}); resume with --resume to redo damaged shards"
        ) from exc


def _consolidate(
    folder: Path,
    layers: Sequence[Layer],
    n_points: int,
    replications: int,
    *,
    timeseries: bool,
    batch_runs: int,
    sizes: np.ndarray,
    relabel: Callable[[pa.Table], pa.Table],
) -> Consolidated:
    """:func:`consolidate` without the error translation."""
    runs_layers = list(layers)
    if not runs_layers:
        raise SweepError("no stored runs to consolidate")
    schema = pq.read_schema(runs_layers[0].runs)
    ev_schema = events_schema(point=True)
    ts_schema = timeseries_schema("counts", point=True)
    step = max(1, batch_runs // replications)
    ok = failed = 0
    failures: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        runs_tmp = stack.enter_context(atomic_path(folder / RUNS))
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
            expected = int(sizes[first:stop].sum())
            overlap = [
                lay for lay in runs_layers if lay.first_point < stop and lay.last_point >= first
            ]
            table = pa.concat_tables(
                [_read_layer(lay.runs, first, stop, lay.number) for lay in overlap]
                or [schema.empty_table().append_column("_layer", pa.array([], pa.int64()))]
            )
            points = table.column("point").to_numpy()
            reps = table.column("replication").to_numpy()
            wanted = reps < sizes[points]
            if not wanted.all():  # runs beyond a precision sweep point's final size
                table = table.filter(pa.array(wanted))
                points, reps = points[wanted], reps[wanted]
            layer = table.column("_layer").to_numpy()
            order = np.lexsort((-layer, reps, points))
            key = (points[order] - first) * replications + reps[order]
            keep = order[np.r_[True, key[1:] != key[:-1]]] if len(order) else order
            if len(keep) != expected:
                raise SweepError(
                    f"{expected - len(keep)} runs of points {first}..{stop - 1} are missing"
                )
            winners = relabel(table.take(pa.array(keep)))
            winner_layer = np.full(size, -2, dtype=np.int64)
            winner_layer[(points[keep] - first) * replications + reps[keep]] = layer[keep]
            runs_out.write_table(winners.drop_columns(["_layer"]).cast(schema))
            status = np.asarray(winners.column("status").to_pylist(), dtype=object)
            bad = np.flatnonzero(status != "ok")
            ok += expected - len(bad)
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
                relabel(
                    _winning_rows(
                        overlap, "events", first, stop, replications, winner_layer, ev_schema
                    )
                )
            )
            if ts_out is not None:
                ts_out.write_table(
                    relabel(
                        _winning_rows(
                            overlap, "timeseries", first, stop, replications, winner_layer, ts_schema
                        )
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
