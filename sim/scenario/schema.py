"""The scenario language: pydantic models for scenario files.

A scenario file has one section per concern, as in the EMA Workbench's vocabulary: the calendar,
the treaties, the states (from a bundled dataset, with overrides), named groups, threat sources,
the influence network, the model's parameters, dated events, observed history and run settings.
Every model is frozen and forbids unknown keys; every number has bounds, a default and a unit in
its description. ``docs/ODD.md``'s parameter table is generated from these fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

SCHEMA_VERSION = 1

#: Stages of the withdrawal pipeline, in the order a state moves through them.
PIPELINE_STAGES = ("party", "deliberating", "announced", "approved", "notified", "withdrawn")
#: Stages outside the forward pipeline.
SIDE_STAGES = ("retracted", "suspended")
STAGES = PIPELINE_STAGES + SIDE_STAGES

StateId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,31}$",
        description="A state's id: its ISO 3166-1 alpha-3 code, or a synthetic agent's name.",
    ),
]
Name = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]{0,39}$",
        description="An identifier: lower case letters, digits and underscores.",
    ),
]


def _not_a_number(value: Any) -> Any:
    """Refuse numbers where a date is expected (pydantic would read 0 as 1970-01-01)."""
    if isinstance(value, bool | int | float):
        raise ValueError(f"expected a date written as YYYY-MM-DD, not the number {value!r}")
    return value


#: A calendar date; a bare number is an error, not a Unix timestamp.
Date = Annotated[dt.date, BeforeValidator(_not_a_number)]
#: A whole number; true/false are errors, not 1/0.
Whole = Annotated[int, Field(strict=True)]

Stage = Literal[
    "party", "deliberating", "announced", "approved", "notified", "withdrawn", "retracted",
    "suspended",
]  # fmt: skip


class Frozen(BaseModel):
    """Base for every scenario model: immutable, and unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


def param(default: Any, unit: str, description: str, *, ge: float, le: float, source: str) -> Any:
    """A model parameter: a bounded field whose default, unit, range and source are documented.

    Args:
        default: The documented default value.
        unit: The unit, as it will appear in the ODD parameter table.
        description: What the parameter does.
        ge: Lowest allowed value.
        le: Highest allowed value.
        source: Where the default comes from (literature, data, or calibration).
    """
    return Field(
        default,
        ge=ge,
        le=le,
        description=f"{description} Unit: {unit}.",
        json_schema_extra={"unit": unit, "source": source},
    )


# --------------------------------------------------------------------------------------------
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
            "Whether the treaty allows suspension of its operation. When false, a suspension is "
            "recorded but the state stays bound (22MSP on Ukraine, 2025)."
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


class SyntheticNetwork(Frozen):
    """The network of a synthetic population (generated with networkx)."""

    type: Literal[
        "complete", "erdos_renyi", "watts_strogatz", "barabasi_albert", "ring", "lattice",
        "edge_list",
    ] = Field(description="Graph family, or an edge list file.")  # fmt: skip
    mean_degree: float | None = Field(
        None, gt=0, le=1000, description="erdos_renyi: mean degree z (edges per node × 2 / n)."
    )
    neighbours: Whole | None = Field(
        None, ge=2, le=1000, description="watts_strogatz: each node's neighbours on the ring (k)."
    )
    rewiring: float | None = Field(
        None, ge=0, le=1, description="watts_strogatz: rewiring probability (p)."
    )
    attachments: Whole | None = Field(
        None, ge=1, le=1000, description="barabasi_albert: edges each new node attaches (m)."
    )
    file: str | None = Field(
        None,
        description="edge_list: CSV with columns source,target (agent ids or 0-based indices).",
    )
    seed: Whole | None = Field(
        None,
        ge=0,
        le=2**63 - 1,
        description=(
            "Seed of a random graph shared by every replication; omit it to draw a new graph in "
            "each replication from that replication's recorded seed. Complete graphs, rings, "
            "lattices and edge lists have no randomness and ignore it."
        ),
    )

    @model_validator(mode="after")
    def _needs(self) -> SyntheticNetwork:
        needs = {
            "erdos_renyi": ("mean_degree",),
            "watts_strogatz": ("neighbours", "rewiring"),
            "barabasi_albert": ("attachments",),
            "edge_list": ("file",),
        }.get(self.type, ())
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.type} network needs {', '.join(missing)}")
        return self


