"""The exploratory sections of a sweep report: feature scores, discovery, robustness, envelopes.

Reads stored tables only (``manifest.json``, ``design.parquet``, ``runs.parquet``,
``events.parquet``, ``discovery/discovery.json``) and gives :func:`build_sweep_report`
(:mod:`treatysim.report.sweep_report`) its extra Markdown, JSON and figures:

- *Feature scores* of each outcome's point means (beside the Sobol' or Morris indices where the
  design has them);
- *Scenario discovery*, when ``treatysim discover`` (:mod:`treatysim.report.discovery_report`)
  has written ``discovery/``;
- *Levers against uncertainties*, for sweeps with factors of both roles;
- *Cascade over time*: each point's mean cascade curve and the envelopes per lever setting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from treatysim.analysis.condition import Condition, parse_where
from treatysim.analysis.envelopes import CASCADE_STAGES, envelopes, point_curves
from treatysim.analysis.robustness import lever_robustness
from treatysim.analysis.scoring import feature_scores
from treatysim.plots.explore import (
    envelopes_plot,
    robustness_plot,
    scores_beside_indices_plot,
)
from treatysim.report.discovery_report import (
    DISCOVERY,
    DISCOVERY_JSON,
    INSTALL_EXPLORE,
    case_table,
    missing_explore,
)
from treatysim.results.store import DESIGN, EVENTS, PLOTS, RUNS, SCENARIO
from treatysim.scenario.yamlio import load_yaml_file


@dataclass
class Sections:
    """What the exploratory part adds to a sweep report."""

    markdown: list[str] = field(default_factory=list)
    overview: dict[str, Any] = field(default_factory=dict)
    plots: list[Path] = field(default_factory=list)


def _label(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _setting(row: pd.Series, levers: list[str]) -> str:
    return ", ".join(f"{name}={_label(row[name])}" for name in levers)


def explore_sections(
    folder: Path, manifest: dict[str, Any], indices: dict[str, Any] | None, svg: bool = False
) -> Sections:
    """Feature scores, discovery, robustness and envelopes for :func:`build_sweep_report`."""
    sections = Sections()
    if manifest["points"] >= 2:
        _feature_section(folder, manifest, indices, svg, sections)
    _discovery_section(folder, sections)
    _robustness_section(folder, manifest, svg, sections)
    _envelope_section(folder, manifest, svg, sections)
    return sections


def _feature_section(
    folder: Path,
    manifest: dict[str, Any],
    indices: dict[str, Any] | None,
    svg: bool,
    sections: Sections,
) -> None:
    lines = sections.markdown
    lines += ["", "## Feature scores", ""]

    if missing_explore(("sklearn",)):
        lines.append(f"Not computed: scikit-learn is not installed ({INSTALL_EXPLORE}).")
        return

    lines.append(
        "Which factors matter for each outcome's point mean: extra-trees impurity importances "
        "(Geurts et al. 2006; scikit-learn, 250 trees, seed 0), summing to 1"
        + (", beside the sensitivity indices." if indices else ".")
    )
    scored: dict[str, Any] = {}
    for outcome in manifest["outcomes"]:
        table, labels = case_table(folder, manifest, outcome, "points")
        table = table[table[outcome].notna()]
        if len(table) < 2 or table[outcome].nunique() < 2:
            lines.append(f"- {outcome}: not scored (the point means do not vary).")
            continue
        scores = feature_scores(table[labels], table[outcome].to_numpy(dtype=float))
        scored[outcome] = scores.to_dict(orient="records")
        ranked = ", ".join(f"{r.factor} {r.score:.2f}" for r in scores.itertuples())
        lines.append(f"- {outcome}: {ranked}")
        body = (indices or {}).get("outcomes", {}).get(outcome)
        sections.plots += scores_beside_indices_plot(
            scores, body, folder / PLOTS / f"feature_scores_{outcome}", outcome=outcome, svg=svg
        )
    sections.overview["feature_scores"] = scored


def _discovery_section(folder: Path, sections: Sections) -> None:
    path = folder / DISCOVERY / DISCOVERY_JSON
    if not path.is_file():
        return
    result = json.loads(path.read_text(encoding="utf-8"))
    prim, box = result["prim"], result["prim"]["box"]
    lines = sections.markdown
    lines += [
        "",
        "## Scenario discovery",
        "",
        f"Cases of interest: {result['outcome']} {result['where']} on {result['on']} "
        f"({result['cases_of_interest']} of {result['rows']}, base density "
        f"{prim['base_density']:.2f}). {prim['method']}; the box chosen: "
        f"{prim['selection_rule']}.",
        "",
        f"PRIM box (step {prim['chosen_step']}): coverage {box['coverage']:.2f}, density "
        f"{box['density']:.2f}, mass {box['mass']:.2f}.",
        "",
        "| factor | limits | range sampled | quasi-p | significant |",
        "|---|---|---|---|---|",
    ]
    for r in box["restrictions"]:
        if r["kind"] == "numeric":
            limits = f"{r['min']:.6g} to {r['max']:.6g}"
            sampled = f"{r['range_min']:.6g} to {r['range_max']:.6g}"
        else:
            limits, sampled = ", ".join(r["values"]), ", ".join(r["all_values"])
        qp = "–" if r["quasi_p"] is None else f"{r['quasi_p']:.2g}"
        significant = "yes" if r["significant"] else "no"
        lines.append(f"| {r['factor']} | {limits} | {sampled} | {qp} | {significant} |")
    lines += ["", "CART rules (densest leaves first):", ""]
    for leaf in result["cart"]["leaves"][:4]:
        lines.append(
            f"- {leaf['rule']}: density {leaf['density']:.2f}, coverage {leaf['coverage']:.2f}, "
            f"{leaf['n']} case(s)"
        )
    lines += ["", "Figures: " + ", ".join(f"[{p}]({p})" for p in result.get("plots", []))]
    sections.overview["discovery"] = {
        "outcome": result["outcome"],
        "where": result["where"],
        "on": result["on"],
        "box": box,
    }


def _roles(manifest: dict[str, Any]) -> tuple[list[str], list[str]]:
    factors = manifest["factors"]
    levers = [f["name"] for f in factors if f.get("role") == "lever"]
    uncertainties = [f["name"] for f in factors if f.get("role", "uncertainty") == "uncertainty"]
    return levers, uncertainties


def _robustness_section(
    folder: Path, manifest: dict[str, Any], svg: bool, sections: Sections
) -> None:

    levers, uncertainties = _roles(manifest)
    if not levers or not uncertainties:
        return
    settings = manifest.get("robustness") or {}
    outcome = settings.get("outcome", "cascade_size")
    if outcome not in manifest["outcomes"]:
        outcome = manifest["outcomes"][0]
    percentile = float(settings.get("percentile", 90.0))
    larger = bool(settings.get("larger_is_better", False))
    table, _ = case_table(folder, manifest, outcome, "points")
    if settings.get("satisficing"):
        condition = parse_where(settings["satisficing"])
        source = "set in the sweep file"
    else:
        median = float(np.nanmedian(table[outcome]))
        condition = Condition(">=" if larger else "<=", round(median, 3))
        source = "the median of all point means; robustness.satisficing in the sweep file sets it"
    robust = lever_robustness(
        table,
        levers=levers,
        uncertainties=uncertainties,
        outcome=outcome,
        satisficing=condition,
        percentile=percentile,
        larger_is_better=larger,
    )
    tail = f"p{percentile:g}"
    order = robust.assign(_neg=-robust["satisficing"]).sort_values(["max_regret", "_neg", "mean"])
    best = order.iloc[0]
    by_share = robust.sort_values("satisficing", ascending=False).iloc[0]
    by_mean = robust.sort_values("mean", ascending=not larger).iloc[0]
    lines = sections.markdown
    lines += [
        "",
        "## Levers against uncertainties",
        "",
        f"Each lever setting ({', '.join(levers)}) across {int(best['states'])} states of the "
        f"world ({', '.join(uncertainties)}), judged on the point mean of {outcome} "
        f"({'larger' if larger else 'lower'} is better). Regret: the setting's outcome minus "
        "the best setting's in the same state of the world (Savage 1951). Satisficing share: "
        f"the states of the world where {outcome} {condition} ({source}; Herman et al. 2015).",
        "",
        f"| lever setting | mean | {tail} | max regret | mean regret | satisficing | best in |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, row in robust.iterrows():
        lines.append(
            f"| {_setting(row, levers)} | {row['mean']:.2f} | {row[tail]:.2f} | "
            f"{row['max_regret']:.2f} | {row['mean_regret']:.2f} | {row['satisficing']:.0%} | "
            f"{row['best_in']:.0%} |"
        )
    agree = _setting(by_share, levers) == _setting(best, levers) == _setting(by_mean, levers)
    lines += [
        "",
        f"**Most robust lever setting: {_setting(best, levers)}** — the lowest maximum regret "
        f"({best['max_regret']:.2f}), {outcome} {condition} in {best['satisficing']:.0%} of the "
        f"states of the world, mean {best['mean']:.2f} ({tail} {best[tail]:.2f}). "
        + (
            "The mean and the satisficing share rank it first too."
            if agree
            else f"By satisficing share the best is {_setting(by_share, levers)} "
            f"({by_share['satisficing']:.0%}); by mean {_setting(by_mean, levers)} "
            f"({by_mean['mean']:.2f})."
        ),
    ]
    sections.plots += robustness_plot(robust, levers, folder / PLOTS / "robustness", svg=svg)
    sections.overview["robustness"] = {
        "outcome": outcome,
        "satisficing": str(condition),
        "satisficing_source": source,
        "percentile": percentile,
        "most_robust": _setting(best, levers),
        "table": json.loads(robust.to_json(orient="records")),
    }


def _primary_treaty(folder: Path) -> str | None:

    path = folder / SCENARIO
    if not path.is_file():
        return None
    data = load_yaml_file(path).data
    run = data.get("run") or {}
    return run.get("primary_treaty") or next(iter(data.get("treaties") or {}), None)


def _envelope_section(
    folder: Path, manifest: dict[str, Any], svg: bool, sections: Sections
) -> None:

    treaty = _primary_treaty(folder)
    if treaty is None or not (folder / EVENTS).is_file():
        return
    # only the rows that make the cascade: a large sweep's events table need not fit in memory
    events = pd.read_parquet(
        folder / EVENTS,
        columns=["point", "replication", "iso3", "treaty", "stage", "date"],
        filters=[("treaty", "==", treaty), ("stage", "in", list(CASCADE_STAGES))],
    )
    runs = pd.read_parquet(folder / RUNS, columns=["point", "status"])
    ok = (runs["status"] == "ok").groupby(runs["point"]).sum().reindex(range(manifest["points"]))
    dates, curves = point_curves(events, ok.fillna(0), treaty=treaty)
    levers, _ = _roles(manifest)
    design = pd.read_parquet(folder / DESIGN)
    if levers:
        groups = [_setting(row, levers) for _, row in design.iterrows()]
        what = "per lever setting: the median point curve and the range of the point curves"
    else:
        groups = ["all points"] * len(design)
        what = "each point's mean curve (grey) and their range"
    bands = envelopes(curves, groups)
    sections.plots += envelopes_plot(
        dates,
        curves,
        bands,
        folder / PLOTS / "envelopes",
        title=f"Cascade over time ({treaty}):\n{what}",
        svg=svg,
    )
    final = {label: float(band["median"][-1]) for label, band in bands.items()}
    sections.markdown += [
        "",
        "## Cascade over time",
        "",
        f"Mean cascade size ({treaty}: states that announced an exit or suspended) of each point "
        f"over time, rebuilt from events.parquet; {what} "
        "(EMA Workbench's envelopes, Kwakkel 2017). Median at the end: "
        + "; ".join(f"{label} {value:.2f}" for label, value in final.items())
        + ".",
    ]
    sections.overview["envelopes"] = {"treaty": treaty, "final_median": final}
