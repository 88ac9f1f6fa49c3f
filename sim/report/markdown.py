"""Small helpers every report shares: numbers with intervals, Markdown tables, plain JSON."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: What a table says when it has no rows.
NO_ROWS = "(no rows: no state qualifies in the ok replications)"


def fmt_p(prop: Mapping[str, Any] | None, digits: int = 2) -> str:
    """``0.62 [0.31, 0.86]`` for a proportion, mean or difference dict; ``–`` when undefined.

    Args:
        prop: A dict with ``p``, ``mean`` or ``diff`` and optional bounds ``lo`` and ``hi``.
        digits: Decimals shown.
    """
    if not prop:
        return "–"
    value = prop.get("p", prop.get("mean", prop.get("diff")))
    if value is None:
        return "–"
    if prop.get("lo") is None:
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} [{prop['lo']:.{digits}f}, {prop['hi']:.{digits}f}]"


def table_row(cells: Sequence[Any]) -> str:
    """One Markdown table row."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], empty: str = NO_ROWS) -> list[str]:
    """Markdown table lines and a blank line; the note ``empty`` instead when there are no rows.

    Args:
        header: Column titles.
        rows: Cells, one sequence per row.
        empty: What to write when there are no rows.
    """
    if not rows:
        return [empty, ""]
    lines = [table_row(header), "|" + "---|" * len(header)]
    lines += [table_row(row) for row in rows]
    return [*lines, ""]


def jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars to Python, NaN and infinities to None, dates to ISO."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
