"""docs/sweeps.md's exploratory workflow (issue 15): the commands of its ``workflow`` block run,
in order, on a smaller copy of the bundled lever sweep, and the report answers the question."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from treatysim.cli import main

ROOT = Path(__file__).resolve().parent.parent


def workflow_commands() -> list[str]:
    lines = (ROOT / "docs" / "sweeps.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("<!-- workflow -->")
    assert lines[start + 1].startswith("```")
    end = next(i for i in range(start + 2, len(lines)) if lines[i].startswith("```"))
    return [line for line in lines[start + 2 : end] if line.strip()]


def test_the_workflow_block_is_sweep_discover_report() -> None:
    commands = workflow_commands()
    assert [shlex.split(c)[1] for c in commands] == ["sweep", "discover", "report"]
    assert all(c.startswith("treatysim ") for c in commands)


def test_the_documented_workflow_runs(tmp_path: Path) -> None:
    bundled = ROOT / "scenarios" / "sweeps" / "reassurance_levers.yaml"
    text = bundled.read_text(encoding="utf-8")
    assert "samples: 16" in text and "replications: 20" in text
    small = text.replace("samples: 16", "samples: 4").replace("replications: 20", "replications: 2")
    small = small.replace(
        "base: ../ceasefire_2025.yaml", f"base: {bundled.parent.parent}/ceasefire_2025.yaml"
    )
    sweep = tmp_path / "reassurance_levers.yaml"
    sweep.write_text(small, encoding="utf-8")
    out = tmp_path / "levers"
    for command in workflow_commands():
        command = command.replace("sweeps/reassurance_levers", str(sweep))
        command = command.replace("results/levers", str(out))
        args = shlex.split(command)[1:]
        assert main([*args, "--quiet"]) == 0, command
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "## Scenario discovery" in summary
    assert "**Most robust lever setting: reassurance=" in summary
    assert (out / "discovery" / "discovery.json").is_file()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["points"] == 3 * 4 and manifest["runs"] == 3 * 4 * 2
