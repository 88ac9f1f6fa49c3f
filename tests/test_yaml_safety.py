"""Scenario files are plain data: no YAML tag can construct a Python object or run code.

The checks are behavioural: a file that would create a marker file (through a shell command or
through ``open``) under an unsafe loader is loaded, and the marker must not exist afterwards;
and loading keeps working when every object-building ``load`` entry point of ruamel.yaml and
PyYAML is booby-trapped.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from treatysim.cli import main
from treatysim.scenario.errors import ValidationError
from treatysim.scenario.load import load_scenario, load_scenario_text
from treatysim.scenario.yamlio import MAX_NODES, load_yaml_text

DATA = Path(__file__).resolve().parent / "data"
VALID = DATA / "valid" / "minimal.yaml"
FOUNDING = Path(__file__).resolve().parent.parent / "scenarios" / "ottawa_2025.yaml"


def scenario_with(line: str, value: str) -> str:
    """The valid minimal scenario with ``line`` (which must occur once) replaced by ``value``."""
    text = VALID.read_text(encoding="utf-8")
    assert text.count(line) == 1
    return text.replace(line, value)


def dangerous_documents(marker: Path) -> dict[str, tuple[str, int, str, str]]:
    """name -> (text, line, key path, tag as reported); each would create ``marker`` if run."""
    touch = f'["touch {marker}"]'
    return {
        "apply_os_system": (
            scenario_with("    title: Ottawa Convention",
                          f"    title: !!python/object/apply:os.system {touch}"),
            12, "treaties.ottawa.title", "!!python/object/apply:os.system",
        ),
        "apply_subprocess_mapping": (
            scenario_with("  step: week",
                          f"  step: !!python/object/apply:subprocess.check_call\n"
                          f"    args: [[touch, {marker}]]"),
            8, "calendar.step", "!!python/object/apply:subprocess.check_call",
        ),
        "apply_builtin_open": (
            scenario_with("  include: [all]",
                          f'  include: [all, !!python/object/apply:builtins.open ["{marker}", w]]'),
            19, "states.include[1]", "!!python/object/apply:builtins.open",
        ),
        "new_os_system": (
            scenario_with("name: minimal", f"name: !!python/object/new:os.system {touch}"),
            3, "name", "!!python/object/new:os.system",
        ),
        "python_name": (
            scenario_with("  rule: threat_commitment", "  rule: !!python/name:os.system ''"),
            41, "parameters.rule", "!!python/name:os.system",
        ),
        "python_object": (
            scenario_with("    NOR:\n      stigma: 0.8",
                          "    NOR: !!python/object:subprocess.Popen\n      args: [touch, marker]"),
            22, "states.overrides.NOR", "!!python/object:subprocess.Popen",
        ),
        "python_module": (
            scenario_with("  dataset: europe_2025", "  dataset: !!python/module:os ''"),
            18, "states.dataset", "!!python/module:os",
        ),
        "verbatim_tag": (
            scenario_with("  rule: threat_commitment",
                          f"  rule: !<tag:yaml.org,2002:python/object/apply:os.system> {touch}"),
            41, "parameters.rule", "!!python/object/apply:os.system",
        ),
        "tag_directive": (
            "%TAG !py! tag:yaml.org,2002:python/\n---\n"
            + scenario_with("  replications: 10",
                            f"  replications: !py!object/apply:os.system {touch}"),
            53, "run.replications", "!!python/object/apply:os.system",
        ),
    }  # fmt: skip


CASES = sorted(dangerous_documents(Path("/marker")))


@pytest.fixture
def tripwire(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record (and block) any attempt to run a command while a test loads a file."""
    calls: list[Any] = []

    def record(*args: Any, **kwargs: Any) -> int:
        calls.append(args)
        return 0

    monkeypatch.setattr(os, "system", record)
    monkeypatch.setattr(subprocess, "check_call", record)
    monkeypatch.setattr(subprocess, "Popen", record)
    return calls


@pytest.mark.parametrize("name", CASES)
def test_python_tags_are_rejected_and_never_run(
    name: str, tmp_path: Path, tripwire: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "MARKER"
    text, line, path, tag = dangerous_documents(marker)[name]
    file = tmp_path / f"{name}.yaml"
    file.write_text(text, encoding="utf-8")

    with pytest.raises(ValidationError) as info:
        load_scenario(file)
    problems = info.value.problems
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.file, problem.line, problem.path) == (str(file), line, path)
    assert problem.message == f"tag {tag} is not allowed: scenario files hold plain data only"

    with pytest.raises(ValidationError):
        load_scenario_text(text, "text.yaml")

    assert main(["validate", str(file)]) == 2
    err = capsys.readouterr().err
    assert f"{file}:{line}:" in err
    assert tag in err
    assert "Traceback" not in err

    assert not marker.exists()
    assert tripwire == []


