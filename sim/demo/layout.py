"""Where the demo draws each state: capitals and land borders, or a network layout.

The network and grid layouts live in :mod:`treatysim.plots.network`, shared with the run
report's picture of a synthetic population.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from treatysim.plots.network import SPRING_LAYOUT_MAX, Layout, network_layout

if TYPE_CHECKING:
    from treatysim.model.world import World

__all__ = ["SPRING_LAYOUT_MAX", "Layout", "layout_of"]


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
    return network_layout(dense > 0, world.lon, world.lat)
