"""The demo page's three pictures, drawn from a :class:`~treatysim.demo.model.DemoModel`.

* :func:`map_figure`: the states coloured by their stage in the primary treaty: country outlines
  and capitals joined along land borders for real states, a network for synthetic populations.
* :func:`cascade_figure`: how many states have announced, notified and withdrawn, by date, with
  the scenario's events marked.
* :func:`decision_figure`: what each state's decision compares: threat pressure against
  commitment (treaty scenarios), or, for threshold models, Granovetter's x → F(x) map (complete
  graphs) or Watts' neighbours-per-agent picture (sparse networks).

Figures are made in the one style of :mod:`treatysim.plots.style` (without pyplot, so nothing to
close and no global state; the colour-blind safe palette; the package's one resolution). The page
renders them to PNG; tests call them directly.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from treatysim.plots import style
from treatysim.plots.map import EUROPE, country_outlines, land_in_box
from treatysim.plots.style import OKABE_ITO, STAGE_COLOURS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from treatysim.demo.model import DemoModel

#: Stage order in legends, from staying in to out.
LEGEND_ORDER = (
    "party",
    "deliberating",
    "announced",
    "approved",
    "notified",
    "withdrawn",
    "retracted",
    "suspended",
    "not_party",
)
#: Stages in the legend even before any state reaches them.
ALWAYS_IN_LEGEND = ("party", "announced", "approved", "notified", "withdrawn")
LEGEND_LABELS = {
    "party": "party (in)",
    "deliberating": "deliberating",
    "announced": "announced",
    "approved": "approved",
    "notified": "notified",
    "withdrawn": "withdrawn",
    "retracted": "retracted",
    "suspended": "suspended",
    "not_party": "not a party",
}
#: Curves of the cascade figure: stage, label, colour.
CURVES = (
    ("announced", "announced (or further)", OKABE_ITO["orange"]),
    ("notified", "notified (or withdrawn)", OKABE_ITO["blue"]),
    ("withdrawn", "withdrawn", OKABE_ITO["vermillion"]),
)
THREAT_SOURCE_COLOUR = "#F3C5C5"
THREAT_SOURCE_EDGE = "#AA4444"
#: Most states drawn as bars in the decision figure (the closest to leaving first).
MAX_BARS = 25
FIGSIZE = (6.4, 5.0)


def _figure() -> Figure:
    return style.figure(*FIGSIZE)


def _stage_legend(ax: Axes, stages: list[str], extra: Sequence[tuple[str, str]] = ()) -> None:
    """A legend of the stages present (in pipeline order) plus extra (label, colour) patches."""
    from matplotlib.patches import Patch

    present = [s for s in LEGEND_ORDER if s in ALWAYS_IN_LEGEND or s in set(stages)]
    handles = [
        Patch(facecolor=STAGE_COLOURS[s], edgecolor="#444444", label=LEGEND_LABELS[s])
        for s in present
    ]
    handles += [Patch(facecolor=c, edgecolor=THREAT_SOURCE_EDGE, label=label) for label, c in extra]
    ax.figure.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(4, len(handles)),
        fontsize=11,
        frameon=False,
    )


# --------------------------------------------------------------------------------------------
# the map


@functools.lru_cache(maxsize=8)
def _outlines(ids: tuple[str, ...]) -> dict[str, list[np.ndarray]]:
    return country_outlines(ids)


@functools.lru_cache(maxsize=8)
def _land(box: tuple[float, float, float, float]) -> tuple[np.ndarray, ...]:
    """Every country outline reaching into the box (the grey land behind the states)."""
    return tuple(land_in_box(box))


def _box(
    lon: np.ndarray, lat: np.ndarray, outlines: dict[str, list[np.ndarray]]
) -> tuple[float, float, float, float]:
    """The map's extent: Europe for many states, else the states' mainlands with a margin.

    The box is widened (never narrowed) to a landscape shape that fills the figure.
    """
    inside = (lon >= EUROPE[0]) & (lon <= EUROPE[1]) & (lat >= EUROPE[2]) & (lat <= EUROPE[3])
    if len(lon) > 15 and inside.mean() >= 0.5:
        return EUROPE
    mainlands = [max(rings, key=len) for rings in outlines.values() if rings]
    x = np.concatenate([lon, *(ring[:, 0] for ring in mainlands)])
    y = np.concatenate([lat, *(ring[:, 1] for ring in mainlands)])
    x0, x1 = float(x.min()) - 1.5, float(x.max()) + 1.5
    y0, y1 = float(y.min()) - 1.0, float(y.max()) + 1.0
    squeeze = np.cos(np.radians((y0 + y1) / 2))
    width = (y1 - y0) * 1.2 / squeeze  # degrees of longitude for a 1.2:1 picture
    if x1 - x0 < width:
        middle = (x0 + x1) / 2
        x0, x1 = middle - width / 2, middle + width / 2
    return (x0, x1, y0, y1)


def _title(model: DemoModel) -> str:
    treaty = textwrap.shorten(model.world.scenario.treaties[model.treaty].title, 48)
    counts = model.history[-1]
    return (
        f"{treaty}, {model.date.isoformat()}\n{counts.announced} of {model.n_parties} "
        f"announced, {counts.withdrawn} withdrawn"
    )


def map_figure(model: DemoModel) -> Figure:
    """The states coloured by stage: a map for real states, a network for synthetic ones."""
    fig = _figure()
    ax = fig.subplots()
    stages = model.stages()
    layout = model.layout()
    extra = _draw_map(ax, model, stages) if layout.geographic else _draw_network(ax, model, stages)
    _stage_legend(ax, stages, extra)
    ax.set_title(_title(model), fontsize=13)
    return fig


def _draw_map(ax: Axes, model: DemoModel, stages: list[str]) -> list[tuple[str, str]]:
    """Outlines filled by stage, capitals joined along land borders, threat sources in red."""
    import matplotlib.patheffects as pe
    from matplotlib.patches import Polygon

    world = model.world
    layout = model.layout()
    x, y = layout.x, layout.y
    colours = [STAGE_COLOURS[s] for s in stages]
    outlines = _outlines(tuple(world.ids))
    box = _box(x, y, outlines)
    x0, x1, y0, y1 = box
    ax.set_facecolor("#EAF2F8")  # sea
    for ring in _land(box):
        ax.add_patch(Polygon(ring, closed=True, fc="#F2F2F2", ec="#BBBBBB", lw=0.4))
    for i, iso3 in enumerate(world.ids):
        for ring in outlines.get(iso3, []):
            ax.add_patch(Polygon(ring, closed=True, fc=colours[i], ec="#333333", lw=0.7))
    sources = [
        code
        for sid, allies in zip(world.sources.ids, world.sources.allies, strict=True)
        for code in (sid, *allies)
    ]
    for code, rings in _outlines(tuple(sources)).items():
        in_model = code in world.ids
        for ring in rings:
            ax.add_patch(
                Polygon(
                    ring,
                    closed=True,
                    fc="none" if in_model else THREAT_SOURCE_COLOUR,
                    ec=THREAT_SOURCE_EDGE,
                    lw=1.0,
                    hatch="///" if in_model else None,
                )
            )
        cx, cy = _label_point(max(rings, key=len), box)
        if cx is not None and cy is not None and not in_model:
            ax.text(cx, cy, code, fontsize=12, color=THREAT_SOURCE_EDGE, ha="center")
    for i, j in layout.edges:
        ax.plot([x[i], x[j]], [y[i], y[j]], color="#444444", lw=1.0, zorder=3)
    ax.scatter(x, y, c=colours, s=55, edgecolors="black", linewidths=0.8, zorder=4)
    few = world.n_states <= 12
    for i, iso3 in enumerate(world.ids):
        own = outlines.get(iso3)
        # a state with an outline is labelled inside it, else next to its capital
        lx, ly = _label_point(max(own, key=len), box) if own and few else (None, None)
        offset = (0, 0) if lx is not None else (0, 5)
        if lx is None or ly is None:
            if not (x0 <= x[i] <= x1 and y0 <= y[i] <= y1):
                continue
            lx, ly = float(x[i]), float(y[i])
        ax.annotate(
            world.names[i] if few else iso3,
            (lx, ly),
            xytext=offset,
            textcoords="offset points",
            fontsize=12 if few else 8,
            ha="center",
            va="center" if offset == (0, 0) else "bottom",
            zorder=5,
            path_effects=[pe.withStroke(linewidth=2.5, foreground="white")],
        )
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1 / np.cos(np.radians((y0 + y1) / 2)))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("dots: capitals; lines: shared land borders", fontsize=11)
    return [("threat source", THREAT_SOURCE_COLOUR)] if sources else []


def _draw_network(ax: Axes, model: DemoModel, stages: list[str]) -> list[tuple[str, str]]:
    """Agents as dots on their network (or circle), or as a grid of squares when many."""
    world = model.world
    layout = model.layout()
    x, y = layout.x, layout.y
    colours = [STAGE_COLOURS[s] for s in stages]
    for i, j in layout.edges:
        ax.plot([x[i], x[j]], [y[i], y[j]], color="#999999", lw=0.5, alpha=0.6, zorder=1)
    n = world.n_states
    if layout.grid:
        # a grid of squares (layout row -r, column c), drawn as an image: crisp at any size
        from matplotlib.colors import to_rgb

        side = int(x.max()) + 1
        image = np.ones((int(-y.min()) + 1, side, 3))
        for i in range(n):
            image[int(-y[i]), int(x[i])] = to_rgb(colours[i])
        ax.imshow(image, interpolation="nearest")
    else:
        ax.scatter(x, y, c=colours, s=110, edgecolors="#333333", linewidths=0.5, zorder=2)
        if layout.complete:
            # a circle of agents in id order: label some, so the order is visible
            for i in range(0, n, max(1, n // 10)):
                ax.text(1.13 * x[i], 1.13 * y[i], world.ids[i], fontsize=11, ha="center")
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.margins(0.1)
    ax.set_xlabel(layout.note, fontsize=11)
    return []


def _label_point(
    ring: np.ndarray, box: tuple[float, float, float, float]
) -> tuple[float | None, float | None]:
    """A point for a country's label: the part of its outline inside the map, averaged."""
    x0, x1, y0, y1 = box
    inside = ring[(ring[:, 0] >= x0) & (ring[:, 0] <= x1) & (ring[:, 1] >= y0) & (ring[:, 1] <= y1)]
    if len(inside) < 3:
        return None, None
    cx = float(np.clip(inside[:, 0].mean(), x0 + 1, x1 - 1))
    cy = float(np.clip(inside[:, 1].mean(), y0 + 1, y1 - 1))
    return cx, cy


