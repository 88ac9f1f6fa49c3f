"""Figures of a run: cascade curves, per-state timelines, cascade sizes, a map, comparisons.

Every function draws on a ``matplotlib.figure.Figure`` made without pyplot, so nothing touches
pyplot's global figure registry or the user's interactive backend, and nothing needs closing:
files are rendered by the Agg (PNG) and SVG canvases. Colours are the Okabe–Ito palette and the
map's scale is ``cividis``, both safe for colour-blind readers. Functions take numbers already
computed by :mod:`treatysim.analysis.stats` and return the files they wrote.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 150
#: Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}  # fmt: skip
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
#: Longitude and latitude box drawn when most states are in Europe.
EUROPE = (-25.0, 50.0, 34.0, 72.0)


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _save(fig: Figure, base: Path, svg: bool) -> list[Path]:
    """Write ``base.png`` (and ``base.svg``); return the paths."""
    base.parent.mkdir(parents=True, exist_ok=True)
    paths = [base.with_suffix(".png")]
    if svg:
        paths.append(base.with_suffix(".svg"))
    for path in paths:
        fig.savefig(path, dpi=DPI)
    return paths


def _date_axis(ax: Axes) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _dates(dates: Sequence[dt.date | str]) -> NDArray[np.datetime64]:
    return np.array([np.datetime64(str(d), "D") for d in dates])


def _bands(
    ax: Axes, x: NDArray[Any], bands: Mapping[str, Sequence[float]], colour: str, label: str
) -> None:
    ax.fill_between(x, bands["q05"], bands["q95"], color=colour, alpha=0.15, lw=0, step="post")
    ax.fill_between(x, bands["q25"], bands["q75"], color=colour, alpha=0.35, lw=0, step="post")
    ax.step(x, bands["q50"], where="post", color=colour, lw=2, label=f"{label} (median)")


def cascade_plot(
    dates: Sequence[dt.date | str],
    curves: Mapping[str, Mapping[str, Sequence[float]]],
    base: Path,
    *,
    observed: Mapping[str, Sequence[int]] | None = None,
    title: str = "",
    svg: bool = False,
) -> list[Path]:
    """States that announced, notified and withdrawn over time (median, 50% and 90% bands).

    One panel per stage, sharing both axes, so the bands do not hide each other.

    Args:
        dates: Step dates.
        curves: Per stage, quantile bands ``q05 … q95`` on the step dates.
        base: Output path without suffix.
        observed: Per stage, the observed cumulative counts on the step dates (black dashes).
        title: Figure title.
        svg: Also write SVG.
    """
    colours = {"announced": "orange", "notified": "blue", "withdrawn": "vermillion"}
    stages = [s for s, bands in curves.items() if bands] or list(curves)[:1]
    fig = _figure(9, 1.2 + 2.3 * len(stages))
    axes = np.atleast_1d(fig.subplots(len(stages), 1, sharex=True, sharey=True))
    x = _dates(dates)
    for ax, stage in zip(axes, stages, strict=True):
        if curves.get(stage):
            _bands(ax, x, curves[stage], OKABE_ITO[colours.get(stage, "black")], stage)
        if observed and any(observed.get(stage, [])):
            ax.step(x, observed[stage], where="post", color=OKABE_ITO["black"], lw=1.3, ls="--",
                    label="observed")  # fmt: skip
        ax.set_ylabel(f"states {stage}", fontsize=9)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    axes[-1].set_xlabel("date")
    axes[-1].set_xlim(x[0], x[-1])
    _date_axis(axes[-1])
    fig.suptitle(
        title + "\ncumulative count of states; line: median of runs; bands: 50% and 90% of runs",
        fontsize=10,
    )
    return _save(fig, base, svg)


def compare_plot(
    runs: Sequence[
        tuple[str, Sequence[dt.date | str], Mapping[str, Mapping[str, Sequence[float]]]]
    ],
    base: Path,
    *,
    title: str = "",
    svg: bool = False,
) -> list[Path]:
    """Two (or more) runs' cascade curves, one panel per stage: median and 90% band each.

    Args:
        runs: ``(label, step dates, curves)`` per run, curves as in :func:`cascade_plot`.
        base: Output path without suffix.
        title: Figure title.
        svg: Also write SVG.
    """
    stages = [s for s in ("announced", "notified", "withdrawn") if any(s in c for _, _, c in runs)]
    colours = [OKABE_ITO[c] for c in ("blue", "vermillion", "green", "purple")]
    fig = _figure(12, 4.5)
    axes = np.atleast_1d(fig.subplots(1, len(stages), sharey=True))
    for ax, stage in zip(axes, stages, strict=True):
        for (label, dates, curves), colour in zip(runs, colours, strict=False):
            bands = curves.get(stage)
            if not bands:
                continue
            x = _dates(dates)
            ax.fill_between(
                x, bands["q05"], bands["q95"], color=colour, alpha=0.2, lw=0, step="post"
            )
            ax.step(x, bands["q50"], where="post", color=colour, lw=2, label=label)
        ax.set_title(f"states {stage}", fontsize=10)
        ax.set_xlabel("date")
        ax.grid(alpha=0.3)
        _date_axis(ax)
    axes[0].set_ylabel("states (cumulative): median, 90% band")
    axes[0].legend(loc="upper left", fontsize=8)
    fig.suptitle(title, fontsize=11)
    return _save(fig, base, svg)


def timeline_plot(
    dates: Sequence[dt.date | str],
    rows: Sequence[tuple[str, NDArray[np.float64]]],
    stages: Sequence[str],
    base: Path,
    *,
    title: str = "",
    svg: bool = False,
) -> list[Path]:
    """Per state, a strip of stacked areas: P(in each stage) at each step date.

    Args:
        dates: Step dates.
        rows: ``(label, occupancy)`` per state, occupancy shaped (len(stages), steps).
        stages: Stage names of the occupancy rows.
        base: Output path without suffix.
        title: Figure title.
        svg: Also write SVG.
    """
    from matplotlib.patches import Patch

    n = max(len(rows), 1)
    fig = _figure(10, 1.6 + 0.34 * n)
    axes = np.atleast_1d(fig.subplots(n, 1, sharex=True))
    x = _dates(dates)
    colours = [STAGE_COLOURS.get(s, "#999999") for s in stages]
    for ax, (label, occ) in zip(axes, rows, strict=False):
        ax.stackplot(x, occ, colors=colours, step="post", lw=0)
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    if not rows:
        axes[0].text(
            0.5, 0.5, "no state left the party stage", ha="center", transform=axes[0].transAxes
        )
    _date_axis(axes[-1])
    axes[-1].set_xlabel("date")
    used = [s for s in stages if any(occ[stages.index(s)].any() for _, occ in rows)] or list(stages)
    handles = [
        Patch(facecolor=STAGE_COLOURS.get(s, "#999999"), edgecolor="#666666", label=s) for s in used
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 8), fontsize=8)
    fig.suptitle(
        title + " — share of runs in each stage (label: P(state left the party stage))",
        fontsize=10,
    )
    axes[-1].set_xlim(x[0], x[-1])
    return _save(fig, base, svg)


def cascade_size_plot(
    size: Mapping[str, Any],
    base: Path,
    *,
    observed: int | None = None,
    title: str = "",
    svg: bool = False,
) -> list[Path]:
    """Bar chart of the cascade-size distribution, with the mean (and CI) and the observed size.

    Args:
        size: :func:`treatysim.analysis.stats.size_summary` output.
        base: Output path without suffix.
        observed: The observed cascade size, marked when known.
        title: Figure title.
        svg: Also write SVG.
    """
    fig = _figure(8, 4.5)
    ax = fig.subplots()
    sizes = np.array([int(k) for k in size["distribution"]])
    counts = np.array(list(size["distribution"].values()), dtype=float)
    share = counts / max(size["n"], 1)
    ax.bar(sizes, share, color=OKABE_ITO["sky"], edgecolor=OKABE_ITO["blue"], label="runs")
    mean = size["mean"]
    if mean["mean"] is not None:
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
    ax.set_xlabel("cascade size (states that announced or suspended)")
    ax.set_ylabel("share of runs")
    ax.set_xticks(sizes if sizes.size <= 30 else sizes[:: int(np.ceil(sizes.size / 30))])
    ax.set_title(f"{title}\ncascade size distribution ({size['n']} runs)", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, base, svg)


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


def _context_land(
    skip: set[str], box: tuple[float, float, float, float]
) -> list[NDArray[np.float64]]:
    """Outlines of countries outside the model that reach into the box (grey background land)."""
    try:
        from countryinfo import all_countries
    except ImportError:  # pragma: no cover
        return []
    codes = []
    for country in all_countries():
        code = (country.iso() or {}).get("alpha3")
        if code and code not in skip:
            codes.append(code)
    x0, x1, y0, y1 = box
    return [
        ring
        for rings in country_outlines(codes).values()
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

    cmap, norm = colormaps["cividis"], Normalize(0.0, 1.0)
    outlines = country_outlines(ids)
    inside = (lon >= EUROPE[0]) & (lon <= EUROPE[1]) & (lat >= EUROPE[2]) & (lat <= EUROPE[3])
    if inside.mean() >= 0.5:
        x0, x1, y0, y1 = EUROPE
    else:
        pad = 2.0
        x0, x1, y0, y1 = lon.min() - pad, lon.max() + pad, lat.min() - pad, lat.max() + pad
        inside = np.ones(len(ids), dtype=bool)
    aspect = 1 / np.cos(np.radians((y0 + y1) / 2))
    fig = _figure(9.5, min(12.0, 1.6 + 8.0 * (y1 - y0) * aspect / (x1 - x0)))
    ax = fig.subplots()
    ax.set_facecolor("#F4F8FB")
    for ring in _context_land(set(ids), (x0, x1, y0, y1)):
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
    return _save(fig, base, svg), fallback
