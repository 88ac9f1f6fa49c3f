"""Per-replication parameters: an ensemble of overrides, one set per replication.

A posterior ensemble (``--posterior CALDIR``) gives each replication of a run its own parameter
set, drawn from a calibration's weighted particles. The run layer only needs the draws: which
overrides replication ``r`` runs with, and what to record in the manifest. The calibration
layer makes them (:func:`treatysim.calibration.ensemble.posterior_ensemble`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pydantic

from treatysim.model.world import World, build_world
from treatysim.scenario.errors import Problem, ValidationError
from treatysim.scenario.keypath import set_path
from treatysim.scenario.load import Loaded, revalidate
from treatysim.scenario.schema import Scenario


@dataclass(frozen=True)
class Ensemble:
    """Parameter overrides per replication.

    Attributes:
        overrides: One ``{key path: value}`` per replication, in order.
        keys: Per replication, the id of its parameter set (replications with the same key
            share a world, e.g. the drawn particle's index).
        record: What the manifest stores under ``posterior`` (source folder, hash, seed, …).
        source: Where the draws come from, for problems (e.g. the calibration folder).
    """

    overrides: tuple[Mapping[str, float], ...]
    keys: tuple[int, ...]
    record: Mapping[str, Any] = field(default_factory=dict)
    source: str = "--posterior"


#: Makes an ensemble of ``n`` replications for the root seed ``root``.
EnsembleMaker = Callable[[int, int], Ensemble]


def ensemble_worlds(loaded: Loaded[Any], ensemble: Ensemble) -> list[World]:
    """One world per replication: the scenario with its replication's overrides applied.

    Replications that share a key share one world object (built once). The first parameter
    set is validated as ``--set`` is (schema and cross-checks: unknown key paths, values out of
    range); the others, which set the same key paths to other numbers, through the schema only
    (a few milliseconds instead of the cross-checks' tens).

    Raises:
        ValidationError: A parameter set that the scenario rejects (an unknown key path or a
            value out of range), one line per problem, naming the ensemble's source.
    """
    cache: dict[int, World] = {}
    worlds: list[World] = []
    dumped: dict[str, Any] | None = None
    for key, overrides in zip(ensemble.keys, ensemble.overrides, strict=True):
        if key not in cache:
            try:
                if dumped is None:
                    scenario = revalidate(loaded, list(overrides.items()), origin=None).model
                    dumped = loaded.model.model_dump()
                else:
                    scenario = _schema_only(dumped, overrides)
            except ValidationError as exc:
                raise ValidationError(
                    [
                        Problem(ensemble.source, 0, 0, p.path, f"parameter set {key}: {p.message}")
                        for p in exc.problems
                    ]
                ) from None
            cache[key] = build_world(scenario, loaded.base_dir)
        worlds.append(cache[key])
    return worlds


def _schema_only(dumped: dict[str, Any], overrides: Mapping[str, float]) -> Scenario:
    """The scenario with numbers set at known key paths, validated by the schema alone."""
    data = dumped
    for path, value in overrides.items():
        data = set_path(data, path, value)
    try:
        return Scenario.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(
            [
                Problem("", 0, 0, ".".join(map(str, e["loc"])), e["msg"])
                for e in exc.errors(include_url=False)
            ]
        ) from None


def check_length(ensemble: Ensemble, n: int) -> None:
    """Refuse an ensemble whose length is not the number of replications."""
    if len(ensemble.overrides) != n or len(ensemble.keys) != n:
        raise ValueError(f"an ensemble of {len(ensemble.overrides)} draws for {n} replications")


def describe(ensemble: Ensemble | None) -> str:
    """Which uncertainty a run's intervals cover, in one sentence."""
    if ensemble is None:
        return "seed (stochastic) uncertainty only: every replication runs the same parameters"
    source = ensemble.record.get("folder", ensemble.source)
    return (
        "parameter and seed uncertainty together: each replication runs its own parameter set "
        f"drawn from the posterior in {source}"
    )


def unique(values: Sequence[int]) -> int:
    """How many distinct parameter sets an ensemble runs."""
    return len(set(values))
