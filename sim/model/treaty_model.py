"""TreatyModel: states deciding whether to leave treaties under threat, on Mesa.

One step is one calendar period (a week by default). Read :meth:`TreatyModel.step` as the model's
description; docs/ODD.md gives every equation and its source.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import mesa
import numpy as np
from numpy.typing import NDArray

from treatysim.agents.rules import DecisionInputs, make_rule
from treatysim.agents.state import StateAgent, ThreatSourceAgent
from treatysim.model import dynamics
from treatysim.model.calendar import add_months
from treatysim.model.draws import draw_replication
from treatysim.model.networks import NetworkViews
from treatysim.model.pipeline import (
    ANNOUNCED,
    CODE,
    NOT_PARTY,
    NOTIFIED,
    PARTY,
    STAGES,
    WITHDRAWN,
    StepDraws,
    StepMechanisms,
    advance,
    moved,
)
from treatysim.model.population import sparse_graph
from treatysim.model.world import World

FloatArray = NDArray[np.float64]
NEVER = dt.date.max.toordinal()


@dataclass
class Records:
    """What a run records: stage changes, and optionally time series.

    Attributes:
        event_step: Step of each stage change (0 for events before the first step).
        event_state: State row.
        event_treaty: Treaty column.
        event_stage: Stage code entered.
        event_date: Date (proleptic ordinal) the stage took effect.
        threat: Shape (steps + 1, n), when recording full time series.
        commitment: Shape (steps + 1, n, k), when recording full time series.
        stage: Shape (steps + 1, n, k), stage codes, when recording full time series.
        counts: Shape (steps + 1, k, stages): states in each stage, when recording counts.
    """

    event_step: list[int] = field(default_factory=list)
    event_state: list[int] = field(default_factory=list)
    event_treaty: list[int] = field(default_factory=list)
    event_stage: list[int] = field(default_factory=list)
    event_date: list[int] = field(default_factory=list)
    threat: FloatArray | None = None
    commitment: FloatArray | None = None
    stage: NDArray[np.int8] | None = None
    counts: NDArray[np.int32] | None = None


class TreatyModel(mesa.Model):
    """States, threat sources and treaties; one step is one calendar period.

    Args:
        world: The resolved scenario (see :func:`treatysim.model.world.build_world`).
        rng: Seed or generator; the only source of randomness in a run. Its numbers are drawn
            up front, in the layout of :mod:`treatysim.model.draws`.
        timeseries: ``full`` (per state), ``counts`` (states per stage) or ``none``.
    """

    def __init__(
        self,
        world: World,
        *,
        rng: int | np.random.Generator | np.random.SeedSequence | None = None,
        timeseries: str = "full",
    ) -> None:
        if not isinstance(rng, np.random.Generator):
            # Mesa draws once from a Generator but not from a seed; always pass a Generator so
            # that TreatyModel(world, rng=s) is the runner's replication with seed s.
            rng = np.random.default_rng(rng)
        super().__init__(rng=rng)  # Mesa draws item 0 of the layout
        self.world = world
        self.draws = draws = draw_replication(world, self.rng)
        self.params = world.scenario.parameters
        self.rule = make_rule(self.params.rule)
        n, k = world.party.shape
        cal = world.calendar
        self.blocks_exit = np.array(
            [world.scenario.treaties[t].armed_conflict_blocks_exit for t in world.treaties]
        )
        self.notice_months = [world.scenario.treaties[t].notice_months for t in world.treaties]
        self.suspension_allowed = np.array(
            [world.scenario.treaties[t].suspension_allowed for t in world.treaties]
        )

        sources = world.sources
        self.exposure = (
            (sources.intent * (sources.proximity > 0)).max(axis=0) if sources.ids else np.zeros(n)
        )

        # the scenario's events, compiled once per world into per-step arrays; these rows are
        # shared by every replication, so read-only
        self.timeline = timeline = world.timeline
        self.credibility = timeline.credibility.at(0)
        self.in_conflict = timeline.in_conflict.at(0)
        self.conflict_end = timeline.conflict_end.at(0)
        self.sensitivity = timeline.sensitivity.at(0)
        self.commitment_shift = timeline.commitment_shift.at(0)
        self.power = timeline.power.at(0)
        self.now_months = 0.0

        # dynamic state, one row per state
        self.stage = np.where(world.party, PARTY, NOT_PARTY).astype(np.int64)
        self.effective = np.full((n, k), NEVER, dtype=np.int64)
        self.threshold_shift = draws.threshold_shift
        self.thresholds = world.fixed_threshold if draws.thresholds is None else draws.thresholds
        if world.graph_per_replication:
            self.network = NetworkViews.of(self._draw_graph(), world.party)
        else:
            self.network = world.network
        self._static_commitment = world.commitment + world.stigma[:, None]
        self._alarm_gain = self.params.threat.alarm_spread * self.exposure
        self.threat = dynamics.equilibrium_threat(
            timeline.discounted.at(0),
            self.network.neighbour_weights,
            self.params.threat.alarm_spread,
            self.exposure,
        )
        self.peer_share = np.zeros((n, k))
        self.moved = np.zeros((n, k))
        self.commitment = self._commitment_target(0)

        # agents are views onto the arrays
        self.states = [StateAgent(self, i) for i in range(n)]
        self.sources = [ThreatSourceAgent(self, s) for s in range(len(sources.ids))]

        # forced stages change this replication's state: they stay events on Mesa's event list,
        # firing half a step before the step whose period holds their date
        for step in sorted({forced.step for forced in timeline.forced}):
            self.schedule_event(self._force_due, at=step - 0.5)

        self.records = Records()
        self._mode = timeseries
        steps = cal.n_steps + 1
        if timeseries == "full":
            self.records.threat = np.zeros((steps, n))
            self.records.commitment = np.zeros((steps, n, k))
            self.records.stage = np.zeros((steps, n, k), dtype=np.int8)
        elif timeseries == "counts":
            self.records.counts = np.zeros((steps, k, len(STAGES)), dtype=np.int32)
        if draws.actors is not None:
            self._start_actors(draws.actors)
        self._record_state(0)

    # ----------------------------------------------------------------------------------------
    # the step

    def step(self) -> None:
        """One calendar period: threat, commitment, decisions, pipeline, records."""
        k = self.steps
        cal = self.world.calendar
        self.now_months = float(cal.months[k])
        self.read_timeline(k)
        self.perceive_threat(k)
        self.update_commitment(k)
        self.decide_and_advance(k)
        self._record_state(k)
        if k >= cal.n_steps:
            self.running = False

    def read_timeline(self, k: int) -> None:
        """The scenario's events as they stand in step k: power, credibility, conflicts, ..."""
        timeline = self.timeline
        self.power = timeline.power.at(k)
        self.credibility = timeline.credibility.at(k)
        self.in_conflict = timeline.in_conflict.at(k)
        self.conflict_end = timeline.conflict_end.at(k)
        self.sensitivity = timeline.sensitivity.at(k)
        self.commitment_shift = timeline.commitment_shift.at(k)

    def perceive_threat(self, k: int) -> None:
        """Walt's threat, discounted by allies' credibility, spread by alarm, with memory."""
        smoothing = self.world.smoothing
        self.threat = dynamics.perceive(
            self.threat,
            self.timeline.discounted.at(k),
            self.network.neighbour_weights,
            self._alarm_gain,
            smoothing.threat_keep[k - 1],
            smoothing.threat_spread[k - 1],
            None if self.draws.noise is None else self.draws.noise[k - 1],
        )

    def update_commitment(self, k: int) -> None:
        """Peers' exits erode commitment; stigma and campaigns reinforce it."""
        self.moved = moved(self.stage).astype(float)
        self.peer_share = dynamics.peer_share(self.moved, self.network.reference_weights)
        target = self._commitment_target(k)
        self.commitment = dynamics.relax(
            self.commitment, target, self.world.smoothing.commitment_keep[k - 1]
        )

    def decide_and_advance(self, k: int) -> None:
        """The decision rule says who wants out; the pipeline moves states along.

        Besides the plain pipeline: deliberating states drop the idea when pressure falls, groups
        announce together or follow their leader, and a state whose exit the armed-conflict
        clause would hold up waits for peers' exits (see :class:`.pipeline.StepMechanisms`).
        """
        w = self.world
        hazards = w.hazards
        pipeline = self.params.pipeline
        verdict = self.rule.judge(self.decision_inputs())
        wants_exit, wants_retract = verdict.wants_exit, verdict.wants_retract
        mechanisms = StepMechanisms(
            pressure=verdict.pressure,
            threshold=verdict.threshold,
            wants_return=verdict.wants_return,
            suspension_allowed=self.suspension_allowed,
            conflict_trigger=pipeline.conflict_exit_trigger,
            conflict_cost=pipeline.conflict_move_cost,
            groups=w.joint_groups,
            joint_share=w.joint_share,
            p_follow=hazards.follow[k - 1],
        )
        draws = StepDraws.of(self.draws.uniforms[k - 1])
        now = w.calendar.dates[k]
        transitions = advance(
            self.stage,
            wants_exit & (self.stage != NOT_PARTY),
            wants_retract,
            draws,
            p_deliberation=hazards.deliberation[k - 1],
            p_vote=hazards.vote[k - 1],
            pass_probability=w.pass_probability,
            p_deposit=hazards.deposit[k - 1],
            p_retraction=float(hazards.retraction[k - 1]),
            bloc=w.bloc,
            n_blocs=len(w.bloc_names),
            in_conflict=self.in_conflict,
            blocks_exit=self.blocks_exit,
            effective_reached=self.effective <= now.toordinal(),
            mechanisms=mechanisms,
        )
        for transition in transitions:
            rows, cols = np.nonzero(transition.mask)
            for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
                date = now.toordinal()
                if transition.stage == NOTIFIED:
                    self.effective[i, j] = add_months(now, self.notice_months[j]).toordinal()
                elif transition.stage == WITHDRAWN:
                    date = max(int(self.effective[i, j]), int(self.conflict_end[i]))
                self._log(k, i, j, transition.stage, date)

    # ----------------------------------------------------------------------------------------
    # inputs and helpers

    def decision_inputs(self) -> DecisionInputs:
        """The arrays a decision rule sees this step."""
        return DecisionInputs(
            threat=self.felt_threat(),
            threat_sensitivity=self.sensitivity,
            commitment=self.commitment,
            threshold_shift=self.threshold_shift,
            peer_share=self.peer_share,
            peer_count=(
                dynamics.peer_count(self.moved, self.network.adjacency)
                if self.rule.uses_peer_count
                else self.peer_share
            ),
            fixed_threshold=self.thresholds,
            margin=self.params.pipeline.retraction_margin,
            deliberation_margin=self.params.pipeline.deliberation_margin,
        )

    def felt_threat(self) -> FloatArray:
        """Perceived threat plus the threat of an armed conflict the state is engaged in."""
        return self.threat + self.params.threat.conflict_threat * self.in_conflict

    def _commitment_target(self, k: int) -> FloatArray:
        p = self.params.commitment
        return dynamics.commitment_goal(
            self._static_commitment,
            self.commitment_shift,
            self.peer_share,
            self.moved,
            p.peer_erosion,
            p.spillover,
            self.timeline.campaigns.at(k),
        )

    def _draw_graph(self) -> Any:
        """This replication's network (a synthetic graph without a fixed seed)."""
        population = self.world.population
        assert population is not None
        seed = self.draws.graph_seed
        assert seed is not None
        return sparse_graph(
            population.network, population.size, seed, self.world.base_dir, list(self.world.ids)
        )

    def _start_actors(self, actors: NDArray[np.int64]) -> None:
        """This replication's initial actors announce at the start, in every treaty they are in."""
        start = self.world.calendar.start
        for i in sorted(actors.tolist()):
            for j in range(len(self.world.treaties)):
                if self.stage[i, j] == PARTY:
                    self.stage[i, j] = ANNOUNCED
                    self._log(0, i, j, ANNOUNCED, start.toordinal())

    # ----------------------------------------------------------------------------------------
    # forced stages

    def tied_down_share_at(self, s: int, months: float) -> float:
        """Share of a source's capability tied down elsewhere at the end of the step (months)."""
        k = int(np.searchsorted(self.world.calendar.months, months, side="left"))
        return float(self.timeline.tied_down.at(min(k, self.world.calendar.n_steps))[s])

    def _force_due(self) -> None:
        """Apply the forced stages of the step about to run (called by Mesa's event list)."""
        for forced in self.timeline.forced:
            if forced.step == self.steps + 1:
                self.force_stage(
                    self.world.ids[forced.state],
                    self.world.treaties[forced.treaty],
                    forced.stage,
                    forced.date,
                )

    def force_stage(self, state: str, treaty: str, stage: int, date: dt.date) -> None:
        """Put a state into a stage on a date (forced-stage events)."""
        i, j = self.world.index(state), self.world.treaties.index(treaty)
        self.stage[i, j] = stage
        if stage == NOTIFIED:
            self.effective[i, j] = add_months(date, self.notice_months[j]).toordinal()
        self._log(self.steps + 1, i, j, stage, date.toordinal())

    def stage_name(self, i: int, j: int) -> str:
        """Stage of state row i in treaty column j, by name."""
        code = int(self.stage[i, j])
        return "not_party" if code == NOT_PARTY else STAGES[code]

    def _log(self, step: int, i: int, j: int, stage: int, date: int) -> None:
        r = self.records
        r.event_step.append(step)
        r.event_state.append(i)
        r.event_treaty.append(j)
        r.event_stage.append(stage)
        r.event_date.append(date)

    def _record_state(self, k: int) -> None:
        r = self.records
        if r.threat is not None and r.commitment is not None and r.stage is not None:
            r.threat[k] = self.threat
            r.commitment[k] = self.commitment
            r.stage[k] = self.stage
        elif r.counts is not None:
            for j in range(self.stage.shape[1]):
                column = self.stage[:, j]
                r.counts[k, j] = np.bincount(column[column >= 0], minlength=len(STAGES))

    # ----------------------------------------------------------------------------------------
    # summaries for the demo and tests

    def count_reached(self, treaty: str, stage: str) -> int:
        """States in a stage now; from announced on, also those gone further down the pipeline."""
        column = self.stage[:, self.world.treaties.index(treaty)]
        target = CODE[stage]
        if ANNOUNCED <= target <= WITHDRAWN:
            return int(((column >= target) & (column <= WITHDRAWN)).sum())
        return int((column == target).sum())
