"""The runner: seeds, identical results across workers, failed rows, atomic folders, --set."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from failures import fail_runs

from treatysim.cli import main
from treatysim.results.store import INCOMPLETE, StoreError, load_run
from treatysim.run.runner import apply_overrides, run_scenario
from treatysim.run.seeds import replication_seed
from treatysim.scenario.errors import ValidationError
from treatysim.scenario.load import load_scenario

from modelkit import ROOT, SCENARIOS

FOUNDING = SCENARIOS / "ottawa_2025.yaml"


def tables(folder: Path) -> dict[str, pd.DataFrame]:
    """runs (without ``seconds``, which times the machine) and events of a run folder."""
    runs = pd.read_parquet(folder / "runs.parquet").drop(columns=["seconds"])
    return {"runs": runs, "events": pd.read_parquet(folder / "events.parquet")}


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "w1"
    run_scenario(load_scenario(FOUNDING), replications=12, out=out, workers=1, quiet=True)
    return out


def test_seeds_are_spawned_children_of_the_root() -> None:
    children = np.random.SeedSequence(42).spawn(3)
    for r, child in enumerate(children):
        expected = int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
        assert replication_seed(42, r) == expected


def test_one_and_two_workers_give_identical_tables(one_worker: Path, tmp_path: Path) -> None:
    two = tmp_path / "w2"
    run_scenario(load_scenario(FOUNDING), replications=12, out=two, workers=2, quiet=True)
    a, b = tables(one_worker), tables(two)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert len(a["events"]) > 12


def test_any_executor_gives_the_same_tables(one_worker: Path, tmp_path: Path) -> None:
    out = tmp_path / "threads"
    with ThreadPoolExecutor(max_workers=3) as pool:
        run_scenario(
            load_scenario(FOUNDING),
            replications=12,
            out=out,
            executor=pool,
            quiet=True,
        )
    for name, frame in tables(one_worker).items():
        pd.testing.assert_frame_equal(frame, tables(out)[name])


def test_manifest_records_every_seed_and_the_environment(one_worker: Path) -> None:
    manifest = json.loads((one_worker / "manifest.json").read_text())
    assert manifest["root_seed"] == 20250318
    assert manifest["seeds"] == [replication_seed(20250318, r) for r in range(12)]
    for key in (
        "treatysim",
        "python",
        "mesa",
        "numpy",
        "command",
        "scenario_sha256",
        "started",
        "finished",
    ):
        assert manifest[key], key
    runs = pd.read_parquet(one_worker / "runs.parquet")
    assert runs["seed"].tolist() == manifest["seeds"]
    assert runs["run_id"].tolist() == manifest["run_ids"]
    assert not (one_worker / INCOMPLETE).exists()


def test_rerunning_the_stored_scenario_reproduces_the_tables(
    one_worker: Path, tmp_path: Path
) -> None:
    """scenario.yaml in a run folder is the resolved scenario: running it again (same root seed,
    same replications, from its stored settings) gives the same run ids and tables."""
    again = tmp_path / "again"
    run_scenario(load_scenario(one_worker / "scenario.yaml"), out=again, quiet=True)
    for name, frame in tables(one_worker).items():
        pd.testing.assert_frame_equal(frame, tables(again)[name])


def test_a_replication_that_raises_becomes_a_failed_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_runs(monkeypatch, load_scenario(FOUNDING).model.run.seed, [(3,)])
    out = tmp_path / "failing"
    summary = run_scenario(load_scenario(FOUNDING), replications=6, out=out, quiet=True)
    runs = pd.read_parquet(out / "runs.parquet")
    assert summary.failed == 1
    assert runs.loc[runs["status"] == "failed", "replication"].tolist() == [3]
    assert "injected failure" in runs.loc[3, "error"]
    assert (runs.loc[runs["replication"] != 3, "status"] == "ok").all()
    assert 3 not in set(pd.read_parquet(out / "events.parquet")["replication"])


def test_set_overrides_any_key_and_is_validated() -> None:
    loaded = apply_overrides(
        load_scenario(FOUNDING),
        [
            "parameters.threat.sensitivity=1.5",
            "events.zapad_2025.capability_boost=0.9",
            "states.overrides.SWE.stigma=0.4",
        ],
    )
    scenario = loaded.model
    assert scenario.parameters.threat.sensitivity == 1.5
    assert next(e for e in scenario.events if e.id == "zapad_2025").capability_boost == 0.9
    assert scenario.states.overrides["SWE"].stigma == 0.4
    with pytest.raises(ValidationError) as bad:
        apply_overrides(
            load_scenario(FOUNDING), ["parameters.threat.sensitivty=1.5", "run.replications=0"]
        )
    messages = [str(p) for p in bad.value.problems]
    assert any("did you mean 'sensitivity'" in m for m in messages)


def test_cli_set_errors_exit_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", str(FOUNDING), "--out", str(tmp_path / "x"), "--set", "parameters.nope=1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "parameters.nope" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_output_folder_must_be_new_or_empty(one_worker: Path) -> None:
    with pytest.raises(ValidationError, match="not empty"):
        run_scenario(load_scenario(FOUNDING), replications=1, out=one_worker, quiet=True)


def test_a_killed_run_leaves_a_folder_marked_incomplete(tmp_path: Path) -> None:
    """kill -9 in the middle of a run: the folder says it is incomplete and readers refuse it."""
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "treatysim",
            "run",
            str(FOUNDING),
            "-n",
            "100000",
            "--out",
            str(out),
            "--quiet",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not (out / "scenario.yaml").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (out / INCOMPLETE).exists()
    assert not (out / "runs.parquet").exists()
    assert not list(out.glob(".*.tmp"))
    with pytest.raises(StoreError, match="incomplete"):
        load_run(out)


def test_bundled_scenarios_run_by_name_from_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a plain pip install there is no scenarios/ folder at hand: names find the bundled
    copies (package data of treatysim.scenarios)."""
    monkeypatch.chdir(tmp_path)
    code = main(["run", "teaching/granovetter_riot", "--out", "riot", "--quiet"])
    assert code == 0
    runs = pd.read_parquet(tmp_path / "riot" / "runs.parquet")
    assert runs["cascade_size"].tolist() == [100]
    assert main(["run", "no_such_scenario", "--out", "x", "--quiet"]) == 2
