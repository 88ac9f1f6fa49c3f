"""treatysim's own ABC-SMC, evaluating candidate particles in blocks.

The population Monte Carlo ABC of Beaumont, Cornuet, Marin & Robert (2009, "Adaptive
approximate Bayesian computation", Biometrika 96:983-990) with the adaptive tolerance of Del
Moral, Doucet & Jasra (2012, "An adaptive sequential Monte Carlo method for approximate Bayesian
computation", Statistics and Computing 22:1009-1020):

- a calibration sample from the prior sets epsilon_0 to its alpha-quantile of distances
  (pyabc's default); generation 0 samples the prior and keeps distances <= epsilon_0;
- generation t >= 1 uses epsilon_t, the weighted alpha-quantile of generation t-1's distances;
  it resamples a particle by weight and perturbs it with a Gaussian kernel whose covariance is
  twice the weighted covariance of generation t-1 (Beaumont et al. 2009), redrawing proposals
  outside the prior's support;
- an accepted particle's importance weight is pi(theta) / sum_j w_j K(theta | theta_j).

Every random number of generation t comes from ``SeedSequence(seed, spawn_key=(0, t + 1))`` and
every simulation's seed from its place (:func:`~treatysim.calibration.simulator.simulation_seed`),
so a resumed run continues exactly as an uninterrupted one would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import logsumexp

from treatysim.calibration.generation import Generation, weighted_quantile
from treatysim.calibration.priors import PriorSet
from treatysim.calibration.simulator import BlockSimulator, simulation_seed
from treatysim.calibration.targets import WeightedDistance
from treatysim.scenario.calibration import Method

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Problem:
    """What an ABC-SMC run needs besides its settings.

    Attributes:
        priors: The priors (their order is the particle arrays' column order).
        simulate: The block simulator (replications already folded in).
        distance: The distance between statistics.
        observed: Observed statistics, as a vector in ``distance.names`` order.
        seed: Root seed.
    """

    priors: PriorSet
    simulate: BlockSimulator
    distance: WeightedDistance
    observed: FloatArray
    seed: int


class BudgetExhaustedError(RuntimeError):
    """The simulation budget ran out inside a generation (that generation is not kept)."""


def generation_rng(seed: int, t: int) -> np.random.Generator:
    """The random generator of generation ``t`` (-1: the calibration sample)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, t + 1)))


def _distances(problem: Problem, theta: FloatArray, t: int, first: int) -> FloatArray:
    params = problem.priors.as_dicts(theta)
    seeds = [simulation_seed(problem.seed, t, first + i) for i in range(len(params))]
    stats = problem.simulate(params, seeds)
    if len(stats) != len(params):
        raise ValueError(f"the simulator returned {len(stats)} results for {len(params)} inputs")
    sim = np.array([problem.distance.vector(s) for s in stats], dtype=float)
    return problem.distance.many(sim, problem.observed)


def kernel_covariance(prev: Generation) -> FloatArray:
    """Twice the weighted covariance of a population (Beaumont et al. 2009), kept positive."""
    cov = np.atleast_2d(np.cov(prev.theta, rowvar=False, aweights=prev.weights, ddof=0)) * 2.0
    jitter = 1e-12 * max(1.0, float(np.abs(np.diag(cov)).max()))
    return cov + np.eye(len(cov)) * jitter


def _propose(
    priors: PriorSet,
    prev: Generation | None,
    chol: FloatArray | None,
    rng: np.random.Generator,
    n: int,
) -> FloatArray:
    """``n`` proposals inside the prior's support (from the prior when ``prev`` is None)."""
    if prev is None or chol is None:
        return priors.sample(rng, n)
    out = np.empty((0, priors.dim))
    while len(out) < n:
        idx = rng.choice(len(prev.weights), size=n, p=prev.weights)
        theta = prev.theta[idx] + rng.standard_normal((n, priors.dim)) @ chol.T
        out = np.vstack([out, theta[np.isfinite(priors.logpdf(theta))]])
    return out[:n]


def _log_weights(
    priors: PriorSet, theta: FloatArray, prev: Generation | None, cov: FloatArray | None
) -> FloatArray:
    """Log importance weights: log prior minus log of the mixture of perturbation kernels."""
    if prev is None or cov is None:
        return np.zeros(len(theta))
    inv = np.linalg.inv(cov)
    _, logdet = np.linalg.slogdet(cov)
    diff = theta[:, None, :] - prev.theta[None, :, :]
    maha = np.einsum("ijk,kl,ijl->ij", diff, inv, diff)
    log_k = -0.5 * (maha + logdet + priors.dim * np.log(2 * np.pi))
    log_mix = logsumexp(log_k + np.log(prev.weights)[None, :], axis=1)
    return priors.logpdf(theta) - log_mix


