"""The report of a sweep folder: per-point statistics, sensitivity indices, plots and a summary.

Everything here reads stored tables (``runs.parquet``, ``design.parquet``, ``manifest.json``) and
never runs the model, so ``treatysim report DIR`` rebuilds it at any time.

- ``point_summary.parquet``: per point and outcome, the mean over the point's ok runs with a
  Student-t 95% interval (``mean ± t(n−1)·sd/√n``), and for each threshold k of the sweep
  ``P(cascade_size ≥ k)`` with a Wilson 95% interval. Long format: one row per point and
  statistic, with the point's factor values.
- ``sensitivity.json`` (saltelli and morris designs): indices of each outcome's per-point mean
  (:mod:`treatysim.analysis.sensitivity`).
- ``plots/``: a one-factor sweep as lines with bands; a two-factor grid as heatmaps of
  ``P(cascade_size ≥ k)`` and of the mean outcomes; a sensitivity bar chart; otherwise
  scatter plots of each outcome's mean against each factor.
- ``summary.json`` and ``summary.md``.

Runs are read a row group at a time and reduced to per-point sums, so memory grows with the
number of points, not of runs.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CONFIDENCE = 0.95
DPI = 200
#: Okabe & Ito's colour-blind-safe palette.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
#: Sequential colour map that stays readable with colour-vision deficiencies.
CMAP = "cividis"


# --------------------------------------------------------------------------------------------
# intervals


def wilson(
    k: ArrayLike, n: ArrayLike, confidence: float = CONFIDENCE
) -> tuple[NDArray[Any], NDArray[Any]]:
    """Wilson score interval of k successes in n trials, as arrays (NaN where n = 0).

    The same interval as the run reports (:func:`treatysim.analysis.stats.wilson_interval`).
    """
    from treatysim.analysis.stats import wilson_interval

    lower, upper = wilson_interval(k, n, confidence)
    return np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)


def t_interval(
    n: ArrayLike, mean: ArrayLike, sd: ArrayLike, confidence: float = CONFIDENCE
) -> tuple[NDArray[Any], NDArray[Any]]:
    """Student-t interval of a mean from n values (NaN for fewer than two)."""
    from scipy.stats import t as student_t

    n_arr = np.asarray(n, dtype=float)
    mean_arr = np.asarray(mean, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = student_t.ppf(0.5 + confidence / 2, np.maximum(n_arr - 1, 1))
        half = np.where(n_arr >= 2, q * np.asarray(sd, dtype=float) / np.sqrt(n_arr), np.nan)
    return mean_arr - half, mean_arr + half


# --------------------------------------------------------------------------------------------
# per-point statistics


def point_summary(
    runs_path: Path,
    design: pd.DataFrame,
    outcomes: list[str],
    thresholds: list[int],
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Per point: each outcome's mean with a t interval, and P(cascade_size ≥ k) with Wilson's.

    Reads ``runs_path`` a row group at a time and keeps only per-point sums.

    Returns:
        Columns ``point``, the factor columns, ``outcome``, ``statistic`` (``mean`` or
        ``probability``), ``threshold`` (k, null for means), ``n`` (ok runs with a value),
        ``n_failed``, ``estimate``, ``ci_low``, ``ci_high`` and ``sd`` (means only).
    """
    import pandas as pd
    import pyarrow.parquet as pq

    n_points = len(design)
    handle = pq.ParquetFile(runs_path)
    wanted = sorted(set(outcomes) | ({"cascade_size"} if thresholds else set()))
    count = {o: np.zeros(n_points) for o in wanted}
    total = {o: np.zeros(n_points) for o in wanted}
    squares = {o: np.zeros(n_points) for o in wanted}
    hits = {k: np.zeros(n_points) for k in thresholds}
    ok_runs = np.zeros(n_points)
    failed = np.zeros(n_points)
    for batch in handle.iter_batches(columns=["point", "status", *wanted]):
        point = batch.column(0).to_numpy().astype(np.int64)
        ok = np.asarray(batch.column(1).to_pylist(), dtype=object) == "ok"
        failed += np.bincount(point[~ok], minlength=n_points)
        ok_runs += np.bincount(point[ok], minlength=n_points)
        for j, name in enumerate(wanted, start=2):
            values = batch.column(j).to_numpy(zero_copy_only=False).astype(float)
            has = ok & ~np.isnan(values)
            count[name] += np.bincount(point[has], minlength=n_points)
            total[name] += np.bincount(point[has], weights=values[has], minlength=n_points)
            squares[name] += np.bincount(point[has], weights=values[has] ** 2, minlength=n_points)
            if name == "cascade_size":
                for k in thresholds:
                    hit = has & (values >= k)
                    hits[k] += np.bincount(point[hit], minlength=n_points)
    parts = []
    points = np.arange(n_points, dtype=np.int64)
    for name in outcomes:
        n = count[name]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total[name] / n
            var = np.maximum(squares[name] - n * mean * mean, 0) / (n - 1)
        sd = np.where(n >= 2, np.sqrt(var), np.nan)
        low, high = t_interval(n, mean, sd, confidence)
        parts.append(
            pd.DataFrame(
                {
                    "point": points,
                    "outcome": name,
                    "statistic": "mean",
                    "threshold": pd.array([None] * n_points, dtype="Int64"),
                    "n": n.astype(np.int64),
                    "n_failed": failed.astype(np.int64),
                    "estimate": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "sd": sd,
                }
            )
        )
    for k in thresholds:
        n = count.get("cascade_size", ok_runs)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = hits[k] / n
        low, high = wilson(hits[k], n, confidence)
        parts.append(
            pd.DataFrame(
                {
                    "point": points,
                    "outcome": "cascade_size",
                    "statistic": "probability",
                    "threshold": pd.array([k] * n_points, dtype="Int64"),
                    "n": n.astype(np.int64),
                    "n_failed": failed.astype(np.int64),
                    "estimate": p,
                    "ci_low": low,
                    "ci_high": high,
                    "sd": np.full(n_points, np.nan),
                }
            )
        )
    summary = pd.concat(parts, ignore_index=True)
    factors = design[[c for c in design.columns if not c.startswith("unit.")]]
    merged = summary.merge(factors, on="point", how="left")
    order = ["point", *[c for c in factors.columns if c != "point"]]
    rest = [c for c in merged.columns if c not in order]
    return (
        merged[order + rest]
        .sort_values(["point", "statistic", "outcome", "threshold"], kind="stable")
        .reset_index(drop=True)
    )


