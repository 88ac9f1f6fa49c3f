"""The model's update equations as array functions.

Each function takes arrays whose last axes are states (``n``), treaties (``k``) or threat sources
(``s``) and allows any leading batch axes, so the same code advances one replication (the Mesa
model) or a stack of replications at once (the batched engine). Times are in months; see
docs/ODD.md for the equations and their sources.

Network products give every replication of a batch exactly the numbers it gets alone: a dense
network multiplies each replication's vector by its own matrix-vector product (``W @ x``, never
one matrix-matrix product for the batch, whose rounding differs), and a sparse one sums each
row's terms in the order of its stored entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
#: A network matrix: dense for small or dense networks, scipy.sparse CSR for large sparse ones.
#: Both support ``values @ matrix.T`` with values of shape (..., n).
Matrix = Any
#: Networks of fewer nodes stay dense arrays (a dense product is cheapest there).
SMALL = 200


def hazard(step_months: FloatArray | float, mean_months: FloatArray | float) -> FloatArray:
    """Probability that an exponential waiting time with the given mean ends within a step.

    A mean of zero means "at once" (probability 1). Using a rate per month, not per step, makes
    the dynamics the same whatever the step length.
    """
    mean = np.asarray(mean_months, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(mean > 0, -np.expm1(-step_months / np.where(mean > 0, mean, 1.0)), 1.0)


def available_power(
    capability: FloatArray, factor: FloatArray, tied_down: FloatArray, boost: FloatArray
) -> FloatArray:
    """A source's power available against states: capability not tied down, with boosts."""
    return capability * factor * (1.0 - tied_down) * (1.0 + boost)


def source_threat(
    power: FloatArray, offensive: FloatArray, proximity: FloatArray, intent: FloatArray
) -> FloatArray:
    """Walt's threat from every source to every state, summed over sources.

    Args:
        power: Available power, shape (..., s).
        offensive: Offensive capability multiplier, shape (s,).
        proximity: Shape (s, n).
        intent: Perceived intent, shape (s, n).

    Returns:
        Shape (..., n): threat units.
    """
    return (power * offensive) @ (proximity * intent)


def discounted_threat(
    source: FloatArray, credibility: FloatArray, reassurance_weight: float
) -> FloatArray:
    """Source threat discounted by the credibility of allied guarantees."""
    return source * (1.0 - reassurance_weight * credibility)


def threat_target(
    discounted: FloatArray, neighbours_threat: FloatArray | float, alarm_gain: FloatArray
) -> FloatArray:
    """The level perceived threat moves towards: discounted source threat plus alarm.

    ``alarm_gain`` is the alarm spread times the state's own exposure, so a source's ally
    (exposure 0) catches no alarm from its neighbours.
    """
    return discounted + alarm_gain * neighbours_threat


def ou_coefficients(
    step_months: FloatArray, memory_months: float, volatility: float
) -> tuple[FloatArray, FloatArray]:
    """Coefficients of the exact Ornstein–Uhlenbeck step.

    ``keep`` is the share of the gap to the target that survives a step and ``spread`` the
    noise's standard deviation per unit draw. The step is exact for a target held over the step,
    so a month of weekly steps and one monthly step have the same distribution.
    """
    keep = np.exp(-step_months / memory_months)
    spread = volatility * np.sqrt(memory_months / 2.0 * (1.0 - keep * keep))
    return keep, spread


def ou_update(
    value: FloatArray,
    target: FloatArray,
    keep: FloatArray | float,
    spread: FloatArray | float,
    noise: FloatArray,
) -> FloatArray:
    """One Ornstein–Uhlenbeck step towards a target: memory (smoothing) plus noise.

    Args:
        value: Current value.
        target: Level the value moves towards.
        keep: Share of the gap that survives the step, exp(-Δt/τ).
        spread: Noise standard deviation for a unit draw (see :func:`ou_coefficients`).
        noise: Standard normal draws, scaled as the noise should scale.
    """
    return target + (value - target) * keep + spread * noise


def relax(value: FloatArray, target: FloatArray, keep: FloatArray | float) -> FloatArray:
    """Exponential smoothing towards a target; ``keep`` = exp(-Δt/τ) for the step."""
    return target + (value - target) * keep


def perceive(
    threat: FloatArray,
    discounted: FloatArray,
    neighbour_weights: Matrix,
    alarm_gain: FloatArray,
    keep: FloatArray | float,
    spread: FloatArray | float,
    noise: FloatArray | None,
) -> FloatArray:
    """One step of perceived threat: towards discounted threat plus alarm, with memory and noise.

    Args:
        threat: Perceived threat, shape (..., n).
        discounted: Source threat discounted by credibility, shape (..., n).
        neighbour_weights: Row-normalised network (alarm spreads along it).
        alarm_gain: Alarm spread times exposure, shape (..., n).
        keep: Share of the gap to the target that survives the step.
        spread: Noise standard deviation per unit draw.
        noise: This step's standard normal draws, shape (..., n), or None without noise.
    """
    # without alarm (no exposure, or no spread) the neighbours' mean adds exactly nothing
    neighbours = neighbour_mean(threat, neighbour_weights) if np.any(alarm_gain) else 0.0
    target = threat_target(discounted, neighbours, alarm_gain)
    if noise is None:
        updated = relax(threat, target, keep)
    else:
        # noise is relative to the target: a state with nothing to fear has no noise to feel
        updated = ou_update(threat, target, keep, spread, noise * target)
    return np.maximum(updated, 0.0)


