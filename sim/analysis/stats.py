"""Statistics over a run's replications: intervals, stage reach and timing, cascades, order.

Every function here is pure: it takes DataFrames or arrays and returns numbers, arrays or plain
dicts, so :mod:`treatysim.report.run_report` (which reads folders and writes files) and the
tests can call them directly. :func:`treatysim.report.run_report.summarize` assembles them into
``summary.json``.

Conventions, stated once (``summary.md`` repeats them):

- Only replications with status ``ok`` count; ``n`` is their number.
- Dates are handled as *day numbers* (days since 1970-01-01, numpy's ``datetime64[D]``).
- A state *reached* stage X by date d when it has an event of stage X dated on or before d.
- A state's *stage at date t* is its last event dated on or before t (the table's row order breaks
  ties on one date); before its first event it is ``party`` if it was a party at the start, else
  ``not_party``.
- Quantiles of dates and counts are numpy's linear interpolation; a quantile of dates is rounded
  to the nearest day (halves up).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from treatysim.analysis.intervals import (
    mean_interval,
    proportion,
    wilson_interval,
)
from treatysim.results.outcomes import DATE_OUTCOMES, OUTCOMES, outcome_columns
from treatysim.scenario.types import MOVED_STAGES, STAGES

#: Stages whose reach (by the end and by report dates) is reported, in pipeline order.
REACH_STAGES = (
    "deliberating", "announced", "approved", "notified", "withdrawn", "suspended", "retracted",
)  # fmt: skip
#: Cumulative model-level curves.
CURVE_STAGES = ("announced", "notified", "withdrawn")
#: Stages a state can occupy at a date (``not_party``: never a party to the treaty).
OCCUPANCY_STAGES = ("not_party", *STAGES)
#: Quantile bands of curves across runs.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
EPOCH = dt.date(1970, 1, 1)

FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------------------------
# dates


def to_day(date: dt.date) -> int:
    """Day number of a date (days since 1970-01-01)."""
    return (date - EPOCH).days


def from_day(day: float) -> dt.date:
    """The date of a (possibly fractional) day number, rounded to the nearest day, halves up."""
    return EPOCH + dt.timedelta(days=int(np.floor(day + 0.5)))


def day_array(values: Iterable[Any]) -> NDArray[np.int64]:
    """Day numbers of dates given as ``datetime.date``, ISO strings or datetime64 values."""
    series = pd.to_datetime(pd.Series(list(values), dtype=object))
    return np.asarray(series.to_numpy().astype("datetime64[D]").astype(np.int64))


def quantile_dates(days: ArrayLike, qs: Sequence[float] = (0.25, 0.5, 0.75)) -> list[str | None]:
    """ISO dates of quantiles of day numbers (NaNs ignored); ``None`` for each when none is left."""
    arr = np.asarray(days, dtype=float)
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        return [None for _ in qs]
    return [from_day(float(v)).isoformat() for v in np.quantile(arr, qs)]


# --------------------------------------------------------------------------------------------
# reach: the first date each run's states reached each stage


@dataclass(frozen=True)
class Reach:
    """First day number on which each state reached each stage, per run (NaN: never).

    Attributes:
        run_ids: Runs (ok runs only), the first axis.
        ids: States, the second axis.
        days: Shape (runs, states, len(REACH_STAGES)).
    """

    run_ids: tuple[str, ...]
    ids: tuple[str, ...]
    days: FloatArray

    @property
    def n_runs(self) -> int:
        """Number of runs."""
        return len(self.run_ids)

    def stage(self, stage: str) -> FloatArray:
        """Shape (runs, states): the day each state first reached ``stage``."""
        return self.days[:, :, REACH_STAGES.index(stage)]

    def count(self, stage: str, by_day: float = np.inf) -> NDArray[np.int64]:
        """Per state: runs in which the state reached ``stage`` on or before ``by_day``."""
        return np.asarray((self.stage(stage) <= by_day).sum(axis=0), dtype=np.int64)


def _treaty_events(events: pd.DataFrame, run_ids: Sequence[str], treaty: str) -> pd.DataFrame:
    """Events of one treaty in the given runs, stably sorted by run and date, with day numbers."""
    ev = events[(events["treaty"] == treaty) & events["run_id"].isin(list(run_ids))].copy()
    ev["day"] = day_array(ev["date"]) if len(ev) else np.zeros(0, dtype=np.int64)
    ev["_row"] = np.arange(len(ev))
    return ev.sort_values(["run_id", "day", "_row"], kind="stable")


def reach(events: pd.DataFrame, run_ids: Sequence[str], ids: Sequence[str], treaty: str) -> Reach:
    """Build the :class:`Reach` array of one treaty from an events table."""
    days = np.full((len(run_ids), len(ids), len(REACH_STAGES)), np.nan)
    ev = _treaty_events(events, run_ids, treaty)
    ev = ev[ev["iso3"].isin(list(ids)) & ev["stage"].isin(REACH_STAGES)]
    if len(ev):
        first = ev.groupby(["run_id", "iso3", "stage"], sort=False, observed=True)["day"].min()
        r = pd.Index(list(run_ids)).get_indexer(first.index.get_level_values(0))
        s = pd.Index(list(ids)).get_indexer(first.index.get_level_values(1))
        g = pd.Index(list(REACH_STAGES)).get_indexer(first.index.get_level_values(2))
        days[r, s, g] = first.to_numpy(dtype=float)
    return Reach(tuple(run_ids), tuple(ids), days)


def final_stages(
    events: pd.DataFrame, run_ids: Sequence[str], ids: Sequence[str], treaty: str
) -> NDArray[np.object_]:
    """Shape (runs, states): each state's last stage in each run ('' where it had no event)."""
    out = np.full((len(run_ids), len(ids)), "", dtype=object)
    ev = _treaty_events(events, run_ids, treaty)
    ev = ev[ev["iso3"].isin(list(ids))]
    if len(ev):
        last = ev.groupby(["run_id", "iso3"], sort=False, observed=True)["stage"].last()
        r = pd.Index(list(run_ids)).get_indexer(last.index.get_level_values(0))
        s = pd.Index(list(ids)).get_indexer(last.index.get_level_values(1))
        out[r, s] = last.to_numpy(dtype=object)
    return out


