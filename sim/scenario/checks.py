"""Cross-reference checks on a scenario that already passed the schema.

The schema checks each value on its own; these checks relate values to each other and to the
dataset: unknown ISO3 codes and groups, events that name unknown states, treaties or sources,
dates outside the calendar, duplicate states and unknown decision rules.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from treatysim.scenario.dataset import (
    Dataset,
    DatasetError,
    dataset_path,
    load_observed,
    read_edge_list,
    scenario_dataset,
)
from treatysim.scenario.errors import Problem, ValidationError, format_path
from treatysim.scenario.explain import did_you_mean, validate_document
from treatysim.scenario.keypath import KeyPathError, get_path
from treatysim.scenario.parameters import RULE_NAMES
from treatysim.scenario.provenance import load_dataset_provenance
from treatysim.scenario.schema import Scenario
from treatysim.scenario.yamlio import Document, Loaded

if TYPE_CHECKING:
    from treatysim.scenario.population import SyntheticPopulation
    from treatysim.scenario.yamlio import Location

#: Groups every scenario has; they come from the dataset's columns.
BUILTIN_GROUPS = ("all", "nato", "eu")


def builtin_group(name: str, dataset: Dataset) -> list[str]:
    """Members of a built-in group in the dataset."""
    if name == "all":
        return list(dataset.states)
    if name == "nato":
        return [s.iso3 for s in dataset.states.values() if s.nato]
    if name == "eu":
        return [s.iso3 for s in dataset.states.values() if s.eu]
    raise KeyError(name)


def expand(
    names: Iterable[str], scenario: Scenario, dataset: Dataset, _seen: frozenset[str] = frozenset()
) -> list[str]:
    """Expand ISO3 codes and group names into ISO3 codes, in order, without duplicates.

    Args:
        names: ISO3 codes and group names.
        scenario: Supplies the named groups.
        dataset: Supplies the states and built-in groups.
        _seen: Groups being expanded (guards against cycles).

    Raises:
        KeyError: A name is neither a state nor a group.
    """
    out: list[str] = []
    seen: set[str] = set()  # (a list's `in` made 20,000 agents take minutes)
    for name in names:
        if name in dataset.states:
            members = [name]
        elif name in scenario.groups and name not in _seen:
            members = expand(scenario.groups[name].members, scenario, dataset, _seen | {name})
        elif name in BUILTIN_GROUPS:
            members = builtin_group(name, dataset)
        else:
            raise KeyError(name)
        for m in members:
            if m not in seen:
                seen.add(m)
                out.append(m)
    return out


class _Checker:
    def __init__(self, loaded: Loaded[Any]) -> None:
        self.loaded = loaded
        self.scenario: Scenario = loaded.model
        self.doc = loaded.document
        self.problems: list[Problem] = []
        self.dataset: Dataset | None = None
        #: States in the scenario; None when include/exclude name something unknown.
        self.included: set[str] | None = set()

    def add(self, loc: Location, message: str, *, key: bool = False) -> None:
        self.problems.append(self.doc.problem(loc, format_path(loc), message, key=key))

    # -- references ------------------------------------------------------------------------

    def name_ok(self, name: str, loc: Location, *, groups: bool = True, key: bool = False) -> bool:
        assert self.dataset is not None
        known_states = set(self.dataset.states)
        if name in known_states:
            return True
        if groups and (name in self.scenario.groups or name in BUILTIN_GROUPS):
            return True
        options = sorted(known_states | (set(self.scenario.groups) | set(BUILTIN_GROUPS)))
        what = "state or group" if groups else "state"
        self.add(loc, f"unknown {what} '{name}'" + did_you_mean(name, options), key=key)
        return False

    def state_in_scenario(self, name: str, loc: Location, *, key: bool = False) -> bool:
        if not self.name_ok(name, loc, groups=False, key=key):
            return False
        if self.included is not None and name not in self.included:
            self.add(loc, f"state '{name}' is not in the scenario (see states.include/exclude)")
            return False
        return True

    def treaty_ok(self, name: str, loc: Location, *, key: bool = False) -> bool:
        if name in self.scenario.treaties:
            return True
        options = list(self.scenario.treaties)
        self.add(loc, f"unknown treaty '{name}'" + did_you_mean(name, options), key=key)
        return False

    def date_ok(self, date: dt.date, loc: Location) -> None:
        cal = self.scenario.calendar
        if not cal.start <= date <= cal.end:
            self.add(loc, f"date {date} is outside the calendar ({cal.start} to {cal.end})")

    def names(self, names: list[str], loc: Location) -> None:
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name in seen:
                self.add((*loc, i), f"duplicate entry '{name}'")
            seen.add(name)
            self.name_ok(name, (*loc, i))

    # -- sections ---------------------------------------------------------------------------

    def run(self) -> list[Problem]:
        sc = self.scenario
        try:
            self.dataset = scenario_dataset(sc, self.loaded.base_dir)
        except DatasetError as exc:
            for line in str(exc).splitlines():  # one problem per malformed value
                self.add(("states", "dataset"), line)
            return self.problems
        self.groups()
        self.states()
        self.treaties()
        self.sources()
        self.network()
        self.parameters()
        self.events()
        self.observed()
        self.run_settings()
        self.provenance()
        self.dataset_provenance()
        return self.problems

    def groups(self) -> None:
        for name, group in self.scenario.groups.items():
            if name in BUILTIN_GROUPS:
                self.add(("groups", name), f"'{name}' is a built-in group", key=True)
            self.names(group.members, ("groups", name, "members"))
            if name in group.members:
                self.add(("groups", name, "members"), f"group '{name}' contains itself")
            elif cycle := self._cycle(name):
                through = " -> ".join([*cycle, name])
                self.add(("groups", name, "members"), f"group '{name}' contains itself ({through})")
            elif group.leader is not None and self.name_ok(
                group.leader, ("groups", name, "leader"), groups=False
            ):
                assert self.dataset is not None
                if group.leader not in expand(group.members, self.scenario, self.dataset):
                    self.add(
                        ("groups", name, "leader"),
                        f"the leader '{group.leader}' is not a member of group '{name}'",
                    )

    def _cycle(self, start: str) -> list[str] | None:
        """The chain of groups through which ``start`` contains itself, if it does."""
        groups = self.scenario.groups
        stack, seen = [[start]], {start}
        while stack:
            chain = stack.pop()
            for member in groups[chain[-1]].members:
                if member == start:
                    return chain
                if member in groups and member not in seen:
                    seen.add(member)
                    stack.append([*chain, member])
        return None

    def states(self) -> None:
        assert self.dataset is not None
        sc = self.scenario
        self.names(sc.states.include, ("states", "include"))
        self.names(sc.states.exclude, ("states", "exclude"))
        try:
            include = expand(sc.states.include, sc, self.dataset)
            exclude = set(expand(sc.states.exclude, sc, self.dataset))
        except KeyError:  # an unknown name or a group cycle, already reported
            self.included = None  # so membership is not checked (nor wrongly reported)
        else:
            self.included = {s for s in include if s not in exclude}
            if not self.included:
                self.add(("states", "include"), "no states are left after include and exclude")
        for iso3, override in sc.states.overrides.items():
            loc: Location = ("states", "overrides", iso3)
            self.state_in_scenario(iso3, loc, key=True)
            for treaty in override.commitment:
                self.treaty_ok(treaty, (*loc, "commitment", treaty), key=True)

    def treaties(self) -> None:
        assert self.dataset is not None
        for tid, treaty in self.scenario.treaties.items():
            loc: Location = ("treaties", tid, "parties")
            column = treaty.parties.column
            if column is not None and column not in self.dataset.columns:
                self.add(
                    (*loc, "column"),
                    f"the dataset has no column '{column}'"
                    + did_you_mean(column, self.dataset.columns),
                )
            self.names(treaty.parties.include, (*loc, "include"))
            self.names(treaty.parties.exclude, (*loc, "exclude"))

    def sources(self) -> None:
        for sid, source in self.scenario.threat_sources.items():
            loc: Location = ("threat_sources", sid)
            self.name_ok(sid, loc, groups=False, key=True)
            for i, ally in enumerate(source.allies):
                self.name_ok(ally, (*loc, "allies", i), groups=False)
            for name in source.stance:
                self.name_ok(name, (*loc, "stance", name), key=True)

    def network(self) -> None:
        for name in self.scenario.network.ties.groups:
            if name not in self.scenario.groups:
                self.add(
                    ("network", "ties", "groups", name),
                    f"unknown group '{name}'" + did_you_mean(name, self.scenario.groups),
                    key=True,
                )

    def parameters(self) -> None:
        rule = self.scenario.parameters.rule
        if rule not in RULE_NAMES:
            self.add(
                ("parameters", "rule"),
                f"unknown decision rule '{rule}'"
                + did_you_mean(rule, RULE_NAMES)
                + f" (registered: {', '.join(sorted(RULE_NAMES))})",
            )
        self.population()

    def population(self) -> None:
        population = self.scenario.states.synthetic
        if population is None:
            return
        loc: Location = ("states", "synthetic")
        rule = self.scenario.parameters.rule
        wanted = {"fraction": "fractional_threshold", "agents": "count_threshold"}
        counted_in = population.thresholds.counted_in
        if rule != wanted[counted_in]:
            self.add(
                (*loc, "thresholds", "counted_in"),
                f"thresholds counted in {counted_in} need parameters.rule: {wanted[counted_in]} "
                f"(the scenario uses {rule})",
            )
        self.synthetic_network(population)
        if "dataset" in (self.doc.data.get("states") or {}):
            self.add(
                ("states", "dataset"), "give either a dataset or a synthetic population, not both"
            )

    def synthetic_network(self, population: SyntheticPopulation) -> None:
        """Refuse networks that cannot be built: run would fail where validate said ok."""
        network = population.network
        loc: Location = ("states", "synthetic", "network")
        n = population.size
        if network.type == "lattice" and math.isqrt(n) ** 2 != n:
            self.add(
                ("states", "synthetic", "size"),
                f"a lattice needs a square number of agents (got {n})",
            )
        for kind, name in (("watts_strogatz", "neighbours"), ("barabasi_albert", "attachments")):
            value = getattr(network, name)
            if network.type == kind and value is not None and value >= n:
                self.add((*loc, name), f"must be below the population size {n} (got {value})")
        if network.file is not None:
            base = self.loaded.base_dir or Path.cwd()
            path = Path(network.file)
            path = path if path.is_absolute() else base / path
            if not path.is_file():
                self.add((*loc, "file"), f"no such file: {network.file}")
                return
            try:
                read_edge_list(path, population.ids())
            except DatasetError as exc:
                self.add((*loc, "file"), str(exc))

    def events(self) -> None:
        sc = self.scenario
        for i, event in enumerate(sc.events):
            loc: Location = ("events", i)
            self.date_ok(event.date, (*loc, "date"))
            source = getattr(event, "source", None)
            if source is not None and source not in sc.threat_sources:
                self.add(
                    (*loc, "source"),
                    f"unknown threat source '{source}'" + did_you_mean(source, sc.threat_sources),
                )
            state = getattr(event, "state", None)
            if state is not None:
                self.state_in_scenario(state, (*loc, "state"))
            treaty = getattr(event, "treaty", None)
            if treaty is not None:
                self.treaty_ok(treaty, (*loc, "treaty"))
            for field in ("targets", "ends_conflict_for", "guarantee_targets"):
                names = getattr(event, field, None)
                if names is not None:
                    self.names(names, (*loc, field))
        ids = [e.id for e in sc.events if e.id is not None]
        for i, event in enumerate(sc.events):
            if event.id is not None and ids.count(event.id) > 1:
                self.add(("events", i, "id"), f"duplicate event id '{event.id}'")

    def observed(self) -> None:
        obs = self.scenario.observed
        if obs.dataset is not None:
            try:
                load_observed(obs.dataset, self.loaded.base_dir)
            except DatasetError as exc:
                self.add(("observed", "dataset"), f"cannot read observed stages: {exc}")
        for i, record in enumerate(obs.records):
            self.name_ok(record.iso3, ("observed", "records", i, "iso3"), groups=False)
            self.treaty_ok(record.treaty, ("observed", "records", i, "treaty"))

    def run_settings(self) -> None:
        run = self.scenario.run
        if run.primary_treaty is not None:
            self.treaty_ok(run.primary_treaty, ("run", "primary_treaty"))
        for i, date in enumerate(run.report_dates):
            self.date_ok(date, ("run", "report_dates", i))

    def provenance(self) -> None:
        """Each tagged key path names a number (or true/false) of the scenario as it runs."""
        if not self.scenario.provenance:
            return
        resolved = self.scenario.model_dump(mode="json")
        for key in self.scenario.provenance:
            loc: Location = ("provenance", key)
            try:
                value = get_path(resolved, key)
            except KeyPathError as exc:
                original = getattr(self.doc, "base", self.doc)  # before failures were pruned
                try:  # in the file, but dropped for a problem reported elsewhere
                    get_path(original.data, key)
                except KeyPathError:
                    self.add(loc, f"not an input of this scenario: {exc}", key=True)
                continue
            if value is None:  # an optional value this scenario leaves unset: nothing to tag
                continue
            if isinstance(value, dict) or (
                isinstance(value, list) and any(isinstance(v, dict | list) for v in value)
            ):
                self.add(loc, f"'{key}' is not a number of this scenario", key=True)

    def dataset_provenance(self) -> None:
        """The dataset's provenance side file, if it has one, is valid."""
        if self.scenario.states.synthetic is not None or self.dataset is None:
            return
        try:
            path = dataset_path(self.scenario.states.dataset, self.loaded.base_dir)
            load_dataset_provenance(path, self.dataset.columns)
        except ValidationError as exc:
            self.problems.extend(exc.problems)
        except DatasetError:
            pass  # reported with the dataset


def check_scenario(loaded: Loaded[Any]) -> list[Problem]:
    """Every cross-reference problem in a schema-valid scenario."""
    return _Checker(loaded).run()


def checked_scenario(doc: Document, path: Path | None) -> Loaded[Scenario]:
    """Validate a scenario document against the schema, then cross-check it.

    Args:
        doc: The document (positions point into the file it came from).
        path: The scenario file, against whose folder relative paths resolve.

    Raises:
        ValidationError: The schema's problems, else every cross-reference problem.
    """
    loaded = Loaded(validate_document(doc, Scenario), doc, path)
    problems = check_scenario(loaded)
    if problems:
        raise ValidationError(problems)
    return loaded
