"""``treatysim sweep --precision H`` (issue 15 item 5): each point runs seeded blocks until its
headline probabilities' Wilson half-widths are at most H, or the cap; each point's tables equal a
fixed sweep of its final size; a sweep interrupted between rounds resumes without losing or
repeating a run."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from test_sweep_resume import SMALL, setup_sweep, tables

from treatysim.analysis.precision import headline_judge, headline_outcomes, stopping_size
from treatysim.cli import main
from treatysim.model.world import build_world
from treatysim.results.shards import SHARDS, ShardWriter
from treatysim.run.plan import prepare
from treatysim.run.precise import PrecisionRule
from treatysim.run.sweep import SweepOptions, run_sweep

#: 3 points of the nine-month founding scenario; blocks of 10 up to 80. Measured: the points
#: stop at 40, 10 and 40 replications (one point has no moves at all: ± 0.139 after 10).
TARGET, BLOCK, CAP = 0.15, 10, 80


def precise_sweep(sweep: Path, out: Path, *, cap: int = CAP, **options) -> dict:
    """Run the sweep with the rule; return its manifest."""
    plan = prepare(sweep)
    plan.precision = PrecisionRule(TARGET, block=BLOCK, cap=cap)
    run_sweep(plan, SweepOptions(out=out, judge=headline_judge(TARGET), **options))
    return json.loads((out / "manifest.json").read_text())


def fixed_sweep(tmp: Path, replications: int) -> Path:
    """The same sweep with a fixed number of replications; its folder."""
    folder = tmp / f"fixed{replications}"
    sweep = setup_sweep(
        folder, SMALL.replace("replications: 8", f"replications: {replications}"), short=True
    )
    run_sweep(sweep, SweepOptions(out=folder / "out", workers=1))
    return folder / "out"


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("precise")
    sweep = setup_sweep(tmp, SMALL, short=True)
    manifest = precise_sweep(sweep, tmp / "precise", workers=1)
    return tmp, sweep, manifest


def point_rows(folder: Path, point: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    runs, events = tables(folder)
    pick = lambda t: t[t["point"] == point].reset_index(drop=True)  # noqa: E731
    return pick(runs), pick(events)


def test_each_point_stops_where_the_rule_replayed_on_a_long_fixed_run_stops(done) -> None:
    tmp, sweep, manifest = done
    long = fixed_sweep(tmp, CAP)
    plan = prepare(sweep)
    records = manifest["precision"]["points"]
    sizes = [r["n"] for r in records]
    assert len(set(sizes)) > 1 and max(sizes) > BLOCK  # the points differ, some ran on
    for p, record in enumerate(records):
        runs, events = point_rows(long, p)
        loaded, _ = plan.point_scenario(p)
        world = build_world(loaded.model, loaded.base_dir)
        treaty = loaded.model.primary_treaty
        k = world.treaties.index(treaty)
        parties = [s for i, s in enumerate(world.ids) if world.party[i, k]]
        flags = headline_outcomes(runs, events, parties, treaty)
        verdict = stopping_size(flags, target=TARGET, block=BLOCK, cap=CAP)
        assert record["n"] == verdict.n
        assert (record["reached"], record["capped"]) == (verdict.reached, verdict.capped)
        assert record["max_half_width"] == pytest.approx(verdict.max_half_width)
        assert [h["n"] for h in record["history"]] == list(range(BLOCK, verdict.n + 1, BLOCK))
    assert manifest["runs"] == sum(sizes) and manifest["replications"] == max(sizes)


def test_each_points_tables_equal_a_fixed_sweep_of_its_final_size(done) -> None:
    tmp, _, manifest = done
    out = tmp / "precise"
    runs, _ = tables(out)
    sizes = {r["point"]: r["n"] for r in manifest["precision"]["points"]}
    assert runs.groupby("point").size().to_dict() == sizes
    for n in sorted(set(sizes.values())):
        fixed = fixed_sweep(tmp, n) if n != CAP else tmp / f"fixed{CAP}" / "out"
        for p in (p for p, size in sizes.items() if size == n):
            mine, theirs = point_rows(out, p), point_rows(fixed, p)
            pd.testing.assert_frame_equal(mine[0], theirs[0])  # run ids and seeds included
            pd.testing.assert_frame_equal(mine[1], theirs[1])


def test_same_tables_with_two_workers_and_small_chunks(done, tmp_path) -> None:
    tmp, sweep, manifest = done
    again = precise_sweep(sweep, tmp_path / "w2", workers=2, chunk_size=3)
    assert again["precision"]["points"] == manifest["precision"]["points"]
    for mine, theirs in zip(tables(tmp_path / "w2"), tables(tmp / "precise"), strict=True):
        pd.testing.assert_frame_equal(mine, theirs)


class Killed(BaseException):
    """Stands for a SIGKILL: nothing after it runs (not even an ``except Exception``)."""


def test_interrupted_mid_round_resumes_without_losing_or_repeating_runs(
    done, tmp_path, monkeypatch
) -> None:
    """The sweep dies in round 2 after one more shard is committed; --resume finishes it."""
    tmp, sweep, manifest = done
    real_flush = ShardWriter.flush

    def flush(self: ShardWriter) -> None:
        real_flush(self)
        if self.number == 10:  # shards of 4 runs: round 1's 30 runs in 8, then 2 of round 2
            raise Killed

    monkeypatch.setattr(ShardWriter, "flush", flush)
    out = tmp_path / "killed"
    with contextlib.suppress(Killed):
        precise_sweep(sweep, out, workers=1, chunk_size=4, flush_runs=4)
    monkeypatch.setattr(ShardWriter, "flush", real_flush)
    assert (out / "INCOMPLETE").exists() and not (out / "manifest.json").exists()
    stored = sum(len(pd.read_parquet(p)) for p in (out / SHARDS).glob("runs-*.parquet"))
    assert stored == 38  # round 1 (30 runs) and 8 of round 2's 20

    log = io.StringIO()
    resumed = precise_sweep(sweep, out, workers=1, resume=True, quiet=False, log=log)
    runs, events = tables(out)
    ref_runs, ref_events = tables(tmp / "precise")
    pd.testing.assert_frame_equal(runs, ref_runs)
    pd.testing.assert_frame_equal(events, ref_events)
    assert resumed["precision"]["points"] == manifest["precision"]["points"]
    session = resumed["sessions"][-1]
    assert session["resumed"] and session["stored_runs"] == stored
    assert session["executed"] == manifest["runs"] - stored  # nothing lost, nothing twice


def test_cli_capped_points_are_said_and_reported(done, tmp_path, capsys) -> None:
    _, sweep, _ = done
    out = tmp_path / "capped"
    code = main(
        [
            "sweep",
            str(sweep),
            "--out",
            str(out),
            "-w",
            "1",
            "-q",
            "--precision",
            str(TARGET),
            "--block",
            str(BLOCK),
            "--max-replications",
            "30",
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    record = json.loads((out / "manifest.json").read_text())["precision"]
    capped = [p["point"] for p in record["points"] if p["capped"]]
    assert capped and len(capped) < len(record["points"])  # some capped, some reached
    assert all(p["n"] == 30 for p in record["points"] if p["capped"])
    assert f"precision NOT reached at {len(capped)} of 3 points" in err
    summary = (out / "summary.md").read_text()
    assert "## Replications: precision rule" in summary
    assert f"**{len(capped)} of 3 point(s) reached the cap without the target**" in summary
    assert summary.count("| **capped** |") == len(capped)
    overview = json.loads((out / "summary.json").read_text())["precision"]
    assert overview["capped_points"] == capped


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--precision", "0.7"], "argument --precision: 0.7 is outside (0, 0.5]"),
        (["--precision", "x"], "argument --precision: 'x' is not a number"),
        (["--precision", "0.1", "--block", "0"], "argument --block: 0 is outside 1"),
        (
            ["--precision", "0.1", "--block", "50", "--max-replications", "10"],
            "--max-replications:1:1: max_replications: must be >= --block",
        ),
        (["--precision", "0.1", "--posterior", "nowhere"], "--posterior: not with --precision"),
    ],
)
def test_bad_values_exit_2_with_one_line(done, tmp_path, capsys, extra, message) -> None:
    _, sweep, _ = done
    try:
        code = main(["sweep", str(sweep), "--out", str(tmp_path / "x"), *extra])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "x").exists()


def test_resume_with_another_rule_is_refused(done, capsys) -> None:
    tmp, sweep, _ = done
    args = ["sweep", str(sweep), "--out", str(tmp / "precise"), "--resume", "-q"]
    assert (
        main([*args, "--precision", "0.2", "--block", str(BLOCK), "--max-replications", str(CAP)])
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "precision changed" in err[0], err


def test_sigkill_then_resume_equals_an_uninterrupted_precision_sweep(tmp_path: Path) -> None:
    """A real kill -9 after the first shard (Mesa engine); --resume (batched) finishes it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from test_sweep_resume import BIG, ROOT

    sweep = setup_sweep(tmp_path, BIG, short=True)
    out = tmp_path / "killed"
    rule = ["--precision", "0.1", "--block", "10", "--max-replications", "200"]
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
            "--engine",
            "mesa",
            *rule,
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
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
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert (out / "INCOMPLETE").exists() and not (out / "manifest.json").exists()
    stored = sum(len(pd.read_parquet(p)) for p in (out / SHARDS).glob("runs-*.parquet"))

    assert main(["sweep", str(sweep), "--out", str(out), "--resume", "-w", "2", "-q", *rule]) == 0
    ref = tmp_path / "reference"
    assert main(["sweep", str(sweep), "--out", str(ref), "-w", "1", "-q", *rule]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    reference = json.loads((ref / "manifest.json").read_text())
    print(f"stored at the kill: {stored} of {manifest['runs']} runs")
    assert 0 < stored < manifest["runs"], "the kill was not partway"
    assert manifest["precision"]["points"] == reference["precision"]["points"]
    for mine, theirs in zip(tables(out), tables(ref), strict=True):
        pd.testing.assert_frame_equal(mine, theirs)
    session = manifest["sessions"][-1]
    assert session["resumed"] and session["executed"] == manifest["runs"] - session["stored_runs"]


def test_integrity_check_knows_each_points_size(done) -> None:
    """Readers check runs.parquet against the manifest with each point's own n."""
    from treatysim.results.integrity import read_keys, sweep_mismatch

    tmp, _, manifest = done
    folder = tmp / "precise"
    keys = read_keys(folder / "runs.parquet")
    assert sweep_mismatch(folder, manifest, keys) is None
    assert "rows for 3 points" in str(sweep_mismatch(folder, manifest, keys.slice(1)))
    swapped = json.loads(json.dumps(manifest))  # same total, other sizes per point
    swapped["precision"]["points"][0]["n"] -= 10
    swapped["precision"]["points"][1]["n"] += 10
    assert "point 0 has" in str(sweep_mismatch(folder, swapped, keys))