# --------------------------------------------------------------------------------------------
# the cascade curve


def cascade_figure(model: DemoModel) -> Figure:
    """States that have announced, notified and withdrawn by date, as the run goes."""
    fig = _figure()
    ax = fig.subplots()
    cal = model.world.calendar
    history = model.history
    dates = style.as_dates([p.date for p in history])
    for stage, label, colour in CURVES:
        values = [getattr(p, stage) for p in history]
        ax.step(dates, values, where="post", color=colour, lw=2.2, label=f"{label}: {values[-1]}")
    top = max(model.n_parties, 1)
    events = model.world.scenario.events
    # the ceasefire (the slider's event) in green, the others in grey
    for ceasefire in (False, True):
        style.mark_events(
            ax,
            [(e.date, e.id or e.type) for e in events if (e.id == "ceasefire") == ceasefire],
            colour=OKABE_ITO["green"] if ceasefire else style.NOTE_COLOUR,
            fontsize=10,
            emphasis=ceasefire,
        )
    ax.axvline(style.as_dates([model.date])[0], color="black", lw=0.8, alpha=0.5)
    ax.set_xlim(*style.as_dates([cal.start, cal.end]))
    ax.set_ylim(0, top * 1.05)
    style.integer_axis(ax)
    ax.set_ylabel(f"states (of {model.n_parties} parties)" if not model.synthetic else "agents")
    style.date_axis(ax, max_ticks=8)
    ax.tick_params(labelsize=11)
    ax.grid(alpha=style.GRID_ALPHA)
    ax.legend(loc="lower right", fontsize=11, frameon=True, framealpha=0.9)
    ax.set_title(
        f"Cascade so far (step {model.steps} of {model.n_steps}, {model.date.isoformat()})",
        fontsize=13,
    )
    return fig


