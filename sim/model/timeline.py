"""Scenario events compiled once per world into per-step arrays: the timeline.

Every scenario event except a forced stage is exogenous: what it does depends on the scenario
alone, never on a replication's random draws. So a world compiles its events once (see
:attr:`treatysim.model.world.World.timeline`) into per-step values of each source's available
power, the credibility of allied guarantees, the source threat each state perceives after that
discount, norm-campaign boosts, armed conflicts and government changes. A model's step then reads
arrays, and one timeline serves every replication of a world (and every replication of a batch).

Forced stages change a replication's own state, so the model keeps them on Mesa's event list.

Indexing: entry 0 of a :class:`Track` is the state before the first step and entry k the value
in force during step k. An event dated within step k's period ``(dates[k-1], dates[k]]`` acts
from step k on. Effects that last (ramps, exercises, campaigns) are time windows in months,
averaged over each step (:meth:`Window.mean_level`), which keeps them independent of the step
length.

To add an event type: add its class to the scenario schema's ``Event`` union and register one
compile function here with :func:`compiles`; tests/test_timeline.py checks every registered type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from treatysim.model import dynamics
from treatysim.model.pipeline import CODE
from treatysim.scenario import schema as sc

if TYPE_CHECKING:
    from treatysim.model.world import World

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Window:
    """When an effect acts, in months since the calendar's start.

    Either it ramps up linearly from ``start`` over ``ramp`` months and then holds for good
    (``duration`` None), or it holds for ``duration`` months and then ends.
    """

    start: float
    ramp: float = 0.0
    duration: float | None = None

    def mean_level(self, t0: float, t1: float) -> float:
        """Average level (0 to 1) of the effect over the interval [t0, t1] in months."""
        if t1 <= t0:
            return self.level(t1)
        if self.duration is not None:
            overlap = min(t1, self.start + self.duration) - max(t0, self.start)
            return max(overlap, 0.0) / (t1 - t0)
        # integral of a clipped linear ramp, by the trapezoid rule on its breakpoints
        points = sorted({t0, t1, *(p for p in (self.start, self.start + self.ramp) if t0 < p < t1)})
        levels = [self.level(p) for p in points]
        area = sum(
            (b - a) * (la + lb) / 2
            for a, b, la, lb in zip(points, points[1:], levels, levels[1:], strict=False)
        )
        return area / (t1 - t0)

    def settled(self, t: float) -> bool:
        """Whether the effect has reached its final level (full, or ended) by time t."""
        end = self.start + (self.duration if self.duration is not None else self.ramp)
        return t >= end

    def level(self, t: float) -> float:
        """Level of the effect at time t (months)."""
        if t < self.start:
            return 0.0
        if self.duration is not None:
            return 1.0 if t < self.start + self.duration else 0.0
        if self.ramp <= 0:
            return 1.0
        return min((t - self.start) / self.ramp, 1.0)


@dataclass(frozen=True)
class Track:
    """Values per step, stored once per run of equal consecutive values.

    Attributes:
        rows: The distinct values, shape (m, ...); read-only.
        index: Shape (steps + 1,): the row in force at each step (entry 0: before step 1).
    """

    rows: NDArray[Any]
    index: NDArray[np.intp]

    def at(self, k: int) -> NDArray[Any]:
        """The value in force during step k (k = 0: the initial value)."""
        return self.rows[self.index[k]]

    def dense(self) -> NDArray[Any]:
        """Every step's value, shape (steps + 1, ...)."""
        return self.rows[self.index]

    @classmethod
    def frozen(cls, rows: NDArray[Any], index: NDArray[np.intp]) -> Track:
        """A track over these arrays, made read-only (timelines are shared between worlds)."""
        rows.setflags(write=False)
        index.setflags(write=False)
        return cls(rows, index)


class _TrackBuilder:
    """Collects one value per step, keeping a new row only when the value changes."""

    def __init__(self) -> None:
        self.rows: list[NDArray[Any]] = []
        self.index: list[int] = []

    def add(self, value: NDArray[Any]) -> None:
        last = self.rows[-1] if self.rows else None
        if last is None or last.shape != value.shape or last.tobytes() != value.tobytes():
            self.rows.append(np.array(value, copy=True))
        self.index.append(len(self.rows) - 1)

    def build(self) -> Track:
        return Track.frozen(np.stack(self.rows), np.asarray(self.index, dtype=np.intp))


@dataclass(frozen=True)
class Forced:
    """A forced stage: state row ``state`` enters ``stage`` in treaty column ``treaty``."""

    step: int
    state: int
    treaty: int
    stage: int
    date: dt.date


