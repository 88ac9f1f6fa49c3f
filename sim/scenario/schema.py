"""The scenario language: pydantic models for scenario files.

A scenario file has one section per concern, as in the EMA Workbench's vocabulary: the calendar,
the treaties, the states (from a bundled dataset, with overrides), named groups, threat sources,
the influence network, the model's parameters, dated events, observed history and run settings.
Every model is frozen and forbids unknown keys; every number has bounds, a default and a unit in
its description. ``docs/ODD.md``'s parameter table is generated from these fields.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from treatysim.scenario.events import (
    EVENT_TYPES,
    ArmedConflictEnd,
    ArmedConflictStart,
    Ceasefire,
    Escalation,
    Event,
    EventBase,
    Exercise,
    ForcedStage,
    GovernmentChange,
    NormCampaign,
    Reassurance,
)
from treatysim.scenario.parameters import (
    CommitmentParameters,
    Parameters,
    PipelineParameters,
    ThreatParameters,
    ThresholdParameters,
)
from treatysim.scenario.population import (
    InitialActors,
    SyntheticNetwork,
    SyntheticPopulation,
    Thresholds,
)
from treatysim.scenario.provenance import Provenance
from treatysim.scenario.types import (
    PIPELINE_STAGES,
    SCHEMA_VERSION,
    SIDE_STAGES,
    STAGES,
    Date,
    Frozen,
    Name,
    Stage,
    StateId,
    Whole,
    param,
)

#: Names this module re-exports: ``from treatysim.scenario.schema import X`` works for every
#: part of the scenario language.
__all__ = [
    "EVENT_TYPES",
    "PIPELINE_STAGES",
    "SCHEMA_VERSION",
    "SIDE_STAGES",
    "STAGES",
    "ArmedConflictEnd",
    "ArmedConflictStart",
    "Calendar",
    "Ceasefire",
    "CommitmentParameters",
    "Date",
    "Escalation",
    "Event",
    "EventBase",
    "Exercise",
    "ForcedStage",
    "Frozen",
    "GovernmentChange",
    "Group",
    "InitialActors",
    "Name",
    "Network",
    "NetworkTies",
    "NormCampaign",
    "Observed",
    "ObservedStage",
    "Parameters",
    "Parties",
    "PipelineParameters",
    "Reassurance",
    "RunSettings",
    "Scenario",
    "Stage",
    "StateId",
    "StateOverride",
    "States",
    "SyntheticNetwork",
    "SyntheticPopulation",
    "ThreatParameters",
    "ThreatSource",
    "ThresholdParameters",
    "Thresholds",
    "Treaty",
    "Whole",
    "param",
]


# calendar, treaties, states, groups


class Calendar(Frozen):
    """The simulated period and the length of one step."""

    start: Date = Field(description="First day simulated (calendar date).")
    end: Date = Field(description="Last day simulated (calendar date, inclusive).")
    step: Literal["day", "week", "month"] = Field(
        "week", description="Length of one model step: a day, a week or a calendar month."
    )

    @model_validator(mode="after")
    def _end_after_start(self) -> Calendar:
        if self.end <= self.start:
            raise ValueError("calendar.end must be after calendar.start")
        if (self.end - self.start).days > 366 * 200:
            raise ValueError("the calendar spans more than 200 years")
        return self


class Parties(Frozen):
    """Which states are parties to a treaty at the calendar's start."""

    column: str | None = Field(
        None, description="A 0/1 column of the dataset that marks parties (e.g. ottawa_party_2025)."
    )
    include: list[str] = Field(
        default_factory=list, description="Further parties: ISO3 codes or group names."
    )
    exclude: list[str] = Field(
        default_factory=list, description="States that are not parties: ISO3 codes or groups."
    )


class Treaty(Frozen):
    """A treaty with an exit clause."""

    title: str = Field(min_length=1, max_length=200, description="The treaty's name.")
    notice_months: float = param(
        6.0, "calendar months", "Notice period: from notification until the exit takes effect.",
        ge=0, le=120, source="Ottawa Art. 20(3) and CCM Art. 20: six months",
    )  # fmt: skip
    armed_conflict_blocks_exit: bool = Field(
        False,
        description=(
            "Ottawa Art. 20(3): a state engaged in armed conflict when the notice ends stays bound "
            "until the conflict ends."
        ),
    )
    suspension_allowed: bool = Field(
        False,
        description=(
            "Whether a state engaged in armed conflict, whose exit the armed-conflict clause "
            "would hold up, may suspend the treaty's operation instead of announcing a "
            "withdrawal. When false there is no suspension stage: such a state announces a "
            "withdrawal, which takes effect only once its conflict ends (22MSP on Ukraine, 2025)."
        ),
    )
    parties: Parties = Field(
        default_factory=Parties, description="Who is a party at the start (default: every state)."
    )


