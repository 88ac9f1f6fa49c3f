"""Validation of sweep files, file-kind detection and the JSON Schema of both languages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from treatysim.scenario.errors import Problem, ValidationError
from treatysim.scenario.load import Loaded, is_sweep_document, load_scenario, validate_document
from treatysim.scenario.yamlio import Document, load_yaml_file


def _sweep_problems(loaded: Loaded[Any]) -> list[Problem]:
    """Cross-checks of a schema-valid sweep: base scenario, key paths, outcomes, table file."""
    from treatysim.results.tables import OUTCOMES
    from treatysim.scenario.keypath import KeyPathError, set_path
    from treatysim.scenario.sweep import Sweep

    sweep: Sweep = loaded.model
    doc = loaded.document
    problems: list[Problem] = []

    def add(loc: tuple[str | int, ...], path: str, message: str) -> None:
        problems.append(doc.problem(loc, path, message))

    base_path = (loaded.base_dir or Path.cwd()) / sweep.base
    try:
        base = load_scenario(base_path)
    except ValidationError as exc:
        first = exc.problems[0]
        add(("base",), "base", f"the base scenario is not valid: {first}")
        return problems

    from treatysim.scenario.designs import DesignError, candidate_values, read_table

    table_columns: list[list[Any]] | None = None
    if sweep.design.type == "table" and sweep.design.file:
        table = (loaded.base_dir or Path.cwd()) / sweep.design.file
        if not table.is_file():
            add(("design", "file"), "design.file", f"no such file: {sweep.design.file}")
        else:
            try:
                points = read_table(table, sweep.factors)
                table_columns = [list(dict.fromkeys(points.value(p, j) for p in range(len(points))))
                                 for j in range(len(sweep.factors))]  # fmt: skip
            except DesignError as exc:
                add(("design", "file"), "design.file", str(exc))

    labels = [f.label for f in sweep.factors]
    for i, factor in enumerate(sweep.factors):
        loc: tuple[str | int, ...] = ("factors", i, "path")
        if labels.count(factor.label) > 1:
            add(loc, f"factors[{i}].path", f"duplicate factor '{factor.label}'")
        if sweep.design.type != "table" and factor.values is None and not factor.is_range:
            add(("factors", i), f"factors[{i}]", "give values, or a range with low and high")
            continue
        # every explicit value (or both ends of a range, or the table's values) must make a
        # valid scenario, so a bad value fails here and not after hours of runs
        samples = candidate_values(factor) or (table_columns[i] if table_columns else [])
        for n, sample in enumerate(samples[:100]):
            try:
                data = set_path(base.document.data, factor.path, sample)
            except KeyPathError as exc:
                add(loc, f"factors[{i}].path", f"unknown key path: {exc}")
                break
            trial = Document(data, str(base_path), base.document.value_pos, base.document.key_pos)
            try:
                from treatysim.scenario.checks import check_scenario
                from treatysim.scenario.schema import Scenario

                scenario = validate_document(trial, Scenario)
                more = check_scenario(Loaded(scenario, trial, base_path))
                if more:
                    raise ValidationError(more)
            except ValidationError as exc:
                first = exc.problems[0]
                value = f" (value {sample})" if n or len(samples) > 1 else ""
                add(loc, f"factors[{i}].path", f"'{factor.path}' does not fit the base scenario"
                    f"{value}: {first.path}: {first.message}")  # fmt: skip
                break
        if sweep.design.type not in {"grid", "table"} and not factor.is_range:
            add(loc, f"factors[{i}]", f"a {sweep.design.type} design needs a range (low, high)")
        if sweep.design.type == "grid" and factor.is_range and factor.levels is None:
            add(loc, f"factors[{i}]", "a range in a grid design needs levels")
    known = set(OUTCOMES)
    for treaty in base.model.treaties:
        known |= {f"{o}__{treaty}" for o in OUTCOMES}
    numeric = {o for o in known if not o.startswith(("first_announcement", "first_exit"))}
    for i, outcome in enumerate(sweep.outcomes):
        if outcome not in numeric:
            import difflib

            match = difflib.get_close_matches(outcome, sorted(numeric), n=1)
            hint = f"; did you mean '{match[0]}'?" if match else ""
            add(("outcomes", i), f"outcomes[{i}]", f"unknown outcome '{outcome}'{hint}")
    if sweep.design.type == "grid":
        size = 1
        for factor in sweep.factors:
            size *= len(factor.values) if factor.values is not None else (factor.levels or 1)
        if size * sweep.replications > 100_000_000:
            add(("design",), "design", f"the grid has {size} points; that is too many")
    return problems


def load_sweep(path: Path | str) -> Loaded[Any]:
    """Load and fully validate a sweep file.

    Raises:
        ValidationError: With every problem found.
    """
    from treatysim.scenario.sweep import Sweep

    doc = load_yaml_file(path)
    _require_version(doc)
    sweep = validate_document(doc, Sweep)
    loaded = Loaded(sweep, doc, Path(path))
    problems = _sweep_problems(loaded)
    if problems:
        raise ValidationError(problems)
    return loaded


def _require_version(doc: Document) -> None:
    version = doc.data.get("schema_version")
    if "schema_version" in doc.data and version != 1:
        raise ValidationError(
            [doc.problem(("schema_version",), "schema_version",
                         f"unsupported schema_version {version!r}; this treatysim reads 1")]
        )  # fmt: skip


def validate_file(path: Path | str) -> str:
    """Validate a scenario or sweep file, telling them apart by content.

    Returns:
        ``scenario`` or ``sweep``.

    Raises:
        ValidationError: With every problem found.
    """
    doc = load_yaml_file(path)
    if is_sweep_document(doc):
        load_sweep(path)
        return "sweep"
    load_scenario(path)
    return "scenario"


def json_schema(kind: str = "all") -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of scenario files, sweep files, or either."""
    from treatysim.scenario.schema import Scenario
    from treatysim.scenario.sweep import Sweep

    scenario = Scenario.model_json_schema()
    sweep = Sweep.model_json_schema()
    header = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
    if kind == "scenario":
        return {**header, "title": "treatysim scenario", **scenario}
    if kind == "sweep":
        return {**header, "title": "treatysim sweep", **sweep}
    defs = {**scenario.pop("$defs", {}), **sweep.pop("$defs", {})}
    defs["Scenario"] = scenario
    defs["Sweep"] = sweep
    return {
        **header,
        "title": "treatysim scenario or sweep file",
        "description": f"Generated {dt.date.today().isoformat()} from treatysim's pydantic models.",
        "anyOf": [{"$ref": "#/$defs/Scenario"}, {"$ref": "#/$defs/Sweep"}],
        "$defs": defs,
    }
