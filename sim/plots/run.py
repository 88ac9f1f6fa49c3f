"""Figures of a run: cascade curves, per-state timelines, cascade sizes, comparisons.

Every function draws in the one style of :mod:`treatysim.plots.style` (Okabe–Ito colours, one
resolution, figures without pyplot, atomic files), takes numbers already computed by
:mod:`treatysim.analysis.stats` and returns the files it wrote. The map is in
:mod:`treatysim.plots.map`.

Counts of states are integers, so curves of counts are drawn as steps (a count holds from its
date until the next step). Scenario events (``(date, label)`` pairs) are marked as dotted
vertical lines, so a reader sees when the ceasefire or the exercise happened. When the curves
stop changing well before the calendar ends, the x axis stops soon after the last change and a
note says so (:func:`treatysim.plots.style.trim_flat_tail`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from treatysim.plots import style
from treatysim.plots.style import OKABE_ITO, STAGE_COLOURS

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: A scenario event as drawn: its date and its label.
EventMark = tuple[dt.date | str, str]


def _bands(
    ax: Axes,
    x: NDArray[Any],
    bands: Mapping[str, Sequence[float]],
    colour: str,
    label: str,
    single: bool = False,
) -> None:
    if single:  # one run: its count, no bands to draw
        ax.step(x, bands["q50"], where="post", color=colour, lw=2, label=label)
        return
    ax.fill_between(x, bands["q05"], bands["q95"], color=colour, alpha=0.15, lw=0, step="post")
    ax.fill_between(x, bands["q25"], bands["q75"], color=colour, alpha=0.35, lw=0, step="post")
    ax.step(x, bands["q50"], where="post", color=colour, lw=2, label=f"{label} (median)")


def cascade_plot(
    dates: Sequence[dt.date | str],
    curves: Mapping[str, Mapping[str, Sequence[float]]],
    base: Path,
    *,
    observed: Mapping[str, Sequence[int]] | None = None,
    events: Sequence[EventMark] = (),
    noun: str = "states",
    labels: Mapping[str, str] | None = None,
    note: str = "",
    single: bool = False,
    title: str = "",
    svg: bool = False,
) -> list[Path]:
    """States that announced, notified and withdrawn over time (median, 50% and 90% bands).

    One panel per stage, sharing both axes, so the bands do not hide each other. Counts are
    drawn as steps; scenario events as dotted lines, labelled in the top panel.

    Args:
        dates: Step dates.
        curves: Per stage, quantile bands ``q05 … q95`` on the step dates.
        base: Output path without suffix.
        observed: Per stage, the observed cumulative counts on the step dates (black dashes).
        events: The scenario's events inside the calendar, as ``(date, label)``.
        noun: What is counted (``states``, or ``agents`` for a synthetic population).
        labels: Per stage, the scenario's word for it (``acted`` for a riot); default the
            stage's name.
        note: A further line of the caption (e.g. why stages are drawn as one).
        single: One run: its counts, said so, with no median or bands in the words.
        title: Figure title.
        svg: Also write SVG.
    """
    words = {**{s: s for s in curves}, **(labels or {})}
    colours = {"announced": "orange", "notified": "blue", "withdrawn": "vermillion"}
    stages = [s for s, bands in curves.items() if bands] or list(curves)[:1]
    fig = style.figure(9, 1.2 + 2.3 * len(stages))
    axes = np.atleast_1d(fig.subplots(len(stages), 1, sharex=True, sharey=True))
    x = style.as_dates(dates)
    shown = [(d, label) for d, label in events if x[0] <= np.datetime64(str(d), "D") <= x[-1]]
    for n, (ax, stage) in enumerate(zip(axes, stages, strict=True)):
        style.mark_events(ax, shown, labels=n == 0)
        if curves.get(stage):
            colour = OKABE_ITO[colours.get(stage, "black")]
            _bands(ax, x, curves[stage], colour, words[stage], single)
        if observed and any(observed.get(stage, [])):
            ax.step(x, observed[stage], where="post", color=OKABE_ITO["black"], lw=1.3, ls="--",
                    label="observed")  # fmt: skip
        ax.set_ylabel(f"{noun} {words[stage]}", fontsize=9)
        ax.set_ylim(bottom=0)
        style.integer_axis(ax)
        ax.grid(alpha=style.GRID_ALPHA)
        ax.legend(loc="lower right", fontsize=8)
    axes[-1].set_xlabel("date")
    axes[-1].set_xlim(x[0], x[-1])
    drawn = [b[q] for b in curves.values() if b for q in ("q05", "q25", "q50", "q75", "q95")]
    style.trim_flat_tail(axes, x, [*drawn, *(observed or {}).values()])
    style.date_axis(axes[-1])
    fig.suptitle(
        title
        + (
            f"\ncumulative count of {noun} in the one run"
            if single
            else f"\ncumulative count of {noun}; line: median of runs; bands: 50% and 90% of runs"
        )
        + ("; dotted: scenario events" if shown else "")
        + (f"\n{note}" if note else ""),
        fontsize=10,
    )
    return style.save(fig, base, svg=svg)


def compare_plot(
    runs: Sequence[
        tuple[str, Sequence[dt.date | str], Mapping[str, Mapping[str, Sequence[float]]]]
    ],
    base: Path,
    *,
    events: Sequence[Sequence[EventMark]] = (),
    noun: str = "states",
    labels: Mapping[str, str] | None = None,
    title: str = "",
    svg: bool = False,
) -> list[Path]:
    """Two (or more) runs' cascade curves, one panel per stage: median and 90% band each.

    Each run has its own colour and line style (solid, dashed, dash-dot, dotted) and its band
    its own fill (solid tint, hatching, ...), so a median never hides under another run's and
    overlapping bands stay readable. Events that all runs share are grey; an event that differs
    (a ceasefire on another date) is drawn in its run's colour.

    Args:
        runs: ``(label, step dates, curves)`` per run, curves as in :func:`cascade_plot`.
        base: Output path without suffix.
        events: Per run (in the order of ``runs``), its scenario events as ``(date, label)``.
        noun: What is counted (``states``, or ``agents`` for synthetic populations).
        labels: Per stage, the scenarios' word for it (``acted`` for a riot); default the
            stage's name.
        title: Figure title.
        svg: Also write SVG.
    """
    stages = [s for s in ("announced", "notified", "withdrawn") if any(s in c for _, _, c in runs)]
    colours = [OKABE_ITO[c] for c in ("blue", "vermillion", "green", "purple")]
    lines = ("-", "--", "-.", ":")
    hatches = (None, "////", "\\\\", "..")
    marks = [list(e) for e in events]
    shared = set.intersection(*(set(map(_event_key, m)) for m in marks)) if marks else set()
    fig = style.figure(12, 4.8)
    axes = np.atleast_1d(fig.subplots(1, len(stages), sharey=True))
    for n, (ax, stage) in enumerate(zip(axes, stages, strict=True)):
        style.mark_events(ax, [m for m in (marks[0] if marks else []) if _event_key(m) in shared])
        for i, mark in enumerate(marks):
            own = [m for m in mark if _event_key(m) not in shared]
            label_of = runs[i][0].split(":")[0]
            own = [(d, f"{label_of}: {label}") for d, label in own]
            style.mark_events(ax, own, colour=colours[i % len(colours)], labels=n == 0)
        for i, (label, dates, curves) in enumerate(runs):
            bands = curves.get(stage)
            if not bands:
                continue
            colour, hatch = colours[i % len(colours)], hatches[i % len(hatches)]
            x = style.as_dates(dates)
            ax.fill_between(
                x,
                bands["q05"],
                bands["q95"],
                step="post",
                facecolor=colour if hatch is None else "none",
                edgecolor=colour,
                alpha=0.2 if hatch is None else 0.5,
                hatch=hatch,
                lw=0,
                label=f"{label}: 90% of runs",
            )
            ax.step(
                x,
                bands["q50"],
                where="post",
                color=colour,
                ls=lines[i % len(lines)],
                lw=2,
                label=f"{label}: median",
            )
        ax.set_title(f"{noun} {(labels or {}).get(stage, stage)}", fontsize=10)
        ax.set_xlabel("date")
        ax.set_ylim(bottom=0)
        style.integer_axis(ax)
        ax.grid(alpha=style.GRID_ALPHA)
        style.date_axis(ax)
    common = style.as_dates(runs[0][1])
    if all(len(dates) == len(common) for _, dates, _ in runs):
        drawn = [
            b[q]
            for _, _, curves in runs
            for b in curves.values()
            if b
            for q in ("q05", "q50", "q95")
        ]
        last_event = max((np.datetime64(str(d), "D") for m in marks for d, _ in m), default=None)
        if style.trim_flat_tail(axes, common, drawn) and last_event is not None:
            # a differing event (the later ceasefire) stays in view
            right = max(axes[0].get_xlim()[1], _day_number(last_event) + 30)
            for ax in axes:
                ax.set_xlim(right=min(right, _day_number(common[-1])))
    axes[0].set_ylabel(f"{noun} (cumulative)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(runs), fontsize=8)
    fig.suptitle(title, fontsize=11)
    return style.save(fig, base, svg=svg)


def _day_number(day: np.datetime64) -> float:
    """A date as matplotlib's x coordinate (days since its epoch, 1970-01-01)."""
    import matplotlib.dates as mdates

    return float(mdates.date2num(day))


