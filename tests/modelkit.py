"""Small scenarios written in the tests, and helpers to run them."""

from __future__ import annotations

import datetime as dt
import importlib.util
import textwrap
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from treatysim.model.pipeline import STAGES
from treatysim.model.treaty_model import TreatyModel
from treatysim.model.world import World, build_world
from treatysim.scenario.load import load_scenario, load_scenario_text

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"

#: A deterministic one-treaty world around Estonia: no noise, no idiosyncratic thresholds, almost
#: no memory, every waiting time zero, so a hand calculation says what happens on which step.
HAND_SCENARIO = """
schema_version: 1
name: hand
calendar: {{start: 2025-01-01, end: 2026-12-31, step: week}}
treaties:
  ottawa:
    title: Ottawa
    notice_months: 6
    armed_conflict_blocks_exit: true
states:
  include: [{include}]
  overrides: {overrides}
threat_sources:
  RUS:
    capability: 1.0
    tied_down_share: 0.5
    allies: [BLR]
parameters:
  threat:
    sensitivity: 1.0
    noise: 0.0
    memory_months: 0.01
    alarm_spread: 0.0
    reassurance_weight: 0.0
  commitment:
    baseline: 0.6
    memory_months: 0.01
    threshold_noise: 0.0
    peer_erosion: 0.0
  pipeline:
    deliberation_months: 0
    parliament_months: 0
    parliament_pass_probability: 1.0
    deposit_months: 0
    retraction_months: 0.01
{extra}
"""


def hand_text(include: str = "EST", extra: str = "", overrides: str = "{}") -> str:
    """The hand scenario's YAML with states, overrides (a flow mapping) and extra sections."""
    return HAND_SCENARIO.format(include=include, overrides=overrides, extra=textwrap.dedent(extra))


def hand_world(include: str = "EST", extra: str = "", overrides: str = "{}") -> World:
    """Build the hand-checkable world with extra YAML appended (events, groups)."""
    text = hand_text(include, extra, overrides)
    loaded = load_scenario_text(text, "hand.yaml")
    return build_world(loaded.model)


def scenario_world(name: str) -> World:
    """Build a bundled scenario's world."""
    loaded = load_scenario(SCENARIOS / name)
    return build_world(loaded.model, loaded.base_dir)


@dataclass(frozen=True)
class Change:
    """One recorded stage change, in readable form."""

    step: int
    state: str
    treaty: str
    stage: str
    date: dt.date


def run(world: World, seed: int = 0, timeseries: str = "none") -> tuple[TreatyModel, list[Change]]:
    """Run a model to the end; return it and its stage changes."""
    model = TreatyModel(world, rng=np.random.default_rng(seed), timeseries=timeseries)
    model.run_model()
    r = model.records
    changes = [
        Change(step, world.ids[i], world.treaties[j], STAGES[s], dt.date.fromordinal(d))
        for step, i, j, s, d in zip(
            r.event_step, r.event_state, r.event_treaty, r.event_stage, r.event_date, strict=True
        )
    ]
    return model, changes


def first(changes: list[Change], state: str, stage: str) -> Change | None:
    """The first change of a state into a stage, or None."""
    return next((c for c in changes if c.state == state and c.stage == stage), None)


def write(path: Path, text: str) -> Path:
    """Write ``text`` (dedented) to ``path``; returns the path."""
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_tool(name: str) -> ModuleType:
    """A script of the checkout's ``tools/`` folder, imported as a module (``forecast``)."""
    spec = importlib.util.spec_from_file_location(f"{name}_tool", ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
