"""The points of a sweep, and how a factor's values are typed and drawn from its range.

:class:`Points` holds one typed column per factor; :func:`from_unit` maps unit-cube coordinates
onto a range factor through its distribution, :func:`grid_levels` gives a grid's values and
:func:`candidate_values` the values validation tries against the base scenario. The designs that
choose the points are in :mod:`treatysim.scenario.designs`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from treatysim.scenario.sweep import Factor, FactorValue

#: How a factor's values are stored: a numpy dtype per kind ("text" holds str or mixed values).
Kind = Literal["float", "int", "date", "bool", "text"]


class DesignError(ValueError):
    """A design cannot be built (a bad table file, too many points, or a missing library)."""


# --------------------------------------------------------------------------------------------
# the points


@dataclass(frozen=True)
class Points:
    """The points of a sweep, one column of values per factor.

    Attributes:
        factors: The sweep's factors, in file order.
        columns: One array per factor with a value per point: float64, int64, bool,
            ``datetime64[D]`` for dates, or object for text.
        unit: Shape (points, factors): unit-cube coordinates of sampled designs, else None.
        kind: The design type that made the points.
    """

    factors: tuple[Factor, ...]
    columns: tuple[NDArray[Any], ...]
    unit: NDArray[np.float64] | None
    kind: str

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    @property
    def labels(self) -> list[str]:
        """Column names: each factor's name, or its path when it has none."""
        return [f.label for f in self.factors]

    def value(self, point: int, j: int) -> FactorValue:
        """Factor ``j``'s value at ``point`` as a plain Python value (int, float, date, ...)."""
        return _plain(self.columns[j][point])

    def assignments(self, point: int) -> list[tuple[str, FactorValue]]:
        """``(key path, value)`` pairs that turn the base scenario into this point's scenario."""
        return [(f.path, self.value(point, j)) for j, f in enumerate(self.factors)]

    def frame(self) -> pd.DataFrame:
        """One row per point: ``point``, a column per factor label, then ``unit.<label>``."""
        import pandas as pd

        data: dict[str, Any] = {"point": np.arange(len(self), dtype=np.int64)}
        for label, column in zip(self.labels, self.columns, strict=True):
            if column.dtype.kind == "M":
                data[label] = pd.Series(column.astype(object), dtype=object)
            elif column.dtype == object:
                data[label] = [str(v) for v in column]
            else:
                data[label] = column
        if self.unit is not None:
            for j, label in enumerate(self.labels):
                data[f"unit.{label}"] = self.unit[:, j]
        return pd.DataFrame(data)

    def table(self) -> pa.Table:
        """The design as an Arrow table (dates as date32), as written to design.parquet."""
        import pyarrow as pa

        arrays: dict[str, pa.Array] = {"point": pa.array(np.arange(len(self), dtype=np.int64))}
        for label, column in zip(self.labels, self.columns, strict=True):
            if column.dtype.kind == "M":
                arrays[label] = pa.array(column.astype("datetime64[D]"), type=pa.date32())
            elif column.dtype == object:
                arrays[label] = pa.array([str(v) for v in column], type=pa.string())
            else:
                arrays[label] = pa.array(column)
        if self.unit is not None:
            for j, label in enumerate(self.labels):
                arrays[f"unit.{label}"] = pa.array(self.unit[:, j], type=pa.float64())
        return pa.table(arrays)


def _plain(value: Any) -> FactorValue:
    if isinstance(value, np.datetime64):
        out = value.astype("datetime64[D]").astype(object)
        assert isinstance(out, dt.date)
        return out
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


# --------------------------------------------------------------------------------------------
# factor kinds and the unit-cube map


def factor_kind(factor: Factor) -> Kind | None:
    """How a factor's values are typed; None for a table column with no values or range."""
    if factor.is_range:
        if isinstance(factor.low, dt.date):
            return "date"
        return "int" if factor.integer else "float"
    if factor.values is None:
        return None
    return kind_of(factor.values, integer=factor.integer)


