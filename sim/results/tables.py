"""The tables of a run or sweep folder: one Arrow schema and one builder each.

- runs: one row per replication, with its status and outcomes;
- events: one row per stage change;
- timeseries: per step and state (``full``), or per step, treaty and stage (``counts``).

``treatysim run`` and ``treatysim sweep`` build them here; a sweep's tables add a ``point``
column after ``run_id``. States, treaties and stages are dictionary-encoded; the builders stack
the replications' arrays and never go through Python objects per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from treatysim.results.outcomes import DATE_OUTCOMES, OUTCOMES, first_reach, outcome_columns
from treatysim.results.store import write_batches, write_table
from treatysim.scenario.schema import STAGES

if TYPE_CHECKING:
    import pandas as pd

    from treatysim.model.world import World

__all__ = ["OUTCOMES", "Output", "Tables", "Task", "build_tables"]

#: Proleptic ordinal of 1970-01-01, the origin of Arrow's date32.
EPOCH = dt.date(1970, 1, 1).toordinal()
#: Dictionary-encoded labels (states, treaties, stages).
LABEL = pa.dictionary(pa.int32(), pa.string())
#: Stage names of the ``full`` time series; the last one stands for code -1.
_FULL_STAGES = (*STAGES, "not_party")


@dataclass
class Task:
    """One replication to run (``point`` is -1 outside sweeps)."""

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


class Tables:
    """The tables of a run folder as Arrow tables (timeseries None when not recorded).

    Args:
        runs: The runs table.
        events: The events table.
        timeseries: The time-series table, or None.
        batches: Instead of ``timeseries``: its schema and a function giving its record batches
            (the ``full`` time series of many replications is larger than the arrays it comes
            from; :meth:`write_timeseries` streams it to Parquet without ever holding it whole,
            and :attr:`timeseries` builds it only when asked).
    """

    def __init__(
        self,
        runs: pa.Table,
        events: pa.Table,
        timeseries: pa.Table | None,
        batches: tuple[pa.Schema, Callable[[], Iterator[pa.RecordBatch]]] | None = None,
    ) -> None:
        self.runs = runs
        self.events = events
        self._timeseries = timeseries
        self._batches = batches

    @property
    def timeseries(self) -> pa.Table | None:
        """The time-series table (built from its batches on first use), or None."""
        if self._timeseries is None and self._batches is not None:
            schema, batches = self._batches
            self._timeseries = pa.Table.from_batches(list(batches()), schema=schema)
        return self._timeseries

    def write_timeseries(self, target: Path) -> None:
        """Write the time series (if it has rows) to ``target`` atomically, batch by batch."""
        if self._timeseries is None and self._batches is not None:
            write_batches(target, *self._batches)
        elif self._timeseries is not None and self._timeseries.num_rows:
            write_table(target, self._timeseries)

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
        """The tables as pandas DataFrames, as ``pandas.read_parquet`` gives them back."""
        series = self.timeseries.to_pandas() if self.timeseries is not None else None
        return self.runs.to_pandas(), self.events.to_pandas(), series


# --------------------------------------------------------------------------------------------
# schemas


def _keys(point: bool) -> list[tuple[str, pa.DataType]]:
    head: list[tuple[str, pa.DataType]] = [("run_id", pa.string())]
    if point:
        head.append(("point", pa.int64()))
    return [*head, ("replication", pa.int64())]


def outcome_fields(world: World) -> list[tuple[str, pa.DataType]]:
    """Outcome columns of runs.parquet: :data:`OUTCOMES`, suffixed ``__treaty`` for others."""
    primary = world.scenario.primary_treaty
    fields = []
    for treaty in world.treaties:
        suffix = "" if treaty == primary else f"__{treaty}"
        for name in OUTCOMES:
            kind = pa.date32() if name in DATE_OUTCOMES else pa.int64()
            fields.append((f"{name}{suffix}", kind))
    return fields


def runs_schema(world: World, *, point: bool) -> pa.Schema:
    """Schema of runs.parquet: ids, seed, status, error, seconds, then the outcomes."""
    return pa.schema(
        [
            *_keys(point),
            ("seed", pa.uint64()),
            ("status", pa.string()),
            ("error", pa.string()),
            ("seconds", pa.float64()),
            *outcome_fields(world),
        ]
    )


def events_schema(*, point: bool) -> pa.Schema:
    """Schema of events.parquet: one row per stage change of a run."""
    return pa.schema(
        [
            *_keys(point),
            ("iso3", LABEL),
            ("treaty", LABEL),
            ("stage", LABEL),
            ("date", pa.date32()),
            ("step", pa.int64()),
        ]
    )


def timeseries_schema(mode: str, treaties: Sequence[str] = (), *, point: bool) -> pa.Schema:
    """Schema of timeseries.parquet: stage counts (``counts``) or per state (``full``)."""
    head = [*_keys(point), ("step", pa.int64()), ("date", pa.date32())]
    if mode == "counts":
        return pa.schema([*head, ("treaty", LABEL), *[(f"n_{s}", pa.int64()) for s in STAGES]])
    columns = [("iso3", LABEL), ("threat", pa.float64())]
    for t in treaties:
        columns += [(f"commitment_{t}", pa.float64()), (f"stage_{t}", LABEL)]
    return pa.schema([*head, *columns])


# --------------------------------------------------------------------------------------------
# builders


def _labels(codes: np.ndarray, names: Sequence[str]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(
        pa.array(np.asarray(codes, dtype=np.int32)), pa.array(list(names), type=pa.string())
    )


def _dates(ordinals: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    days = np.nan_to_num(np.asarray(ordinals, dtype=np.float64) - EPOCH).astype(np.int64)
    return pa.array(days.astype("datetime64[D]"), type=pa.date32(), mask=mask)


def _key_columns(outputs: Sequence[Output], repeat: np.ndarray, point: bool) -> list[pa.Array]:
    ids = np.array([o.task.run_id for o in outputs], dtype=object)
    columns = [pa.array(np.repeat(ids, repeat), type=pa.string())]
    if point:
        columns.append(pa.array(np.repeat([o.task.point for o in outputs], repeat), pa.int64()))
    reps = np.repeat([o.task.replication for o in outputs], repeat)
    return [*columns, pa.array(np.asarray(reps, dtype=np.int64), pa.int64())]


def _stacked_events(outputs: Sequence[Output]) -> dict[str, np.ndarray]:
    """Every output's stage changes in one set of arrays, with ``run``, the output's index."""
    parts = [(i, o.events) for i, o in enumerate(outputs) if o.events and len(o.events["step"])]
    names = ("step", "state", "treaty", "stage", "date")
    if not parts:
        return {"run": np.zeros(0, np.int64), **{k: np.zeros(0, np.int64) for k in names}}
    out = {k: np.concatenate([ev[k] for _, ev in parts]) for k in names}
    out["run"] = np.repeat([i for i, _ in parts], [len(ev["step"]) for _, ev in parts])
    return out


def runs_arrow(world: World, outputs: Sequence[Output], *, point: bool) -> pa.Table:
    """One row per output with its outcomes (nulls for failed runs)."""
    schema = runs_schema(world, point=point)
    n = len(outputs)
    columns = _key_columns(outputs, np.ones(n, dtype=np.int64), point)
    columns += [
        pa.array([o.task.seed for o in outputs], pa.uint64()),
        pa.array([o.status for o in outputs], pa.string()),
        pa.array([o.error for o in outputs], pa.string()),
        pa.array([o.seconds for o in outputs], pa.float64()),
    ]
    ok = np.array([o.status == "ok" for o in outputs], dtype=bool)
    done = [o for o, good in zip(outputs, ok, strict=True) if good]
    ev = _stacked_events(done)
    start = world.calendar.start.toordinal()
    n_states = len(world.ids)
    for j in range(len(world.treaties)):
        mine = ev["treaty"] == j
        first = first_reach(
            ev["run"][mine], ev["state"][mine], ev["stage"][mine], ev["date"][mine],
            len(done), n_states,
        )  # fmt: skip
        final = np.array([o.final_stage[:, j] for o in done if o.final_stage is not None])
        values = outcome_columns(first, final.reshape(len(done), n_states), start)
        for name in OUTCOMES:
            full = np.zeros(n, dtype=values[name].dtype)
            full[ok] = values[name]
            missing = ~ok | (np.isnan(full) if full.dtype.kind == "f" else False)
            if name in DATE_OUTCOMES:
                columns.append(_dates(full, missing))
            else:
                columns.append(pa.array(np.nan_to_num(full).astype(np.int64), mask=missing))
    return pa.table(columns, schema=schema)


def events_arrow(world: World, outputs: Sequence[Output], *, point: bool) -> pa.Table:
    """One row per stage change, in each run's order."""
    schema = events_schema(point=point)
    ev = _stacked_events(outputs)
    if len(ev["step"]) == 0:
        return schema.empty_table()
    counts = np.bincount(ev["run"], minlength=len(outputs))
    columns = _key_columns(outputs, counts, point)
    columns += [
        _labels(ev["state"], world.ids),
        _labels(ev["treaty"], world.treaties),
        _labels(ev["stage"], STAGES),
        _dates(ev["date"]),
        pa.array(ev["step"].astype(np.int64)),
    ]
    return pa.table(columns, schema=schema)


