"""`treatysim export`: every table of a results folder as CSV that reads back to the same values."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from treatysim.results.export import ExportError, export_folder
from treatysim.results.store import INCOMPLETE, MANIFEST


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A hand-made results folder: a manifest and two tables, one dictionary-encoded."""
    out = tmp_path / "run"
    out.mkdir()
    (out / MANIFEST).write_text("{}\n", encoding="utf-8")
    runs = pa.table(
        {
            "run_id": ["a", "b"],
            "cascade_size": pa.array([3, None], pa.int32()),
            "first_exit": pa.array([dt.date(2025, 6, 27), None], pa.date32()),
            "status": pa.array(["ok", "failed"]).dictionary_encode(),
            "share": [0.5, 1 / 3],
        }
    )
    pq.write_table(runs, out / "runs.parquet")
    pq.write_table(pa.table({"iso3": ["EST", "Türkiye"]}), out / "events.parquet")
    return out


def test_every_table_becomes_a_csv_with_iso_dates_and_text_categories(folder: Path) -> None:
    exported = export_folder(folder)
    assert sorted(e.target.name for e in exported) == ["events.csv", "runs.csv"]
    with (folder / "csv" / "runs.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0] == {
        "run_id": "a",
        "cascade_size": "3",
        "first_exit": "2025-06-27",
        "status": "ok",
        "share": "0.5",
    }
    assert rows[1]["cascade_size"] == "" and rows[1]["first_exit"] == ""
    assert float(rows[1]["share"]) == 1 / 3
    events = (folder / "csv" / "events.csv").read_bytes().decode("utf-8")
    assert "Türkiye" in events


def test_a_bundled_run_exports_tables_that_read_back_equal(tmp_path: Path) -> None:
    from treatysim.cli import main

    run = tmp_path / "run"
    code = main(["run", "teaching/baltic_simple", "-n", "3", "--out", str(run), "-q"])
    assert code == 0
    export_folder(run, tmp_path / "csv")
    for name in ("runs", "events"):
        stored = pd.read_parquet(run / f"{name}.parquet")
        back = pd.read_csv(tmp_path / "csv" / f"{name}.csv", keep_default_na=False)
        assert list(back.columns) == list(stored.columns)
        assert len(back) == len(stored)
        for column in ("run_id", "replication"):
            assert back[column].astype(str).tolist() == stored[column].astype(str).tolist()


def test_an_incomplete_folder_is_refused(folder: Path) -> None:
    (folder / INCOMPLETE).write_text("killed\n", encoding="utf-8")
    with pytest.raises(ExportError, match="incomplete"):
        export_folder(folder)


def test_a_folder_without_manifest_or_tables_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no such folder"):
        export_folder(tmp_path / "missing")
    with pytest.raises(ExportError, match="not a results folder"):
        export_folder(tmp_path)
    (tmp_path / MANIFEST).write_text("{}\n", encoding="utf-8")
    with pytest.raises(ExportError, match="no tables"):
        export_folder(tmp_path)


def test_an_out_path_that_is_a_file_is_refused(folder: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(ExportError, match="not a folder"):
        export_folder(folder, blocker)


def test_the_export_command_writes_csv_and_refuses_a_bad_folder(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from treatysim.cli import main

    assert main(["export", str(folder), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "runs.csv").is_file()
    assert "runs.csv (2 rows)" in capsys.readouterr().out
    assert main(["export", str(tmp_path / "missing")]) == 2
    assert "no such folder" in capsys.readouterr().err
