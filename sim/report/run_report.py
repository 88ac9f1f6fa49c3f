"""Reports of stored runs: ``summary.json``, ``summary.md``, ``plots/``, and run comparisons.

Everything here reads stored tables (:func:`treatysim.results.store.load_run`), never reruns a model, so
``treatysim report DIR`` rebuilds a report from the folder alone. :func:`summarize` is the pure
core (tables in, a JSON-ready dict out); the rest is file I/O and text.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from treatysim.analysis import stats
from treatysim.results.store import PLOTS, SUMMARY_JSON, SUMMARY_MD, StoreError

if TYPE_CHECKING:
    import pandas as pd

    from treatysim.model.world import World
    from treatysim.results.store import RunData

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
TOP = 15


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


def _ok_runs(runs: pd.DataFrame) -> list[str]:
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
    ok = _ok_runs(runs)
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
                    "moved": stats.proportion(int(moved[i]), len(ok), confidence),
                    "stages": per_state[iso3],
                }
                for i, (iso3, name) in enumerate(zip(layout.ids, layout.names, strict=True))
            },
            "cascade_size": stats.size_summary(out["cascade_size"], confidence),
            "means": {c: stats.mean_interval(out[c], confidence) for c in out.columns[:6]},
            "first_exit": stats.first_exit_summary(out["days_to_first_exit"], confidence),
            "order": stats.order_matrix(rc, stats.top_states(rc), confidence),
            "curves": {
                "dates": [d.isoformat() for d in layout.dates],
                **{
                    s: stats.curve_bands(stats.cumulative_counts(rc, s, steps))
                    for s in stats.CURVE_STAGES
                },
            },
            "observed_size": stats.observed_cascade_size(layout.observed, treaty, layout.ids),
            "observed_curves": {
                s: stats.observed_counts(layout.observed, treaty, s, steps, layout.ids)
                for s in stats.CURVE_STAGES
            },
        }
    records = stats.observed_comparison(reaches, layout.observed, confidence)
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


def _jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars to Python, NaN and infinities to None."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------------------------
# markdown


def fmt_p(prop: Mapping[str, Any] | None, digits: int = 2) -> str:
    """``0.62 [0.31, 0.86]`` for a proportion or mean dict; ``–`` when undefined."""
    if not prop:
        return "–"
    value = prop.get("p", prop.get("mean", prop.get("diff")))
    if value is None:
        return "–"
    if prop.get("lo") is None:
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} [{prop['lo']:.{digits}f}, {prop['hi']:.{digits}f}]"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """Markdown table lines (and a blank line); a note instead when there are no rows."""
    if not rows:
        return ["(no rows: no state qualifies in the ok replications)", ""]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def ranked_states(treaty: Mapping[str, Any], stage: str = "announced") -> list[str]:
    """Party states by P(reached ``stage`` by the end), highest first (ties by id)."""
    states = treaty["states"]
    key = {s: states[s]["stages"][stage]["end"]["p"] or 0.0 for s in states if states[s]["party"]}
    return sorted(key, key=lambda s: (-key[s], s))


def render_markdown(summary: Mapping[str, Any]) -> str:
    """summary.md: the summary's main figures as Markdown tables, methods stated."""
    t = summary["primary_treaty"]
    tr = summary["treaties"][t]
    runs = summary["runs"]
    out = [
        f"# {summary['scenario']}: {t}",
        "",
        f"{runs['ok']} replications ok, {runs['failed']} failed; calendar "
        f"{summary['calendar']['start']} to {summary['calendar']['end']} "
        f"({summary['calendar']['steps']} steps). Intervals: 95%.",
        "",
    ]
    top = [s for s in ranked_states(tr) if tr["states"][s]["moved"]["p"]]
    out += ["## States most likely to announce an exit", ""]
    rows = []
    for s in top[:TOP]:
        st = tr["states"][s]["stages"]
        ann = st["announced"]
        rows.append(
            [
                s,
                *(fmt_p(st[g]["end"]) for g in ("announced", "notified", "withdrawn")),
                f"{ann['median'] or '–'} [{ann['q25'] or '–'}, {ann['q75'] or '–'}]",
            ]
        )
    out += _table(
        ["state", "P(announced)", "P(notified)", "P(withdrawn)", "median announcement [IQR]"], rows
    )
    for d in summary["report_dates"]:
        rows = [
            [s, *(fmt_p(tr["states"][s]["stages"][g]["by_date"][d]) for g in stats.CURVE_STAGES)]
            for s in top[:TOP]
        ]
        out += [
            f"### By {d}",
            "",
            *_table(["state", *(f"P({g})" for g in stats.CURVE_STAGES)], rows),
        ]
    size = tr["cascade_size"]
    out += [
        "## Cascade size",
        "",
        f"Mean {fmt_p(size['mean'])}; observed: "
        f"{tr['observed_size'] if tr['observed_size'] is not None else 'unknown'}.",
        "",
    ]
    out += _table(["size", "runs"], list(size["distribution"].items()))
    out += _table(["k", "P(size ≥ k)"], [[r["size"], fmt_p(r)] for r in size["p_at_least"]])
    means = tr["means"]
    out += ["Mean states per run: " + "; ".join(f"{c} {fmt_p(m)}" for c, m in means.items()), ""]
    fe = tr["first_exit"]
    out += ["## Time to the first exit", ""]
    if fe["median_days"] is not None:
        out += [
            f"Median {fe['median_days']:.0f} days after the start (IQR {fe['q25_days']:.0f}–"
            f"{fe['q75_days']:.0f}), among {fe['n_with_exit']} runs with an exit."
        ]
    out += [f"Share of runs with no exit by the end: {fmt_p(fe['no_exit'])}.", ""]
    order = tr["order"]
    if len(order["states"]) >= 2:
        out += [
            "## Order of announcements",
            "",
            "Row state announces before column state. " + METHODS["order"],
            "",
        ]
        rows = [
            [a, *("–" if p is None else f"{p:.2f}" for p in order["p"][i])]
            for i, a in enumerate(order["states"])
        ]
        out += _table(["before →", *order["states"]], rows)
    curves = tr["curves"]
    steps = stats.day_array(curves["dates"])
    report = stats.day_array(summary["report_dates"])
    picks = sorted({*(np.searchsorted(steps, report, side="right") - 1), len(steps) - 1} - {-1})
    if curves.get("announced"):
        out += ["## Cascade over time (median [5%, 95%] of runs)", ""]
        rows = [
            [
                curves["dates"][i],
                *(
                    f"{curves[g]['q50'][i]:.0f} [{curves[g]['q05'][i]:.0f}, "
                    f"{curves[g]['q95'][i]:.0f}]"
                    for g in stats.CURVE_STAGES
                ),
            ]
            for i in picks
        ]
        out += _table(["date", *stats.CURVE_STAGES], rows)
    records = [r for r in summary["observed"]["records"] if r.get("modelled")]
    if records:
        out += ["## Observed history beside the model", ""]
        rows = [
            [
                r["iso3"],
                r["treaty"],
                r["stage"],
                r["date"],
                r["median"] or "–",
                f"{r['q25'] or '–'} – {r['q75'] or '–'}",
                fmt_p(r["by_observed_date"]),
                fmt_p(r["ever"]),
            ]
            for r in records
        ]
        out += _table(
            [
                "state",
                "treaty",
                "stage",
                "observed",
                "predicted median",
                "IQR",
                "P(by observed date)",
                "P(ever)",
            ],
            rows,
        )
        mae = summary["observed"]["mean_abs_error_days"]
        if mae is not None:
            out += [f"Mean |observed − predicted median|: {mae:.0f} days.", ""]
    for other in summary["treaties"]:
        if other != t:
            o = summary["treaties"][other]
            out += [
                f"## Treaty {other}",
                "",
                f"Mean cascade size {fmt_p(o['cascade_size']['mean'])}"
                f"; mean exits {fmt_p(o['means']['n_withdrawn'])}.",
                "",
            ]
    out += ["## Methods", "", *(f"- {v}" for v in METHODS.values()), ""]
    if summary.get("plots"):
        out += ["## Plots", "", *(f"- [{p}]({p})" for p in summary["plots"]), ""]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# files


