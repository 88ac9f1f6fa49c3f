"""The state agent shows the quantities of its decision: what the rule weighs, and decides."""

from __future__ import annotations

import numpy as np
import pytest

from treatysim.agents.state import StateAgent, current_decision
from treatysim.model.treaty_model import TreatyModel
from treatysim.model.world import build_world
from treatysim.scenario.bundled import bundled_or_path
from treatysim.scenario.load import load_scenario


def model_of(name: str, seed: int = 3) -> TreatyModel:
    loaded = load_scenario(bundled_or_path(name))
    world = build_world(loaded.model, loaded.base_dir)
    return TreatyModel(world, rng=np.random.default_rng(seed))


def test_threat_commitment_by_hand():
    """Pressure = sensitivity × felt threat (Walt); threshold = max(commitment + shift, 0)."""
    model = model_of("teaching/baltic_simple")
    n = model.commitment.shape[0]
    model.threat[:] = np.linspace(0.0, 1.0, n)
    assert not model.in_conflict.any()  # no state is at war in this scenario
    model.commitment[:] = 0.5
    model.threshold_shift[:] = 0.0
    model.threshold_shift[0, :] = -1.0  # floored at zero
    state: StateAgent = model.states[0]
    other: StateAgent = model.states[n - 1]
    treaty = model.world.treaties[0]
    sensitivity = float(model.sensitivity[n - 1])
    assert other.pressure[treaty] == pytest.approx(sensitivity * 1.0)
    assert other.threshold[treaty] == pytest.approx(0.5)
    assert other.wants_exit[treaty] == (sensitivity > 0.5)
    assert state.pressure[treaty] == pytest.approx(0.0)
    assert state.threshold[treaty] == 0.0
    assert state.wants_exit[treaty] is False  # the rule is strict: 0 > 0 is false
    assert set(state.pressure) == set(model.world.treaties)


@pytest.mark.parametrize(
    "name", ["teaching/baltic_simple", "teaching/granovetter_riot", "teaching/watts_cascade"]
)
def test_the_agents_show_the_rules_inputs_and_decision(name):
    model = model_of(name)
    for _ in range(5):
        model.step()
    inputs = model.decision_inputs()
    wants_exit, _ = model.rule.decide(inputs)
    shape = model.commitment.shape
    pressure = np.broadcast_to(model.rule.pressure(inputs), shape)
    threshold = np.broadcast_to(model.rule.threshold(inputs), shape)
    for agent in model.states:
        for j, treaty in enumerate(model.world.treaties):
            assert agent.pressure[treaty] == pressure[agent.index, j]
            assert agent.threshold[treaty] == threshold[agent.index, j]
            assert agent.wants_exit[treaty] == wants_exit[agent.index, j]


def test_granovetter_pressure_is_the_share_of_neighbours_that_moved():
    model = model_of("teaching/granovetter_riot")
    model.step()
    treaty = model.world.treaties[0]
    for agent in model.states:
        assert agent.pressure[treaty] == model.peer_share[agent.index, 0]
        assert agent.threshold[treaty] == model.thresholds[agent.index]


def test_the_decision_is_computed_once_per_step():
    model = model_of("teaching/baltic_simple")
    first = current_decision(model)
    assert current_decision(model) is first
    model.step()
    assert current_decision(model) is not first
