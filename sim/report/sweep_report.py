"""The report of a sweep folder: per-point statistics, sensitivity indices, plots and a summary.

Everything here reads stored tables (``runs.parquet``, ``design.parquet``, ``manifest.json``) and
never runs the model, so ``treatysim report DIR`` rebuilds it at any time. It writes:

- ``point_summary.parquet``: per point and outcome, the mean over the point's ok runs with a
  Student-t 95% interval, and for each threshold k of the sweep ``P(cascade_size ≥ k)`` with a
  Wilson 95% interval (:mod:`treatysim.analysis.point_summary`);
- ``sensitivity.json`` (saltelli and morris designs): indices of each outcome's per-point mean
  (:mod:`treatysim.analysis.sensitivity`);
- ``plots/`` (:mod:`treatysim.plots.sweep`);
- ``summary.json`` and ``summary.md`` (this module: the words).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from treatysim.analysis.point_summary import (
    CONFIDENCE,
    mean_table,
    point_summary,
    probability_table,
)
from treatysim.analysis.sensitivity import sweep_sensitivity
from treatysim.plots.sweep import level_label, sweep_plots
from treatysim.report.explore_report import explore_sections
from treatysim.report.markdown import table_row
from treatysim.results.integrity import sweep_folder_mismatch
from treatysim.results.store import (
    DESIGN,
    INCOMPLETE,
    MANIFEST,
    PLOTS,
    POINT_SUMMARY,
    RUNS,
    SENSITIVITY,
    SUMMARY_JSON,
    SUMMARY_MD,
    StoreError,
    read_manifest,
    write_json,
    write_parquet,
    write_text,
)
from treatysim.scenario.designs import missing_salib

if TYPE_CHECKING:
    import pandas as pd

    from treatysim.run.sweep import SweepSummary


def build_sweep_report(
    folder: Path | str, svg: bool = False, *, require_complete: bool = True
) -> Path:
    """Write point_summary.parquet, sensitivity.json, plots and summary files of a sweep folder.

    Args:
        folder: A sweep folder (manifest kind ``sweep``).
        svg: Also write each plot as SVG.
        require_complete: Refuse a folder that still has its INCOMPLETE marker.

    Returns:
        The path of summary.md.

    Raises:
        StoreError: Not a sweep folder, an incomplete one, or a missing table.
    """
    import pandas as pd

    folder = Path(folder)
    manifest = _sweep_manifest(folder, require_complete)
    design = pd.read_parquet(folder / DESIGN)
    outcomes = list(manifest["outcomes"])
    thresholds = [int(k) for k in manifest.get("thresholds", [])]
    summary = point_summary(folder / RUNS, design, outcomes, thresholds)
    write_parquet(folder / POINT_SUMMARY, summary)

    indices = None
    design_type = manifest["design"]["type"]
    if design_type in ("saltelli", "morris"):
        try:
            indices = sweep_sensitivity(manifest, design, summary, outcomes)
        except ImportError:
            print(f"warning: no {SENSITIVITY}: {missing_salib(design_type)}", file=sys.stderr)
        else:
            write_json(folder / SENSITIVITY, indices)
    factors = [f["name"] for f in manifest["factors"]]
    files = sweep_plots(
        folder / PLOTS, factors, outcomes, thresholds, design, summary, indices, svg=svg
    )
    extra = explore_sections(folder, manifest, indices, svg=svg)
    plots = [p.relative_to(folder).as_posix() for p in [*files, *extra.plots]]
    write_json(
        folder / SUMMARY_JSON, {**_overview(manifest, summary, indices, plots), **extra.overview}
    )
    write_text(folder / SUMMARY_MD, _markdown(manifest, summary, indices, plots, extra.markdown))
    return folder / SUMMARY_MD


def _sweep_manifest(folder: Path, require_complete: bool) -> dict[str, Any]:
    """The manifest of a complete sweep folder that holds its tables.

    Raises:
        StoreError: Not a sweep folder, an incomplete one, or a missing table.
    """
    if not (folder / MANIFEST).is_file():
        raise StoreError(f"{folder}: not a sweep folder (no {MANIFEST})")
    manifest = read_manifest(folder)
    if manifest.get("kind") != "sweep":
        raise StoreError(f"{folder}: not a sweep folder (manifest kind {manifest.get('kind')!r})")
    if require_complete and (folder / INCOMPLETE).exists():
        reason = (folder / INCOMPLETE).read_text(encoding="utf-8").strip()
        raise StoreError(f"{folder}: the sweep is incomplete ({reason})")
    for name in (RUNS, DESIGN):
        if not (folder / name).is_file():
            raise StoreError(f"{folder}: missing {name}")
    if problem := sweep_folder_mismatch(folder, manifest):
        raise StoreError(problem)
    return manifest


def _overview(
    manifest: dict[str, Any],
    summary: pd.DataFrame,
    indices: dict[str, Any] | None,
    plots: list[str],
) -> dict[str, Any]:
    outcomes: dict[str, Any] = {}
    for outcome in manifest["outcomes"]:
        rows = mean_table(summary, outcome)
        est = rows["estimate"].to_numpy(dtype=float)
        if np.isnan(est).all():
            outcomes[outcome] = {"points_with_values": 0}
            continue
        lo, hi = int(np.nanargmin(est)), int(np.nanargmax(est))
        outcomes[outcome] = {
            "points_with_values": int((~np.isnan(est)).sum()),
            "lowest_mean": {"point": int(rows["point"][lo]), "mean": float(est[lo])},
            "highest_mean": {"point": int(rows["point"][hi]), "mean": float(est[hi])},
        }
    return {
        "kind": "sweep",
        "sweep_name": manifest["sweep_name"],
        "design": manifest["design"]["type"],
        "points": manifest["points"],
        "replications": manifest["replications"],
        "runs": manifest["runs"],
        "ok": manifest["ok"],
        "failed": manifest["failed"],
        "confidence": CONFIDENCE,
        "outcomes": outcomes,
        "sensitivity": indices,
        "plots": plots,
    }


def _markdown(
    manifest: dict[str, Any],
    summary: pd.DataFrame,
    indices: dict[str, Any] | None,
    plots: list[str],
    explore: list[str],
) -> str:
    labels = [f["name"] for f in manifest["factors"]]
    lines = [
        f"# Sweep {manifest['sweep_name']}",
        "",
        f"Base scenario `{manifest['scenario_name']}`; {manifest['design']['type']} design over "
        f"{len(labels)} factor(s); {manifest['points']:,} points × {manifest['replications']:,} "
        f"replications = {manifest['runs']:,} runs; root seed {manifest['root_seed']}.",
        f"Runs ok: {manifest['ok']:,}; failed: {manifest['failed']:,}.",
        "",
        "Means have Student-t 95% intervals; probabilities have Wilson 95% intervals. Only runs "
        "with status `ok` count. Within a point the intervals cover "
        + manifest.get("uncertainty", "seed (stochastic) uncertainty only")
        + ".",
        "",
        "## Factors",
        "",
        "| factor | role | key path | values |",
        "|---|---|---|---|",
    ]
    for f in manifest["factors"]:
        if f.get("values") is not None:
            values = ", ".join(level_label(v) for v in f["values"])
        elif f.get("low") is not None:
            values = f"{f['low']} to {f['high']} ({f.get('distribution', 'uniform')})"
        else:
            values = "from the design table"
        role = f.get("role", "uncertainty")
        lines.append(f"| {f['name']} | {role} | `{f['path']}` | {values} |")
    shown = 40
    lines += ["", f"## Points (first {shown})" if manifest["points"] > shown else "## Points", ""]
    header = ["point", *labels]
    for outcome in manifest["outcomes"]:
        header.append(f"{outcome} (95% CI)")
    for k in manifest.get("thresholds", []):
        header.append(f"P(cascade ≥ {k})")
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    means = {o: mean_table(summary, o) for o in manifest["outcomes"]}
    probs = {k: probability_table(summary, int(k)) for k in manifest.get("thresholds", [])}
    for point in range(min(shown, int(manifest["points"]))):
        cells = [str(point)]
        row0 = next(iter(means.values())).iloc[point] if means else None
        for label in labels:
            cells.append(level_label(row0[label]) if row0 is not None else "")
        for o in manifest["outcomes"]:
            r = means[o].iloc[point]
            cells.append(
                f"{r['estimate']:.2f} ({r['ci_low']:.2f}–{r['ci_high']:.2f})"
                if not np.isnan(r["estimate"])
                else "–"
            )
        for k in manifest.get("thresholds", []):
            r = probs[k].iloc[point]
            cells.append(
                f"{r['estimate']:.2f} ({r['ci_low']:.2f}–{r['ci_high']:.2f})"
                if not np.isnan(r["estimate"])
                else "–"
            )
        lines.append(table_row(cells))
    if indices is not None:
        lines += ["", "## Sensitivity", ""]
        lines.append(
            f"{'Sobol' if indices['method'] == 'sobol' else 'Morris'} indices of each point's mean "
            f"over {manifest['replications']} replications "
            f"(bootstrap {round(100 * indices['conf_level'])}% intervals)."
        )
        for outcome, body in indices["outcomes"].items():
            lines += ["", f"### {outcome}", ""]
            if "error" in body:
                lines.append(f"Not computed: {body['error']}")
                continue
            keys = ("S1", "S1_conf", "ST", "ST_conf")
            head = "| factor | S1 | ± | ST | ± |"
            if indices["method"] != "sobol":
                keys = ("mu_star", "mu_star_conf", "sigma", "mu")
                head = "| factor | μ* | ± | σ | μ |"
            lines += [head, "|---|---|---|---|---|"]
            for i, name in enumerate(body["factors"]):
                lines.append(table_row([name, *(_num(body[key][i]) for key in keys)]))
            if body.get("warnings"):
                lines += ["", "Read with care (more samples or replications would help):", ""]
                lines += [f"- {warning}" for warning in body["warnings"]]
    lines += explore
    if manifest.get("failed"):
        lines += ["", "## Failed runs", ""]
        for failure in manifest.get("failures", [])[:20]:
            where = f"point {failure['point']}, replication {failure['replication']}"
            lines.append(f"- {where}: {failure['error']}")
    if plots:
        lines += ["", "## Plots", ""]
        lines += [f"- [{p}]({p})" for p in plots if p.endswith(".png")]
    return "\n".join(lines) + "\n"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def sweep_summary_text(summary: SweepSummary, listed: int = 20) -> str:
    """The lines ``treatysim sweep`` prints at the end: size, speed, failures, folders."""
    before = summary.runs - summary.executed
    lines = [
        f"sweep: {summary.points:,} points × {summary.replications:,} replications = "
        f"{summary.runs:,} runs ({summary.executed:,} run now"
        + (f", {before:,} stored before" if before else "")
        + ")",
        f"executor: {summary.executor}; {summary.seconds:,.1f} s, "
        f"{summary.runs_per_second:,.1f} runs/s",
        f"ok: {summary.ok:,}; failed: {summary.failed:,}",
    ]
    for failure in summary.failures[:listed]:
        lines.append(
            f"  failed: point {failure['point']}, replication {failure['replication']}: "
            f"{failure['error']}"
        )
    if summary.failed > listed:
        lines.append(f"  ... and {summary.failed - listed:,} more (runs.parquet, status 'failed')")
    if summary.failed:
        lines.append(
            f"rerun them with: treatysim sweep SWEEP --out {summary.folder} --retry-failed"
        )
    lines.append(f"results: {summary.folder}")
    if (summary.folder / "summary.md").is_file():
        lines.append(f"report: {summary.folder / 'summary.md'}")
    return "\n".join(lines)
