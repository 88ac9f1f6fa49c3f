"""treatysim's own ABC-SMC: the replenishment algorithm, simulating candidates in blocks.

The ABC-SMC of Drovandi & Pettitt (2011, "Estimation of parameters for macroparasite population
evolution using approximate Bayesian computation", Biometrics 67:225-233), with the adaptive
tolerance of Del Moral, Doucet & Jasra (2012, "An adaptive sequential Monte Carlo method for
approximate Bayesian computation", Statistics and Computing 22:1009-1020). Every particle has
the same weight; no importance weights are computed, so none can degenerate:

- generation 0 samples the prior (epsilon_0 is its largest distance);
- generation t >= 1 keeps the ``alpha`` share of generation t-1's particles with the smallest
  distances (ties broken at random); epsilon_t is the largest distance kept. It replaces the
  others by copies of kept particles, drawn at random, and moves each copy with R_t steps of
  ABC-MCMC targeting the ABC posterior at epsilon_t (Marjoram, Molitor, Plagnol & Tavare 2003):
  a Gaussian random-walk proposal, accepted when its simulation's distance is within epsilon_t
  and a uniform draw is below the prior ratio. Each step simulates every copy's proposal in
  blocks, in one call per block;
- the random walk acts on the priors' normal scores, z = Phi^-1(F(theta)) column by column
  (:meth:`~treatysim.calibration.priors.PriorSet.to_normal`), where every prior is a standard
  normal and the walk never leaves the support; its covariance is (2.38^2 / dim) times the kept
  particles' covariance (Roberts, Gelman & Gilks 1997);
- R_t = ceil(log(c) / log(1 - p)), with p the move acceptance rate of generation t-1 and
  c = 0.01, so that a copy is left unmoved with probability about 1% (Drovandi & Pettitt 2011);
  at most :data:`MAX_STEPS`;
- the run stops when the move acceptance rate falls below ``min_acceptance_rate`` (Drovandi
  & Pettitt's rule), at ``minimum_epsilon``, after ``max_generations`` or ``max_simulations``.

An importance-sampling ABC-SMC (Beaumont, Cornuet, Marin & Robert 2009) ran here before: with
the founding calibration's 16 parameters its effective sample size fell to 60-140 of 400 after
one generation and to 1 with the local kernel of Filippi et al. (2013); docs/calibration.md.

Every random number of generation t comes from ``SeedSequence(seed, spawn_key=(0, t + 1))`` and
every simulation's seed from its place (:func:`~treatysim.calibration.simulator.simulation_seed`),
so a resumed run continues exactly as an uninterrupted one would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from treatysim.calibration.generation import Generation
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
    """The random generator of generation ``t``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, t + 1)))


#: Most ABC-MCMC steps per generation.
MAX_STEPS = 30
#: Chance that a copy is left unmoved that the number of steps aims at (Drovandi & Pettitt).
UNMOVED = 0.01
#: Move acceptance rate assumed before any move was tried.
FIRST_ACCEPTANCE = 0.5


def _distances(problem: Problem, theta: FloatArray, t: int, first: int, block: int) -> FloatArray:
    """Distances of the candidates ``theta``, simulated in blocks; seeds from ``first`` on."""
    out = []
    for start in range(0, len(theta), block):
        params = problem.priors.as_dicts(theta[start : start + block])
        seeds = [simulation_seed(problem.seed, t, first + start + i) for i in range(len(params))]
        stats = problem.simulate(params, seeds)
        if len(stats) != len(params):
            raise ValueError(
                f"the simulator returned {len(stats)} results for {len(params)} inputs"
            )
        sim = np.array([problem.distance.vector(s) for s in stats], dtype=float)
        out.append(problem.distance.many(sim, problem.observed))
    return np.concatenate(out) if out else np.empty(0)


def steps_for(acceptance: float) -> int:
    """R_t: ABC-MCMC steps leaving a copy unmoved with probability about :data:`UNMOVED`."""
    if acceptance >= 1.0:
        return 1
    if acceptance <= 0.0:
        return MAX_STEPS
    return int(min(MAX_STEPS, max(1, np.ceil(np.log(UNMOVED) / np.log1p(-acceptance)))))