# --------------------------------------------------------------------------------------------
# what decides


def decision_figure(model: DemoModel) -> Figure:
    """What each decision compares, in the form that fits the scenario's rule and network."""
    if not model.synthetic:
        return _pressure_bars(model)
    if model.layout().complete:
        return _granovetter_map(model)
    return _degree_picture(model)


def _pressure_bars(model: DemoModel) -> Figure:
    """Threat pressure against commitment, one pair of bars per party (closest to leaving first)."""
    fig = _figure()
    ax = fig.subplots()
    pressure, threshold = model.pressure_and_threshold()
    stages = model.stages()
    party = [i for i, s in enumerate(stages) if s != "not_party"]
    party.sort(key=lambda i: threshold[i] - pressure[i])
    shown = party[:MAX_BARS][::-1]
    rows = np.arange(len(shown))
    names = [model.world.names[i] if len(shown) <= 12 else model.world.ids[i] for i in shown]
    sens = model.sensitivity
    ax.barh(
        rows + 0.2,
        [pressure[i] for i in shown],
        height=0.38,
        color=OKABE_ITO["vermillion"],
        label="threat × sensitivity (pressure to leave)",
    )
    ax.barh(
        rows - 0.2,
        [threshold[i] for i in shown],
        height=0.38,
        color=OKABE_ITO["blue"],
        label="commitment (the bar to beat)",
    )
    right = max(1e-9, float(max(pressure.max(initial=0), threshold.max(initial=0))))
    for r, i in zip(rows, shown, strict=True):
        ax.text(
            right * 1.02,
            float(r),
            f"{stages[i]}  (threat {model.threat[i]:.2f} × {sens[i]:.2g})",
            va="center",
            fontsize=9 if len(shown) > 12 else 11,
        )
    ax.set_yticks(rows, names, fontsize=11 if len(shown) <= 12 else 8)
    ax.set_xlim(0, right * 1.75)
    more = f"; {len(party) - len(shown)} more not shown" if len(party) > len(shown) else ""
    ax.set_xlabel(f"pressure units (closest to leaving at the top{more})", fontsize=11)
    fig.legend(loc="outside lower center", ncols=2, fontsize=11, frameon=False)
    ax.set_title("A state wants out when its red bar passes its blue bar", fontsize=13)
    return fig


