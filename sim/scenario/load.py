"""Load scenario and sweep files: safe YAML, one version check, the schema, cross-checks.

:func:`load` is the one way an input file enters the engine, whichever its kind: a scenario, or a
sweep (a file that names a ``base`` scenario). Both kinds pass the same steps: safe YAML
(:mod:`~treatysim.scenario.yamlio`), one check of ``schema_version`` against
:data:`~treatysim.scenario.types.SCHEMA_VERSION`, the pydantic schema, and the cross-checks
(:mod:`~treatysim.scenario.checks`, :mod:`~treatysim.scenario.sweep_checks`). Every problem is
reported as ``FILE:LINE:COL: key.path: message`` through
:class:`~treatysim.scenario.errors.ValidationError`. :func:`revalidate` applies ``--set``
overrides (or a sweep point's values) to a loaded scenario and validates the result the same way.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import pydantic

from treatysim.scenario.checks import check_scenario, checked_scenario
from treatysim.scenario.errors import Problem, ValidationError, format_path
from treatysim.scenario.explain import (
    KEY_ERRORS,
    child,
    clean_loc,
    describe,
    problems_from_pydantic,
    validate_document,
)
from treatysim.scenario.inherit import has_extends, resolve_extends
from treatysim.scenario.keypath import KeyPathError, parse_assignment, set_path
from treatysim.scenario.retag import retag_document
from treatysim.scenario.schema import Scenario
from treatysim.scenario.sweep import Sweep
from treatysim.scenario.sweep_checks import check_sweep
from treatysim.scenario.tolerant import parse_file, without_repeats
from treatysim.scenario.types import SCHEMA_VERSION
from treatysim.scenario.yamlio import Document, Loaded, Location, load_yaml_text

__all__ = [
    "Kind",
    "Loaded",
    "check_version",
    "file_kind",
    "is_sweep_document",
    "load",
    "load_scenario",
    "load_scenario_text",
    "load_sweep",
    "revalidate",
    "validate_document",
    "validate_file",
]

#: The two kinds of input file.
type Kind = Literal["scenario", "sweep"]
#: An override: ``key.path=value`` text (``--set``; the value is read as YAML), or a
#: ``(key.path, value)`` pair (a sweep point's factor values).
type Assignment = str | tuple[str, Any]


# --------------------------------------------------------------------------------------------
# the steps every file passes


def is_sweep_document(doc: Document) -> bool:
    """Whether a parsed file is a sweep file: it names a base scenario and has no calendar.

    A calibration file (with priors and targets) also names a base; it is not a sweep file.
    """
    data = doc.data
    return (
        isinstance(data, dict)
        and "base" in data
        and "calendar" not in data
        and not ("priors" in data and "targets" in data)
    )


def file_kind(doc: Document) -> Kind:
    """The kind of a parsed file, told apart by its content."""
    return "sweep" if is_sweep_document(doc) else "scenario"


def check_version(doc: Document) -> None:
    """The one check of ``schema_version``, for both kinds of file.

    The version must be the whole number :data:`~treatysim.scenario.types.SCHEMA_VERSION`:
    ``true``, ``1.0`` or ``"1"`` are refused, though Python (and lax pydantic) would take each
    for 1. A missing version is left to the schema, which reports the missing key.

    Raises:
        ValidationError: The version is not the one this treatysim reads.
    """
    if not isinstance(doc.data, dict) or "schema_version" not in doc.data:
        return
    version = doc.data["schema_version"]
    if type(version) is int and version == SCHEMA_VERSION:
        return
    shown = describe(version)
    hint = ""
    if isinstance(version, bool):
        hint = f" (write the number {SCHEMA_VERSION})"
    elif isinstance(version, float) and version == SCHEMA_VERSION:
        hint = f" (write the whole number {SCHEMA_VERSION})"
    elif str(version).strip() == str(SCHEMA_VERSION):
        hint = " (write the number without quotes)"
    message = f"unsupported schema_version {shown}; this treatysim reads {SCHEMA_VERSION}{hint}"
    raise ValidationError([doc.problem(("schema_version",), "schema_version", message)])


def _from_document(
    doc: Document,
    path: Path | None,
    expected: Kind | None = None,
    found: list[Problem] | None = None,
) -> Loaded[Any]:
    """Version check, schema and cross-checks of a parsed file of either kind.

    Every phase runs even when an earlier one found problems (``found``: those of the YAML
    level), so all of them are reported together.
    """
    problems = list(found or [])
    try:
        if has_extends(doc) and expected != "sweep" and not is_sweep_document(doc):
            doc = resolve_extends(doc, path)
    except ValidationError as exc:
        raise ValidationError(without_repeats(problems, exc.problems)) from None
    try:
        check_version(doc)
    except ValidationError as exc:  # report it, and check the rest as this version's
        problems += exc.problems
        doc = dataclasses.replace(doc, data={**doc.data, "schema_version": SCHEMA_VERSION})
    kind = file_kind(doc) if expected is None else expected
    try:
        if kind == "scenario" and is_sweep_document(doc):
            raise ValidationError(
                [doc.problem(("base",), "base", "this is a sweep file; use `treatysim sweep`")]
            )
        loaded = _sweep_from(doc, path) if kind == "sweep" else _scenario_from(doc, path)
    except ValidationError as exc:
        raise ValidationError(without_repeats(problems, exc.problems)) from None
    if problems:
        raise ValidationError(problems)
    return loaded


# --------------------------------------------------------------------------------------------
# scenarios


def _scenario_from(doc: Document, path: Path | None) -> Loaded[Scenario]:
    """Validate a scenario document and cross-check it, reporting every problem found.

    When the schema fails, the failing parts are set aside and the rest is still cross-checked
    (unknown states, events outside the calendar, ...), so one pass shows all the problems.
    """
    try:
        scenario = Scenario.model_validate(doc.data)
    except pydantic.ValidationError as exc:
        problems = problems_from_pydantic(exc, doc, Scenario)
        problems += _salvaged_problems(doc, exc, path, problems)
        raise ValidationError(problems) from None
    loaded = Loaded(scenario, doc, path)
    problems = check_scenario(loaded)
    if problems:
        raise ValidationError(problems)
    return loaded


def _salvaged_problems(
    doc: Document, exc: pydantic.ValidationError, path: Path | None, found: list[Problem]
) -> list[Problem]:
    """Cross-reference problems in what remains once the schema's failures are removed."""
    data: Any = doc.data
    kept: dict[Location, list[int]] = {}
    for _ in range(3):  # removing one failure can expose another (e.g. a now-empty section)
        locs = [
            clean_loc(data, tuple(err["loc"]), last_is_key=err["type"] in KEY_ERRORS)
            for err in exc.errors(include_url=False)
        ]
        pruned = _prune(data, [loc for loc in locs if loc])
        if pruned is None:
            return []
        data, more_kept = pruned
        if kept and more_kept:
            return []  # nested re-indexing is not worth tracking; report the schema's problems
        kept = kept or more_kept
        try:
            scenario = Scenario.model_validate(data)
        except pydantic.ValidationError as again:
            exc = again
            continue
        pruned_doc = _PrunedDocument(data, doc, kept)
        try:
            extra = check_scenario(Loaded(scenario, pruned_doc, path))
        except Exception:  # a best-effort pass must never hide the real problems
            return []
        seen = {(p.line, p.column, p.message) for p in found}
        return [p for p in extra if (p.line, p.column, p.message) not in seen]
    return []