@dataclass(frozen=True)
class Timeline:
    """A world's events, compiled into per-step arrays (see the module docstring).

    Attributes:
        power: Shape (s,): each source's available power, averaged over the step.
        tied_down: Shape (s,): share of each source's capability tied down elsewhere at the
            end of the step (what a source agent shows).
        credibility: Shape (n,): credibility of allied guarantees.
        discounted: Shape (n,): source threat discounted by credibility.
        source_threat: Shape (n,): source threat before that discount (what
            :func:`treatysim.model.credibility.with_credibility` discounts afresh).
        campaigns: Shape (layers, n, k): norm-campaign boosts to the commitment target, added
            layer by layer (two campaigns on the same state and treaty sit in two layers, in
            the order they started); no layers without campaigns.
        in_conflict: Shape (n,): engaged in armed conflict.
        conflict_end: Shape (n,): date (proleptic ordinal) the state's last conflict ended, 0
            if none has.
        commitment_shift: Shape (n,): commitment shift from government changes.
        sensitivity: Shape (n,): threat sensitivity after government changes.
        forced: Forced stages, by step and then in date order.
    """

    power: Track
    tied_down: Track
    credibility: Track
    discounted: Track
    source_threat: Track
    campaigns: Track
    in_conflict: Track
    conflict_end: Track
    commitment_shift: Track
    sensitivity: Track
    forced: tuple[Forced, ...]


class _Sources:
    """The threat sources' lasting and temporary changes, folded in as they settle.

    Lasting changes are added to the settled level on the first step that starts after they
    have fully built up; until then (and for temporary ones, throughout) each step adds their
    mean level over the step.
    """

    def __init__(self, world: World) -> None:
        src = world.sources
        self.capability = src.capability
        self.settled = {
            "factor": np.ones(len(src.ids)),
            "tied": src.tied_down_share.astype(float),
            "boost": np.zeros(len(src.ids)),
        }
        self.effects: list[tuple[int, str, float, Window]] = []

    def add(self, s: int, kind: str, amount: float, window: Window) -> None:
        """Add a lasting or temporary change to source s (kind: tied, factor or boost)."""
        self.effects.append((s, kind, amount, window))

    def power(self, t0: float, t1: float) -> FloatArray:
        """Each source's available power, averaged over the step [t0, t1] (months)."""
        if not self.effects:
            return self._power(self.settled)
        for s, kind, amount, window in self.effects:
            if window.settled(t0) and window.duration is None:
                self.settled[kind][s] += amount
        self.effects = [e for e in self.effects if not e[3].settled(t0)]
        levels = {kind: values.copy() for kind, values in self.settled.items()}
        for s, kind, amount, window in self.effects:
            levels[kind][s] += amount * window.mean_level(t0, t1)
        return self._power(levels)

    def _power(self, levels: dict[str, FloatArray]) -> FloatArray:
        return dynamics.available_power(
            self.capability, levels["factor"], np.clip(levels["tied"], 0.0, 1.0), levels["boost"]
        )

    def tied_at(self, s: int, months: float) -> float:
        """Share of source s's capability tied down elsewhere at a time (months)."""
        tied = float(self.settled["tied"][s])
        for src, kind, amount, window in self.effects:
            if src == s and kind == "tied":
                tied += amount * window.level(months)
        return min(max(tied, 0.0), 1.0)


@dataclass
class Compiling:
    """The exogenous state while a world's events are compiled; compile functions change it.

    Attributes:
        world: The world being compiled.
        step: The step whose events are being compiled.
        months: Months from the calendar's start to the event being compiled.
        sources: The sources' changes.
        credibility: Shape (n,).
        in_conflict: Shape (n,).
        conflict_end: Shape (n,): proleptic ordinals.
        commitment_shift: Shape (n,).
        sensitivity: Shape (n,).
        intent_factor: Shape (s,): factor on each source's perceived intent (ceasefires).
        campaigns: Norm campaigns so far: treaty column, per-state strength, window.
        forced: Forced stages so far.
    """

    world: World
    step: int = 0
    months: float = 0.0
    sources: _Sources = field(init=False)
    credibility: FloatArray = field(init=False)
    in_conflict: NDArray[np.bool_] = field(init=False)
    conflict_end: NDArray[np.int64] = field(init=False)
    commitment_shift: FloatArray = field(init=False)
    sensitivity: FloatArray = field(init=False)
    intent_factor: FloatArray = field(init=False)
    campaigns: list[tuple[int, FloatArray, Window]] = field(default_factory=list)
    forced: list[Forced] = field(default_factory=list)

    def __post_init__(self) -> None:
        w = self.world
        n = w.n_states
        self.sources = _Sources(w)
        self.credibility = np.full(n, w.scenario.parameters.threat.initial_credibility)
        self.in_conflict = w.in_conflict.copy()
        self.conflict_end = np.zeros(n, dtype=np.int64)
        self.commitment_shift = np.zeros(n)
        self.sensitivity = w.sensitivity.copy()
        self.intent_factor = np.ones(len(w.sources.ids))

    def source(self, name: str) -> int:
        """Position of a threat source."""
        return self.world.sources.ids.index(name)

    def set_conflict(self, state: str, engaged: bool, date: dt.date) -> None:
        """Start or end a state's armed conflict."""
        i = self.world.index(state)
        self.in_conflict[i] = engaged
        if not engaged:
            self.conflict_end[i] = date.toordinal()


