"""Sweeps end to end: identical results on every executor, dry runs, failures and retries.

The sweeps are small: the founding scenario with its calendar cut to nine months (about 7 ms a
run), a handful of points and replications, no time series.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from failures import fail_runs

from treatysim.cli import main
from treatysim.run import executors
from treatysim.run.plan import prepare
from treatysim.run.sweep import SweepOptions, run_sweep
from treatysim.scenario.errors import ValidationError

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
#: Columns that measure time, not results.
TIMING = ["seconds"]


def write_base(folder: Path, *, end: str = "2025-09-30") -> Path:
    """The founding scenario with a shorter calendar, written into ``folder``."""
    text = (SCENARIOS / "ottawa_2025.yaml").read_text(encoding="utf-8")
    text = text.replace("end: 2027-12-31", f"end: {end}")
    if end < "2025-12-31":
        text = text.replace("report_dates: [2025-12-31, 2026-12-31]", "report_dates: []")
    path = folder / "base.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GRID = """\
schema_version: 1
name: small_grid
base: base.yaml
factors:
  - {name: sensitivity, path: parameters.threat.sensitivity, values: [2.0, 4.0]}
  - {name: nor_stigma, path: states.overrides.NOR.stigma, values: [0.0, 1.5, 3.0]}
design: {type: grid}
replications: 5
outcomes: [cascade_size, n_withdrawn]
thresholds: [3, 6]
seed: 11
timeseries: none
"""


def write_sweep(folder: Path, text: str = GRID, name: str = "sweep.yaml") -> Path:
    """A sweep file (and its base scenario) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "base.yaml").exists():
        write_base(folder)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def runs_of(folder: Path) -> pd.DataFrame:
    """runs.parquet without timing columns, sorted by point and replication."""
    runs = pd.read_parquet(folder / "runs.parquet").drop(columns=TIMING)
    return runs.sort_values(["point", "replication"]).reset_index(drop=True)


def events_of(folder: Path) -> pd.DataFrame:
    """events.parquet in stored order."""
    return pd.read_parquet(folder / "events.parquet")


def test_results_do_not_depend_on_executor_workers_or_chunks(tmp_path: Path) -> None:
    """In-process, a 2-process pool, 2 Dask workers and other chunk sizes give the same tables."""
    sweep = write_sweep(tmp_path)
    one = run_sweep(sweep, SweepOptions(out=tmp_path / "one", workers=1))
    two = run_sweep(sweep, SweepOptions(out=tmp_path / "two", workers=2))
    tiny = run_sweep(sweep, SweepOptions(out=tmp_path / "tiny", workers=2, chunk_size=1))
    odd = run_sweep(sweep, SweepOptions(out=tmp_path / "odd", workers=1, chunk_size=7))
    dask = run_sweep(sweep, SweepOptions(out=tmp_path / "dask", workers=2, executor_kind="dask"))
    assert one.runs == 30 and one.failed == 0 and one.executed == 30
    assert two.executor.startswith("local process pool")
    assert dask.executor.startswith("dask LocalCluster")
    reference = runs_of(one.folder)
    assert len(reference) == 30
    assert reference[["point", "replication"]].drop_duplicates().shape[0] == 30
    assert reference["cascade_size"].nunique() > 1  # the replications differ
    for other in (two, tiny, odd, dask):
        pd.testing.assert_frame_equal(runs_of(other.folder), reference)
        pd.testing.assert_frame_equal(events_of(other.folder), events_of(one.folder))
    assert len(events_of(one.folder)) > 0