class StateOverride(Frozen):
    """Per-state values that replace the scenario-wide parameter for that state."""

    threat_sensitivity: float | None = Field(
        None, ge=0, le=10, description="Pressure per unit of perceived threat (pressure/threat)."
    )
    stigma: float | None = Field(
        None,
        ge=0,
        le=5,
        description="Extra commitment from the norm's stigma (commitment units), the Norway type.",
    )
    commitment: dict[Name, Annotated[float, Field(ge=0, le=5)]] = Field(
        default_factory=dict,
        description="Baseline commitment per treaty id (commitment units).",
    )
    threshold: float | None = Field(
        None,
        ge=0,
        le=1e6,
        description=(
            "Fractional-threshold rule only: the state's threshold (share of neighbours, or a "
            "count of agents when the population counts in agents)."
        ),
    )
    deliberation_months: float | None = Field(
        None, ge=0, le=120, description="Mean deliberation time (months)."
    )
    parliament_months: float | None = Field(
        None, ge=0, le=120, description="Mean time from announcement to the vote (months)."
    )
    parliament_pass_probability: float | None = Field(
        None, ge=0, le=1, description="Probability that parliament approves (probability)."
    )
    deposit_months: float | None = Field(
        None, ge=0, le=120, description="Mean time from approval to deposit (months)."
    )
    in_armed_conflict: bool | None = Field(
        None, description="Engaged in armed conflict at the calendar's start."
    )


class States(Frozen):
    """Which states take part, from which dataset, with what overrides."""

    dataset: str = Field(
        "europe_2025",
        description="A bundled dataset name (europe_2025) or a CSV path relative to the file.",
    )
    include: list[str] = Field(
        default_factory=lambda: ["all"], description="ISO3 codes or group names to include."
    )
    exclude: list[str] = Field(
        default_factory=list, description="ISO3 codes or groups to leave out."
    )
    overrides: dict[StateId, StateOverride] = Field(
        default_factory=dict, description="Per-state values, keyed by ISO3 code."
    )
    synthetic: SyntheticPopulation | None = Field(
        None,
        description=(
            "A synthetic population of abstract agents (replaces the dataset): N agents, a "
            "generated network and thresholds, for the threshold rules."
        ),
    )


class Group(Frozen):
    """A named group of states."""

    members: list[str] = Field(min_length=1, description="ISO3 codes or other group names.")
    deposit_together: bool = Field(
        False,
        description=(
            "A bloc: members that have announced deposit their instruments on the same step "
            "(EE/LV/LT on 2025-06-27)."
        ),
    )
    description: str = Field("", max_length=2000, description="What the group is.")
    decide: Literal["alone", "together", "follow"] = Field(
        "alone",
        description=(
            "How the members decide: alone (each by its own rule), together (a joint "
            "announcement once every member still a party is past the group threshold) or "
            "follow (members follow the leader's announcement within a lag, if past the group "
            "threshold)."
        ),
    )
    leader: StateId | None = Field(
        None, description="The leader whose move the others follow (decide: follow only)."
    )
    joint_threshold: float = param(
        0.8, "share of own threshold", "Group threshold: a member is ready to move with the "
        "group when its pressure exceeds this share of its own threshold (coordination lowers "
        "the bar; Chwe 2001).",
        ge=0, le=1, source="prior: assurance among allies lowers the bar by a fifth",
    )  # fmt: skip
    follow_months: float = param(
        1.0, "months", "Mean lag (exponential) with which a ready follower announces after its "
        "leader has moved (decide: follow).",
        ge=0, le=60, source="prior: 2025 lags of days to weeks (PL 7 Mar → joint 18 Mar)",
    )  # fmt: skip

    @model_validator(mode="after")
    def _leader_only_when_following(self) -> Group:
        if self.decide == "follow" and self.leader is None:
            raise ValueError("a group that follows a leader needs `leader`")
        if self.decide != "follow" and self.leader is not None:
            raise ValueError("`leader` is only read when decide is follow")
        return self


# --------------------------------------------------------------------------------------------
# threat sources and network


