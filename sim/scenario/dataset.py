"""Reference data: the state table a scenario runs on, and observed stages.

Datasets are package data (``sim/data``), so they resolve after a plain ``pip install``. A
scenario names a bundled dataset (``europe_2025``) or gives a CSV path relative to itself.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from treatysim.scenario.commitments import attribute_problems
from treatysim.scenario.yamlio import read_limited

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


#: Largest CSV file (state table, observed stages, edge list) read.
MAX_CSV_BYTES = 50_000_000


def read_csv_file(path: Path, *, max_bytes: int = MAX_CSV_BYTES) -> tuple[list[str], list[Row]]:
    """The header and rows of a UTF-8 CSV file, each row with its line number.

    Only a regular file is read, at most ``max_bytes + 1`` bytes of it. Blank lines are
    skipped; a row with fewer or more fields than the header is an error.

    Raises:
        DatasetError: Unreadable, not UTF-8, not CSV, empty, or a row of the wrong length.
    """
    try:
        raw = read_limited(path, max_bytes=max_bytes)
    except OSError as exc:
        reason = f"cannot read: {exc.strerror}" if exc.errno else exc.strerror
        raise DatasetError(f"{path.name}: {reason}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DatasetError(
            f"{path.name}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x})"
        ) from None
    if "\x00" in text:
        raise DatasetError(f"{path.name}: binary file (contains NUL bytes)")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader, [])]
        if not header:
            raise DatasetError(f"{path.name}: the file is empty (expected a header row)")
        rows: list[Row] = []
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                raise DatasetError(
                    f"{path.name}:{reader.line_num}: {len(fields)} fields where the header has "
                    f"{len(header)}"
                )
            rows.append(Row(reader.line_num, dict(zip(header, fields, strict=True))))
    except csv.Error as exc:
        raise DatasetError(f"{path.name}:{reader.line_num}: not valid CSV ({exc})") from None
    return header, rows


@dataclass(frozen=True)
class Row:
    """A CSV row: its line number and its fields by column name."""

    line: int
    fields: dict[str, str]


def _coordinate(row: Row, column: str, limit: float, where: str) -> float:
    text = row.fields[column].strip()
    try:
        value = float(text)
    except ValueError:
        raise DatasetError(f"{where}: {column} '{text}' is not a number") from None
    if not math.isfinite(value) or abs(value) > limit:
        raise DatasetError(f"{where}: {column} {text} is outside -{limit:g} to {limit:g}")
    return value


def _read_dataset(path: Path) -> Dataset:
    header, rows = read_csv_file(path)
    columns = tuple(header)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise DatasetError(f"{path.name}: missing columns {', '.join(missing)}")
    problems = attribute_problems(path.name, header, rows)
    if problems:
        raise DatasetError("\n".join(problems))
    states: dict[str, StateRecord] = {}
    for row in rows:
        iso3 = row.fields["iso3"].strip()
        where = f"{path.name}:{row.line}"
        if not iso3:
            raise DatasetError(f"{where}: empty iso3")
        if iso3 in states:
            raise DatasetError(f"{where}: duplicate iso3 '{iso3}' (each state needs one row)")
        lat = _coordinate(row, "capital_lat", 90.0, f"{where}: {iso3}")
        lon = _coordinate(row, "capital_lon", 180.0, f"{where}: {iso3}")
        borders = tuple(b.strip() for b in row.fields["land_borders"].split(";") if b.strip())
        states[iso3] = StateRecord(
            iso3=iso3,
            name=row.fields["name"],
            lat=lat,
            lon=lon,
            land_borders=borders,
            eu=row.fields.get("eu_member", "0").strip() == "1",
            nato=bool(row.fields.get("nato_since", "").strip()),
            columns=dict(row.fields),
        )
    return Dataset(name=path.stem, states=states, columns=columns)


def load_dataset(name: str, base_dir: Path | None = None) -> Dataset:
    """Load a state table by bundled name or path (cached per file).

    Raises:
        DatasetError: Missing, unreadable or malformed (bad coordinates, duplicate states).
    """
    path = dataset_path(name, base_dir).resolve()
    try:
        stamp = path.stat()
    except OSError as exc:
        raise DatasetError(f"{path.name}: cannot read: {exc.strerror}") from None
    return _load_dataset_stamped(path, stamp.st_mtime_ns, stamp.st_size)


@cache
def _load_dataset_stamped(path: Path, mtime_ns: int, size: int) -> Dataset:
    """Cached per file version, so an edited file is read again."""
    return _read_dataset(path)


def load_observed(name: str, base_dir: Path | None = None) -> list[dict[str, str]]:
    """Load an observed-stage table: rows with iso3, treaty, stage, date and source.

    Raises:
        DatasetError: Unreadable or malformed (a missing column, a bad date).
    """
    path = dataset_path(name, base_dir)
    header, rows = read_csv_file(path)
    missing = [c for c in ("iso3", "treaty", "stage", "date") if c not in header]
    if missing:
        raise DatasetError(f"{path.name}: missing columns {', '.join(missing)}")
    for row in rows:
        try:
            dt.date.fromisoformat(row.fields["date"].strip())
        except ValueError:
            raise DatasetError(
                f"{path.name}:{row.line}: date '{row.fields['date']}' is not YYYY-MM-DD"
            ) from None
    return [row.fields for row in rows]


def read_edge_list(path: Path, ids: list[str]) -> list[tuple[int, int]]:
    """The edges of an edge-list CSV (columns source, target: agent ids or 0-based indices).

    Raises:
        DatasetError: Unreadable, missing columns, a short row or an unknown agent.
    """
    header, rows = read_csv_file(path)
    missing = [c for c in ("source", "target") if c not in header]
    if missing:
        raise DatasetError(f"{path.name}: missing columns {', '.join(missing)}")
    index = {agent: i for i, agent in enumerate(ids)}
    n = len(ids)
    edges = []
    for row in rows:
        ends = []
        for column in ("source", "target"):
            value = row.fields[column].strip()
            if value in index:
                ends.append(index[value])
            elif value.isdigit() and int(value) < n:
                ends.append(int(value))
            else:
                raise DatasetError(f"{path.name}:{row.line}: unknown agent '{value}' in {column}")
        edges.append((ends[0], ends[1]))
    return edges


def input_files(scenario: Scenario, base_dir: Path | None = None) -> dict[str, Path]:
    """The files a scenario reads besides itself: its dataset, observed data and edge list.

    Returns:
        Role (``states.dataset``, ``observed.dataset``, ``states.synthetic.network.file``) to
        file, for the files that exist.
    """
    out: dict[str, Path] = {}
    population = scenario.states.synthetic
    base = base_dir or Path.cwd()
    if population is not None:
        if population.network.file:
            out["states.synthetic.network.file"] = base / population.network.file
    else:
        with contextlib.suppress(DatasetError):
            out["states.dataset"] = dataset_path(scenario.states.dataset, base_dir)
    if scenario.observed.dataset is not None:
        with contextlib.suppress(DatasetError):
            out["observed.dataset"] = dataset_path(scenario.observed.dataset, base_dir)
    return {role: path for role, path in out.items() if path.is_file()}


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
