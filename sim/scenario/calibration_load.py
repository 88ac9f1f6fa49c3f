"""Load calibration files: safe YAML, the schema, the base scenario and the cross-checks.

A calibration file (:mod:`treatysim.scenario.calibration`) passes the steps scenario and sweep
files pass (:mod:`treatysim.scenario.load`), and every problem is reported as
``FILE:LINE:COL: key.path: message``. The cross-checks relate the file to its base scenario:

- each prior's key path exists in the base scenario, and the prior's extreme values (both bounds
  of a bounded prior; the 0.1% and 99.9% quantiles of an unbounded one) make a valid scenario,
  so a particle is never refused in the middle of a calibration;
- the treaty is one of the base scenario's, the target states are states of its run;
- every target's window lies within the base scenario's calendar (a window before the start
  would count no movers in every simulation, whatever the parameters);
- the observed table can be read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scipy import stats

from treatysim.scenario.bundled import bundled_or_path
from treatysim.scenario.calibration import (
    Calibration,
    LogUniform,
    Normal,
    Prior,
    TruncatedNormal,
    Uniform,
)
from treatysim.scenario.checks import checked_scenario, expand
from treatysim.scenario.dataset import DatasetError, load_observed, scenario_dataset
from treatysim.scenario.errors import Problem, ValidationError
from treatysim.scenario.explain import child, validate_document
from treatysim.scenario.keypath import KeyPathError, set_path
from treatysim.scenario.load import load_scenario
from treatysim.scenario.schema import Scenario
from treatysim.scenario.tolerant import parse_file
from treatysim.scenario.yamlio import Document, Loaded, Location

#: Tail quantiles of an unbounded prior tried against the base scenario.
TAIL = 0.001


def is_calibration_document(data: Any) -> bool:
    """Whether parsed file data is a calibration file: it has priors and targets."""
    return isinstance(data, dict) and "priors" in data and "targets" in data


def is_calibration_file(path: Path | str) -> bool:
    """Whether a file parses into a calibration document (False when it does not parse)."""
    try:
        doc, _ = parse_file(path)
    except ValidationError:
        return False
    return is_calibration_document(doc.data)


@dataclass(frozen=True)
class LoadedCalibration:
    """A valid calibration file and its valid base scenario.

    Attributes:
        file: The calibration file (model, document, path).
        base: The base scenario.
    """

    file: Loaded[Calibration]
    base: Loaded[Scenario]

    @property
    def model(self) -> Calibration:
        """The calibration."""
        return self.file.model


def base_path(name: str, calibration_path: Path | None) -> Path:
    """The base scenario's file: relative to the calibration file, else a bundled name."""
    folder = calibration_path.parent if calibration_path is not None else Path.cwd()
    local = folder / name
    return local if local.exists() else bundled_or_path(name)


def extreme_values(prior: Prior) -> list[float]:
    """The values of a prior tried against the base scenario (its bounds or tail quantiles)."""
    if isinstance(prior, Uniform | LogUniform):
        return [prior.low, prior.high]
    if isinstance(prior, Normal):
        dist = stats.norm(prior.mean, prior.sd)
        return [float(dist.ppf(TAIL)), float(dist.ppf(1 - TAIL))]
    if isinstance(prior, TruncatedNormal):
        dist = stats.norm(prior.mean, prior.sd)
        low = prior.low if prior.low is not None else float(dist.ppf(TAIL))
        high = prior.high if prior.high is not None else float(dist.ppf(1 - TAIL))
        return [low, high]
    raise TypeError(f"not a prior: {prior!r}")


def _prior_problem(path: str, prior: Prior, base: Loaded[Scenario]) -> str | None:
    doc = base.document
    for value in extreme_values(prior):
        try:
            data = set_path(doc.data, path, value)
        except KeyPathError as exc:
            return f"unknown key path: {exc}"
        try:
            checked_scenario(Document(data, doc.file, doc.value_pos, doc.key_pos), base.path)
        except ValidationError as exc:
            first = exc.problems[0]
            return (
                f"'{path}' does not fit the base scenario at {value:g}: "
                f"{first.path}: {first.message}"
            )
    return None


def check_calibration(file: Loaded[Calibration], base: Loaded[Scenario]) -> list[Problem]:
    """Every cross-check problem of a schema-valid calibration file with a valid base scenario."""
    cal, doc = file.model, file.document
    scenario = base.model
    problems: list[Problem] = []

    def add(loc: Location, path: str, message: str, *, key: bool = False) -> None:
        problems.append(doc.problem(loc, path, message, key=key))

    for path, prior in cal.priors.items():
        message = _prior_problem(path, prior, base)
        if message:
            add(("priors", path), f"priors.{path}", message, key=True)
    if cal.treaty not in scenario.treaties:
        known = ", ".join(scenario.treaties)
        add(("treaty",), "treaty", f"treaty '{cal.treaty}' is not in the base scenario ({known})")
    try:
        dataset = scenario_dataset(scenario, base.base_dir)
        include = expand(scenario.states.include, scenario, dataset)
        exclude = set(expand(scenario.states.exclude, scenario, dataset))
        states = {s for s in include if s not in exclude}
    except (DatasetError, KeyError, ValueError):
        states = None  # the base scenario's own checks report its dataset
    start, end = scenario.calendar.start, scenario.calendar.end
    for i, target in enumerate(cal.targets):
        window = target.window
        if window.start < start or window.end > end:
            add(
                ("targets", i, "window"),
                f"targets[{i}].window",
                f"window {window.start} to {window.end} is not within the base scenario's "
                f"calendar ({start} to {end}); use a base scenario that covers it",
            )
        named = [target.state] if hasattr(target, "state") else getattr(target, "states", None)
        for state in named or []:
            if states is not None and state not in states:
                where: Location = (
                    ("targets", i, "state")
                    if hasattr(target, "state")
                    else ("targets", i, "states", list(named or []).index(state))
                )
                add(where, f"targets[{i}]", f"state '{state}' is not in the base scenario's run")
    try:
        load_observed(cal.observed, file.base_dir)
    except DatasetError as exc:
        add(("observed",), "observed", str(exc))
    return problems


def load_calibration(path: Path | str) -> LoadedCalibration:
    """Load, validate and cross-check a calibration file and its base scenario.

    Raises:
        ValidationError: With every problem found (the base scenario's point into its file).
    """
    path = Path(path)
    doc, problems = parse_file(path)
    cal: Calibration | None = None
    try:
        cal = validate_document(doc, Calibration)
    except ValidationError as exc:
        problems += exc.problems
    name = cal.base if cal is not None else child(doc.data, "base")
    base: Loaded[Scenario] | None = None
    if isinstance(name, str) and name:
        try:
            base = load_scenario(base_path(name, path))
        except ValidationError as exc:
            if len(exc.problems) == 1:
                note = f"the base scenario is not valid: {exc.problems[0]}"
            else:
                note = f"the base scenario is not valid ({len(exc.problems)} problems)"
                problems += exc.problems
            problems.append(doc.problem(("base",), "base", note))
    if cal is not None and base is not None:
        file = Loaded(cal, doc, path)
        problems += check_calibration(file, base)
        if not problems:
            return LoadedCalibration(file, base)
    raise ValidationError(problems)
