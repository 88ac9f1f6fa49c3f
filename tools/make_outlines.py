"""Build sim/data/europe_outlines.geojson from Natural Earth's 1:50m countries.

The source is the TopoJSON ``countries-50m.json`` of the npm package world-atlas 2.0.2 (ISC
licence; the geometry is Natural Earth 1:50m admin-0, public domain). Get it with
``npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz``, then run

    python tools/make_outlines.py package/countries-50m.json

The script decodes the topology (delta-encoded, quantised arcs), keeps the states of the bundled
dataset plus Kosovo (so the map has no hole), rounds coordinates to 0.01 degrees, drops repeated
points, rings that collapse and rings outside Europe's window, and writes one GeoJSON feature per
state with its ISO3 code.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATASET = ROOT / "sim" / "data" / "europe_states.csv"
TARGET = ROOT / "sim" / "data" / "europe_outlines.geojson"
#: Natural Earth's short names where they differ from the dataset's.
NE_NAMES = {
    "BIH": "Bosnia and Herz.",
    "MKD": "Macedonia",
    "TUR": "Turkey",
    "USA": "United States of America",
    "VAT": "Vatican",
}
EXTRA = {"XKX": ("Kosovo", "Kosovo")}  # not in the dataset; drawn so the map has no hole
DIGITS = 2
#: Rings wholly outside this window (lon, lat) are dropped: the map shows Europe. A state with no
#: ring inside it (the United States, Canada) keeps only its largest polygon.
WINDOW = (-32.0, 25.0, 75.0, 82.0)


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """Absolute lon/lat points of every arc (TopoJSON quantised delta encoding)."""
    scale_x, scale_y = topology["transform"]["scale"]
    shift_x, shift_y = topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * scale_x + shift_x, y * scale_y + shift_y))
        arcs.append(points)
    return arcs


def ring(indices: list[int], arcs: list[list[tuple[float, float]]]) -> list[list[float]]:
    """One closed ring from arc indices (a negative index is the arc ~i reversed)."""
    points: list[tuple[float, float]] = []
    for index in indices:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    if max(p[0] for p in points) - min(p[0] for p in points) > 180:
        # a ring across the antimeridian (Russia's Chukotka): keep it east of 180 degrees
        points = [(lon + 360 if lon < 0 else lon, lat) for lon, lat in points]
    rounded: list[list[float]] = []
    for lon, lat in points:
        point = [round(lon, DIGITS), round(lat, DIGITS)]
        if not rounded or point != rounded[-1]:
            rounded.append(point)
    return rounded


def _in_window(point: list[float]) -> bool:
    lon_min, lat_min, lon_max, lat_max = WINDOW
    return lon_min <= point[0] <= lon_max and lat_min <= point[1] <= lat_max


def main(source: Path) -> None:
    """Write the outlines file."""
    topology = json.loads(source.read_text(encoding="utf-8"))
    arcs = decode_arcs(topology)
    by_name = {g["properties"]["name"]: g for g in topology["objects"]["countries"]["geometries"]}
    with DATASET.open(encoding="utf-8") as handle:
        states = {row["iso3"]: row["name"] for row in csv.DictReader(handle)}
    wanted = {iso3: (name, NE_NAMES.get(iso3, name)) for iso3, name in states.items()}
    wanted.update(EXTRA)
    features = []
    for iso3, (name, ne_name) in sorted(wanted.items()):
        geometry = by_name[ne_name]
        polygons = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry["arcs"]
        rings = [[ring(r, arcs) for r in polygon] for polygon in polygons]
        rings = [[r for r in polygon if len(r) >= 4] for polygon in rings]
        rings = [polygon for polygon in rings if polygon]
        inside = [polygon for polygon in rings if any(_in_window(p) for p in polygon[0])]
        rings = inside or [max(rings, key=lambda polygon: len(polygon[0]))]
        features.append(
            {
                "type": "Feature",
                "id": iso3,
                "properties": {"iso3": iso3, "name": name},
                "geometry": {"type": "MultiPolygon", "coordinates": rings},
            }
        )
    collection = {
        "type": "FeatureCollection",
        "source": "Natural Earth 1:50m admin-0 countries (public domain), via world-atlas 2.0.2",
        "features": features,
    }
    TARGET.write_text(json.dumps(collection, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{TARGET}: {len(features)} states, {TARGET.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
