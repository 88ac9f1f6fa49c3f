"""A shared timeline with another particle's credibility equals a full compilation (issue 11).

Calibration particles that differ only in the numbers that set the credibility of allied
guarantees share one compiled timeline (:func:`treatysim.model.credibility.with_credibility`).
These tests compare every track of such a world with a timeline compiled from scratch.
"""

from __future__ import annotations

import numpy as np
import pytest

from treatysim.calibration.treaty import TreatySimulator
from treatysim.model.credibility import compress, with_credibility
from treatysim.model.timeline import Timeline, Track, compile_timeline
from treatysim.model.world import build_world
from treatysim.scenario.load import load_scenario

from modelkit import SCENARIOS

VARIANTS = [
    {"events.us_reassurance_drop.credibility": 0.25},
    {"events.us_reassurance_drop.credibility": 0.71, "events.ceasefire.guarantee_change": -0.3},
    {"events.ceasefire.guarantee_change": 0.45, "parameters.threat.reassurance_weight": 0.2},
    {"parameters.threat.initial_credibility": 0.35, "parameters.threat.sensitivity": 3.1},
    {"events.us_reassurance_drop.credibility": 0.6, "events.ceasefire.freed_share": 0.9},
]


def tracks(timeline: Timeline) -> dict[str, bytes]:
    """Every track's dense values as bytes (an exact comparison)."""
    return {n: v.dense().tobytes() for n, v in vars(timeline).items() if isinstance(v, Track)}


def test_particles_get_exactly_the_timeline_a_full_compilation_gives() -> None:
    base = load_scenario(SCENARIOS / "ceasefire_2025.yaml")
    sim = TreatySimulator(base, [], "ottawa")  # worlds only: no targets needed
    sim.world({})  # compiles and caches the base's timeline
    for params in VARIANTS:
        world = sim.world(params)
        fresh = compile_timeline(build_world(sim.particle_scenario(params), base.base_dir))
        assert tracks(world.timeline) == tracks(fresh), params
        assert world.timeline.forced == fresh.forced
    # the first four share the base's compiled timeline; freed_share needs its own
    assert len(sim._timelines) == 2


def test_the_credibility_drop_changes_the_discounted_threat() -> None:
    """The shortcut does change what it should (so the comparison above can fail)."""
    base = load_scenario(SCENARIOS / "ottawa_2025.yaml")
    world = build_world(base.model, base.base_dir)
    other = build_world(
        base.model.model_copy(
            update={
                "events": [
                    e.model_copy(update={"credibility": 0.05})
                    if e.id == "us_reassurance_drop"
                    else e
                    for e in base.model.events
                ]
            }
        ),
        base.base_dir,
    )
    patched = with_credibility(world.timeline, other)
    assert tracks(patched) != tracks(world.timeline)
    assert tracks(patched) == tracks(compile_timeline(other))


@pytest.mark.parametrize("shape", [(7,), (7, 3), (7, 2, 2)])
def test_compress_keeps_one_row_per_run_of_equal_values(shape) -> None:
    dense = np.zeros(shape)
    dense[3:5] = 1.0
    dense[6] = -0.0  # bytewise different from 0.0: its own row, as the compiler keeps it
    track = compress(dense)
    assert track.index.tolist() == [0, 0, 0, 1, 1, 2, 3]
    assert np.array_equal(track.dense(), dense)
    assert len(track.rows) == 4
