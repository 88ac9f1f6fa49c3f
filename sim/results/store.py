"""The results store: run folders with Parquet tables and a manifest, written atomically.

A run folder is created with an ``INCOMPLETE`` marker that is removed only after every table and
the manifest are in place, so a killed run leaves a folder that says it is incomplete, never a
silently truncated table. Every file is written to a temporary name and renamed into place.
Statistics and plots only read what is stored here (:func:`load_run`).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from treatysim.model.world import World, build_world
from treatysim.results.integrity import scenario_mismatch
from treatysim.scenario.load import load_scenario
from treatysim.scenario.schema import Scenario

if TYPE_CHECKING:
    import pyarrow as pa

INCOMPLETE = "INCOMPLETE"
MANIFEST = "manifest.json"
SCENARIO = "scenario.yaml"
RUNS = "runs.parquet"
EVENTS = "events.parquet"
TIMESERIES = "timeseries.parquet"
SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"
PLOTS = "plots"
# a sweep folder also holds:
#: What a sweep folder must match to be resumed (written when the sweep starts).
PLAN = "plan.json"
#: One row per point.
DESIGN = "design.parquet"
#: A copy of the sweep file as given.
SWEEP_COPY = "sweep.yaml"
#: Per point and outcome statistics (written by the sweep report).
POINT_SUMMARY = "point_summary.parquet"
#: Sobol' or Morris indices (saltelli and morris designs).
SENSITIVITY = "sensitivity.json"
#: Held while a process writes to the folder.
LOCK = ".lock"
#: Rows per row group of stored tables: small groups let a sweep's consolidation read a point
#: range without reading whole files.
ROW_GROUP_ROWS = 8192


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    On an exception the temporary file is removed and ``target`` is left as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    # like mkstemp, but with the umask's permissions (mkstemp's 0600 would hide results from
    # the group that shares a results folder)
    tmp = target.parent / f".{target.name}.{secrets.token_hex(8)}.tmp"
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        yield tmp
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(target: Path, text: str) -> None:
    """Write text atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(target: Path, data: Any) -> None:
    """Write JSON atomically (sorted keys, two-space indent)."""
    write_text(target, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def write_parquet(target: Path, frame: pd.DataFrame) -> None:
    """Write a DataFrame as Parquet atomically (zstd, no index)."""
    with atomic_path(target) as tmp:
        frame.to_parquet(tmp, index=False, compression="zstd")


def write_table(target: Path, table: pa.Table) -> None:
    """Write an Arrow table as Parquet atomically (zstd, row groups of ROW_GROUP_ROWS rows).

    Every page carries a CRC, so a damaged byte is found when the file is read with
    ``page_checksum_verification=True`` (a sweep's resume scan does).
    """
    import pyarrow.parquet as pq

    with atomic_path(target) as tmp:
        pq.write_table(
            table,
            tmp,
            compression="zstd",
            row_group_size=ROW_GROUP_ROWS,
            write_page_checksum=True,
        )


def write_batches(
    target: Path, schema: pa.Schema, batches: Callable[[], Iterable[pa.RecordBatch]]
) -> None:
    """Write record batches as one Parquet file atomically, as :func:`write_table` writes their
    table, without holding the table whole; no file when there are no rows."""
    import pyarrow.parquet as pq

    rows = (batch for batch in batches() if batch.num_rows)
    first = next(rows, None)
    if first is None:
        return
    with atomic_path(target) as tmp:
        options = {"compression": "zstd", "write_page_checksum": True}
        with pq.ParquetWriter(tmp, schema, **options) as writer:
            for batch in _chain(first, rows):
                writer.write_batch(batch, row_group_size=ROW_GROUP_ROWS)


def _chain(first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield first
    yield from rest


def mark_incomplete(folder: Path, reason: str) -> None:
    """Create the folder and its INCOMPLETE marker."""
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / INCOMPLETE, reason + "\n")


def mark_complete(folder: Path) -> None:
    """Remove the INCOMPLETE marker: every file of the folder is in place."""
    (folder / INCOMPLETE).unlink(missing_ok=True)


@dataclass
class RunData:
    """A stored run folder, read back.

    Attributes:
        folder: The run folder.
        manifest: The manifest's contents.
        scenario: The resolved scenario stored with the run.
        runs: One row per replication.
        events: One row per stage change.
        timeseries: Per-step records, or None when the run recorded none.
    """

    folder: Path
    manifest: dict[str, Any]
    scenario: Scenario
    runs: pd.DataFrame
    events: pd.DataFrame
    timeseries: pd.DataFrame | None

    def world(self) -> World:
        """Rebuild the resolved world (calendar, states, observed data) from the scenario."""
        return build_world(self.scenario, self.folder)


class StoreError(Exception):
    """A folder is not a readable run folder."""


def load_run(
    folder: Path | str, *, timeseries: bool = True, allow_incomplete: bool = False
) -> RunData:
    """Read a run folder written by the runner.

    Args:
        folder: The run folder.
        timeseries: Also read timeseries.parquet when present.
        allow_incomplete: Read a folder that still has its INCOMPLETE marker (the runner's own
            report, written just before the marker is removed).

    Raises:
        StoreError: The folder is missing, incomplete or lacks a table, or its scenario.yaml or
            runs.parquet is not the one its manifest describes.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise StoreError(f"{folder}: no such folder")
    if not allow_incomplete:
        check_complete(folder)
    manifest = read_manifest(folder)
    if manifest.get("kind", "run") != "run":
        raise StoreError(f"{folder}: a {manifest.get('kind')} folder, not a run folder")
    for name in (RUNS, EVENTS, SCENARIO):
        if not (folder / name).is_file():
            raise StoreError(f"{folder}: missing {name}")
    stored = load_scenario(folder / SCENARIO)
    if problem := scenario_mismatch(folder, manifest, stored.document.data):
        raise StoreError(problem)
    scenario = stored.model
    ts_path = folder / TIMESERIES
    runs = pd.read_parquet(folder / RUNS)
    check_belongs(folder, manifest, runs)
    return RunData(
        folder=folder,
        manifest=manifest,
        scenario=scenario,
        runs=runs,
        events=pd.read_parquet(folder / EVENTS),
        timeseries=pd.read_parquet(ts_path) if timeseries and ts_path.is_file() else None,
    )


def check_complete(folder: Path) -> None:
    """Refuse a folder with an INCOMPLETE marker, saying why it is incomplete.

    Raises:
        StoreError: The folder is incomplete (killed, or still being written).
    """
    marker = folder / INCOMPLETE
    if marker.exists():
        try:
            reason = marker.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            reason = "unreadable marker"
        raise StoreError(f"{folder}: the run is incomplete ({reason})")


def read_manifest(folder: Path) -> dict[str, Any]:
    """A folder's manifest.json, which must be a JSON object.

    Raises:
        StoreError: No manifest, or one that is unreadable or not an object.
    """
    path = folder / MANIFEST
    if not path.is_file():
        raise StoreError(f"{folder}: not a run folder (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"{folder}: unreadable {MANIFEST} ({exc})") from None
    if not isinstance(manifest, dict):
        raise StoreError(f"{folder}: {MANIFEST} is not a JSON object")
    return manifest


def check_belongs(folder: Path, manifest: dict[str, Any], runs: pd.DataFrame) -> None:
    """Check that a runs table is the one its manifest describes (run ids and seeds).

    A run manifest lists every run id and seed; a sweep manifest gives the number of runs.

    Raises:
        StoreError: The table and the manifest come from different runs.
    """
    ids = manifest.get("run_ids")
    if isinstance(ids, list) and "run_id" in runs.columns:
        if sorted(map(str, runs["run_id"])) != sorted(map(str, ids)):
            raise StoreError(
                f"{folder}: {RUNS} does not belong to this {MANIFEST} (other run ids); "
                "the folder mixes two runs"
            )
        seeds = manifest.get("seeds")
        if (
            isinstance(seeds, list)
            and "seed" in runs.columns
            and sorted(int(x) for x in runs["seed"]) != sorted(int(x) for x in seeds)
        ):
            raise StoreError(f"{folder}: {RUNS} does not belong to this {MANIFEST} (seeds)")


def claim_folder(folder: Path, reason: str) -> None:
    """Create a new or empty output folder and its INCOMPLETE marker, exclusively.

    Two processes given the same folder cannot both claim it: the marker is created with
    ``O_EXCL``, so the second one fails even if both saw an empty folder.

    Raises:
        FileExistsError: The folder is not empty, or another process claimed it first.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if any(p.name != LOCK for p in folder.iterdir()):
        raise FileExistsError(str(folder))
    fd = os.open(folder / INCOMPLETE, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(reason + "\n")


def output_problem(out: Path | None, what: str = "--out") -> str | None:
    """Why an output folder cannot be used, or None: not a folder, below a file, read-only."""
    if out is None:
        return None
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            return f"{what} {out}: exists and is not a folder"
        if not os.access(out, os.W_OK | os.X_OK):
            return f"{what} {out}: the folder is not writable"
        return None
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"{what} {out}: {parent} is not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{what} {out}: cannot create it in {parent} (not writable)"
    return None