def commitment_goal(
    norm: FloatArray,
    shift: FloatArray,
    share: FloatArray,
    moved: FloatArray,
    peer_erosion: FloatArray | float,
    spillover: FloatArray | float,
    campaigns: FloatArray,
) -> FloatArray:
    """The commitment target with norm campaigns: :func:`commitment_target`, then each layer.

    Args:
        norm: Baseline commitment plus stigma, shape (..., n, k).
        shift: Government-change shift, shape (..., n).
        share: Peer share that has moved, shape (..., n, k).
        moved: 1 where the state has moved, shape (..., n, k).
        peer_erosion: Commitment lost per unit share.
        spillover: Commitment lost per other treaty the state has moved on.
        campaigns: Campaign layers, shape (layers, ..., n, k), added in order.
    """
    # other treaties a state has moved on (none when the scenario has one treaty)
    elsewhere = moved.sum(axis=-1, keepdims=True) - moved if moved.shape[-1] > 1 else 0.0
    target = commitment_target(norm, shift, share, peer_erosion, elsewhere, spillover)
    for layer in campaigns:
        target += layer
    return target


def product(weights: Matrix, values: FloatArray) -> FloatArray:
    """``weights @ values`` for each vector of ``values`` (shape (..., n)): shape (..., n).

    Dense weights of shape (n, n), or (..., n, n) (one matrix per replication), multiply each
    vector by a matrix-vector product; a sparse matrix multiplies all vectors in one call, each
    output summed in the order of the row's stored entries (the same as for one vector); a
    :class:`BlockDiagonal` holds one sparse matrix per replication.
    """
    if isinstance(weights, np.ndarray):
        return (weights @ values[..., None])[..., 0]
    if isinstance(weights, Complete):
        return weights.times(values)
    if isinstance(weights, BlockDiagonal):
        return (weights.matrix @ values.reshape(-1)).reshape(values.shape)
    if isinstance(weights, PerReplication):
        return np.stack([product(m, v) for m, v in zip(weights.matrices, values, strict=True)])
    if values.ndim == 1:
        return weights @ values
    flat = values.reshape(-1, values.shape[-1])
    return (weights @ flat.T).T.reshape(values.shape)


class BlockDiagonal:
    """Sparse matrices of several replications as one block-diagonal matrix (batch-major).

    Args:
        blocks: One (n, n) sparse matrix per replication.
    """

    def __init__(self, blocks: Sequence[Matrix]) -> None:
        from scipy import sparse

        csr = [sparse.csr_array(b) for b in blocks]
        rows = np.cumsum([0] + [b.shape[0] for b in csr])
        cols = np.cumsum([0] + [b.shape[1] for b in csr])
        nnz = np.cumsum([0] + [b.nnz for b in csr])
        # each block's rows as they are (same entries, same order), shifted into place
        indptr = np.concatenate([b.indptr[:-1] + nnz[i] for i, b in enumerate(csr)] + [nnz[-1:]])
        indices = np.concatenate([b.indices + cols[i] for i, b in enumerate(csr)])
        data = np.concatenate([b.data for b in csr])
        self.matrix = sparse.csr_array((data, indices, indptr), shape=(rows[-1], cols[-1]))

    @classmethod
    def of_matrix(cls, matrix: Matrix) -> BlockDiagonal:
        """Wrap a block-diagonal CSR matrix that is already assembled."""
        out = cls.__new__(cls)
        out.matrix = matrix
        return out


class Complete:
    """A complete network's weights towards some members, multiplied in closed form.

    Row i has weight 1 towards every member j ≠ i (``normalised``: 1 / their number, 0 when
    there is none), so ``W @ x`` is (Σ members' x − own) × scale: a neighbour mean is
    (sum − own) / (n − 1). No n × n array is formed.

    Args:
        members: Shape (..., n): the nodes ties go to (every node, or a treaty's parties); a
            leading axis holds one network per replication.
        normalised: Divide each row by its number of ties.
    """

    def __init__(self, members: NDArray[np.bool_], normalised: bool) -> None:
        self.members = np.asarray(members, dtype=bool)
        self.normalised = normalised
        n = self.members.shape[-1]
        self.shape = (n, n)
        self.weight = self.members.astype(float)
        count = self.weight.sum(axis=-1, keepdims=True) - self.weight
        if normalised:
            self.scale = np.divide(1.0, count, out=np.zeros_like(count), where=count > 0)
        else:
            self.scale = np.ones_like(count)

    def times(self, values: FloatArray) -> FloatArray:
        """``W @ x`` for each vector of ``values`` (shape (..., n))."""
        tied = values * self.weight
        return (tied.sum(axis=-1, keepdims=True) - tied) * self.scale

    @classmethod
    def stack(cls, networks: Sequence[Complete]) -> Complete:
        """One network per replication (their members stacked on a leading axis)."""
        return cls(np.stack([c.members for c in networks]), networks[0].normalised)

    def todense(self) -> FloatArray:
        """The n × n array (for display of small networks only: the model never forms it)."""
        dense = np.broadcast_to(self.weight[..., None, :], (*self.members.shape, self.shape[1]))
        dense = dense * (1.0 - np.eye(self.shape[0]))
        return dense * self.scale[..., :, None]