def run_outcomes(
    events: pd.DataFrame, run_ids: Sequence[str], ids: Sequence[str], treaty: str, start: dt.date
) -> pd.DataFrame:
    """Per-run outcomes of one treaty, as in runs.parquet, recomputed from the events.

    The definition is :func:`treatysim.results.outcomes.outcome_columns`, the one runs.parquet
    uses; each state's final stage is its last stage change. Columns: cascade_size (states that
    announced or suspended), n_announced, n_notified, n_retracted (states that reached the
    stage), n_withdrawn and n_suspended (final stage), first_exit_day (day number or NaN) and
    days_to_first_exit (from the calendar's start).
    """
    rc = reach(events, run_ids, ids, treaty)
    first = np.full((rc.n_runs, len(ids), len(STAGES)), np.inf)
    for j, stage in enumerate(REACH_STAGES):
        first[:, :, STAGES.index(stage)] = np.nan_to_num(rc.days[:, :, j], nan=np.inf)
    code = {name: c for c, name in enumerate(STAGES)}
    final = final_stages(events, run_ids, ids, treaty)
    final_codes = np.vectorize(lambda s: code.get(s, -1), otypes=[np.int64])(final)
    out = outcome_columns(first, final_codes.reshape(rc.n_runs, len(ids)), to_day(start))
    columns = {name: out[name] for name in OUTCOMES if name not in DATE_OUTCOMES}
    columns["first_exit_day"] = out["first_exit"]
    order = ["cascade_size", "n_announced", "n_notified", "n_withdrawn", "n_suspended"]
    order += ["n_retracted", "first_exit_day", "days_to_first_exit"]
    return pd.DataFrame(
        {name: columns[name] for name in order}, index=pd.Index(list(run_ids), name="run_id")
    )


# --------------------------------------------------------------------------------------------
# summaries of reach, sizes and timing


