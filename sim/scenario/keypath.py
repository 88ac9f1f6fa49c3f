"""Key paths into scenario documents: ``parameters.threat.sensitivity``, ``events[0].date``.

Used by ``--set`` and by sweep factors. A segment may index a list (``events[2]``) or pick a
list item by its ``id`` (``events.zapad_2025.capability_boost``). Missing mapping keys are
created, so ``states.overrides.NOR.stigma`` works even when NOR has no overrides yet.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from treatysim.scenario.errors import ValidationError
from treatysim.scenario.yamlio import load_yaml_text

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class KeyPathError(ValueError):
    """A key path is malformed or does not fit the document."""


def parse(path: str) -> list[str | int]:
    """Split a key path into keys and list indices.

    Raises:
        KeyPathError: The path is empty or malformed.
    """
    if not path or path.startswith(".") or path.endswith(".") or ".." in path:
        raise KeyPathError(f"malformed key path '{path}'")
    parts: list[str | int] = []
    pos = 0
    for match in _SEGMENT.finditer(path):
        between = path[pos : match.start()]
        # a key follows a dot (or starts the path); an index follows a key or an index directly
        expected = ("." if parts else "") if match.group(1) is not None else ("" if parts else None)
        if between != expected:
            raise KeyPathError(f"malformed key path '{path}'")
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        pos = match.end()
    if pos != len(path) or not parts:
        raise KeyPathError(f"malformed key path '{path}'")
    return parts


def _step(node: Any, part: str | int, path: str, *, create: bool) -> Any:
    if isinstance(node, list):
        if isinstance(part, int):
            if not 0 <= part < len(node):
                raise KeyPathError(f"{path}: index {part} is out of range ({len(node)} items)")
            return node[part]
        for item in node:
            if isinstance(item, dict) and item.get("id") == part:
                return item
        raise KeyPathError(f"{path}: no item with id '{part}'")
    if isinstance(node, dict):
        if isinstance(part, int):
            raise KeyPathError(f"{path}: [{part}] indexes a list, but this is a mapping")
        if part not in node:
            if not create:
                raise KeyPathError(f"{path}: no key '{part}'")
            node[part] = {}
        return node[part]
    raise KeyPathError(f"{path}: cannot descend into a {type(node).__name__}")


def get_path(data: Any, path: str) -> Any:
    """The value at a key path.

    Raises:
        KeyPathError: A segment is missing.
    """
    node = data
    for part in parse(path):
        node = _step(node, part, path, create=False)
    return node


def set_path(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``data`` with the value at ``path`` replaced.

    Raises:
        KeyPathError: The path is malformed or runs through a scalar or a missing list item.
    """
    out = copy.deepcopy(data)
    parts = parse(path)
    node: Any = out
    for part in parts[:-1]:
        node = _step(node, part, path, create=True)
    last = parts[-1]
    if isinstance(node, list):
        if isinstance(last, int) and 0 <= last < len(node):
            node[last] = value
        else:
            raise KeyPathError(f"{path}: cannot set list item {last!r}")
    elif isinstance(node, dict):
        if isinstance(last, int):
            raise KeyPathError(f"{path}: [{last}] indexes a list, but this is a mapping")
        node[last] = value
    else:
        raise KeyPathError(f"{path}: cannot set a key inside a {type(node).__name__}")
    return out


def parse_assignment(text: str) -> tuple[str, Any]:
    """Split ``key.path=value`` and read the value as a YAML scalar or flow collection.

    Raises:
        KeyPathError: No ``=``, or the value is not plain YAML.
    """
    if "=" not in text:
        raise KeyPathError(f"'{text}': expected key.path=value")
    path, raw = text.split("=", 1)
    path = path.strip()  # `key.path = value` is a natural way to write it
    parse(path)
    try:
        data = load_yaml_text(f"value: {raw}\n", "--set").data
    except ValidationError as exc:
        raise KeyPathError(
            f"{path}: cannot read value '{raw}': {exc.problems[0].message}"
        ) from None
    if list(data) != ["value"]:  # a newline in the value would smuggle in more keys
        raise KeyPathError(f"{path}: cannot read value {raw!r}: expected a single value")
    return path, data["value"]
