"""The one table schema: run and sweep folders agree; outcomes have one definition."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from treatysim.analysis import stats
from treatysim.cli import main
from treatysim.results.outcomes import DATE_OUTCOMES, OUTCOMES
from treatysim.run.runner import run_scenario, simulate_tables
from treatysim.run.sweep import SweepOptions, run_sweep
from treatysim.scenario.load import load_scenario

from modelkit import SCENARIOS

SWEEP = """\
schema_version: 1
name: tiny
base: base.yaml
factors:
  - {name: sensitivity, path: parameters.threat.sensitivity, values: [2.0, 4.0]}
design: {type: grid}
replications: 2
outcomes: [cascade_size]
seed: 5
timeseries: counts
"""


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A run folder and a sweep folder of the founding scenario, both with stage counts."""
    base = tmp_path_factory.mktemp("tables")
    text = (SCENARIOS / "ottawa_2025.yaml").read_text(encoding="utf-8")
    text = text.replace("end: 2027-12-31", "end: 2025-09-30").replace(
        "report_dates: [2025-12-31, 2026-12-31]", "report_dates: []"
    )
    (base / "base.yaml").write_text(text, encoding="utf-8")
    (base / "sweep.yaml").write_text(SWEEP, encoding="utf-8")
    run = base / "run"
    run_scenario(
        load_scenario(base / "base.yaml"), replications=3, out=run, timeseries="counts", quiet=True
    )
    sweep = run_sweep(base / "sweep.yaml", SweepOptions(out=base / "sweep", workers=1)).folder
    return run, sweep


@pytest.mark.parametrize("table", ["runs", "events", "timeseries"])
def test_run_and_sweep_folders_share_one_schema(folders: tuple[Path, Path], table: str) -> None:
    """The same columns in the same order (a sweep adds ``point``), with the same Arrow types."""
    run, sweep = (pq.read_schema(folder / f"{table}.parquet") for folder in folders)
    assert sweep.names == [run.names[0], "point", *run.names[1:]]
    assert sweep.field("point").type == "int64"
    for name in run.names:
        assert run.field(name).type == sweep.field(name).type, name
    if table == "runs":
        assert "seconds" in run.names
    if table == "events":
        for name in ("iso3", "treaty", "stage"):
            assert (
                str(run.field(name).type) == "dictionary<values=string, indices=int32, ordered=0>"
            )


def test_in_memory_tables_equal_the_stored_ones(folders: tuple[Path, Path], tmp_path: Path) -> None:
    """simulate_tables gives the DataFrames that the run folder's Parquet files give back."""
    run, _ = folders
    loaded = load_scenario(run / "scenario.yaml")
    runs, events, series = simulate_tables(loaded, timeseries="counts", quiet=True).tables.frames()
    stored = {name: pd.read_parquet(run / f"{name}.parquet") for name in ("runs", "events")}
    pd.testing.assert_frame_equal(
        runs.drop(columns="seconds"), stored["runs"].drop(columns="seconds")
    )
    pd.testing.assert_frame_equal(events, stored["events"])
    assert series is not None
    pd.testing.assert_frame_equal(series, pd.read_parquet(run / "timeseries.parquet"))


@pytest.mark.parametrize(
    "name", ["ottawa_2025", "teaching/baltic_simple", "ceasefire_2025", "ccm_lithuania"]
)
def test_outcomes_in_runs_equal_outcomes_recomputed_from_events(name: str) -> None:
    """runs.parquet's outcomes (from the replications' arrays) and stats.run_outcomes (from
    the events table) are one definition: they agree run by run, for every treaty."""
    path = SCENARIOS / f"{name}.yaml"
    sim = simulate_tables(load_scenario(path), replications=12, seed=7, quiet=True)
    runs, events, _ = sim.tables.frames()
    ok = runs.loc[runs["status"] == "ok", "run_id"].tolist()
    assert len(ok) == 12
    world = sim.world
    for treaty in world.treaties:
        suffix = "" if treaty == world.scenario.primary_treaty else f"__{treaty}"
        again = stats.run_outcomes(events, ok, world.ids, treaty, world.calendar.start)
        stored = runs.set_index("run_id").loc[ok]
        for outcome in OUTCOMES:
            if outcome in DATE_OUTCOMES:
                continue
            expected = stored[f"{outcome}{suffix}"].to_numpy(dtype=float)
            np.testing.assert_array_equal(again[outcome].to_numpy(dtype=float), expected, outcome)
        first_exit = stored[f"first_exit{suffix}"]
        days = [np.nan if pd.isna(d) else stats.to_day(d) for d in first_exit]
        np.testing.assert_array_equal(again["first_exit_day"].to_numpy(dtype=float), days)


def test_cli_run_and_sweep_write_reports(folders: tuple[Path, Path], tmp_path: Path) -> None:
    """The runners write no report; ``treatysim report`` draws it from the stored tables."""
    run, sweep = folders
    assert not (run / "summary.md").exists() and not (sweep / "summary.md").exists()
    assert main(["report", str(run)]) == 0
    assert (run / "summary.md").is_file()
