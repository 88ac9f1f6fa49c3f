"""Reports: the runner's report, ``treatysim report``, ``treatysim compare``, sweep delegation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from failures import fail_runs
from matplotlib import image as mpimg

from treatysim.cli import main
from treatysim.report import run_report
from treatysim.report.compare import compare
from treatysim.report.run_report import build_report, summary_table
from treatysim.results.store import INCOMPLETE, StoreError
from treatysim.run.runner import run_scenario
from treatysim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parent.parent
TOP_KEYS = {
    "schema_version", "scenario", "primary_treaty", "calendar", "report_dates", "runs",
    "confidence", "methods", "treaties", "observed", "threat", "plots", "map", "engine",
    "uncertainty", "posterior", "inputs",
}  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two 8-replication runs with the same root seed: ottawa_2025 and ceasefire_2025.

    The ceasefire run's replication 3 fails (failure injection), so it has 7 ok runs.
    """
    base = tmp_path_factory.mktemp("report")
    a, b = base / "ottawa", base / "ceasefire"
    run_scenario(
        load_scenario(ROOT / "scenarios/ottawa_2025.yaml"), replications=8, out=a, quiet=True
    )
    build_report(a)
    ceasefire = load_scenario(ROOT / "scenarios/ceasefire_2025.yaml")
    with pytest.MonkeyPatch.context() as mp:
        fail_runs(mp, ceasefire.model.run.seed, [(3,)])
        run_scenario(ceasefire, replications=8, out=b, quiet=True)
    build_report(b)
    return a, b


def ok_runs(folder: Path) -> pd.DataFrame:
    table = pd.read_parquet(folder / "runs.parquet")
    return table[table["status"] == "ok"]


def test_runner_writes_a_complete_report(runs: tuple[Path, Path]) -> None:
    a, b = runs
    for folder in (a, b):
        assert not (folder / INCOMPLETE).exists()
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        assert set(summary) == TOP_KEYS
        tr = summary["treaties"][summary["primary_treaty"]]
        # cross-check against the runner's own outcome columns in runs.parquet
        table = ok_runs(folder)
        expected = table["cascade_size"].value_counts().to_dict()
        got = {int(k): v for k, v in tr["cascade_size"]["distribution"].items() if v}
        assert got == expected
        assert tr["means"]["n_withdrawn"]["mean"] == pytest.approx(table["n_withdrawn"].mean())
        assert tr["first_exit"]["n_with_exit"] == int(table["days_to_first_exit"].notna().sum())
        assert len(tr["curves"]["announced"]["q50"]) == summary["calendar"]["steps"] + 1
        assert summary["threat"]["EST"]["end"]["q05"] <= summary["threat"]["EST"]["end"]["q95"]
    summary_b = json.loads((b / "summary.json").read_text(encoding="utf-8"))
    assert summary_b["runs"] == {"total": 8, "ok": 7, "failed": 1}
    assert "7 replications ok, 1 failed" in (b / "summary.md").read_text(encoding="utf-8")
    summary_a = json.loads((a / "summary.json").read_text(encoding="utf-8"))
    records = summary_a["observed"]["records"]
    assert records and all(r["modelled"] for r in records if r["iso3"] == "EST")
    assert summary_a["treaties"]["ottawa"]["observed_size"] == 6  # EE LV LT PL FI + UA


def test_cli_report_rebuilds_the_same_report(runs: tuple[Path, Path]) -> None:
    folder = runs[0]
    before = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    for name in ("summary.json", "summary.md"):
        (folder / name).unlink()
    shutil.rmtree(folder / "plots")
    assert main(["report", str(folder)]) == 0
    assert (folder / "summary.md").read_text(encoding="utf-8").startswith("# ottawa_2025: ottawa")
    assert {p.name for p in (folder / "plots").iterdir()} == {
        "cascade.png", "timeline.png", "cascade_size.png", "map.png",
    }  # fmt: skip
    assert json.loads((folder / "summary.json").read_text(encoding="utf-8")) == before