def test_both_engines_give_the_same_sweep_tables(tmp_path: Path) -> None:
    """The Mesa engine point by point and the batched engine across points: identical tables."""
    import json

    sweep = write_sweep(tmp_path)
    mesa = run_sweep(sweep, SweepOptions(out=tmp_path / "mesa", workers=1, engine="mesa"))
    batched = run_sweep(sweep, SweepOptions(out=tmp_path / "batched", workers=1, chunk_size=30))
    pd.testing.assert_frame_equal(runs_of(batched.folder), runs_of(mesa.folder))
    pd.testing.assert_frame_equal(events_of(batched.folder), events_of(mesa.folder))
    for summary, engine in ((mesa, "mesa"), (batched, "batched")):
        manifest = json.loads((summary.folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["engine"] == engine


def test_runs_table_has_sorted_keys_seeds_and_ids(tmp_path: Path) -> None:
    """runs.parquet: sorted by (point, replication), the documented seed and id of each run."""
    from treatysim.run.seeds import replication_seed, run_id

    sweep = write_sweep(tmp_path)
    summary = run_sweep(sweep, SweepOptions(out=tmp_path / "out", workers=1))
    runs = pd.read_parquet(summary.folder / "runs.parquet")
    keys = list(zip(runs["point"], runs["replication"], strict=True))
    assert keys == sorted(keys) == [(p, r) for p in range(6) for r in range(5)]
    plan = prepare(sweep)
    for row in runs.itertuples():
        assert row.seed == replication_seed(11, row.point, row.replication)
        _, digest = plan.point_scenario(row.point)
        assert row.run_id == run_id(digest, 11, row.point, row.replication)
    design = pd.read_parquet(summary.folder / "design.parquet")
    assert list(design.columns) == ["point", "sensitivity", "nor_stigma"]
    assert design["sensitivity"].tolist() == [2.0, 2.0, 2.0, 4.0, 4.0, 4.0]
    manifest = json.loads((summary.folder / "manifest.json").read_text())
    assert manifest["kind"] == "sweep"
    assert (manifest["points"], manifest["replications"], manifest["runs"]) == (6, 5, 30)
    assert manifest["root_seed"] == 11 and "replication_seed" in manifest["seed_rule"]
    assert not (summary.folder / "INCOMPLETE").exists()
    assert not (summary.folder / "shards").exists()


def test_dry_run_prints_points_runs_time_and_disk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dry-run sizes the sweep, times real runs and writes nothing."""
    sweep = write_sweep(tmp_path)
    out = tmp_path / "never"
    assert main(["sweep", str(sweep), "--dry-run", "--workers", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "6 points × 5 replications = 30 runs" in text
    assert "time: ~" in text and "with 2 workers" in text and "ms per run" in text
    assert "disk: ~" in text
    assert not out.exists()


def test_failed_run_is_a_row_and_retry_failed_replaces_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An injected failure: one failed row, the sweep goes on; --retry-failed fixes it.

    The two workers are threads here, so the injected failure reaches them.
    """
    sweep = write_sweep(tmp_path)
    out = tmp_path / "out"
    with pytest.MonkeyPatch.context() as failing:
        failing.setattr(executors, "local_pool", lambda n: ThreadPoolExecutor(max_workers=n))
        fail_runs(failing, 11, [(1, 2)])
        code = main(["sweep", str(sweep), "--out", str(out), "--workers", "2", "-q"])
    assert code == 1
    captured = capsys.readouterr()
    printed = captured.out + captured.err  # with -q, failures go to stderr only
    assert "failed: 1" in printed and "point 1, replication 2" in printed
    runs = pd.read_parquet(out / "runs.parquet")
    failed = runs[runs["status"] == "failed"]
    assert list(zip(failed["point"], failed["replication"], strict=True)) == [(1, 2)]
    assert "injected failure" in failed["error"].iloc[0]
    assert (runs["status"] == "ok").sum() == 29
    assert failed["cascade_size"].isna().all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["failed"] == 1 and manifest["failures"][0]["point"] == 1

    assert main(["sweep", str(sweep), "--out", str(out), "--retry-failed"]) == 0
    assert "1 run now" in capsys.readouterr().out  # without -q: --quiet prints only errors
    clean = run_sweep(sweep, SweepOptions(out=tmp_path / "clean", workers=1))
    pd.testing.assert_frame_equal(runs_of(out), runs_of(clean.folder))
    pd.testing.assert_frame_equal(events_of(out), events_of(clean.folder))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["failed"] == 0 and len(manifest["sessions"]) == 2
    assert manifest["sessions"][1]["to_run"] == 1


def test_point_values_outside_the_schema_fail_before_any_run(tmp_path: Path) -> None:
    """A factor value the scenario schema rejects is a validation error (exit 2)."""
    text = GRID.replace("values: [2.0, 4.0]", "values: [2.0, 40.0]")
    sweep = write_sweep(tmp_path, text)
    with pytest.raises(ValidationError) as err:
        prepare(sweep)
    assert "factors[0].path" in str(err.value) and "40.0" in str(err.value)
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()


def test_out_folder_in_use_and_other_sweep_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A used --out needs --resume; resuming with a different sweep file is refused."""
    sweep = write_sweep(tmp_path)
    out = tmp_path / "out"
    run_sweep(sweep, SweepOptions(out=out, workers=1))
    assert main(["sweep", str(sweep), "--out", str(out), "-q"]) == 2
    assert "--resume" in capsys.readouterr().err
    other = write_sweep(tmp_path, GRID.replace("seed: 11", "seed: 12"), "other.yaml")
    assert main(["sweep", str(other), "--out", str(out), "--resume", "-q"]) == 2
    assert "root_seed" in capsys.readouterr().err
    assert main(["sweep", str(sweep), "--out", str(out), "--resume"]) == 0
    assert "(0 run now, 30 stored before)" in capsys.readouterr().out


def test_saltelli_without_salib_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without SALib a saltelli sweep stops at once with the install command (exit 2)."""
    text = (
        GRID.replace("values: [2.0, 4.0]", "low: 2.0, high: 4.0")
        .replace("values: [0.0, 1.5, 3.0]", "low: 0.0, high: 3.0")
        .replace("design: {type: grid}", "design: {type: saltelli, samples: 4}")
    )
    sweep = write_sweep(tmp_path, text)
    for name in ("SALib", "SALib.sample", "SALib.analyze"):
        monkeypatch.setitem(__import__("sys").modules, name, None)
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'pip install "treatysim[sensitivity]"' in err[0]


def test_bad_command_lines_exit_2(tmp_path: Path) -> None:
    """--resume without --out, --scheduler without dask and --workers 0 are bad input."""
    sweep = write_sweep(tmp_path)
    assert main(["sweep", str(sweep), "--resume"]) == 2
    assert main(["sweep", str(sweep), "--scheduler", "tcp://x:1"]) == 2
    assert main(["sweep", str(sweep), "--workers", "0"]) == 2


def test_counts_time_series_are_stored_with_points(tmp_path: Path) -> None:
    """timeseries: counts gives timeseries.parquet with the point of every row."""
    sweep = write_sweep(tmp_path, GRID.replace("timeseries: none", "timeseries: counts"))
    summary = run_sweep(sweep, SweepOptions(out=tmp_path / "out", workers=1))
    series = pd.read_parquet(summary.folder / "timeseries.parquet")
    assert set(series["point"]) == set(range(6))
    per_run = series.groupby(["point", "replication"]).size()
    assert len(per_run) == 30 and per_run.nunique() == 1
