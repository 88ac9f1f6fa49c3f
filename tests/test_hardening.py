"""Issue 14: fourteen ways to lose data, hang or print a traceback, one regression test each.

Item 4's many cases (and parts of 5 and 8) are in the corpus of ``tests/test_malformed_cli.py``;
the SIGKILL chaos test is ``tests/test_chaos.py``.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_malformed_cli import BALTIC, RIOT, STATES, run_cli
from test_sweep_resume import SMALL, setup_sweep, tables

from treatysim.results.shards import SHARDS, ShardWriter
from treatysim.run.chunks import run_sweep_chunk
from treatysim.run.plan import chunk_jobs, prepare
from treatysim.run.sweep import SweepOptions, _folder_lock, _open_folder, run_sweep
from treatysim.scenario.errors import ValidationError
from treatysim.scenario.load import load_scenario, load_scenario_text

ROOT = Path(__file__).resolve().parent.parent


def crashed_sweep(tmp: Path, sweep: Path, name: str = "crashed") -> Path:
    """A sweep folder as a crash leaves it: plan written, two committed shards of 10 runs."""
    plan = prepare(sweep)
    folder = tmp / name
    with _folder_lock(folder):
        _open_folder(plan, folder, resume=False)
    results = [run_sweep_chunk(job) for job in chunk_jobs(plan, np.arange(plan.n_runs), 5, "none")]
    (folder / SHARDS).mkdir()
    writer = ShardWriter(folder / SHARDS, 0)
    for pair in (results[0:2], results[2:4]):
        for result in pair:
            writer.add(result)
        writer.flush()
    return folder


# -- 1 ------------------------------------------------------------------------------------------


def test_item1_damaged_shards_are_set_aside_and_resume_finishes(tmp_path: Path) -> None:
    """A truncated events shard and flipped bytes in a runs shard: resume reruns those runs."""
    sweep = setup_sweep(tmp_path, SMALL, short=True)
    reference = run_sweep(sweep, SweepOptions(out=tmp_path / "reference", workers=1))
    folder = crashed_sweep(tmp_path, sweep)
    events = folder / SHARDS / "events-000000.parquet"
    os.truncate(events, 600)
    runs = folder / SHARDS / "runs-000001.parquet"
    data = bytearray(runs.read_bytes())
    for k in range(4):  # four bytes in the middle of the data pages
        data[len(data) // 3 + k] ^= 0xFF
    runs.write_bytes(bytes(data))
    summary = run_sweep(sweep, SweepOptions(out=folder, resume=True, workers=1))
    assert summary.executed == 24  # both damaged groups were set aside and rerun
    pd.testing.assert_frame_equal(tables(folder)[0], tables(reference.folder)[0])
    pd.testing.assert_frame_equal(tables(folder)[1], tables(reference.folder)[1])


# -- 2 ------------------------------------------------------------------------------------------


def test_item2_resume_refuses_a_changed_dataset_and_names_it(tmp_path: Path) -> None:
    sweep = setup_sweep(tmp_path, SMALL, short=True)
    base = tmp_path / "base.yaml"
    base.write_text(
        base.read_text().replace("dataset: europe_2025", "dataset: states.csv"), encoding="utf-8"
    )
    shutil.copyfile(STATES, tmp_path / "states.csv")
    plan = prepare(sweep)
    assert "base.states.dataset" in plan.fingerprint()["inputs"]
    folder = tmp_path / "out"
    with _folder_lock(folder):
        _open_folder(plan, folder, resume=False)
    text = (tmp_path / "states.csv").read_text().replace("59.4372,24.7454", "59.5,24.8")
    (tmp_path / "states.csv").write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        run_sweep(sweep, SweepOptions(out=folder, resume=True, workers=1))
    assert "states.csv" in str(info.value.problems[0]) and "changed" in str(info.value.problems[0])


def test_item2_run_manifest_lists_input_files(tmp_path: Path) -> None:
    from treatysim.cli import main

    assert (
        main(["run", str(BALTIC), "-n", "1", "-q", "--no-report", "--out", str(tmp_path / "r")])
        == 0
    )
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["inputs"]["states.dataset"]["sha256"]


def test_item2_a_scenario_with_extends_lists_its_bases() -> None:
    """A run's manifest hashes the scenario's bases (``extends``) like its datasets."""
    from treatysim.scenario.inherit import scenario_inputs

    files = scenario_inputs(load_scenario(ROOT / "scenarios" / "ceasefire_2025.yaml"))
    assert files["extends[0]"].resolve() == (ROOT / "scenarios" / "ottawa_2025.yaml").resolve()
    assert files["states.dataset"].name == "europe_states.csv"
    assert "extends[0]" not in scenario_inputs(load_scenario(BALTIC))


PER_POINT = """\
schema_version: 1
name: per_point_data
base: base.yaml
factors:
  - {name: data, path: states.dataset, values: [a.csv, b.csv]}
