"""One block of replications, advanced step by step on the leading (batch) axis.

:class:`Batch` mirrors :class:`treatysim.model.treaty_model.TreatyModel` line by line: the same
kernels (:func:`~treatysim.model.dynamics.perceive`, :func:`~treatysim.model.dynamics.
commitment_goal`), the same decision rule and :func:`~treatysim.model.pipeline.advance`, on
arrays of shape (B, n) and (B, n, k).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from treatysim.agents.rules import DecisionInputs, make_rule
from treatysim.model import dynamics
from treatysim.model.batched.graphs import block, graph_block
from treatysim.model.batched.records import Log, Records
from treatysim.model.batched.streams import LAZY_CELLS, BulkSteps, LazySteps, decisive
from treatysim.model.batched.worlds import (
    Worlds,
    effective_dates,
    exposure,
    stack_views,
)
from treatysim.model.calendar import add_months
from treatysim.model.draws import MESA_SEED_BOUND, Head, draw_head
from treatysim.model.networks import NetworkViews
from treatysim.model.pipeline import (
    ANNOUNCED,
    NOT_PARTY,
    NOTIFIED,
    PARTY,
    WITHDRAWN,
    StepMechanisms,
    Transition,
    advance,
    moved,
)
from treatysim.model.population import sparse_graph
from treatysim.model.world import World

FloatArray = NDArray[np.float64]
NEVER = dt.date.max.toordinal()


class Batch:
    """Replications advanced together; replication b is ``TreatyModel(worlds[b], rng=seeds[b])``.

    Args:
        worlds: Each replication's world (one shape, see :func:`.worlds.check_shapes`).
        seeds: Each replication's seed.
        timeseries: ``full``, ``counts`` or ``none``.
    """

    def __init__(self, worlds: list[World], seeds: list[int], timeseries: str) -> None:
        self.worlds = ws = Worlds(worlds)
        #: The worlds (positions in ``ws.unique``) with forced stages, by step.
        self.forced_worlds: dict[int, list[int]] = {}
        for u, world in enumerate(ws.unique):
            for step in sorted({f.step for f in world.timeline.forced}):
                self.forced_worlds.setdefault(step, []).append(u)
        w0 = ws.first
        self.B = b = len(seeds)
        self.n, self.k = n, k = w0.party.shape
        self.cal = w0.calendar
        self.rule = make_rule(w0.scenario.parameters.rule)

        heads, generators = [], []
        for seed, world in zip(seeds, worlds, strict=True):
            rng = np.random.default_rng(seed)
            rng.integers(MESA_SEED_BOUND)  # item 0 of the layout: mesa.Model's draw
            heads.append(draw_head(world, rng))
            generators.append(rng)
        self.threshold_shift = np.stack([h.threshold_shift for h in heads])
        self.thresholds = self._thresholds(heads)
        self._network(heads)
        self._parameters()
        self._streams(generators, worlds)

        # stage codes fit in a byte: the pipeline's many comparisons then touch 8 times less memory
        self.stage = np.broadcast_to(
            ws.per(lambda w: np.where(w.party, PARTY, NOT_PARTY)), (b, n, k)
        ).astype(np.int8)
        self.effective = np.full((b, n, k), NEVER, dtype=np.int64)
        # where a state is a party at all: only forced stages can change it (see _force)
        self.is_party = self.stage != NOT_PARTY
        self.dirty = np.ones(b, dtype=bool)  # replications whose stages changed since last read
        self.log = Log(b, self.dirty)
        self.threat = self._equilibrium()
        self.moved = np.zeros((b, n, k))
        self.peer_share = np.zeros((b, n, k))
        self.commitment = np.broadcast_to(
            self._goal(0, self.tracks["commitment_shift"][0]), (b, n, k)
        ).copy()
        for r, head in enumerate(heads):
            if head.actors is not None:
                self._start_actors(r, head.actors)
        self.records = Records(timeseries, self.cal.n_steps, b, n, k)
        self.records.record(0, self)

    # ----------------------------------------------------------------------------------------
    # set-up

    def _streams(self, generators: list[np.random.Generator], worlds: list[World]) -> None:
        """Where the steps' random numbers come from (see :mod:`.streams`)."""
        steps = self.cal.n_steps
        self.draws: BulkSteps | LazySteps
        if self.n * self.k < LAZY_CELLS:
            self.draws = BulkSteps(generators, worlds, steps)
            return
        probabilities = (
            self.p_deliberation[:steps],
            self.p_vote[:steps],
            self.pass_probability,
            self.p_deposit[:steps],
            self.p_retraction[:steps],
        )
        needed = [decisive([p]) for p in probabilities]
        # a follower's lag (groups.<name>.decide: follow) reads the deliberation uniforms too
        needed[0] = needed[0] or any(g.follow for g in self.joint_groups)
        # the noise is relative to the target, which is zero without threat and alarm
        noisy = bool(np.any(self.tracks["discounted"]) or np.any(self.alarm_gain))
        self.draws = LazySteps(generators, worlds, steps, needed, noisy)

    def _thresholds(self, heads: list[Head]) -> FloatArray:
        fixed = self.worlds.per(lambda w: w.fixed_threshold)
        if all(h.thresholds is None for h in heads):
            return fixed
        out = np.broadcast_to(fixed, (self.B, self.n)).copy()
        for b, h in enumerate(heads):
            if h.thresholds is not None:
                out[b] = h.thresholds
        return out

    def _network(self, heads: list[Head]) -> None:
        ws = self.worlds
        self.own_networks = not ws.same_network()  # one network per replication
        self.views: list[NetworkViews] = []
        if not self.own_networks:
            self.network = ws.first.network
            return
        if ws.first.graph_per_replication:
            seeds = [h.graph_seed for h in heads]
            assert all(s is not None for s in seeds)
            block = graph_block(ws.each, [int(s) for s in seeds if s is not None])
            if block is not None:
                self.network = block
                return
            self.views = [
                NetworkViews.of(_graph(w, h.graph_seed), w.party)
                for w, h in zip(ws.each, heads, strict=True)
            ]
        else:
            self.views = [w.network for w in ws.each]
        self.network = stack_views(self.views)

    def _parameters(self) -> None:
        """Per-world parameters and per-step coefficients, shaped to broadcast."""
        ws = self.worlds

        def threat(w: World) -> Any:
            return w.scenario.parameters.threat

        def commitment(w: World) -> Any:
            return w.scenario.parameters.commitment

        def pipeline(w: World) -> Any:
            return w.scenario.parameters.pipeline

        self.conflict_threat = ws.scalar(lambda w: threat(w).conflict_threat, 1)
        self.erosion = ws.scalar(lambda w: commitment(w).peer_erosion, 2)
        self.spillover = ws.scalar(lambda w: commitment(w).spillover, 2)
        self.margin = ws.scalar(lambda w: w.scenario.parameters.pipeline.retraction_margin, 2)
        self.deliberation_margin = ws.scalar(lambda w: pipeline(w).deliberation_margin, 2)
        self.conflict_trigger = ws.scalar(lambda w: pipeline(w).conflict_exit_trigger, 2)
        self.conflict_cost = ws.scalar(lambda w: pipeline(w).conflict_move_cost, 2)
        self.suspension_allowed = np.array(
            [ws.first.scenario.treaties[t].suspension_allowed for t in ws.first.treaties]
        )
        self.joint_groups = ws.first.joint_groups
        self.joint_share = _per_group(ws.per(lambda w: w.joint_share), ws.shared)
        self.p_follow = [
            _per_group(step, ws.shared) for step in ws.steps(lambda w: w.hazards.follow)
        ]
        self.static = ws.per(lambda w: w.commitment + w.stigma[:, None])
        self.pass_probability = ws.per(lambda w: w.pass_probability)
        self.alarm_gain = ws.scalar(lambda w: threat(w).alarm_spread, 1) * ws.per(exposure)
        self.blocks_exit = np.array(
            [ws.first.scenario.treaties[t].armed_conflict_blocks_exit for t in ws.first.treaties]
        )
        self.bloc = ws.first.bloc
        self.n_blocs = len(ws.first.bloc_names)
        self.p_deliberation = ws.steps(lambda w: w.hazards.deliberation)
        self.p_vote = ws.steps(lambda w: w.hazards.vote)
        self.p_deposit = ws.steps(lambda w: w.hazards.deposit)
        self.p_retraction = ws.steps(lambda w: w.hazards.retraction, dims=2)
        self.threat_keep = ws.steps(lambda w: w.smoothing.threat_keep, dims=1)
        self.threat_spread = ws.steps(lambda w: w.smoothing.threat_spread, dims=1)
        self.commitment_keep = ws.steps(lambda w: w.smoothing.commitment_keep, dims=2)
        names = ("discounted", "in_conflict", "conflict_end", "commitment_shift", "sensitivity")
        self.tracks = {name: ws.steps(_track(name)) for name in names}
        self.campaigns = ws.campaigns()
        self.effective_dates = ws.steps(effective_dates)

    def _equilibrium(self) -> FloatArray:
        """Perceived threat at rest."""

        def at_rest(world: World, weights: Any) -> FloatArray:
            return dynamics.equilibrium_threat(
                world.timeline.discounted.at(0),
                weights,
                world.scenario.parameters.threat.alarm_spread,
                exposure(world),
            )

        ws = self.worlds
        if not self.own_networks:
            start = ws.per(lambda w: at_rest(w, w.network.neighbour_weights))
        elif self.views:
            start = np.stack(
                [at_rest(w, v.neighbour_weights) for w, v in zip(ws.each, self.views, strict=True)]
            )
        else:  # one block-diagonal matrix: each replication's block, cut out where needed
            start = np.stack(
                [
                    at_rest(w, block(self.network, r, self.n))
                    if w.scenario.parameters.threat.alarm_spread and exposure(w).any()
                    else np.array(w.timeline.discounted.at(0), dtype=float)
                    for r, w in enumerate(ws.each)
                ]
            )
        return np.broadcast_to(start, (self.B, self.n)).copy()

    # ----------------------------------------------------------------------------------------
    # the step

    def run(self) -> None:
        """Advance every replication to the end of the calendar."""
        for k in range(1, self.cal.n_steps + 1):
            self._force(k)
            self.step(k)
            self.records.record(k, self)

    def step(self, k: int) -> None:
        """One calendar period for every replication, as TreatyModel.step."""
        draws, noise = self.draws.step(k)
        tracks = {name: values[k] for name, values in self.tracks.items()}
        # perceive threat
        self.threat = dynamics.perceive(
            self.threat,
            tracks["discounted"],
            self.network.neighbour_weights,
            self.alarm_gain,
            self.threat_keep[k - 1],
            self.threat_spread[k - 1],
            noise,
        )
        # update commitment
        self._peer_share()
        target = self._goal(k, tracks["commitment_shift"])
        self.commitment = dynamics.relax(self.commitment, target, self.commitment_keep[k - 1])
        # decide and advance
        in_conflict = tracks["in_conflict"]
        inputs = DecisionInputs(
            threat=self.threat + self.conflict_threat * in_conflict,
            threat_sensitivity=tracks["sensitivity"],
            commitment=self.commitment,
            threshold_shift=self.threshold_shift,
            peer_share=self.peer_share,
            peer_count=(
                dynamics.peer_count(self.moved, self.network.adjacency)
                if self.rule.uses_peer_count
                else self.peer_share
            ),
            fixed_threshold=self.thresholds,
            margin=self.margin,
            deliberation_margin=self.deliberation_margin,
        )
        verdict = self.rule.judge(inputs)
        wants_exit, wants_retract = verdict.wants_exit, verdict.wants_retract
        mechanisms = StepMechanisms(
            pressure=verdict.pressure,
            threshold=verdict.threshold,
            wants_return=verdict.wants_return,
            suspension_allowed=self.suspension_allowed,
            conflict_trigger=self.conflict_trigger,
            conflict_cost=self.conflict_cost,
            groups=self.joint_groups,
            joint_share=self.joint_share,
            p_follow=self.p_follow[k - 1],
        )
        now = self.cal.dates[k].toordinal()
        transitions = advance(
            self.stage,
            wants_exit & self.is_party,
            wants_retract,
            draws,
            p_deliberation=self.p_deliberation[k - 1],
            p_vote=self.p_vote[k - 1],
            pass_probability=self.pass_probability,
            p_deposit=self.p_deposit[k - 1],
            p_retraction=self.p_retraction[k - 1],
            bloc=self.bloc,
            n_blocs=self.n_blocs,
            in_conflict=in_conflict,
            blocks_exit=self.blocks_exit,
            effective_reached=self.effective <= now,
            mechanisms=mechanisms,
        )
        if transitions:
            self._log(k, now, transitions, tracks["conflict_end"])

    def _log(self, k: int, now: int, transitions: list[Transition], end: NDArray[Any]) -> None:
        """Log a step's transitions, in the order they happened, as one part of the log."""
        # np.nonzero on a 3-d mask is 15 times slower than on the flat one
        flats = [np.flatnonzero(t.mask) for t in transitions]
        flat = np.concatenate(flats) if len(flats) > 1 else flats[0]
        b, cell = np.divmod(flat, self.n * self.k)
        i, j = np.divmod(cell, self.k) if self.k > 1 else (cell, np.zeros_like(cell))
        sizes = [len(f) for f in flats]
        stage = np.repeat(np.array([t.stage for t in transitions], dtype=np.int8), sizes)
        date = np.full(len(flat), now, dtype=np.int64)
        start = 0
        for transition, size in zip(transitions, sizes, strict=True):
            part = slice(start, start + size)
            start += size
            if transition.stage == NOTIFIED:
                table = self.effective_dates[k]
                bp, jp = b[part], j[part]
                self.effective[bp, i[part], jp] = table[jp] if table.ndim == 1 else table[bp, jp]
            elif transition.stage == WITHDRAWN:
                bp, ip = b[part], i[part]
                reached = self.effective[bp, ip, j[part]]
                date[part] = np.maximum(reached, end[ip] if end.ndim == 1 else end[bp, ip])
        self.log.add(b, k, i, j, stage, date)

    def _peer_share(self) -> None:
        """Moves and peer shares, recomputed only for the replications whose stages changed."""
        dirty = self.dirty
        if not dirty.any():
            return
        if dirty.all():
            self.moved = moved(self.stage).astype(float)
            self.peer_share = dynamics.peer_share(self.moved, self.network.reference_weights)
        else:
            rows = np.flatnonzero(dirty)
            self.moved[rows] = moved(self.stage[rows])
            if self.own_networks:  # one network per replication: all at once
                self.peer_share = dynamics.peer_share(self.moved, self.network.reference_weights)
            else:
                weights = self.network.reference_weights
                self.peer_share[rows] = dynamics.peer_share(self.moved[rows], weights)
        dirty[:] = False

    def _goal(self, k: int, shift: FloatArray) -> FloatArray:
        return dynamics.commitment_goal(
            self.static,
            shift,
            self.peer_share,
            self.moved,
            self.erosion,
            self.spillover,
            self.campaigns[k],
        )

    def _force(self, k: int) -> None:
        """Forced stages of step k, before it runs (as on the Mesa model's event list)."""
        ws = self.worlds
        for u in self.forced_worlds.get(k, ()):
            world = ws.unique[u]
            due = [f for f in world.timeline.forced if f.step == k]
            reps = np.flatnonzero(ws.index == u)
            ones = np.ones(len(reps), dtype=np.int64)
            for f in due:
                self.stage[reps, f.state, f.treaty] = f.stage
                if f.stage == NOTIFIED:
                    notice = world.scenario.treaties[world.treaties[f.treaty]].notice_months
                    effective = add_months(f.date, notice).toordinal()
                    self.effective[reps, f.state, f.treaty] = effective
                date = ones * f.date.toordinal()
                self.log.add(reps, k, ones * f.state, ones * f.treaty, f.stage, date)
            self.is_party = self.stage != NOT_PARTY

    def _start_actors(self, b: int, actors: NDArray[np.int64]) -> None:
        """A replication's initial actors announce at the start, as in TreatyModel."""
        start = np.array([self.cal.start.toordinal()])
        for i in sorted(actors.tolist()):
            for j in range(self.k):
                if self.stage[b, i, j] == PARTY:
                    self.stage[b, i, j] = ANNOUNCED
                    self.log.add(np.array([b]), 0, np.array([i]), np.array([j]), ANNOUNCED, start)


def _graph(world: World, seed: int | None) -> Any:
    """A replication's own synthetic network, as TreatyModel draws it."""
    population = world.population
    assert population is not None and seed is not None
    return sparse_graph(population.network, population.size, seed, world.base_dir, list(world.ids))


def _per_group(values: NDArray[Any], shared: bool) -> NDArray[Any]:
    """Per-group numbers, group first: (g,) shared, else (g, B, 1, 1) from (B, g)."""
    if shared:
        return values
    return np.moveaxis(values, -1, 0)[..., None, None]


def _track(name: str) -> Callable[[World], NDArray[Any]]:
    """The per-step array of one timeline track of a world (for ``Worlds.steps``)."""

    def get(world: World) -> NDArray[Any]:
        return np.asarray(getattr(world.timeline, name).dense())

    return get