def _granovetter_map(model: DemoModel) -> Figure:
    """Granovetter's picture: next round's actors F(x) against this round's x."""
    fig = _figure()
    ax = fig.subplots()
    population = model.world.population
    assert population is not None
    n = model.world.n_states
    counts = population.thresholds.counted_in == "agents"
    thresholds = np.sort(np.asarray(model.thresholds, dtype=float))
    xs = np.arange(n + 1, dtype=float) if counts else np.linspace(0, 1, 1001)
    # F(x): how many agents have a threshold at or below x (as a count, or a share)
    f = np.searchsorted(thresholds, xs, side="right") / (1.0 if counts else n)
    ax.step(xs, f, where="post", color=OKABE_ITO["blue"], lw=2, label="F(x): thresholds ≤ x")
    top = float(n if counts else 1.0)
    ax.plot([0, top], [0, top], color="#555555", ls="--", lw=1, label="x = F(x): the cascade stops")
    acted = model.history[-1].announced
    x_now = acted if counts else acted / n
    ax.axvline(x_now, color=OKABE_ITO["vermillion"], lw=1.5)
    ax.scatter([x_now], [x_now], color=OKABE_ITO["vermillion"], zorder=5, s=50)
    ax.annotate(
        f"now: {acted} acted",
        (x_now, x_now),
        xytext=(10, -18),
        textcoords="offset points",
        fontsize=11,
        color=OKABE_ITO["vermillion"],
    )
    if counts:
        # thresholds one apart differ by one agent: zoom in around now
        lo = max(0.0, x_now - 4)
        ins = ax.inset_axes((0.07, 0.55, 0.38, 0.38))
        window = (xs >= lo) & (xs <= lo + 10)
        ins.step(xs[window], f[window], where="post", color=OKABE_ITO["blue"], lw=2)
        ins.plot([lo, lo + 10], [lo, lo + 10], color="#555555", ls="--", lw=1)
        ins.scatter([x_now], [x_now], color=OKABE_ITO["vermillion"], zorder=5, s=40)
        ins.set_xlim(lo, lo + 10)
        ins.set_ylim(lo, lo + 11)
        ins.tick_params(labelsize=9)
        ins.set_title("zoom", fontsize=10)
        ins.grid(alpha=style.GRID_ALPHA)
    unit = "agents" if counts else "share of agents"
    ax.set_xlabel(f"x: {unit} who have acted", fontsize=11)
    ax.set_ylabel(f"F(x): {unit} whose threshold is met", fontsize=11)
    ax.set_xlim(0, top)
    ax.set_ylim(0, top * 1.02)
    ax.grid(alpha=style.GRID_ALPHA)
    ax.legend(loc="lower right", fontsize=11)
    ax.set_title(
        "Granovetter: from x acting, F(x) act next round;\n"
        "the run stops at the first crossing of the diagonal",
        fontsize=13,
    )
    return fig