def random_walk(priors: PriorSet, z: FloatArray) -> FloatArray:
    """Cholesky factor of the random walk's covariance: (2.38^2 / dim) x the particles'."""
    cov = np.atleast_2d(np.cov(z, rowvar=False, ddof=1)) if len(z) > 1 else np.eye(priors.dim)
    cov = cov * (2.38**2 / priors.dim)
    cov += np.eye(priors.dim) * 1e-9 * max(1.0, float(np.abs(np.diagonal(cov)).max()))
    return np.asarray(np.linalg.cholesky(cov))


def run_generation(
    problem: Problem,
    method: Method,
    t: int,
    prev: Generation | None,
    budget: float,
) -> Generation:
    """Generation ``t``: the prior (t = 0), or keep, replenish and move (t >= 1).

    Args:
        problem: The problem.
        method: The settings (population size, block size, replications, alpha).
        t: Generation index.
        prev: Generation t-1 (None for t = 0).
        budget: Simulations left (particles × replications); exceeding it raises.

    Raises:
        BudgetExhaustedError: The budget would run out inside the generation.
    """
    n = method.population_size
    block = method.block_size or n
    rng = generation_rng(problem.seed, t)
    reps = method.replications
    if prev is None:
        if n * reps > budget:
            raise BudgetExhaustedError("the simulation budget is below one population")
        theta = problem.priors.sample(rng, n)
        d = _distances(problem, theta, t, 0, block)
        finite = d[np.isfinite(d)]
        epsilon = float(finite.max()) if len(finite) else float("inf")
        return Generation(t, theta, np.full(n, 1.0 / n), d, epsilon, n, n * reps)
    keep_n = min(len(prev.distances) - 1, max(1, int(np.ceil(method.epsilon_quantile * n))))
    order = np.lexsort((rng.random(len(prev.distances)), prev.distances))
    kept = order[:keep_n]
    epsilon = float(prev.distances[kept].max())
    copies = rng.choice(kept, size=n - keep_n, replace=True)
    steps = steps_for(prev.acceptance_rate if prev.accepted_moves is not None else FIRST_ACCEPTANCE)
    if len(copies) * steps * reps > budget:
        raise BudgetExhaustedError(f"the simulation budget ran out in generation {t}")
    z = problem.priors.to_normal(prev.theta[copies])
    d = prev.distances[copies].copy()
    chol = random_walk(problem.priors, problem.priors.to_normal(prev.theta[kept]))
    accepted = 0
    for step in range(steps):
        proposal = z + rng.standard_normal(z.shape) @ chol.T
        d_new = _distances(problem, problem.priors.from_normal(proposal), t, step * len(z), block)
        log_ratio = -0.5 * ((proposal**2).sum(axis=1) - (z**2).sum(axis=1))
        move = (d_new <= epsilon) & (np.log(rng.random(len(z))) < log_ratio)
        z[move], d[move] = proposal[move], d_new[move]
        accepted += int(move.sum())
    theta = np.vstack([prev.theta[kept], problem.priors.from_normal(z)])
    proposals = len(copies) * steps
    return Generation(
        t=t,
        theta=theta,
        weights=np.full(n, 1.0 / n),
        distances=np.concatenate([prev.distances[kept], d]),
        epsilon=epsilon,
        n_evaluations=proposals,
        n_simulations=proposals * reps,
        accepted_moves=accepted,
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
    """Simulations spent: the generations (and pyabc's calibration sample of one population)."""
    sample = method.population_size * method.replications if method.engine == "pyabc" else 0
    return sample + sum(g.n_simulations for g in gens)


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
    while not (gens and stop_after(gens[-1], method, total)):
        prev = gens[-1] if gens else None
        try:
            gen = run_generation(problem, method, len(gens), prev, method.max_simulations - total)
        except BudgetExhaustedError:
            return gens
        total += gen.n_simulations
        gens.append(gen)
        if on_generation is not None:
            on_generation(gen)
    return gens
