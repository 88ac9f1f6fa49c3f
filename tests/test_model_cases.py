"""Cases checked by hand: small deterministic worlds whose every step a person can compute.

The hand world (see modelkit.HAND_SCENARIO): Estonia borders Russia (proximity 1, intent 1).
Russia's capability is 1 with half of it tied down, so Estonia's threat is 0.5 and its pressure
(sensitivity 1) is 0.5, below its commitment of 0.6. Perception has no noise and almost no memory
(0.01 months), and every waiting time in the pipeline is zero. Weekly steps from 2025-01-01: step
k ends on 2025-01-01 + 7k days, so step 9 covers (2025-02-26, 2025-03-05].
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from treatysim.model.calendar import add_months
from treatysim.model.world import build_world
from treatysim.scenario.load import load_scenario, load_scenario_text

from modelkit import SCENARIOS, first, hand_text, hand_world, run, scenario_world

ESCALATION = """
events:
  - type: escalation
    date: 2025-02-27
    source: RUS
    capability_factor: 1.5
"""


def test_pressure_below_threshold_means_no_move() -> None:
    """Without the escalation, pressure 0.5 < 0.6: Estonia never moves."""
    _, changes = run(hand_world())
    assert changes == []


def test_single_state_announces_on_the_step_pressure_crosses() -> None:
    """The escalation (factor 1.5 from 2025-02-27) is in force for 6 of step 9's 7 days, so the
    step's mean power is 0.5 × (1 + 0.5 × 6/7) = 0.714 > 0.6: Estonia announces on step 9 and,
    with zero waiting times, is approved and notified on the same step (2025-03-05)."""
    model, changes = run(hand_world(extra=ESCALATION))
    assert model.world.calendar.dates[9] == dt.date(2025, 3, 5)
    steps = {c.stage: c.step for c in changes}
    assert steps["deliberating"] == steps["announced"] == steps["notified"] == 9
    assert first(changes, "EST", "announced").date == dt.date(2025, 3, 5)


def test_withdrawal_takes_effect_exactly_one_notice_period_after_notification() -> None:
    """Notified 2025-03-05 + 6 months = 2025-09-05, which falls in step 36 (2025-09-03, 09-10]."""
    model, changes = run(hand_world(extra=ESCALATION))
    notified = first(changes, "EST", "notified")
    withdrawn = first(changes, "EST", "withdrawn")
    assert notified is not None and withdrawn is not None
    assert withdrawn.date == add_months(notified.date, 6) == dt.date(2025, 9, 5)
    assert withdrawn.step == 36
    assert model.stage_name(0, 0) == "withdrawn"


CONFLICT = (
    ESCALATION
    + """
  - type: armed_conflict_start
    date: 2025-04-01
    state: EST
  - type: armed_conflict_end
    date: 2026-03-11
    state: EST
"""
)


def test_armed_conflict_keeps_a_notified_state_bound_until_it_ends() -> None:
    """Estonia is notified on 2025-03-05 and at war from 2025-04-01. Under Art. 20(3) it is still
    bound when the notice ends (2025-09-05) and leaves on the step the conflict ends: 2026-03-11
    ends step 62 (2026-03-04, 2026-03-11]."""
    model, changes = run(hand_world(extra=CONFLICT))
    withdrawn = first(changes, "EST", "withdrawn")
    assert withdrawn is not None
    assert withdrawn.step == 62
    assert withdrawn.date == dt.date(2026, 3, 11)
    assert model.world.calendar.dates[62] == dt.date(2026, 3, 11)
    # nothing else happened in between: notified, then withdrawn
    stages = [c.stage for c in changes if c.step > 9]
    assert stages == ["withdrawn"]


def test_without_the_clause_war_does_not_delay_the_exit() -> None:
    """The same history under a treaty without an armed-conflict clause: out on 2025-09-05."""
    text = hand_text(extra=CONFLICT).replace(
        "armed_conflict_blocks_exit: true", "armed_conflict_blocks_exit: false"
    )
    _, changes = run(build_world(load_scenario_text(text, "hand.yaml").model))
    assert first(changes, "EST", "withdrawn").date == dt.date(2025, 9, 5)


def test_a_state_at_war_suspends_instead_of_announcing() -> None:
    """A state already at war when it decides cannot leave under Art. 20(3); where the treaty
    allows suspension and no peer's exit is needed (trigger 0), it suspends instead."""
    text = hand_text(extra=ESCALATION, overrides="{EST: {in_armed_conflict: true}}")
    text = text.replace(
        "armed_conflict_blocks_exit: true",
        "armed_conflict_blocks_exit: true\n    suspension_allowed: true",
    )
    text = text.replace(
        "retraction_months: 0.01", "retraction_months: 0.01\n    conflict_exit_trigger: 0"
    )
    _, changes = run(build_world(load_scenario_text(text, "hand.yaml").model))
    assert first(changes, "EST", "suspended") is not None
    assert first(changes, "EST", "announced") is None


RETRACTION = (
    ESCALATION
    + """
  - type: government_change
    date: 2025-05-14
    state: EST
    commitment_shift: 2.0
"""
)


def test_retraction_during_the_notice_period() -> None:
    """A new government on 2025-05-14 (step 19 ends 2025-05-14) raises commitment by 2: pressure
    0.714 falls far below the new threshold minus the margin, and with a retraction time of 0.01
    months the state retracts on that step; it never withdraws."""
    _, changes = run(hand_world(extra=RETRACTION))
    retracted = first(changes, "EST", "retracted")
    assert retracted is not None
    assert retracted.step == 19
    assert first(changes, "EST", "withdrawn") is None


