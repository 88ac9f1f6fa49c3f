"""Issue 12's mechanisms, each checked by hand on the hand world (see tests/modelkit.py).

The hand world: each of EST, LVA and LTU borders Russia or its ally Belarus (proximity 1, intent
1). Russia's capability is 1 with half of it tied down, so each one's threat is 0.5 and, with
sensitivity 1, its pressure is 0.5, below its commitment of 0.6. No noise, almost no memory,
every waiting time zero. Weekly steps from 2025-01-01: step k ends on 2025-01-01 + 7k days.
The escalation (factor 1.5 from 2025-02-27) gives step 9 a mean power of 0.714 and every later
step 0.75, so a state at sensitivity 1 crosses 0.6 on step 9.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from treatysim.model.calendar import add_months
from treatysim.model.dynamics import hazard
from treatysim.model.world import World, build_world
from treatysim.scenario.errors import ValidationError
from treatysim.scenario.load import load_scenario_text

from modelkit import first, hand_text, run

ESCALATION = """
events:
  - type: escalation
    date: 2025-02-27
    source: RUS
    capability_factor: 1.5
"""
CONFLICT_END = """
  - type: armed_conflict_end
    date: 2026-03-11
    state: EST
"""
AT_WAR = "{EST: {in_armed_conflict: true}}"


def world(
    include: str = "EST",
    extra: str = ESCALATION,
    overrides: str = "{}",
    treaty: str = "",
    pipeline: str = "",
    threat: str = "",
) -> World:
    """The hand world with extra treaty, pipeline and threat keys (YAML lines)."""
    text = hand_text(include, extra, overrides)
    if treaty:
        text = text.replace(
            "armed_conflict_blocks_exit: true", f"armed_conflict_blocks_exit: true\n    {treaty}"
        )
    if pipeline:
        text = text.replace("retraction_months: 0.01", f"retraction_months: 0.01\n    {pipeline}")
    if threat:
        text = text.replace("reassurance_weight: 0.0", threat)
    return build_world(load_scenario_text(text, "hand.yaml").model)


# -- 2. the war's clock and suspension ------------------------------------------------------


def test_a_state_at_war_waits_for_a_peers_deposit_then_suspends() -> None:
    """EST at war feels 0.5 + 1 (conflict threat) = 1.5 > 0.6 and deliberates from step 1, but
    no party has deposited (trigger 1), so it waits. LVA crosses on step 9 and, with zero
    waits, deposits on step 9, after EST's turn in that step's order; EST sees the deposit on
    step 10 (2025-03-12), where 1.5 − 0.6 > the cost 0.2: it suspends (allowed)."""
    _, changes = run(world("EST, LVA", overrides=AT_WAR, treaty="suspension_allowed: true"))
    assert first(changes, "EST", "deliberating").step == 1
    assert first(changes, "LVA", "notified").step == 9
    suspended = first(changes, "EST", "suspended")
    assert suspended is not None and suspended.step == 10
    assert suspended.date == dt.date(2025, 3, 12)
    assert first(changes, "EST", "announced") is None


def test_alone_at_war_a_state_never_moves() -> None:
    """Without a peer that deposits, the trigger is never met: EST deliberates and waits."""
    _, changes = run(world("EST", overrides=AT_WAR, treaty="suspension_allowed: true"))
    assert [c.stage for c in changes if c.state == "EST"] == ["deliberating"]


def test_the_cost_of_moving_at_war() -> None:
    """With a cost of 5 pressure units, EST's excess of about 1.15 never pays: no move."""
    _, changes = run(
        world(
            "EST, LVA", overrides=AT_WAR, treaty="suspension_allowed: true",
            pipeline="conflict_move_cost: 5",
        )
    )  # fmt: skip
    assert first(changes, "LVA", "notified") is not None
    assert [c.stage for c in changes if c.state == "EST"] == ["deliberating"]


