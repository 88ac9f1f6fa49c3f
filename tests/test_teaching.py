"""Known answers from the threshold-model literature, through the engine's own scenarios.

- Granovetter (1978): thresholds 0, 1, …, 99 on a complete graph: all 100 act; raise the
  threshold-1 agent to 2: only 1 acts.
- Granovetter (1978): normal thresholds (mean 0.25) on a complete graph: the final share is the
  first fixed point of x = F(x) reached from 0, and it jumps as the spread passes ≈0.12.
- Watts (2002): Erdős–Rényi networks of 1,000 nodes, threshold 0.18, one random initial actor:
  global cascades in a clear share of runs at mean degree 3, essentially never at mean degree 12.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from scipy.stats import norm
from threadpoolctl import threadpool_limits

from treatysim.model.pipeline import ANNOUNCED
from treatysim.model.treaty_model import TreatyModel
from treatysim.model.world import build_world
from treatysim.run.runner import apply_overrides
from treatysim.run.seeds import replication_seed
from treatysim.scenario.load import load_scenario

from modelkit import SCENARIOS

TEACHING = SCENARIOS / "teaching"


@pytest.fixture(autouse=True)
def one_blas_thread() -> Iterator[None]:
    """As in the runner's workers: small matrices, one BLAS thread."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def actors(name: str, sets: list[str], replications: int, root: int = 1) -> np.ndarray:
    """Number of agents that acted, per replication."""
    loaded = apply_overrides(load_scenario(TEACHING / name), sets)
    world = build_world(loaded.model, loaded.base_dir)
    out = np.zeros(replications, dtype=int)
    for r in range(replications):
        model = TreatyModel(world, rng=replication_seed(root, r), timeseries="none")
        model.run_model()
        out[r] = sum(1 for stage in model.records.event_stage if stage == ANNOUNCED)
    return out


def test_granovetter_riot_everyone_acts() -> None:
    assert actors("granovetter_riot.yaml", [], 3).tolist() == [100, 100, 100]


def test_granovetter_riot_broken_only_one_acts() -> None:
    assert actors("granovetter_riot_broken.yaml", [], 3).tolist() == [1, 1, 1]


def test_the_riot_takes_one_step_per_rioter() -> None:
    """Person i riots on round i + 1: the riot grows by exactly one a step."""
    world = build_world(load_scenario(TEACHING / "granovetter_riot.yaml").model)
    model = TreatyModel(world, rng=1, timeseries="none")
    model.run_model()
    steps = [
        s
        for s, stage in zip(model.records.event_step, model.records.event_stage, strict=True)
        if stage == ANNOUNCED
    ]
    assert steps == list(range(1, 101))


def fixed_point(sd: float, mean: float = 0.25) -> float:
    """The first fixed point of x = F(x) reached from x = 0, F the normal CDF."""
    x = 0.0
    for _ in range(100_000):
        nxt = float(norm.cdf((x - mean) / sd))
        if abs(nxt - x) < 1e-12:
            break
        x = nxt
    return x


@pytest.mark.parametrize("sd", [0.05, 0.08, 0.10, 0.11, 0.15, 0.20])
def test_normal_thresholds_end_at_the_fixed_point(sd: float) -> None:
    """Away from the critical spread (≈0.12–0.13), the mean final share over 10 replications of
    1,000 agents lies within 4 standard errors (plus 0.002 for the discreteness of 1/1000) of
    the fixed point. Below the jump the share is a few per cent at most; above it, everyone."""
    shares = actors("granovetter_normal.yaml", [f"states.synthetic.thresholds.sd={sd}"], 10) / 1000
    expected = fixed_point(sd)
    standard_error = max(shares.std(ddof=1), 1e-3) / np.sqrt(len(shares))
    assert abs(shares.mean() - expected) <= 4 * standard_error + 0.002, (sd, shares, expected)


def test_normal_thresholds_jump_with_the_spread() -> None:
    below = actors("granovetter_normal.yaml", ["states.synthetic.thresholds.sd=0.10"], 5) / 1000
    above = actors("granovetter_normal.yaml", ["states.synthetic.thresholds.sd=0.15"], 5) / 1000
    assert below.max() < 0.05
    assert above.min() > 0.95


def cascade_share(mean_degree: int, replications: int) -> float:
    sizes = actors(
        "watts_cascade.yaml",
        [f"states.synthetic.network.mean_degree={mean_degree}"],
        replications,
        root=2002,
    )
    return float((sizes >= 100).mean())


def test_watts_global_cascades_in_the_window_and_not_outside() -> None:
    """A global cascade: at least 10% of the 1,000 nodes act. 60 runs each (a new network and
    a new initial actor every run)."""
    inside = cascade_share(3, 60)
    outside = cascade_share(12, 60)
    assert inside >= 0.3, inside
    assert outside <= 0.02, outside