def _event_key(mark: EventMark) -> tuple[str, str]:
    return str(mark[0]), mark[1]


def timeline_plot(
    dates: Sequence[dt.date | str],
    rows: Sequence[tuple[str, NDArray[np.float64]]],
    stages: Sequence[str],
    base: Path,
    *,
    noun: str = "state",
    left_out: int = 0,
    labels: Mapping[str, str] | None = None,
    title: str = "",
    svg: bool = False,
) -> list[Path]:
    """Per state, a strip of stacked areas: P(in each stage) at each step date.

    Args:
        dates: Step dates.
        rows: ``(label, occupancy)`` per state, occupancy shaped (len(stages), steps).
        stages: Stage names of the occupancy rows.
        base: Output path without suffix.
        noun: One of what a row stands for (``state``, or ``agent``).
        left_out: Further rows that moved but are not drawn (said in the title).
        labels: Per stage, the scenario's word for it in the legend; default the stage's name.
        title: Figure title.
        svg: Also write SVG.
    """
    from matplotlib.cbook import pts_to_poststep
    from matplotlib.collections import PolyCollection
    from matplotlib.dates import date2num
    from matplotlib.patches import Patch

    n = max(len(rows), 1)
    fig = style.figure(10, 1.6 + 0.34 * n)
    ax = fig.subplots()
    x = style.as_dates(dates)
    # one axes, a strip per row (top row first): far cheaper to lay out than a subplot per row;
    # every band of every strip in one collection (the step outline fill_between(step="post")
    # would draw), not an artist per band
    height = 0.86
    xnum = date2num(x)
    xs = pts_to_poststep(xnum, xnum)[0]
    polygons: list[NDArray[np.float64]] = []
    colours: list[str] = []
    for r, (_, occ) in enumerate(rows):
        bottom = n - 1 - r + (1 - height) / 2
        lower = np.zeros(occ.shape[1])
        for j, stage in enumerate(stages):
            upper = lower + occ[j]
            if occ[j].any():
                low = pts_to_poststep(xnum, bottom + height * lower)[1]
                high = pts_to_poststep(xnum, bottom + height * upper)[1]
                polygons.append(np.column_stack([np.r_[xs, xs[::-1]], np.r_[high, low[::-1]]]))
                colours.append(STAGE_COLOURS.get(stage, "#999999"))
            lower = upper
        ax.axhspan(bottom, bottom + height, fill=False, ec="#444444", lw=0.6)
    if polygons:
        # below the strips' outlines (patches, zorder 1), as the bands drawn one by one were
        ax.add_collection(PolyCollection(polygons, facecolors=colours, linewidths=0, zorder=0.9))
        ax.xaxis_date()
    ax.set_ylim(0, n)
    ax.set_yticks([n - 1 - r + 0.5 for r in range(len(rows))], [label for label, _ in rows])
    ax.tick_params(axis="y", length=0, labelsize=8)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    if not rows:
        ax.text(0.5, 0.5, f"no {noun} left the party stage", ha="center", transform=ax.transAxes)
    ax.set_xlim(x[0], x[-1])
    style.trim_flat_tail([ax], x, [row for _, occ in rows for row in occ])
    style.date_axis(ax)
    ax.set_xlabel("date")
    used = [s for s in stages if any(occ[stages.index(s)].any() for _, occ in rows)] or list(stages)
    handles = [
        Patch(
            facecolor=STAGE_COLOURS.get(s, "#999999"),
            edgecolor="#666666",
            label=(labels or {}).get(s, s),
        )
        for s in used
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 8), fontsize=8)
    shown = f"; {len(rows)} of {len(rows) + left_out} that moved shown" if left_out else ""
    fig.suptitle(
        f"{title} — share of runs in each stage (label: P({noun} left the party stage){shown})",
        fontsize=10,
    )
    return style.save(fig, base, svg=svg)


