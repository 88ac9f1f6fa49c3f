"""Pluggable decision rules: when does a state want to leave a treaty?

A rule turns the model's state arrays into two boolean arrays of shape ``(..., states, treaties)``:
who wants to exit, and who (having started an exit) would now retract. The pipeline that follows a
decision (parliament, deposit, notice) is the same for every rule and lives in
:mod:`treatysim.model.pipeline`. Rules are registered by name and chosen in a scenario with
``parameters.rule``. Every array may carry leading batch axes (replications), so one rule call can
decide for a whole batch of replications at once.

References:
    Granovetter, M. (1978). Threshold models of collective behavior. AJS 83(6), 1420-1443.
    Watts, D. J. (2002). A simple model of global cascades on random networks. PNAS 99(9).
    Walt, S. M. (1987). The Origins of Alliances. Cornell University Press.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class DecisionInputs:
    """What a rule may look at, for one step.

    Every array has optional leading batch axes; ``n`` is the number of states and ``k`` the
    number of treaties.

    Attributes:
        threat: Perceived threat, shape (..., n), threat units.
        threat_sensitivity: Pressure per threat unit, shape (..., n).
        commitment: Commitment per treaty, shape (..., n, k), commitment units.
        threshold_shift: Idiosyncratic threshold shift drawn per replication, shape (..., n, k).
        peer_share: Weighted share of the reference network that has moved, shape (..., n, k).
        peer_count: Number of neighbours (any weight) that have moved, shape (..., n, k); only
            filled in for rules that set ``uses_peer_count``.
        fixed_threshold: Per-state threshold for threshold rules, shape (..., n).
        margin: Hysteresis before retraction (pressure units; a number, or shape (..., 1, 1)).
        deliberation_margin: Hysteresis before a deliberating state drops the idea (pressure
            units; a number, or shape (..., 1, 1)).
    """

    threat: FloatArray
    threat_sensitivity: FloatArray
    commitment: FloatArray
    threshold_shift: FloatArray
    peer_share: FloatArray
    peer_count: FloatArray
    fixed_threshold: FloatArray
    margin: float | FloatArray
    deliberation_margin: float | FloatArray = 0.0


@dataclass(frozen=True)
class Verdict:
    """What the model's step needs from a rule, computed once: see :meth:`DecisionRule.judge`.

    Attributes:
        wants_exit: Pressure past the threshold, shape (..., n, k).
        wants_retract: A state on its way out would retract, shape (..., n, k).
        wants_return: A deliberating state would drop the idea, shape (..., n, k).
        pressure: Broadcastable to (..., n, k).
        threshold: Broadcastable to (..., n, k).
    """

    wants_exit: BoolArray
    wants_retract: BoolArray
    wants_return: BoolArray
    pressure: FloatArray
    threshold: FloatArray


@dataclass(frozen=True)
class Decision:
    """The quantities of one step's decision, each of shape (..., n, k) (states × treaties).

    Attributes:
        pressure: The push towards exit (:meth:`DecisionRule.pressure`).
        threshold: The pressure needed to start an exit (:meth:`DecisionRule.threshold`).
        wants_exit: Whether the state wants to leave the treaty (pressure past threshold).
        wants_retract: Whether a state on its way out would now retract.
    """

    pressure: FloatArray
    threshold: FloatArray
    wants_exit: BoolArray
    wants_retract: BoolArray


class DecisionRule:
    """Base class of decision rules.

    Subclasses set ``name`` and implement :meth:`pressure` and :meth:`threshold`. A state wants
    to exit when its pressure exceeds its threshold, and would retract when pressure falls more
    than the margin below it. Rules hold no random state and no reference to a model, so they
    pickle and give the same decisions for the same inputs.
    """

    name: ClassVar[str] = ""
    #: Whether pressure must strictly exceed the threshold (True) or may equal it.
    strict: ClassVar[bool] = True
    #: Whether the rule reads ``peer_count`` (the model skips computing it otherwise).
    uses_peer_count: ClassVar[bool] = False

    def pressure(self, inputs: DecisionInputs) -> FloatArray:
        """The push towards exit, broadcastable to shape (..., n, k)."""
        raise NotImplementedError

    def threshold(self, inputs: DecisionInputs) -> FloatArray:
        """The pressure needed to start an exit, broadcastable to shape (..., n, k)."""
        raise NotImplementedError

    def decide(self, inputs: DecisionInputs) -> tuple[BoolArray, BoolArray]:
        """Who wants to leave which treaty, and who (if on the way out) would now retract.

        Returns:
            ``(wants_exit, wants_retract)``, each of shape (..., n, k).
        """
        verdict = self.judge(inputs)
        return verdict.wants_exit, verdict.wants_retract

    def judge(self, inputs: DecisionInputs) -> Verdict:
        """Exit, retraction and return decisions with the pressure and threshold behind them.

        A deliberating state returns to being a plain party when its pressure falls more than
        the deliberation margin below its threshold (hysteresis: between the two it keeps
        deliberating without announcing).
        """
        pressure, threshold = self.pressure(inputs), self.threshold(inputs)
        wants_exit = pressure > threshold if self.strict else pressure >= threshold
        wants_retract = pressure < threshold - inputs.margin
        wants_return = pressure < threshold - inputs.deliberation_margin
        shape = np.shape(wants_exit)
        if shape != np.shape(inputs.commitment) or not (
            shape == np.shape(wants_retract) == np.shape(wants_return)
        ):  # (the common case, all of one shape already, skips three broadcasts)
            shape = np.broadcast_shapes(shape, np.shape(inputs.commitment))
            wants_exit = np.broadcast_to(wants_exit, shape)
            wants_retract = np.broadcast_to(wants_retract, shape)
            wants_return = np.broadcast_to(wants_return, shape)
        return Verdict(wants_exit, wants_retract, wants_return, pressure, threshold)

    def explain(self, inputs: DecisionInputs) -> Decision:
        """What this rule compares and decides for every state and treaty, for reading.

        The model steps with :meth:`decide`; this gives the same decision together with the
        pressure and threshold behind it, broadcast to the full shape (..., n, k). The demo and
        :class:`~treatysim.agents.state.StateAgent` read it.
        """
        shape = inputs.commitment.shape
        pressure = np.broadcast_to(self.pressure(inputs), shape).astype(float)
        threshold = np.broadcast_to(self.threshold(inputs), shape).astype(float)
        wants_exit, wants_retract = self.decide(inputs)
        return Decision(pressure, threshold, wants_exit, wants_retract)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))


class ThreatCommitmentRule(DecisionRule):
    """The treaty model's rule: threat pressure against commitment.

    Pressure is threat sensitivity × perceived threat (Walt 1987); the threshold is the state's
    commitment to the treaty (eroded by peers' exits, raised by stigma) plus an idiosyncratic
    shift, never below zero. A state that perceives no threat (a source's ally) never wants out
    for threat reasons, however eroded its commitment.
    """

    name = "threat_commitment"

    def pressure(self, inputs: DecisionInputs) -> FloatArray:
        """Sensitivity × threat, the same for every treaty of a state (shape (..., n, 1))."""
        return (inputs.threat * inputs.threat_sensitivity)[..., None]

    def threshold(self, inputs: DecisionInputs) -> FloatArray:
        """Commitment plus the state's idiosyncratic shift, floored at zero."""
        return np.maximum(inputs.commitment + inputs.threshold_shift, 0.0)


class FractionalThresholdRule(DecisionRule):
    """Granovetter (1978) and Watts (2002): act once enough neighbours have acted.

    Pressure is the share of a state's (weighted) neighbours that have moved; the threshold is
    the state's fixed threshold. Ties count (``>=``), so a threshold of 0 acts at once. As in
    the classic models, acting is for good: these rules never retract.
    """

    name = "fractional_threshold"
    strict = False

    def judge(self, inputs: DecisionInputs) -> Verdict:
        """Act when pressure reaches the threshold; never retract, never drop the idea."""
        verdict = super().judge(inputs)
        never = np.zeros(verdict.wants_exit.shape, dtype=bool)
        return Verdict(verdict.wants_exit, never, never, verdict.pressure, verdict.threshold)

    def pressure(self, inputs: DecisionInputs) -> FloatArray:
        """Share of neighbours that have moved."""
        return inputs.peer_share

    def threshold(self, inputs: DecisionInputs) -> FloatArray:
        """Each state's fixed threshold, the same for every treaty (shape (..., n, 1))."""
        return inputs.fixed_threshold[..., None]


class CountThresholdRule(FractionalThresholdRule):
    """Granovetter's riot in counts: act once at least ``threshold`` others have acted."""

    name = "count_threshold"
    uses_peer_count = True

    def pressure(self, inputs: DecisionInputs) -> FloatArray:
        """Number of neighbours that have moved."""
        return inputs.peer_count


#: Registered rules by name.
RULES: dict[str, type[DecisionRule]] = {
    rule.name: rule for rule in (ThreatCommitmentRule, FractionalThresholdRule, CountThresholdRule)
}


def make_rule(name: str) -> DecisionRule:
    """Instantiate a registered rule.

    Raises:
        KeyError: No rule of that name is registered.
    """
    return RULES[name]()
