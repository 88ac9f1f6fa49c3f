"""One generation of ABC-SMC: particles, importance weights, distances and diagnostics.

Both engines (pyabc and the built-in one) produce :class:`Generation` records, and the
calibration folder stores them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def effective_sample_size(weights: FloatArray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` of importance weights."""
    w = np.asarray(weights, dtype=float)
    total = w.sum()
    return float(total**2 / (w**2).sum()) if total > 0 else 0.0


def weighted_quantile(values: FloatArray, weights: FloatArray, alpha: float) -> float:
    """The weighted ``alpha``-quantile: the smallest value whose cumulative weight reaches alpha.

    The adaptive epsilon of Del Moral et al. (2012), as a quantile of the previous generation's
    accepted distances (pyabc's ``QuantileEpsilon(weighted=True)`` does the same).
    """
    order = np.argsort(values, kind="stable")
    v = np.asarray(values, dtype=float)[order]
    cum = np.cumsum(np.asarray(weights, dtype=float)[order])
    cum /= cum[-1]
    return float(v[min(int(np.searchsorted(cum, alpha, side="left")), len(v) - 1)])


@dataclass(frozen=True)
class Generation:
    """An accepted population.

    Attributes:
        t: Generation index, from 0 (sampled from the prior).
        theta: Accepted parameters, shape (n, dim), columns in the priors' order.
        weights: Normalised importance weights, shape (n,).
        distances: Each particle's distance, shape (n,).
        epsilon: The acceptance threshold of the generation.
        n_evaluations: Candidates tried up to the n-th acceptance (the acceptance rate's
            denominator, as a sequential sampler counts them).
        n_simulations: Model simulations spent on the generation, including the rest of the last
            block after the n-th acceptance (× replications per particle).
        accepted_moves: ABC-MCMC moves accepted (the built-in engine, whose
            ``n_evaluations`` counts the moves proposed); None for a rejection sampler (pyabc).
    """

    t: int
    theta: FloatArray
    weights: FloatArray
    distances: FloatArray
    epsilon: float
    n_evaluations: int
    n_simulations: int
    accepted_moves: int | None = None

    @property
    def n_accepted(self) -> int:
        """Accepted particles (the population size)."""
        return len(self.weights)

    @property
    def acceptance_rate(self) -> float:
        """Accepted / evaluated candidates (ABC-MCMC moves, for the built-in engine)."""
        accepted = self.n_accepted if self.accepted_moves is None else self.accepted_moves
        return accepted / self.n_evaluations if self.n_evaluations else float("nan")

    @property
    def distinct(self) -> int:
        """Distinct particles (copies of one particle count once)."""
        return len(np.unique(self.theta, axis=0)) if len(self.theta) else 0

    @property
    def ess(self) -> float:
        """Effective sample size of the importance weights."""
        return effective_sample_size(self.weights)

    def diagnostics(self) -> dict[str, float | int | None]:
        """The generation's row of the diagnostics table."""
        return {
            "generation": self.t,
            "epsilon": float(self.epsilon),
            "n_accepted": self.n_accepted,
            "n_evaluations": int(self.n_evaluations),
            "n_simulations": int(self.n_simulations),
            "acceptance_rate": float(self.acceptance_rate),
            "ess": float(self.ess),
            "accepted_moves": self.accepted_moves,
            "distinct": self.distinct,
        }
