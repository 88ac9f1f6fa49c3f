"""Synthetic populations: every network family, thresholds and initial actors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from treatysim.model.population import draw_thresholds, fixed_thresholds, generate_graph
from treatysim.scenario.schema import SyntheticNetwork, Thresholds


def degrees(adjacency: np.ndarray) -> np.ndarray:
    assert adjacency.dtype == bool
    assert np.array_equal(adjacency, adjacency.T), "ties are mutual"
    assert not adjacency.diagonal().any(), "no self-ties"
    return adjacency.sum(axis=1)


def test_complete_ring_and_lattice_have_their_exact_degrees() -> None:
    assert (degrees(generate_graph(SyntheticNetwork(type="complete"), 10, 0)) == 9).all()
    assert (degrees(generate_graph(SyntheticNetwork(type="ring"), 10, 0)) == 2).all()
    lattice = degrees(generate_graph(SyntheticNetwork(type="lattice"), 16, 0))
    assert sorted(set(lattice.tolist())) == [2, 3, 4]  # corners, edges, inside of a 4×4 grid
    with pytest.raises(ValueError, match="square number"):
        generate_graph(SyntheticNetwork(type="lattice"), 10, 0)


def test_erdos_renyi_has_the_mean_degree_asked_for() -> None:
    spec = SyntheticNetwork(type="erdos_renyi", mean_degree=4)
    mean = degrees(generate_graph(spec, 2000, 7)).mean()
    assert 3.8 < mean < 4.2
    assert np.array_equal(generate_graph(spec, 300, 7), generate_graph(spec, 300, 7))
    assert not np.array_equal(generate_graph(spec, 300, 7), generate_graph(spec, 300, 8))


def test_watts_strogatz_and_barabasi_albert() -> None:
    ws = degrees(
        generate_graph(SyntheticNetwork(type="watts_strogatz", neighbours=4, rewiring=0.1), 500, 1)
    )
    assert ws.mean() == pytest.approx(4.0)
    ba = degrees(generate_graph(SyntheticNetwork(type="barabasi_albert", attachments=2), 500, 1))
    assert ba.min() >= 2
    assert ba.max() > 5 * ba.mean()  # hubs: a heavy tail


def test_edge_list_by_ids_and_indices(tmp_path: Path) -> None:
    (tmp_path / "edges.csv").write_text("source,target\nA0,A1\n1,2\n", encoding="utf-8")
    spec = SyntheticNetwork(type="edge_list", file="edges.csv")
    adjacency = generate_graph(spec, 4, 0, tmp_path, ["A0", "A1", "A2", "A3"])
    assert degrees(adjacency).tolist() == [1, 2, 1, 0]
    (tmp_path / "bad.csv").write_text("source,target\nA0,Z9\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown agent 'Z9'"):
        generate_graph(
            SyntheticNetwork(type="edge_list", file="bad.csv"),
            4,
            0,
            tmp_path,
            ["A0", "A1", "A2", "A3"],
        )


def test_thresholds_fixed_or_drawn() -> None:
    listed = Thresholds(distribution="list", values=[0, 1, 2], counted_in="agents")
    assert fixed_thresholds(listed, 3).tolist() == [0, 1, 2]
    assert fixed_thresholds(Thresholds(distribution="fixed", value=0.18), 4).tolist() == [0.18] * 4
    normal = Thresholds(distribution="normal", mean=0.25, sd=0.1)
    assert fixed_thresholds(normal, 5) is None
    draws = draw_thresholds(normal, 20_000, np.random.default_rng(3))
    assert draws.mean() == pytest.approx(0.25, abs=0.003)
    assert draws.std() == pytest.approx(0.1, abs=0.003)
    uniform = draw_thresholds(
        Thresholds(distribution="uniform", low=0.1, high=0.3), 1000, np.random.default_rng(3)
    )
    assert uniform.min() >= 0.1 and uniform.max() <= 0.3


def test_network_families_need_their_parameters() -> None:
    with pytest.raises(ValueError, match="needs mean_degree"):
        SyntheticNetwork(type="erdos_renyi")
    with pytest.raises(ValueError, match="need mean, sd"):
        Thresholds(distribution="normal")
