"""The one figure style of treatysim: palette, resolution, figure constructor, saving, date axes.

Every picture the package draws (run reports, sweep reports, comparisons, the demo page) is
made here, so they share one look:

- colours from Okabe & Ito's palette (2008, "Color Universal Design"), safe for colour-blind
  readers, and the ``cividis`` colour map for continuous scales;
- one resolution, :data:`DPI`, for files and the demo page alike;
- figures made without pyplot (:func:`figure`), so nothing touches pyplot's global registry or
  the user's interactive backend and nothing needs closing;
- files written atomically (:func:`save`): a temporary file beside the target, renamed onto it,
  so a reader never sees half a PNG and a symlink at the target is replaced, not followed;
- dates on the x axis labelled concisely (:func:`date_axis`), and scenario events drawn as
  labelled vertical lines (:func:`mark_events`).

Nothing here imports matplotlib at module level, so importing a plotting module stays cheap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from treatysim.results.store import atomic_path

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Dots per inch of every figure, on file and on the demo page.
DPI = 150
#: Okabe & Ito (2008), "Color Universal Design", by name.
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}  # fmt: skip
#: The palette's order for series drawn one after another (lines, bars, runs compared).
PALETTE = tuple(
    OKABE_ITO[name]
    for name in ("blue", "orange", "green", "vermillion", "purple", "sky", "yellow", "black")
)
#: Colour map of continuous scales (probabilities on maps and heatmaps).
CMAP = "cividis"
#: Colour of each pipeline stage, shared by timelines, maps and the demo.
STAGE_COLOURS = {
    "not_party": "#FFFFFF",
    "party": "#DDDDDD",
    "deliberating": OKABE_ITO["yellow"],
    "announced": OKABE_ITO["orange"],
    "approved": OKABE_ITO["sky"],
    "notified": OKABE_ITO["blue"],
    "withdrawn": OKABE_ITO["vermillion"],
    "retracted": OKABE_ITO["green"],
    "suspended": OKABE_ITO["purple"],
}
#: Colour of scenario events and of text that explains rather than shows data.
NOTE_COLOUR = "#555555"
#: zlib level of PNG files: 1 encodes a report's figures in about half the time of Pillow's
#: default 6, for files about 10% larger (measured on the founding run's map: 0.10 s against
#: 0.14 s, 381 kB against 343 kB).
PNG_COMPRESSION = 1
#: Opacity of grid lines.
GRID_ALPHA = 0.3


def figure(width: float, height: float) -> Figure:
    """A new figure of ``width`` × ``height`` inches at :data:`DPI`, with constrained layout."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def save(fig: Figure, base: Path, *, svg: bool = False) -> list[Path]:
    """Write ``base.png`` (and ``base.svg``) atomically; return the paths written.

    Each file is rendered to a temporary name in the target folder and renamed onto the target,
    so an interrupted report leaves the old picture or the new one, never half of one.

    Args:
        fig: The figure.
        base: Output path without suffix; its folder is created.
        svg: Also write an SVG.
    """
    paths = [base.with_suffix(".png")]
    if svg:
        paths.append(base.with_suffix(".svg"))
    for path in paths:
        with atomic_path(path) as tmp:
            if path.suffix == ".png":
                pil = {"compress_level": PNG_COMPRESSION}
                fig.savefig(tmp, dpi=DPI, format="png", pil_kwargs=pil)
            else:
                fig.savefig(tmp, dpi=DPI, format=path.suffix[1:])
    return paths


def as_dates(dates: Sequence[dt.date | str]) -> NDArray[np.datetime64]:
    """Dates (or ISO strings) as a day-resolution ``datetime64`` array for an x axis."""
    return np.array([np.datetime64(str(d), "D") for d in dates])


