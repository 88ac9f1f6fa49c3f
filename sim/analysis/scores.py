"""Proper scores of a backtest: Brier and log scores for "moved by a date", CRPS for its date.

The outcome scored per state is binary: the state *moved to leave* a treaty by a date, i.e. it
reached one of :data:`MOVED_STAGES` (every stage of
:data:`treatysim.scenario.schema.STAGES` other than ``party``, ``deliberating`` and
``retracted``; ``not_party`` is no stage of a party at all) on or before that date. Its timing is
scored by the CRPS of the date of the first such stage.

Every score here is negatively oriented (lower is better) and returned **per state**, so the
paired bootstrap of :mod:`treatysim.analysis.bootstrap` can resample states; a model's score is
the mean over states.

Conventions, stated once:

- **Brier score** of a probability ``p`` and an outcome ``y`` in {0, 1}: ``(p − y)²``.
- **Log score**: ``−log(p)`` if ``y = 1``, ``−log(1 − p)`` if ``y = 0`` (natural logarithm,
  nats), with ``p`` first clipped to ``[ε, 1 − ε]`` so that a forecast of exactly 0 or 1 has a
  finite score. For a model estimated from ``R`` replications use ``ε = 1/(2R)``
  (:func:`replication_epsilon`): half a replication, the resolution of a frequency ``k/R``.
  Score every forecast of one comparison (model and null models) with the same ``ε``.
- **CRPS of dates**, in days, from an ensemble of simulated dates per state (one per
  replication). Dates are day numbers (any common origin: the CRPS is translation invariant).
  *Censoring at the horizon* ``H`` (the backtest's ``--until``): a replication in which the
  state did not move by ``H`` (NaN, or a day after ``H``) counts as ``H``; an observed date that
  is missing (the state did not move) or after ``H`` is ``H`` too. The score is then the CRPS of
  the distribution of ``min(T, H)`` at ``min(y, H)``, which equals
  ``∫_{−∞}^{H} (F(x) − 1{y ≤ x})² dx``: the threshold-weighted CRPS with weight ``1{x < H}``,
  a proper score that looks only at what can be observed by ``H``. A state that neither moved
  nor was predicted to move scores 0; a state predicted to move on day ``d`` in every run that
  did not move scores ``H − d``.
- The ensemble CRPS is computed by ``scoringrules.crps_ensemble``; by default with the ``"nrg"``
  estimator, the CRPS of the ensemble's empirical distribution,
  ``E|X − y| − ½ E|X − X′|`` (Gneiting & Raftery 2007). ``"fair"`` (divides the second term by
  ``m(m − 1)`` instead of ``m²``) estimates the CRPS of the distribution the ensemble is drawn
  from, which matters when comparing ensembles of different sizes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from treatysim.scenario.types import MOVED_STAGES, STAGES

FloatArray = NDArray[np.float64]

#: Stages that do not count as moving to leave a treaty.
NOT_MOVED_STAGES = ("not_party", "party", "deliberating", "retracted")
assert set(MOVED_STAGES) | set(NOT_MOVED_STAGES) == {"not_party", *STAGES}
#: ε of the log score when none is given (use :func:`replication_epsilon` for a model of R runs).
DEFAULT_EPSILON = 1e-3
#: CRPS estimator passed to ``scoringrules.crps_ensemble``.
CrpsEstimator = Literal["nrg", "fair", "pwm", "qd", "int", "akr", "akr_circperm"]


def _binary(y: ArrayLike) -> FloatArray:
    """Outcomes as floats, checked to be 0 or 1."""
    arr = np.asarray(y, dtype=float)
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError("outcomes must be 0 or 1")
    return arr


def _probabilities(p: ArrayLike) -> FloatArray:
    """Probabilities as floats, checked to lie in [0, 1]."""
    arr = np.asarray(p, dtype=float)
    if not np.all((arr >= 0) & (arr <= 1)):
        raise ValueError("probabilities must lie in [0, 1]")
    return arr


def replication_epsilon(n_replications: int) -> float:
    """The clipping ε of the log score for a frequency over ``n_replications`` runs: 1/(2R)."""
    if n_replications < 1:
        raise ValueError("n_replications must be at least 1")
    return 1.0 / (2 * n_replications)


def clip_probabilities(p: ArrayLike, eps: float = DEFAULT_EPSILON) -> FloatArray:
    """Clip probabilities to ``[eps, 1 − eps]``.

    Args:
        p: Probabilities in [0, 1].
        eps: Distance kept from 0 and 1, in (0, 0.5).

    Returns:
        The clipped probabilities (a new array).
    """
    if not 0 < eps < 0.5:
        raise ValueError("eps must lie in (0, 0.5)")
    return np.clip(_probabilities(p), eps, 1 - eps)


def brier_score(p: ArrayLike, y: ArrayLike) -> FloatArray:
    """Per-state Brier score ``(p − y)²`` (0 best, 1 worst).

    Args:
        p: Predicted probabilities that each state moved, in [0, 1].
        y: Observed outcomes, 0 or 1, same shape as ``p``.

    Returns:
        The score of each state.
    """
    pa, ya = np.broadcast_arrays(_probabilities(p), _binary(y))
    return np.asarray((pa - ya) ** 2, dtype=float)


def log_score(p: ArrayLike, y: ArrayLike, eps: float = DEFAULT_EPSILON) -> FloatArray:
    """Per-state log score ``−log p(y)`` in nats, with ``p`` clipped to ``[eps, 1 − eps]``.

    Args:
        p: Predicted probabilities that each state moved, in [0, 1].
        y: Observed outcomes, 0 or 1, same shape as ``p``.
        eps: Clipping distance (see the module's conventions); its worst score is ``−log eps``.

    Returns:
        The score of each state (0 best).
    """
    pa, ya = np.broadcast_arrays(clip_probabilities(p, eps), _binary(y))
    return np.asarray(-np.where(ya == 1, np.log(pa), np.log1p(-pa)), dtype=float)


def moved_probability(sim_days: ArrayLike, horizon: float) -> FloatArray:
    """Per state: the share of replications in which the state moved on or before ``horizon``.

    Args:
        sim_days: Shape (states, replications): day of each state's first moved stage per run,
            NaN where it never moved.
        horizon: Last day that counts (inclusive).

    Returns:
        Shape (states,): probabilities ``k / R``.
    """
    days = np.asarray(sim_days, dtype=float)
    if days.ndim != 2 or days.shape[1] == 0:
        raise ValueError("sim_days must have shape (states, replications) with replications > 0")
    with np.errstate(invalid="ignore"):
        return np.asarray((days <= horizon).mean(axis=1), dtype=float)


def censor_days(days: ArrayLike, horizon: float) -> FloatArray:
    """Censor day numbers at the horizon: NaN (never moved) and days after it become ``horizon``."""
    arr = np.asarray(days, dtype=float)
    return np.where(np.isnan(arr) | (arr > horizon), float(horizon), arr)


def crps_dates(
    sim_days: ArrayLike,
    obs_days: ArrayLike,
    horizon: float,
    estimator: CrpsEstimator = "nrg",
) -> FloatArray:
    """Per-state CRPS (in days) of the date of moving, censored at the horizon.

    Args:
        sim_days: Shape (states, members): each ensemble member's day of the state's first moved
            stage, NaN where it did not move (one member per replication, or a null model's
            ensemble from :func:`treatysim.analysis.nulls.null_date_ensemble`).
        obs_days: Shape (states,): the observed day, NaN where the state did not move.
        horizon: The censoring day ``H`` (see the module's conventions).
        estimator: ``scoringrules`` estimator; ``"nrg"`` is the CRPS of the empirical
            distribution.

    Returns:
        Shape (states,): the CRPS of each state, in days (0 best).
    """
    import scoringrules as sr  # imports scipy: about a second, paid only when dates are scored

    fct = censor_days(sim_days, horizon)
    obs = censor_days(obs_days, horizon)
    if fct.ndim != 2 or fct.shape[1] == 0 or obs.shape != fct.shape[:1]:
        raise ValueError("need sim_days of shape (states, members > 0) and obs_days (states,)")
    crps = sr.crps_ensemble(obs, fct, m_axis=-1, estimator=estimator, backend="numpy")
    return np.asarray(crps, dtype=float)


def mean_scores(per_state: Mapping[str, ArrayLike]) -> dict[str, float]:
    """Mean over states of each named per-state score array."""
    return {name: float(np.mean(np.asarray(v, dtype=float))) for name, v in per_state.items()}


def score_probabilities(
    forecasts: Mapping[str, ArrayLike], y: ArrayLike, eps: float = DEFAULT_EPSILON
) -> dict[str, dict[str, FloatArray]]:
    """Brier and log scores per state of several forecasts of the same states.

    Args:
        forecasts: Forecast name → probabilities per state (all in the same state order).
        y: Observed outcomes per state.
        eps: Clipping of the log score, the same for every forecast.

    Returns:
        ``{"brier": {name: per-state}, "log": {name: per-state}}``.
    """
    return {
        "brier": {name: brier_score(p, y) for name, p in forecasts.items()},
        "log": {name: log_score(p, y, eps) for name, p in forecasts.items()},
    }
