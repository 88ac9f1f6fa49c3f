"""A backtest's scoreboard: every score of every forecast on the same states, with intervals.

:func:`score_backtest` takes the model's and the null models' forecasts of the scored states
(probabilities of moving by the horizon and, optionally, ensembles of dates), the observed
outcome, and returns a per-state table and a JSON-ready summary (the body of ``scores.json``):
the mean Brier score, log score and date CRPS of each forecast and of each difference
``reference − null``, all with paired bootstrap intervals over states
(:mod:`treatysim.analysis.bootstrap`). Scores follow :mod:`treatysim.analysis.scores`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
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
from treatysim.analysis.nulls import (
    DEFAULT_MEMBERS,
    DEFAULT_P_HI,
    DEFAULT_P_LO,
    NullModel,
    brier_break_even,
    exposure,
    null_date_ensemble,
    standard_nulls,
)
from treatysim.analysis.outcomes import observed_outcome, simulated_move_days
from treatysim.analysis.reliability import reliability_table
from treatysim.analysis.scores import (
    DEFAULT_EPSILON,
    CrpsEstimator,
    brier_score,
    crps_dates,
    log_score,
    moved_probability,
    replication_epsilon,
)
from treatysim.analysis.stats import to_day

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


def score_events(
    events: pd.DataFrame,
    run_ids: Sequence[str],
    states: Sequence[str],
    treaty: str,
    *,
    start: dt.date,
    until: dt.date,
    borders: Mapping[str, Sequence[str]],
    sources: Sequence[str],
    allies: Mapping[str, Sequence[str]] | None = None,
    observed: str | Iterable[Mapping[str, str]] = "observed_2025",
    training: tuple[int, int] | None = None,
    train_days: float | None = None,
    p_hi: float = DEFAULT_P_HI,
    p_lo: float = DEFAULT_P_LO,
    members: int = DEFAULT_MEMBERS,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
) -> BacktestScores:
    """Score a run's events against the observed outcome and the standard null models.

    The scored window is ``[start, until]`` (the backtest's cutoff and horizon). States whose
    observed first move is before ``start`` are not at risk and are left out (listed in the
    summary's ``excluded_moved_before_start``). The model's probability is its share of runs in
    which the state moved by ``until`` (the runs should start at ``start``: a simulated move
    before it counts as moved), its dates one per run; the log score's ε is
    ``1/(2R)`` for ``R`` runs; each null's dates are :func:`null_date_ensemble` over the window.

    Args:
        events: The run's events table (``events.parquet``).
        run_ids: The runs to score (the ok runs).
        states: Candidate states (e.g. the treaty's parties in the dataset).
        treaty: The treaty's name.
        start: First day of the scored window (the cutoff).
        until: Last day of the scored window (the horizon).
        borders: State → land neighbours, for the exposure nulls.
        sources: Threat sources.
        allies: Source → its allies.
        observed: Observed-stage table name, path or rows.
        training: ``(k_moved, n_states)`` of a training window, for ``base_rate_training``.
        train_days: The training window's length in days, to rescale its rate to the window.
        p_hi: Exposure nulls' probability for an exposed state.
        p_lo: Exposure nulls' probability for any other state.
        members: Size of the null models' date ensembles.
        n_boot: Bootstrap resamples.
        seed: Seed of the bootstrap.
        confidence: Two-sided level of the intervals.

    Returns:
        The :class:`BacktestScores`; its summary also holds the window and the exclusions.
    """
    outcome = observed_outcome(states, treaty, until, since=start, observed=observed)
    keep = ~outcome.before
    ids = [s for s, k in zip(outcome.iso3, keep, strict=True) if k]
    y, obs_days = outcome.moved[keep], outcome.days[keep]
    first, last = to_day(start), to_day(until)
    sim = simulated_move_days(events, run_ids, ids, treaty)
    window = (train_days, float(last - first + 1)) if train_days is not None else None
    nulls = standard_nulls(
        ids, y, borders, sources, allies, training=training, window_days=window,
        p_hi=p_hi, p_lo=p_lo,
    )  # fmt: skip
    forecasts = {"model": moved_probability(sim, last), **{n: v.p for n, v in nulls.items()}}
    dates = {"model": sim}
    dates.update({n: null_date_ensemble(v.p, first, last, members) for n, v in nulls.items()})
    out = score_backtest(
        ids, y, forecasts, observed_days=obs_days, date_ensembles=dates, horizon=last,
        eps=replication_epsilon(len(run_ids)),
        descriptions={"model": {"n_runs": len(run_ids)}} | describe_nulls(nulls),
        n_boot=n_boot, seed=seed, confidence=confidence,
    )  # fmt: skip
    model_brier = float(out.table["brier_model"].mean())  # scored above, per state
    break_even = {}
    for name, minus in (("exposure", False), ("exposure_minus_allies", True)):
        flags = exposure(ids, borders, sources, allies, minus_allies=minus)
        span = brier_break_even(y, flags, model_brier, p_lo)
        break_even[name] = {
            "p_hi": p_hi,
            "p_lo": p_lo,
            "model_brier": model_brier,
            "null_better_for_p_hi": list(span) if span is not None else None,
        }
    out.summary.update(
        {
            "brier_break_even": break_even,
            "treaty": treaty,
            "window": {"start": start.isoformat(), "until": until.isoformat()},
            "excluded_moved_before_start": [
                s for s, b in zip(outcome.iso3, outcome.before, strict=True) if b
            ],
        }
    )
    return out


def reliability_tables(
    scores: BacktestScores, n_bins: int = 5, confidence: float = DEFAULT_CONFIDENCE
) -> dict[str, pd.DataFrame]:
    """Reliability tables (uniform bins) of every forecast of a scoreboard, by name."""
    y = scores.table["observed"].to_numpy()
    return {
        col.removeprefix("p_"): reliability_table(
            scores.table[col].to_numpy(), y, n_bins=n_bins, confidence=confidence
        )
        for col in scores.table.columns
        if col.startswith("p_")
    }
