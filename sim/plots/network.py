"""Where a synthetic population's agents are drawn, and the run report's picture of them.

A synthetic population has no geography, so it gets no map. Small populations (at most
:data:`SPRING_LAYOUT_MAX` agents) are drawn as a network: networkx's spring layout (fixed seed),
or the circle the dataset provides when the graph is complete (its ties are not drawn) or drawn
anew in each replication (no one network to draw). Larger ones are a grid of squares, one per
agent in id order, drawn as one image: readable, and fast, up to the schema's largest
population. The demo (:mod:`treatysim.demo.layout`) draws the same layouts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from treatysim.plots import style

#: Largest population drawn as a network; larger ones are drawn as a grid of squares.
SPRING_LAYOUT_MAX = 200


@dataclass(frozen=True)
class Layout:
    """Drawing positions of the states.

    Attributes:
        x: Horizontal positions (longitude for real states).
        y: Vertical positions (latitude for real states).
        edges: Pairs ``(i, j)``, ``i < j``, drawn as lines (land borders, or network ties).
        geographic: Whether x and y are longitude and latitude.
        note: What the picture leaves out, for the caption (e.g. a complete graph's edges).
        complete: Whether the network is a complete graph (everyone sees everyone).
        grid: Whether the agents sit on a grid (row ``-y``, column ``x``), one square each.
    """

    x: np.ndarray
    y: np.ndarray
    edges: tuple[tuple[int, int], ...]
    geographic: bool
    note: str = ""
    complete: bool = False
    grid: bool = False


def grid_layout(n: int, what: str, complete: bool = False) -> Layout:
    """One square per agent, row by row (``what``: the ties left undrawn, for the caption)."""
    side = int(np.ceil(np.sqrt(max(n, 1))))
    rows, cols = np.divmod(np.arange(n), side)
    note = f"{n} agents, one square each, row by row in id order ({what}, not drawn)"
    x, y = cols.astype(float), -rows.astype(float)
    return Layout(x, y, (), geographic=False, note=note, complete=complete, grid=True)


def network_layout(ties: np.ndarray, circle_x: np.ndarray, circle_y: np.ndarray) -> Layout:
    """Positions for a synthetic population from its ties (an n × n boolean array).

    Args:
        ties: Whether agents i and j are tied.
        circle_x: The dataset's circle positions (used for a complete or empty graph).
        circle_y: As ``circle_x``.
    """
    import networkx as nx

    n = ties.shape[0]
    i, j = np.nonzero(np.triu(ties, 1))
    n_edges = len(i)
    complete = n > 1 and n_edges == n * (n - 1) // 2
    pairs = tuple(zip(i.tolist(), j.tolist(), strict=True))
    if n > SPRING_LAYOUT_MAX:
        # too many agents for a readable network: one square per agent, row by row
        return grid_layout(n, "a complete graph" if complete else f"{n_edges} ties", complete)
    if complete or not n_edges:
        note = "complete graph: everyone sees everyone (ties not drawn)" if complete else ""
        x, y = circle_x.copy(), circle_y.copy()
        return Layout(x, y, (), geographic=False, note=note, complete=complete)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(pairs)
    pos = nx.spring_layout(graph, seed=0)
    x = np.array([pos[k][0] for k in range(n)])
    y = np.array([pos[k][1] for k in range(n)])
    return Layout(x, y, pairs, geographic=False, note="lines: network ties")


def population_plot(
    ids: Sequence[str],
    layout: Layout,
    p_moved: NDArray[np.float64],
    base: Path,
    *,
    title: str = "",
    single: bool = False,
    svg: bool = False,
) -> list[Path]:
    """Each agent coloured by P(acted by the end): on its network, its circle, or a grid.

    Args:
        ids: Agent ids, in the layout's order.
        layout: From :func:`network_layout` or :func:`grid_layout`.
        p_moved: Per agent, the share of runs in which it acted (announced or further).
        base: Output path without suffix.
        title: Figure title.
        single: One replication: each agent acted (1) or not (0), no probability.
        svg: Also write SVG.
    """
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    cmap, norm = colormaps[style.CMAP], Normalize(0.0, 1.0)
    n = len(ids)
    fig = style.figure(7.5, 6.8)
    ax = fig.subplots()
    x, y = layout.x, layout.y
    if layout.grid:
        side = int(x.max()) + 1 if n else 1
        image = np.full((int(-y.min()) + 1 if n else 1, side), np.nan)
        image[(-y).astype(int), x.astype(int)] = p_moved
        ax.imshow(image, cmap=cmap, norm=norm, interpolation="nearest")
        # ticks at the first agent of some rows, so a reader can find an agent by its id
        rows = np.arange(0, image.shape[0], max(1, image.shape[0] // 8))
        ax.set_yticks(rows, [ids[int(r) * side] for r in rows], fontsize=7)
        ax.set_xticks([])
        ax.set_ylabel("first agent of the row", fontsize=8)
    else:
        for i, j in layout.edges:
            ax.plot([x[i], x[j]], [y[i], y[j]], color="#999999", lw=0.5, alpha=0.6, zorder=1)
        size = 90 if n <= 60 else 40
        ax.scatter(
            x, y, c=p_moved, cmap=cmap, norm=norm, s=size, edgecolors="#333333", linewidths=0.4,
            zorder=2,
        )  # fmt: skip
        step = max(1, n // 10)
        cx, cy = float(np.mean(x)), float(np.mean(y))
        for i in range(0, n, step):
            # outward from the centre, clear of the dot
            dx, dy = x[i] - cx, y[i] - cy
            norm_ = float(np.hypot(dx, dy)) or 1.0
            ax.annotate(
                ids[i], (x[i], y[i]), xytext=(11 * dx / norm_, 11 * dy / norm_),
                textcoords="offset points", fontsize=7, ha="center", va="center",
            )  # fmt: skip
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.margins(0.08)
    labelled = "" if layout.grid else f"; every {max(1, n // 10)}th agent labelled"
    ax.set_xlabel(f"{layout.note}{labelled}" if layout.note else labelled[2:], fontsize=8)
    label = (
        "acted by the end (1) or not (0), in the one run"
        if single
        else "P(acted by the end): share of runs"
    )
    fig.colorbar(ScalarMappable(norm, cmap), ax=ax, shrink=0.8, label=label)
    ax.set_title(title, fontsize=10)
    return style.save(fig, base, svg=svg)


def report_layout(world: Any) -> Layout:
    """The layout of a synthetic population for a run report.

    A graph drawn anew in each replication has no single network to draw: small populations
    sit on the dataset's circle, with the caption saying so; large ones on the grid. A
    population too large for a network view is laid out without building its ties.
    """
    population = world.population
    n = world.n_states
    per_run = world.graph_per_replication
    kind = population.network.type
    if n > SPRING_LAYOUT_MAX:
        what = (
            "a complete graph"
            if kind == "complete"
            else f"a new {kind} network in each run"
            if per_run
            else f"a {kind} network"
        )
        return grid_layout(n, what, complete=kind == "complete")
    if per_run:
        note = f"each run draws a new {kind} network: ties not drawn; agents in id order"
        return Layout(world.lon.copy(), world.lat.copy(), (), geographic=False, note=note)
    adjacency = world.network.adjacency
    dense = np.asarray(adjacency.todense() if hasattr(adjacency, "todense") else adjacency)
    return network_layout(dense > 0, world.lon, world.lat)
