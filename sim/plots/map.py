"""The map of a run: each state's probability of moving to leave, on Natural Earth outlines.

Outlines come from the bundled ``europe_outlines.geojson`` (Natural Earth 1:50m admin-0, public
domain; provenance in ``sim/data/README.md``): one for every state of the bundled dataset, and
Kosovo, so the map has no hole. A state of a scenario's own dataset without an outline is drawn
as a dot at its capital. The demo page draws its map from the same outlines
(:func:`country_outlines`, :func:`land_in_box`).

Labels are placed greedily, largest state first, at the state's largest polygon; a label that
would overlap one already placed is moved to a free spot nearby with a leader line, or, where
none is free, left out and named under the map.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from treatysim.plots import style

#: Longitude and latitude box drawn when most states are in Europe: (west, east, south, north).
EUROPE = (-25.0, 50.0, 34.0, 72.0)
OUTLINES = "europe_outlines.geojson"
Ring = NDArray[np.float64]
#: Label offsets tried, in units of the label's height, when the natural spot is taken.
LABEL_OFFSETS = ((0, 1.2), (0, -1.2), (1.2, 0), (-1.2, 0), (1.0, 1.2), (-1.0, -1.2))


@functools.cache
def _bundled_outlines() -> dict[str, tuple[Ring, ...]]:
    """Exterior rings (lon, lat) of every bundled outline, by ISO3 code (read once)."""
    text = resources.files("treatysim.data").joinpath(OUTLINES).read_text(encoding="utf-8")
    out: dict[str, tuple[Ring, ...]] = {}
    for feature in json.loads(text)["features"]:
        polygons = feature["geometry"]["coordinates"]
        out[feature["id"]] = tuple(np.asarray(poly[0], dtype=float) for poly in polygons if poly)
    return out


def country_outlines(ids: Sequence[str]) -> dict[str, list[Ring]]:
    """Exterior rings (lon, lat) of each state's outline; states without one are left out."""
    outlines = _bundled_outlines()
    return {iso3: list(outlines[iso3]) for iso3 in ids if iso3 in outlines}


def land_in_box(box: tuple[float, float, float, float], skip: Sequence[str] = ()) -> list[Ring]:
    """Outlines of the bundled countries (other than ``skip``) that reach into the box.

    Args:
        box: ``(west, east, south, north)`` in degrees.
        skip: Countries left out (those drawn in the foreground).
    """
    x0, x1, y0, y1 = box
    left_out = set(skip)
    return [
        ring
        for code, rings in _bundled_outlines().items()
        if code not in left_out
        for ring in rings
        if ring[:, 0].max() >= x0
        and ring[:, 0].min() <= x1
        and ring[:, 1].max() >= y0
        and ring[:, 1].min() <= y1
    ]


def _ring_area(ring: Ring) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return float(abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2)


def _anchor(rings: Sequence[Ring], box: tuple[float, float, float, float]) -> tuple[float, float]:
    """Where a state's label goes: the middle of its largest polygon inside the box."""
    x0, x1, y0, y1 = box
    visible = [r for r in rings if x0 <= r[:, 0].mean() <= x1 and y0 <= r[:, 1].mean() <= y1]
    ring = max(visible or list(rings), key=_ring_area)
    lon = float(np.clip(np.median(ring[:, 0]), x0 + 0.5, x1 - 0.5))
    lat = float(np.clip(np.median(ring[:, 1]), y0 + 0.5, y1 - 0.5))
    return lon, lat


def place_labels(
    anchors: dict[str, tuple[float, float]],
    priority: Sequence[str],
    size: tuple[float, float],
    box: tuple[float, float, float, float],
) -> tuple[dict[str, tuple[float, float]], list[str]]:
    """Label positions that do not overlap, greedily in ``priority`` order.

    Args:
        anchors: Each label's natural position (lon, lat).
        priority: Labels in the order they are placed (first placed wins its spot).
        size: A label's (width, height) in degrees.
        box: The drawn box ``(west, east, south, north)``; labels stay inside it.

    Returns:
        The position of every label placed, and the labels left out for want of room.
    """
    width, height = size
    placed: dict[str, tuple[float, float]] = {}
    left_out: list[str] = []
    x0, x1, y0, y1 = box

    def free(x: float, y: float) -> bool:
        inside = x0 + width / 2 <= x <= x1 - width / 2 and y0 + height / 2 <= y <= y1 - height / 2
        return inside and all(
            abs(x - px) >= width or abs(y - py) >= height for px, py in placed.values()
        )

    for name in priority:
        ax_, ay = anchors[name]
        spot = next(
            (
                (ax_ + dx * width, ay + dy * height)
                for dx, dy in ((0.0, 0.0), *LABEL_OFFSETS)
                if free(ax_ + dx * width, ay + dy * height)
            ),
            None,
        )
        if spot is None:
            left_out.append(name)
        else:
            placed[name] = spot
    return placed, left_out


