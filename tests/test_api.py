"""The Python API (``import treatysim as ts``): the README's example, and the CLI's equivalence."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import treatysim as ts
from treatysim.cli import main

ROOT = Path(__file__).resolve().parent.parent


def readme_api_example() -> str:
    """The README's Python example: the fenced block after the ``<!-- api -->`` marker."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- api -->\s*```python\n(.*?)```", text, flags=re.S)
    assert match, "README.md has no <!-- api --> python block"
    return match.group(1)


def test_the_readme_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(readme_api_example(), "README.md", "exec"), namespace)  # noqa: S102
    result = namespace["result"]
    assert isinstance(result, ts.Result)
    assert (tmp_path / "results" / "my_run" / "summary.md").is_file()


def test_simulate_gives_the_tables_treatysim_run_writes(tmp_path: Path) -> None:
    result = ts.simulate(ts.load("teaching/baltic_simple"), replications=6, seed=11)
    code = main(
        [
            *("run", "teaching/baltic_simple", "-n", "6", "--seed", "11"),
            *("--out", str(tmp_path), "--timeseries", "none", "-q", "--no-report"),
        ]
    )
    assert code == 0
    for name, frame in (("runs", result.runs), ("events", result.events)):
        stored = pd.read_parquet(tmp_path / f"{name}.parquet")
        pd.testing.assert_frame_equal(
            frame.drop(columns=["seconds"], errors="ignore"),
            stored.drop(columns=["seconds"], errors="ignore"),
        )
    assert result.timeseries is None
    assert result.seeds == [int(s) for s in result.runs["seed"]]


def test_overrides_are_validated_like_set(tmp_path: Path) -> None:
    scenario = ts.load("ottawa_2025", overrides={"parameters.threat.sensitivity": 3.0})
    assert scenario.model.parameters.threat.sensitivity == 3.0
    with pytest.raises(ts.ValidationError) as err:
        ts.load("ottawa_2025", overrides={"parameters.threat.sensitivty": 3.0})
    assert any("sensitivity" in p for p in map(str, err.value.problems))
    with pytest.raises(ts.ValidationError):
        ts.load("ottawa_2025", overrides={"parameters.threat.sensitivity": -1})


def test_save_writes_a_run_folder_that_report_and_compare_read(tmp_path: Path) -> None:
    result = ts.simulate("teaching/baltic_simple", replications=4, seed=3, timeseries="counts")
    folder = result.save(tmp_path / "run", report=False)
    assert not (folder / "summary.md").exists()
    assert main(["report", str(folder)]) == 0
    assert (folder / "summary.md").is_file()
    with pytest.raises(ts.ValidationError):
        result.save(folder)  # not empty


def test_unknown_engine_and_bad_input_raise_validation_errors() -> None:
    with pytest.raises(ts.ValidationError):
        ts.simulate("teaching/baltic_simple", replications=2, engine="warp")  # type: ignore[arg-type]
    with pytest.raises(ts.ValidationError):
        ts.simulate("teaching/baltic_simple", replications=0)
    with pytest.raises(ts.ValidationError):
        ts.load("no_such_scenario")


def test_import_treatysim_does_not_load_the_engine() -> None:
    import subprocess
    import sys

    code = "import sys, treatysim; print('numpy' in sys.modules, 'mesa' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_the_manifest_and_summary_say_which_engine_ran(tmp_path: Path) -> None:
    import json

    for engine in ("mesa", "batched"):
        result = ts.simulate("teaching/baltic_simple", replications=3, seed=2, engine=engine)
        folder = result.save(tmp_path / engine)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        assert manifest["engine"] == summary["engine"] == engine
        assert f"{engine} engine" in (folder / "summary.md").read_text(encoding="utf-8")
    auto = ts.simulate("teaching/baltic_simple", replications=2, seed=2)
    assert auto.simulation.engine == "batched"