class Thresholds(Frozen):
    """Thresholds of a synthetic population (Granovetter 1978)."""

    distribution: Literal["list", "fixed", "uniform", "normal"] = Field(
        description="An explicit list, one value for all, or drawn in each replication."
    )
    values: list[Annotated[float, Field(ge=-1e6, le=1e6)]] | None = Field(
        None, description="list: one threshold per agent, in order."
    )
    value: float | None = Field(None, ge=0, le=1e6, description="fixed: the common threshold.")
    low: float | None = Field(None, ge=-1e6, le=1e6, description="uniform: lower bound.")
    high: float | None = Field(None, ge=-1e6, le=1e6, description="uniform: upper bound.")
    mean: float | None = Field(None, ge=-1e6, le=1e6, description="normal: mean.")
    sd: float | None = Field(None, ge=0, le=1e6, description="normal: standard deviation.")
    counted_in: Literal["fraction", "agents"] = Field(
        "fraction",
        description=(
            "fraction: share of neighbours (rule fractional_threshold); agents: number of "
            "neighbours (rule count_threshold)."
        ),
    )

    @model_validator(mode="after")
    def _needs(self) -> Thresholds:
        needs = {
            "list": ("values",),
            "fixed": ("value",),
            "uniform": ("low", "high"),
            "normal": ("mean", "sd"),
        }[self.distribution]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{self.distribution} thresholds need {', '.join(missing)}")
        uniform = self.distribution == "uniform" and self.low is not None and self.high is not None
        if uniform and self.low >= self.high:  # type: ignore[operator]
            raise ValueError("uniform thresholds need low < high")
        return self


class InitialActors(Frozen):
    """Who acts first."""

    kind: Literal["zero_threshold", "random"] = Field(
        "zero_threshold",
        description=(
            "zero_threshold: only agents whose threshold is met by nobody acting start it; "
            "random: `count` agents drawn in each replication act at the start."
        ),
    )
    count: Whole = Field(1, ge=0, le=1_000_000, description="random: how many initial actors.")


class SyntheticPopulation(Frozen):
    """A population of abstract agents instead of real states (teaching, theory checks)."""

    size: Whole = Field(ge=1, le=20_000, description="Number of agents.")
    id_prefix: str = Field(
        "A", pattern=r"^[A-Za-z][A-Za-z_]{0,7}$", description="Agent ids are prefix + number."
    )
    network: SyntheticNetwork
    thresholds: Thresholds
    initial_actors: InitialActors = Field(default_factory=InitialActors)

    @model_validator(mode="after")
    def _sizes(self) -> SyntheticPopulation:
        values = self.thresholds.values
        if values is not None and len(values) != self.size:
            raise ValueError(f"thresholds.values has {len(values)} entries for {self.size} agents")
        if self.initial_actors.count > self.size:
            raise ValueError("more initial actors than agents")
        return self

    def ids(self) -> list[str]:
        """The agents' ids: prefix and a zero-padded number (A000 … A099)."""
        width = len(str(self.size - 1))
        return [f"{self.id_prefix}{i:0{width}d}" for i in range(self.size)]


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
# parameters


class ThreatParameters(Frozen):
    """Threat perception after Walt (1987): power, proximity, offence and intent."""

    sensitivity: float = param(
        2.5, "pressure per threat unit", "How strongly perceived threat pushes a state to exit.",
        ge=0, le=10, source="calibrated to the 2025 cascade",
    )  # fmt: skip
    memory_months: float = param(
        1.0, "months", "Time constant over which perception follows the threat (smoothing).",
        ge=0.01, le=120, source="calibrated: announcements follow the Feb 2025 shift by ~5 weeks",
    )  # fmt: skip
    noise: float = param(
        0.1, "share of target per √month", "Volatility of perceived threat, relative to the "
        "level it moves towards (Ornstein–Uhlenbeck).",
        ge=0, le=2, source="assumption",
    )  # fmt: skip
    distance_decay_km: float = param(
        400.0, "km", "Distance over which power projection decays by a factor e (Walt: proximity).",
        ge=1, le=20000, source="Walt 1987; Boulding's loss-of-strength gradient; calibrated",
    )  # fmt: skip
    border_proximity: float = param(
        1.0, "dimensionless", "Proximity of a state that shares a land border with the source or "
        "its allies.", ge=0, le=1, source="Walt 1987",
    )  # fmt: skip
    alarm_spread: float = param(
        0.15, "share", "Share of the neighbours' mean perceived threat added to a state's own "
        "(alarm contagion).", ge=0, le=1, source="assumption; calibrated",
    )  # fmt: skip
    reassurance_weight: float = param(
        0.6, "share", "How much allied credibility discounts perceived threat: threat × "
        "(1 − weight × credibility).", ge=0, le=1, source="assumption (extended deterrence)",
    )  # fmt: skip
    initial_credibility: float = param(
        1.0, "share", "Credibility of allied guarantees at the start (0 to 1).",
        ge=0, le=1, source="assumption",
    )  # fmt: skip
    conflict_threat: float = param(
        1.0, "threat units", "Threat felt by a state engaged in armed conflict, added to its "
        "perceived threat when it decides (it does not spread as alarm).",
        ge=0, le=10, source="assumption",
    )  # fmt: skip


