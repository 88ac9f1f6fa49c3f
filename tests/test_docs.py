"""Docs follow the code: the ODD's parameter table is the schema's."""

from __future__ import annotations

from pathlib import Path

from treatysim.scenario.doc import END, START, parameter_rows, parameter_table

ROOT = Path(__file__).resolve().parent.parent


def test_odd_parameter_table_matches_the_schema() -> None:
    text = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    committed = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert committed == parameter_table().strip(), (
        "run `python -m treatysim.scenario.doc` to regenerate"
    )


def test_every_parameter_has_default_unit_range_and_source() -> None:
    rows = parameter_rows()
    assert len(rows) >= 25
    for row in rows:
        assert row["default"] and row["unit"] and row["source"] and row["meaning"], row
        low, high = (float(x) for x in row["range"].split(" – "))
        assert low <= float(row["default"]) <= high, row


def readme_block(marker: str) -> str:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if f"<!-- {marker} -->" in line)
    fence = next(i for i in range(start, len(lines)) if lines[i].startswith("```"))
    end = next(i for i in range(fence + 1, len(lines)) if lines[i].startswith("```"))
    return "\n".join(lines[fence + 1 : end])


def test_readme_example_scenario_is_valid_and_runs(tmp_path: Path) -> None:
    from treatysim.run.runner import run_scenario
    from treatysim.scenario.load import load_scenario

    path = tmp_path / "example.yaml"
    path.write_text(readme_block("example"), encoding="utf-8")
    loaded = load_scenario(path)
    assert loaded.model.name == "baltic_ceasefire"
    summary = run_scenario(loaded, replications=3, out=tmp_path / "out", quiet=True)
    assert summary.failed == 0


def test_readme_quick_start_has_one_command_each() -> None:
    for marker in ("run", "test"):
        block = readme_block(marker)
        assert block.count("\n") == 0 and block.strip(), marker
    assert "treatysim run scenarios/ottawa_2025.yaml" in readme_block("run")


def test_the_odd_calibration_table_matches_a_fresh_run() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "odd_table.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_parameter_table_tool_finds_the_odd_or_says_it_cannot(tmp_path, capsys) -> None:
    """``python -m treatysim.scenario.doc``: the checkout's docs/ODD.md by default, else exit 2."""
    from treatysim.scenario.doc import main

    assert main([str(tmp_path / "missing.md")]) == 2
    assert "not found; give the path of docs/ODD.md" in capsys.readouterr().err
    odd = tmp_path / "ODD.md"
    odd.write_text(f"intro\n{START}\nold\n{END}\n", encoding="utf-8")
    assert main([str(odd)]) == 0
    assert "| " in odd.read_text(encoding="utf-8").split(START)[1]
