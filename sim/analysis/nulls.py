"""Null models of a backtest: forecasts a model has to beat, computed on the same states.

Each null gives every state a probability of moving to leave by the horizon (scored like the
model with :mod:`treatysim.analysis.scores`); :func:`null_date_ensemble` turns such
probabilities into an ensemble of dates, so the date CRPS has the same nulls.

- **Base rate, in-sample** (:func:`base_rate_null`): every state gets the observed share of
  movers among the scored states. It is computed *from the outcome being scored*, so it is an
  in-sample benchmark, reported as such.
- **Base rate, training window** (:func:`training_rate`): the rate of a window before the
  cutoff (e.g. 0 movers among the parties in 2022-03 to 2024-12), smoothed by adding
  ``prior`` movers and ``prior`` stayers (0.5 each: the Krichevsky–Trofimov / Jeffreys estimate,
  so 0 of n is not a probability of 0), and optionally rescaled from the training window's length
  to the test window's with a constant daily hazard: ``1 − (1 − p)^(test_days / train_days)``.
  Free of the outcome.
- **Exposure** (:func:`exposure`, :func:`exposure_null`): 1 if the state shares a land border
  with a threat source or an ally of one, else 0, mapped to ``p_hi`` / ``p_lo``.
- **Exposure minus allies** (``exposure(..., minus_allies=True)``): as exposure, but the sources
  and their allies (e.g. Belarus for Russia) are 0: they border the source without fearing it.
- **Group rates, in-sample** (:func:`group_rate_null`): each group (e.g. exposed / not exposed)
  gets its own observed share of movers, smoothed like the training rate: the strongest null
  of its shape, and in-sample.

Land borders are taken as symmetric: a border listed by either state counts for both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

#: Exposure null: probability that an exposed state moves. Not fitted to any outcome: a forecaster
#: who takes the rule as nearly decisive (9 in 10 exposed states move).
DEFAULT_P_HI = 0.9
#: Exposure null: probability that a state that is not exposed moves (1 in 100).
DEFAULT_P_LO = 0.01
#: Pseudo-counts added to movers and to stayers when a rate is estimated (Krichevsky–Trofimov).
DEFAULT_PRIOR = 0.5
#: Members of a null model's date ensemble (quantiles of its date distribution).
DEFAULT_MEMBERS = 200


def base_rate_null(y: ArrayLike) -> FloatArray:
    """In-sample base rate: every state gets the observed share of movers (uses the outcome).

    Args:
        y: Observed outcomes (0/1) of the scored states.

    Returns:
        Shape like ``y``: the mean of ``y`` everywhere.
    """
    arr = np.asarray(y, dtype=float)
    if arr.size == 0:
        raise ValueError("no states")
    return np.full(arr.shape, float(arr.mean()))


def training_rate(
    k_moved: int,
    n_states: int,
    prior: float = DEFAULT_PRIOR,
    train_days: float | None = None,
    test_days: float | None = None,
) -> float:
    """Probability of moving from the movers of a training window (free of the scored outcome).

    Args:
        k_moved: States that moved during the training window.
        n_states: States at risk during the training window.
        prior: Pseudo-counts added to movers and to stayers (0 gives the raw share ``k/n``).
        train_days: Length of the training window; with ``test_days``, the rate is rescaled
            to the test window at a constant daily hazard.
        test_days: Length of the test window (cutoff to horizon).

    Returns:
        ``(k + prior) / (n + 2 prior)``, rescaled when both lengths are given.
    """
    if n_states < 1 or not 0 <= k_moved <= n_states or prior < 0:
        raise ValueError("need 0 <= k_moved <= n_states, n_states >= 1 and prior >= 0")
    p = (k_moved + prior) / (n_states + 2 * prior)
    if (train_days is None) != (test_days is None):
        raise ValueError("give both train_days and test_days, or neither")
    if train_days is not None and test_days is not None:
        if train_days <= 0 or test_days < 0:
            raise ValueError("window lengths must be positive")
        p = 1.0 - (1.0 - p) ** (test_days / train_days)
    return float(p)


def constant_null(p: float, n_states: int) -> FloatArray:
    """Every one of ``n_states`` states gets probability ``p``."""
    if not 0 <= p <= 1:
        raise ValueError("p must lie in [0, 1]")
    return np.full(n_states, float(p))


def brier_break_even(
    y: ArrayLike, exposed: ArrayLike, target: float, p_lo: float = DEFAULT_P_LO
) -> tuple[float, float] | None:
    """The values of ``p_hi`` for which an exposure rule's Brier score is below ``target``.

    The rule's one free number is ``p_hi``, the probability it gives an exposed state, and
    its default (:data:`DEFAULT_P_HI`) is a judgement. A model that loses to the rule at the
    default may beat it at a more cautious ``p_hi``; this gives the whole range at once, so a
    reader can see how confident the forecaster had to be to beat the model. The rule's mean
    Brier score is a quadratic in ``p_hi``,
    ``B(p) = [Σ_exposed (y − p)² + Σ_other (y − p_lo)²] / n``, below ``target`` between its
    two roots (clipped to [0, 1]).

    Args:
        y: Observed outcomes (0/1) of the scored states.
        exposed: Per state, from :func:`exposure`.
        target: The score to beat (e.g. the model's mean Brier score).
        p_lo: The rule's probability for a state that is not exposed.

    Returns:
        ``(low, high)``: the rule scores below ``target`` for every ``p_hi`` in it; None if it
        does for none.
    """
    obs = np.asarray(y, dtype=float)
    flags = np.asarray(exposed, dtype=bool)
    if obs.shape != flags.shape or obs.size == 0:
        raise ValueError("need one outcome and one exposure flag per state, at least one state")
    n, k = obs.size, int(flags.sum())
    rest = float(((obs[~flags] - p_lo) ** 2).sum())
    if k == 0:
        return (0.0, 1.0) if rest / n < target else None
    # n B(p) = k p² − 2 p Σ_E y + Σ_E y² + rest; B(p) < target between the roots
    a, b = float(k), -2.0 * float(obs[flags].sum())
    c = float((obs[flags] ** 2).sum()) + rest - n * target
    disc = b * b - 4 * a * c
    if disc <= 0:
        return None
    root = float(np.sqrt(disc))
    low, high = max((-b - root) / (2 * a), 0.0), min((-b + root) / (2 * a), 1.0)
    return (low, high) if low < high else None


def _neighbours(borders: Mapping[str, Sequence[str]]) -> dict[str, set[str]]:
    """Symmetric neighbour sets of a border mapping."""
    out: dict[str, set[str]] = {}
    for state, others in borders.items():
        for other in others:
            out.setdefault(state, set()).add(other)
            out.setdefault(other, set()).add(state)
    return out


def exposure(
    iso3: Sequence[str],
    borders: Mapping[str, Sequence[str]],
    sources: Sequence[str],
    allies: Mapping[str, Sequence[str]] | None = None,
    minus_allies: bool = False,
) -> NDArray[np.bool_]:
    """Per state: does it share a land border with a threat source or an ally of one?

    Args:
        iso3: The scored states, in order.
        borders: State → its land neighbours (e.g. ``StateRecord.land_borders`` of a dataset);
            taken as symmetric.
        sources: Threat sources (e.g. ``["RUS"]``).
        allies: Source → its allies (e.g. ``{"RUS": ["BLR"]}``).
        minus_allies: Count the sources and their allies as not exposed.

    Returns:
        Shape (states,): True where exposed.
    """
    hostile = set(sources)
    for source in sources:
        hostile.update((allies or {}).get(source, ()))
    neighbours = _neighbours(borders)
    out = np.array([bool(neighbours.get(s, set()) & hostile) for s in iso3], dtype=bool)
    if minus_allies:
        out &= np.array([s not in hostile for s in iso3], dtype=bool)
    return out


def exposure_null(
    exposed: ArrayLike, p_hi: float = DEFAULT_P_HI, p_lo: float = DEFAULT_P_LO
) -> FloatArray:
    """Probabilities of the exposure rule: ``p_hi`` where exposed, ``p_lo`` elsewhere.

    Args:
        exposed: Per state, from :func:`exposure`.
        p_hi: Probability that an exposed state moves.
        p_lo: Probability that any other state moves.

    Returns:
        Shape (states,): probabilities.
    """
    if not (0 <= p_lo <= 1 and 0 <= p_hi <= 1):
        raise ValueError("p_hi and p_lo must lie in [0, 1]")
    return np.where(np.asarray(exposed, dtype=bool), float(p_hi), float(p_lo))


def group_rate_null(groups: ArrayLike, y: ArrayLike, prior: float = DEFAULT_PRIOR) -> FloatArray:
    """In-sample group rates: each state gets its group's smoothed share of movers.

    Args:
        groups: Per state, a group label (e.g. the exposure flag).
        y: Observed outcomes (0/1) per state (the outcome being scored).
        prior: Pseudo-counts added to movers and to stayers within each group.

    Returns:
        Shape (states,): ``(k_g + prior) / (n_g + 2 prior)`` of each state's group ``g``.
    """
    g = np.asarray(groups)
    ya = np.asarray(y, dtype=float)
    if g.shape != ya.shape:
        raise ValueError("groups and y must have the same shape")
    out = np.empty(ya.shape, dtype=float)
    for label in np.unique(g):
        mask = g == label
        out[mask] = (ya[mask].sum() + prior) / (mask.sum() + 2 * prior)
    return out


def null_date_ensemble(
    p: ArrayLike, start: float, horizon: float, members: int = DEFAULT_MEMBERS
) -> FloatArray:
    """A null model's dates: move with probability ``p``, on a day uniform over (start, horizon].

    The ensemble holds the distribution's quantiles at levels ``(j + ½) / members``: level
    ``u < p`` gives day ``start + (u / p)·(horizon − start)``, level ``u ≥ p`` gives NaN (did not
    move). Scored with :func:`treatysim.analysis.scores.crps_dates`, it approximates the CRPS of
    that distribution to ``O(1/members)``.

    Args:
        p: Per state, the null's probability of moving by the horizon.
        start: First day of the test window (the cutoff).
        horizon: Last day of the test window.
        members: Ensemble size.

    Returns:
        Shape (states, members): day numbers, NaN for "did not move".
    """
    pa = np.asarray(p, dtype=float)[:, None]
    if horizon <= start or members < 1:
        raise ValueError("need horizon > start and members >= 1")
    u = (np.arange(members) + 0.5) / members
    with np.errstate(divide="ignore", invalid="ignore"):
        days = start + (u[None, :] / pa) * (horizon - start)
    return np.where(u[None, :] < pa, days, np.nan)


@dataclass(frozen=True)
class NullModel:
    """A null model's forecast of the scored states.

    Attributes:
        name: Key in score tables (e.g. ``"exposure_minus_allies"``).
        p: Per state, the probability of moving by the horizon.
        uses_outcome: True when computed from the outcome being scored (in-sample).
        description: One line for reports.
    """

    name: str
    p: FloatArray
    uses_outcome: bool
    description: str


def standard_nulls(
    iso3: Sequence[str],
    y: ArrayLike,
    borders: Mapping[str, Sequence[str]],
    sources: Sequence[str],
    allies: Mapping[str, Sequence[str]] | None = None,
    training: tuple[int, int] | None = None,
    window_days: tuple[float, float] | None = None,
    p_hi: float = DEFAULT_P_HI,
    p_lo: float = DEFAULT_P_LO,
) -> dict[str, NullModel]:
    """The backtest's null models of the scored states, by name.

    Args:
        iso3: The scored states, in order.
        y: Their observed outcomes (used only by the nulls marked ``uses_outcome``).
        borders: State → land neighbours.
        sources: Threat sources.
        allies: Source → its allies.
        training: ``(k_moved, n_states)`` of a training window before the cutoff; adds
            ``base_rate_training``.
        window_days: ``(train_days, test_days)``, to rescale the training rate.
        p_hi: Exposure nulls' probability for an exposed state.
        p_lo: Exposure nulls' probability for any other state.

    Returns:
        ``base_rate_in_sample``, ``base_rate_training`` (with ``training``), ``exposure``,
        ``exposure_minus_allies`` and ``exposure_minus_allies_fitted``.
    """
    n = len(iso3)
    exposed = exposure(iso3, borders, sources, allies)
    exposed_na = exposure(iso3, borders, sources, allies, minus_allies=True)
    rule = f"p = {p_hi:g} if exposed, else {p_lo:g}"
    nulls = [
        NullModel(
            "base_rate_in_sample", base_rate_null(y), True,
            "every state gets the observed share of movers (in-sample)",
        ),
        NullModel(
            "exposure", exposure_null(exposed, p_hi, p_lo), False,
            f"land border with a threat source or its ally; {rule}",
        ),
        NullModel(
            "exposure_minus_allies", exposure_null(exposed_na, p_hi, p_lo), False,
            f"as exposure, the sources and their allies not exposed; {rule}",
        ),
        NullModel(
            "exposure_minus_allies_fitted", group_rate_null(exposed_na, y), True,
            "exposure minus allies with each group's smoothed observed rate (in-sample)",
        ),
    ]  # fmt: skip
    if training is not None:
        train_days, test_days = window_days if window_days is not None else (None, None)
        p = training_rate(*training, train_days=train_days, test_days=test_days)
        nulls.insert(
            1,
            NullModel(
                "base_rate_training", constant_null(p, n), False,
                f"smoothed rate of the training window ({training[0]} of {training[1]} moved)",
            ),
        )  # fmt: skip
    return {null.name: null for null in nulls}
