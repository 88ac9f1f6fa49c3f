"""Decision rules: one contract every registered rule must pass (in the manner of Axelrod's
strategy tests), plus checks of each rule's own meaning."""

from __future__ import annotations

import functools
import pickle
from typing import ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from treatysim.agents.rules import RULES, DecisionInputs, DecisionRule, make_rule
from treatysim.model.pipeline import CODE
from treatysim.model.world import World, build_world
from treatysim.run.runner import apply_overrides
from treatysim.scenario.load import load_scenario
from treatysim.scenario.schema import PIPELINE_STAGES

from modelkit import SCENARIOS, run

FORWARD = {stage: n for n, stage in enumerate(PIPELINE_STAGES)}


@functools.cache
def world_with(sets: tuple[str, ...]) -> World:
    loaded = apply_overrides(load_scenario(SCENARIOS / "ottawa_2025.yaml"), list(sets))
    return build_world(loaded.model, loaded.base_dir)


def random_inputs(
    rng: np.random.Generator, batch: tuple[int, ...], n: int, k: int
) -> DecisionInputs:
    return DecisionInputs(
        threat=rng.random((*batch, n)),
        threat_sensitivity=rng.random(n) * 3,
        commitment=rng.random((*batch, n, k)),
        threshold_shift=rng.normal(0, 0.2, (*batch, n, k)),
        peer_share=rng.random((*batch, n, k)),
        peer_count=rng.integers(0, 5, (*batch, n, k)).astype(float),
        fixed_threshold=rng.random(n),
        margin=0.2,
    )


class RuleContract:
    """What every decision rule must do. Subclasses name the rule and a world that moves."""

    rule_name: ClassVar[str]
    sets: ClassVar[list[str]]

    @pytest.fixture
    def world(self) -> World:
        return world_with((f"parameters.rule={self.rule_name}", *self.sets))

    def test_registered_under_its_name(self) -> None:
        assert RULES[self.rule_name].name == self.rule_name
        assert isinstance(make_rule(self.rule_name), DecisionRule)

    def test_pickles_and_decides_the_same_after(self) -> None:
        rule = make_rule(self.rule_name)
        clone = pickle.loads(pickle.dumps(rule))
        assert clone == rule
        inputs = random_inputs(np.random.default_rng(1), (), 12, 2)
        for a, b in zip(rule.decide(inputs), clone.decide(inputs), strict=True):
            assert np.array_equal(a, b)

    def test_same_seed_same_decisions(self, world: World) -> None:
        _, first = run(world, seed=11)
        _, second = run(world, seed=11)
        assert first == second
        assert any(c.stage == "announced" for c in first), "the world should make some state move"

    def test_never_moves_a_state_backwards_except_by_retraction(self, world: World) -> None:
        """Forward only, except a retraction, and a deliberating state dropping the idea (it
        returns to party); a suspended state moves on only to an announced withdrawal."""
        for seed in range(20):
            model, changes = run(world, seed=seed)
            stage: dict[tuple[str, str], str] = {}
            for change in changes:
                key = (change.state, change.treaty)
                before = stage.get(key, "party")
                if change.stage == "retracted":
                    assert before in {"announced", "approved", "notified"}
                elif change.stage == "suspended":
                    assert before == "deliberating"
                elif change.stage == "party":
                    assert before == "deliberating", f"{key}: {before} -> party"
                elif before == "suspended":
                    assert change.stage == "announced", f"{key}: suspended -> {change.stage}"
                else:
                    assert before in FORWARD, f"{key}: {before} -> {change.stage}"
                    assert FORWARD[change.stage] > FORWARD[before], (
                        f"{key}: {before} -> {change.stage}"
                    )
                stage[key] = change.stage
            for (state, treaty), last in stage.items():
                i, j = model.world.index(state), model.world.treaties.index(treaty)
                assert model.stage[i, j] == CODE[last]