def mean_table(summary: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Rows of one outcome's means, one per point."""
    rows = summary[(summary["statistic"] == "mean") & (summary["outcome"] == outcome)]
    return rows.sort_values("point").reset_index(drop=True)


def probability_table(summary: pd.DataFrame, k: int) -> pd.DataFrame:
    """Rows of P(cascade_size ≥ k), one per point."""
    rows = summary[(summary["statistic"] == "probability") & (summary["threshold"] == k)]
    return rows.sort_values("point").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# the report


def build_sweep_report(
    folder: Path | str, svg: bool = False, *, require_complete: bool = True
) -> Path:
    """Write point_summary.parquet, sensitivity.json, plots and summary files of a sweep folder.

    Args:
        folder: A sweep folder (manifest kind ``sweep``).
        svg: Also write each plot as SVG.
        require_complete: Refuse a folder that still has its INCOMPLETE marker (the sweep
            itself builds its report just before it removes the marker).

    Returns:
        The path of summary.md.

    Raises:
        StoreError: Not a sweep folder, an incomplete one, or a missing table.
    """
    import pandas as pd

    from treatysim.results.store import (
        DESIGN,
        INCOMPLETE,
        MANIFEST,
        POINT_SUMMARY,
        RUNS,
        SENSITIVITY,
        StoreError,
        write_json,
        write_parquet,
        write_text,
    )

    folder = Path(folder)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise StoreError(f"{folder}: not a sweep folder (no {MANIFEST})")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("kind") != "sweep":
        raise StoreError(f"{folder}: not a sweep folder (manifest kind {manifest.get('kind')!r})")
    if require_complete and (folder / INCOMPLETE).exists():
        reason = (folder / INCOMPLETE).read_text(encoding="utf-8").strip()
        raise StoreError(f"{folder}: the sweep is incomplete ({reason})")
    for name in (RUNS, DESIGN):
        if not (folder / name).is_file():
            raise StoreError(f"{folder}: missing {name}")
    design = pd.read_parquet(folder / DESIGN)
    outcomes = list(manifest["outcomes"])
    thresholds = [int(k) for k in manifest.get("thresholds", [])]
    summary = point_summary(folder / RUNS, design, outcomes, thresholds)
    write_parquet(folder / POINT_SUMMARY, summary)

    indices = None
    design_type = manifest["design"]["type"]
    if design_type in ("saltelli", "morris"):
        indices = sweep_sensitivity(manifest, design, summary, outcomes)
        if indices is not None:
            write_json(folder / SENSITIVITY, indices)
    plots = _plots(folder, manifest, design, summary, indices, svg=svg)
    overview = _overview(manifest, summary, indices, plots)
    write_json(folder / "summary.json", overview)
    write_text(folder / "summary.md", _markdown(manifest, summary, indices, plots))
    return folder / "summary.md"


def sweep_sensitivity(
    manifest: dict[str, Any], design: pd.DataFrame, summary: pd.DataFrame, outcomes: list[str]
) -> dict[str, Any] | None:
    """Sobol' or Morris indices of each outcome's per-point mean (the body of sensitivity.json).

    Args:
        manifest: The sweep's manifest (design type, factors, replications, root seed).
        design: design.parquet, with the ``unit.<factor>`` coordinates.
        summary: :func:`point_summary`'s table; its means are the outcomes analysed.
        outcomes: Outcomes to analyse.

    Returns:
        The indices, or None when SALib is not installed (a warning is printed).
    """
    from treatysim.analysis.sensitivity import design_indices

    labels = [f["name"] for f in manifest["factors"]]
    unit = design[[f"unit.{label}" for label in labels]].to_numpy(dtype=float)
    means = {o: mean_table(summary, o)["estimate"].to_numpy(dtype=float) for o in outcomes}
    try:
        body = design_indices(
            manifest["design"]["type"],
            unit,
            means,
            labels,
            second_order=bool(manifest["design"].get("second_order", False)),
            levels=int(manifest["design"].get("levels", 4)),
            seed=int(manifest["root_seed"]) % (2**32),
        )
    except ImportError:
        import sys

        from treatysim.scenario.designs import missing_salib

        print(
            f"warning: no sensitivity.json: {missing_salib(manifest['design']['type'])}",
            file=sys.stderr,
        )
        return None
    body["replications_averaged"] = int(manifest["replications"])
    body["note"] = (
        "indices of each point's mean over its replications (stochastic noise averaged out); "
        "factors are in unit-cube coordinates"
    )
    return body


# --------------------------------------------------------------------------------------------
# plots


def _factor_values(design: pd.DataFrame, label: str) -> list[Any]:
    return list(design[label])


def _fmt(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _numeric_axis(values: list[Any]) -> tuple[NDArray[Any] | list[Any], bool]:
    """Values for an x axis: dates stay dates, numbers become floats; else categorical."""
    if all(isinstance(v, dt.date) for v in values):
        return values, True
    try:
        return np.asarray(values, dtype=float), True
    except (TypeError, ValueError):
        return values, False


def _new_figure(width: float = 6.4, height: float = 4.2) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def _save(fig: Figure, folder: Path, name: str, svg: bool) -> list[str]:
    plots = folder / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    written = [f"plots/{name}.png"]
    fig.savefig(plots / f"{name}.png", dpi=DPI)
    if svg:
        fig.savefig(plots / f"{name}.svg")
        written.append(f"plots/{name}.svg")
    return written


def _outcome_label(name: str) -> str:
    return name.replace("__", " · ").replace("_", " ")


def _plots(
    folder: Path,
    manifest: dict[str, Any],
    design: pd.DataFrame,
    summary: pd.DataFrame,
    indices: dict[str, Any] | None,
    *,
    svg: bool,
) -> list[str]:
    labels = [f["name"] for f in manifest["factors"]]
    outcomes = list(manifest["outcomes"])
    thresholds = [int(k) for k in manifest.get("thresholds", [])]
    written: list[str] = []
    grid_2d = len(labels) == 2 and _is_full_grid(design, labels)
    if len(labels) == 1:
        written += _line_plots(folder, labels[0], design, summary, outcomes, thresholds, svg)
    elif grid_2d:
        written += _heatmaps(folder, labels, design, summary, outcomes, thresholds, svg)
    else:
        written += _scatter_plots(folder, labels, design, summary, outcomes, svg)
    if indices is not None:
        written += _sensitivity_plots(folder, indices, svg)
    return written


def _is_full_grid(design: pd.DataFrame, labels: list[str]) -> bool:
    sizes = [design[label].nunique() for label in labels]
    return math.prod(sizes) == len(design) and not design.duplicated(labels).any()


def _line_plots(
    folder: Path,
    label: str,
    design: pd.DataFrame,
    summary: pd.DataFrame,
    outcomes: list[str],
    thresholds: list[int],
    svg: bool,
) -> list[str]:
    x_raw = _factor_values(design, label)
    x, numeric = _numeric_axis(x_raw)
    # points in the order of the factor's values (dates by day; text in design order)
    order = np.array(sorted(range(len(x_raw)), key=lambda i: _sort_key(x_raw[i])))
    xs = [x[i] for i in order] if numeric else list(range(len(x_raw)))
    written = []
    for j, outcome in enumerate(outcomes):
        rows = mean_table(summary, outcome)
        fig, ax = _new_figure()
        colour = PALETTE[j % len(PALETTE)]
        mean = rows["estimate"].to_numpy(dtype=float)[order]
        ax.fill_between(
            xs,
            rows["ci_low"].to_numpy(dtype=float)[order],
            rows["ci_high"].to_numpy(dtype=float)[order],
            color=colour,
            alpha=0.25,
            linewidth=0,
            label="95% CI",
        )
        ax.plot(xs, mean, color=colour, marker="o", label="mean")
        ax.set_xlabel(label)
        ax.set_ylabel(f"{_outcome_label(outcome)} (mean over runs)")
        ax.set_title(f"{_outcome_label(outcome)} against {label}")
        if not numeric:
            ax.set_xticks(list(range(len(xs))), [_fmt(x_raw[i]) for i in order])
        ax.legend(frameon=False)
        _date_ticks(fig, ax, xs)
        written += _save(fig, folder, f"sweep_{_safe(outcome)}", svg)
    if thresholds:
        fig, ax = _new_figure()
        for j, k in enumerate(thresholds):
            rows = probability_table(summary, k)
            colour = PALETTE[j % len(PALETTE)]
            ax.fill_between(
                xs,
                rows["ci_low"].to_numpy(dtype=float)[order],
                rows["ci_high"].to_numpy(dtype=float)[order],
                color=colour,
                alpha=0.2,
                linewidth=0,
            )
            ax.plot(
                xs,
                rows["estimate"].to_numpy(dtype=float)[order],
                color=colour,
                marker="o",
                label=f"P(cascade size ≥ {k})",
            )
        ax.set_ylim(0, 1)
        ax.set_xlabel(label)
        ax.set_ylabel("probability (Wilson 95% CI)")
        ax.set_title(f"Cascade probability against {label}")
        if not numeric:
            ax.set_xticks(list(range(len(xs))), [_fmt(x_raw[i]) for i in order])
        ax.legend(frameon=False)
        _date_ticks(fig, ax, xs)
        written += _save(fig, folder, "sweep_probability", svg)
    return written


def _date_ticks(fig: Figure, ax: Axes, xs: list[Any]) -> None:
    if xs and isinstance(xs[0], dt.date):
        for tick in ax.get_xticklabels():
            tick.set_rotation(30)
            tick.set_horizontalalignment("right")


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def _heatmaps(
    folder: Path,
    labels: list[str],
    design: pd.DataFrame,
    summary: pd.DataFrame,
    outcomes: list[str],
    thresholds: list[int],
    svg: bool,
) -> list[str]:
    x_label, y_label = labels
    x_levels = sorted(design[x_label].unique(), key=_sort_key)
    y_levels = sorted(design[y_label].unique(), key=_sort_key)
    col = {v: i for i, v in enumerate(x_levels)}
    row = {v: i for i, v in enumerate(y_levels)}
    cells = [(row[y], col[x]) for x, y in zip(design[x_label], design[y_label], strict=True)]

    def matrix(values: NDArray[Any]) -> NDArray[np.float64]:
        out = np.full((len(y_levels), len(x_levels)), np.nan)
        for (i, j), v in zip(cells, values, strict=True):
            out[i, j] = v
        return out

    panels: list[tuple[str, str, NDArray[np.float64], tuple[float, float] | None]] = []
    for k in thresholds:
        rows = probability_table(summary, k)
        panels.append(
            (
                f"heatmap_p_cascade_ge_{k}",
                f"P(cascade size ≥ {k})",
                matrix(rows["estimate"].to_numpy(dtype=float)),
                (0.0, 1.0),
            )
        )
    for outcome in outcomes:
        rows = mean_table(summary, outcome)
        panels.append(
            (
                f"heatmap_mean_{_safe(outcome)}",
                f"mean {_outcome_label(outcome)}",
                matrix(rows["estimate"].to_numpy(dtype=float)),
                None,
            )
        )
    written = []
    for name, title, values, limits in panels:
        fig, ax = _new_figure(
            max(5.0, 0.7 * len(x_levels) + 2.5), max(3.5, 0.45 * len(y_levels) + 2.0)
        )
        vmin, vmax = limits if limits else (float(np.nanmin(values)), float(np.nanmax(values)))
        image = ax.imshow(values, origin="lower", aspect="auto", cmap=CMAP, vmin=vmin, vmax=vmax)
        ax.set_xticks(range(len(x_levels)), [_fmt(v) for v in x_levels], rotation=30, ha="right")
        ax.set_yticks(range(len(y_levels)), [_fmt(v) for v in y_levels])
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.set_title(title)
        if values.size <= 200:
            middle = (vmin + vmax) / 2
            for (i, j), v in np.ndenumerate(values):
                if not np.isnan(v):
                    ax.text(
                        j,
                        i,
                        f"{v:.2f}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="black" if v > middle else "white",
                    )
        fig.colorbar(image, ax=ax, label=title)
        written += _save(fig, folder, name, svg)
    return written


def _sort_key(value: Any) -> Any:
    if isinstance(value, dt.date):
        return (0, value.toordinal(), "")
    if isinstance(value, int | float | np.integer | np.floating):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _scatter_plots(
    folder: Path,
    labels: list[str],
    design: pd.DataFrame,
    summary: pd.DataFrame,
    outcomes: list[str],
    svg: bool,
) -> list[str]:
    written = []
    for outcome in outcomes:
        rows = mean_table(summary, outcome)
        columns = min(3, len(labels))
        lines = math.ceil(len(labels) / columns)
        from matplotlib.figure import Figure

        fig = Figure(figsize=(3.4 * columns, 3.0 * lines), layout="constrained")
        axes = fig.subplots(lines, columns, squeeze=False)
        for n, label in enumerate(labels):
            ax = axes[n // columns][n % columns]
            x, numeric = _numeric_axis(_factor_values(design, label))
            if not numeric:
                x = [str(v) for v in x]
            ax.scatter(x, rows["estimate"].to_numpy(dtype=float), s=10, color=PALETTE[0], alpha=0.7)
            ax.set_xlabel(label)
            ax.set_ylabel(f"mean {_outcome_label(outcome)}")
            _date_ticks(fig, ax, list(x))
        for n in range(len(labels), lines * columns):
            axes[n // columns][n % columns].set_visible(False)
        fig.suptitle(f"Mean {_outcome_label(outcome)} per point against each factor")
        written += _save(fig, folder, f"scatter_{_safe(outcome)}", svg)
    return written


def _sensitivity_plots(folder: Path, indices: dict[str, Any], svg: bool) -> list[str]:
    written = []
    method = indices["method"]
    for outcome, body in indices["outcomes"].items():
        if "error" in body:
            continue
        factors = body["factors"]
        y = np.arange(len(factors))
        fig, ax = _new_figure(6.4, max(2.8, 0.5 * len(factors) + 1.6))
        if method == "sobol":
            bars = (("S1", "first order (S1)"), ("ST", "total (ST)"))
            height = 0.38
            for j, (key, name) in enumerate(bars):
                values = np.array([np.nan if v is None else v for v in body[key]], dtype=float)
                conf = np.array([0.0 if v is None else v for v in body[f"{key}_conf"]], dtype=float)
                ax.barh(
                    y + (j - 0.5) * height,
                    values,
                    height,
                    xerr=conf,
                    color=PALETTE[j],
                    label=name,
                    capsize=3,
                )
            ax.set_xlabel(f"Sobol' index of mean {_outcome_label(outcome)} (95% bootstrap CI)")
        else:
            values = np.array(body["mu_star"], dtype=float)
            conf = np.array(body["mu_star_conf"], dtype=float)
            ax.barh(
                y - 0.2,
                values,
                0.38,
                xerr=conf,
                color=PALETTE[0],
                label="μ* (mean |effect|)",
                capsize=3,
            )
            ax.barh(
                y + 0.2,
                np.array(body["sigma"], dtype=float),
                0.38,
                color=PALETTE[1],
                label="σ (interactions, non-linearity)",
            )
            what = f"mean {_outcome_label(outcome)}"
            ax.set_xlabel(f"Morris elementary effect on {what} (over the factor's range)")
        ax.set_yticks(y, factors)
        ax.invert_yaxis()
        ax.set_ylabel("factor")
        ax.axvline(0, color="0.5", linewidth=0.8)
        fig.legend(loc="outside lower center", ncols=2, frameon=False)
        ax.set_title(f"Sensitivity of {_outcome_label(outcome)}")
        written += _save(fig, folder, f"sensitivity_{_safe(outcome)}", svg)
    return written


# --------------------------------------------------------------------------------------------
# summary files


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
        "with status `ok` count.",
        "",
        "## Factors",
        "",
        "| factor | key path | values |",
        "|---|---|---|",
    ]
    for f in manifest["factors"]:
        if f.get("values") is not None:
            values = ", ".join(_fmt(v) for v in f["values"])
        elif f.get("low") is not None:
            values = f"{f['low']} to {f['high']} ({f.get('distribution', 'uniform')})"
        else:
            values = "from the design table"
        lines.append(f"| {f['name']} | `{f['path']}` | {values} |")
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
            cells.append(_fmt(row0[label]) if row0 is not None else "")
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
        lines.append(_row(cells))
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
                lines.append(_row([name, *(_num(body[key][i]) for key in keys)]))
    if manifest.get("failed"):
        lines += ["", "## Failed runs", ""]
        for failure in manifest.get("failures", [])[:20]:
            where = f"point {failure['point']}, replication {failure['replication']}"
            lines.append(f"- {where}: {failure['error']}")
    if plots:
        lines += ["", "## Plots", ""]
        lines += [f"- [{p}]({p})" for p in plots if p.endswith(".png")]
    return "\n".join(lines) + "\n"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"