def _load(folder: Path, allow_incomplete: bool = False) -> RunData:
    """load_run, with unreadable tables or manifests reported as StoreError."""
    from treatysim.results.store import load_run
    from treatysim.scenario.errors import ValidationError

    try:
        return load_run(folder, allow_incomplete=allow_incomplete)
    except StoreError:
        raise
    except (OSError, ValueError, ValidationError) as exc:
        raise StoreError(f"{folder}: unreadable run folder ({exc})") from exc


def _kind(folder: Path) -> str:
    from treatysim.results.store import MANIFEST

    try:
        return str(json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("kind", "run"))
    except FileNotFoundError as exc:
        raise StoreError(f"{folder}: not a run folder (no {MANIFEST})") from exc
    except (OSError, ValueError) as exc:
        raise StoreError(f"{folder}: unreadable {MANIFEST} ({exc})") from exc


def _plots(summary: dict[str, Any], data: RunData, world: World, svg: bool) -> list[Path]:
    from treatysim.plots import run as plots

    out = data.folder / PLOTS
    t = summary["primary_treaty"]
    tr = summary["treaties"][t]
    title = f"{summary['scenario']} · {t} · {summary['runs']['ok']} runs"
    curves = {s: tr["curves"][s] for s in stats.CURVE_STAGES}
    obs = tr["observed_curves"] if tr["observed_size"] is not None else None
    files = plots.cascade_plot(
        tr["curves"]["dates"], curves, out / "cascade", observed=obs, title=title, svg=svg
    )
    files += plots.cascade_size_plot(
        tr["cascade_size"], out / "cascade_size", observed=tr["observed_size"], title=title, svg=svg
    )
    k = world.treaties.index(t)
    states = tr["states"]

    def p_any(s: str) -> float:
        return float(states[s]["moved"]["p"] or 0.0)

    movers = sorted((s for s in states if p_any(s) > 0.01), key=lambda s: (-p_any(s), s))[:25]
    movers.sort(key=lambda s: (states[s]["stages"]["announced"]["median"] or "9999", -p_any(s)))
    ok = _ok_runs(data.runs)
    steps = stats.day_array(world.calendar.dates)
    rows = [
        (
            f"{s} {p_any(s):.0%}",
            stats.occupancy(data.events, ok, s, t, bool(world.party[world.index(s), k]), steps),
        )
        for s in movers
    ]
    files += plots.timeline_plot(
        world.calendar.dates, rows, stats.OCCUPANCY_STAGES, out / "timeline", title=title, svg=svg
    )
    p_exit = np.array([states[s]["stages"]["withdrawn"]["end"]["p"] or 0.0 for s in world.ids])
    map_files, capitals = plots.map_plot(
        world.ids,
        world.lat,
        world.lon,
        world.border,
        world.party[:, k],
        p_exit,
        out / "map",
        title=f"{title}: P(exit by the end)",
        svg=svg,
    )
    summary["map"] = {"outlines": "countryinfo GeoJSON polygons", "capitals_only": capitals}
    return files + map_files


