"""Effective provenance: the tags of inputs a run overrides follow the override.

A scenario file tags its numbers (:mod:`treatysim.scenario.provenance`). When a run replaces one
of them — ``--set`` (kind ``override``), a sweep factor (kind ``swept``) or a posterior draw
(kind ``fitted``) — the file's tag no longer describes the value that runs. :func:`retag`
replaces every tag at or under the overridden key path with the override's own tag, on each
taggable value the override sets (numbers, true/false, dates, texts and lists of them; not the
run settings under ``run`` and ``calendar``, the file's ``name`` or ``description``, nor
``provenance`` itself).

Key paths are compared where they land in the document, so ``events.ceasefire.freed_share`` and
``events[3].freed_share`` name the same input, and ``--set states.overrides.NOR={stigma: 0.5}``
replaces the tag of ``states.overrides.NOR.stigma``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from treatysim.scenario.keypath import KeyPathError, get_path, parse

#: Top-level keys whose values are not model inputs: an override there is not retagged.
NOT_INPUTS = frozenset(
    {"schema_version", "name", "description", "extends", "calendar", "run", "provenance"}
)


def located(data: Any, path: str) -> tuple[str | int, ...]:
    """Where a key path lands: its keys, with list items picked by id turned into indices.

    The part of the path that runs past the document (a default the file does not set) is kept
    as written, so two spellings of one input compare equal wherever the document has them.
    """
    try:
        parts = parse(path)
    except KeyPathError:
        return (path,)
    node: Any = data
    out: list[str | int] = []
    for i, part in enumerate(parts):
        step = _index(node, part)
        if step is None:
            return (*out, *parts[i:])
        out.append(step)
        node = node[step]
    return tuple(out)


def _index(node: Any, part: str | int) -> str | int | None:
    """The key or list index ``part`` lands on in ``node`` (an id: its item's index), or None."""
    if isinstance(node, list):
        if isinstance(part, int):
            return part if 0 <= part < len(node) else None
        ids = [item.get("id") if isinstance(item, dict) else None for item in node]
        return ids.index(part) if part in ids else None
    if isinstance(node, dict) and isinstance(part, str) and part in node:
        return part
    return None


def input_paths(value: Any, path: str) -> list[str]:
    """The key paths of the taggable values an override sets at ``path`` (``value`` set there).

    A mapping gives its entries' paths (but an item's ``id``), a list of mappings its items'
    (``path.<id>`` for an item with an id, else ``path[i]``); any other value but null is one
    input.
    """
    if value is None:
        return []
    if isinstance(value, dict):  # an item's ``id`` names it: it is not an input
        return [
            p for key, v in value.items() if key != "id" for p in input_paths(v, f"{path}.{key}")
        ]
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        out: list[str] = []
        for i, item in enumerate(value):
            ident = item.get("id") if isinstance(item, dict) else None
            name = f"{path}.{ident}" if isinstance(ident, str) else f"{path}[{i}]"
            out.extend(input_paths(item, name))
        return out
    return [path]


def is_input(path: str) -> bool:
    """Whether a key path names a model input (not a run setting or the file's own text)."""
    try:
        head = parse(path)[0]
    except KeyPathError:
        return False
    return head not in NOT_INPUTS


def retag[T](tags: Mapping[str, T], data: Any, path: str, entry: T) -> dict[str, T]:
    """The tags after an override: those at or under ``path`` replaced by ``entry``.

    Args:
        tags: Key path to provenance (raw mappings or :class:`Provenance` models).
        data: The document (or resolved scenario) with the override already applied.
        path: The overridden key path.
        entry: The override's provenance, given to every input it sets.

    Returns:
        A new mapping; ``tags`` itself (copied) when ``path`` is not a model input.
    """
    out = dict(tags)
    if not is_input(path):
        return out
    where = located(data, path)
    n = len(where)
    for key in list(out):
        if located(data, key)[:n] == where:
            del out[key]
    try:
        value = get_path(data, path)
    except KeyPathError:
        return out
    for key in input_paths(value, path):
        out[key] = entry
    return out


def retag_document(data: dict[str, Any], path: str, entry: dict[str, Any]) -> dict[str, Any]:
    """A scenario document (override applied) with its ``provenance`` retagged for ``path``."""
    tags = data.get("provenance")
    if tags is not None and not isinstance(tags, dict):
        return data  # malformed: the schema reports it
    new = retag(tags or {}, data, path, entry)
    if new == (tags or {}):
        return data
    return {**data, "provenance": new}
