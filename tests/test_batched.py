"""The batched engine runs exactly the replications the Mesa model runs.

For every bundled scenario and for generated small ones (events of every type, deposit blocs,
two treaties with spillover, government changes, synthetic populations), ``run_batch`` gives
each seed the stage changes, final stages and time series of ``TreatyModel(world, rng=seed)``,
to the last bit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from treatysim.model.batched import Replication, run_batch
from treatysim.model.treaty_model import TreatyModel
from treatysim.model.world import World, build_world
from treatysim.scenario.load import load_scenario, load_scenario_text

from modelkit import SCENARIOS, hand_world

BUNDLED = sorted(
    str(p.relative_to(SCENARIOS))
    for p in [*SCENARIOS.glob("*.yaml"), *SCENARIOS.glob("teaching/*.yaml")]
    if "broken" not in p.name
)
FIELDS = ("step", "state", "treaty", "stage", "date")


def assert_identical(world: World | list[World], seeds: list[int], timeseries: str) -> None:
    """Each seed's batched replication equals its Mesa replication."""
    worlds = world if isinstance(world, list) else [world] * len(seeds)
    batch = run_batch(worlds, seeds, timeseries)
    for seed, w, got in zip(seeds, worlds, batch, strict=True):
        model = TreatyModel(w, rng=np.random.default_rng(seed), timeseries=timeseries)
        model.run_model()
        assert_same_run(model, got)


def assert_same_run(model: TreatyModel, got: Replication) -> None:
    """A Mesa run and a batched replication are the same."""
    r = model.records
    for name in FIELDS:
        expected = np.asarray(getattr(r, f"event_{name}"), dtype=np.int64)
        np.testing.assert_array_equal(got.events[name].astype(np.int64), expected, err_msg=name)
    np.testing.assert_array_equal(got.final_stage, model.stage.astype(np.int8))
    for name in ("threat", "commitment", "stage", "counts"):
        expected, actual = getattr(r, name), getattr(got, name)
        assert (expected is None) == (actual is None), name
        if expected is not None:
            np.testing.assert_array_equal(actual, expected, err_msg=name)


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_scenario(name: str) -> None:
    loaded = load_scenario(SCENARIOS / name)
    world = build_world(loaded.model, loaded.base_dir)
    seeds = [11, 2**40 + 3, 7]
    assert_identical(world, seeds, "full")
    assert_identical(world, seeds, "counts")


def test_empty_and_single_batches() -> None:
    world = hand_world()
    assert run_batch(world, []) == []
    assert_identical(world, [5], "full")


def test_a_run_split_into_blocks_gives_the_same_replications() -> None:
    world = hand_world("EST, LVA, LTU, POL")
    whole = run_batch(world, list(range(7)), "full")
    blocks = run_batch(world, list(range(7)), "full", block=3)
    for a, b in zip(whole, blocks, strict=True):
        assert a.threat is not None and b.threat is not None
        assert a.threat.tobytes() == b.threat.tobytes()
        for name in FIELDS:
            np.testing.assert_array_equal(a.events[name], b.events[name])


def test_worlds_of_different_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        run_batch([hand_world(), hand_world("EST, LVA")], [1, 2])