def test_without_suspension_the_withdrawal_waits_for_the_conflicts_end() -> None:
    """suspension_allowed false: no suspension stage. EST announces on step 10 and, with zero
    waits, is notified on 2025-03-12; its notice ends 2025-09-12 but the conflict (to
    2026-03-11, step 62) keeps it bound: withdrawn on step 62, dated 2026-03-11."""
    _, changes = run(world("EST, LVA", extra=ESCALATION + CONFLICT_END, overrides=AT_WAR))
    assert all(c.stage != "suspended" for c in changes)
    assert first(changes, "EST", "announced").step == 10
    notified = first(changes, "EST", "notified")
    assert notified.date == dt.date(2025, 3, 12)
    withdrawn = first(changes, "EST", "withdrawn")
    assert withdrawn is not None and withdrawn.step == 62
    assert withdrawn.date == dt.date(2026, 3, 11) > add_months(notified.date, 6)


def test_suspension_allowed_changes_the_tables() -> None:
    """The key is read: the same world with true and false gives different stage histories."""
    runs = [
        run(world("EST, LVA", overrides=AT_WAR, treaty=f"suspension_allowed: {flag}"))[1]
        for flag in ("true", "false")
    ]
    assert runs[0] != runs[1]


def test_a_suspended_state_moves_on_to_withdrawal_once_its_conflict_ends() -> None:
    """EST suspends on step 10. Its conflict ends on 2026-03-11 (step 62); its pressure is then
    0.75 (no conflict threat) > 0.6, so it announces on step 62 and, with zero waits, is
    notified that day; the withdrawal takes effect six months later, 2026-09-11."""
    _, changes = run(
        world("EST, LVA", ESCALATION + CONFLICT_END, AT_WAR, treaty="suspension_allowed: true")
    )
    assert first(changes, "EST", "suspended").step == 10
    announced = first(changes, "EST", "announced")
    assert announced is not None and announced.step == 62
    withdrawn = first(changes, "EST", "withdrawn")
    assert withdrawn is not None and withdrawn.date == dt.date(2026, 9, 11)


# -- 3. joint decisions ----------------------------------------------------------------------

TOGETHER = """
groups:
  front:
    members: [EST, LVA, LTU]
    decide: together
    joint_threshold: {share}
"""


def test_a_group_announces_together_past_the_lower_group_threshold() -> None:
    """Pressure 0.5 on each of EST, LVA, LTU: alone, none moves (0.5 < 0.6). With a group
    threshold of 0.8 × 0.6 = 0.48 < 0.5, every member is ready on step 1 and all three announce
    on step 1 (the first member's deliberation time is zero)."""
    _, alone = run(world("EST, LVA, LTU", extra=""))
    assert alone == []
    _, changes = run(world("EST, LVA, LTU", extra=TOGETHER.format(share=0.8)))
    assert {first(changes, s, "announced").step for s in ("EST", "LVA", "LTU")} == {1}


def test_a_group_waits_for_its_least_ready_member() -> None:
    """LTU at sensitivity 0.5 feels 0.25 < 0.48: the group does not move on step 1. On step 9 EST
    and LVA (0.714 > 0.6) move by themselves; LTU (0.357) never does, and the group, whose only
    pending member is then LTU, never carries it."""
    _, changes = run(
        world("EST, LVA, LTU", extra=ESCALATION + TOGETHER.format(share=0.8),
              overrides="{LTU: {threat_sensitivity: 0.5}}")
    )  # fmt: skip
    assert first(changes, "EST", "announced").step == 9
    assert first(changes, "LVA", "announced").step == 9
    assert first(changes, "LTU", "announced") is None


FOLLOW = """
groups:
  pair:
    members: [EST, LVA]
    decide: follow
    leader: EST
    joint_threshold: 0.7
    follow_months: 0
"""


def test_a_follower_follows_its_leader_within_the_lag() -> None:
    """LVA's commitment is 1.0: alone it never moves (0.75 < 1.0). EST crosses on step 9 and
    has moved by the end of it; LVA is ready (0.75 > 0.7 × 1.0) and with a lag of 0 months it
    follows on step 10."""
    overrides = "{LVA: {commitment: {ottawa: 1.0}}}"
    _, alone = run(world("EST, LVA", overrides=overrides))
    assert first(alone, "LVA", "announced") is None
    _, changes = run(world("EST, LVA", extra=ESCALATION + FOLLOW, overrides=overrides))
    assert first(changes, "EST", "announced").step == 9
    assert first(changes, "LVA", "announced").step == 10


