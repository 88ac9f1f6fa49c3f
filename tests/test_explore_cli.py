"""Issue 15 end to end: ``treatysim discover`` on a sweep folder, factor roles and the crossed
design, the sweep report's robustness, discovery, feature-score and envelope sections."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from treatysim.analysis.envelopes import point_curves
from treatysim.cli import main
from treatysim.report.sweep_report import build_sweep_report
from treatysim.run.sweep import SweepOptions, run_sweep
from treatysim.scenario.designs import count_points, generate
from treatysim.scenario.errors import ValidationError
from treatysim.scenario.load import load_sweep

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
BOX = {"x1": (0.2, 0.5), "x2": (0.7, 1.0)}


def synthetic_sweep(folder: Path, points: int = 600, replications: int = 2) -> Path:
    """A sweep folder with a planted box: cascade_size is 9 inside x1 in [0.2, 0.5], x2 > 0.7,
    else 2 (plus a little noise), in every replication of the point."""
    rng = np.random.default_rng(5)
    x = rng.uniform(size=(points, 3))
    design = pd.DataFrame({"point": np.arange(points), "x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2]})
    inside = (x[:, 0] >= 0.2) & (x[:, 0] <= 0.5) & (x[:, 1] >= 0.7)
    rows = []
    for p in range(points):
        for r in range(replications):
            size = (9 if inside[p] else 2) + int(rng.integers(0, 2))
            rows.append({"run_id": f"{p}-{r}", "point": p, "replication": r, "status": "ok",
                         "cascade_size": size, "n_withdrawn": size // 2})  # fmt: skip
    folder.mkdir(parents=True)
    design.to_parquet(folder / "design.parquet")
    pd.DataFrame(rows).to_parquet(folder / "runs.parquet")
    manifest = {
        "kind": "sweep",
        "sweep_name": "planted",
        "points": points,
        "replications": replications,
        "outcomes": ["cascade_size", "n_withdrawn"],
        "factors": [{"name": n, "path": f"parameters.{n}", "role": "uncertainty"} for n in BOX]
        + [{"name": "x3", "path": "parameters.x3"}],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_discover_finds_the_planted_box_and_writes_its_folder(tmp_path: Path, capsys) -> None:
    folder = synthetic_sweep(tmp_path / "sweep")
    assert main(["discover", str(folder), "--outcome", "cascade_size", "--where", ">= 7"]) == 0
    assert "PRIM box for cascade_size >= 7" in capsys.readouterr().out
    result = json.loads((folder / "discovery" / "discovery.json").read_text())
    box = result["prim"]["box"]
    limits = {r["factor"]: r for r in box["restrictions"]}
    assert set(limits) == {"x1", "x2"}
    assert limits["x1"]["min"] == pytest.approx(0.2, abs=0.05)
    assert limits["x1"]["max"] == pytest.approx(0.5, abs=0.05)
    assert limits["x2"]["min"] == pytest.approx(0.7, abs=0.05)
    assert box["coverage"] >= 0.9 and box["density"] >= 0.9
    assert all(r["significant"] for r in box["restrictions"])
    assert len(result["prim"]["trajectory"]) > 5 and result["cart"]["leaves"]
    assert result["feature_scores"][0]["factor"] in {"x1", "x2"}
    assert result["feature_scores"][-1]["factor"] == "x3"
    for name in ("prim_trajectory", "prim_box", "cart_leaves", "feature_scores"):
        assert (folder / "discovery" / f"{name}.png").stat().st_size > 1000
    assert "x1 <=" in (folder / "discovery" / "cart_rules.txt").read_text()
    # on single runs: twice the cases, the same box
    assert main(["discover", str(folder), "--outcome", "cascade_size", "--where", ">= 7",
                 "--on", "runs", "-q"]) == 0  # fmt: skip
    again = json.loads((folder / "discovery" / "discovery.json").read_text())
    assert again["on"] == "runs" and again["rows"] == 2 * result["rows"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--outcome", "cascade_size", "--where", "big"], "--where:"),
        (["--outcome", "cascade_size", "--where", "__import__('os')"], "--where:"),
        (["--outcome", "cascade", "--where", ">= 7"], "unknown outcome 'cascade'"),
        (["--outcome", "cascade_size", "--where", ">= 70"], "holds in none"),
    ],
)
def test_discover_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys, args, message) -> None:
    folder = synthetic_sweep(tmp_path / "sweep", points=40)
    assert main(["discover", str(folder), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_discover_needs_a_sweep_folder_and_the_extra(tmp_path: Path, capsys, monkeypatch) -> None:
    assert main(["discover", str(tmp_path), "--outcome", "cascade_size", "--where", ">= 1"]) == 2
    assert "not a sweep folder" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "ema_workbench", None)  # as if not installed
    folder = synthetic_sweep(tmp_path / "sweep", points=40)
    assert main(["discover", str(folder), "--outcome", "cascade_size", "--where", ">= 7"]) == 2
    err = capsys.readouterr().err
    assert 'pip install "treatysim[explore]"' in err and err.count("\n") == 1


LEVER_SWEEP = """\
schema_version: 1
name: levers
base: {base}
factors:
  - {{name: reassurance, path: events.us_reassurance_drop.credibility, role: {role},
     values: [0.4, 1.0]}}
  - {{name: ceasefire_date, path: events.ceasefire.date, low: 2025-04-01, high: 2026-12-31}}
  - {{name: threat_sensitivity, path: parameters.threat.sensitivity, role: uncertainty,
     low: 2.0, high: 4.0}}