def test_each_replication_may_carry_its_own_parameters() -> None:
    """Parameters along the batch axis: sensitivity, commitment, erosion, noise, waiting times,
    event dates, network weights and forced stages differ between the worlds of one batch."""
    path = SCENARIOS / "ceasefire_2025.yaml"
    base = yaml.safe_load(path.read_text())
    changes = [
        {},
        {"parameters": {"threat": {"sensitivity": 1.6, "noise": 0.0}}},
        {
            "parameters": {
                "commitment": {"peer_erosion": 0.9, "baseline": 0.5},
                "pipeline": {"deposit_months": 0.5},
            }
        },
        {"network": {"ties": {"land_border": 2.5}}, "events": [{"date": "2026-02-01"}]},
    ]
    documents = [merged(base, change) for change in changes]
    forced = {"type": "forced_stage", "date": "2025-03-03", "state": "LTU", "treaty": "ottawa"}
    documents.append({**base, "events": [*base["events"], {**forced, "stage": "notified"}]})
    # issue 12's numbers: group thresholds and lags, the war's clock, deliberation's hysteresis
    joint = {"members": ["EST", "LVA", "LTU", "POL"], "decide": "together"}
    follow = {"members": ["FIN", "SWE", "NOR"], "decide": "follow", "leader": "FIN"}
    documents.append(
        {
            **base,
            "groups": {"joint_statement_2025": {**joint, "joint_threshold": 0.3}, "north": follow},
            "parameters": {"pipeline": {"conflict_move_cost": 0.0, "deliberation_margin": 0.5}},
        }
    )
    documents.append(
        {
            **base,
            "groups": {
                "joint_statement_2025": {**joint, "joint_threshold": 0.9},
                "north": {**follow, "joint_threshold": 0.2, "follow_months": 0.3},
            },
            "parameters": {"pipeline": {"conflict_exit_trigger": 0}},
        }
    )
    worlds = [world_of(document, path) for document in documents]
    order = [0, 1, 2, 3, 3, 1, 0, 2, 4, 0, 4]
    assert_identical([worlds[i] for i in order], [100 + r for r in range(len(order))], "full")
    # worlds that differ in the group numbers only (same groups) share one batch
    order = [5, 6, 6, 5, 6]
    assert_identical([worlds[i] for i in order], [100 + r for r in range(len(order))], "full")


def merged(base: Any, change: Any) -> Any:
    """``base`` with ``change`` merged in (mappings key by key, list items by position)."""
    if isinstance(base, dict) and isinstance(change, dict):
        return {k: merged(base.get(k), change[k]) if k in change else v for k, v in base.items()}
    if isinstance(base, list) and isinstance(change, list):
        return [merged(b, c) for b, c in zip(base, change, strict=False)] + base[len(change) :]
    return change


def world_of(document: dict[str, Any], path: Path = Path("generated.yaml")) -> World:
    """The world of a scenario document."""
    loaded = load_scenario_text(yaml.safe_dump(document, sort_keys=False), str(path))
    return build_world(loaded.model, path.parent)


# ------------------------------------------------------------------------------------------------
# generated scenarios

STATES = ["EST", "LVA", "LTU", "POL", "FIN", "NOR", "BLR", "UKR", "SWE", "DEU"]
DATES = [f"2025-{m:02d}-{d:02d}" for m in range(1, 13) for d in (1, 9, 17, 28)]
SHARE = st.floats(0.0, 1.0).map(lambda x: round(x, 3))


