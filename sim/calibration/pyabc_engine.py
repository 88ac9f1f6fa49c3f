"""ABC-SMC through pyabc 0.13, with candidate particles simulated in blocks.

pyabc's ``ABCSMC`` (Klinger, Rickert & Hasenauer 2018, "pyABC: distributed, likelihood-free
inference", Bioinformatics 34:3591) runs the generations, the adaptive epsilon
(``QuantileEpsilon``: the weighted alpha-quantile of the previous generation's distances, as in
Del Moral et al. 2012), the perturbation kernel (``MultivariateNormalTransition`` set to twice
the weighted covariance, as in Beaumont et al. 2009), the importance weights and the SQLite
history. A sampler of ours (:func:`block_sampler_class`) evaluates each generation's candidates
in blocks through :class:`~treatysim.calibration.handoff.BlockHandoff`, one simulator call per
block.

The generation loop is ABCSMC's own decomposition (``initialize_components_before_run``,
``run_generation``, ``check_terminate``; pyABC PR #510), so each generation is checkpointed as
soon as pyabc has stored it, and numpy's global random state (the one pyabc draws from) is
seeded per generation from the root seed. A resumed run loads the history
(``ABCSMC.load(db, run_id)``) and continues after its last stored generation; a generation cut
short by a kill is not in the database and is sampled again.

pyabc is imported inside functions: it is needed only when calibrating with this engine.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from treatysim.calibration.generation import Generation
from treatysim.calibration.handoff import BlockHandoff
from treatysim.calibration.priors import scipy_spec
from treatysim.calibration.smc import Problem
from treatysim.scenario.calibration import Method

#: The run id of the (only) analysis in a calibration folder's database.
RUN_ID = 1


def _unit_bandwidth(n_eff: float, dim: int) -> float:
    """Bandwidth factor 1: the kernel's covariance is ``scaling`` × the weighted covariance."""
    return 1.0


def generation_seed(seed: int, t: int) -> int:
    """The seed of numpy's global random state for pyabc's generation ``t`` (-1: calibration)."""
    seq = np.random.SeedSequence(seed, spawn_key=(1, t + 1))
    return int(seq.generate_state(1)[0])


@functools.cache
def block_sampler_class() -> type:
    """The pyabc sampler class that evaluates candidates in blocks (made on first use)."""
    from pyabc.sampler import Sampler

    class PyabcBlockSampler(Sampler):
        """A pyabc sampler that hands each block of candidates to one simulator call.

        Args:
            handoff: The block evaluator.
            on_sample: Called with ``t`` before each generation is sampled (seeds numpy).
        """

        def __init__(self, handoff: BlockHandoff, on_sample: Callable[[int], None]) -> None:
            super().__init__()
            self.handoff = handoff
            self.on_sample = on_sample

        def sample_until_n_accepted(
            self,
            n: int,
            simulate_one: Callable[[], Any],
            t: int,
            *,
            max_eval: float = np.inf,
            all_accepted: bool = False,
            ana_vars: Any = None,
        ) -> Any:
            self.on_sample(t)
            sample = self._create_empty_sample()
            self.nr_evaluations_ = self.handoff.fill(sample.append, n, simulate_one, t, max_eval)
            if sample.n_accepted < n:
                sample.ok = False
            return sample

    return PyabcBlockSampler


def build_abcsmc(problem: Problem, method: Method, handoff: BlockHandoff) -> Any:
    """A ``pyabc.ABCSMC`` for the problem, with the block sampler."""
    import pyabc

    rvs = {}
    for name, prior in zip(problem.priors.names, problem.priors.priors, strict=True):
        scipy_name, args = scipy_spec(prior)
        rvs[name] = pyabc.RV(scipy_name, *args)
    priors = pyabc.Distribution(**rvs)

    def seed_numpy(t: int) -> None:
        np.random.seed(generation_seed(problem.seed, t))

    return pyabc.ABCSMC(
        models=pyabc.FunctionModel(handoff.ask, name="treatysim"),
        parameter_priors=priors,
        distance_function=problem.distance,
        population_size=method.population_size,
        transitions=pyabc.MultivariateNormalTransition(
            scaling=2.0, bandwidth_selector=_unit_bandwidth
        ),
        eps=pyabc.QuantileEpsilon(alpha=method.epsilon_quantile, weighted=True),
        sampler=block_sampler_class()(handoff, seed_numpy),
    )


