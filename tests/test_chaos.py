"""Chaos: a sweep killed with SIGKILL again and again, with shards damaged in between, resumes
to tables identical to an uninterrupted sweep (issue 14's acceptance).

The kills are seeded: after each session commits a new runs shard, the test waits a random
fraction of a second and kills the process. After the second kill one runs shard gets four
flipped bytes and another group's events shard is truncated to 600 bytes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_sweep_resume import BIG, setup_sweep, tables

from treatysim.cli import main
from treatysim.results.shards import SHARDS
from treatysim.run.sweep import SweepOptions, run_sweep

ROOT = Path(__file__).resolve().parent.parent
#: At least this many SIGKILLs before the final resume.
KILLS = 5


def _shards(out: Path) -> set[str]:
    return (
        {p.name for p in (out / SHARDS).glob("runs-*.parquet")}
        if (out / SHARDS).is_dir()
        else set()
    )


def _damage(out: Path) -> list[str]:
    """Flip four bytes in the newest runs shard, truncate an older group's events shard."""
    runs = sorted((out / SHARDS).glob("runs-*.parquet"))
    events = sorted((out / SHARDS).glob("events-*.parquet"))
    done = []
    if runs:
        data = bytearray(runs[-1].read_bytes())
        for k in range(4):
            data[len(data) // 2 + k] ^= 0xFF
        runs[-1].write_bytes(bytes(data))
        done.append(f"flipped {runs[-1].name}")
    older = [e for e in events if runs and e.name[7:] != runs[-1].name[5:]]
    if older:
        os.truncate(older[0], 600)
        done.append(f"truncated {older[0].name}")
    return done


@pytest.mark.slow
def test_sigkill_storm_with_damaged_shards_resumes_to_identical_tables(tmp_path: Path) -> None:
    sweep = setup_sweep(tmp_path, BIG, short=True)
    out = tmp_path / "chaos"
    rng = np.random.default_rng(14)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [
        sys.executable,
        "-m",
        "treatysim",
        "sweep",
        str(sweep),
        "--out",
        str(out),
        "-w",
        "1",
        "-q",
        # the Mesa engine: slow enough that every kill lands mid-sweep (the batched engine
        # finishes this sweep before the first kill); resume is engine-independent
        "--engine",
        "mesa",
    ]
    kills, damaged, start = 0, [], time.monotonic()
    while kills < KILLS:
        before = _shards(out)
        proc = subprocess.Popen(
            [*argv, *(["--resume"] if out.exists() else [])],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while not (_shards(out) - before) and proc.poll() is None:
                assert time.monotonic() < deadline, "no new shard in 60 s"
                time.sleep(0.01)
            time.sleep(float(rng.uniform(0.0, 0.6)))
            finished = proc.poll() is not None
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        assert not finished, f"the sweep finished after {kills} kills: make it bigger"
        kills += 1
        if kills == 2:
            damaged = _damage(out)
    assert len(damaged) == 2, damaged
    assert (out / "INCOMPLETE").exists()
    assert main(["sweep", str(sweep), "--out", str(out), "--resume", "-w", "1", "-q"]) == 0
    chaos_seconds = time.monotonic() - start
    reference = run_sweep(sweep, SweepOptions(out=tmp_path / "reference", workers=2))
    runs, events = tables(out)
    ref_runs, ref_events = tables(reference.folder)
    assert len(runs) == 2400 and not runs.duplicated(["point", "replication"]).any()
    pd.testing.assert_frame_equal(runs, ref_runs)
    pd.testing.assert_frame_equal(events, ref_events)
    assert not (out / SHARDS).exists() and not (out / "INCOMPLETE").exists()
    print(f"{kills} kills, damaged: {damaged}; chaos phase {chaos_seconds:.1f} s")