class _PrunedDocument(Document):
    """A document with some list items removed, whose problems point at the original file.

    ``kept`` maps a list's location to the original indices of the items still in it.
    """

    def __init__(self, data: Any, base: Document, kept: dict[Location, list[int]]) -> None:
        super().__init__(data, base.file, base.value_pos, base.key_pos)
        self.kept = kept
        self.base = base

    def original(self, loc: Location) -> Location:
        """The location in the original file of a location in the pruned data."""
        out: list[str | int] = []
        for part in loc:
            where = tuple(out)
            if isinstance(part, int) and where in self.kept and part < len(self.kept[where]):
                part = self.kept[where][part]
            out.append(part)
        return tuple(out)

    def problem(self, loc: Location, path: str, message: str, *, key: bool = False) -> Problem:
        """A problem positioned, and named, by its place in the original file."""
        original = self.original(tuple(loc))
        return self.base.problem(original, format_path(original), message, key=key)


def _prune(data: Any, locs: list[Location]) -> tuple[Any, dict[Location, list[int]]] | None:
    """Remove the parts of a document that failed the schema, so the rest can be cross-checked.

    A failing list item is removed whole; a failing mapping key is removed (its default
    applies). Returns None when a failure cannot be removed (a required key is missing).
    """
    data = copy.deepcopy(data)
    drop_items: dict[Location, set[int]] = {}
    for loc in locs:
        index = next((n for n, part in enumerate(loc) if isinstance(part, int)), None)
        if index is not None:
            drop_items.setdefault(tuple(loc[:index]), set()).add(int(loc[index]))
            continue
        parent = _child_at(data, loc[:-1])
        if not isinstance(parent, dict) or loc[-1] not in parent:
            return None
        del parent[loc[-1]]
    kept: dict[Location, list[int]] = {}
    for where, dropped in drop_items.items():
        items = _child_at(data, where)
        if not isinstance(items, list):
            return None
        kept[where] = [i for i in range(len(items)) if i not in dropped]
        items[:] = [items[i] for i in kept[where]]
    return data, kept


def _child_at(data: Any, loc: Location) -> Any:
    for part in loc:
        data = child(data, part)
    return data


# --------------------------------------------------------------------------------------------
# sweeps