class PerReplication:
    """One matrix per replication, of mixed kinds (dense or sparse), multiplied one by one."""

    def __init__(self, matrices: Sequence[Matrix]) -> None:
        self.matrices = list(matrices)


def neighbour_mean(values: FloatArray, weights_row_normalised: Matrix) -> FloatArray:
    """Weighted mean of neighbours' values, shape (..., n)."""
    return product(weights_row_normalised, values)


def peer_share(moved: FloatArray, reference_weights: Sequence[Matrix] | FloatArray) -> FloatArray:
    """Weighted share of each state's reference network that has moved, per treaty.

    Args:
        moved: 1 where a state has announced or left a treaty, shape (..., n, k).
        reference_weights: Per treaty, the row-normalised (n, n) weights towards its parties:
            a dense (k, n, n) array (or (..., k, n, n), one per replication), or a sequence of
            (sparse) matrices.
    """
    if isinstance(reference_weights, np.ndarray):
        # one matrix-vector product per replication and treaty: (..., k, n, n) @ (..., k, n, 1)
        per_treaty = reference_weights @ np.swapaxes(moved, -1, -2)[..., None]
        return np.swapaxes(per_treaty[..., 0], -1, -2)
    return np.stack(
        [product(weights, moved[..., :, j]) for j, weights in enumerate(reference_weights)],
        axis=-1,
    )


def peer_count(moved: FloatArray, adjacency: Matrix) -> FloatArray:
    """Number of neighbours that have moved, per treaty, shape (..., n, k)."""
    return np.stack([product(adjacency, moved[..., :, j]) for j in range(moved.shape[-1])], axis=-1)


def commitment_target(
    norm: FloatArray,
    shift: FloatArray,
    share: FloatArray,
    peer_erosion: FloatArray | float,
    moved_elsewhere: FloatArray | float,
    spillover: FloatArray | float,
) -> FloatArray:
    """Commitment's target: the norm (with its stigma), shifted by governments, eroded by peers.

    Norm campaigns add to this target for as long as they last (see the model).

    Args:
        norm: Baseline commitment plus stigma, shape (n, k).
        shift: Government-change shift, shape (..., n).
        share: Peer share that has moved, shape (..., n, k).
        peer_erosion: Commitment lost per unit share.
        moved_elsewhere: Number of other treaties the state has moved on, shape (..., n, k).
        spillover: Commitment lost per other treaty.
    """
    return norm + shift[..., None] - peer_erosion * share - spillover * moved_elsewhere


def row_normalise(weights: FloatArray) -> FloatArray:
    """Divide each row by its sum (rows that sum to zero stay zero)."""
    total = weights.sum(axis=-1, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


def as_matrix(weights: FloatArray) -> Matrix:
    """Keep a network dense, or make it a sparse CSR matrix when it is large and sparse.

    A 1,000-node random network with mean degree 3 multiplies 100 times faster sparse; the
    founding scenario's 47 states stay dense.
    """
    if not isinstance(weights, np.ndarray):
        return weights  # already sparse
    n = weights.shape[-1]
    if n >= SMALL and np.count_nonzero(weights) < 0.1 * n * n:
        from scipy import sparse

        return sparse.csr_array(weights)
    return weights


def equilibrium_threat(
    base: FloatArray, weights_row_normalised: Matrix, alarm_spread: float, exposure: FloatArray
) -> FloatArray:
    """Perceived threat at rest: the fixed point θ = base + alarm · exposure · (W̃ θ)."""
    n = base.shape[-1]
    if not alarm_spread or not exposure.any():
        return np.array(base, dtype=float)
    weights = weights_row_normalised
    if isinstance(weights, Complete) and weights.members.ndim == 1 and weights.members.all():
        # θ_i = b_i + c_i (S − θ_i) with c_i = gain_i / (n − 1), solved for S = Σ θ first
        c = alarm_spread * exposure * weights.scale[0]
        total = (base / (1 + c)).sum() / (1 - (c / (1 + c)).sum())
        return np.asarray((base + c * total) / (1 + c), dtype=float)
    if not isinstance(weights, np.ndarray):  # a large sparse network: never an n × n array
        from scipy import sparse
        from scipy.sparse.linalg import spsolve

        gain = sparse.diags_array(alarm_spread * exposure)
        system = sparse.eye_array(n, format="csc") - (gain @ weights).tocsc()
        return np.asarray(spsolve(system, base), dtype=float)
    system = np.eye(n) - alarm_spread * exposure[:, None] * weights
    return np.linalg.solve(system, base)