#: Compile functions by event type: each applies one event to the compiling state.
EventCompiler = Callable[[Compiling, Any], None]
COMPILERS: dict[str, EventCompiler] = {}


def compiles(event_type: str) -> Callable[[EventCompiler], EventCompiler]:
    """Register the compile function of an event type."""

    def register(function: EventCompiler) -> EventCompiler:
        COMPILERS[event_type] = function
        return function

    return register


@compiles("ceasefire")
def _ceasefire(c: Compiling, e: sc.Ceasefire) -> None:
    """A ceasefire's four channels (docs/ODD.md 7.6).

    Forces freed: a share of the forces tied down at that moment, over a ramp (raises power).
    Allied guarantees: the credibility of allied guarantees among the guarantee targets moves
    by ``guarantee_change`` (clipped to [0, 1]). Intent: the source's perceived intent towards
    every state is scaled by ``intent_factor`` (capped at 1). The conflict: named states' armed
    conflicts end (no conflict threat; held-up exits may take effect).
    """
    s = c.source(e.source)
    freed = e.freed_share * c.sources.tied_at(s, c.months)
    c.sources.add(s, "tied", -freed, Window(c.months, e.ramp_months))
    if e.guarantee_change:
        rows = c.world.rows(e.guarantee_targets)
        c.credibility[rows] = np.clip(c.credibility[rows] + e.guarantee_change, 0.0, 1.0)
    if e.intent_factor != 1.0:
        c.intent_factor[s] *= e.intent_factor
    for state in e.ends_conflict_for:
        c.set_conflict(state, False, e.date)


@compiles("escalation")
def _escalation(c: Compiling, e: sc.Escalation) -> None:
    """A lasting change of a source's capability by a factor, over a ramp."""
    window = Window(c.months, e.ramp_months)
    c.sources.add(c.source(e.source), "factor", e.capability_factor - 1.0, window)


@compiles("exercise")
def _exercise(c: Compiling, e: sc.Exercise) -> None:
    """A temporary boost of a source's available capability."""
    window = Window(c.months, duration=e.duration_months)
    c.sources.add(c.source(e.source), "boost", e.capability_boost, window)


@compiles("armed_conflict_start")
def _conflict_start(c: Compiling, e: sc.ArmedConflictStart) -> None:
    """A state becomes engaged in armed conflict."""
    c.set_conflict(e.state, True, e.date)


@compiles("armed_conflict_end")
def _conflict_end(c: Compiling, e: sc.ArmedConflictEnd) -> None:
    """A state's armed conflict ends."""
    c.set_conflict(e.state, False, e.date)


@compiles("norm_campaign")
def _norm_campaign(c: Compiling, e: sc.NormCampaign) -> None:
    """Raises commitment to a treaty among the targets for a while."""
    strength = np.zeros(c.world.n_states)
    strength[c.world.rows(e.targets)] = e.strength
    treaty = c.world.treaties.index(e.treaty)
    c.campaigns.append((treaty, strength, Window(c.months, duration=e.duration_months)))


@compiles("reassurance")
def _reassurance(c: Compiling, e: sc.Reassurance) -> None:
    """Sets the credibility of allied guarantees for the targets."""
    c.credibility[c.world.rows(e.targets)] = e.credibility


@compiles("government_change")
def _government_change(c: Compiling, e: sc.GovernmentChange) -> None:
    """A new government shifts commitment and scales threat sensitivity."""
    i = c.world.index(e.state)
    c.commitment_shift[i] += e.commitment_shift
    c.sensitivity[i] *= e.threat_sensitivity_factor