def generation_from_history(
    history: Any, t: int, names: tuple[str, ...], n_simulations: int | None
) -> Generation:
    """Generation ``t`` as stored in a pyabc history.

    Args:
        history: The ``pyabc.History``.
        t: The generation.
        names: Parameter names, the column order.
        n_simulations: Simulations spent on it, if known (else the evaluations stored).
    """
    population = history.get_population(t=t)
    table = history.get_all_populations().set_index("t")
    particles = population.particles
    weights = np.array([p.weight for p in particles], dtype=float)
    evaluations = int(table.loc[t, "samples"])
    return Generation(
        t=t,
        theta=np.array([[float(p.parameter[n]) for n in names] for p in particles], dtype=float),
        weights=weights / weights.sum(),
        distances=np.array([p.distance for p in particles], dtype=float),
        epsilon=float(table.loc[t, "epsilon"]),
        n_evaluations=evaluations,
        n_simulations=evaluations if n_simulations is None else n_simulations,
    )


def stored_generations(db_path: Path) -> int:
    """How many generations a calibration database holds (0 if there is none)."""
    if not Path(db_path).exists():
        return 0
    import pyabc

    history = pyabc.History(f"sqlite:///{db_path}", _id=RUN_ID)
    return int(history.max_t) + 1 if history.n_populations > 0 else 0


def read_stored_generations(db_path: Path, names: tuple[str, ...], start: int) -> list[Generation]:
    """Generations ``start``, ``start + 1``, … stored in a calibration database.

    Used on resume when a kill fell between pyabc's commit of a generation and its checkpoint;
    their simulation counts are the stored evaluations.
    """
    import pyabc

    history = pyabc.History(f"sqlite:///{db_path}", _id=RUN_ID)
    stop = int(history.max_t) + 1 if history.n_populations > 0 else 0
    return [generation_from_history(history, t, names, None) for t in range(start, stop)]


def run_pyabc(
    problem: Problem,
    method: Method,
    db_path: Path,
    *,
    resume: bool,
    on_generation: Callable[[Generation], None],
    stop: Callable[[Generation, int], bool],
) -> list[int]:
    """Run or resume ABC-SMC with pyabc, calling ``on_generation`` after each new generation.

    Args:
        problem: The problem.
        method: The settings.
        db_path: The SQLite database (created, or loaded when resuming).
        resume: Continue the run stored in ``db_path``.
        on_generation: The checkpoint, called with each generation once pyabc has stored it.
        stop: ``stop(generation, total simulations)``: whether to stop after it.

    Returns:
        The generation indices sampled by this call.
    """
    handoff = BlockHandoff(problem.simulate, method.block_size or method.population_size,
                           problem.seed)  # fmt: skip
    abc = build_abcsmc(problem, method, handoff)
    db = f"sqlite:///{db_path}"
    state = np.random.get_state()
    done: list[int] = []
    try:
        if resume and stored_generations(db_path) > 0:
            abc.load(db, RUN_ID)
        else:
            observed = dict(zip(problem.distance.names, map(float, problem.observed), strict=True))
            abc.new(db, observed)
        t0 = int(abc.history.max_t) + 1
        remaining = method.max_generations - t0
        if remaining <= 0:
            return done
        np.random.seed(generation_seed(problem.seed, t0 - 1))
        t = abc.initialize_components_before_run(
            minimum_epsilon=method.minimum_epsilon,
            max_nr_populations=remaining,
            min_acceptance_rate=method.min_acceptance_rate,
            max_total_nr_simulations=method.max_simulations,
            max_walltime=None,
            min_eps_diff=0.0,
        )
        while True:
            result = abc.run_generation(t=t)
            if not result["successful"]:
                break
            sims = handoff.simulations.get(t, 0) * method.replications
            gen = generation_from_history(abc.history, t, problem.priors.names, sims)
            done.append(t)
            on_generation(gen)
            total = int(abc.history.total_nr_simulations)
            if stop(gen, total) or abc.check_terminate(t, result["acceptance_rate"]):
                break
            t += 1
    finally:
        if getattr(abc, "history", None) is not None:
            abc.history.done(end_time=dt.datetime.now())
        handoff.close()
        np.random.set_state(state)
    return done
