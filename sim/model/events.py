"""Scenario events as handlers scheduled on Mesa's event list.

Each scenario event becomes one handler object whose bound ``fire`` method is scheduled with
``Model.schedule_event``. Mesa 3.5 keeps only weak references to callbacks, so the model keeps
its handlers in a list for the life of the run. An event dated within step k's period fires
half a step before step k runs, so its effect is in place for that step.

Effects that last (ramps, exercises, campaigns) are stored as time windows in months and read by
the model as averages over each step, which keeps them independent of the step length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from treatysim.model.pipeline import CODE
from treatysim.scenario import schema as sc

if TYPE_CHECKING:
    from treatysim.model.treaty_model import TreatyModel


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


class EventHandler:
    """Applies one scenario event to a model when it fires."""

    def __init__(self, model: TreatyModel, event: sc.EventBase) -> None:
        self.model = model
        self.event = event
        self.months = model.world.calendar.months_at(event.date)

    def fire(self) -> None:
        """Apply the event (called by Mesa's event list)."""
        raise NotImplementedError


class CeasefireHandler(EventHandler):
    """Frees a share of the forces tied down elsewhere, over a ramp; may end conflicts."""

    event: sc.Ceasefire

    def fire(self) -> None:
        """Add the freeing ramp to the source and end the named conflicts."""
        m, e = self.model, self.event
        s = m.source_index(e.source)
        freed = e.freed_share * m.tied_down_share_at(s, self.months)
        m.add_source_effect(s, "tied", -freed, Window(self.months, e.ramp_months))
        for state in e.ends_conflict_for:
            m.set_conflict(state, False, e.date)


class EscalationHandler(EventHandler):
    """Changes a source's capability by a factor, over a ramp."""

    event: sc.Escalation

    def fire(self) -> None:
        """Add a lasting capability change."""
        e = self.event
        s = self.model.source_index(e.source)
        self.model.add_source_effect(
            s, "factor", e.capability_factor - 1.0, Window(self.months, e.ramp_months)
        )


class ExerciseHandler(EventHandler):
    """A temporary boost of a source's available capability."""

    event: sc.Exercise

    def fire(self) -> None:
        """Add a boost for the exercise's duration."""
        e = self.event
        s = self.model.source_index(e.source)
        self.model.add_source_effect(
            s, "boost", e.capability_boost, Window(self.months, duration=e.duration_months)
        )


class ConflictStartHandler(EventHandler):
    """A state becomes engaged in armed conflict."""

    event: sc.ArmedConflictStart

    def fire(self) -> None:
        """Mark the state as at war."""
        self.model.set_conflict(self.event.state, True, self.event.date)


class ConflictEndHandler(EventHandler):
    """A state's armed conflict ends."""

    event: sc.ArmedConflictEnd

    def fire(self) -> None:
        """Mark the state as at peace."""
        self.model.set_conflict(self.event.state, False, self.event.date)


class NormCampaignHandler(EventHandler):
    """Raises commitment to a treaty among the targets for a while."""

    event: sc.NormCampaign

    def fire(self) -> None:
        """Add the campaign's commitment boost for its duration."""
        e = self.event
        targets = np.zeros(self.model.world.n_states)
        targets[self.model.state_indices(e.targets)] = e.strength
        k = self.model.world.treaties.index(e.treaty)
        self.model.add_campaign(k, targets, Window(self.months, duration=e.duration_months))


class ReassuranceHandler(EventHandler):
    """Sets the credibility of allied guarantees for the targets."""

    event: sc.Reassurance

    def fire(self) -> None:
        """Change the targets' credibility."""
        self.model.set_credibility(
            self.model.state_indices(self.event.targets), self.event.credibility
        )


class GovernmentChangeHandler(EventHandler):
    """A new government: commitment and threat sensitivity change."""

    event: sc.GovernmentChange

    def fire(self) -> None:
        """Shift commitment and scale threat sensitivity for the state."""
        i = self.model.world.index(self.event.state)
        self.model.commitment_shift[i] += self.event.commitment_shift
        self.model.sensitivity[i] *= self.event.threat_sensitivity_factor


class ForcedStageHandler(EventHandler):
    """Puts a state into a stage, for replaying history."""

    event: sc.ForcedStage

    def fire(self) -> None:
        """Force the stage."""
        e = self.event
        self.model.force_stage(e.state, e.treaty, CODE[e.stage], e.date)


HANDLERS: dict[str, type[EventHandler]] = {
    "ceasefire": CeasefireHandler,
    "escalation": EscalationHandler,
    "exercise": ExerciseHandler,
    "armed_conflict_start": ConflictStartHandler,
    "armed_conflict_end": ConflictEndHandler,
    "norm_campaign": NormCampaignHandler,
    "reassurance": ReassuranceHandler,
    "government_change": GovernmentChangeHandler,
    "forced_stage": ForcedStageHandler,
}
