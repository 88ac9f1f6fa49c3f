"""The treaty model as a block simulator: a block of ABC particles on the batched engine.

:class:`TreatySimulator` turns each particle (``{scenario key path: value}``) into the base
scenario with those values (validated as ``--set`` overrides are), resolves it into a
:class:`~treatysim.model.world.World`, and runs the whole block on the batched engine
(:func:`treatysim.model.batched.run_batch`), one world per replication along the batch axis.
Particles whose worlds differ in shape (a key path that changes the states, the calendar, the
threat sources, ...) cannot share a batch: they are grouped by
:func:`~treatysim.model.batched.shape_key` and each group runs as its own batch.

Each run's stage changes become the day of each state's first stage and first move, from which
:func:`treatysim.calibration.targets.statistics` computes the targets' statistics, exactly as
:func:`~treatysim.calibration.targets.simulated_statistics` does from an events table.

Speed. Compiling a world's events into per-step arrays (its timeline) costs about twice a
replication of the batched engine, and the timeline depends on only a few numbers
(:func:`timeline_key`). Particles with the same key share one compiled timeline. A particle
whose threat sensitivity differs shares the others' compiled timeline with its own sensitivity
track, which is exact when no event changes sensitivity (a constant track); otherwise its
timeline is compiled afresh. A particle whose credibility of allied guarantees differs (the size
of a credibility drop, the reassurance weight: :func:`credibility_key`) gets the shared timeline
with its own credibility and discounted threat
(:func:`~treatysim.model.credibility.with_credibility`), also exact.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from treatysim.analysis.scores import MOVED_STAGES
from treatysim.analysis.stats import EPOCH
from treatysim.calibration.targets import statistics
from treatysim.model.batched import Replication, run_batch, shape_key
from treatysim.model.credibility import CREDIBILITY_FIELDS, with_credibility
from treatysim.model.timeline import Timeline, Track
from treatysim.model.world import World, build_world
from treatysim.scenario.calibration import Target
from treatysim.scenario.keypath import KeyPathError, parse, set_path
from treatysim.scenario.load import Loaded, revalidate
from treatysim.scenario.schema import STAGES, Observed, Scenario

Params = Mapping[str, float]
#: Proleptic ordinal of the day-number epoch (1970-01-01).
_EPOCH_ORDINAL = EPOCH.toordinal()
#: Event types whose compilation changes threat sensitivity over time.
_SENSITIVITY_EVENTS = frozenset({"government_change"})
#: Compiled timelines kept at most (a block's distinct keys; cleared when full).
_CACHE_SIZE = 256


def timeline_key(world: World) -> bytes:
    """What a world's compiled timeline depends on, other than credibility and sensitivity.

    The events, the calendar, the threat sources, armed conflicts and treaty membership (see
    ``treatysim.model.timeline``); plus the sensitivity itself when an event changes it. The
    numbers that set only the credibility of allied guarantees (:func:`credibility_key`) are
    left out: :func:`~treatysim.model.credibility.with_credibility` applies them to a shared
    timeline.
    """
    src = world.sources
    parts: list[bytes] = [
        repr([_without_credibility(e) for e in world.scenario.events]).encode(),
        repr(world.calendar.dates).encode(),
        repr((src.ids, src.allies)).encode(),
        *(a.tobytes() for a in (src.capability, src.tied_down_share, src.offensive)),
        *(a.tobytes() for a in (src.proximity, src.intent, world.in_conflict, world.party)),
        repr(world.party.shape).encode(),
    ]
    if any(e.type in _SENSITIVITY_EVENTS for e in world.scenario.events):
        parts.append(world.sensitivity.tobytes())
    return hashlib.blake2b(b"\0".join(parts), digest_size=16).digest()


def credibility_key(world: World) -> tuple[Any, ...]:
    """The numbers that set only the credibility of allied guarantees and its discount."""
    params = world.scenario.parameters.threat
    fields = [
        tuple(getattr(e, name) for name in CREDIBILITY_FIELDS.get(e.type, ()))
        for e in world.scenario.events
    ]
    return (params.initial_credibility, params.reassurance_weight, tuple(fields))


def _without_credibility(event: Any) -> dict[str, Any]:
    dump: dict[str, Any] = event.model_dump(mode="json")
    for name in CREDIBILITY_FIELDS.get(event.type, ()):
        dump.pop(name, None)
    return dump


def _constant_track(value: np.ndarray, steps: int) -> Track:
    return Track.frozen(np.array(value, dtype=float, copy=True)[None], np.zeros(steps, np.intp))


class TreatySimulator:
    """A block simulator of a base scenario whose key paths take each particle's values.

    Callable as ``simulate(params, seeds)`` (the
    :class:`~treatysim.calibration.simulator.BlockSimulator` protocol): run ``i`` is
    ``TreatyModel(world_i, rng=seeds[i])`` on the batched engine, where ``world_i`` is the base
    scenario with ``params[i]`` applied.

    Args:
        base: The base scenario, loaded and valid.
        targets: The calibration's targets.
        treaty: The treaty the targets refer to (a treaty of the base scenario).
    """

    def __init__(self, base: Loaded[Scenario], targets: Sequence[Target], treaty: str) -> None:
        self.base = base
        self.targets = list(targets)
        self.base_world = build_world(base.model, base.base_dir)
        if treaty not in self.base_world.treaties:
            raise ValueError(f"treaty '{treaty}' is not in the base scenario")
        self.treaty = self.base_world.treaties.index(treaty)
        self._timelines: dict[bytes, tuple[Timeline, tuple[Any, ...]]] = {}
        self.simulations = 0
        self.batches = 0

    # ----------------------------------------------------------------------------------------
    # worlds

    def scenario(self, params: Params) -> Loaded[Scenario]:
        """The base scenario with a particle's values, fully validated (as ``--set`` is)."""
        return revalidate(self.base, [(k, _plain(v)) for k, v in params.items()])

    def particle_scenario(self, params: Params) -> Scenario:
        """The base scenario with a particle's values, through the schema only.

        The cross-checks (:mod:`treatysim.scenario.checks`) relate names (states, groups,
        treaties, event dates), which priors over numbers do not change; the loader of
        calibration files runs them on each prior's extreme values once
        (:mod:`treatysim.scenario.calibration_load`). The scenario's observed history, which
        never drives the model, is left out.

        Raises:
            pydantic.ValidationError: A value outside the schema's range.
        """
        data = self.base.document.data
        for key, value in params.items():
            data = assign(data, key, _plain(value))
        scenario = Scenario.model_validate(data)
        return scenario.model_copy(update={"observed": Observed()})

    def world(self, params: Params) -> World:
        """A particle's world, sharing a compiled timeline with its look-alikes."""
        scenario = self.particle_scenario(params)
        world = build_world(scenario, self.base.base_dir)
        key = timeline_key(world)
        cached = self._timelines.get(key)
        if cached is None:
            if len(self._timelines) >= _CACHE_SIZE:
                self._timelines.clear()
            timeline = world.timeline
            self._timelines[key] = (timeline, credibility_key(world))
        else:
            timeline, credibility = cached
            if credibility_key(world) != credibility:
                timeline = with_credibility(timeline, world)
            if not np.array_equal(timeline.sensitivity.rows[0], world.sensitivity):
                # constant track (an event that changes sensitivity is part of the key)
                own = _constant_track(world.sensitivity, len(timeline.sensitivity.index))
                timeline = dataclasses.replace(timeline, sensitivity=own)
        vars(world)["timeline"] = timeline  # World.timeline is a cached_property
        return world

    # ----------------------------------------------------------------------------------------
    # runs

    def run(self, params: Sequence[Params], seeds: Sequence[int]) -> list[Replication]:
        """Run each particle once; replications in the order of ``params``."""
        if len(params) != len(seeds):
            raise ValueError(f"{len(params)} parameter sets for {len(seeds)} seeds")
        worlds = [self.world(p) for p in params]
        groups: dict[tuple[Any, ...], list[int]] = {}
        for i, w in enumerate(worlds):
            groups.setdefault(shape_key(w), []).append(i)
        out: list[Replication | None] = [None] * len(worlds)
        with threadpool_limits(limits=1, user_api="blas"):
            for members in groups.values():
                reps = run_batch([worlds[i] for i in members], [int(seeds[i]) for i in members])
                self.batches += 1
                for i, rep in zip(members, reps, strict=True):
                    out[i] = rep
        self.simulations += len(worlds)
        return [r for r in out if r is not None]

    def days(self, rep: Replication) -> tuple[dict[tuple[str, str], float], dict[str, float]]:
        """A run's first day of each ``(iso3, stage)`` and of each state's first move."""
        ev = rep.events
        mine = ev["treaty"] == self.treaty
        ids = self.base_world.ids
        stage_day: dict[tuple[str, str], float] = {}
        move_day: dict[str, float] = {}
        rows = zip(ev["state"][mine], ev["stage"][mine], ev["date"][mine], strict=True)
        for i, code, date in rows:
            state, stage = ids[int(i)], STAGES[int(code)]
            day = float(int(date) - _EPOCH_ORDINAL)
            key = (state, stage)
            if key not in stage_day or day < stage_day[key]:
                stage_day[key] = day
            if stage in MOVED_STAGES and (state not in move_day or day < move_day[state]):
                move_day[state] = day
        return stage_day, move_day

    def __call__(self, params: Sequence[Params], seeds: Sequence[int]) -> list[dict[str, float]]:
        """The targets' statistics of each particle, one run each."""
        return [statistics(self.targets, *self.days(r)) for r in self.run(params, seeds)]


