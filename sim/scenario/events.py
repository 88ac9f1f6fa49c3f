"""Dated scenario events (``events:`` in a scenario file), one model per event type.

The type of each list item is told apart by its ``type`` key (a discriminated union).
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from treatysim.scenario.types import Date, Frozen, Name, Stage, StateId, param


class EventBase(Frozen):
    """Fields every event has."""

    id: Name | None = Field(None, description="Optional id, so sweeps can address the event.")
    date: Date = Field(description="Calendar date on which the event happens.")
    note: str = Field("", max_length=2000, description="Free text: what this event stands for.")
    scheduled_since: Date | None = Field(
        None,
        description=(
            "For an event fixed in advance (an inauguration, a planned exercise): the date from "
            "which its date was known. A backtest keeps an event dated after its cutoff only when "
            "this is on or before the cutoff; the event's sizes still need ex-ante provenance."
        ),
    )

    @model_validator(mode="after")
    def _scheduled_before(self) -> Self:
        if self.scheduled_since is not None and self.scheduled_since > self.date:
            raise ValueError(
                f"scheduled_since {self.scheduled_since} is after the event's date {self.date}"
            )
        return self


class Ceasefire(EventBase):
    """A ceasefire, through four channels whose net sign the model works out.

    Forces freed (raise the source's available power), allied guarantees (change the
    credibility of allied guarantees among the guarantee targets, up or down), the source's
    perceived intent (scaled towards every state), and the end of named states' armed conflicts.
    """

    type: Literal["ceasefire"]
    source: StateId = Field(description="The threat source whose forces are freed.")
    freed_share: float = param(
        0.5, "share", "Share of the tied-down capability that is freed.",
        ge=0, le=1, source="Pevkur (FT, 2025-03-30): ~300k of ~600k troops redeployable",
    )  # fmt: skip
    ramp_months: float = param(
        6.0, "months", "Months over which the freed forces become available.",
        ge=0, le=120, source="prior: redeployment and reconstitution take months",
    )  # fmt: skip
    guarantee_change: float = param(
        0.0, "share (credibility)", "Change in the credibility of allied guarantees among the "
        "guarantee targets (a guaranteed settlement raises it, a settlement imposed over allies' "
        "heads lowers it).",
        ge=-1, le=1, source="prior: centred on zero, sign unknown ex ante",
    )  # fmt: skip
    guarantee_targets: list[str] = Field(
        default_factory=lambda: ["all"],
        description="States or groups whose allied guarantees the ceasefire changes.",
    )
    intent_factor: float = param(
        1.0, "factor", "Multiplies the source's perceived intent towards every state (below 1: "
        "the ceasefire is read as lower hostility; Walt 1987's intent).",
        ge=0, le=2, source="prior: no change unless the scenario says so",
    )  # fmt: skip
    ends_conflict_for: list[StateId] = Field(
        default_factory=list,
        description="States whose armed conflict ends with the ceasefire (e.g. UKR).",
    )


class Escalation(EventBase):
    """A lasting change in a source's capability (mobilisation, rearmament)."""

    type: Literal["escalation"]
    source: StateId
    capability_factor: float = Field(
        1.2, gt=0, le=10, description="Multiplies the source's capability (factor)."
    )
    ramp_months: float = Field(
        0.0, ge=0, le=120, description="Months over which the change builds up."
    )


class Exercise(EventBase):
    """A military exercise: a temporary rise in available capability (e.g. Zapad 2025)."""

    type: Literal["exercise"]
    source: StateId
    capability_boost: float = Field(
        0.2, ge=0, le=10, description="Added share of available capability during the exercise."
    )
    duration_months: float = Field(1.0, gt=0, le=60, description="Duration (months).")


class ArmedConflictStart(EventBase):
    """A state becomes engaged in armed conflict."""

    type: Literal["armed_conflict_start"]
    state: StateId


class ArmedConflictEnd(EventBase):
    """A state's armed conflict ends."""

    type: Literal["armed_conflict_end"]
    state: StateId


class NormCampaign(EventBase):
    """A norm campaign (naming and praising, Petrova 2019) that raises commitment for a while."""

    type: Literal["norm_campaign"]
    treaty: Name
    targets: list[str] = Field(
        default_factory=lambda: ["all"], description="ISO3 codes or groups reached."
    )
    strength: float = Field(
        0.2, ge=0, le=5, description="Commitment added while the campaign lasts (commitment units)."
    )
    duration_months: float = Field(12.0, gt=0, le=600, description="Duration (months).")


class Reassurance(EventBase):
    """Allies' reassurance changes the credibility of their guarantees (up or down)."""

    type: Literal["reassurance"]
    credibility: float = Field(
        ge=0, le=1, description="New credibility of allied guarantees from this date (0 to 1)."
    )
    targets: list[str] = Field(
        default_factory=lambda: ["all"], description="ISO3 codes or groups whose view changes."
    )


class GovernmentChange(EventBase):
    """A new government shifts a state's commitment and threat sensitivity."""

    type: Literal["government_change"]
    state: StateId
    commitment_shift: float = Field(
        0.0, ge=-5, le=5, description="Added to the baseline commitment to every treaty (units)."
    )
    threat_sensitivity_factor: float = Field(
        1.0, ge=0, le=10, description="Multiplies the state's threat sensitivity (factor)."
    )


class ForcedStage(EventBase):
    """Put a state into a stage on a date, for replaying history."""

    type: Literal["forced_stage"]
    state: StateId
    treaty: Name
    stage: Stage


Event = Annotated[
    Ceasefire
    | Escalation
    | Exercise
    | ArmedConflictStart
    | ArmedConflictEnd
    | NormCampaign
    | Reassurance
    | GovernmentChange
    | ForcedStage,
    Field(discriminator="type"),
]
EVENT_TYPES = (
    "ceasefire", "escalation", "exercise", "armed_conflict_start", "armed_conflict_end",
    "norm_campaign", "reassurance", "government_change", "forced_stage",
)  # fmt: skip
