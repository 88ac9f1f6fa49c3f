"""Synthetic populations: N abstract agents on a generated network, with thresholds.

Used for teaching and for checking the engine against the classic threshold models (Granovetter
1978; Watts 2002). Graphs come from networkx generators, always with an explicit seed: the
scenario's ``network.seed`` when the graph is shared by every replication, otherwise a seed drawn
from the replication's own generator (itself recorded in the manifest).
"""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from treatysim.scenario.dataset import read_edge_list
from treatysim.scenario.schema import SyntheticNetwork, Thresholds

#: Graph families with no randomness: generated once, whatever the seed.
DETERMINISTIC = frozenset({"complete", "ring", "lattice", "edge_list"})


def generate_graph(
    spec: SyntheticNetwork,
    n: int,
    seed: int,
    base_dir: Path | None = None,
    ids: list[str] | None = None,
) -> NDArray[np.bool_]:
    """The adjacency matrix of a population's network.

    Args:
        spec: The network section of the population.
        n: Number of agents.
        seed: Seed for the networkx generator.
        base_dir: Folder an edge-list path is relative to.
        ids: Agent ids, to read edge lists that name agents.

    Raises:
        ValueError: An edge list names an unknown agent or is malformed.
    """
    if spec.type == "complete":
        return ~np.eye(n, dtype=bool)
    if spec.type == "ring":
        adjacency = np.zeros((n, n), dtype=bool)
        if n > 1:
            index = np.arange(n)
            adjacency[index, (index + 1) % n] = adjacency[(index + 1) % n, index] = True
        return adjacency
    if spec.type == "erdos_renyi":
        assert spec.mean_degree is not None
        probability = min(spec.mean_degree / max(n - 1, 1), 1.0)
        graph = nx.fast_gnp_random_graph(n, probability, seed=seed)
    elif spec.type == "watts_strogatz":
        assert spec.neighbours is not None and spec.rewiring is not None
        graph = nx.watts_strogatz_graph(n, spec.neighbours, spec.rewiring, seed=seed)
    elif spec.type == "barabasi_albert":
        assert spec.attachments is not None
        graph = nx.barabasi_albert_graph(n, spec.attachments, seed=seed)
    elif spec.type == "lattice":
        side = math.isqrt(n)
        if side * side != n:
            raise ValueError(f"a lattice needs a square number of agents (got {n})")
        graph = nx.convert_node_labels_to_integers(nx.grid_2d_graph(side, side))
    else:
        graph = _edge_list(spec, n, base_dir, ids)
    adjacency = nx.to_numpy_array(graph, nodelist=range(n), dtype=bool)
    np.fill_diagonal(adjacency, False)
    return adjacency


def _edge_list(
    spec: SyntheticNetwork, n: int, base_dir: Path | None, ids: list[str] | None
) -> nx.Graph:
    assert spec.file is not None
    path = Path(spec.file)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    graph = nx.empty_graph(n)
    graph.add_edges_from(read_edge_list(path, ids or [str(i) for i in range(n)]))
    return graph


def fixed_thresholds(thresholds: Thresholds, n: int) -> NDArray[np.float64] | None:
    """Thresholds that are the same in every replication, or None if they are drawn."""
    if thresholds.distribution == "list":
        assert thresholds.values is not None
        return np.asarray(thresholds.values, dtype=float)
    if thresholds.distribution == "fixed":
        assert thresholds.value is not None
        return np.full(n, thresholds.value)
    return None


def draw_thresholds(
    thresholds: Thresholds, n: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Thresholds drawn for one replication (uniform or normal)."""
    if thresholds.distribution == "uniform":
        assert thresholds.low is not None and thresholds.high is not None
        return rng.uniform(thresholds.low, thresholds.high, n)
    assert thresholds.mean is not None and thresholds.sd is not None
    return rng.normal(thresholds.mean, thresholds.sd, n)