def build_report(folder: Path | str, *, svg: bool = False, require_complete: bool = True) -> Path:
    """Write summary.json, summary.md and plots/ for a run folder (or delegate for a sweep).

    Args:
        folder: A run folder (or a sweep folder, handed to :mod:`treatysim.report.sweep_report`).
        svg: Also write SVG plots.
        require_complete: Refuse a folder with an INCOMPLETE marker (the runner passes False
            for the report it writes just before removing the marker).

    Returns:
        The path of summary.md.

    Raises:
        StoreError: The folder is not a readable run folder.
    """
    folder = Path(folder)
    if _kind(folder) == "sweep":
        from treatysim.report.sweep_report import build_sweep_report

        build_sweep_report(folder, svg=svg, require_complete=require_complete)
        return folder / SUMMARY_MD
    from treatysim.results.store import write_json, write_text

    data = _load(folder, allow_incomplete=not require_complete)
    world = data.world()
    summary = summarize(
        data.runs, data.events, Layout.from_world(world), timeseries=data.timeseries
    )
    files = _plots(summary, data, world, svg)
    summary["plots"] = [str(p.relative_to(folder)) for p in files]
    summary = _jsonable(summary)
    write_json(folder / SUMMARY_JSON, summary)
    write_text(folder / SUMMARY_MD, render_markdown(summary))
    return folder / SUMMARY_MD


def summary_table(folder: Path | str, limit: int = 10) -> str:
    """A short plain-text table for the terminal: the top states by P(announce) and the means."""
    folder = Path(folder)
    try:
        summary = json.loads((folder / SUMMARY_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = _load(folder, allow_incomplete=True)
        summary = _jsonable(summarize(data.runs, data.events, Layout.from_world(data.world())))
    t = summary["primary_treaty"]
    tr = summary["treaties"][t]
    lines = [
        f"{summary['scenario']} · {t} · {summary['runs']['ok']} runs ok, "
        f"{summary['runs']['failed']} failed",
        f"{'state':<6} {'P(announce)':>11}  {'95% CI':<15} {'P(exit)':>7}  median announcement",
    ]
    for s in ranked_states(tr)[:limit]:
        st = tr["states"][s]["stages"]
        a = st["announced"]["end"]
        if not a["p"]:
            break
        ci = f"[{a['lo']:.2f}, {a['hi']:.2f}]"
        lines.append(
            f"{s:<6} {a['p']:>11.2f}  {ci:<15} {st['withdrawn']['end']['p']:>7.2f}  "
            f"{st['announced']['median'] or '–'}"
        )
    lines.append(
        f"mean cascade size {fmt_p(tr['cascade_size']['mean'])}; "
        f"mean exits {fmt_p(tr['means']['n_withdrawn'])}"
    )
    return "\n".join(lines)
