"""Synthetic populations: N abstract agents on a generated network, with thresholds.

Used for teaching and for checking the engine against the classic threshold models (Granovetter
1978; Watts 2002). Graphs come from networkx generators, always with an explicit seed: the
scenario's ``network.seed`` when the graph is shared by every replication, otherwise a seed drawn
from the replication's own generator (itself recorded in the manifest).
"""

from __future__ import annotations

import math
import random
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from treatysim.model.dynamics import SMALL, Complete
from treatysim.scenario.dataset import read_edge_list
from treatysim.scenario.schema import SyntheticNetwork, SyntheticPopulation, Thresholds

if TYPE_CHECKING:
    import networkx as nx

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
    return sparse_graph(spec, n, seed, base_dir, ids).toarray().astype(bool)


def sparse_graph(
    spec: SyntheticNetwork,
    n: int,
    seed: int,
    base_dir: Path | None = None,
    ids: list[str] | None = None,
) -> Any:
    """The adjacency matrix of a population's network, built from its edges: a float CSR matrix.

    Never an n × n dense array; the complete graph (n² entries) is the caller's closed form.
    Arguments as :func:`generate_graph`.
    """
    from scipy import sparse

    rows, cols = graph_edges(spec, n, seed, base_dir, ids)
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    both = (np.concatenate([rows, cols]), np.concatenate([cols, rows]))
    matrix = sparse.coo_array((np.ones(2 * len(rows)), both), shape=(n, n)).tocsr()
    matrix.data[:] = 1.0  # an edge listed twice is still one tie
    matrix.sort_indices()
    return matrix


def graph_edges(
    spec: SyntheticNetwork,
    n: int,
    seed: int,
    base_dir: Path | None = None,
    ids: list[str] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Each edge of a population's network once (either direction), as (rows, cols)."""
    import networkx as nx  # here: reading a run folder (a report) needs no graph generator

    if spec.type == "complete":
        rows, cols = np.triu_indices(n, 1)
        return rows.astype(np.int64), cols.astype(np.int64)
    if spec.type == "ring":
        index = np.arange(n if n > 1 else 0, dtype=np.int64)
        return index, (index + 1) % max(n, 1)
    if spec.type == "erdos_renyi":
        assert spec.mean_degree is not None
        probability = min(spec.mean_degree / max(n - 1, 1), 1.0)
        if 0 < probability < 1:
            return _gnp_edges(n, probability, seed)
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
    edges = np.array(list(graph.edges()), dtype=np.int64).reshape(-1, 2)
    return edges[:, 0], edges[:, 1]


def _gnp_edges(n: int, p: float, seed: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The edges of ``networkx.fast_gnp_random_graph(n, p, seed)`` (0 < p < 1), with numpy.

    networkx draws from ``random.Random(seed)`` and walks the pairs (v, w), w < v, in order,
    skipping ``int(log(1 - r) / log(1 - p))`` pairs before each edge (Batagelj and Brandes
    2005). The same Mersenne Twister stream comes from numpy's, set to Python's state; the skips
    add up to each edge's position in that order, which gives (v, w) in closed form. Where a
    skip is within rounding of an integer, it is recomputed with ``math.log``, as networkx does.
    tests/test_batched.py checks the edges against networkx.
    """
    state = random.Random(seed).getstate()[1]
    stream = _mersenne_twister()
    key = np.fromiter(state[:624], dtype=np.uint32, count=624)
    stream.set_state(("MT19937", key, state[624], 0, 0.0))
    log_q = math.log(1.0 - p)
    pairs = n * (n - 1) // 2
    chunk = int(p * pairs * 1.1) + 64
    position, found = -1, []
    while position < pairs:
        r = stream.random_sample(chunk)
        ratio = np.log(1.0 - r) / log_q
        skip = np.floor(ratio)
        for i in np.flatnonzero(np.abs(ratio - np.round(ratio)) < 1e-9 * np.maximum(ratio, 1.0)):
            skip[i] = int(math.log(1.0 - float(r[i])) / log_q)
        steps = np.cumsum(1 + skip.astype(np.int64)) + position
        found.append(steps)
        position = int(steps[-1])
        chunk = max(chunk // 5, 64)
    at = np.concatenate(found)
    at = at[at < pairs]
    v = np.floor((1 + np.sqrt(1 + 8 * at.astype(float))) / 2).astype(np.int64)
    v -= v * (v - 1) // 2 > at  # exact integer correction of the square root's rounding
    v += (v + 1) * v // 2 <= at
    return v, at - v * (v - 1) // 2


_LOCAL = threading.local()


def _mersenne_twister() -> np.random.RandomState:
    """This thread's reusable RandomState (creating one costs more than drawing a graph)."""
    stream = getattr(_LOCAL, "stream", None)
    if stream is None:
        stream = _LOCAL.stream = np.random.RandomState(np.random.MT19937(0))
    return stream


def _edge_list(
    spec: SyntheticNetwork, n: int, base_dir: Path | None, ids: list[str] | None
) -> nx.Graph:
    import networkx as nx

    assert spec.file is not None
    path = Path(spec.file)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    graph = nx.empty_graph(n)
    graph.add_edges_from(read_edge_list(path, ids or [str(i) for i in range(n)]))
    return graph


def sparse_empty(n: int, dtype: type = float) -> Any:
    """An n × n CSR matrix with no entries."""
    from scipy import sparse

    return sparse.csr_array((n, n), dtype=dtype)


def synthetic_weights(
    population: SyntheticPopulation, n: int, base_dir: Path | None, ids: list[str]
) -> Any:
    """A synthetic population's raw ties, never as an n × n dense array above SMALL agents.

    A graph drawn per replication has no ties here (each model draws its own); a complete
    graph of at least SMALL agents is :class:`~treatysim.model.dynamics.Complete` (its products
    in closed form); any other fixed graph is a CSR matrix built from its edges. Below SMALL
    agents a complete graph stays the dense array the model has always used.
    """
    network = population.network
    if network.seed is None and network.type not in DETERMINISTIC:
        return sparse_empty(n)
    if network.type == "complete":
        if n >= SMALL:
            return Complete(np.ones(n, dtype=bool), normalised=False)
        return generate_graph(network, n, 0).astype(float)
    return sparse_graph(network, n, network.seed or 0, base_dir, ids)


def same_weights(a: Any, b: Any) -> bool:
    """Whether two worlds' raw ties are equal (dense, sparse or complete)."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return bool(np.array_equal(a, b))
    if isinstance(a, Complete) and isinstance(b, Complete):
        return a.shape == b.shape
    if isinstance(a, np.ndarray | Complete) or isinstance(b, np.ndarray | Complete):
        return False
    return bool(a.shape == b.shape and (a != b).nnz == 0)


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
