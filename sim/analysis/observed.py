"""Observed history beside a run: observed counts and cascade size, and each record's fit.

Split from :mod:`treatysim.analysis.stats` (same conventions: day numbers, ok runs only, Wilson
intervals); :func:`treatysim.analysis.run_summary.summarize` puts these in ``summary.json``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from treatysim.analysis.intervals import proportion
from treatysim.analysis.stats import REACH_STAGES, Reach, quantile_dates, to_day


def observed_counts(
    observed: Sequence[Mapping[str, str]],
    treaty: str,
    stage: str,
    step_days: ArrayLike,
    ids: Sequence[str] | None = None,
) -> list[int]:
    """Distinct observed states (of ``ids``, when given) that had reached ``stage`` by each step.

    Restricting to the model's states keeps the observed count comparable with the model's.
    """
    firsts: dict[str, int] = {}
    for rec in observed:
        if (
            rec["treaty"] == treaty
            and rec["stage"] == stage
            and (ids is None or rec["iso3"] in ids)
        ):
            day = to_day(dt.date.fromisoformat(str(rec["date"])))
            firsts[rec["iso3"]] = min(day, firsts.get(rec["iso3"], day))
    days = np.array(sorted(firsts.values()), dtype=np.int64)
    return np.searchsorted(days, np.asarray(step_days), side="right").tolist()


def observed_cascade_size(
    observed: Sequence[Mapping[str, str]], treaty: str, ids: Sequence[str] | None = None
) -> int | None:
    """Distinct observed states (of ``ids``, when given) that announced or suspended.

    None when there is no observed record of the treaty (for these states) at all.
    """
    mine = [r for r in observed if r["treaty"] == treaty and (ids is None or r["iso3"] in ids)]
    if not mine:
        return None
    return len({r["iso3"] for r in mine if r["stage"] in ("announced", "suspended")})


def observed_comparison(
    reaches: Mapping[str, Reach], observed: Sequence[Mapping[str, str]], confidence: float = 0.95
) -> list[dict[str, Any]]:
    """Each observed (iso3, treaty, stage, date) beside the model's prediction.

    Per record: the predicted median date and IQR among runs that reached the stage,
    ``error_days`` (observed − predicted median), P(reached by the observed date) and
    P(ever reached), both with Wilson intervals. Records of states, treaties or stages the model
    does not have are kept with ``modelled: False``.
    """
    out = []
    for rec in observed:
        row: dict[str, Any] = {k: rec[k] for k in ("iso3", "treaty", "stage", "date")}
        rc = reaches.get(rec["treaty"])
        if rc is None or rec["iso3"] not in rc.ids or rec["stage"] not in REACH_STAGES:
            out.append({**row, "modelled": False})
            continue
        days = rc.stage(rec["stage"])[:, rc.ids.index(rec["iso3"])]
        obs = to_day(dt.date.fromisoformat(str(rec["date"])))
        q25, median, q75 = quantile_dates(days)
        error = (obs - to_day(dt.date.fromisoformat(median))) if median else None
        out.append(
            {
                **row,
                "modelled": True,
                "median": median,
                "q25": q25,
                "q75": q75,
                "error_days": error,
                "by_observed_date": proportion(int((days <= obs).sum()), rc.n_runs, confidence),
                "ever": proportion(int((~np.isnan(days)).sum()), rc.n_runs, confidence),
            }
        )
    return out
