"""Crash and resume: a sweep killed with SIGKILL finishes with --resume, losing and repeating none.

Also the crash leftovers the resume must handle, made by hand: a half-written temporary file,
an events shard whose runs shard was never written, and a run stored in two shards.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from treatysim.cli import main
from treatysim.results.shards import SHARDS, ShardWriter
from treatysim.run.chunks import run_sweep_chunk
from treatysim.run.plan import chunk_jobs, prepare
from treatysim.run.sweep import (
    SweepOptions,
    _folder_lock,
    _open_folder,
    run_sweep,
)

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"

#: 12 points × 200 replications of the nine-month founding scenario: ~6 s on 2 idle cores, so a
#: kill after the first shard (written about a second after the first chunk) is partway.
BIG = """\
schema_version: 1
name: resume_me
base: base.yaml
factors:
  - {name: sensitivity, path: parameters.threat.sensitivity, values: [2.0, 2.5, 3.0, 3.5]}
  - {name: alarm, path: parameters.threat.alarm_spread, values: [0.1, 0.2, 0.3]}
design: {type: grid}
replications: 200
outcomes: [cascade_size]
thresholds: [3]
seed: 5
timeseries: none
"""

SMALL = """\
schema_version: 1
name: small
base: base.yaml
factors:
  - {name: sensitivity, path: parameters.threat.sensitivity, values: [2.0, 3.0, 4.0]}
design: {type: grid}
replications: 8
outcomes: [cascade_size]
thresholds: [3]
seed: 3
timeseries: none
"""


def setup_sweep(folder: Path, text: str, *, short: bool) -> Path:
    """Write a base scenario (optionally with a nine-month calendar) and the sweep file."""
    folder.mkdir(parents=True, exist_ok=True)
    base = (SCENARIOS / "ottawa_2025.yaml").read_text(encoding="utf-8")
    if short:
        base = base.replace("end: 2027-12-31", "end: 2025-09-30").replace(
            "report_dates: [2025-12-31, 2026-12-31]", "report_dates: []"
        )
    (folder / "base.yaml").write_text(base, encoding="utf-8")
    path = folder / "sweep.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """runs (without timing) and events of a finished sweep folder."""
    runs = pd.read_parquet(folder / "runs.parquet").drop(columns=["seconds"])
    return runs, pd.read_parquet(folder / "events.parquet")


def stored_runs(folder: Path) -> int:
    """Rows in the committed runs shards."""
    return sum(len(pd.read_parquet(p)) for p in (folder / SHARDS).glob("runs-*.parquet"))


def test_sigkill_then_resume_equals_an_uninterrupted_sweep(tmp_path: Path) -> None:
    """Kill -9 after the first shard; --resume runs only the rest; the tables are identical."""
    sweep = setup_sweep(tmp_path, BIG, short=True)
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "treatysim",
            "sweep",
            str(sweep),
            "--out",
            str(out),
            "-w",
            "2",
            "-q",
            # the Mesa engine, slow enough to be killed partway; the resume and the reference
            # use the batched engine, so the test also shows the tables do not depend on it
            "--engine",
            "mesa",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its pool workers share its process group, killed below
    )
    try:
        deadline = time.monotonic() + 120
        while not list((out / SHARDS).glob("runs-*.parquet")):
            assert proc.poll() is None, f"the sweep ended early: {proc.stderr.read()!r}"  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "no shard after 120 s"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the workers of the killed sweep, if any
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert (out / "INCOMPLETE").exists() and not (out / "manifest.json").exists()
    before = stored_runs(out)
    print(f"stored at the kill: {before} of 2400 runs")
    assert 0 < before < 2400, f"{before} runs stored: the kill was not partway"

    assert main(["sweep", str(sweep), "--out", str(out), "--resume", "-w", "2", "-q"]) == 0
    reference = run_sweep(sweep, SweepOptions(out=tmp_path / "reference", workers=2))
    runs, events = tables(out)
    ref_runs, ref_events = tables(reference.folder)
    assert len(runs) == 2400
    assert not runs.duplicated(["point", "replication"]).any()
    pd.testing.assert_frame_equal(runs, ref_runs)
    pd.testing.assert_frame_equal(events, ref_events)
    assert not (out / "INCOMPLETE").exists() and not (out / SHARDS).exists()
    sessions = json.loads((out / "manifest.json").read_text())["sessions"]
    assert [s["resumed"] for s in sessions] == [False, True]
    assert (
        sessions[1]["stored_runs"] >= before
        and sessions[1]["to_run"] == 2400 - sessions[1]["stored_runs"]
    )


def test_resume_cleans_partial_files_and_keeps_one_row_per_run(tmp_path: Path) -> None:
    """A temp file, an uncommitted events shard and a run in two shards are all handled."""
    sweep = setup_sweep(tmp_path, SMALL, short=True)
    reference = run_sweep(sweep, SweepOptions(out=tmp_path / "reference", workers=1))
    plan = prepare(sweep)
    folder = tmp_path / "crashed"
    with _folder_lock(folder):
        _open_folder(plan, folder, resume=False)
    results = [run_sweep_chunk(job) for job in chunk_jobs(plan, np.arange(plan.n_runs), 5, "none")]
    assert len(results) == 5  # 24 runs in chunks of 5
    (folder / SHARDS).mkdir()
    writer = ShardWriter(folder / SHARDS, 0)
    for result in results[0:2]:  # shard 0: runs 0-9
        writer.add(result)
    writer.flush()
    for result in results[1:3]:  # shard 1: runs 5-14, so runs 5-9 are stored twice
        writer.add(result)
    writer.flush()
    orphan = ShardWriter(folder / SHARDS, 2)
    orphan.add(results[3])
    orphan.flush()
    (folder / SHARDS / "runs-000002.parquet").unlink()  # killed between events and runs
    (folder / SHARDS / ".runs-000003.parquet.x1y2.tmp").write_bytes(b"PAR1 half a file")
    (folder / ".runs.parquet.z9.tmp").write_bytes(b"PAR1")

    log = io.StringIO()
    summary = run_sweep(
        sweep, SweepOptions(out=folder, resume=True, workers=1, quiet=False, log=log)
    )
    notes = log.getvalue()
    assert "removed the uncommitted shard events-000002.parquet" in notes
    assert "removed the partial file .runs-000003.parquet.x1y2.tmp" in notes
    assert "removed the partial file .runs.parquet.z9.tmp" in notes
    assert summary.executed == 24 - 15  # runs 15-23 were never committed
    runs, events = tables(folder)
    ref_runs, ref_events = tables(reference.folder)
    assert not runs.duplicated(["point", "replication"]).any()
    pd.testing.assert_frame_equal(runs, ref_runs)
    pd.testing.assert_frame_equal(events, ref_events)
    assert not list(folder.glob(".*.tmp"))