def kind_of(values: Sequence[Any], *, integer: bool = False) -> Kind:
    """The kind that holds all these values (``text`` for a mix)."""
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if all(isinstance(v, dt.date) for v in values):
        return "date"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        if integer or all(isinstance(v, int) for v in values):
            return "int"
        return "float"
    return "text"


def as_column(values: Sequence[Any], kind: Kind) -> NDArray[Any]:
    """Values as one typed column (see :data:`Kind`)."""
    if kind == "date":
        return np.array([np.datetime64(v, "D") for v in values], dtype="datetime64[D]")
    if kind == "int":
        return np.array([round(v) for v in values], dtype=np.int64)
    if kind == "float":
        return np.array(values, dtype=np.float64)
    if kind == "bool":
        return np.array(values, dtype=bool)
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _bounds(factor: Factor) -> tuple[float, float]:
    low, high = factor.low, factor.high
    assert low is not None and high is not None
    if isinstance(low, dt.date) or isinstance(high, dt.date):
        assert isinstance(low, dt.date) and isinstance(high, dt.date)
        return float(low.toordinal()), float(high.toordinal())
    return float(low), float(high)


def _continuous(factor: Factor, u: NDArray[np.float64]) -> NDArray[np.float64]:
    """Map unit-cube coordinates through the factor's distribution (before any rounding)."""
    low, high = _bounds(factor)
    if factor.distribution == "loguniform":
        out = np.exp(np.log(low) + u * (np.log(high) - np.log(low)))
    elif factor.distribution == "normal":
        from scipy.stats import truncnorm

        out = truncnorm.ppf(u, -2.0, 2.0, loc=(low + high) / 2, scale=(high - low) / 4)
    else:
        out = low + u * (high - low)
    return np.clip(np.asarray(out, dtype=np.float64), low, high)


def _discrete_bounds(factor: Factor) -> tuple[int, int]:
    low, high = _bounds(factor)
    return math.ceil(low), math.floor(high)


def from_unit(factor: Factor, u: NDArray[np.float64]) -> NDArray[Any]:
    """A range factor's values at unit-cube coordinates ``u`` (sampled designs).

    Uniform whole numbers and dates give each value in the range the same probability; other
    distributions are rounded to the nearest whole number or day.
    """
    kind = factor_kind(factor)
    u = np.asarray(u, dtype=np.float64)
    if kind in ("int", "date"):
        lo, hi = _discrete_bounds(factor)
        if factor.distribution == "uniform":
            whole = lo + np.floor(u * (hi - lo + 1))
        else:
            whole = np.rint(_continuous(factor, u))
        ints = np.clip(whole, lo, hi).astype(np.int64)
        return _ordinals_to_dates(ints) if kind == "date" else ints
    return _continuous(factor, u)


def grid_levels(factor: Factor) -> NDArray[Any]:
    """The values a factor takes in a grid: its ``values``, or ``levels`` quantiles of its range."""
    kind = factor_kind(factor)
    if factor.values is not None:
        assert kind is not None
        return as_column(factor.values, kind)
    assert factor.levels is not None
    x = _continuous(factor, np.linspace(0.0, 1.0, factor.levels))
    if kind in ("int", "date"):
        lo, hi = _discrete_bounds(factor)
        ints = np.unique(np.clip(np.rint(x), lo, hi).astype(np.int64))
        return _ordinals_to_dates(ints) if kind == "date" else ints
    return x


def _ordinals_to_dates(ordinals: NDArray[np.int64]) -> NDArray[Any]:
    epoch = dt.date(1970, 1, 1).toordinal()
    return (ordinals - epoch).astype("datetime64[D]")


def candidate_values(factor: Factor) -> list[FactorValue]:
    """Values worth checking against the base scenario: every explicit value, or both bounds."""
    if factor.values is not None:
        return [_plain(v) for v in grid_levels(factor)]
    if factor.is_range:
        return [_plain(v) for v in from_unit(factor, np.array([0.0, 1.0]))]
    return []