@st.composite
def events(draw: st.DrawFn, states: list[str], treaties: list[str]) -> dict[str, Any]:
    """One event of any type."""
    state = st.sampled_from(states)
    treaty = st.sampled_from(treaties)
    factor = st.floats(0.5, 2.0).map(lambda x: round(x, 2))
    kinds: dict[str, dict[str, Any]] = {
        "ceasefire": {
            "source": "RUS",
            "freed_share": draw(SHARE),
            "ramp_months": draw(SHARE) * 6,
            "guarantee_change": draw(st.sampled_from([-0.3, 0.0, 0.2])),
            "guarantee_targets": [draw(state)],
            "intent_factor": draw(st.sampled_from([0.5, 1.0, 1.3])),
            "ends_conflict_for": [draw(state)],
        },
        "escalation": {"source": "RUS", "capability_factor": draw(factor), "ramp_months": 2},
        "exercise": {"source": "RUS", "capability_boost": draw(SHARE), "duration_months": 0.7},
        "armed_conflict_start": {"state": draw(state)},
        "armed_conflict_end": {"state": draw(state)},
        "norm_campaign": {
            "treaty": draw(treaty),
            "targets": [draw(state), "baltic"],
            "strength": draw(SHARE),
            "duration_months": 2.5,
        },
        "reassurance": {"credibility": draw(SHARE), "targets": [draw(state)]},
        "government_change": {
            "state": draw(state),
            "commitment_shift": -draw(SHARE),
            "threat_sensitivity_factor": draw(factor),
        },
        "forced_stage": {
            "state": draw(state),
            "treaty": draw(treaty),
            "stage": draw(st.sampled_from(["announced", "notified", "withdrawn", "retracted"])),
        },
    }
    kind = draw(st.sampled_from(sorted(kinds)))
    return {"type": kind, "date": draw(st.sampled_from(DATES)), **kinds[kind]}


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A small scenario: some states, one or two treaties, a bloc, a group that decides
    together or follows a leader, a state at war, events of every kind."""
    states = draw(st.lists(st.sampled_from(STATES), min_size=3, max_size=8, unique=True))
    treaties = ["ottawa", "ccm"][: draw(st.integers(1, 2))]
    waiting = st.sampled_from([0, 0.5, 2.0])
    front = draw(st.lists(st.sampled_from(states), min_size=2, max_size=4, unique=True))
    decide = draw(st.sampled_from(["alone", "together", "follow"]))
    group: dict[str, Any] = {
        "members": front,
        "decide": decide,
        "joint_threshold": draw(st.sampled_from([0.0, 0.6, 1.0])),
        "follow_months": draw(st.sampled_from([0, 0.5, 2.0])),
    }
    if decide == "follow":
        group["leader"] = front[-1]
    return {
        "schema_version": 1,
        "name": "generated",
        "calendar": {
            "start": "2025-01-01",
            "end": "2026-06-30",
            "step": draw(st.sampled_from(["week", "month"])),
        },
        "treaties": {
            t: {
                "title": t,
                "notice_months": draw(st.sampled_from([0, 3, 6])),
                "armed_conflict_blocks_exit": draw(st.booleans()),
                "suspension_allowed": draw(st.booleans()),
            }
            for t in treaties
        },
        "states": {
            "include": states,
            "overrides": {draw(st.sampled_from(states)): {"in_armed_conflict": True}},
        },
        "groups": {
            "baltic": {"members": ["EST", "LVA", "LTU"], "deposit_together": draw(st.booleans())},
            "front": group,
        },
        "threat_sources": {
            "RUS": {
                "capability": 1.0,
                "tied_down_share": draw(st.sampled_from([0.2, 0.6])),
                "allies": ["BLR"],
            }
        },
        "parameters": {
            "threat": {
                "sensitivity": draw(st.sampled_from([1.0, 1.5])),
                "noise": draw(st.sampled_from([0.0, 0.2])),
                "alarm_spread": draw(st.sampled_from([0.0, 0.3])),
            },
            "commitment": {
                "baseline": 0.5,
                "spillover": draw(st.sampled_from([0.0, 0.3])),
                "threshold_noise": 0.1,
                "peer_erosion": 0.5,
            },
            "pipeline": {
                "deliberation_months": draw(waiting),
                "parliament_months": draw(waiting),
                "deposit_months": draw(waiting),
                "parliament_pass_probability": 0.8,
                "deliberation_margin": draw(st.sampled_from([0.0, 0.1, 1.0])),
                "conflict_exit_trigger": draw(st.sampled_from([0, 1, 2])),
                "conflict_move_cost": draw(st.sampled_from([0.0, 0.2])),
            },
        },
        "events": draw(st.lists(events(states, treaties), min_size=1, max_size=8)),
    }


NETWORKS = [
    {"type": "complete"},
    {"type": "ring"},
    {"type": "erdos_renyi", "mean_degree": 3},
    {"type": "erdos_renyi", "mean_degree": 3, "seed": 4},
    {"type": "watts_strogatz", "neighbours": 2, "rewiring": 0.3},
    {"type": "barabasi_albert", "attachments": 2},
]


@st.composite
def populations(draw: st.DrawFn) -> dict[str, Any]:
    """A synthetic population under a threshold rule."""
    size = draw(st.integers(4, 40))
    rule = draw(st.sampled_from(["fractional_threshold", "count_threshold"]))
    unit, scale = ("fraction", 1) if rule == "fractional_threshold" else ("agents", 4)
    thresholds = draw(
        st.sampled_from(
            [
                {"distribution": "uniform", "low": 0, "high": 0.6 * scale},
                {"distribution": "normal", "mean": 0.25 * scale, "sd": 0.15},
                {"distribution": "fixed", "value": 0.3 * scale},
            ]
        )
    )
    return {
        "schema_version": 1,
        "name": "population",
        "calendar": {"start": "2025-01-01", "end": "2025-03-01", "step": "day"},
        "treaties": {"calm": {"title": "calm", "notice_months": 0}},
        "states": {
            "synthetic": {
                "size": size,
                "network": draw(st.sampled_from(NETWORKS)),
                "thresholds": {**thresholds, "counted_in": unit},
                "initial_actors": {"kind": "random", "count": draw(st.integers(0, min(3, size)))},
            }
        },
        "parameters": {
            "rule": rule,
            "commitment": {"threshold_noise": 0},
            "pipeline": {
                "deliberation_months": draw(st.sampled_from([0, 0.2])),
                "parliament_months": 0,
                "parliament_pass_probability": 1,
                "deposit_months": 0,
            },
        },
    }


GENERATED = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@GENERATED
@given(document=scenarios(), mode=st.sampled_from(["full", "counts", "none"]))
def test_generated_scenarios(document: dict[str, Any], mode: str) -> None:
    assert_identical(world_of(document), [1, 2, 3], mode)


@GENERATED
@given(document=populations(), mode=st.sampled_from(["full", "counts"]))
def test_generated_populations(document: dict[str, Any], mode: str) -> None:
    assert_identical(world_of(document), [1, 2, 3], mode)


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "erdos_renyi", "mean_degree": 3},
        {"type": "watts_strogatz", "neighbours": 4, "rewiring": 0.2},
        {"type": "barabasi_albert", "attachments": 2},
        {"type": "ring"},
    ],
)
@pytest.mark.parametrize("size", [30, 400])
def test_graphs_built_from_edges_give_the_dense_networks_numbers(
    spec: dict[str, Any], size: int
) -> None:
    """A synthetic graph built sparsely from its edges gives the same network views (dense
    below 200 agents, sparse CSR above) as its dense adjacency matrix, to the last bit."""
    from scipy import sparse

    from treatysim.model.population import generate_graph, sparse_graph
    from treatysim.model.world import NetworkViews
    from treatysim.scenario.schema import SyntheticNetwork

    network = SyntheticNetwork(**spec)
    party = np.ones((size, 2), dtype=bool)
    party[::3, 1] = False
    dense = NetworkViews.of(generate_graph(network, size, 5).astype(float), party)
    edges = sparse_graph(network, size, 5)
    assert sparse.issparse(edges)
    built = NetworkViews.of(edges, party)

    def array(matrix: Any) -> np.ndarray:
        return matrix if isinstance(matrix, np.ndarray) else matrix.toarray()

    for name in ("neighbour_weights", "adjacency"):
        a, b = getattr(dense, name), getattr(built, name)
        assert type(a) is type(b)
        assert array(a).tobytes() == array(b).tobytes()
    for a, b in zip(dense.reference_weights, built.reference_weights, strict=True):
        assert array(a).tobytes() == array(b).tobytes()


@pytest.mark.parametrize("n", [2, 5, 60, 1000])
@pytest.mark.parametrize("mean_degree", [0.5, 3.0, 12.0])
@pytest.mark.parametrize("seed", [0, 7, 2**62 + 12345])
def test_erdos_renyi_edges_are_networkx_s(n: int, mean_degree: float, seed: int) -> None:
    """The numpy Erdős–Rényi graph is networkx's fast_gnp_random_graph, edge for edge."""
    import networkx as nx

    from treatysim.model.population import graph_edges
    from treatysim.scenario.schema import SyntheticNetwork

    spec = SyntheticNetwork(type="erdos_renyi", mean_degree=mean_degree)
    p = min(mean_degree / max(n - 1, 1), 1.0)
    expected = sorted(
        (max(a, b), min(a, b)) for a, b in nx.fast_gnp_random_graph(n, p, seed=seed).edges()
    )
    rows, cols = graph_edges(spec, n, seed)
    high, low = np.maximum(rows, cols).tolist(), np.minimum(rows, cols).tolist()
    assert sorted(zip(high, low, strict=True)) == expected