def test_marker_would_be_created_by_an_unsafe_loader(tmp_path: Path) -> None:
    """The payload is real: an unsafe loader runs it, so the tests above mean something."""
    import warnings

    from ruamel.yaml import YAML

    marker = tmp_path / "MARKER"
    text, *_ = dangerous_documents(marker)["apply_builtin_open"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        YAML(typ="unsafe", pure=True).load(text)  # demonstrating the attack on purpose
    assert marker.exists()


def test_custom_tags_are_rejected_everywhere() -> None:
    text = "schema_version: 1\nname: !foo x\n!bar key: 1\nlist: !baz [1]\nmap: !qux {a: 1}\n"
    with pytest.raises(ValidationError) as info:
        load_yaml_text(text, "t.yaml")
    found = {(p.line, p.message.split()[1]) for p in info.value.problems}
    assert found == {(2, "!foo"), (3, "!bar"), (4, "!baz"), (5, "!qux")}


def test_core_schema_tags_are_still_allowed() -> None:
    text = (
        "s: !!str 12\ni: !!int '7'\nf: !!float '1.5'\nb: !!bool 'true'\nn: !!null ''\n"
        "d: !!timestamp 2025-01-01\nl: !!seq [1]\nm: !!map {a: 1}\n"
    )
    data = load_yaml_text(text, "t.yaml").data
    assert data == {
        "s": "12",
        "i": 7,
        "f": 1.5,
        "b": True,
        "n": None,
        "d": dt.date(2025, 1, 1),
        "l": [1],
        "m": {"a": 1},
    }


def test_loading_uses_no_object_building_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """With every ``load`` of ruamel.yaml and PyYAML booby-trapped, loading still works."""
    import ruamel.yaml
    import ruamel.yaml.main

    def trap(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an object-building YAML load was used")

    monkeypatch.setattr(ruamel.yaml.YAML, "load", trap)
    monkeypatch.setattr(ruamel.yaml.YAML, "load_all", trap)
    for name in ("load", "load_all", "safe_load", "round_trip_load"):
        monkeypatch.setattr(ruamel.yaml.main, name, trap, raising=False)
    try:
        import yaml
    except ImportError:  # PyYAML is optional; ruamel.yaml is the dependency
        pass
    else:
        for name in ("load", "load_all", "unsafe_load", "full_load", "safe_load"):
            monkeypatch.setattr(yaml, name, trap)

    assert load_scenario(FOUNDING).model.name == "ottawa_2025"
    assert load_scenario(VALID).model.name == "minimal"
    with pytest.raises(ValidationError):
        load_scenario_text("a: !!python/object/apply:os.system ['true']\n")


def test_only_the_safe_constructor_builds_scalars(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither of ruamel's object-building constructors is ever instantiated while loading."""
    from ruamel.yaml import constructor

    def trap(self: Any, *args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"{type(self).__name__} was used")

    monkeypatch.setattr(constructor.Constructor, "__init__", trap)
    monkeypatch.setattr(constructor.RoundTripConstructor, "__init__", trap)
    assert load_scenario(FOUNDING).model.name == "ottawa_2025"


def test_alias_expansion_is_bounded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A deeper 'billion laughs' (9**12 strings) is refused quickly, not expanded."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 12):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    file = tmp_path / "laughs.yaml"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(ValidationError) as info:
        load_scenario(file)
    assert time.perf_counter() - start < 10
    assert [p.message for p in info.value.problems] == [
        f"the document expands to more than {MAX_NODES} nodes"
    ]
    assert main(["validate", str(file)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_aliases_within_the_limit_are_plain_copies() -> None:
    """Anchors and aliases are ordinary YAML and keep working for small documents."""
    text = scenario_with("  exclude: [AND, MCO]", "  exclude: &micro [AND, MCO]")
    text = text.replace("    members: [EST, LVA, LTU]", "    members: *micro")
    loaded = load_scenario_text(text, "t.yaml")
    assert loaded.model.groups["baltic"].members == ["AND", "MCO"]
    doc = load_yaml_text("a: &x [1, 2]\nb: *x\n", "t.yaml")
    assert doc.data == {"a": [1, 2], "b": [1, 2]}
    assert doc.data["a"] is not doc.data["b"]