def timeseries_arrow(
    world: World, outputs: Sequence[Output], mode: str, *, point: bool
) -> pa.Table | None:
    """Per-step records of the ok runs: stage counts (``counts``) or per state (``full``)."""
    if mode == "none":
        return None
    schema = timeseries_schema(mode, world.treaties, point=point)
    return pa.Table.from_batches(list(timeseries_batches(world, outputs, mode, point=point)), schema)


#: Rows of the time series built at once (bounds the temporary arrays).
BATCH_ROWS = 1 << 20


def timeseries_batches(
    world: World, outputs: Sequence[Output], mode: str, *, point: bool
) -> Iterator[pa.RecordBatch]:
    """The time-series table as record batches of a few replications each (about BATCH_ROWS
    rows), in order."""
    days = np.array([d.toordinal() for d in world.calendar.dates], dtype=np.int64)
    width = len(world.treaties) if mode == "counts" else len(world.ids)
    if mode == "counts":
        done = [o for o in outputs if o.status == "ok" and o.counts is not None]
    else:
        done = [o for o in outputs if o.status == "ok" and o.threat is not None]
    per_run = max(1, BATCH_ROWS // max(1, len(days) * width))
    for start in range(0, len(done), per_run):
        yield _series_batch(world, done[start : start + per_run], mode, days, point)


def _series_batch(
    world: World, done: Sequence[Output], mode: str, days: np.ndarray, point: bool
) -> pa.RecordBatch:
    schema = timeseries_schema(mode, world.treaties, point=point)
    n_steps = len(days)
    width = len(world.treaties) if mode == "counts" else len(world.ids)
    size = n_steps * width
    repeat = np.full(len(done), size, dtype=np.int64)
    columns = _key_columns(done, repeat, point)
    columns += [
        pa.array(np.tile(np.repeat(np.arange(n_steps), width), len(done)).astype(np.int64)),
        _dates(np.tile(np.repeat(days, width), len(done))),
    ]
    if mode == "counts":
        counts = np.concatenate([o.counts.reshape(size, -1) for o in done if o.counts is not None])
        columns.append(_labels(np.tile(np.arange(width), n_steps * len(done)), world.treaties))
        columns += [pa.array(counts[:, code].astype(np.int64)) for code in range(len(STAGES))]
        return pa.RecordBatch.from_arrays(columns, schema=schema)
    threat = np.concatenate([o.threat.reshape(-1) for o in done if o.threat is not None])
    commitment = np.concatenate([o.commitment.reshape(size, -1) for o in done])  # type: ignore[union-attr]
    stage = np.concatenate([o.stage.reshape(size, -1) for o in done])  # type: ignore[union-attr]
    columns.append(_labels(np.tile(np.arange(width), n_steps * len(done)), world.ids))
    columns.append(pa.array(threat.astype(np.float64, copy=False)))
    for j in range(len(world.treaties)):
        codes = stage[:, j]
        columns.append(pa.array(np.ascontiguousarray(commitment[:, j], dtype=np.float64)))
        columns.append(_labels(np.where(codes < 0, len(STAGES), codes), _FULL_STAGES))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def build_tables(
    world: World, outputs: Sequence[Output], mode: str, *, point: bool = False
) -> Tables:
    """Every table of a run (or of a sweep's chunk, with ``point``) from replication outputs."""
    runs, events = runs_arrow(world, outputs, point=point), events_arrow(world, outputs, point=point)
    if mode != "full":
        return Tables(runs, events, timeseries_arrow(world, outputs, mode, point=point))
    kept = list(outputs)  # the full series is built when written or read, not here
    schema = timeseries_schema(mode, world.treaties, point=point)
    return Tables(
        runs,
        events,
        None,
        batches=(schema, lambda: timeseries_batches(world, kept, mode, point=point)),
    )