def date_axis(ax: Axes, *, max_ticks: int = 10) -> None:
    """Concise date labels (years once, then months) on the x axis."""
    import matplotlib.dates as mdates

    class Locator(mdates.AutoDateLocator):
        """An AutoDateLocator that remembers its ticks for the last axis limits.

        A figure's layout passes ask for the ticks many times over the same limits (48 times
        for the three panels of a cascade: 0.36 s of building dateutil rrules, a third of the
        figure's time); the ticks are the same, so the PNG is byte for byte the same.
        """

        key: tuple[float, float] | None = None
        ticks: Any = None

        def __call__(self) -> Any:
            if self.axis is None:  # not on an axis yet: nothing to remember
                return super().__call__()
            low, high = self.axis.get_view_interval()
            key = (float(low), float(high))
            if key != self.key:
                self.key, self.ticks = key, super().__call__()
            return self.ticks

    locator = Locator(minticks=3, maxticks=max_ticks)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def integer_axis(ax: Axes) -> None:
    """Whole-number ticks on the y axis (counts of states or agents)."""
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def mark_events(
    ax: Axes,
    events: Sequence[tuple[dt.date | str, str]],
    *,
    colour: str = NOTE_COLOUR,
    labels: bool = True,
    fontsize: float = 8,
    emphasis: bool = False,
) -> None:
    """Scenario events as dotted vertical lines, labelled along the top of the axes.

    Labels run down from the top edge on a light backing, so they stay readable over data; a
    cumulative curve leaves the top left empty, so put its legend at the bottom right.

    Args:
        ax: Axes with a date x axis.
        events: ``(date, label)`` per event.
        colour: Line and label colour.
        labels: Write the labels (False for the lower panels of a stack).
        fontsize: Label size in points.
        emphasis: Draw dashed and thicker (the event a reader is asked to watch).
    """
    for when, label in events:
        x: Any = np.datetime64(str(when), "D")  # matplotlib's date units accept datetime64
        ax.axvline(x, color=colour, ls="--" if emphasis else ":", lw=1.8 if emphasis else 1.2)
        if labels:
            ax.annotate(
                f"{label} ",
                (x, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(0, -3),
                textcoords="offset points",
                rotation=90,
                ha="right",
                va="top",
                fontsize=fontsize,
                color=colour,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
                zorder=5,
            )


#: A flat tail longer than this share of the calendar is cut off the x axis (and said so).
FLAT_TAIL_SHARE = 0.15


def trim_flat_tail(
    axes: Sequence[Axes], x: NDArray[np.datetime64], series: Sequence[Sequence[float]]
) -> dt.date | None:
    """Cut the x axis where every series has stopped changing, when that leaves a long tail.

    The curves of a cascade are cumulative: once the last of them stops moving, the rest of the
    calendar is a flat line that only squeezes the part where things happen. When that flat part
    is more than :data:`FLAT_TAIL_SHARE` of the calendar, the axis ends a little after the last
    change (a tenth of the shown span) and a note at the right edge says that nothing changes
    until the calendar's end.

    Args:
        axes: Axes sharing the date x axis (the note goes on each).
        x: The step dates.
        series: Every curve drawn (each with one value per step).

    Returns:
        The date of the last change when the axis was trimmed, else None.
    """
    if len(x) < 3 or not series:
        return None
    values = np.array([np.asarray(s, dtype=float) for s in series if len(s) == len(x)])
    if values.size == 0:
        return None
    moving = np.nonzero(np.any(np.diff(values, axis=1) != 0, axis=0))[0]
    last = int(moving[-1]) + 1 if moving.size else 0
    span = (x[-1] - x[0]).astype(int)
    if span <= 0 or (x[-1] - x[last]).astype(int) <= FLAT_TAIL_SHARE * span:
        return None
    shown = max((x[last] - x[0]).astype(int), span // 10)
    right = x[0] + np.timedelta64(int(shown * 1.1) + 1, "D")
    for ax in axes:
        ax.set_xlim(x[0], right)
        ax.annotate(
            f"no change after {x[last]}\nto the end ({x[-1]})",
            (1.0, 0.5),
            xycoords="axes fraction",
            xytext=(-4, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=7,
            color=NOTE_COLOUR,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": NOTE_COLOUR, "lw": 0.5},
        )
    return dt.date.fromisoformat(str(x[last]))
