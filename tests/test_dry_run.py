"""``--dry-run`` estimates calibrated on a trial of the sweep's own points; the default workers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_sweep import write_sweep

from treatysim.cli import main
from treatysim.run import executors
from treatysim.run.dry_run import estimate
from treatysim.run.plan import prepare
from treatysim.run.sweep import SweepOptions, run_sweep


def test_the_estimate_is_near_the_real_in_process_time(tmp_path: Path) -> None:
    """Estimated and measured seconds of the same sweep agree within a factor of 2.5.

    (The old estimate, from the base scenario alone without worlds or tables, was 3 to 13 times
    too low.) Both are measured on the same machine a moment apart.
    """
    sweep = write_sweep(tmp_path)
    plan = prepare(sweep)
    est = estimate(plan, workers=1)
    assert est.timed_points >= 2 and est.timed_runs >= 4 and est.pool_workers == 0
    summary = run_sweep(plan, SweepOptions(out=tmp_path / "out", workers=1, quiet=True))
    predicted = est.seconds(plan.n_runs, plan.n_points, 1)
    assert summary.seconds / 2.5 < predicted < summary.seconds * 2.5, (predicted, summary.seconds)


def test_with_workers_the_trial_opens_the_pool_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep = write_sweep(tmp_path)
    assert main(["sweep", str(sweep), "--dry-run", "--workers", "2"]) == 0
    text = capsys.readouterr().out
    assert "with 2 workers, before the report" in text
    assert "basis: a trial of" in text and "a pool of 2 took" in text
    assert "in-process it would take" in text


def test_default_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.0, 0.0))
    assert executors.default_workers(executors.POOL_MIN_RUNS - 1) == 1  # small: in-process
    assert executors.default_workers(10_000) == 4  # idle: every core
    assert executors.default_workers() == 4
    monkeypatch.setattr(os, "getloadavg", lambda: (2.4, 0.0, 0.0))
    assert executors.default_workers(10_000) == 2  # busy: the free cores
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 0.0, 0.0))
    assert executors.default_workers(10_000) == 1


def test_a_small_sweep_runs_in_process_by_default(tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path)
    summary = run_sweep(sweep, SweepOptions(out=tmp_path / "out", quiet=True))
    assert summary.runs < executors.POOL_MIN_RUNS
    assert summary.executor.startswith("in-process")
