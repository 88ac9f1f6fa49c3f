"""A backtest's scoreboard: every score of every forecast on the same states, with intervals.

:func:`score_backtest` takes the model's and the null models' forecasts of the scored states
(probabilities of moving by the horizon and, optionally, ensembles of dates), the observed
outcome, and returns a per-state table and a JSON-ready summary (the body of ``scores.json``):
the mean Brier score, log score and date CRPS of each forecast and of each difference
``reference − null``, all with paired bootstrap intervals over states
(:mod:`treatysim.analysis.bootstrap`). Scores follow :mod:`treatysim.analysis.scores`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from treatysim.analysis.bootstrap import (
    DEFAULT_CONFIDENCE,
    DEFAULT_N_BOOT,
    DEFAULT_SEED,
    paired_bootstrap,
)
from treatysim.analysis.nulls import NullModel
from treatysim.analysis.scores import (
    DEFAULT_EPSILON,
    CrpsEstimator,
    brier_score,
    crps_dates,
    log_score,
)

#: Score names in the summary, with their units and orientation.
SCORES = {
    "brier": "Brier score of moved by the horizon (0 best, 1 worst)",
    "log": "log score of moved by the horizon, nats (0 best), probabilities clipped to [ε, 1 − ε]",
    "crps_days": "CRPS of the date of moving, days (0 best), censored at the horizon",
}


@dataclass(frozen=True)
class BacktestScores:
    """The scores of one backtest.

    Attributes:
        table: One row per state: ``iso3``, ``observed``, ``observed_day``, then per forecast
            ``p_<name>``, ``brier_<name>``, ``log_<name>`` and (with dates) ``crps_<name>``.
        summary: JSON-ready: settings, the forecasts' descriptions, and per score the
            :func:`treatysim.analysis.bootstrap.paired_bootstrap` result.
    """

    table: pd.DataFrame
    summary: dict[str, Any]


def describe_nulls(nulls: Mapping[str, NullModel]) -> dict[str, dict[str, Any]]:
    """Descriptions of null models for the summary's ``forecasts`` entry."""
    return {
        name: {"uses_outcome": null.uses_outcome, "description": null.description}
        for name, null in nulls.items()
    }


def score_backtest(
    iso3: Sequence[str],
    observed: ArrayLike,
    forecasts: Mapping[str, ArrayLike],
    *,
    observed_days: ArrayLike | None = None,
    date_ensembles: Mapping[str, ArrayLike] | None = None,
    horizon: float | None = None,
    eps: float = DEFAULT_EPSILON,
    reference: str = "model",
    descriptions: Mapping[str, Mapping[str, Any]] | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
    crps_estimator: CrpsEstimator = "nrg",
) -> BacktestScores:
    """Score the model and the null models on the same states.

    Args:
        iso3: The scored states, in order.
        observed: Per state, 1 if it moved by the horizon, else 0.
        forecasts: Forecast name → per-state probability of moving by the horizon; must
            contain ``reference``.
        observed_days: Per state, the observed day of moving (NaN: did not move); needed for
            the date CRPS.
        date_ensembles: Forecast name → shape (states, members) simulated days (NaN: did not
            move); each forecast given here gets a date CRPS (``reference`` must be among them).
        horizon: The last day that counts, the CRPS's censoring day; needed with dates.
        eps: Clipping of the log score, the same for every forecast (e.g.
            :func:`treatysim.analysis.scores.replication_epsilon` of the model's runs).
        reference: The forecast every difference is taken from (``reference − other``).
        descriptions: Forecast name → facts for the summary (e.g. :func:`describe_nulls`).
        n_boot: Bootstrap resamples.
        seed: Seed of the bootstrap.
        confidence: Two-sided level of the intervals.
        crps_estimator: ``scoringrules`` estimator of the ensemble CRPS.

    Returns:
        The :class:`BacktestScores`.
    """
    states = list(iso3)
    y = np.asarray(observed, dtype=float)
    if y.shape != (len(states),):
        raise ValueError("observed needs one value per state")
    if reference not in forecasts:
        raise KeyError(f"reference forecast '{reference}' missing")
    probs = {name: np.asarray(p, dtype=float) for name, p in forecasts.items()}
    per_score: dict[str, dict[str, np.ndarray]] = {
        "brier": {name: brier_score(p, y) for name, p in probs.items()},
        "log": {name: log_score(p, y, eps) for name, p in probs.items()},
    }
    if date_ensembles:
        if observed_days is None or horizon is None:
            raise ValueError("date ensembles need observed_days and horizon")
        if reference not in date_ensembles:
            raise KeyError(f"reference forecast '{reference}' has no date ensemble")
        per_score["crps_days"] = {
            name: crps_dates(ens, observed_days, horizon, crps_estimator)
            for name, ens in date_ensembles.items()
        }
    table = pd.DataFrame({"iso3": states, "observed": y.astype(np.int64)})
    table["observed_day"] = (
        np.asarray(observed_days, dtype=float) if observed_days is not None else np.nan
    )
    for name, p in probs.items():
        table[f"p_{name}"] = p
    prefixes = {"brier": "brier", "log": "log", "crps_days": "crps"}
    for score, by_name in per_score.items():
        for name, values in by_name.items():
            table[f"{prefixes[score]}_{name}"] = values
    summary: dict[str, Any] = {
        "n_states": len(states),
        "n_observed_moved": int(y.sum()),
        "states": states,
        "reference": reference,
        "log_score_epsilon": eps,
        "horizon_day": horizon,
        "crps_estimator": crps_estimator if date_ensembles else None,
        "score_definitions": {k: SCORES[k] for k in per_score},
        "forecasts": {name: dict((descriptions or {}).get(name, {})) for name in probs},
        "scores": {
            score: paired_bootstrap(by_name, reference, n_boot, seed, confidence)
            for score, by_name in per_score.items()
        },
    }
    return BacktestScores(table=table, summary=summary)
