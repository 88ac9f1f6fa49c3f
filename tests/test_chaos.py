"""Chaos: a sweep killed with SIGKILL again and again, with shards damaged in between, resumes
to tables identical to an uninterrupted sweep (issue 14's acceptance).

The kills are seeded: after each session commits a new runs shard, the test waits a random
fraction of a second and kills the process. After the second kill one runs shard gets four
flipped bytes and another group's events shard is truncated to 600 bytes. The last resume and
the uninterrupted reference run in-process on the batched engine.

Cost (pytest wall time on 2 cores at a load average of 10 to 12 from other jobs): 189 s with
CLI sessions in chunks of 32, a final CLI resume with its report and a reference on a 2-process
pool (chaos phase 71 s, final resume 28 s, reference 47 s); 95 s with the final resume and the
reference in-process; 76 s with sessions in chunks of 4 (chaos phase 48 s, 4 s, 5 s).
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

from treatysim.results.shards import SHARDS
from treatysim.run.sweep import SweepOptions, run_sweep

ROOT = Path(__file__).resolve().parent.parent
#: At least this many SIGKILLs before the final resume.
KILLS = 5
#: One session of the killed sweep.
SESSION = """
import sys
from pathlib import Path
from treatysim.run.sweep import SweepOptions, run_sweep
sweep, out = Path(sys.argv[1]), Path(sys.argv[2])
options = SweepOptions(out=out, resume=out.exists(), workers=1, chunk_size=4, engine="mesa")
run_sweep(sweep, options)
"""


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
    # Each session is a process running the sweep (what `treatysim sweep --out OUT [--resume]`
    # runs) on the Mesa engine, slow enough that every kill lands mid-sweep (the batched engine
    # finishes this sweep before the first kill; resume is engine-independent), in chunks of 4
    # runs so that the first shard is committed about a second after the start (chunks of 32
    # took 3 to 8 s), which makes each session, and the test, shorter.
    argv = [sys.executable, "-c", SESSION, str(sweep), str(out)]
    kills, damaged, start = 0, [], time.monotonic()
    while kills < KILLS:
        before = _shards(out)
        proc = subprocess.Popen(
            argv,
            cwd=tmp_path,
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
    chaos_seconds = time.monotonic() - start
    # the final resume and the reference in-process, on the batched engine, without a report:
    # the CLI's resume (exit code, report) is test_sweep_resume's; independence from the number
    # of workers is test_sweep's. A process pool here cost 20-45 s on a busy machine.
    resumed = run_sweep(sweep, SweepOptions(out=out, resume=True, workers=1, quiet=True))
    assert resumed.executed > 0 and resumed.failed == 0 and resumed.ok == 2400
    resume_seconds = time.monotonic() - start - chaos_seconds
    reference = run_sweep(sweep, SweepOptions(out=tmp_path / "reference", workers=1, quiet=True))
    reference_seconds = time.monotonic() - start - chaos_seconds - resume_seconds
    runs, events = tables(out)
    ref_runs, ref_events = tables(reference.folder)
    assert len(runs) == 2400 and not runs.duplicated(["point", "replication"]).any()
    pd.testing.assert_frame_equal(runs, ref_runs)
    pd.testing.assert_frame_equal(events, ref_events)
    assert not (out / SHARDS).exists() and not (out / "INCOMPLETE").exists()
    print(
        f"{kills} kills, damaged: {damaged}; chaos phase {chaos_seconds:.1f} s, final resume "
        f"{resume_seconds:.1f} s, reference {reference_seconds:.1f} s"
    )
