"""Figures of exploratory modelling: PRIM's trade-off and box, feature scores, lever robustness.

Each function takes numbers already computed by :mod:`treatysim.analysis.discovery`,
:mod:`treatysim.analysis.scoring`, :mod:`treatysim.analysis.robustness` or
:mod:`treatysim.analysis.precision`, draws on a ``matplotlib.figure.Figure`` made without pyplot
(rendered by the Agg canvas, so no display and no global figure registry is touched) and returns
the files it wrote. Colours follow Okabe & Ito (2008) and the sequential scale is ``cividis``,
both readable by colour-blind readers. The figures follow EMA Workbench's (Kwakkel 2017) for
PRIM: the peeling trajectory as coverage against density, coloured by the number of restricted
factors (Bryant & Lempert 2010, fig. 4), and the box as each restricted factor's range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from treatysim.plots import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 150
BLUE, ORANGE, VERMILLION, GREY = "#0072B2", "#E69F00", "#D55E00", "#999999"


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _save(fig: Figure, base: Path, svg: bool) -> list[Path]:
    """Write ``base.png`` (and ``base.svg``) atomically; return the paths."""
    return style.save(fig, base, svg=svg)


def prim_tradeoff_plot(result: Mapping[str, Any], base: Path, *, svg: bool = False) -> list[Path]:
    """PRIM's peeling trajectory: coverage against density, coloured by restricted factors.

    Args:
        result: The dict :func:`treatysim.analysis.discovery.prim_box` returns.
        base: Output path without suffix (``.png`` and, with ``svg``, ``.svg`` are added).
        svg: Also write an SVG.

    Returns:
        The files written.
    """
    from matplotlib import colormaps
    from matplotlib.colors import BoundaryNorm

    steps = result["trajectory"]
    coverage = np.array([s["coverage"] for s in steps])
    density = np.array([s["density"] for s in steps])
    restricted = np.array([s["restricted"] for s in steps])
    top = max(int(restricted.max()), 1)
    norm = BoundaryNorm(np.arange(-0.5, top + 1.5), colormaps["cividis"].N)
    fig = _figure(6.0, 4.6)
    ax = fig.add_subplot()
    ax.plot(coverage, density, color=GREY, linewidth=0.8, zorder=1)
    points = ax.scatter(
        coverage,
        density,
        c=restricted,
        cmap="cividis",
        norm=norm,
        s=22,
        edgecolors="none",
        zorder=2,
    )
    chosen = steps[result["chosen_step"]]
    ax.scatter(
        [chosen["coverage"]],
        [chosen["density"]],
        s=140,
        facecolors="none",
        edgecolors=VERMILLION,
        linewidths=2,
        zorder=3,
        label=f"chosen box (step {result['chosen_step']})",
    )
    min_coverage = result["parameters"]["min_coverage"]
    ax.axvline(min_coverage, color=VERMILLION, linestyle=":", linewidth=1)
    ax.set_xlabel("coverage (share of all cases of interest inside the box)")
    ax.set_ylabel("density (share of the box's cases that are of interest)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", frameon=False)
    bar = fig.colorbar(points, ax=ax, ticks=np.arange(0, top + 1))
    bar.set_label("restricted factors")
    ax.set_title(
        f"PRIM peeling trajectory ({result['cases_of_interest']} of {result['n']} cases of "
        "interest)"
    )
    return _save(fig, base, svg)


def prim_box_plot(result: Mapping[str, Any], base: Path, *, svg: bool = False) -> list[Path]:
    """The chosen PRIM box: each restricted factor's limits within its sampled range.

    Numeric factors are drawn on a 0–1 scale of their range, with the limits written at the bar's
    ends; categorical factors show the kept values as text. Each row is labelled with its
    quasi-p value (Bryant & Lempert 2010).

    Args:
        result: The dict :func:`treatysim.analysis.discovery.prim_box` returns.
        base: Output path without suffix.
        svg: Also write an SVG.

    Returns:
        The files written.
    """
    box = result["box"]
    restrictions = box["restrictions"]
    fig = _figure(6.4, 1.4 + 0.55 * max(len(restrictions), 1))
    ax = fig.add_subplot()
    for row, r in enumerate(restrictions):
        y = len(restrictions) - 1 - row
        ax.plot([0, 1], [y, y], color=GREY, linewidth=1, zorder=1)
        colour = BLUE if r["significant"] else ORANGE
        if r["kind"] == "numeric":
            span = (r["range_max"] - r["range_min"]) or 1.0
            lo = (r["min"] - r["range_min"]) / span
            hi = (r["max"] - r["range_min"]) / span
            ax.plot([lo, hi], [y, y], color=colour, linewidth=7, solid_capstyle="butt", zorder=2)
            ax.text(lo, y + 0.22, f"{r['min']:.4g}", ha="left", va="bottom", fontsize=8)
            ax.text(hi, y + 0.22, f"{r['max']:.4g}", ha="right", va="bottom", fontsize=8)
            for end, value, align in ((0, r["range_min"], "left"), (1, r["range_max"], "right")):
                ax.text(end, y - 0.2, f"{value:.3g}", ha=align, va="top", fontsize=7, color=GREY)
        else:
            kept = ", ".join(r["values"])
            ax.text(0.5, y, f"{{{kept}}}", ha="center", va="center", fontsize=9, color=colour)
        qp = "n/a" if r["quasi_p"] is None else f"{r['quasi_p']:.1e}"
        ax.text(1.03, y, f"qp {qp}", va="center", fontsize=8)
    ax.set_yticks(range(len(restrictions)), [r["factor"] for r in reversed(restrictions)])
    ax.set_xlim(-0.02, 1.22)
    ax.set_ylim(-0.7, len(restrictions) - 0.3)
    ax.set_xticks([0, 0.5, 1], ["range min", "mid", "range max"])
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(
        f"PRIM box: coverage {box['coverage']:.2f}, density {box['density']:.2f}, "
        f"mass {box['mass']:.2f}\n(blue: significant; orange: quasi-p > "
        f"{result['parameters']['significance']:g})",
        fontsize=10,
    )
    return _save(fig, base, svg)


def feature_scores_plot(
    scores: pd.DataFrame, base: Path, *, outcome: str = "outcome", svg: bool = False
) -> list[Path]:
    """Feature scores as horizontal bars, most influential factor on top.

    Args:
        scores: The table :func:`treatysim.analysis.scoring.feature_scores` returns.
        base: Output path without suffix.
        outcome: The outcome's name, for the title.
        svg: Also write an SVG.

    Returns:
        The files written.
    """
    ordered = scores.sort_values("rank", ascending=False)
    fig = _figure(5.6, 1.2 + 0.35 * max(len(ordered), 1))
    ax = fig.add_subplot()
    ax.barh(ordered["factor"].astype(str), ordered["score"], color=BLUE)
    ax.set_xlabel("score")
    ax.grid(axis="x", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"Which factors matter for {outcome}")
    return _save(fig, base, svg)


def _setting_label(row: pd.Series, levers: Sequence[str]) -> str:
    """``name=value, ...`` for one lever setting, numbers in their shortest form."""
    parts = []
    for name in levers:
        value = row[name]
        parts.append(f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}")
    return ", ".join(parts)


def robustness_plot(
    table: pd.DataFrame, levers: Sequence[str], base: Path, *, svg: bool = False
) -> list[Path]:
    """Each lever setting's maximum regret (bars) and satisficing share (dots), side by side.

    Args:
        table: The table :func:`treatysim.analysis.robustness.lever_robustness` returns.
        levers: Its lever columns (the settings' labels are built from them).
        base: Output path without suffix.
        svg: Also write an SVG.

    Returns:
        The files written.
    """
    labels = [_setting_label(row, levers) for _, row in table.iterrows()]
    positions = np.arange(len(table))
    fig = _figure(8.0, 2.0 + 0.4 * max(len(table), 1))
    regret_ax, share_ax = fig.subplots(1, 2, sharey=True)
    regret_ax.barh(positions, table["max_regret"], color=VERMILLION, label="maximum regret")
    regret_ax.barh(positions, table["mean_regret"], color=ORANGE, height=0.4, label="mean regret")
    for y, value in zip(positions, table["max_regret"], strict=True):
        regret_ax.text(value, y, f" {value:.2f}", va="center", fontsize=8)
    regret_ax.set_yticks(positions, labels)
    regret_ax.invert_yaxis()
    regret_ax.set_xlabel("regret (against the best setting\nin the same state of the world)")
    share_ax.scatter(table["satisficing"], positions, color=BLUE, s=40, zorder=2)
    for y, share in zip(positions, table["satisficing"], strict=True):
        share_ax.plot([0, share], [y, y], color=BLUE, linewidth=1.5, zorder=1)
        share_ax.text(share, y - 0.25, f"{share:.0%}", ha="center", fontsize=8)
    share_ax.set_xlim(0, 1.02)
    share_ax.set_xlabel("satisficing share (of states of the\nworld with an acceptable outcome)")
    for ax in (regret_ax, share_ax):
        ax.grid(axis="x", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    fig.legend(loc="outside lower center", ncols=2, frameon=False, fontsize=8)
    fig.suptitle("Lever settings across states of the world (lower regret, higher share: robust)")
    return _save(fig, base, svg)


def precision_plot(
    path: pd.DataFrame, base: Path, *, target: float | None = None, svg: bool = False
) -> list[Path]:
    """Each probability's estimate and Wilson interval, and its half-width, against replications.

    Left: the estimates with their 95% intervals after each block. Right: the intervals'
    half-widths with the ``--precision`` target, so the block where the widest one fell below
    the target can be read off.

    Args:
        path: The table :func:`treatysim.analysis.precision.precision_path` returns.
        base: Output path without suffix.
        target: The ``--precision`` half-width, drawn as a line on the right.
        svg: Also write an SVG.

    Returns:
        The files written.
    """
    palette = [BLUE, ORANGE, VERMILLION, "#009E73", "#CC79A7", "#56B4E9", "#000000"]
    fig = _figure(10.0, 4.4)
    est_ax, width_ax = fig.subplots(1, 2)
    for i, (name, rows) in enumerate(path.groupby("name", sort=False)):
        colour = palette[i % len(palette)]
        est_ax.fill_between(rows["n"], rows["lower"], rows["upper"], color=colour, alpha=0.15)
        est_ax.plot(rows["n"], rows["p"], color=colour, marker="o", markersize=3, label=str(name))
        width_ax.plot(rows["n"], rows["half_width"], color=colour, marker="o", markersize=3)
    if target is not None:
        width_ax.axhline(target, color=GREY, linestyle="--", linewidth=1.2)
        width_ax.text(
            width_ax.get_xlim()[1], target, f" target {target:g}", va="bottom", ha="right",
            fontsize=8, color="#555555",
        )  # fmt: skip
    est_ax.set_ylabel("probability (95% Wilson interval)")
    est_ax.set_ylim(0, 1)
    width_ax.set_ylabel("half-width of the interval")
    width_ax.set_ylim(bottom=0)
    for ax in (est_ax, width_ax):
        ax.set_xlabel("replications")
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    fig.legend(loc="outside right center", frameon=False, fontsize=8)
    fig.suptitle("Headline estimates as replications were added (widest intervals shown)")
    return _save(fig, base, svg)


def envelopes_plot(
    dates: np.ndarray,
    curves: np.ndarray,
    bands: Mapping[str, Mapping[str, np.ndarray]],
    base: Path,
    *,
    title: str,
    svg: bool = False,
) -> list[Path]:
    """Cascade curves over time: each point's mean (thin lines) and each group's envelope.

    As EMA Workbench's ``lines`` and ``envelopes`` plots (Kwakkel 2017): a band from the lowest
    to the highest point curve of each group (lever setting), with the group's median curve.

    Args:
        dates: The date grid (``datetime64[D]``).
        curves: Points × dates of mean cascade sizes.
        bands: From :func:`treatysim.analysis.envelopes.envelopes`, one entry per group.
        base: Output path without suffix.
        title: The figure's title.
        svg: Also write an SVG.

    Returns:
        The files written.
    """
    palette = [BLUE, VERMILLION, "#009E73", ORANGE, "#CC79A7", "#56B4E9", "#000000"]
    fig = _figure(7.2, 4.4)
    ax = fig.add_subplot()
    x = dates.astype("datetime64[D]")
    if len(bands) == 1:
        for row in curves:
            ax.plot(x, row, color=GREY, linewidth=0.5, alpha=0.5)
    for i, (label, band) in enumerate(bands.items()):
        colour = palette[i % len(palette)]
        ax.fill_between(x, band["low"], band["high"], color=colour, alpha=0.18, linewidth=0)
        ax.plot(x, band["median"], color=colour, linewidth=2, label=f"{label} (median, range)")
    ax.set_xlabel("date")
    ax.set_ylabel("mean cascade size (states announced or suspended)")
    ax.grid(alpha=0.3)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    ax.set_title(title, fontsize=10)
    style.date_axis(ax)
    return _save(fig, base, svg)


def cart_leaves_plot(result: Mapping[str, Any], base: Path, *, svg: bool = False) -> list[Path]:
    """CART's leaves as rules: each leaf's density (bar) and coverage (dot), densest on top.

    Args:
        result: The dict :func:`treatysim.analysis.discovery.cart_rules` returns.
        base: Output path without suffix.
        svg: Also write an SVG.

    Returns:
        The files written.
    """
    import textwrap

    leaves = [leaf for leaf in result["leaves"] if leaf["n"]]
    labels = ["\n".join(textwrap.wrap(leaf["rule"], 48)) for leaf in leaves]
    positions = np.arange(len(leaves))
    fig = _figure(8.4, 1.4 + 0.62 * max(len(leaves), 1))
    ax = fig.add_subplot()
    ax.barh(positions, [leaf["density"] for leaf in leaves], color=BLUE, label="density")
    ax.scatter(
        [leaf["coverage"] for leaf in leaves],
        positions,
        color=VERMILLION,
        zorder=3,
        label="coverage",
    )
    ax.set_yticks(positions, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.02)
    ax.set_xlabel("share")
    ax.grid(axis="x", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    ax.set_title(
        f"CART leaves ({result['cases_of_interest']} of {result['n']} cases of interest)",
        fontsize=10,
    )
    return _save(fig, base, svg)


def scores_beside_indices_plot(
    scores: pd.DataFrame,
    indices: Mapping[str, Any] | None,
    base: Path,
    *,
    outcome: str,
    svg: bool = False,
) -> list[Path]:
    """Feature scores, with the Sobol' total (ST) or Morris μ* indices beside them if any.

    Args:
        scores: The table :func:`treatysim.analysis.scoring.feature_scores` returns.
        indices: One outcome's entry of ``sensitivity.json`` (with ``factors`` and ``ST`` or
            ``mu_star``), or None.
        base: Output path without suffix.
        outcome: The outcome's name, for the title.
        svg: Also write an SVG.

    Returns:
        The files written.
    """
    ordered = scores.sort_values("rank")
    names = ordered["factor"].astype(str).tolist()
    positions = np.arange(len(names))
    usable = indices is not None and "error" not in indices
    fig = _figure(8.0 if usable else 5.6, 1.4 + 0.4 * max(len(names), 1))
    axes = fig.subplots(1, 2 if usable else 1, sharey=True, squeeze=False)[0]
    axes[0].barh(positions, ordered["score"], color=BLUE)
    axes[0].set_xlabel("feature score (extra trees)")
    axes[0].set_yticks(positions, names)
    axes[0].invert_yaxis()
    if usable:
        assert indices is not None
        key, label = (
            ("ST", "Sobol' total index ST") if "ST" in indices else ("mu_star", "Morris μ*")
        )
        lookup = dict(zip(indices["factors"], indices[key], strict=True))
        axes[1].barh(positions, [lookup.get(n, np.nan) or 0.0 for n in names], color=ORANGE)
        axes[1].set_xlabel(label)
    for ax in axes:
        ax.grid(axis="x", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(f"Which factors matter for {outcome}", fontsize=11)
    return _save(fig, base, svg)
