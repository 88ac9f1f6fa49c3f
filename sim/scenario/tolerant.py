"""Parsing that reports YAML-level problems without stopping, so one pass shows them all.

:func:`~treatysim.scenario.yamlio.load_yaml_text` raises on the first kind of problem it meets:
a duplicate key or a tag outside the core schema ends the load before the schema has seen the
file. When the text still composes (only a syntax error stops composition), this module keeps the
document it converted (a duplicate key keeps its last value, a refused value becomes null) and
hands the problems back, so the schema and the cross-checks run too and ``treatysim validate``
reports everything in one call.
"""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

from treatysim.scenario import yamlio
from treatysim.scenario.errors import Problem, ValidationError
from treatysim.scenario.yamlio import Document, load_yaml_text, read_text


def parse_file(path: Path | str) -> tuple[Document, list[Problem]]:
    """Read and parse a YAML file, returning the YAML-level problems instead of raising them.

    Raises:
        ValidationError: The file cannot be read, or does not parse into a mapping at all.
    """
    file = str(path)
    text = read_text(path)
    try:
        return load_yaml_text(text, file), []
    except ValidationError as exc:
        salvaged = _salvage(text, file)
        if salvaged is None:
            raise
        return salvaged, exc.problems


def _salvage(text: str, file: str) -> Document | None:
    """The document as converted despite its problems, or None when there is none to check.

    Uses the converter of :mod:`~treatysim.scenario.yamlio`; if that ever changes shape, the
    loader falls back to reporting the YAML-level problems alone.
    """
    try:
        yaml = YAML(typ="safe", pure=True)
        node = yaml.compose(text)
        if node is None:
            return None
        doc = Document(data=None, file=file)
        doc.data = yamlio._Converter(doc, yaml.constructor).convert(node, ())
    except Exception:  # a syntax error, a document too large or too deep: nothing to salvage
        return None
    return doc if isinstance(doc.data, dict) else None


def without_repeats(first: list[Problem], later: list[Problem]) -> list[Problem]:
    """``first`` plus the problems of ``later`` at places ``first`` has not reported already.

    A value the YAML level refused becomes null, which the schema reports again at the same
    place; that repeat says nothing new.
    """
    places = {(p.file, p.line, p.column) for p in first}
    return first + [p for p in later if (p.file, p.line, p.column) not in places]