@compiles("forced_stage")
def _forced_stage(c: Compiling, e: sc.ForcedStage) -> None:
    """Puts a state into a stage (applied by the model, on Mesa's event list)."""
    i, j = c.world.index(e.state), c.world.treaties.index(e.treaty)
    c.forced.append(Forced(c.step, i, j, CODE[e.stage], e.date))


def events_by_step(world: World) -> dict[int, list[sc.Event]]:
    """A world's events by the step they act from, each step's in date order."""
    due: dict[int, list[sc.Event]] = {}
    for event in sorted(world.scenario.events, key=lambda e: e.date):
        due.setdefault(world.calendar.step_of(event.date), []).append(event)
    return due


def compile_timeline(world: World) -> Timeline:
    """Compile a world's events into per-step arrays (use ``world.timeline``: cached)."""
    cal = world.calendar
    c = Compiling(world)
    due = events_by_step(world)
    tracks = {name: _TrackBuilder() for name in Timeline.__dataclass_fields__ if name != "forced"}
    discount = _Discount(world)
    campaigns: list[list[FloatArray]] = []

    def record(power: FloatArray, t0: float, t1: float) -> None:
        tracks["power"].add(power)
        tracks["tied_down"].add(
            np.array([c.sources.tied_at(s, t1) for s in range(len(world.sources.ids))])
        )
        tracks["credibility"].add(c.credibility)
        source, discounted = discount(power, c.credibility, c.intent_factor)
        tracks["discounted"].add(discounted)
        tracks["source_threat"].add(source)
        campaigns.append(_campaign_layers(c.campaigns, world.party.shape, t0, t1))
        tracks["in_conflict"].add(c.in_conflict)
        tracks["conflict_end"].add(c.conflict_end)
        tracks["commitment_shift"].add(c.commitment_shift)
        tracks["sensitivity"].add(c.sensitivity)

    record(c.sources.power(0.0, 0.0), 0.0, 0.0)
    for k in range(1, cal.n_steps + 1):
        c.step = k
        for due_event in due.get(k, []):
            c.months = cal.months_at(due_event.date)
            COMPILERS[due_event.type](c, due_event)
        t0, t1 = float(cal.months[k - 1]), float(cal.months[k])
        record(c.sources.power(t0, t1), t0, t1)
    depth = max(len(layers) for layers in campaigns)
    for layers in campaigns:
        padding = [np.zeros(world.party.shape)] * (depth - len(layers))
        tracks["campaigns"].add(np.array(layers + padding).reshape(depth, *world.party.shape))
    built = {name: builder.build() for name, builder in tracks.items()}
    return Timeline(**built, forced=tuple(c.forced))


class _Discount:
    """Source threat, before and after the credibility discount, recomputed only on change."""

    def __init__(self, world: World) -> None:
        self.sources = world.sources
        self.weight = world.scenario.parameters.threat.reassurance_weight
        self.key: bytes | None = None
        self.value: tuple[FloatArray, FloatArray] | None = None

    def __call__(
        self, power: FloatArray, credibility: FloatArray, intent_factor: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        key = power.tobytes() + credibility.tobytes() + intent_factor.tobytes()
        if key != self.key or self.value is None:
            src = self.sources
            intent = src.intent
            if (intent_factor != 1.0).any():
                intent = np.minimum(intent * intent_factor[:, None], 1.0)
            source = dynamics.source_threat(power, src.offensive, src.proximity, intent)
            self.value = (source, dynamics.discounted_threat(source, credibility, self.weight))
            self.key = key
        return self.value


def _campaign_layers(
    campaigns: list[tuple[int, FloatArray, Window]], shape: tuple[int, int], t0: float, t1: float
) -> list[FloatArray]:
    """A step's norm-campaign boosts as layers, so that each cell adds its campaigns in order.

    The commitment target adds each campaign in turn; floating-point addition is not
    associative, so two campaigns on one cell sit in two layers, added one after the other.
    Adding a layer's zeros leaves a value unchanged.
    """
    layers: list[FloatArray] = []
    depth = np.zeros(shape, dtype=np.intp)
    for treaty, strength, window in campaigns:
        boost = strength * window.mean_level(t0, t1)
        rows = np.flatnonzero(boost)
        levels = depth[rows, treaty]
        for level in np.unique(levels).tolist():
            while len(layers) <= level:
                layers.append(np.zeros(shape))
            at = rows[levels == level]
            layers[level][at, treaty] = boost[at]
        depth[rows, treaty] += 1
    return layers