ALLY = """
events:
  - type: escalation
    date: 2025-02-27
    source: RUS
    capability_factor: 10.0
"""


@pytest.mark.parametrize("seed", range(5))
def test_a_sources_ally_never_announces_for_threat_reasons(seed: int) -> None:
    """Belarus borders Russia but is its ally: intent 0, so no threat, however strong Russia is,
    while its neighbours all leave."""
    world = hand_world(include="BLR, EST, LVA, LTU, POL, UKR", extra=ALLY)
    model, changes = run(world, seed=seed)
    assert model.threat[world.index("BLR")] == 0.0
    assert not [c for c in changes if c.state == "BLR"]
    assert {c.state for c in changes if c.stage == "announced"} >= {"EST", "LVA", "LTU", "POL"}


def test_ally_in_the_founding_scenario_never_moves() -> None:
    """Belarus, a party to the Ottawa Convention and Russia's ally, never moves in 100 runs."""
    world = scenario_world("ottawa_2025.yaml")
    for seed in range(100):
        _, changes = run(world, seed=seed)
        assert not [c for c in changes if c.state == "BLR"]


BLOC = """
groups:
  baltic:
    members: [EST, LVA, LTU]
    deposit_together: true
"""
PARLIAMENTS = (
    "{EST: {parliament_months: 1.0}, LVA: {parliament_months: 3.0}, LTU: {parliament_months: 6.0}}"
)


@pytest.mark.parametrize("seed", range(10))
def test_bloc_members_deposit_on_the_same_step(seed: int) -> None:
    """The Baltic bloc waits for its slowest parliament and deposits together, as on 2025-06-27."""
    world = hand_world("EST, LVA, LTU", ESCALATION + BLOC, PARLIAMENTS)
    world_steps = world.calendar
    _, changes = run(world, seed=seed)
    notified = {c.state: c.step for c in changes if c.stage == "notified"}
    approved = {c.state: c.step for c in changes if c.stage == "approved"}
    assert set(notified) == {"EST", "LVA", "LTU"}
    assert len(set(notified.values())) == 1
    assert max(approved.values()) == next(iter(notified.values()))
    assert world_steps.n_steps > max(notified.values())


def test_without_a_bloc_the_same_states_deposit_apart() -> None:
    """Control: the same parliaments without the bloc deposit on different steps for most seeds."""
    extra = ESCALATION + BLOC.replace("deposit_together: true", "deposit_together: false")
    apart = 0
    for seed in range(10):
        _, changes = run(hand_world("EST, LVA, LTU", extra, PARLIAMENTS), seed=seed)
        notified = {c.state: c.step for c in changes if c.stage == "notified"}
        apart += len(set(notified.values())) > 1
    assert apart >= 8


def test_same_seed_same_results_different_seed_different_results() -> None:
    world = scenario_world("ottawa_2025.yaml")
    a_model, a = run(world, seed=7, timeseries="full")
    b_model, b = run(world, seed=7, timeseries="full")
    _, c = run(world, seed=8)
    assert a == b
    assert np.array_equal(a_model.records.threat, b_model.records.threat)
    assert a != c


def test_agents_are_views_onto_the_model_arrays() -> None:
    model, _ = run(hand_world(extra=ESCALATION))
    (agent,) = model.states
    assert agent.iso3 == "EST"
    assert agent.stage == {"ottawa": "withdrawn"}
    model.threat[0] = 0.123
    assert agent.threat == pytest.approx(0.123)
    (source,) = model.sources
    assert source.source_id == "RUS"
    assert source.allies == ("BLR",)
    assert source.stance("EST") == 1.0


def test_two_treaties_and_spillover_from_one_exit_to_the_other() -> None:
    """ccm_lithuania runs the CCM and the Ottawa Convention together. Lithuania, with a low
    commitment to the CCM, leaves it in most runs; its CCM announcement lowers its commitment to
    the Ottawa Convention by the spillover, so with spillover it announces its Ottawa exit
    earlier than without in many runs and later in none (same seeds: a paired comparison; in
    the other runs the February 2025 shift triggers both at the same step)."""
    from treatysim.run.runner import apply_overrides

    def ottawa_announcements(sets: list[str]) -> tuple[int, list[int]]:
        loaded = apply_overrides(load_scenario(SCENARIOS / "ccm_lithuania.yaml"), sets)
        world = build_world(loaded.model, loaded.base_dir)
        left_ccm, days = 0, []
        for seed in range(30):
            _, changes = run(world, seed=seed)
            ccm = [c for c in changes if c.state == "LTU" and c.treaty == "ccm"]
            left_ccm += any(c.stage == "withdrawn" for c in ccm)
            ottawa = [
                c
                for c in changes
                if c.state == "LTU" and c.treaty == "ottawa" and c.stage == "announced"
            ]
            days.append(ottawa[0].date.toordinal() if ottawa else dt.date(2028, 1, 1).toordinal())
        return left_ccm, days

    left_ccm, with_spillover = ottawa_announcements([])
    _, without = ottawa_announcements(["parameters.commitment.spillover=0"])
    assert left_ccm >= 25
    earlier = sum(a < b for a, b in zip(with_spillover, without, strict=True))
    later = sum(a > b for a, b in zip(with_spillover, without, strict=True))
    assert earlier >= 10 and later == 0, (earlier, later)
