"""A batch's own synthetic networks, one per replication, built as one block-diagonal matrix.

Replication b's graph occupies rows and columns ``b * n`` to ``(b + 1) * n``. The edges of every
replication are drawn as the Mesa model draws them (:func:`treatysim.model.population.
graph_edges` with the replication's graph seed), then the whole block is assembled, normalised
and masked per treaty in a handful of array operations, not one sparse-matrix pipeline per
replication. Each block holds exactly the entries, in the same order, of the matrices
:meth:`treatysim.model.world.NetworkViews.of` builds for that replication alone, so the products
(:func:`treatysim.model.dynamics.product`, summing each row in the order of its entries) give
every replication the numbers it gets in the Mesa engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from treatysim.model.dynamics import BlockDiagonal
from treatysim.model.networks import NetworkViews
from treatysim.model.population import graph_edges
from treatysim.model.world import World


def sparse_per_replication(n: int, nnz: NDArray[np.int64]) -> bool:
    """Whether NetworkViews keeps graphs of n nodes and these numbers of entries sparse."""
    return n >= 200 and bool(np.all(nnz < 0.1 * n * n))


def graph_block(worlds: Sequence[World], seeds: Sequence[int]) -> NetworkViews | None:
    """The views of every replication's own graph as block-diagonal matrices.

    Args:
        worlds: Each replication's world (with a synthetic population drawing its graph).
        seeds: Each replication's graph seed.

    Returns:
        The views, or None when some replication's graph would be kept dense (small or dense
        graphs): the caller then builds each replication's views alone.
    """
    from scipy import sparse

    w0 = worlds[0]
    population = w0.population
    assert population is not None
    n = population.size
    b = len(worlds)
    rows, cols = [], []
    for r, (world, seed) in enumerate(zip(worlds, seeds, strict=True)):
        spec = world.population.network if world.population is not None else population.network
        head, tail = graph_edges(spec, n, seed, world.base_dir, list(world.ids))
        keep = head != tail
        head, tail = head[keep] + r * n, tail[keep] + r * n
        rows += [head, tail]
        cols += [tail, head]
    row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    col = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    ties = sparse.coo_array((np.ones(len(row)), (row, col)), shape=(b * n, b * n)).tocsr()
    ties.data[:] = 1.0  # an edge listed twice is still one tie
    ties.sort_indices()
    if not sparse_per_replication(n, np.diff(ties.indptr[::n])):
        return None
    party = np.concatenate([w.party for w in worlds])  # (B * n, k)
    neighbours = _normalised(ties)
    reference = []
    for j in range(party.shape[1]):
        if party[:, j].all():
            reference.append(BlockDiagonal.of_matrix(neighbours))
            continue
        masked = ties.copy()
        masked.data = masked.data * party[masked.indices, j]
        masked.eliminate_zeros()
        reference.append(BlockDiagonal.of_matrix(_normalised(masked)))
    return NetworkViews(
        BlockDiagonal.of_matrix(neighbours), tuple(reference), BlockDiagonal.of_matrix(ties)
    )


def _normalised(matrix: Any) -> Any:
    """Each row divided by its sum (as NetworkViews normalises one replication's graph)."""
    size = matrix.shape[0]
    total = np.asarray(matrix.sum(axis=1)).ravel()
    rows = np.repeat(np.arange(size), np.diff(matrix.indptr))
    out = matrix.copy()
    out.data = np.divide(out.data, total[rows], out=np.zeros_like(out.data), where=total[rows] > 0)
    return out


def block(views: NetworkViews, r: int, n: int) -> Any:
    """Replication r's neighbour weights, cut from the block (for its threat at rest)."""
    matrix = views.neighbour_weights.matrix
    return matrix[r * n : (r + 1) * n][:, r * n : (r + 1) * n]