def test_cli_report_rejects_folders_that_are_not_complete_runs(tmp_path: Path) -> None:
    assert main(["report", str(tmp_path)]) == 2
    (tmp_path / "manifest.json").write_text('{"kind": "run"}', encoding="utf-8")
    (tmp_path / INCOMPLETE).write_text("run in progress\n", encoding="utf-8")
    assert main(["report", str(tmp_path)]) == 2
    with pytest.raises(StoreError, match="incomplete"):
        build_report(tmp_path)


def test_sweep_folder_is_delegated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake(folder: Path, svg: bool = False, *, require_complete: bool = True) -> None:
        calls.append((folder, svg, require_complete))

    monkeypatch.setattr(run_report, "build_sweep_report", fake)
    (tmp_path / "manifest.json").write_text('{"kind": "sweep"}', encoding="utf-8")
    build_report(tmp_path, svg=True)
    build_report(tmp_path, require_complete=False)
    assert calls == [(tmp_path, True, True), (tmp_path, False, False)]


def test_summary_table_lists_top_states(runs: tuple[Path, Path]) -> None:
    text = summary_table(runs[0])
    lines = text.splitlines()
    assert "P(announce)" in lines[1]
    top = lines[2].split()
    assert top[0] in {"EST", "LVA", "LTU", "POL", "FIN"} and 0 < float(top[1]) <= 1
    assert lines[-1].startswith("mean cascade size")


def test_cli_compare_reports_differences(runs: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = runs
    out = tmp_path / "cmp"
    assert main(["compare", str(a), str(b), "--out", str(out)]) == 0
    result = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    diff = result["exits"]["difference"]
    expected = ok_runs(b)["n_withdrawn"].mean() - ok_runs(a)["n_withdrawn"].mean()
    assert diff["diff"] == pytest.approx(expected)
    assert diff["lo"] <= diff["diff"] <= diff["hi"]
    paired = result["exits"]["paired"]  # same root seed and replication count
    assert paired["pairs"] == 7  # replication 3 failed in B
    ta, tb = ok_runs(a).set_index("replication"), ok_runs(b).set_index("replication")
    common = tb.index
    assert paired["mean"] == pytest.approx(
        np.mean(tb.loc[common, "n_withdrawn"] - ta.loc[common, "n_withdrawn"])
    )
    est = result["states"]["EST"]
    assert est["difference"]["diff"] == pytest.approx(est["p_b"]["p"] - est["p_a"]["p"])
    assert est["difference"]["lo"] <= est["difference"]["diff"] <= est["difference"]["hi"]
    assert "Newcombe" in (out / "comparison.md").read_text(encoding="utf-8")
    # announced by the end, beside withdrawn by the end: a late exit is right-censored
    events = pd.read_parquet(b / "events.parquet")
    ok = set(ok_runs(b)["run_id"])
    said = events[(events["iso3"] == "EST") & (events["stage"] == "announced")]
    expected_p = said.loc[said["run_id"].isin(ok), "run_id"].nunique() / len(ok)
    announced = result["states_announced"]
    assert announced["EST"]["p_b"]["p"] == pytest.approx(expected_p)
    for s, v in result["states"].items():
        for side in ("p_a", "p_b"):
            assert announced[s][side]["p"] >= v[side]["p"], (s, side)
    assert "Announcement probability by state" in (out / "comparison.md").read_text("utf-8")
    pixels = mpimg.imread(out / "cascade_compare.png")
    assert pixels.shape[1] >= 1600 and pixels[..., :3].std() > 0.05


def test_compare_default_folder_and_unpaired_runs(runs: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = runs
    other = tmp_path / "other_seed"
    shutil.copytree(b, other)
    manifest = json.loads((other / "manifest.json").read_text(encoding="utf-8"))
    manifest["root_seed"] += 1
    (other / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    folder = compare(a, other)
    assert folder == a.resolve().parent / "compare-ottawa_2025-vs-ceasefire_2025"
    result = json.loads((folder / "comparison.json").read_text(encoding="utf-8"))
    assert result["exits"]["paired"] is None
    assert result["exits"]["difference"]["diff"] is not None
    assert main(["compare", str(a), str(tmp_path / "missing")]) == 2