class ThreatSource(Frozen):
    """A source of threat (a state) in Walt's balance-of-threat terms."""

    capability: float = param(
        1.0, "relative power units", "Military capability (1 = the source's 2025 level).",
        ge=0, le=100, source="normalisation",
    )  # fmt: skip
    tied_down_share: float = param(
        0.0, "share", "Share of capability tied down elsewhere, e.g. in the war in Ukraine.",
        ge=0, le=1, source="scenario; RUS 0.6 from Pevkur (FT, 2025-03-30)",
    )  # fmt: skip
    offensive: float = param(
        1.0, "dimensionless", "Offensive capability multiplier (Walt 1987).",
        ge=0, le=5, source="Walt 1987; normalisation",
    )  # fmt: skip
    allies: list[StateId] = Field(
        default_factory=list,
        description="Allies whose territory extends the source's reach (e.g. BLR for RUS).",
    )
    stance: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict,
        description=(
            "Perceived intent towards states or groups (0 = friendly, 1 = hostile). The source's "
            "allies are always 0."
        ),
    )
    default_intent: float = param(
        1.0, "0 to 1", "Perceived intent towards states not named in stance (Walt 1987).",
        ge=0, le=1, source="assumption: hostile towards all but allies",
    )  # fmt: skip


class NetworkTies(Frozen):
    """Weights of the tie types that make up the influence network."""

    land_border: float = param(
        1.0, "relative weight", "Weight of a shared land border in the influence network.",
        ge=0, le=100, source="normalisation (other ties are relative to it)",
    )  # fmt: skip
    nato: float = param(
        0.1, "relative weight", "Weight of a tie between two NATO members.",
        ge=0, le=100, source="assumption; calibrated",
    )  # fmt: skip
    eu: float = param(
        0.1, "relative weight", "Weight of a tie between two EU members.",
        ge=0, le=100, source="assumption; calibrated",
    )  # fmt: skip
    groups: dict[str, Annotated[float, Field(ge=0, le=100)]] = Field(
        default_factory=dict, description="Weight of a tie between two members of a named group."
    )


class Network(Frozen):
    """The influence network among states (weights are relative; rows are normalised)."""

    ties: NetworkTies = Field(default_factory=NetworkTies, description="Tie types and weights.")


# --------------------------------------------------------------------------------------------
# observed history and run settings


class ObservedStage(Frozen):
    """One dated stage that really happened."""

    iso3: StateId
    treaty: Name
    stage: Stage
    date: Date
    source: str = Field("", max_length=2000, description="Where the date comes from.")


class Observed(Frozen):
    """Observed history, for comparison only: it never drives the model."""

    dataset: str | None = Field(
        None, description="A bundled observed-stage table (observed_2025) or a CSV path."
    )
    records: list[ObservedStage] = Field(default_factory=list, description="Inline records.")


class RunSettings(Frozen):
    """How many replications to run, and from which root seed."""

    replications: Whole = Field(100, ge=1, le=10_000_000, description="Number of replications.")
    seed: Whole = Field(
        20250318, ge=0, le=2**63 - 1, description="Root seed; replications get spawned children."
    )
    timeseries: Literal["full", "counts", "none"] = Field(
        "full",
        description="Time series to record: per state (full), model-level counts, or none.",
    )
    primary_treaty: Name | None = Field(
        None, description="The treaty whose cascade the summary reports (default: the first)."
    )
    report_dates: list[Date] = Field(
        default_factory=list, description="Dates at which stage probabilities are reported."
    )


class Scenario(Frozen):
    """A complete scenario file."""

    schema_version: Literal[1] = Field(description="Version of the scenario language (1).")
    name: Name = Field(description="Short name, used for output folders.")
    description: str = Field("", max_length=20000, description="What the scenario represents.")
    calendar: Calendar
    treaties: dict[Name, Treaty] = Field(min_length=1, description="Treaties by id.")
    states: States = Field(default_factory=States)
    groups: dict[Name, Group] = Field(default_factory=dict, description="Named groups of states.")
    threat_sources: dict[StateId, ThreatSource] = Field(
        default_factory=dict, description="Threat sources by ISO3 code."
    )
    network: Network = Field(default_factory=Network)
    parameters: Parameters = Field(default_factory=Parameters)
    events: list[Event] = Field(default_factory=list, description="Dated events.")
    observed: Observed = Field(default_factory=Observed)
    run: RunSettings = Field(default_factory=RunSettings)
    provenance: dict[str, Provenance] = Field(
        default_factory=dict,
        description=(
            "Provenance of inputs, by key path (e.g. parameters.threat.sensitivity): ex_ante, "
            "observed or fitted, with a date and a source. The numbers stay plain."
        ),
    )

    @property
    def primary_treaty(self) -> str:
        """The treaty the summary reports on."""
        return self.run.primary_treaty or next(iter(self.treaties))