design: {type: grid}
replications: 2
outcomes: [cascade_size]
seed: 3
timeseries: none
"""


def _started(tmp: Path, sweep: Path) -> Path:
    """A sweep folder as a crash right after its start leaves it (plan.json written)."""
    folder = tmp / "out"
    with _folder_lock(folder):
        _open_folder(prepare(sweep), folder, resume=False)
    return folder


def test_item2_resume_refuses_a_changed_per_point_dataset(tmp_path: Path) -> None:
    """A factor switches the dataset per point: the point's file (not the base's) is hashed."""
    setup_sweep(tmp_path, SMALL, short=True)
    base = tmp_path / "base.yaml"
    base.write_text(base.read_text().replace("dataset: europe_2025", "dataset: a.csv"), "utf-8")
    for name in ("a.csv", "b.csv"):
        shutil.copyfile(STATES, tmp_path / name)
    sweep = tmp_path / "per_point.yaml"
    sweep.write_text(PER_POINT, encoding="utf-8")
    inputs = prepare(sweep).inputs()
    assert inputs["points.states.dataset[b.csv]"]["path"] == str((tmp_path / "b.csv").resolve())
    folder = _started(tmp_path, sweep)
    stored = json.loads((folder / "plan.json").read_text())["fingerprint"]["inputs"]
    assert "points.states.dataset[b.csv]" in stored
    text = (tmp_path / "b.csv").read_text().replace("59.4372,24.7454", "59.5,24.8")
    (tmp_path / "b.csv").write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        run_sweep(sweep, SweepOptions(out=folder, resume=True, workers=1))
    message = str(info.value.problems[0])
    assert "b.csv" in message and "changed" in message and "a.csv" not in message, message


def test_item2_resume_refuses_a_changed_extends_base(tmp_path: Path) -> None:
    """The sweep's base scenario extends another file: that file is hashed and named."""
    sweep = setup_sweep(tmp_path, SMALL, short=True)
    (tmp_path / "base.yaml").rename(tmp_path / "parent.yaml")
    child = "schema_version: 1\nextends: parent.yaml\nname: child\n"
    (tmp_path / "base.yaml").write_text(child, encoding="utf-8")
    plan = prepare(sweep)
    assert plan.inputs()["base.extends[0]"]["path"] == str((tmp_path / "parent.yaml").resolve())
    folder = _started(tmp_path, sweep)
    parent = tmp_path / "parent.yaml"
    parent.write_text(parent.read_text() + "# edited after the crash\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        run_sweep(sweep, SweepOptions(out=folder, resume=True, workers=1))
    assert "parent.yaml (base.extends[0]) changed" in str(info.value.problems[0])


# -- 3 and 14 -----------------------------------------------------------------------------------


def test_item3_two_runs_cannot_both_claim_one_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both see an empty folder (the race); only the first claims it."""
    from treatysim.run import runner

    monkeypatch.setattr(runner, "_empty_folder", lambda folder: None)
    runner._start_folder(tmp_path / "out", {"name": "a"})
    with pytest.raises(ValidationError, match="in use"):
        runner._start_folder(tmp_path / "out", {"name": "b"})


def test_item14_report_refuses_tables_of_another_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, seed in (("a", "1"), ("b", "2")):
        argv = ["run", str(RIOT), "-n", "2", "--seed", seed, "-q", "--no-report"]
        assert run_cli([*argv, "--out", str(tmp_path / name)], capsys)[0] == 0
    shutil.copyfile(tmp_path / "b" / "runs.parquet", tmp_path / "a" / "runs.parquet")
    code, _, err = run_cli(["report", str(tmp_path / "a")], capsys)
    assert code == 2 and "does not belong" in err and "Traceback" not in err


def _one_line_refusal(argv: list[str], capsys: pytest.CaptureFixture[str], needle: str) -> None:
    code, _, err = run_cli(argv, capsys)
    lines = [line for line in err.splitlines() if not line.startswith("report [")]
    assert code == 2 and len(lines) == 1 and needle in lines[0], (argv, code, err)
    assert "Traceback" not in err


def test_item3_readers_refuse_a_scenario_yaml_of_another_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The race of item 3 leaves one run's scenario.yaml with the other's tables."""
    for name, sensitivity in (("a", "1.0"), ("b", "2.0")):
        argv = ["run", str(RIOT), "-n", "2", "-q", "--no-report", "--out", str(tmp_path / name)]
        argv += ["--set", f"parameters.threat.sensitivity={sensitivity}"]
        assert run_cli(argv, capsys)[0] == 0
    assert run_cli(["report", str(tmp_path / "a")], capsys)[0] == 0
    shutil.copyfile(tmp_path / "b" / "scenario.yaml", tmp_path / "a" / "scenario.yaml")
    a = str(tmp_path / "a")
    for argv in (["report", a], ["compare", a, str(tmp_path / "b")], ["export", a]):
        _one_line_refusal(argv, capsys, "scenario.yaml does not belong")


def test_item14_sweep_readers_refuse_tables_of_another_sweep(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """runs.parquet of another sweep (other seeds), one with a point's rows lost, a short design."""
    import pyarrow.parquet as pq

    sweep = setup_sweep(tmp_path, SMALL, short=True)
    other = tmp_path / "other.yaml"
    other.write_text(SMALL.replace("seed: 3", "seed: 4"), encoding="utf-8")
    for name, path in (("s", sweep), ("t", other)):
        argv = ["sweep", str(path), "-q", "-w", "1", "--out", str(tmp_path / name)]
        assert run_cli(argv, capsys)[0] == 0
    s = tmp_path / "s"
    assert json.loads((s / "manifest.json").read_text())["runs_digest"]
    assert run_cli(["report", str(s)], capsys)[0] == 0
    runs = (s / "runs.parquet").read_bytes()
    shutil.copyfile(tmp_path / "t" / "runs.parquet", s / "runs.parquet")
    for argv in (["report", str(s)], ["export", str(s)]):
        _one_line_refusal(argv, capsys, "another sweep's")
    table = pq.read_table(io.BytesIO(runs))
    pq.write_table(table.slice(0, table.num_rows - 1), s / "runs.parquet")
    _one_line_refusal(["report", str(s)], capsys, "23 rows for 3 points x 8 replications")
    (s / "runs.parquet").write_bytes(runs)
    design = pq.read_table(s / "design.parquet")
    pq.write_table(design.slice(0, 2), s / "design.parquet")
    _one_line_refusal(["report", str(s)], capsys, "design.parquet does not belong")


# -- 5 ------------------------------------------------------------------------------------------


def test_item5_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(ValidationError, match="not a regular file"):
        load_scenario(fifo)
    assert time.monotonic() - start < 5


# -- 6 ------------------------------------------------------------------------------------------


def test_item6_report_replaces_planted_symlinks_instead_of_following_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every file a report writes goes through the atomic path: a planted link is replaced."""
    folder = tmp_path / "run"
    assert run_cli(["run", str(RIOT), "-n", "2", "-q", "--out", str(folder)], capsys)[0] == 0
    written = [
        p
        for p in folder.rglob("*")
        if p.is_file() and (p.name.startswith("summary") or p.parent.name == "plots")
    ]
    assert any(p.parent.name == "plots" for p in written) and len(written) >= 3
    victims = {}
    for path in written:
        victim = tmp_path / f"victim-{path.name}"
        victim.write_text("precious", encoding="utf-8")
        path.unlink()
        path.symlink_to(victim)
        victims[path] = victim
    assert run_cli(["report", str(folder)], capsys)[0] == 0
    for path, victim in victims.items():
        assert victim.read_text(encoding="utf-8") == "precious", path
        assert path.is_file() and not path.is_symlink(), path


def _figures() -> list[tuple[str, object]]:
    """Every figure writer outside the run and sweep reports, with small inputs."""
    from treatysim.analysis.reliability import reliability_table
    from treatysim.plots.explore import feature_scores_plot
    from treatysim.plots.reliability import reliability_plot

    scores = pd.DataFrame({"factor": ["a", "b"], "score": [0.7, 0.3], "rank": [1, 2]})
    rng = np.random.default_rng(6)
    p = rng.uniform(size=40)
    table = reliability_table(p, (rng.uniform(size=40) < p).astype(int), n_bins=4)
    return [
        ("feature_scores", lambda base: feature_scores_plot(scores, base)),
        ("reliability", lambda base: reliability_plot({"model": table}, base)),
    ]


def test_item6_figures_replace_planted_links_and_survive_an_interrupted_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The explore and reliability figures (written in place before the fix) take the atomic
    path too: a link planted in plots/ is replaced, not followed, and a write interrupted
    halfway (a kill during a report) leaves the previous picture, not half of one."""
    from matplotlib.figure import Figure

    plots = tmp_path / "plots"
    plots.mkdir()
    for name, draw in _figures():
        target = plots / f"{name}.png"
        victim = tmp_path / f"victim-{name}"
        victim.write_text("precious", encoding="utf-8")
        target.symlink_to(victim)
        draw(plots / name)  # type: ignore[operator]
        assert victim.read_text(encoding="utf-8") == "precious", name
        assert target.is_file() and not target.is_symlink(), name
        good = target.read_bytes()
        assert good.startswith(b"\x89PNG"), name

        def half_then_die(
            self: Figure, fname: object, *args: object, good: bytes = good, **kwargs: object
        ) -> None:
            Path(str(fname)).write_bytes(good[: len(good) // 2])
            raise KeyboardInterrupt("killed while saving")

        with monkeypatch.context() as patch:
            patch.setattr(Figure, "savefig", half_then_die)
            with pytest.raises(KeyboardInterrupt):
                draw(plots / name)  # type: ignore[operator]
        assert target.read_bytes() == good, f"{name}: a truncated picture was left behind"
        assert [p.name for p in plots.iterdir() if p.name.startswith(".")] == [], name


# -- 7 ------------------------------------------------------------------------------------------


def test_item7_foreign_hosts_and_origins_are_refused() -> None:
    """The demo's middleware: 403 for a foreign Host, close 1008 for a foreign Origin."""
    from treatysim.demo.server import LocalOnly

    calls: list[str] = []

    async def app(scope: object, receive: object, send: object) -> None:
        calls.append("app")

    guard = LocalOnly(app, 8765)

    def call(kind: str, host: str, origin: str | None = None) -> list[dict[str, object]]:
        headers = [(b"host", host.encode())] + ([(b"origin", origin.encode())] if origin else [])
        sent: list[dict[str, object]] = []

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        asyncio.run(guard({"type": kind, "headers": headers}, None, send))
        return sent

    assert call("http", "evil.example:8765")[0]["status"] == 403
    assert call("websocket", "127.0.0.1:8765", "http://evil.example")[0]["code"] == 1008
    assert calls == []
    assert call("http", "127.0.0.1:8765") == [] and call("websocket", "localhost:8765", None) == []
    assert call("websocket", "127.0.0.1:8765", "http://127.0.0.1:8765") == []
    assert calls == ["app"] * 3


# -- 8, 9 ---------------------------------------------------------------------------------------


def test_item8_replications_above_the_schema_bound_are_refused_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start = time.monotonic()
    code, _, err = run_cli(
        ["run", str(RIOT), "-n", str(10**9), "--out", str(tmp_path / "o")], capsys
    )
    assert code == 2 and "--replications" in err and time.monotonic() - start < 5


def test_item9_workers_are_capped_at_tasks_and_cpus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from treatysim.run import executors

    pools: list[int] = []
    monkeypatch.setattr(executors, "local_pool", lambda n: pools.append(n) or _Inline())
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    argv = ["run", str(RIOT), "-n", "2", "-w", "1000", "--no-report", "--out", str(tmp_path / "o")]
    code, _, err = run_cli(argv, capsys)
    assert code == 0
    assert "--workers 1000: using 2 (2 replications)" in err
    assert pools == [2]  # one pool, of one process per task (not 1000)
    pools.clear()
    argv = ["run", str(RIOT), "-n", "9", "-w", "1000", "--no-report", "--out", str(tmp_path / "p")]
    code, _, err = run_cli(argv, capsys)
    assert code == 0 and "--workers 1000: using 4 (4 CPUs)" in err and pools == [4]


class _Inline:
    """An executor that runs jobs at once (stands in for a process pool)."""

    def submit(self, fn, *args):  # type: ignore[no-untyped-def]
        from concurrent.futures import Future

        future: Future[object] = Future()
        future.set_result(fn(*args))
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        return None


# -- 10 -----------------------------------------------------------------------------------------

ORPHAN = """
import os, sys, time
from treatysim.run.executors import open_executor

def pid(_):
    time.sleep(0.3)
    return os.getpid()

if __name__ == "__main__":
    with open_executor(sys.argv[1], 2) as handle:
        futures = [handle.executor.submit(pid, i) for i in range(8)]
        pids = {f.result() for f in futures}
        # a task still running when the parent dies: it must stop with its worker
        handle.executor.submit(time.sleep, 300)
        print(" ".join(map(str, sorted(pids))), flush=True)
        time.sleep(300)
"""


def _descendants(root: int) -> set[int]:
    """Every living process below ``root`` (read from /proc)."""
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="ascii").rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parent[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parent.items() if ppid in frontier} - found
        found |= frontier
    return found


@pytest.mark.parametrize("kind", ["local", "dask"])
def test_item10_workers_exit_when_the_parent_is_killed(tmp_path: Path, kind: str) -> None:
    """SIGKILL the parent only: every process it started (pool workers and the forkserver, or
    the LocalCluster's worker processes) exits within seconds, and with it the running task.

    The local pool's workers watch the parent's pid (a watchdog thread, :mod:`executors`); the
    forkserver exits when its pipe from the parent closes; Dask's worker processes exit when
    the pipe their nanny holds in the parent closes (``distributed.process.AsyncProcess``).
    """
    if kind == "dask":
        pytest.importorskip("distributed")
    script = tmp_path / "orphan.py"
    script.write_text(textwrap.dedent(ORPHAN), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(script), kind], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    assert proc.stdout is not None
    workers = [int(p) for p in proc.stdout.readline().split()]
    started = _descendants(proc.pid)
    assert workers and set(workers) <= started, (workers, started)
    if kind == "local":
        assert len(started) >= 3  # two workers and the forkserver (and a resource tracker)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 15
    alive = sorted(started)
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [p for p in alive if _alive(p)]
    for pid in alive:  # do not leave them behind if the test fails
        os.kill(pid, signal.SIGKILL)
    assert alive == [], f"{kind}: processes outlived their killed parent"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


# -- 11, 12 -------------------------------------------------------------------------------------


def test_item11_problems_are_capped_with_a_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(RIOT.read_text() + "".join(f"k{i}: 1\n" for i in range(3000)), encoding="utf-8")
    start = time.monotonic()
    code, _, err = run_cli(["validate", str(path)], capsys)
    assert code == 2 and time.monotonic() - start < 30
    lines = err.splitlines()
    assert len(lines) <= 201
    assert any("2,900 more problems" in line for line in lines)


def test_item12_quoted_whole_numbers_follow_the_float_rule() -> None:
    text = RIOT.read_text().replace(
        "run: {replications: 1, seed: 1978, timeseries: counts}",
        'run: {replications: "3", seed: "1978", timeseries: counts}',
    )
    text = text.replace("parliament_pass_probability: 1", 'parliament_pass_probability: "1"')
    scenario = load_scenario_text(text).model
    assert scenario.run.replications == 3 and scenario.run.seed == 1978
    assert scenario.parameters.pipeline.parliament_pass_probability == 1.0


# -- 13 -----------------------------------------------------------------------------------------


def test_item13_report_on_a_killed_run_says_incomplete_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "killed"
    folder.mkdir()
    (folder / "INCOMPLETE").write_text("run in progress or interrupted\n")
    (folder / "scenario.yaml").write_text("name: x\n")
    reports = []
    for argv in (["report", str(folder)], ["compare", str(folder), str(folder)]):
        code, _, err = run_cli(argv, capsys)
        assert code == 2
        reports.append(err)
    assert all("incomplete" in err for err in reports), reports
    assert reports[0].count(str(folder)) == 1, reports[0]


# -- issue 13's CLI comforts that overlap these fixes --------------------------------------------


def test_set_errors_name_the_set_argument(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", str(RIOT), "--set", "run.seed=1", "--set", "run.seed=-4"]
    code, _, err = run_cli([*argv, "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and err.startswith("--set:2:1: run.seed: must be >= 0"), err


def test_quiet_prints_nothing_and_every_option_shows_its_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from treatysim.cli import build_parser

    argv = ["run", str(RIOT), "-n", "2", "-q", "--out", str(tmp_path / "o")]
    assert run_cli(argv, capsys) == (0, "", "")
    assert run_cli(["validate", "-q", str(RIOT)], capsys) == (0, "", "")
    parser = build_parser()
    for sub in parser._subparsers._group_actions[0].choices.values():  # type: ignore[union-attr]
        for action in sub._actions:
            if action.dest == "help" or not action.option_strings:
                continue
            assert action.help and "default" in action.help, (sub.prog, action.dest)
