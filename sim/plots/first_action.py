"""When the agents of a large synthetic population first acted: one image of every agent.

A timeline of 25 strips, one per agent, says little about 1,000 agents of the same kind (the
strips look alike, and 975 are left out). This figure draws every agent instead:

- top: the distribution of first-action dates over all agents and runs (the share of
  agent-runs whose first action fell on each step), so the cascade's pace is visible;
- bottom: one image, one row per agent, sorted by its median first-action date, coloured by the
  share of runs in which the agent had acted by each date (in a single run: acted or not).

What it leaves out is said in its caption: which run an action belongs to, and the later stages
(only the first move counts, with the tables' definition of "moved").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from treatysim.plots import style
from treatysim.plots.style import OKABE_ITO


def agent_order(first: NDArray[np.float64], ids: Sequence[str]) -> NDArray[np.int64]:
    """Agents in the image's order: by median first-action day, never-acting agents last.

    Ties go to the share of runs in which the agent acted (highest first), then to the id; the
    median is over the runs where the agent acted.

    Args:
        first: Shape (runs, agents): each agent's first-action day number, NaN where it never
            acted.
        ids: Agent ids, for ties.
    """
    acted = ~np.isnan(first)
    share = acted.mean(axis=0) if first.shape[0] else np.zeros(first.shape[1])
    filled = np.where(acted, first, np.inf)
    sorted_days = np.sort(filled, axis=0)
    counts = acted.sum(axis=0)
    median = np.full(first.shape[1], np.inf)
    has = counts > 0
    # the lower median of the runs where the agent acted (a day some run had)
    median[has] = sorted_days[(counts[has] - 1) // 2, np.nonzero(has)[0]]
    rank_id = np.argsort(np.argsort(np.asarray(ids, dtype=object)))
    return np.lexsort((rank_id, -share, median)).astype(np.int64)


def first_action_plot(
    dates: Sequence[dt.date | str],
    step_days: NDArray[np.int64],
    first: NDArray[np.float64],
    ids: Sequence[str],
    base: Path,
    *,
    noun: str = "agent",
    verb: str = "acted",
    title: str = "",
    svg: bool = False,
) -> list[Path]:
    """Distribution of first-action dates and every agent's P(acted by each date), one image.

    Args:
        dates: Step dates.
        step_days: The step dates as day numbers (:func:`treatysim.analysis.stats.day_array`).
        first: Shape (runs, agents): each agent's first-action day number, NaN where it never
            acted.
        ids: Agent ids (columns of ``first``).
        base: Output path without suffix.
        noun: One of what a row stands for.
        verb: The scenario's word for the first move (``acted``).
        title: Figure title.
        svg: Also write SVG.
    """
    n_runs, n_agents = first.shape
    n_steps = len(step_days)
    acted = ~np.isnan(first)
    k = np.searchsorted(step_days, first[acted], side="left").clip(0, n_steps - 1)
    per_step = np.bincount(k, minlength=n_steps) / max(n_runs * n_agents, 1)
    order = agent_order(first, ids)
    # P(acted by each step), agents in order: the count of runs whose first action came first
    days = np.where(acted, first, np.inf)[:, order]
    by_step = np.stack([(days <= d).mean(axis=0) for d in step_days], axis=1) if n_runs else None
    x = style.as_dates(dates)
    fig = style.figure(10, 7.5)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1, 2.6])
    top.stairs(per_step * 100, np.append(x, x[-1] + np.timedelta64(1, "D")), fill=True,
               facecolor=OKABE_ITO["sky"], edgecolor=OKABE_ITO["blue"])  # fmt: skip
    top.set_ylabel(f"% of {noun}-runs\nfirst {verb} on the date", fontsize=9)
    top.set_ylim(bottom=0)
    top.grid(alpha=style.GRID_ALPHA)
    never = int(n_runs * n_agents - acted.sum())
    top.set_title(
        f"when {noun}s first {verb}: {int(acted.sum()):,} of {n_runs * n_agents:,} {noun}-runs "
        f"({n_agents:,} {noun}s × {n_runs} run{'' if n_runs == 1 else 's'}); "
        f"{never:,} never {verb}",
        fontsize=9,
    )
    import matplotlib.dates as mdates

    left, right = (float(mdates.date2num(d)) for d in (x[0], x[-1] + np.timedelta64(1, "D")))
    image: Any = by_step if by_step is not None else np.zeros((n_agents, n_steps))
    shown = bottom.imshow(
        image,
        aspect="auto",
        interpolation="nearest" if n_agents <= 400 else "antialiased",
        cmap=style.CMAP,
        vmin=0,
        vmax=1,
        extent=(left, right, n_agents, 0),
    )
    bottom.set_ylabel(f"{noun}s, by median date\nof first action", fontsize=9)
    bottom.set_xlabel("date")
    bottom.set_xlim(left, right)
    style.trim_flat_tail([bottom], x, [np.cumsum(per_step).tolist()])  # sharex: trims both
    style.date_axis(bottom)
    bar = fig.colorbar(shown, ax=bottom, shrink=0.9)
    bar.set_label(
        f"{verb} by the date (1) or not (0)"
        if n_runs == 1
        else f"share of runs: {verb} by the date",
        fontsize=9,
    )
    fig.suptitle(
        f"{title}\nall {n_agents:,} {noun}s, one row each (a per-{noun} timeline would show "
        f"too few of them); left out: which run an action belongs to, and later stages",
        fontsize=10,
    )
    return style.save(fig, base, svg=svg)