def map_plot(
    ids: Sequence[str],
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    party: NDArray[np.bool_],
    p_moved: NDArray[np.float64],
    p_suspended: NDArray[np.float64],
    base: Path,
    *,
    title: str = "",
    svg: bool = False,
) -> tuple[list[Path], list[str]]:
    """Map of each state's probability of moving to leave a treaty by the end of the calendar.

    Parties are filled by P(moved to leave): announced, or further down the exit pipeline, or
    suspended. States that suspend in most runs are cross-hatched: suspension is a stage of its
    own, not an exit. Non-parties are grey with a diagonal hatch. States without an outline are
    dots at their capitals; states outside the drawn box are listed under the map.

    Returns:
        The files written and the states drawn as dots (no outline).
    """
    from matplotlib import colormaps
    from matplotlib import patheffects as pe
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import Normalize

    cmap, norm = colormaps[style.CMAP], Normalize(0.0, 1.0)
    outlines = country_outlines(ids)
    inside = (lon >= EUROPE[0]) & (lon <= EUROPE[1]) & (lat >= EUROPE[2]) & (lat <= EUROPE[3])
    if inside.mean() >= 0.5:
        box = EUROPE
    else:
        pad = 2.0
        box = (lon.min() - pad, lon.max() + pad, lat.min() - pad, lat.max() + pad)
        inside = np.ones(len(ids), dtype=bool)
    x0, x1, y0, y1 = box
    aspect = 1 / np.cos(np.radians((y0 + y1) / 2))
    fig = style.figure(9.5, min(12.0, 1.2 + 8.0 * (y1 - y0) * aspect / (x1 - x0)))
    ax = fig.subplots()
    ax.set_facecolor("#F4F8FB")
    # one collection per look, not one patch per polygon: adding ~300 patches one by one
    # (each updating the data limits along its Bézier path) took 1.5 s of the report
    land = land_in_box(box, skip=ids)
    if land:
        ax.add_collection(
            PolyCollection(land, closed=True, facecolors="#DCDCDC", edgecolors="#AAAAAA", lw=0.3)
        )
    suspended = party & (p_suspended >= 0.5)
    groups: dict[str | None, tuple[list[Ring], list[Any]]] = {}
    for i, iso3 in enumerate(ids):
        face = cmap(norm(p_moved[i])) if party[i] else "#CCCCCC"
        hatch = "xxxx" if suspended[i] else None if party[i] else "////"
        rings, faces = groups.setdefault(hatch, ([], []))
        for ring in outlines.get(iso3, []):
            rings.append(ring)
            faces.append(face)
    for hatch, (rings, faces) in groups.items():
        if rings:
            ax.add_collection(
                PolyCollection(
                    rings, closed=True, facecolors=faces, edgecolors="#555555", lw=0.4, hatch=hatch
                )
            )
    dots = [s for s in ids if s not in outlines]
    dot = np.array([s not in outlines for s in ids], dtype=bool)
    if dot.any():
        colours = [cmap(norm(p)) if party[i] else "#CCCCCC" for i, p in enumerate(p_moved)]
        ax.scatter(
            lon[dot],
            lat[dot],
            c=[c for c, d in zip(colours, dot, strict=True) if d],
            s=40,
            edgecolors="black",
            linewidths=0.6,
            zorder=3,
        )
    # labels: the natural spot is the largest polygon, or the capital for dots and microstates
    anchors = {
        s: _anchor(outlines[s], box)
        if s in outlines and not _tiny(outlines[s])
        else (lon[i], lat[i])
        for i, s in enumerate(ids)
        if inside[i]
    }
    area = {s: sum(_ring_area(r) for r in outlines.get(s, [])) for s in anchors}
    priority = sorted(anchors, key=lambda s: (-area[s], s))
    fontsize = 6.0
    size = (0.034 * (x1 - x0), 0.03 * (y1 - y0))
    positions, unlabelled = place_labels(anchors, priority, size, box)
    for name, (x, y) in positions.items():
        ax_, ay = anchors[name]
        if (x, y) != (ax_, ay):
            ax.plot([ax_, x], [ay, y], color="#666666", lw=0.4, zorder=4)
        ax.text(
            x,
            y,
            name,
            fontsize=fontsize,
            ha="center",
            va="center",
            zorder=5,
            path_effects=[pe.withStroke(linewidth=1.5, foreground="white")],
        )
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(aspect)
    ax.set_axis_off()
    fig.colorbar(
        ScalarMappable(norm, cmap),
        ax=ax,
        shrink=0.6,
        pad=0.01,
        label="P(moved to leave by the end): announced or further, or suspended",
    )
    notes = ["grey, diagonal hatch: not a party", "cross-hatched: suspends in most runs"]
    if dots:
        notes.append(f"dots: states without an outline ({', '.join(dots)})")
    if unlabelled:
        notes.append(f"no room for the labels of {', '.join(sorted(unlabelled))}")
    outside = [f"{s} {p_moved[i]:.2f}" for i, s in enumerate(ids) if not inside[i] and party[i]]
    if outside:
        notes.append(f"outside the map: {', '.join(outside)}")
    ax.set_title(title, fontsize=10)
    fig.text(0.01, 0.005, "; ".join(notes), fontsize=6, va="bottom", wrap=True)
    return style.save(fig, base, svg=svg), dots


def _tiny(rings: Sequence[Ring]) -> bool:
    """A state too small to hold its label inside (a microstate): label it at its capital."""
    return sum(_ring_area(r) for r in rings) < 0.05