def test_a_follower_lag_is_exponential() -> None:
    """With a mean lag of 2 months, each week's chance is 1 − exp(−(7/30.4375)/2) ≈ 0.109; over
    200 seeds the follower's first week (step 10) is hit in about that share of runs."""
    overrides = "{LVA: {commitment: {ottawa: 1.0}}}"
    w = world("EST, LVA", extra=ESCALATION + FOLLOW.replace("follow_months: 0", "follow_months: 2"),
              overrides=overrides)  # fmt: skip
    p = float(hazard(7 / 30.4375, 2.0))
    assert p == pytest.approx(0.1087, abs=1e-3)
    hits = sum(first(run(w, seed=s)[1], "LVA", "announced").step == 10 for s in range(200))
    assert abs(hits / 200 - p) < 4 * np.sqrt(p * (1 - p) / 200)


def test_a_leader_must_be_a_member() -> None:
    """Positioned error: the leader named is not in the group."""
    text = hand_text("EST, LVA", FOLLOW.replace("leader: EST", "leader: LTU"))
    with pytest.raises(ValidationError) as caught:
        load_scenario_text(text, "hand.yaml")
    (problem,) = caught.value.problems
    assert "groups.pair.leader" in str(problem) and "not a member" in str(problem)
    assert str(problem).startswith("hand.yaml:")


# -- 4. deliberation returns to party --------------------------------------------------------

SHIFT = """
  - type: government_change
    date: 2025-03-12
    state: EST
    commitment_shift: {shift}
"""


@pytest.mark.parametrize(("shift", "returns"), [(0.4, True), (0.2, False)])
def test_deliberation_returns_to_party_when_pressure_falls(shift: float, returns: bool) -> None:
    """EST deliberates from step 9 with a mean deliberation time of 120 months (this seed's
    draws do not end it). On step 10 a new government raises its threshold to 0.6 + shift while
    pressure is 0.75. Shift 0.4: 0.75 < 1.0 − 0.1 (the margin): EST drops the idea on step 10.
    Shift 0.2: 0.7 ≤ 0.75 < 0.8, inside the band: it keeps deliberating (hysteresis)."""
    w = world("EST", ESCALATION + SHIFT.format(shift=shift), "{EST: {deliberation_months: 120}}")
    model, changes = run(w, seed=3)
    p = float(w.hazards.deliberation[8, 0])
    assert (model.draws.uniforms[8:12, 0, 0, 0] >= p).all()  # deliberation does not end
    assert first(changes, "EST", "deliberating").step == 9
    back = first(changes, "EST", "party")
    if returns:
        assert back is not None and back.step == 10
    else:
        assert back is None
        assert model.stage_name(0, 0) == "deliberating"
        assert first(changes, "EST", "announced") is None


# -- 5. the ceasefire's channels -------------------------------------------------------------

CEASEFIRE = """
events:
  - type: ceasefire
    date: 2025-03-01
    source: RUS
    freed_share: {freed}
    ramp_months: 0
    intent_factor: {intent}
    guarantee_change: {guarantee}
"""


def discounted(freed: float, intent: float, guarantee: float) -> tuple[float, float]:
    """EST's discounted threat before and after the ceasefire, with a reassurance weight 0.5."""
    w = world(
        "EST",
        CEASEFIRE.format(freed=freed, intent=intent, guarantee=guarantee),
        threat="reassurance_weight: 0.5",
    )
    track = w.timeline.discounted
    return float(track.at(0)[0]), float(track.at(w.calendar.n_steps)[0])


def test_freed_forces_alone_raise_the_threat() -> None:
    """Before: power 0.5 × (1 − 0.5 × credibility 1) = 0.25. Freeing all tied-down forces: 0.5."""
    before, after = discounted(1.0, 1.0, 0.0)
    assert before == pytest.approx(0.25) and after == pytest.approx(0.5)