#: Most sizes drawn as separate bars; past this, the distribution is one filled step outline.
BAR_LIMIT = 100


def cascade_size_plot(
    size: Mapping[str, Any],
    base: Path,
    *,
    observed: int | None = None,
    noun: str = "states",
    counted: str = "that announced or suspended",
    title: str = "",
    svg: bool = False,
) -> list[Path]:
    """Bar chart of the cascade-size distribution, with the mean (and CI) and the observed size.

    Args:
        size: :func:`treatysim.analysis.stats.size_summary` output.
        base: Output path without suffix.
        observed: The observed cascade size, marked when known.
        noun: What the size counts (``states``, or ``agents``).
        counted: Which of them count, in the scenario's words (``that acted``).
        title: Figure title.
        svg: Also write SVG.
    """
    fig = style.figure(8, 4.5)
    ax = fig.subplots()
    sizes = np.array([int(k) for k in size["distribution"]])
    counts = np.array(list(size["distribution"].values()), dtype=float)
    share = counts / max(size["n"], 1)
    mean = size["mean"]
    # one run, or runs that all reached one size (a deterministic scenario): one answer, no
    # distribution or interval to draw; a bar among 1,000 sizes is too thin to see, so a line
    single = mean["mean"] is not None and int((counts > 0).sum()) == 1
    if not single and sizes.size <= BAR_LIMIT:
        ax.bar(sizes, share, color=OKABE_ITO["sky"], edgecolor=OKABE_ITO["blue"], label="runs")
    elif not single:  # one filled step outline, not a bar per size (1,000 bars took 1.5 s to draw)
        edges = np.append(sizes - 0.5, sizes[-1] + 0.5)
        ax.stairs(
            share,
            edges,
            fill=True,
            facecolor=OKABE_ITO["sky"],
            edgecolor=OKABE_ITO["blue"],
            label="runs",
        )
    if single:
        only = int(sizes[counts > 0][0])
        runs = "the one run" if size["n"] == 1 else f"all {size['n']} runs"
        ax.axvline(only, color=OKABE_ITO["blue"], lw=3, label=f"{runs}: {only} {noun}")
    if mean["mean"] is not None and not single:
        if mean["lo"] is not None:
            ax.axvspan(
                mean["lo"],
                mean["hi"],
                color=OKABE_ITO["orange"],
                alpha=0.25,
                lw=0,
                label="95% CI of the mean",
            )
        ax.axvline(mean["mean"], color=OKABE_ITO["orange"], lw=2, label=f"mean {mean['mean']:.2f}")
    if observed is not None:
        ax.axvline(observed, color=OKABE_ITO["black"], lw=2, ls="--", label=f"observed {observed}")
    ax.set_xlabel(f"cascade size ({noun} {counted})")
    ax.set_ylabel("share of runs")
    if sizes.size <= 30:
        ax.set_xticks(sizes)
    else:  # round tick values (0, 200, 400, ...), not every k-th size
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(nbins=12, integer=True))
    alike = "one run" if size["n"] == 1 else f"all {size['n']} runs alike"
    what = (
        f"{alike}: cascade size {mean['mean']:.0f} {noun} (no distribution to draw)"
        if single
        else f"cascade size distribution ({size['n']} runs)"
    )
    ax.set_title(f"{title}\n{what}", fontsize=10)
    ax.grid(axis="y", alpha=style.GRID_ALPHA)
    ax.legend(fontsize=8)
    return style.save(fig, base, svg=svg)
