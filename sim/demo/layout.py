"""Where the demo draws each state: capitals and land borders, or a network layout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from treatysim.model.world import World

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


def layout_of(world: World, adjacency: Any) -> Layout:
    """Positions for a world: capitals and land borders, or a network layout.

    Real states sit at their capitals, joined along shared land borders. A synthetic population
    of at most :data:`SPRING_LAYOUT_MAX` agents is laid out with networkx's spring layout (fixed
    seed), or on the circle its dataset provides when it is a complete graph (whose ties are not
    drawn); a larger one is drawn as a grid of squares, one per agent, without its ties.
    """
    if world.population is None:
        i, j = np.nonzero(np.triu(world.border))
        edges = tuple(zip(i.tolist(), j.tolist(), strict=True))
        return Layout(world.lon.copy(), world.lat.copy(), edges, geographic=True)
    dense = np.asarray(adjacency.todense() if hasattr(adjacency, "todense") else adjacency)
    return _network_layout(dense > 0, world.lon, world.lat)


def _network_layout(ties: np.ndarray, circle_x: np.ndarray, circle_y: np.ndarray) -> Layout:
    import networkx as nx

    n = ties.shape[0]
    i, j = np.nonzero(np.triu(ties, 1))
    n_edges = len(i)
    complete = n > 1 and n_edges == n * (n - 1) // 2
    pairs = tuple(zip(i.tolist(), j.tolist(), strict=True))
    if n > SPRING_LAYOUT_MAX:
        # too many agents for a readable network: one square per agent, row by row
        side = int(np.ceil(np.sqrt(n)))
        rows, cols = np.divmod(np.arange(n), side)
        what = "a complete graph" if complete else f"{n_edges} ties"
        note = f"{n} agents, one square each, row by row ({what}, not drawn)"
        x, y = cols.astype(float), -rows.astype(float)
        return Layout(x, y, (), geographic=False, note=note, complete=complete, grid=True)
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