def test_a_ceasefire_can_lower_the_threat() -> None:
    """Freed 0.2 of the tied-down half: power 0.6; intent × 0.5 → 0.3; guarantees unchanged →
    0.3 × 0.5 = 0.15 < 0.25: the net effect is negative."""
    before, after = discounted(0.2, 0.5, 0.0)
    assert after == pytest.approx(0.15) and after < before


def test_weaker_guarantees_raise_the_threat() -> None:
    """Guarantees −0.4: credibility 0.6, discount 1 − 0.5 × 0.6 = 0.7; power 1.0 × intent 0.5
    × 0.7 = 0.35."""
    _, after = discounted(1.0, 0.5, -0.4)
    assert after == pytest.approx(0.35)


def test_the_ceasefire_sign_reaches_the_decision() -> None:
    """EST at 0.6 − ε commitment: with all forces freed (threat 1.0 undiscounted) it moves on the
    ceasefire's step; with the intent halved as well (0.5) it stays just below and never moves
    (pressure 0.5 < 0.6)."""
    up = world("EST", CEASEFIRE.format(freed=1.0, intent=1.0, guarantee=0.0))
    down = world("EST", CEASEFIRE.format(freed=1.0, intent=0.5, guarantee=0.0))
    assert first(run(up)[1], "EST", "announced").date == dt.date(2025, 3, 5)
    assert first(run(down)[1], "EST", "announced") is None


@pytest.mark.parametrize(
    ("extra", "where", "message"),
    [
        (
            "groups:\n  pair: {members: [EST, LVA], decide: follow}\n",
            "groups.pair",
            "needs `leader`",
        ),
        (
            "groups:\n  pair: {members: [EST, LVA], joint_threshold: 1.5}\n",
            "groups.pair.joint_threshold",
            "must be <= 1.0 (got 1.5)",
        ),
        (
            CEASEFIRE.format(freed=0.5, intent=1.0, guarantee=0.0)
            + "    guarantee_targets: [NARNIA]\n",
            "events[0].guarantee_targets[0]",
            "unknown state or group 'NARNIA'",
        ),
        (
            CEASEFIRE.format(freed=0.5, intent=3.0, guarantee=0.0),
            "events[0].intent_factor",
            "must be <= 2.0 (got 3.0)",
        ),
    ],
)
def test_new_keys_are_validated_with_positions(extra: str, where: str, message: str) -> None:
    """Bad values of the new keys: one positioned line each (file:line:col: key.path: message)."""
    with pytest.raises(ValidationError) as caught:
        load_scenario_text(hand_text("EST, LVA", extra), "hand.yaml")
    lines = [str(p) for p in caught.value.problems]
    assert any(
        line.startswith("hand.yaml:") and f" {where}:" in line and message in line for line in lines
    ), lines


# -- 1. the spin-up from the full-scale invasion ---------------------------------------------


def test_the_spin_up_summary_states_the_moves_before_2025() -> None:
    """ottawa_2022 starts on 2022-02-24; its summary's moved_by_date for 2024-12-31 equals the
    share of runs (and mean number of states) with a first move (announced or suspended) on or
    before that day, counted here from the events table directly."""
    import pandas as pd

    import treatysim as ts
    from treatysim.analysis.run_summary import Layout, summarize

    result = ts.simulate("ottawa_2022", replications=12)
    world = result.simulation.world
    assert world.calendar.start == dt.date(2022, 2, 24)
    summary = summarize(result.runs, result.events, Layout.from_world(world))
    by = summary["treaties"]["ottawa"]["moved_by_date"]["2024-12-31"]
    ev = result.events
    moves = ev[(ev["treaty"] == "ottawa") & ev["stage"].isin(["announced", "suspended"])]
    first_move = moves.groupby(["run_id", "iso3"])["date"].min()
    early = first_move[pd.to_datetime(first_move) <= pd.Timestamp("2024-12-31")]
    per_run = early.groupby(level="run_id").size().reindex(result.runs["run_id"], fill_value=0)
    assert by["any"]["k"] == int((per_run > 0).sum()) and by["any"]["n"] == 12
    assert by["movers"]["mean"] == pytest.approx(per_run.mean())
