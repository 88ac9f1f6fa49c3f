"""The state agent and the threat-source agent.

The model owns every state variable in numpy arrays (one row per state), so that a step is a
handful of array operations and can run on a batch of replications at once. Agents are readable
views onto their row: ``model.states`` lists them, and ``agent.threat`` or ``agent.stage`` read
the current values.

What a state decides is readable here too. Each step, the model's decision rule
(:mod:`treatysim.agents.rules`) weighs a *pressure* against a *threshold* for every state and
treaty; a party whose pressure passes its threshold *wants to exit* and starts down the
withdrawal pipeline (deliberating, announced, approved, notified, withdrawn). A state agent
shows those quantities for its own row:

* under the treaty model's rule, pressure is the state's threat sensitivity times the threat it
  feels, perceived in the way of Walt's balance of threat (1987: power, proximity, offensive
  capability and intent), and the threshold is its commitment to the treaty;
* under the fractional-threshold rule of Granovetter (1978) and Watts (2002), pressure is the
  share of its neighbours that have already moved and the threshold is the state's own.

References:
    Walt, S. M. (1987). The Origins of Alliances. Cornell University Press.
    Granovetter, M. (1978). Threshold models of collective behavior. AJS 83(6), 1420-1443.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from treatysim.agents.rules import Decision, FloatArray
    from treatysim.model.treaty_model import TreatyModel

#: The decision each model last explained, with the step it belongs to (one per step, not one
#: per agent and property: computing it reads the arrays of every state).
_EXPLAINED: weakref.WeakKeyDictionary[TreatyModel, tuple[int, Decision]] = (
    weakref.WeakKeyDictionary()
)


def current_decision(model: TreatyModel) -> Decision:
    """The model's decision rule applied to the model's state now, for every state and treaty.

    The rule sees what it sees when the model steps (:meth:`TreatyModel.decision_inputs`), so
    ``wants_exit`` is what the next step's decision would be without the step's own updates of
    threat and commitment. The result is computed once per model step.
    """
    cached = _EXPLAINED.get(model)
    if cached is not None and cached[0] == model.steps:
        return cached[1]
    decision = model.rule.explain(model.decision_inputs())
    _EXPLAINED[model] = (model.steps, decision)
    return decision


class StateAgent(mesa.Agent):
    """A state: perceives threat, holds commitments, moves through each treaty's pipeline.

    Args:
        model: The model that owns the state arrays.
        index: This state's row in the model's arrays.
    """

    model: TreatyModel

    def __init__(self, model: TreatyModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def iso3(self) -> str:
        """The state's id (ISO3 code)."""
        return self.model.world.ids[self.index]

    @property
    def name(self) -> str:
        """Display name."""
        return self.model.world.names[self.index]

    @property
    def threat(self) -> float:
        """Perceived threat (threat units)."""
        return float(self.model.threat[self.index])

    @property
    def commitment(self) -> dict[str, float]:
        """Commitment to each treaty (commitment units)."""
        row = self.model.commitment[self.index]
        return {t: float(row[k]) for k, t in enumerate(self.model.world.treaties)}

    @property
    def stage(self) -> dict[str, str]:
        """Stage in each treaty (``not_party`` where the state never was a party)."""
        return {
            t: self.model.stage_name(self.index, k) for k, t in enumerate(self.model.world.treaties)
        }

    @property
    def in_armed_conflict(self) -> bool:
        """Whether the state is engaged in armed conflict."""
        return bool(self.model.in_conflict[self.index])

    # -- the decision -----------------------------------------------------------------------

    def _per_treaty(self, values: FloatArray) -> dict[str, float]:
        row = values[self.index]
        return {t: float(row[k]) for k, t in enumerate(self.model.world.treaties)}

    @property
    def pressure(self) -> dict[str, float]:
        """The push towards leaving each treaty, as the decision rule weighs it now.

        Threat/commitment rule: threat sensitivity × felt threat (Walt 1987), in pressure units.
        Threshold rules: the share (or count) of neighbours that have moved (Granovetter 1978).
        """
        return self._per_treaty(current_decision(self.model).pressure)

    @property
    def threshold(self) -> dict[str, float]:
        """The pressure at which the state wants to leave each treaty.

        Threat/commitment rule: commitment plus the state's idiosyncratic shift, at least zero.
        Threshold rules: the state's own threshold (Granovetter 1978).
        """
        return self._per_treaty(current_decision(self.model).threshold)

    @property
    def wants_exit(self) -> dict[str, bool]:
        """Whether the pressure has passed the threshold, per treaty (the rule's decision).

        For a party this starts an exit; a state already on its way out keeps going.
        """
        row = current_decision(self.model).wants_exit[self.index]
        return {t: bool(row[k]) for k, t in enumerate(self.model.world.treaties)}

    def __repr__(self) -> str:
        return f"StateAgent({self.iso3}, threat={self.threat:.2f}, stage={self.stage})"


class ThreatSourceAgent(mesa.Agent):
    """A threat source (e.g. RUS): capability, the share tied down elsewhere, allies.

    Args:
        model: The model that owns the source arrays.
        index: This source's position in the model's source arrays.
    """

    model: TreatyModel

    def __init__(self, model: TreatyModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def source_id(self) -> str:
        """The source's id (ISO3 code)."""
        return self.model.world.sources.ids[self.index]

    @property
    def allies(self) -> tuple[str, ...]:
        """Allies whose territory extends the source's reach."""
        return self.model.world.sources.allies[self.index]

    @property
    def available_power(self) -> float:
        """Power available against states in the last step (relative power units)."""
        return float(self.model.power[self.index])

    @property
    def tied_down_share(self) -> float:
        """Share of capability tied down elsewhere now."""
        return self.model.tied_down_share_at(self.index, self.model.now_months)

    def stance(self, iso3: str) -> float:
        """Perceived intent towards a state (0 friendly, 1 hostile)."""
        return float(self.model.world.sources.intent[self.index, self.model.world.index(iso3)])

    def __repr__(self) -> str:
        return f"ThreatSourceAgent({self.source_id}, power={self.available_power:.2f})"
