"""The scenario files that ship with treatysim, and how a name finds one.

Bundled scenarios are package data (``treatysim.scenarios``, the ``scenarios/`` folder), found
through ``importlib.resources`` so that names work the same from a source checkout and from an
installed wheel. ``treatysim run ottawa_2025``, the demo's dropdown and the Python API all look
names up here.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
from pathlib import Path
from typing import TYPE_CHECKING

from treatysim.scenario.yamlio import load_yaml_file

if TYPE_CHECKING:
    from treatysim.scenario.schema import Scenario

#: The package that holds the bundled scenario and sweep files.
SCENARIOS_PACKAGE = "treatysim.scenarios"
#: Event id whose date the demo's ceasefire slider moves (``--set events.ceasefire.date=...``).
CEASEFIRE_ID = "ceasefire"


def scenario_root() -> Path:
    """The folder of the bundled scenarios, installed or not."""
    return Path(str(importlib.resources.files(SCENARIOS_PACKAGE)))


def bundled_or_path(name: str | Path) -> Path:
    """A file path as given, or, when no such file exists, a bundled file of that name.

    ``ottawa_2025``, ``teaching/granovetter_riot`` and ``sweeps/ceasefire_timing`` name bundled
    files (with or without ``.yaml``). A name that is neither is returned as a path, so that
    loading it reports the missing file.
    """
    path = Path(name)
    if path.exists():
        return path
    root = scenario_root()
    for candidate in (root / name, root / f"{name}.yaml"):
        if candidate.is_file():
            return candidate
    return path


def has_ceasefire(path: Path) -> bool:
    """Whether a scenario file has an event with id :data:`CEASEFIRE_ID` (read, not validated)."""
    data = load_yaml_file(path).data
    events = data.get("events") if isinstance(data, dict) else None
    return any(isinstance(e, dict) and e.get("id") == CEASEFIRE_ID for e in events or [])


def ceasefire_date(scenario: Scenario) -> dt.date | None:
    """The date of the scenario's event with id :data:`CEASEFIRE_ID`, or None when it has none."""
    for event in scenario.events:
        if event.id == CEASEFIRE_ID:
            date: dt.date = event.date
            return date
    return None


@functools.lru_cache(maxsize=1)
def bundled_scenarios() -> dict[str, Path]:
    """The bundled scenarios a class can open: teaching scenarios, then those with a ceasefire.

    Returns:
        Key (path under the scenario folder, without ``.yaml``) → file.
    """
    root = scenario_root()
    out = {f"teaching/{p.stem}": p for p in sorted((root / "teaching").glob("*.yaml"))}
    for path in sorted(root.glob("*.yaml")):
        if has_ceasefire(path):
            out[path.stem] = path
    return out


def scenario_key(path: Path | str) -> str:
    """The key of a scenario file: its bundled key, or the path itself."""
    resolved = Path(path).resolve()
    for key, bundled in bundled_scenarios().items():
        if bundled.resolve() == resolved:
            return key
    return str(path)


def resolve_scenario(name: str) -> Path:
    """The file behind a bundled key (``teaching/baltic_simple``) or a scenario file's path.

    Raises:
        FileNotFoundError: Neither a bundled scenario nor an existing file.
    """
    bundled = bundled_scenarios()
    if name in bundled:
        return bundled[name]
    path = bundled_or_path(name)
    if path.is_file():
        return path
    known = ", ".join(bundled)
    raise FileNotFoundError(f"{name}: not a bundled scenario ({known}) nor a scenario file")
