"""The model's parameters, grouped by mechanism (``parameters:`` in a scenario file).

Every number has a default, a unit, bounds and a source; ``docs/ODD.md``'s parameter table is
generated from these fields (:mod:`treatysim.scenario.doc`).
"""

from __future__ import annotations

from pydantic import Field

from treatysim.scenario.types import Frozen, param

#: The decision rules a scenario may name in ``parameters.rule``. The rules themselves live in
#: :mod:`treatysim.agents.rules` (a layer above), whose registry has exactly these names.
RULE_NAMES = ("threat_commitment", "fractional_threshold", "count_threshold")


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
        "1998), before the attribute terms below; a state's override replaces the total.",
        ge=0, le=5, source="Finnemore & Sikkink 1998",
    )  # fmt: skip
    stigma_core_group: float = param(
        0.0, "commitment units", "Stigma added for membership of the Ottawa-process core group "
        "(1996–97; column apmbc_core_group): the norm's entrepreneurs (Finnemore & Sikkink 1998). "
        "Founding-scenario prior uniform 0–0.6.",
        ge=0, le=5, source="Finnemore & Sikkink 1998; APMBC ISU, 'History'; prior",
    )  # fmt: skip
    stigma_host: float = param(
        0.0, "commitment units", "Stigma added for having hosted the convention's adoption, "
        "signing or a formal meeting (column apmbc_hosted). Founding-scenario prior uniform 0–0.6.",
        ge=0, le=5, source="Finnemore & Sikkink 1998 (organisational platforms); prior",
    )  # fmt: skip
    stigma_presidency: float = param(
        0.0, "commitment units per presidency", "Stigma added per presidency of a Meeting of "
        "States Parties or Review Conference, 1999–2024 (column apmbc_presidencies). "
        "Founding-scenario prior uniform 0–0.3.",
        ge=0, le=5, source="APMBC meeting records (sim/data/README.md); prior",
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
    parliament_second_chamber: float = param(
        0.0, "share of parliament_months", "Extra time to the vote where a second chamber must "
        "also pass the statute: parliament_months × (1 + this × (chambers − 1)), chambers from "
        "the column parliament_chambers. Founding-scenario prior uniform 0–0.8.",
        ge=0, le=5, source="Constitution of Poland Art. 89(1), 121(2) (Senate: 30 days); IPU "
        "Parline; prior",
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