design: {{type: {design}, samples: 4}}
replications: 2
outcomes: [cascade_size]
thresholds: [6]
robustness: {{outcome: cascade_size, satisficing: "{satisficing}"}}
"""


def lever_sweep(tmp_path: Path, role="lever", design="lhs", satisficing="<= 6") -> Path:
    base = (SCENARIOS / "ceasefire_2025.yaml").resolve()
    path = tmp_path / "levers.yaml"
    text = LEVER_SWEEP.format(base=base, role=role, design=design, satisficing=satisficing)
    path.write_text(text, encoding="utf-8")
    return path


def test_crossed_design_runs_every_lever_setting_in_every_state_of_the_world(tmp_path) -> None:
    loaded = load_sweep(lever_sweep(tmp_path))
    sweep = loaded.model
    assert [f.role for f in sweep.factors] == ["lever", "uncertainty", "uncertainty"]
    assert sweep.crossed
    points = generate(sweep, loaded.base_dir)
    assert len(points) == count_points(sweep) == 2 * 4
    frame = points.frame()
    low, high = (frame[frame["reassurance"] == v] for v in (0.4, 1.0))
    assert len(low) == len(high) == 4
    for column in ("ceasefire_date", "threat_sensitivity"):  # the same states of the world
        assert low[column].tolist() == high[column].tolist()
        assert low[column].nunique() == 4


@pytest.mark.parametrize(
    ("kwargs", "where", "message"),
    [
        ({"role": "policy"}, "levers.yaml:5:", "factors[0].role: 'policy' is not allowed"),
        ({"design": "morris"}, "levers.yaml:", "factors[0].role: a morris design has no levers"),
        ({"satisficing": "small"}, "levers.yaml:", "robustness.satisficing:"),
    ],
)
def test_role_and_robustness_errors_point_at_the_file(tmp_path, kwargs, where, message) -> None:
    with pytest.raises(ValidationError) as caught:
        load_sweep(lever_sweep(tmp_path, **kwargs))
    lines = [str(p) for p in caught.value.problems]
    assert any(f"/{where}" in line and message in line for line in lines), lines


def test_lever_sweep_report_answers_in_words_and_figures(tmp_path: Path) -> None:
    summary = run_sweep(lever_sweep(tmp_path), SweepOptions(out=tmp_path / "out", workers=1))
    folder = summary.folder
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [f["role"] for f in manifest["factors"]] == ["lever", "uncertainty", "uncertainty"]
    assert manifest["robustness"]["satisficing"] == "<= 6"
    assert main(["discover", str(folder), "--outcome", "cascade_size", "--where", ">= 7",
                 "-q"]) == 0  # fmt: skip
    build_sweep_report(folder)
    text = (folder / "summary.md").read_text()
    for heading in ("## Feature scores", "## Scenario discovery", "## Levers against "
                    "uncertainties", "## Cascade over time"):  # fmt: skip
        assert heading in text
    assert "**Most robust lever setting: reassurance=" in text
    assert "cascade_size <= 6" in text
    overview = json.loads((folder / "summary.json").read_text())
    table = pd.DataFrame(overview["robustness"]["table"])
    best = table.sort_values("max_regret").iloc[0]
    assert overview["robustness"]["most_robust"] == f"reassurance={best['reassurance']:g}"
    assert table["best_in"].sum() >= 1.0 - 1e-9  # some setting is best in every state of the world
    assert (table["mean_regret"] <= table["max_regret"]).all()
    for name in ("robustness", "envelopes", "feature_scores_cascade_size"):
        assert (folder / "plots" / f"{name}.png").is_file()
    assert set(overview["envelopes"]["final_median"]) == {"reassurance=0.4", "reassurance=1"}
    # the curves end at each point's mean cascade_size: the same definition as the outcome
    runs = pd.read_parquet(folder / "runs.parquet")
    events = pd.read_parquet(folder / "events.parquet")
    ok = runs.groupby("point")["status"].apply(lambda s: int((s == "ok").sum()))
    _, curves = point_curves(events, ok, treaty="ottawa", end="2027-12-31")
    means = runs.groupby("point")["cascade_size"].mean().to_numpy()
    np.testing.assert_allclose(curves[:, -1], means)


def test_bundled_lever_sweep_is_valid() -> None:
    assert main(["validate", str(SCENARIOS / "sweeps" / "reassurance_levers.yaml"), "-q"]) == 0