def stage_summary(
    rc: Reach, report_days: Mapping[str, int], confidence: float = 0.95
) -> dict[str, dict[str, Any]]:
    """Per state and stage: P(reached by the end and by each report date), median date and IQR.

    Returns ``{iso3: {stage: {"end": proportion, "by_date": {label: proportion}, "median",
    "q25", "q75"}}}``; the dates are among the runs that reached the stage (None if none did).
    """
    n = rc.n_runs
    out: dict[str, dict[str, Any]] = {iso3: {} for iso3 in rc.ids}
    for stage in REACH_STAGES:  # every state at once: a loop per state took seconds at 1,000
        days = rc.stage(stage)
        end = proportions((~np.isnan(days)).sum(axis=0), n, confidence)
        by_date = {
            label: proportions((days <= day).sum(axis=0), n, confidence)
            for label, day in report_days.items()
        }
        quartiles = _quartile_dates(days)
        for i, iso3 in enumerate(rc.ids):
            q25, median, q75 = quartiles[i]
            out[iso3][stage] = {
                "end": end[i],
                "by_date": {label: by_date[label][i] for label in report_days},
                "median": median,
                "q25": q25,
                "q75": q75,
            }
    return out


def proportions(k: ArrayLike, n: int, confidence: float = 0.95) -> list[dict[str, Any]]:
    """:func:`~treatysim.analysis.intervals.proportion` of each count in ``k`` out of ``n``.

    The same numbers as calling it once per count (the Wilson bounds are computed elementwise),
    in one array operation.
    """
    counts = np.asarray(k, dtype=np.int64)
    lo, hi = wilson_interval(counts, np.full(counts.shape, n), confidence)
    lo, hi = np.atleast_1d(lo), np.atleast_1d(hi)
    return [
        {
            "p": int(c) / n if n else None,
            "lo": None if np.isnan(a) else float(a),
            "hi": None if np.isnan(b) else float(b),
            "k": int(c),
            "n": n,
        }
        for c, a, b in zip(counts.tolist(), lo.tolist(), hi.tolist(), strict=True)
    ]


def _quartile_dates(days: NDArray[np.float64]) -> list[list[str | None]]:
    """:func:`quantile_dates` of each column of ``days`` (runs × states)."""
    out: list[list[str | None]] = [[None, None, None] for _ in range(days.shape[1])]
    counts = (~np.isnan(days)).sum(axis=0)
    reached = np.flatnonzero(counts)
    if reached.size == 0:
        return out
    ordered = np.sort(days[:, reached], axis=0)  # NaN sorts last
    m = counts[reached]
    cols = np.arange(reached.size)
    values = []
    for q in (0.25, 0.5, 0.75):  # numpy's default ("linear") quantile, column by column at once
        virtual = (m - 1) * q
        below = np.floor(virtual).astype(np.int64)
        above = np.minimum(below + 1, m - 1)
        t = virtual - below
        a, b = ordered[below, cols], ordered[above, cols]
        diff = b - a
        values.append(np.where(t >= 0.5, b - diff * (1 - t), a + diff * t))  # numpy's _lerp
    for j, column in zip(reached, np.stack(values, axis=1), strict=True):
        out[j] = [from_day(float(v)).isoformat() for v in column]
    return out


def size_summary(sizes: ArrayLike, confidence: float = 0.95) -> dict[str, Any]:
    """Distribution of a per-run count (e.g. cascade size) with its mean and P(size ≥ k).

    Returns ``{"n", "distribution": {size: runs} for 0..max, "mean": mean_interval,
    "p_at_least": [{"size": k, **proportion} for k = 1..max]}`` (a proportion's own ``k`` is
    its count of runs).
    """
    x = np.asarray(sizes, dtype=float)
    x = x[~np.isnan(x)].astype(np.int64)
    n = int(x.size)
    top = int(x.max()) if n else 0
    counts = np.bincount(x, minlength=top + 1) if n else np.zeros(1, dtype=np.int64)
    return {
        "n": n,
        "distribution": {str(s): int(c) for s, c in enumerate(counts)},
        "mean": mean_interval(x, confidence),
        "p_at_least": [
            {"size": k, **proportion(int((x >= k).sum()), n, confidence)} for k in range(1, top + 1)
        ],
    }


