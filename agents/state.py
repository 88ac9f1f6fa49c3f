"""The state agent and the threat-source agent.

The model owns every state variable in numpy arrays (one row per state), so that a step is a
handful of array operations and can run on a batch of replications at once. Agents are readable
views onto their row: ``model.agents`` lists them, and ``agent.threat`` or ``agent.stage`` read
the current values, which is what the demo and a curious student look at.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from treatysim.model.treaty_model import TreatyModel


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
