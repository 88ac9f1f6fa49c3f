"""Networks and draws that scale, with the two engines still identical.

- a synthetic population never holds an n × n dense array (20,000 agents, every network kind);
- a complete network's products in closed form equal the dense products;
- the batched engine's block-diagonal graphs (one per replication) and its lazily drawn uniforms
  give each replication exactly its Mesa run.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest
from scipy import sparse
from test_batched import assert_identical, world_of

from treatysim.model import dynamics
from treatysim.model.batched import engine, graphs, run_batch
from treatysim.model.world import NetworkViews, build_world

from modelkit import SCENARIOS

N = 20_000


def population(size: int, network: dict[str, Any], **pipeline: float) -> dict[str, Any]:
    """A fractional-threshold population under every pipeline step but the ones given."""
    return {
        "schema_version": 1,
        "name": "population",
        "calendar": {"start": "2025-01-01", "end": "2025-02-01", "step": "day"},
        "treaties": {"calm": {"title": "calm", "notice_months": 0}},
        "states": {
            "synthetic": {
                "size": size,
                "network": network,
                "thresholds": {"distribution": "uniform", "low": 0, "high": 0.4},
                "initial_actors": {"kind": "random", "count": 3},
            }
        },
        "parameters": {
            "rule": "fractional_threshold",
            "commitment": {"threshold_noise": 0},
            "pipeline": {
                "deliberation_months": 0,
                "parliament_months": 0,
                "parliament_pass_probability": 1,
                "deposit_months": 0,
                **pipeline,
            },
        },
    }


@pytest.mark.parametrize(
    "network",
    [
        {"type": "complete"},
        {"type": "erdos_renyi", "mean_degree": 3, "seed": 4},
        {"type": "erdos_renyi", "mean_degree": 3},
    ],
)
def test_a_large_population_allocates_no_dense_n_by_n_array(network: dict[str, Any]) -> None:
    """20,000 agents: the world, its network views and two batched replications stay far below
    one n × n array (3.2 GB of floats, 400 MB of booleans)."""
    tracemalloc.start()
    try:
        world = world_of(population(N, network))
        views = world.network
        run_batch(world, [1, 2], "counts")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 150 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    for matrix in (world.weights, world.border, views.neighbour_weights, views.adjacency):
        assert not isinstance(matrix, np.ndarray)
    assert all(not isinstance(m, np.ndarray) for m in views.reference_weights)


def test_complete_network_in_closed_form_equals_the_dense_products() -> None:
    rng = np.random.default_rng(3)
    n = 300
    party = rng.random(n) < 0.6
    values = rng.random((4, n))
    ones = ~np.eye(n, dtype=bool)
    closed = NetworkViews.of(dynamics.Complete(np.ones(n, dtype=bool), False), party[:, None])
    dense = NetworkViews.of(ones.astype(float), party[:, None])
    for a, b in [
        (closed.neighbour_weights, dense.neighbour_weights),
        (closed.reference_weights[0], dense.reference_weights[0]),
        (closed.adjacency, dense.adjacency),
    ]:
        np.testing.assert_allclose(dynamics.product(a, values), (b @ values.T).T, 1e-12)
        np.testing.assert_allclose(a.todense(), b, rtol=0, atol=1e-15)
    exposure = rng.random(n)
    np.testing.assert_allclose(
        dynamics.equilibrium_threat(values[0], closed.neighbour_weights, 0.7, exposure),
        dynamics.equilibrium_threat(values[0], dense.neighbour_weights, 0.7, exposure),
        rtol=1e-12,
    )


@pytest.mark.parametrize("network", [{"type": "erdos_renyi", "mean_degree": 4}])
def test_graphs_per_replication_as_one_block(network: dict[str, Any]) -> None:
    """300 agents, a graph per replication, waiting times that draw: the block-diagonal graphs
    and the lazily drawn uniforms give each replication its Mesa run."""
    world = world_of(population(300, network, deliberation_months=0.3, parliament_months=0.2))
    seeds = [4, 2**40 + 1, 9]
    heads = engine.Batch([world] * 3, seeds, "none")
    assert isinstance(heads.draws, engine.LazySteps)
    assert isinstance(heads.network.neighbour_weights, dynamics.BlockDiagonal)
    block = graphs.block(heads.network, 1, 300)
    assert sparse.issparse(block) and block.shape == (300, 300)
    assert_identical(world, seeds, "full")
    assert_identical(world, seeds, "counts")


@pytest.mark.parametrize("name", ["ottawa_2025.yaml", "ceasefire_2025.yaml"])
def test_uniforms_drawn_lazily_are_the_layout_s(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every field decisive, with perception noise: drawn per field and step, not in bulk."""
    from treatysim.scenario.load import load_scenario

    monkeypatch.setattr(engine, "LAZY_CELLS", 0)
    loaded = load_scenario(SCENARIOS / name)
    world = build_world(loaded.model, loaded.base_dir)
    batch = engine.Batch([world] * 2, [5, 6], "none")
    assert isinstance(batch.draws, engine.LazySteps)
    assert batch.draws.noisy and any(batch.draws.needed)
    assert_identical(world, [5, 2**41 + 7, 11], "full")


def test_full_time_series_streamed_to_parquet_equals_the_table(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The full time series is written batch by batch (never held whole); the file holds the
    table that ``Tables.timeseries`` builds, and batches of a few replications each."""
    import pyarrow.parquet as pq

    from treatysim.results import tables
    from treatysim.run.runner import simulate_tables
    from treatysim.scenario.load import load_scenario

    loaded = load_scenario(SCENARIOS / "ottawa_2025.yaml")
    sim = simulate_tables(loaded, replications=7, seed=3, timeseries="full")
    assert sim.tables._timeseries is None  # not built by the run
    steps, n = sim.world.calendar.n_steps + 1, sim.world.n_states
    monkeypatch.setattr(tables, "BATCH_ROWS", 3 * steps * n)
    batches = list(sim.tables._batches[1]())  # type: ignore[index]
    assert [b.num_rows // (steps * n) for b in batches] == [3, 3, 1]
    target = tmp_path / "timeseries.parquet"
    sim.tables.write_timeseries(target)
    written = pq.read_table(target)
    table = sim.tables.timeseries
    assert table is not None and table.num_rows == 7 * steps * n
    assert written.equals(table)


def test_a_process_that_only_simulates_imports_no_plotting_or_statistics(tmp_path: Any) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from treatysim.cli import main; "
        f"main(['run', 'ottawa_2025', '-n', '3', '--no-report', '-q', '--out', r'{tmp_path}/r']); "
        "print(sorted(m for m in sys.modules if m.startswith(('matplotlib', 'scipy.stats'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "r" / "runs.parquet").is_file()
