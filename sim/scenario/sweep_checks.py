"""Cross-checks of a sweep file that already passed the schema, against its base scenario.

The schema checks each factor on its own; these checks relate the sweep to its base scenario:
every factor's key path exists there, every explicit value (both ends of a range, each value of a
table's column) makes a valid scenario, the design suits the factors, and every outcome is one a
run records (:data:`~treatysim.scenario.sweep.OUTCOMES`). So a bad value fails at validation and
not after hours of runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from treatysim.scenario.checks import checked_scenario
from treatysim.scenario.condition import parse_where
from treatysim.scenario.designs import DesignError, candidate_values, read_table
from treatysim.scenario.errors import Problem, ValidationError
from treatysim.scenario.explain import did_you_mean
from treatysim.scenario.keypath import KeyPathError, set_path
from treatysim.scenario.schema import Scenario
from treatysim.scenario.sweep import DATE_OUTCOMES, OUTCOMES, Factor, Sweep
from treatysim.scenario.yamlio import Document, Loaded, Location

#: Values of one factor tried against the base scenario (the first ones, for long lists).
MAX_TRIED = 100
#: Largest grid (points × replications) a sweep file may ask for.
MAX_GRID_RUNS = 100_000_000


def sweep_outcomes(treaties: list[str]) -> set[str]:
    """The numeric outcomes a sweep over a scenario with these treaties can summarise."""
    known = set(OUTCOMES) | {f"{o}__{t}" for t in treaties for o in OUTCOMES}
    return {o for o in known if not o.startswith(DATE_OUTCOMES)}


def check_sweep(loaded: Loaded[Sweep], base: Loaded[Scenario]) -> list[Problem]:
    """Every cross-check problem of a schema-valid sweep whose base scenario is valid.

    Args:
        loaded: The sweep file.
        base: Its base scenario, loaded and valid.
    """
    sweep = loaded.model
    doc = loaded.document
    problems: list[Problem] = []

    def add(loc: Location, path: str, message: str) -> None:
        problems.append(doc.problem(loc, path, message))

    table_columns = _table_columns(loaded, add)
    labels = [f.label for f in sweep.factors]
    for i, factor in enumerate(sweep.factors):
        loc: Location = ("factors", i, "path")
        if labels.count(factor.label) > 1:
            add(loc, f"factors[{i}].path", f"duplicate factor '{factor.label}'")
        if sweep.design.type != "table" and factor.values is None and not factor.is_range:
            add(("factors", i), f"factors[{i}]", "give values, or a range with low and high")
            continue
        samples = candidate_values(factor) or (table_columns[i] if table_columns else [])
        message = _misfit(factor, samples, base)
        if message:
            add(loc, f"factors[{i}].path", message)
        lever_of_crossed = sweep.crossed and factor.role == "lever"
        if (
            sweep.design.type not in {"grid", "table"}
            and not factor.is_range
            and not lever_of_crossed
        ):
            add(loc, f"factors[{i}]", f"a {sweep.design.type} design needs a range (low, high)")
        grid_like = sweep.design.type == "grid" or lever_of_crossed
        if grid_like and factor.is_range and factor.levels is None:
            where = "a grid design" if sweep.design.type == "grid" else "a lever"
            add(loc, f"factors[{i}]", f"a range in {where} needs levels")
        if factor.role == "lever" and sweep.design.type in {"saltelli", "morris"}:
            add(
                ("factors", i, "role"),
                f"factors[{i}].role",
                f"a {sweep.design.type} design has no levers (its points must keep their order "
                "for the indices); use grid, lhs, sobol or table, or mark it uncertainty",
            )
    numeric = sweep_outcomes(list(base.model.treaties))
    for i, outcome in enumerate(sweep.outcomes):
        if outcome not in numeric:
            hint = did_you_mean(outcome, numeric)
            add(("outcomes", i), f"outcomes[{i}]", f"unknown outcome '{outcome}'{hint}")
    _check_robustness(sweep, numeric, add)
    if sweep.design.type == "grid":
        size = 1
        for factor in sweep.factors:
            size *= len(factor.values) if factor.values is not None else (factor.levels or 1)
        if size * sweep.replications > MAX_GRID_RUNS:
            add(("design",), "design", f"the grid has {size} points; that is too many")
    return problems


def _check_robustness(sweep: Sweep, numeric: set[str], add: Any) -> None:
    """The ``robustness`` block: a known outcome, a satisficing condition that parses, levers."""
    block = sweep.robustness
    if block is None:
        return
    if not sweep.levers or not sweep.uncertainties:
        add(
            ("robustness",),
            "robustness",
            "robustness needs factors with both roles (lever and uncertainty)",
        )
    if block.outcome not in numeric:
        hint = did_you_mean(block.outcome, numeric)
        add(
            ("robustness", "outcome"),
            "robustness.outcome",
            f"unknown outcome '{block.outcome}'{hint}",
        )
    elif block.outcome not in sweep.outcomes:
        add(
            ("robustness", "outcome"),
            "robustness.outcome",
            f"'{block.outcome}' is not one of the sweep's outcomes",
        )
    if block.satisficing is not None:
        try:
            parse_where(block.satisficing)
        except ValueError as exc:
            add(("robustness", "satisficing"), "robustness.satisficing", str(exc))


def _table_columns(loaded: Loaded[Sweep], add: Any) -> list[list[Any]] | None:
    """The distinct values of each factor's column in a table design's file (None otherwise)."""
    sweep = loaded.model
    if sweep.design.type != "table" or not sweep.design.file:
        return None
    table = (loaded.base_dir or Path.cwd()) / sweep.design.file
    if not table.is_file():
        add(("design", "file"), "design.file", f"no such file: {sweep.design.file}")
        return None
    try:
        points = read_table(table, sweep.factors)
    except DesignError as exc:
        add(("design", "file"), "design.file", str(exc))
        return None
    return [
        list(dict.fromkeys(points.value(p, j) for p in range(len(points))))
        for j in range(len(sweep.factors))
    ]


def _misfit(factor: Factor, samples: list[Any], base: Loaded[Scenario]) -> str | None:
    """Why a factor's values do not fit the base scenario, or None when each one does."""
    doc = base.document
    for n, sample in enumerate(samples[:MAX_TRIED]):
        try:
            data = set_path(doc.data, factor.path, sample)
        except KeyPathError as exc:
            return f"unknown key path: {exc}"
        trial = Document(data, doc.file, doc.value_pos, doc.key_pos)
        try:
            checked_scenario(trial, base.path)
        except ValidationError as exc:
            first = exc.problems[0]
            value = f" (value {sample})" if n or len(samples) > 1 else ""
            return (
                f"'{factor.path}' does not fit the base scenario{value}: "
                f"{first.path}: {first.message}"
            )
    return None