class TestThreatCommitmentRule(RuleContract):
    rule_name = "threat_commitment"
    sets: ClassVar[list[str]] = []

    def test_no_threat_means_no_exit_whatever_the_commitment(self) -> None:
        inputs = random_inputs(np.random.default_rng(3), (), 6, 1)
        inputs = DecisionInputs(
            **{**inputs.__dict__, "threat": np.zeros(6), "commitment": -np.ones((6, 1))}
        )
        wants_exit, _ = make_rule("threat_commitment").decide(inputs)
        assert not wants_exit.any()

    def test_exit_exactly_when_pressure_exceeds_commitment(self) -> None:
        inputs = DecisionInputs(
            threat=np.array([0.5, 0.7, 0.6]),
            threat_sensitivity=np.ones(3),
            commitment=np.full((3, 1), 0.6),
            threshold_shift=np.zeros((3, 1)),
            peer_share=np.zeros((3, 1)),
            peer_count=np.zeros((3, 1)),
            fixed_threshold=np.zeros(3),
            margin=0.05,
        )
        wants_exit, wants_retract = make_rule("threat_commitment").decide(inputs)
        assert wants_exit[:, 0].tolist() == [False, True, False]
        assert wants_retract[:, 0].tolist() == [True, False, False]


class TestFractionalThresholdRule(RuleContract):
    rule_name = "fractional_threshold"
    sets: ClassVar[list[str]] = [
        "states.overrides.EST.threshold=0",
        "states.overrides.LVA.threshold=0.1",
        "states.overrides.LTU.threshold=0.2",
        "parameters.pipeline.deliberation_months=0",
    ]

    def test_threshold_zero_acts_alone_and_ties_count(self) -> None:
        inputs = random_inputs(np.random.default_rng(4), (), 3, 1)
        inputs = DecisionInputs(
            **{
                **inputs.__dict__,
                "peer_share": np.array([[0.0], [0.25], [0.2]]),
                "fixed_threshold": np.array([0.0, 0.25, 0.3]),
            }
        )
        wants_exit, _ = make_rule("fractional_threshold").decide(inputs)
        assert wants_exit[:, 0].tolist() == [True, True, False]


class TestCountThresholdRule(RuleContract):
    rule_name = "count_threshold"
    sets: ClassVar[list[str]] = [
        "states.overrides.EST.threshold=0",
        "states.overrides.LVA.threshold=1",
        "states.overrides.LTU.threshold=2",
        "parameters.pipeline.deliberation_months=0",
    ]

    def test_counts_neighbours_not_shares(self) -> None:
        inputs = random_inputs(np.random.default_rng(5), (), 2, 1)
        inputs = DecisionInputs(
            **{
                **inputs.__dict__,
                "peer_count": np.array([[2.0], [1.0]]),
                "peer_share": np.array([[0.01], [0.9]]),
                "fixed_threshold": np.array([2.0, 2.0]),
            }
        )
        wants_exit, _ = make_rule("count_threshold").decide(inputs)
        assert wants_exit[:, 0].tolist() == [True, False]


@pytest.mark.parametrize("rule_name", sorted(RULES))
@settings(max_examples=30, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), batch=st.integers(1, 4))
def test_a_batch_decides_like_its_replications_one_by_one(
    rule_name: str, seed: int, batch: int
) -> None:
    """Rules are array code: a stack of replications gives each replication's decisions."""
    rule = make_rule(rule_name)
    stacked = random_inputs(np.random.default_rng(seed), (batch,), 9, 2)
    exit_all, retract_all = rule.decide(stacked)
    assert exit_all.shape == retract_all.shape == (batch, 9, 2)
    for b in range(batch):
        single = DecisionInputs(
            threat=stacked.threat[b],
            threat_sensitivity=stacked.threat_sensitivity,
            commitment=stacked.commitment[b],
            threshold_shift=stacked.threshold_shift[b],
            peer_share=stacked.peer_share[b],
            peer_count=stacked.peer_count[b],
            fixed_threshold=stacked.fixed_threshold,
            margin=stacked.margin,
        )
        exit_one, retract_one = rule.decide(single)
        assert np.array_equal(exit_all[b], exit_one)
        assert np.array_equal(retract_all[b], retract_one)


def test_every_registered_rule_has_a_contract_test() -> None:
    tested = {cls.rule_name for cls in RuleContract.__subclasses__()}
    assert tested == set(RULES)
    assert len(RULES) == len({rule.name for rule in RULES.values()})
