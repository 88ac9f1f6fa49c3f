"""The compiled event timeline: a contract every registered event type passes.

Each event type compiles for a minimal scenario, has no effect before its date and some effect
from its step on, compiles the same way twice, pickles with its World, and every type in the
scenario schema's ``Event`` union is registered (like tests/test_rules.py's RuleContract).
"""

from __future__ import annotations

import datetime as dt
import pickle
import typing

import numpy as np
import pytest

from treatysim.model.timeline import COMPILERS, Timeline, Track, Window
from treatysim.model.world import World
from treatysim.scenario import schema as sc

from modelkit import first, hand_world, run

#: Step 9 of the hand calendar covers (2025-02-26, 2025-03-05].
DATE, STEP = "2025-03-01", 9

#: One event of each registered type, in the hand world (EST and LVA; RUS with BLR).
EXAMPLES = {
    "ceasefire": "{type: ceasefire, source: RUS, freed_share: 0.5, ramp_months: 2}",
    "escalation": "{type: escalation, source: RUS, capability_factor: 1.5, ramp_months: 1}",
    "exercise": "{type: exercise, source: RUS, capability_boost: 0.3, duration_months: 1}",
    "armed_conflict_start": "{type: armed_conflict_start, state: LVA}",
    "armed_conflict_end": "{type: armed_conflict_end, state: EST}",
    "norm_campaign": "{type: norm_campaign, treaty: ottawa, targets: [EST], strength: 0.2}",
    "reassurance": "{type: reassurance, credibility: 0.9, targets: [LVA]}",
    "government_change": (
        "{type: government_change, state: EST, commitment_shift: 0.2, "
        "threat_sensitivity_factor: 1.5}"
    ),
    "forced_stage": "{type: forced_stage, state: LVA, treaty: ottawa, stage: announced}",
}
OVERRIDES = "{EST: {in_armed_conflict: true}}"


def example_world(event_type: str | None, date: str = DATE) -> World:
    """The hand world with EST at war, and one event of a type (or none)."""
    extra = (
        "" if event_type is None else f"events:\n  - {{date: {date}, {EXAMPLES[event_type][1:]}\n"
    )
    return hand_world("EST, LVA", extra, OVERRIDES)


def tracks(timeline: Timeline) -> dict[str, np.ndarray]:
    """Every track's value at every step, by name (campaigns summed over their layers)."""
    out = {name: v.dense() for name, v in vars(timeline).items() if isinstance(v, Track)}
    out["campaigns"] = out["campaigns"].sum(axis=1)
    return out


def schema_event_types() -> set[str]:
    """The ``type`` of every event class in the scenario schema's ``Event`` union."""
    union = typing.get_args(sc.Event)[0]
    return {
        typing.get_args(cls.model_fields["type"].annotation)[0] for cls in typing.get_args(union)
    }


def test_every_event_type_of_the_schema_is_registered() -> None:
    assert set(COMPILERS) == schema_event_types() == set(EXAMPLES) == set(sc.EVENT_TYPES)


@pytest.mark.parametrize("event_type", sorted(COMPILERS))
class TestEventContract:
    """What every event type's compile function must do."""

    def test_compiles_with_no_effect_before_its_date(self, event_type: str) -> None:
        base = tracks(example_world(None).timeline)
        timeline = example_world(event_type).timeline
        with_event = tracks(timeline)
        for name, values in with_event.items():
            assert values.shape[0] == base[name].shape[0], name
            assert np.array_equal(values[:STEP], base[name][:STEP]), name
        changed = [n for n, v in with_event.items() if not np.array_equal(v[STEP:], base[n][STEP:])]
        assert changed or timeline.forced, "the event changes nothing"
        assert all(forced.step == STEP for forced in timeline.forced)

    def test_is_deterministic(self, event_type: str) -> None:
        a, b = example_world(event_type).timeline, example_world(event_type).timeline
        assert a.forced == b.forced
        for name, values in tracks(a).items():
            assert values.tobytes() == tracks(b)[name].tobytes(), name

    def test_pickles_with_the_world(self, event_type: str) -> None:
        world = example_world(event_type)
        timeline = world.timeline  # cached on the world, so pickled with it
        copy = pickle.loads(pickle.dumps(world))
        assert "timeline" in vars(copy)
        assert copy.timeline.forced == timeline.forced
        for name, values in tracks(copy.timeline).items():
            assert np.array_equal(values, tracks(timeline)[name]), name

    def test_the_model_runs_it_the_same_way_twice(self, event_type: str) -> None:
        world = example_world(event_type)
        (a, changes_a), (b, changes_b) = run(world, 3, "full"), run(world, 3, "full")
        assert changes_a == changes_b
        assert a.records.threat is not None and b.records.threat is not None
        assert a.records.threat.tobytes() == b.records.threat.tobytes()


def test_the_timeline_is_computed_once_per_world() -> None:
    world = example_world("ceasefire")
    assert world.timeline is world.timeline
    assert not world.timeline.power.rows.flags.writeable


def test_a_ceasefire_frees_a_share_of_the_forces_tied_down_when_it_happens() -> None:
    """Two ceasefires: the second frees half of what the first left tied down (0.5 → 0.25 →
    0.125), each over its ramp; power is capability × (1 − tied)."""
    extra = """
events:
  - {date: 2025-03-01, type: ceasefire, source: RUS, freed_share: 0.5, ramp_months: 0}
  - {date: 2025-06-01, type: ceasefire, source: RUS, freed_share: 0.5, ramp_months: 0}
"""
    world = hand_world(extra=extra)
    tied = world.timeline.tied_down.dense()[:, 0]
    step_june = world.calendar.step_of(dt.date(2025, 6, 1))
    assert tied[STEP - 1] == 0.5
    assert tied[STEP + 1] == pytest.approx(0.25)
    assert tied[step_june + 1] == pytest.approx(0.125)
    assert world.timeline.power.at(step_june + 1)[0] == pytest.approx(0.875)


def test_overlapping_campaigns_add_in_layers() -> None:
    """Two campaigns on the same state and treaty sit in two layers (their order kept)."""
    extra = """
events:
  - {date: 2025-03-01, type: norm_campaign, treaty: ottawa, strength: 0.1, duration_months: 6}
  - {date: 2025-04-01, type: norm_campaign, treaty: ottawa, strength: 0.2, duration_months: 6}
"""
    world = hand_world(extra=extra)
    campaigns = world.timeline.campaigns
    assert campaigns.rows.shape[1:] == (2, 1, 1)
    assert campaigns.at(20)[:, 0, 0].tolist() == [0.1, 0.2]
    assert campaigns.at(0).sum() == 0.0


def test_a_forced_stage_is_applied_on_its_step() -> None:
    _, changes = run(example_world("forced_stage"))
    forced = first(changes, "LVA", "announced")
    assert forced is not None
    assert (forced.step, forced.date) == (STEP, dt.date(2025, 3, 1))


def test_window_mean_level_of_a_ramp() -> None:
    ramp = Window(start=1.0, ramp=2.0)
    assert ramp.mean_level(0.0, 1.0) == 0.0
    assert ramp.mean_level(1.0, 3.0) == pytest.approx(0.5)
    assert ramp.mean_level(3.0, 4.0) == 1.0
    assert Window(start=1.0, duration=1.0).mean_level(0.5, 1.5) == pytest.approx(0.5)