def initial_epsilon(problem: Problem, method: Method, block: int) -> tuple[float, int]:
    """epsilon_0 from a calibration sample of the prior; returns it and the simulations spent."""
    rng = generation_rng(problem.seed, -1)
    n = method.population_size
    d = np.concatenate(
        [_distances(problem, problem.priors.sample(rng, block), -1, i) for i in range(0, n, block)]
    )[:n]
    return float(np.quantile(d[np.isfinite(d)], method.epsilon_quantile)), len(d)


def run_generation(
    problem: Problem,
    method: Method,
    t: int,
    epsilon: float,
    prev: Generation | None,
    budget: float,
) -> Generation:
    """Sample generation ``t`` at ``epsilon`` in blocks, each simulated in one call.

    Args:
        problem: The problem.
        method: The settings (population size, block size, replications).
        t: Generation index.
        epsilon: Acceptance threshold.
        prev: Generation t-1 (None for t = 0).
        budget: Simulations left (particles × replications); exceeding it raises.

    Raises:
        BudgetExhaustedError: The budget ran out before ``population_size`` acceptances.
    """
    n = method.population_size
    block = method.block_size or n
    rng = generation_rng(problem.seed, t)
    cov = kernel_covariance(prev) if prev is not None else None
    chol = np.linalg.cholesky(cov) if cov is not None else None
    kept_theta: list[FloatArray] = []
    kept_d: list[FloatArray] = []
    accepted = evaluated = simulated = 0
    while accepted < n:
        if (simulated + block) * method.replications > budget:
            raise BudgetExhaustedError(f"the simulation budget ran out in generation {t}")
        theta = _propose(problem.priors, prev, chol, rng, block)
        d = _distances(problem, theta, t, simulated)
        simulated += block
        ok = np.flatnonzero(d <= epsilon)
        take = ok[: n - accepted]
        if len(take) < n - accepted:
            evaluated += block
        else:
            evaluated += int(take[-1]) + 1
        kept_theta.append(theta[take])
        kept_d.append(d[take])
        accepted += len(take)
    theta_all = np.vstack(kept_theta)
    logw = _log_weights(problem.priors, theta_all, prev, cov)
    w = np.exp(logw - logw.max())
    return Generation(
        t=t,
        theta=theta_all,
        weights=w / w.sum(),
        distances=np.concatenate(kept_d),
        epsilon=float(epsilon),
        n_evaluations=evaluated,
        n_simulations=simulated * method.replications,
    )


def stop_after(gen: Generation, method: Method, total_simulations: int) -> bool:
    """Whether the run stops after ``gen`` (generations, epsilon, budget, acceptance rate)."""
    return (
        gen.t + 1 >= method.max_generations
        or gen.epsilon <= method.minimum_epsilon
        or total_simulations >= method.max_simulations
        or gen.acceptance_rate < method.min_acceptance_rate
    )


def total_simulations(gens: Sequence[Generation], method: Method) -> int:
    """Simulations spent: the calibration sample (one population) and the generations."""
    return method.population_size * method.replications + sum(g.n_simulations for g in gens)


def run_smc(
    problem: Problem,
    method: Method,
    done: Sequence[Generation] = (),
    on_generation: Callable[[Generation], None] | None = None,
) -> list[Generation]:
    """Run (or resume) ABC-SMC until a stopping rule holds.

    Args:
        problem: The problem.
        method: The settings.
        done: Generations already completed (a resumed run), in order from 0.
        on_generation: Called with each new generation as soon as it is complete (the
            checkpoint).

    Returns:
        All generations, ``done`` included.
    """
    gens = list(done)
    total = total_simulations(gens, method)
    if gens and stop_after(gens[-1], method, total):
        return gens
    block = method.block_size or method.population_size
    if not gens:
        epsilon, _ = initial_epsilon(problem, method, block)
    while True:
        prev = gens[-1] if gens else None
        if prev is not None:
            epsilon = weighted_quantile(prev.distances, prev.weights, method.epsilon_quantile)
        try:
            gen = run_generation(
                problem, method, len(gens), epsilon, prev, method.max_simulations - total
            )
        except BudgetExhaustedError:
            return gens
        total += gen.n_simulations
        gens.append(gen)
        if on_generation is not None:
            on_generation(gen)
        if stop_after(gen, method, total):
            return gens