def _sweep_from(doc: Document, path: Path | None) -> Loaded[Sweep]:
    """Validate a sweep document, load its base scenario and cross-check the two.

    The sweep's schema problems and its base scenario's problems (which point into the base
    file) are reported together; the cross-checks need both to be valid.
    """
    problems: list[Problem] = []
    sweep: Sweep | None = None
    try:
        sweep = validate_document(doc, Sweep)
    except ValidationError as exc:
        problems += exc.problems
    base_name = sweep.base if sweep is not None else child(doc.data, "base")
    base: Loaded[Scenario] | None = None
    if isinstance(base_name, str) and base_name:
        base_path = (path.parent if path is not None else Path.cwd()) / base_name
        try:
            base = load_scenario(base_path)
        except ValidationError as exc:
            if len(exc.problems) == 1:
                note = f"the base scenario is not valid: {exc.problems[0]}"
            else:  # each of them is listed, at its place in the base file
                note = f"the base scenario is not valid ({len(exc.problems)} problems)"
                problems += exc.problems
            problems.append(doc.problem(("base",), "base", note))
    if sweep is None or base is None:
        raise ValidationError(problems)
    loaded = Loaded(sweep, doc, path)
    problems = check_sweep(loaded, base)
    if problems:
        raise ValidationError(problems)
    return loaded


# --------------------------------------------------------------------------------------------
# the public entry points


def _load_file(path: Path | str, expected: Kind | None) -> Loaded[Any]:
    """Parse a file and load it; its YAML-level problems are reported with the other phases'."""
    doc, found = parse_file(path)
    return _from_document(doc, Path(path), expected, found)


def load(path: Path | str) -> Loaded[Any]:
    """Load, validate and cross-check a scenario or sweep file, telling them apart by content.

    Args:
        path: The YAML file.

    Returns:
        The validated file: its model is a :class:`~treatysim.scenario.schema.Scenario` or a
        :class:`~treatysim.scenario.sweep.Sweep`.

    Raises:
        ValidationError: With every problem found.
    """
    return _load_file(path, None)


def load_scenario(path: Path | str) -> Loaded[Scenario]:
    """Load, validate and cross-check a scenario file (a sweep file is an error).

    Raises:
        ValidationError: With every problem found.
    """
    return _load_file(path, "scenario")


def load_scenario_text(
    text: str, name: str = "<string>", base_dir: Path | None = None
) -> Loaded[Scenario]:
    """Load a scenario from YAML text (for tests and the Python API)."""
    path = (base_dir / name) if base_dir else None
    return _from_document(load_yaml_text(text, name), path, "scenario")


def load_sweep(path: Path | str) -> Loaded[Sweep]:
    """Load and fully validate a sweep file, with its base scenario.

    Raises:
        ValidationError: With every problem found.
    """
    return _load_file(path, "sweep")


def validate_file(path: Path | str) -> Kind:
    """Validate a scenario or sweep file (``treatysim validate``).

    Returns:
        The file's kind: ``scenario`` or ``sweep``.

    Raises:
        ValidationError: With every problem found.
    """
    loaded = load(path)
    return "sweep" if isinstance(loaded.model, Sweep) else "scenario"


def revalidate(
    loaded: Loaded[Scenario], assignments: Iterable[Assignment], *, origin: str | None = "--set"
) -> Loaded[Scenario]:
    """Apply overrides to a loaded scenario and validate the result as a file is validated.

    This is how ``--set`` overrides, the demo's controls and a sweep point's factor values reach
    a scenario. Problems in the schema or the cross-checks point into the scenario file.

    Each overridden input's provenance becomes ``override``, with the source ``"<origin>
    key.path=value"`` (the ``--set`` text as given): see :mod:`treatysim.scenario.retag`.

    Args:
        loaded: A valid scenario.
        assignments: ``key.path=value`` texts (the value is read as YAML) or ``(key.path,
            value)`` pairs, applied in order.
        origin: Who set the values, for their provenance (``--set``, ``overrides`` for the API);
            None keeps the file's tags (a caller that tags the values itself, e.g. a posterior).

    Returns:
        The scenario with the overrides applied (``loaded`` itself when there are none).

    Raises:
        ValidationError: A malformed assignment or unknown key path (reported as
            ``--set:N:1``, N counting from 1), or a value the schema or checks reject.
    """
    items = list(assignments)
    if not items:
        return loaded
    data = loaded.document.data
    problems: list[Problem] = []
    for n, item in enumerate(items, start=1):
        key = item.partition("=")[0] if isinstance(item, str) else item[0]
        try:
            path, value = parse_assignment(item) if isinstance(item, str) else item
            data = set_path(data, path, value)
            if origin is not None:
                text = item.strip() if isinstance(item, str) else f"{path}={value}"
                entry = {"kind": "override", "source": f"{origin} {text}"}
                data = retag_document(data, path, entry)
        except KeyPathError as exc:
            problems.append(Problem("--set", n, 1, key, str(exc)))
    if problems:
        raise ValidationError(problems)
    doc = loaded.document
    # dataclasses.replace keeps the document's class: a merged one places problems in its files
    return checked_scenario(dataclasses.replace(doc, data=data), loaded.path)
