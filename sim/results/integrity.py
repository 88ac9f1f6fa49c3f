"""Do a folder's tables, stored scenario and manifest belong together? (issue 14, items 3 and 14)

A folder can end up mixing two runs (two processes given one ``--out``, a table copied in by
hand, a sweep folder whose ``runs.parquet`` was replaced). Readers (report, compare, export,
sweep reports) check, before reading anything else, that:

- run folders: ``scenario.yaml`` has the digest the manifest records
  (``resolved_scenario_sha256``), and ``runs.parquet`` holds exactly the manifest's run ids
  and seeds;
- sweep folders: ``runs.parquet`` holds ``replications`` rows for each of the manifest's
  ``points`` (no other point ids), ``design.parquet`` one row per point, and the runs table's
  keys (point, replication, seed, run id) have the digest the manifest records
  (``runs_digest``; folders written before it existed are checked by shape only).

Each check returns the problem as one line, or None; the reader raises its own error with it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

#: The manifest key of the sweep runs table's key digest (:func:`runs_digest`).
RUNS_DIGEST = "runs_digest"
#: The columns :func:`runs_digest` reads.
KEY_COLUMNS = ("point", "replication", "seed", "run_id")


def scenario_digest(resolved: dict[str, Any]) -> str:
    """A stable digest of a resolved scenario (canonical JSON).

    The ``provenance`` mapping and the events' ``scheduled_since`` are left out: they document
    the inputs (what was known when) and change nothing that runs, so tagging a scenario keeps
    its run ids.
    """
    content = {k: v for k, v in resolved.items() if k != "provenance"}
    if isinstance(content.get("events"), list):
        content["events"] = [
            {k: v for k, v in e.items() if k != "scheduled_since"} if isinstance(e, dict) else e
            for e in content["events"]
        ]
    text = json.dumps(content, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def runs_digest(table: pa.Table | pd.DataFrame) -> str:
    """The sha256 of a sweep runs table's keys, in (point, replication) order.

    It covers every row's point, replication, seed and run id, so a table from another sweep
    (other seeds, other scenarios, other points) or with rows lost or repeated has another
    digest.
    """
    if isinstance(table, pa.Table):
        columns = {c: table.column(c).to_numpy(zero_copy_only=False) for c in KEY_COLUMNS}
    else:
        columns = {c: table[c].to_numpy() for c in KEY_COLUMNS}
    points = np.asarray(columns["point"], dtype=np.int64)
    reps = np.asarray(columns["replication"], dtype=np.int64)
    order = np.lexsort((reps, points))
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(points[order]).tobytes())
    digest.update(np.ascontiguousarray(reps[order]).tobytes())
    digest.update(np.ascontiguousarray(np.asarray(columns["seed"], dtype=np.uint64)[order]))
    digest.update("\n".join(map(str, np.asarray(columns["run_id"])[order])).encode())
    return digest.hexdigest()


def read_keys(path: Path) -> pa.Table:
    """The key columns of a sweep's runs.parquet."""
    return pq.read_table(path, columns=list(KEY_COLUMNS))


def scenario_mismatch(folder: Path, manifest: dict[str, Any], stored: Any) -> str | None:
    """Whether a run folder's stored scenario (parsed scenario.yaml) is the manifest's.

    Args:
        folder: The run folder (for the message).
        manifest: Its manifest.
        stored: The data of its scenario.yaml, as parsed.
    """
    expected = manifest.get("resolved_scenario_sha256")
    if not isinstance(expected, str):  # written before the digest was recorded
        return None
    if not isinstance(stored, dict) or scenario_digest(stored) != expected:
        return (
            f"{folder}: scenario.yaml does not belong to this manifest.json (its digest is not "
            "resolved_scenario_sha256); the folder mixes two runs"
        )
    return None


def sweep_mismatch(folder: Path, manifest: dict[str, Any], keys: pa.Table) -> str | None:
    """Whether a sweep's runs table (its key columns) is the one its manifest describes.

    Args:
        folder: The sweep folder (for the message).
        manifest: Its manifest.
        keys: The runs table, or its :data:`KEY_COLUMNS`.
    """
    where = f"{folder}: runs.parquet does not belong to this manifest.json"
    missing = [c for c in KEY_COLUMNS if c not in keys.column_names]
    if missing:
        return f"{where} (no column {', '.join(missing)})"
    try:
        points, reps = int(manifest["points"]), int(manifest["replications"])
    except (KeyError, TypeError, ValueError):
        return f"{folder}: manifest.json lacks the sweep's points and replications"
    point = keys.column("point").to_numpy(zero_copy_only=False).astype(np.int64)
    sizes = np.full(points, reps, np.int64)
    precision = manifest.get("precision")
    if isinstance(precision, dict):  # a --precision sweep: each point has its own size
        try:
            sizes = np.array([int(p["n"]) for p in precision["points"]], np.int64)
        except (KeyError, TypeError, ValueError):
            return f"{folder}: manifest.json's precision record lacks the points' sizes"
        if sizes.size != points:
            return f"{folder}: manifest.json's precision record lists {sizes.size} points"
    if keys.num_rows != sizes.sum():
        return f"{where} ({keys.num_rows:,} rows for {points:,} points x {reps:,} replications)"
    if point.size and (point.min() < 0 or point.max() >= points):
        return f"{where} (point ids outside 0..{points - 1})"
    counts = np.bincount(point, minlength=points)
    if (counts != sizes).any():
        bad = int(np.flatnonzero(counts != sizes)[0])
        return f"{where} (point {bad} has {counts[bad]} runs, not {sizes[bad]})"
    expected = manifest.get(RUNS_DIGEST)
    if isinstance(expected, str) and runs_digest(keys) != expected:
        return f"{where} (its run ids or seeds are another sweep's)"
    return None


def design_mismatch(folder: Path, manifest: dict[str, Any], rows: int) -> str | None:
    """Whether a sweep's design.parquet has one row per point of the manifest."""
    points = manifest.get("points")
    if isinstance(points, int) and rows != points:
        return (
            f"{folder}: design.parquet does not belong to this manifest.json "
            f"({rows:,} rows for {points:,} points)"
        )
    return None


def sweep_folder_mismatch(folder: Path, manifest: dict[str, Any]) -> str | None:
    """:func:`sweep_mismatch` and :func:`design_mismatch` on a sweep folder's stored tables.

    Unreadable tables are a mismatch too (the folder cannot be trusted).
    """
    try:
        keys = read_keys(folder / "runs.parquet")
        design_rows = pq.ParquetFile(folder / "design.parquet").metadata.num_rows
    except (OSError, ValueError, pa.ArrowException) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"{folder}: unreadable table ({first})"
    return sweep_mismatch(folder, manifest, keys) or design_mismatch(folder, manifest, design_rows)
