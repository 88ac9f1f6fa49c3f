"""The map of a run: each state's probability of exit, on country outlines where known.

Outlines come from the ``countryinfo`` package (GeoJSON polygons). States it does not know
(synthetic agents, or ids it lacks) are drawn as capitals joined along their land borders.
The demo page draws its map from the same outlines (:func:`country_outlines`,
:func:`land_in_box`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from treatysim.plots import style

#: Longitude and latitude box drawn when most states are in Europe.
EUROPE = (-25.0, 50.0, 34.0, 72.0)


def country_outlines(ids: Sequence[str]) -> dict[str, list[NDArray[np.float64]]]:
    """Exterior rings (lon, lat) of each state's outline from the ``countryinfo`` package.

    States the package does not know, or knows without a polygon, are left out (the map draws
    them as capitals); without the package the result is empty.
    """
    try:
        from countryinfo import CountryInfo
    except ImportError:  # pragma: no cover - a core dependency, but the map degrades gracefully
        return {}
    out: dict[str, list[NDArray[np.float64]]] = {}
    for iso3 in ids:
        try:
            info = CountryInfo(iso3)
            if info.iso().get("alpha3") != iso3:
                continue
            geo = info.geo_json() or {}
        except Exception:  # noqa: S112 - unknown ids (synthetic agents) have no outline
            continue
        rings: list[NDArray[np.float64]] = []
        for feature in geo.get("features", []):
            geom = feature.get("geometry") or {}
            kind, coords = geom.get("type"), geom.get("coordinates") or []
            polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
            rings.extend(np.asarray(poly[0], dtype=float) for poly in polygons if poly)
        if rings:
            out[iso3] = rings
    return out


@functools.cache
def _world_outlines() -> dict[str, list[NDArray[np.float64]]]:
    """Every country's outline ``countryinfo`` knows, by ISO 3166 alpha-3 code (read once)."""
    try:
        from countryinfo import all_countries
    except ImportError:  # pragma: no cover - a core dependency, but the map degrades gracefully
        return {}
    codes = [code for country in all_countries() if (code := (country.iso() or {}).get("alpha3"))]
    return country_outlines(codes)


def land_in_box(
    box: tuple[float, float, float, float], skip: Sequence[str] = ()
) -> list[NDArray[np.float64]]:
    """Outlines of the countries (other than ``skip``) that reach into the box (background land).

    Args:
        box: ``(west, east, south, north)`` in degrees.
        skip: Countries left out (those drawn in the foreground).
    """
    x0, x1, y0, y1 = box
    left_out = set(skip)
    return [
        ring
        for code, rings in _world_outlines().items()
        if code not in left_out
        for ring in rings
        if ring[:, 0].max() >= x0
        and ring[:, 0].min() <= x1
        and ring[:, 1].max() >= y0
        and ring[:, 1].min() <= y1
    ]


def map_plot(
    ids: Sequence[str],
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    border: NDArray[np.bool_],
    party: NDArray[np.bool_],
    p_exit: NDArray[np.float64],
    base: Path,
    *,
    title: str = "",
    svg: bool = False,
) -> tuple[list[Path], list[str]]:
    """Map of each state's probability of exit: outlines where known, else capitals and borders.

    States with a ``countryinfo`` outline are filled by probability (non-parties hatched grey);
    the others are drawn as capitals coloured the same way, joined to their land neighbours'
    capitals by grey edges. States outside the drawn box are listed under the map.

    Returns:
        The files written and the states drawn as capitals (no outline).
    """
    from matplotlib import colormaps
    from matplotlib.colors import Normalize
    from matplotlib.patches import Polygon

    cmap, norm = colormaps[style.CMAP], Normalize(0.0, 1.0)
    outlines = country_outlines(ids)
    inside = (lon >= EUROPE[0]) & (lon <= EUROPE[1]) & (lat >= EUROPE[2]) & (lat <= EUROPE[3])
    if inside.mean() >= 0.5:
        x0, x1, y0, y1 = EUROPE
    else:
        pad = 2.0
        x0, x1, y0, y1 = lon.min() - pad, lon.max() + pad, lat.min() - pad, lat.max() + pad
        inside = np.ones(len(ids), dtype=bool)
    aspect = 1 / np.cos(np.radians((y0 + y1) / 2))
    fig = style.figure(9.5, min(12.0, 1.6 + 8.0 * (y1 - y0) * aspect / (x1 - x0)))
    ax = fig.subplots()
    ax.set_facecolor("#F4F8FB")
    for ring in land_in_box((x0, x1, y0, y1), skip=ids):
        ax.add_patch(Polygon(ring, closed=True, facecolor="#EEEEEE", edgecolor="#BBBBBB", lw=0.3))
    fallback = [s for s in ids if s not in outlines]
    for i, iso3 in enumerate(ids):
        face = cmap(norm(p_exit[i])) if party[i] else "#CCCCCC"
        for ring in outlines.get(iso3, []):
            ax.add_patch(
                Polygon(
                    ring,
                    closed=True,
                    facecolor=face,
                    edgecolor="#555555",
                    lw=0.4,
                    hatch=None if party[i] else "////",
                )
            )
    fb = np.array([s in outlines for s in ids]) == 0
    for i, j in zip(*np.nonzero(np.triu(border)), strict=True):
        if fb[i] or fb[j]:
            ax.plot([lon[i], lon[j]], [lat[i], lat[j]], color="#888888", lw=0.8, zorder=2)
    colours = [cmap(norm(p)) if party[i] else "#CCCCCC" for i, p in enumerate(p_exit)]
    ax.scatter(
        lon[fb],
        lat[fb],
        c=[c for c, f in zip(colours, fb, strict=True) if f],
        s=90,
        edgecolors="black",
        linewidths=0.6,
        zorder=3,
        label="capital (no outline)",
    )
    import matplotlib.patheffects as pe

    for i, iso3 in enumerate(ids):
        if inside[i]:
            ax.text(
                lon[i],
                lat[i] + (0.6 if fb[i] else 0),
                iso3,
                fontsize=5.5,
                ha="center",
                va="bottom" if fb[i] else "center",
                zorder=4,
                path_effects=[pe.withStroke(linewidth=1.5, foreground="white")],
            )
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(aspect)
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    from matplotlib.cm import ScalarMappable

    fig.colorbar(ScalarMappable(norm, cmap), ax=ax, shrink=0.7, label="P(withdrawn by the end)")
    outside = [f"{s} {p_exit[i]:.2f}" for i, s in enumerate(ids) if not inside[i] and party[i]]
    note = "grey hatched: not a party"
    if fallback:
        note += f"; dots: capitals of states without an outline ({', '.join(fallback)})"
    if outside:
        note += f"\noutside the map: {', '.join(outside)}"
    ax.set_title(title, fontsize=10)
    fig.text(0.01, 0.005, note, fontsize=6, va="bottom", wrap=True)
    return style.save(fig, base, svg=svg), fallback