def assign(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``data`` with the value at ``path`` replaced, copying only the containers on the path.

    The result shares every other part with ``data`` (which is left unchanged); it equals
    :func:`treatysim.scenario.keypath.set_path` without that function's deep copy of the whole
    document, which would cost more than the simulation. A path the base scenario lacks falls
    back to ``set_path`` (and its errors).
    """
    parts = parse(path)

    def down(node: Any, i: int) -> Any:
        part = parts[i]
        if isinstance(node, dict) and isinstance(part, str):
            out = dict(node)  # a missing key is created, as set_path does
            out[part] = value if i == len(parts) - 1 else down(node.get(part, {}), i + 1)
            return out
        if isinstance(node, list) and i < len(parts) - 1:
            for n, item in enumerate(node):
                hit = (
                    part == n
                    if isinstance(part, int)
                    else (isinstance(item, dict) and item.get("id") == part)
                )
                if hit:
                    copied = list(node)
                    copied[n] = down(item, i + 1)
                    return copied
        raise KeyPathError(path)

    try:
        return dict(down(data, 0))
    except KeyPathError:
        return set_path(data, path, value)


def _plain(value: Any) -> Any:
    """A numpy number as a Python number (YAML-safe scenario data)."""
    return value.item() if isinstance(value, np.generic) else value
