"""Reference data: the state table a scenario runs on, and observed stages.

Datasets are package data (``sim/data``), so they resolve after a plain ``pip install``. A
scenario names a bundled dataset (``europe_2025``) or gives a CSV path relative to itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from treatysim.scenario.population import SyntheticPopulation
    from treatysim.scenario.schema import Scenario

#: Bundled state tables by name.
BUNDLED_DATASETS = {"europe_2025": "europe_states.csv"}
#: Bundled observed-stage tables by name.
BUNDLED_OBSERVED = {"observed_2025": "observed_2025.csv"}

REQUIRED_COLUMNS = ("iso3", "name", "capital_lat", "capital_lon", "land_borders")
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class StateRecord:
    """One row of a state table.

    Attributes:
        iso3: ISO 3166-1 alpha-3 code.
        name: Short name.
        lat: Capital latitude (degrees).
        lon: Capital longitude (degrees).
        land_borders: ISO3 codes of land neighbours in the table.
        eu: EU member at the dataset's date.
        nato: NATO member at the dataset's date.
        columns: Every column as text, for treaty-party columns and the like.
    """

    iso3: str
    name: str
    lat: float
    lon: float
    land_borders: tuple[str, ...]
    eu: bool
    nato: bool
    columns: dict[str, str]


@dataclass(frozen=True)
class Dataset:
    """A state table, keyed by ISO3 code, in file order."""

    name: str
    states: dict[str, StateRecord]
    columns: tuple[str, ...]


class DatasetError(ValueError):
    """A dataset is missing or malformed."""


def _bundled_path(filename: str) -> Path:
    return Path(str(resources.files("treatysim.data").joinpath(filename)))


def dataset_path(name: str, base_dir: Path | None = None) -> Path:
    """Resolve a dataset name or path.

    Args:
        name: A bundled dataset name, or a CSV path (relative paths resolve against base_dir).
        base_dir: The folder of the scenario file that names the dataset.

    Raises:
        DatasetError: The name is not bundled and no such file exists.
    """
    if name in BUNDLED_DATASETS:
        return _bundled_path(BUNDLED_DATASETS[name])
    if name in BUNDLED_OBSERVED:
        return _bundled_path(BUNDLED_OBSERVED[name])
    path = Path(name)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        known = ", ".join(sorted(BUNDLED_DATASETS | BUNDLED_OBSERVED))
        raise DatasetError(f"unknown dataset '{name}': not bundled ({known}) and no such file")
    return path


@cache
def _load_dataset_cached(path: Path) -> Dataset:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = tuple(reader.fieldnames or ())
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise DatasetError(f"{path.name}: missing columns {', '.join(missing)}")
        states: dict[str, StateRecord] = {}
        for row in reader:
            iso3 = row["iso3"].strip()
            try:
                lat, lon = float(row["capital_lat"]), float(row["capital_lon"])
            except ValueError:
                raise DatasetError(
                    f"{path.name}: {iso3}: capital coordinates are not numbers"
                ) from None
            borders = tuple(b for b in row["land_borders"].split(";") if b.strip())
            states[iso3] = StateRecord(
                iso3=iso3,
                name=row["name"],
                lat=lat,
                lon=lon,
                land_borders=borders,
                eu=row.get("eu_member", "0").strip() == "1",
                nato=bool(row.get("nato_since", "").strip()),
                columns=dict(row),
            )
    return Dataset(name=path.stem, states=states, columns=columns)


def load_dataset(name: str, base_dir: Path | None = None) -> Dataset:
    """Load a state table by bundled name or path (cached per file)."""
    return _load_dataset_cached(dataset_path(name, base_dir).resolve())


def load_observed(name: str, base_dir: Path | None = None) -> list[dict[str, str]]:
    """Load an observed-stage table: rows with iso3, treaty, stage, date and source."""
    path = dataset_path(name, base_dir)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        dt.date.fromisoformat(row["date"])
    return rows


def synthetic_dataset(population: SyntheticPopulation, name: str = "synthetic") -> Dataset:
    """A state table for a synthetic population: ids, and positions on a circle for display."""
    ids = population.ids()
    n = len(ids)
    states = {}
    for i, agent in enumerate(ids):
        angle = 2 * math.pi * i / n
        states[agent] = StateRecord(
            iso3=agent,
            name=agent,
            lat=math.sin(angle),
            lon=math.cos(angle),
            land_borders=(),
            eu=False,
            nato=False,
            columns={"iso3": agent},
        )
    return Dataset(name=name, states=states, columns=("iso3",))


def scenario_dataset(scenario: Scenario, base_dir: Path | None = None) -> Dataset:
    """The state table a scenario runs on: its synthetic population's, or its dataset."""
    if scenario.states.synthetic is not None:
        return synthetic_dataset(scenario.states.synthetic, scenario.name)
    return load_dataset(scenario.states.dataset, base_dir)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))