class CommitmentParameters(Frozen):
    """Commitment to each treaty: a norm that peers' exits erode and stigma reinforces."""

    baseline: float = param(
        0.6, "commitment units", "Baseline commitment to a treaty (the exit threshold's core).",
        ge=0, le=5, source="calibrated to the 2025 cascade",
    )  # fmt: skip
    memory_months: float = param(
        2.0, "months", "Time constant over which commitment follows its target.",
        ge=0.01, le=120, source="assumption",
    )  # fmt: skip
    peer_erosion: float = param(
        0.4, "commitment units per share", "Commitment lost per unit of the weighted share of "
        "the reference network that has announced or left (von Borzyskowski & Vabulas 2019).",
        ge=0, le=5, source="von Borzyskowski & Vabulas 2019; calibrated",
    )  # fmt: skip
    stigma: float = param(
        0.0, "commitment units", "Commitment added by the norm's stigma (Finnemore & Sikkink "
        "1998; Norway's 'maintain the stigma'). Set per state in overrides.",
        ge=0, le=5, source="Finnemore & Sikkink 1998",
    )  # fmt: skip
    spillover: float = param(
        0.15, "commitment units", "Commitment to other treaties lost when a state announces an "
        "exit from one (norm regress, Panke & Petersohn 2012).",
        ge=0, le=5, source="Panke & Petersohn 2012; assumption",
    )  # fmt: skip
    threshold_noise: float = param(
        0.15, "commitment units", "Standard deviation of each state's idiosyncratic threshold "
        "shift, drawn once per replication (domestic politics the model leaves out).",
        ge=0, le=5, source="assumption; calibrated",
    )  # fmt: skip


class PipelineParameters(Frozen):
    """The decision pipeline from deliberation to withdrawal."""

    deliberation_months: float = param(
        1.0, "months", "Mean time from deliberating to a public announcement (exponential).",
        ge=0, le=120, source="calibrated to the 2025 announcement dates (observed)",
    )  # fmt: skip
    parliament_months: float = param(
        2.5, "months", "Mean time from announcement to the parliament's vote (exponential).",
        ge=0, le=120, source="2025 votes: LV 1 month, EE 2.5, LT 1.7, FI 2.6, PL 4 (observed)",
    )  # fmt: skip
    parliament_pass_probability: float = param(
        0.95, "probability", "Probability that parliament approves the withdrawal.",
        ge=0, le=1, source="no 2025 parliament rejected; support 66–90% of seats",
    )  # fmt: skip
    deposit_months: float = param(
        1.0, "months", "Mean time from approval to the deposit of the instrument (exponential).",
        ge=0, le=120, source="2025: 3 weeks to 2.5 months (observed)",
    )  # fmt: skip
    retraction_months: float = param(
        6.0, "months", "Mean time to retract once pressure falls below threshold minus the margin.",
        ge=0.01, le=600, source="assumption (ICC 2016–17: South Africa, Gambia)",
    )  # fmt: skip
    retraction_margin: float = param(
        0.3, "pressure units", "How far pressure must fall below the threshold before a state "
        "considers retracting (hysteresis).", ge=0, le=5, source="assumption",
    )  # fmt: skip


class ThresholdParameters(Frozen):
    """The plain threshold rules (Granovetter 1978; Watts 2002)."""

    default: float = param(
        0.5, "share of neighbours (agents for count_threshold)", "Threshold of a state that has "
        "none set in states.overrides or a synthetic population.",
        ge=0, le=1e6, source="Watts 2002 uses a common threshold φ",
    )  # fmt: skip


class Parameters(Frozen):
    """Every model coefficient, grouped by mechanism."""

    rule: str = Field(
        "threat_commitment",
        description="Decision rule, by registered name: threat_commitment or fractional_threshold.",
    )
    threat: ThreatParameters = Field(default_factory=ThreatParameters)
    commitment: CommitmentParameters = Field(default_factory=CommitmentParameters)
    pipeline: PipelineParameters = Field(default_factory=PipelineParameters)
    threshold: ThresholdParameters = Field(default_factory=ThresholdParameters)


# --------------------------------------------------------------------------------------------
# events


class EventBase(Frozen):
    """Fields every event has."""

    id: Name | None = Field(None, description="Optional id, so sweeps can address the event.")
    date: Date = Field(description="Calendar date on which the event happens.")
    note: str = Field("", max_length=2000, description="Free text: what this event stands for.")


class Ceasefire(EventBase):
    """A ceasefire frees a source's forces tied down elsewhere, over a ramp."""

    type: Literal["ceasefire"]
    source: StateId = Field(description="The threat source whose forces are freed.")
    freed_share: float = Field(
        0.5, ge=0, le=1, description="Share of the tied-down capability that is freed (share)."
    )
    ramp_months: float = Field(
        6.0, ge=0, le=120, description="Months over which the freed forces become available."
    )
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

    @property
    def primary_treaty(self) -> str:
        """The treaty the summary reports on."""
        return self.run.primary_treaty or next(iter(self.treaties))