def _degree_picture(model: DemoModel) -> Figure:
    """Watts' picture: agents by number of neighbours, acted or not, and who is vulnerable."""
    fig = _figure()
    ax = fig.subplots()
    adjacency = model.network.adjacency
    dense = np.asarray(adjacency.todense() if hasattr(adjacency, "todense") else adjacency)
    degree = (dense > 0).sum(axis=1)
    acted = np.array([s not in ("party", "not_party") for s in model.stages()])
    top = int(degree.max(initial=0))
    bins = np.arange(top + 2) - 0.5
    ax.hist(
        [degree[acted], degree[~acted]],
        bins=bins.tolist(),
        stacked=True,
        color=[OKABE_ITO["vermillion"], STAGE_COLOURS["party"]],
        edgecolor="#555555",
        label=["acted", "not (yet)"],
    )
    thresholds = np.asarray(model.thresholds, dtype=float)
    if thresholds.size and np.allclose(thresholds, thresholds[0]) and thresholds[0] > 0:
        cut = 1.0 / thresholds[0]
        ax.axvline(cut + 0.5 if cut == int(cut) else cut, color=OKABE_ITO["blue"], ls="--")
        ax.text(
            cut,
            ax.get_ylim()[1] * 0.95,
            f"  vulnerable: ≤ {int(cut)} neighbours\n  (one active neighbour tips them)",
            fontsize=11,
            color=OKABE_ITO["blue"],
            va="top",
        )
    ax.set_xlabel("number of neighbours", fontsize=11)
    ax.set_ylabel("agents", fontsize=11)
    ax.legend(loc="center right", fontsize=11)
    ax.set_title(
        f"Watts: {int(acted.sum())} of {len(acted)} agents acted, by number of neighbours",
        fontsize=13,
    )
    return fig
