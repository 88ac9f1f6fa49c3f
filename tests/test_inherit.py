"""Scenario inheritance: ``extends`` plus only what changes, merged by key and by event id."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from treatysim.cli import main
from treatysim.scenario.errors import ValidationError
from treatysim.scenario.load import load_scenario
from treatysim.scenario.yamlio import load_yaml_file

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
#: The variants as they were before `extends` (whole copies of the founding case).
FULL = Path(__file__).resolve().parent / "data" / "inherit"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.mark.parametrize("year", [2025, 2026])
def test_variants_resolve_to_the_old_full_files(year: int) -> None:
    """The short variant's resolved document equals the whole copy it replaced."""
    new = load_scenario(SCENARIOS / f"ceasefire_{year}.yaml")
    old = load_scenario(FULL / f"ceasefire_{year}_full.yaml")
    assert new.document.data == load_yaml_file(FULL / f"ceasefire_{year}_full.yaml").data
    assert new.model == old.model
    assert "extends" not in new.document.data
    assert len((SCENARIOS / f"ceasefire_{year}.yaml").read_text().splitlines()) < 40


def test_merge_by_key_and_by_event_id(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "variant.yaml",
        """
        schema_version: 1
        extends: ottawa_2025
        name: variant
        states:
          overrides:
            NOR: {stigma: 0.9}
        events:
          - {id: zapad_2025, remove: true}
          - {id: us_reassurance_drop, date: 2025-03-01}
          - {id: late, type: exercise, date: 2026-01-01, source: RUS, capability_boost: 0.1}
        """,
    )
    loaded = load_scenario(path)
    data = loaded.document.data
    base = load_yaml_file(SCENARIOS / "ottawa_2025.yaml").data
    assert data["name"] == "variant"
    assert data["calendar"] == base["calendar"]
    assert data["states"]["overrides"]["NOR"] == {"stigma": 0.9}
    assert data["states"]["overrides"]["UKR"] == base["states"]["overrides"]["UKR"]
    assert [e["id"] for e in data["events"]] == ["us_reassurance_drop", "late"]
    drop = data["events"][0]
    assert str(drop["date"]) == "2025-03-01" and drop["credibility"] == 0.4
    assert loaded.model.events[0].type == "reassurance"


def test_bundled_name_and_relative_path_and_chains(tmp_path: Path) -> None:
    write(tmp_path, "mid.yaml", "extends: ottawa_2025\nname: mid\n")
    leaf = write(tmp_path, "leaf.yaml", "extends: mid.yaml\nname: leaf\nrun: {replications: 3}\n")
    loaded = load_scenario(leaf)
    assert loaded.model.name == "leaf"
    assert loaded.model.run.replications == 3
    assert loaded.model.calendar.step == "week"


def test_a_problem_in_the_base_points_into_the_base(tmp_path: Path) -> None:
    base = write(
        tmp_path,
        "base.yaml",
        (SCENARIOS / "ottawa_2025.yaml")
        .read_text()
        .replace("notice_months: 6 ", "notice_months: -6"),
    )
    child = write(tmp_path, "child.yaml", "extends: base\nname: child\nrun: {replications: -1}\n")
    with pytest.raises(ValidationError) as info:
        load_scenario(child)
    by_file = {p.file: p for p in info.value.problems}
    assert set(by_file) == {str(base), str(child)}
    assert by_file[str(base)].path == "treaties.ottawa.notice_months"
    line = by_file[str(base)].line
    assert "notice_months" in base.read_text().splitlines()[line - 1]
    assert by_file[str(child)].path == "run.replications"
    assert by_file[str(child)].line == 3


def test_a_problem_in_an_updated_event_points_into_the_child(tmp_path: Path) -> None:
    child = write(
        tmp_path,
        "child.yaml",
        """
        extends: ottawa_2025
        name: child
        events:
          - {id: zapad_2025, date: 2031-01-01}
        """,
    )
    with pytest.raises(ValidationError) as info:
        load_scenario(child)
    [problem] = info.value.problems
    assert problem.file == str(child)
    assert (problem.line, problem.path) == (4, "events[0].date")


def test_cycles_and_missing_bases_are_problems(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\n")
    with pytest.raises(ValidationError, match="cycle"):
        load_scenario(a)
    missing = write(tmp_path, "m.yaml", "extends: no_such_base\nname: m\n")
    with pytest.raises(ValidationError) as info:
        load_scenario(missing)
    assert str(info.value.problems[0]).startswith(f"{missing}:1:10: extends: no base scenario")
    gone = write(
        tmp_path, "g.yaml", "extends: ottawa_2025\nevents:\n  - {id: nope, remove: true}\n"
    )
    with pytest.raises(ValidationError, match="no event with id 'nope'"):
        load_scenario(gone)


def test_validate_and_schema_know_extends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    child = write(tmp_path, "child.yaml", "extends: ottawa_2025\nname: child\n")
    assert main(["validate", str(child)]) == 0
    assert capsys.readouterr().out == f"{child}: ok (scenario)\n"
    assert main(["schema", "--kind", "scenario"]) == 0
    assert '"extends"' in capsys.readouterr().out


def test_readme_extends_example_is_valid(tmp_path: Path) -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if "<!-- extends-example -->" in line)
    fence = next(i for i in range(start, len(lines)) if lines[i].startswith("```"))
    end = next(i for i in range(fence + 1, len(lines)) if lines[i].startswith("```"))
    path = tmp_path / "example.yaml"
    path.write_text("\n".join(lines[fence + 1 : end]), encoding="utf-8")
    loaded = load_scenario(path)
    assert [e.id for e in loaded.model.events] == ["us_reassurance_drop"]


def test_an_inherited_event_is_named_as_its_file_numbers_it(tmp_path: Path) -> None:
    base_text = (
        (SCENARIOS / "ottawa_2025.yaml").read_text().replace("credibility: 0.4", "credibility: 7")
    )
    base = write(tmp_path, "base.yaml", base_text)
    child_text = (
        "extends: base\nevents:\n"
        "  - {id: new, type: reassurance, date: 2025-05-01, credibility: 0.5}\n"
        "  - {id: us_reassurance_drop, date: 2025-03-01}\n"
    )
    child = write(tmp_path, "child.yaml", child_text)
    with pytest.raises(ValidationError) as info:
        load_scenario(child)
    [problem] = info.value.problems
    assert (problem.file, problem.path) == (str(base), "events[0].credibility")


def test_set_overrides_on_a_variant_keep_problems_in_their_files(tmp_path: Path) -> None:
    from treatysim.scenario.load import revalidate

    loaded = load_scenario(SCENARIOS / "ceasefire_2026.yaml")
    with pytest.raises(ValidationError) as info:
        revalidate(loaded, ["events.ceasefire.date=2031-01-01"])
    [problem] = info.value.problems
    if problem.file != "--set":  # (a --set may come to be named as the place of its value)
        assert problem.file == str(SCENARIOS / "ceasefire_2026.yaml")
        assert problem.path == "events[0].date"