def first_exit_summary(days_to_first_exit: ArrayLike, confidence: float = 0.95) -> dict[str, Any]:
    """Time to the first exit among runs with one (median, IQR in days) and P(no exit)."""
    x = np.asarray(days_to_first_exit, dtype=float)
    hit = x[~np.isnan(x)]
    q25, median, q75 = (
        (float(v) for v in np.quantile(hit, (0.25, 0.5, 0.75))) if hit.size else (None,) * 3
    )
    return {
        "n_runs": int(x.size),
        "n_with_exit": int(hit.size),
        "median_days": median,
        "q25_days": q25,
        "q75_days": q75,
        "no_exit": proportion(int(x.size - hit.size), int(x.size), confidence),
    }


def moved_count(rc: Reach) -> NDArray[np.int64]:
    """Per state: runs in which the state moved to leave (reached one of ``MOVED_STAGES``)."""
    columns = [REACH_STAGES.index(s) for s in MOVED_STAGES]
    return np.asarray((~np.isnan(rc.days[:, :, columns])).any(axis=2).sum(axis=0), dtype=np.int64)


def first_moved(rc: Reach) -> FloatArray:
    """Shape (runs, states): the day each state first reached one of ``MOVED_STAGES`` (NaN: never).

    The same definition of "moved" as :func:`moved_count`, so a figure of first-action times and
    the tables' P(moved) agree.
    """
    columns = [REACH_STAGES.index(s) for s in MOVED_STAGES]
    return np.asarray(np.fmin.reduce(rc.days[:, :, columns], axis=2), dtype=float)


def moved_by(rc: Reach, day: float, confidence: float = 0.95) -> dict[str, Any]:
    """Moves (announced, suspended or further) on or before a day, with intervals.

    Returns P(any party moved) and the expected number of movers (e.g. the quiet years 2022–24).
    """
    columns = [REACH_STAGES.index(s) for s in MOVED_STAGES]
    days = rc.days[:, :, columns]
    first = np.where(np.isnan(days), np.inf, days).min(axis=2)
    movers = (first <= day).sum(axis=1)
    return {
        "any": proportion(int((movers > 0).sum()), rc.n_runs, confidence),
        "movers": mean_interval(movers.astype(float), confidence),
    }


def top_states(rc: Reach, stage: str = "announced", limit: int = 6) -> list[str]:
    """The states most likely to reach ``stage`` (probability > 0), most likely first."""
    counts = rc.count(stage)
    order = sorted(range(len(rc.ids)), key=lambda i: (-counts[i], rc.ids[i]))
    return [rc.ids[i] for i in order if counts[i] > 0][:limit]


def order_matrix(rc: Reach, states: Sequence[str], confidence: float = 0.95) -> dict[str, Any]:
    """P(A announces before B) for each ordered pair of states.

    Among the runs in which at least one of A and B announced, A is *before* B when A announced
    and B did not, or A's first announcement is strictly earlier; an announcement by both on the
    same date counts one half for each. So ``P(A, B) + P(B, A) = 1``. Runs where neither
    announced are left out (``n`` per pair). The interval is Wilson's with the half-counted k.
    """
    m = len(states)
    p = np.full((m, m), np.nan)
    lo, hi = p.copy(), p.copy()
    n = np.zeros((m, m), dtype=np.int64)
    ann = rc.stage("announced")
    cols = [rc.ids.index(s) for s in states]
    for a, ca in enumerate(cols):
        for b, cb in enumerate(cols):
            if a == b:
                continue
            da, db = ann[:, ca], ann[:, cb]
            valid = ~np.isnan(da) | ~np.isnan(db)
            wins = ~np.isnan(da) & (np.isnan(db) | (da < db))
            k = wins.sum() + 0.5 * (da == db).sum()
            n[a, b] = int(valid.sum())
            if n[a, b]:
                p[a, b] = k / n[a, b]
                lo[a, b], hi[a, b] = wilson_interval(k, n[a, b], confidence)

    def rows(arr: FloatArray) -> list[list[float | None]]:
        return [[None if np.isnan(v) else float(v) for v in row] for row in arr]

    return {"states": list(states), "p": rows(p), "lo": rows(lo), "hi": rows(hi), "n": n.tolist()}


# --------------------------------------------------------------------------------------------
# curves over the calendar


