"""Export the tables of a run, sweep or calibration folder as CSV, for Stata, R and Excel users.

Every Parquet table at the top of the folder becomes one CSV file: UTF-8, a header row, dates
and timestamps in ISO 8601, dictionary-encoded columns as their text, nulls as empty fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from treatysim.results.integrity import scenario_mismatch, sweep_folder_mismatch
from treatysim.results.store import (
    INCOMPLETE,
    MANIFEST,
    RUNS,
    SCENARIO,
    StoreError,
    atomic_path,
    check_belongs,
    read_manifest,
)
from treatysim.scenario.errors import ValidationError
from treatysim.scenario.load import load_scenario

FORMATS = ("csv",)


class ExportError(Exception):
    """A folder that cannot be exported (missing, incomplete, or without tables)."""


@dataclass(frozen=True)
class Exported:
    """One exported table: where it came from, where it went, and its size."""

    source: Path
    target: Path
    rows: int


def _plain(table: pa.Table) -> pa.Table:
    """Dictionary columns decoded to their values; every other type as Arrow writes it to CSV."""
    columns = []
    for column in table.columns:
        if pa.types.is_dictionary(column.type):
            column = pc.cast(column, column.type.value_type)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def export_folder(folder: Path | str, out: Path | str | None = None) -> list[Exported]:
    """Write every Parquet table of ``folder`` as CSV into ``out`` (default ``folder/csv``).

    Raises:
        ExportError: The folder is missing, not a results folder, incomplete, or has no table.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ExportError(f"{folder}: no such folder")
    if not (folder / MANIFEST).is_file():
        raise ExportError(f"{folder}: not a results folder (no {MANIFEST})")
    if (folder / INCOMPLETE).exists():
        raise ExportError(f"{folder}: the folder is incomplete; finish or resume it first")
    if problem := _mismatch(folder):
        raise ExportError(problem)
    sources = sorted(folder.glob("*.parquet"))
    if not sources:
        raise ExportError(f"{folder}: no tables to export")
    target_dir = Path(out) if out is not None else folder / "csv"
    if target_dir.exists() and not target_dir.is_dir():
        raise ExportError(f"{target_dir}: exists and is not a folder")
    target_dir.mkdir(parents=True, exist_ok=True)
    exported = []
    for source in sources:
        table = _plain(pq.read_table(source))
        target = target_dir / f"{source.stem}.csv"
        with atomic_path(target) as tmp:
            pacsv.write_csv(table, tmp)
        exported.append(Exported(source, target, table.num_rows))
    return exported


def _mismatch(folder: Path) -> str | None:
    """Whether the folder's tables, stored scenario and manifest belong together, as one line.

    Run and sweep folders are checked (:mod:`treatysim.results.integrity`); other kinds
    (calibration folders) have no such record.
    """
    try:
        manifest = read_manifest(folder)
        kind = manifest.get("kind", "run")
        if kind == "sweep":
            return sweep_folder_mismatch(folder, manifest)
        if kind != "run":
            return None
        if (folder / SCENARIO).is_file():
            stored = load_scenario(folder / SCENARIO).document.data
            if problem := scenario_mismatch(folder, manifest, stored):
                return problem
        if isinstance(manifest.get("run_ids"), list) and (folder / RUNS).is_file():
            names = pq.read_schema(folder / RUNS).names
            columns = [c for c in ("run_id", "seed") if c in names]
            check_belongs(
                folder, manifest, pq.read_table(folder / RUNS, columns=columns).to_pandas()
            )
    except StoreError as exc:
        return str(exc)
    except ValidationError as exc:
        return f"{folder}: unreadable {SCENARIO} ({exc.problems[0].message})"
    except (OSError, ValueError, pa.ArrowException) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"{folder}: unreadable table ({first})"
    return None
