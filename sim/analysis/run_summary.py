"""The summary of a run folder's tables: every statistic of summary.json, as a plain dict.

:func:`summarize` is pure (tables in, a JSON-ready dict out): the per-state stage probabilities
with Wilson intervals, cascade sizes, means with t intervals, the order of announcements, the
cumulative curves and the comparison with the observed history, each computed by
:mod:`treatysim.analysis.stats`. The report (:mod:`treatysim.report.run_report`) turns it into
files; tests call it directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from treatysim.analysis import intervals, stats
from treatysim.analysis import observed as history

if TYPE_CHECKING:
    import pandas as pd

    from treatysim.model.world import World

#: How each statistic is computed, stated in summary.json and summary.md.
METHODS = {
    "runs": "Only replications with status 'ok' count; failed ones are reported, never imputed.",
    "reached": "A state reached stage X by date d when it has an event of stage X dated <= d.",
    "proportions": "Probabilities carry Wilson score 95% intervals (k of n ok runs).",
    "means": "Means carry Student-t 95% intervals (mean ± t(n-1)·sd/√n), clipped at 0 for counts.",
    "dates": "Median dates and IQRs are among the runs that reached the stage (numpy linear "
    "quantiles of day numbers, rounded to the nearest day).",
    "cascade_size": "Cascade size: states that announced or suspended, per run.",
    "order": "P(A before B): among runs where A or B announced, A announced and B did not, or A "
    "announced strictly earlier; a same-day announcement counts 1/2 to each; runs where "
    "neither announced are left out. Wilson interval with the half-counted k.",
    "curves": "Curves: per run, states that had reached the stage by each step date; bands are "
    "quantiles across runs (5/25/50/75/95%).",
}


@dataclass(frozen=True)
class Layout:
    """What statistics need to know about a run besides its tables.

    Attributes:
        name: Scenario name.
        ids: State ids in model order.
        names: Display names.
        treaties: Treaty ids.
        party: Shape (states, treaties): party at the start.
        dates: Step dates (``dates[0]`` is the start).
        primary: The primary treaty.
        report_dates: Dates at which stage probabilities are reported.
        observed: Observed stages (dicts with iso3, treaty, stage, date).
    """

    name: str
    ids: tuple[str, ...]
    names: tuple[str, ...]
    treaties: tuple[str, ...]
    party: np.ndarray
    dates: tuple[dt.date, ...]
    primary: str
    report_dates: tuple[dt.date, ...] = ()
    observed: tuple[Mapping[str, str], ...] = ()

    @classmethod
    def from_world(cls, world: World) -> Layout:
        """The layout of a resolved world."""
        sc = world.scenario
        return cls(
            sc.name,
            world.ids,
            world.names,
            world.treaties,
            world.party,
            world.calendar.dates,
            sc.primary_treaty,
            tuple(sc.run.report_dates),
            world.observed,
        )


def ok_run_ids(runs: pd.DataFrame) -> list[str]:
    """The run ids of the replications with status ``ok``."""
    return [str(r) for r in runs.loc[runs["status"] == "ok", "run_id"]]


def summarize(
    runs: pd.DataFrame,
    events: pd.DataFrame,
    layout: Layout,
    *,
    timeseries: pd.DataFrame | None = None,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Every summary statistic of a run, as a JSON-ready dict (the contents of summary.json).

    Args:
        runs: runs.parquet (only ``run_id`` and ``status`` are used).
        events: events.parquet.
        layout: States, treaties, calendar and observed history.
        timeseries: timeseries.parquet, for per-state threat bands when it has a threat column.
        confidence: Confidence level of every interval.
    """
    ok = ok_run_ids(runs)
    steps = stats.day_array(layout.dates)
    report_days = {d.isoformat(): stats.to_day(d) for d in layout.report_dates}
    treaties: dict[str, Any] = {}
    reaches: dict[str, stats.Reach] = {}
    for k, treaty in enumerate(layout.treaties):
        rc = reaches[treaty] = stats.reach(events, ok, layout.ids, treaty)
        out = stats.run_outcomes(events, ok, layout.ids, treaty, layout.dates[0])
        per_state = stats.stage_summary(rc, report_days, confidence)
        moved = stats.moved_count(rc)
        treaties[treaty] = {
            "states": {
                iso3: {
                    "name": name,
                    "party": bool(layout.party[i, k]),
                    "moved": intervals.proportion(int(moved[i]), len(ok), confidence),
                    "stages": per_state[iso3],
                }
                for i, (iso3, name) in enumerate(zip(layout.ids, layout.names, strict=True))
            },
            "cascade_size": stats.size_summary(out["cascade_size"], confidence),
            "moved_by_date": {
                d: stats.moved_by(rc, day, confidence) for d, day in report_days.items()
            },
            "means": {c: intervals.mean_interval(out[c], confidence) for c in out.columns[:6]},
            "first_exit": stats.first_exit_summary(out["days_to_first_exit"], confidence),
            "order": stats.order_matrix(rc, stats.top_states(rc), confidence),
            "curves": {
                "dates": [d.isoformat() for d in layout.dates],
                **{
                    s: stats.curve_bands(stats.cumulative_counts(rc, s, steps))
                    for s in stats.CURVE_STAGES
                },
            },
            "observed_size": history.observed_cascade_size(layout.observed, treaty, layout.ids),
            "observed_curves": {
                s: history.observed_counts(layout.observed, treaty, s, steps, layout.ids)
                for s in stats.CURVE_STAGES
            },
        }
    records = history.observed_comparison(reaches, layout.observed, confidence)
    errors = [abs(r["error_days"]) for r in records if r.get("error_days") is not None]
    return {
        "schema_version": 1,
        "scenario": layout.name,
        "primary_treaty": layout.primary,
        "calendar": {
            "start": layout.dates[0].isoformat(),
            "end": layout.dates[-1].isoformat(),
            "steps": len(layout.dates) - 1,
        },
        "report_dates": list(report_days),
        "runs": {"total": len(runs), "ok": len(ok), "failed": len(runs) - len(ok)},
        "confidence": confidence,
        "methods": METHODS,
        "treaties": treaties,
        "observed": {
            "records": records,
            "mean_abs_error_days": float(np.mean(errors)) if errors else None,
        },
        "threat": _threat_bands(timeseries, ok, layout, report_days),
    }


def _threat_bands(
    ts: pd.DataFrame | None, ok: Sequence[str], layout: Layout, report_days: Mapping[str, int]
) -> dict[str, Any] | None:
    """Per state: 5/50/95% quantiles of perceived threat at each report date and the end."""
    if ts is None or "threat" not in ts.columns or len(ts) == 0:
        return None
    steps = stats.day_array(layout.dates)
    at = {**report_days, "end": int(steps[-1])}
    ts = ts[ts["run_id"].isin(list(ok))]
    out: dict[str, Any] = {}
    for label, day in at.items():
        step = int(np.searchsorted(steps, day, side="right")) - 1
        if step < 0:
            continue
        threat = ts[ts["step"] == step].groupby("iso3")["threat"]
        bands = {key: threat.quantile(q) for key, q in (("q05", 0.05), ("q50", 0.5), ("q95", 0.95))}
        for iso3 in bands["q50"].index:
            out.setdefault(str(iso3), {})[label] = {k: float(v[iso3]) for k, v in bands.items()}
    return out


# --------------------------------------------------------------------------------------------
# markdown