def step_index(step_days: ArrayLike, days: ArrayLike) -> NDArray[np.int64]:
    """For each day, the first step whose date is on or after it (len(steps) if none)."""
    return np.searchsorted(np.asarray(step_days), np.asarray(days), side="left").astype(np.int64)


def cumulative_counts(rc: Reach, stage: str, step_days: ArrayLike) -> NDArray[np.int64]:
    """Shape (runs, steps): states that had reached ``stage`` by each step date, per run."""
    steps = np.asarray(step_days)
    n_steps = steps.size
    d = rc.stage(stage)
    r, _s = np.nonzero(~np.isnan(d))
    k = step_index(steps, d[~np.isnan(d)])
    flat = np.bincount(r * (n_steps + 1) + k, minlength=rc.n_runs * (n_steps + 1))
    return np.cumsum(flat.reshape(rc.n_runs, n_steps + 1)[:, :n_steps], axis=1)


def curve_bands(counts: NDArray[np.int64]) -> dict[str, list[float]]:
    """Quantile bands (``q05`` … ``q95``) and the mean of per-run curves, step by step.

    The quantiles are counts that some run had (the inverse of the empirical CDF, Hyndman and
    Fan's type 1), never an interpolation between two runs: a median of 5.5 states is no count,
    and drawn as a step it made half-steps between whole numbers.
    """
    if counts.shape[0] == 0:
        return {}
    qs = np.quantile(counts, QUANTILES, axis=0, method="inverted_cdf")
    out = {f"q{round(q * 100):02d}": row.tolist() for q, row in zip(QUANTILES, qs, strict=True)}
    out["mean"] = counts.mean(axis=0).tolist()
    return out


def occupancy(
    events: pd.DataFrame,
    run_ids: Sequence[str],
    iso3: str,
    treaty: str,
    was_party: bool,
    step_days: ArrayLike,
) -> FloatArray:
    """Shape (len(OCCUPANCY_STAGES), steps): P(the state is in each stage) at each step date."""
    return occupancies(events, run_ids, [iso3], treaty, [was_party], step_days)[0]


def occupancies(
    events: pd.DataFrame,
    run_ids: Sequence[str],
    states: Sequence[str],
    treaty: str,
    was_party: Sequence[bool],
    step_days: ArrayLike,
) -> FloatArray:
    """Shape (states, len(OCCUPANCY_STAGES), steps): :func:`occupancy` of several states at once.

    One pass over the events for all states (a report's timeline asked for 10–25 states one at
    a time, each call filtering the whole events table again).
    """
    steps = np.asarray(step_days)
    n_states, n_runs, n_steps = len(states), len(run_ids), steps.size
    change = np.full((n_states, n_runs, n_steps), -1, dtype=np.int64)
    party, outside = OCCUPANCY_STAGES.index("party"), OCCUPANCY_STAGES.index("not_party")
    change[:, :, 0] = np.where(np.asarray(was_party, dtype=bool), party, outside)[:, None]
    ev = _treaty_events(events[events["iso3"].isin(list(states))], run_ids, treaty)
    if len(ev):
        k = np.minimum(step_index(steps, ev["day"].to_numpy()), n_steps)
        ev = ev.assign(
            s=pd.Index(list(states)).get_indexer(pd.Index(ev["iso3"].astype(str))),
            r=pd.Index(list(run_ids)).get_indexer(pd.Index(ev["run_id"])),
            k=k,
            c=pd.Index(list(OCCUPANCY_STAGES)).get_indexer(pd.Index(ev["stage"].astype(str))),
        )
        ev = ev[ev["k"] < n_steps]
        last = ev.groupby(["s", "r", "k"], sort=False, observed=True)["c"].last()
        ss, rr, kk = (last.index.get_level_values(j).to_numpy() for j in (0, 1, 2))
        change[ss, rr, kk] = last.to_numpy()
    idx = np.maximum.accumulate(np.where(change >= 0, np.arange(n_steps), 0), axis=2)
    stage = np.take_along_axis(change, idx, axis=2)
    return np.stack([(stage == c).mean(axis=1) for c in range(len(OCCUPANCY_STAGES))], axis=1)
