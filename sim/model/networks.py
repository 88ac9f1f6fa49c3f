"""The influence network as the model reads it: normalised views, dense or sparse.

Kept apart from :mod:`treatysim.model.world` so that the world's resolution stays short; the
world builds one :class:`NetworkViews` per scenario (or per replication for drawn graphs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from treatysim.model.dynamics import SMALL, Complete, as_matrix, row_normalise


@dataclass(frozen=True)
class NetworkViews:
    """The influence network as the model uses it.

    Attributes:
        neighbour_weights: Shape (n, n): row-normalised weights (alarm spreads along them).
        reference_weights: Per treaty, (n, n) weights towards its initial parties,
            row-normalised (a state's reference network for that treaty): one (k, n, n) array
            when dense, else a tuple of sparse matrices.
        adjacency: Shape (n, n): 1 where two states are tied at all (count rules).

    Each is a dense array, or a scipy.sparse CSR matrix for large sparse networks.
    """

    neighbour_weights: Any
    reference_weights: NDArray[np.float64] | tuple[Any, ...]
    adjacency: Any

    @classmethod
    def of(cls, weights: Any, party: NDArray[np.bool_]) -> NetworkViews:
        """Derive the views from raw weights and initial treaty membership.

        Args:
            weights: Shape (n, n): a dense array, or a sparse matrix (a synthetic graph built
                from its edges), which stays sparse unless it is small or dense.
            party: Shape (n, k).
        """
        if isinstance(weights, Complete):  # products in closed form, no n × n array
            every = np.ones(party.shape[0], dtype=bool)
            return cls(
                Complete(every, normalised=True),
                tuple(Complete(party[:, j], normalised=True) for j in range(party.shape[1])),
                Complete(every, normalised=False),
            )
        if not isinstance(weights, np.ndarray):
            return cls._of_sparse(weights, party)
        ties: NDArray[np.float64] = np.asarray(weights, dtype=float)
        per_treaty = [
            as_matrix(row_normalise(ties * party[:, j][None, :])) for j in range(party.shape[1])
        ]
        dense = all(isinstance(m, np.ndarray) for m in per_treaty)
        reference = np.stack(per_treaty) if dense else tuple(per_treaty)
        return cls(as_matrix(row_normalise(ties)), reference, as_matrix((ties > 0).astype(float)))

    @classmethod
    def _of_sparse(cls, weights: Any, party: NDArray[np.bool_]) -> NetworkViews:
        """The views of a sparse network: the same numbers as from its dense form."""
        from scipy import sparse

        n = weights.shape[0]
        ties = sparse.csr_array(weights, dtype=float)
        ties.eliminate_zeros()
        ties.sort_indices()
        if n < SMALL or ties.nnz >= 0.1 * n * n:  # as_matrix keeps these dense
            return cls.of(ties.toarray(), party)

        def normalised(matrix: Any) -> Any:
            total = np.asarray(matrix.sum(axis=1)).ravel()
            rows = np.repeat(np.arange(n), np.diff(matrix.indptr))
            out = matrix.copy()
            out.data = np.divide(
                out.data, total[rows], out=np.zeros_like(out.data), where=total[rows] > 0
            )
            return out

        per_treaty = []
        for j in range(party.shape[1]):
            masked = ties.multiply(party[:, j][None, :].astype(float)).tocsr()
            masked.eliminate_zeros()
            masked.sort_indices()
            per_treaty.append(as_matrix(normalised(masked)))
        adjacency = ties.copy()
        adjacency.data = (adjacency.data > 0).astype(float)
        return cls(normalised(ties), tuple(per_treaty), adjacency)
