"""Figures of a sweep: outcomes against factors, heatmaps of a two-factor grid, sensitivity bars.

- one factor: each outcome's mean as a line with its 95% band, and ``P(cascade size ≥ k)``
  with Wilson bands;
- a full two-factor grid: heatmaps of ``P(cascade size ≥ k)`` and of each outcome's mean;
- any other design: each outcome's per-point mean against each factor (scatter);
- Sobol' or Morris designs also get a bar chart of each outcome's indices.

Numbers come from :mod:`treatysim.analysis.point_summary`; figures are drawn and saved in the
one style of :mod:`treatysim.plots.style`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from treatysim.analysis.point_summary import mean_table, probability_table
from treatysim.plots import style
from treatysim.plots.style import PALETTE

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def sweep_plots(
    out: Path,
    factors: Sequence[str],
    outcomes: Sequence[str],
    thresholds: Sequence[int],
    design: pd.DataFrame,
    summary: pd.DataFrame,
    indices: dict[str, Any] | None = None,
    *,
    svg: bool = False,
) -> list[Path]:
    """Draw every figure of a sweep report into the folder ``out``; return the files written.

    Args:
        out: The plots folder (created when missing).
        factors: Factor names, in the sweep's order.
        outcomes: Outcomes summarised.
        thresholds: Cascade sizes k of ``P(cascade size ≥ k)``.
        design: design.parquet (``point`` and the factor columns).
        summary: :func:`treatysim.analysis.point_summary.point_summary`'s table.
        indices: sensitivity.json's body, for a bar chart per outcome (None: no chart).
        svg: Also write each figure as SVG.
    """
    labels, outcomes, thresholds = list(factors), list(outcomes), list(thresholds)
    written: list[Path] = []
    if len(labels) == 1:
        written += _line_plots(out, labels[0], design, summary, outcomes, thresholds, svg)
    elif len(labels) == 2 and _is_full_grid(design, labels):
        written += _heatmaps(out, labels, design, summary, outcomes, thresholds, svg)
    else:
        written += _scatter_plots(out, labels, design, summary, outcomes, svg)
    if indices is not None:
        written += _sensitivity_plots(out, indices, svg)
    return written


def _figure(width: float = 6.4, height: float = 4.2) -> tuple[Figure, Axes]:
    fig = style.figure(width, height)
    return fig, fig.add_subplot()


def _factor_values(design: pd.DataFrame, label: str) -> list[Any]:
    return list(design[label])


def level_label(value: Any) -> str:
    """A factor value as a label: ISO dates, floats to three significant digits."""
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


def _outcome_label(name: str) -> str:
    return name.replace("__", " · ").replace("_", " ")


def _is_full_grid(design: pd.DataFrame, labels: list[str]) -> bool:
    sizes = [design[label].nunique() for label in labels]
    return math.prod(sizes) == len(design) and not design.duplicated(labels).any()


def _line_plots(
    out: Path,
    label: str,
    design: pd.DataFrame,
    summary: pd.DataFrame,
    outcomes: list[str],
    thresholds: list[int],
    svg: bool,
) -> list[Path]:
    x_raw = _factor_values(design, label)
    x, numeric = _numeric_axis(x_raw)
    # points in the order of the factor's values (dates by day; text in design order)
    order = np.array(sorted(range(len(x_raw)), key=lambda i: _sort_key(x_raw[i])))
    xs = [x[i] for i in order] if numeric else list(range(len(x_raw)))
    written = []
    for j, outcome in enumerate(outcomes):
        rows = mean_table(summary, outcome)
        fig, ax = _figure()
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
        ax.set_title(f"{_outcome_label(outcome)} against {label}\n{_runs_per_cell(rows, 'point')}")
        if not numeric:
            ax.set_xticks(list(range(len(xs))), [level_label(x_raw[i]) for i in order])
        ax.legend(frameon=False)
        _date_ticks(ax, xs)
        written += style.save(fig, out / f"sweep_{_safe(outcome)}", svg=svg)
    if thresholds:
        fig, ax = _figure()
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
        ax.set_title(f"Cascade probability against {label}\n{_runs_per_cell(rows, 'point')}")
        if not numeric:
            ax.set_xticks(list(range(len(xs))), [level_label(x_raw[i]) for i in order])
        ax.legend(frameon=False)
        _date_ticks(ax, xs)
        written += style.save(fig, out / "sweep_probability", svg=svg)
    return written


def _date_ticks(ax: Axes, xs: list[Any]) -> None:
    if len(xs) and isinstance(xs[0], dt.date):
        style.date_axis(ax, max_ticks=6)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def _heatmaps(
    out: Path,
    labels: list[str],
    design: pd.DataFrame,
    summary: pd.DataFrame,
    outcomes: list[str],
    thresholds: list[int],
    svg: bool,
) -> list[Path]:
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

    panels: list[tuple[str, str, pd.DataFrame, tuple[float, float] | None]] = []
    for k in thresholds:
        rows = probability_table(summary, k)
        panels.append((f"heatmap_p_cascade_ge_{k}", f"P(cascade size ≥ {k})", rows, (0.0, 1.0)))
    for outcome in outcomes:
        rows = mean_table(summary, outcome)
        name = f"heatmap_mean_{_safe(outcome)}"
        panels.append((name, f"mean {_outcome_label(outcome)}", rows, None))
    written = []
    for name, title, rows, limits in panels:
        values = matrix(rows["estimate"].to_numpy(dtype=float))
        low = matrix(rows["ci_low"].to_numpy(dtype=float))
        high = matrix(rows["ci_high"].to_numpy(dtype=float))
        # the scale spans the intervals and starts at 0 for a non-negative outcome, so colours
        # do not stretch differences that lie inside the intervals
        vmin, vmax = limits if limits else _mean_limits(values, low, high)
        fig, ax = _figure(max(5.0, 0.9 * len(x_levels) + 2.5), max(3.5, 0.55 * len(y_levels) + 2.2))
        image = ax.imshow(
            values, origin="lower", aspect="auto", cmap=style.CMAP, vmin=vmin, vmax=vmax
        )
        ax.set_xticks(
            range(len(x_levels)), [level_label(v) for v in x_levels], rotation=30, ha="right"
        )
        ax.set_yticks(range(len(y_levels)), [level_label(v) for v in y_levels])
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.set_title(f"{title}\n{_runs_per_cell(rows)}; text: estimate [95% CI]", fontsize=10)
        if values.size <= 200:
            middle = (vmin + vmax) / 2
            with_ci = values.size <= 80
            for (i, j), v in np.ndenumerate(values):
                if np.isnan(v):
                    continue
                text = f"{v:.2f}"
                if with_ci and not np.isnan(low[i, j]):
                    text += f"\n[{low[i, j]:.2f}, {high[i, j]:.2f}]"
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=6.5 if with_ci else 7,
                    color="black" if v > middle else "white",
                )
        fig.colorbar(image, ax=ax, label=title)
        written += style.save(fig, out / name, svg=svg)
    return written


def _mean_limits(
    values: NDArray[np.float64], low: NDArray[np.float64], high: NDArray[np.float64]
) -> tuple[float, float]:
    """Colour limits for means: the range of the intervals, from 0 for a non-negative outcome."""
    bottom = float(np.nanmin(np.fmin(low, values)))
    top = float(np.nanmax(np.fmax(high, values)))
    if bottom >= 0 or float(np.nanmin(values)) >= 0:
        bottom = 0.0
    return (bottom, top) if top > bottom else (bottom, bottom + 1.0)


def _runs_per_cell(rows: pd.DataFrame, unit: str = "cell") -> str:
    """``n = 50 runs per cell`` (or a range when points differ), failed runs mentioned."""
    n = rows["n"].to_numpy(dtype=int)
    failed = int(rows["n_failed"].sum())
    count = f"{n.min()}" if n.min() == n.max() else f"{n.min()}–{n.max()}"
    return f"n = {count} runs per {unit}" + (f", {failed} failed in all" if failed else "")


def _sort_key(value: Any) -> Any:
    if isinstance(value, dt.date):
        return (0, value.toordinal(), "")
    if isinstance(value, int | float | np.integer | np.floating):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _scatter_plots(
    out: Path,
    labels: list[str],
    design: pd.DataFrame,
    summary: pd.DataFrame,
    outcomes: list[str],
    svg: bool,
) -> list[Path]:
    written = []
    for outcome in outcomes:
        rows = mean_table(summary, outcome)
        columns = min(3, len(labels))
        lines = math.ceil(len(labels) / columns)
        fig = style.figure(3.4 * columns, 3.0 * lines)
        axes = fig.subplots(lines, columns, squeeze=False)
        for n, label in enumerate(labels):
            ax = axes[n // columns][n % columns]
            x, numeric = _numeric_axis(_factor_values(design, label))
            if not numeric:
                x = [str(v) for v in x]
            ax.scatter(x, rows["estimate"].to_numpy(dtype=float), s=10, color=PALETTE[0], alpha=0.7)
            ax.set_xlabel(label)
            ax.set_ylabel(f"mean {_outcome_label(outcome)}")
            _date_ticks(ax, list(x))
        for n in range(len(labels), lines * columns):
            axes[n // columns][n % columns].set_visible(False)
        fig.suptitle(
            f"Mean {_outcome_label(outcome)} per point against each factor "
            f"({_runs_per_cell(rows, 'point')})"
        )
        written += style.save(fig, out / f"scatter_{_safe(outcome)}", svg=svg)
    return written


def _sensitivity_plots(out: Path, indices: dict[str, Any], svg: bool) -> list[Path]:
    written = []
    method = indices["method"]
    for outcome, body in indices["outcomes"].items():
        if "error" in body:
            continue
        factors = body["factors"]
        y = np.arange(len(factors))
        fig, ax = _figure(6.4, max(2.8, 0.5 * len(factors) + 1.6))
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
        title = f"Sensitivity of {_outcome_label(outcome)}"
        if body.get("warnings"):
            doubtful = len(body["warnings"])
            title += f"\ncaution: {doubtful} unreliable {'index' if doubtful == 1 else 'indices'}"
            title += " (intervals too wide; see summary.md)"
        ax.set_title(title, fontsize=10)
        written += style.save(fig, out / f"sensitivity_{_safe(outcome)}", svg=svg)
    return written
