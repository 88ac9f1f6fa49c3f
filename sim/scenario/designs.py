"""Sweep designs: which points a sweep runs, as columns of typed factor values.

A design turns a sweep's factors into points. Sampled designs (Latin hypercube, scrambled Sobol,
Saltelli and Morris) first draw coordinates in the unit cube and then map each coordinate onto
its factor's range through the factor's distribution:

- ``uniform``: ``low + u·(high − low)``;
- ``loguniform``: ``exp(log low + u·(log high − log low))``;
- ``normal``: the quantile ``u`` of a normal with mean ``(low + high)/2`` and standard deviation
  ``(high − low)/4``, truncated to ``[low, high]``.

Whole numbers (``integer: true``) and dates are discrete. In sampled designs a uniform discrete
factor gives every whole number (or day) in the range the same probability
(``ceil(low) + floor(u·count)``); other distributions are rounded to the nearest. Grid designs
take ``levels`` evenly spaced quantiles ``u = 0, 1/(levels−1), …, 1`` of the distribution
(evenly spaced values for a uniform range, geometric ones for a log-uniform range), rounded for
discrete factors, with duplicates removed.

The unit-cube coordinates are kept with the points: Sobol' and Morris indices are computed on
them (the indices of ``f(F⁻¹(u))`` with respect to ``u`` are those of ``f`` with respect to the
factors, because each ``F⁻¹`` is a monotone map of one independent input).

All randomness of a design comes from ``SeedSequence(seed, spawn_key=(DESIGN_STREAM,))``. Runs use
two-part spawn keys ``(point, replication)``, so the design never shares a stream with a run.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from treatysim.scenario.dataset import MAX_CSV_BYTES
from treatysim.scenario.points import (
    DesignError,
    Kind,
    Points,
    as_column,
    candidate_values,
    factor_kind,
    from_unit,
    grid_levels,
    kind_of,
)
from treatysim.scenario.yamlio import read_limited

#: Names of :mod:`treatysim.scenario.points` that callers import from here.
__all__ = [
    "DESIGN_STREAM",
    "SAMPLED",
    "DesignError",
    "Points",
    "candidate_values",
    "count_points",
    "describe",
    "from_unit",
    "generate",
    "grid_levels",
    "missing_salib",
    "read_table",
]

if TYPE_CHECKING:
    from treatysim.scenario.sweep import Factor, Sweep

#: Spawn key of the design's random stream (one-part keys never collide with runs' two-part keys).
DESIGN_STREAM = 0x5EED

#: Designs whose points come with unit-cube coordinates.
SAMPLED = frozenset({"lhs", "sobol", "saltelli", "morris"})

_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --------------------------------------------------------------------------------------------
# designs


def design_rng(seed: int) -> np.random.Generator:
    """The design's random generator, derived from the sweep's root seed."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(DESIGN_STREAM,)))


def design_seed(seed: int) -> int:
    """A 32-bit integer seed for SALib's samplers, derived from the sweep's root seed."""
    return int(np.random.SeedSequence(seed, spawn_key=(DESIGN_STREAM,)).generate_state(1)[0])


def count_points(sweep: Sweep, base_dir: Path | None = None) -> int:
    """How many points the design has, without building it (tables are read)."""
    design = sweep.design
    d = len(sweep.factors)
    if design.type == "grid":
        return math.prod(len(grid_levels(f)) for f in sweep.factors)
    if design.type in ("lhs", "sobol"):
        assert design.samples is not None
        settings = math.prod(len(grid_levels(f)) for f in sweep.levers) if sweep.crossed else 1
        return design.samples * settings
    if design.type == "saltelli":
        assert design.samples is not None
        return design.samples * ((2 * d + 2) if design.second_order else (d + 2))
    if design.type == "morris":
        assert design.samples is not None
        return design.samples * (d + 1)
    assert design.file is not None
    return len(read_table(_table_path(design.file, base_dir), sweep.factors).columns[0])


#: Grids larger than this are refused (the product of level counts grows quickly).
MAX_POINTS = 10_000_000


def generate(sweep: Sweep, base_dir: Path | None = None) -> Points:
    """Build a sweep's points.

    Args:
        sweep: A validated sweep.
        base_dir: Folder that a table design's file resolves against (the sweep file's folder).

    Raises:
        DesignError: A table that does not fit the factors, a grid that is too large, or SALib
            missing for a saltelli or morris design.
    """
    design = sweep.design
    factors = tuple(sweep.factors)
    if design.type == "grid":
        return grid(factors)
    if design.type == "table":
        assert design.file is not None
        return read_table(_table_path(design.file, base_dir), factors)
    assert design.samples is not None
    if sweep.crossed:
        return crossed(sweep)
    if design.type == "lhs":
        unit = latin_hypercube(len(factors), design.samples, sweep.seed)
    elif design.type == "sobol":
        unit = sobol_sequence(len(factors), design.samples, sweep.seed)
    elif design.type == "saltelli":
        unit = saltelli(factors, design.samples, sweep.seed, second_order=design.second_order)
    else:
        unit = morris(factors, design.samples, sweep.seed, levels=design.levels)
    return from_unit_cube(factors, unit, design.type)


def from_unit_cube(factors: Sequence[Factor], unit: NDArray[np.float64], kind: str) -> Points:
    """Points from unit-cube coordinates, one row per point and one column per factor."""
    columns = tuple(from_unit(f, unit[:, j]) for j, f in enumerate(factors))
    return Points(tuple(factors), columns, np.asarray(unit, dtype=np.float64), kind)


def crossed(sweep: Sweep) -> Points:
    """Every lever setting × the uncertainties' sampled design (lhs or sobol), in factor order.

    The levers' settings are the grid of their values or levels; the uncertainties' points are
    drawn once (from the sweep's seed, over the uncertainties only) and repeated for each
    setting, so each state of the world meets every setting. The lever setting varies slowest:
    point ``p`` is setting ``p // samples`` in state of the world ``p % samples``. The points
    keep no unit-cube coordinates (the crossed design is not a Sobol' or Morris design).
    """
    design = sweep.design
    assert design.samples is not None and design.type in ("lhs", "sobol")
    uncertainties = sweep.uncertainties
    draw = latin_hypercube if design.type == "lhs" else sobol_sequence
    unit = draw(len(uncertainties), design.samples, sweep.seed)
    states = {f.label: from_unit(f, unit[:, j]) for j, f in enumerate(uncertainties)}
    settings = grid(sweep.levers)
    n_settings, n_states = len(settings), design.samples
    size = n_settings * n_states
    if size > MAX_POINTS:
        raise DesignError(f"the crossed design has {size:,} points (at most {MAX_POINTS:,})")
    lever_columns = dict(zip(settings.labels, settings.columns, strict=True))
    columns = []
    for factor in sweep.factors:
        if factor.role == "lever":
            columns.append(np.repeat(lever_columns[factor.label], n_states))
        else:
            columns.append(np.tile(states[factor.label], n_settings))
    return Points(
        tuple(sweep.factors), tuple(columns), None, f"{design.type} (crossed with levers)"
    )


def grid(factors: Sequence[Factor]) -> Points:
    """Every combination of the factors' levels; the last factor varies fastest."""
    levels = [grid_levels(f) for f in factors]
    size = math.prod(len(v) for v in levels)
    if size > MAX_POINTS:
        raise DesignError(f"the grid has {size:,} points (at most {MAX_POINTS:,})")
    index = np.indices([len(v) for v in levels]).reshape(len(levels), -1)
    columns = tuple(v[i] for v, i in zip(levels, index, strict=True))
    return Points(tuple(factors), columns, None, "grid")


def latin_hypercube(d: int, n: int, seed: int) -> NDArray[np.float64]:
    """``n`` Latin-hypercube points in ``[0, 1)^d``: each of n equal bins of each axis holds one."""
    from scipy.stats import qmc

    return np.asarray(qmc.LatinHypercube(d, rng=design_rng(seed)).random(n), dtype=np.float64)


def sobol_sequence(d: int, n: int, seed: int) -> NDArray[np.float64]:
    """The first ``n`` (a power of two) points of a scrambled Sobol' sequence in ``[0, 1)^d``."""
    from scipy.stats import qmc

    if n & (n - 1):
        raise DesignError(f"sobol samples must be a power of two (got {n})")
    engine = qmc.Sobol(d, scramble=True, rng=design_rng(seed))
    return np.asarray(engine.random_base2(int(n).bit_length() - 1), dtype=np.float64)


def _salib_problem(factors: Sequence[Factor]) -> dict[str, Any]:
    return {
        "num_vars": len(factors),
        "names": [f.label for f in factors],
        "bounds": [[0.0, 1.0]] * len(factors),
    }


def saltelli(
    factors: Sequence[Factor], n: int, seed: int, *, second_order: bool = False
) -> NDArray[np.float64]:
    """Saltelli's sampling scheme (SALib) in the unit cube: ``n·(D+2)`` rows, or ``n·(2D+2)``.

    Rows must stay in this order: :func:`treatysim.analysis.sensitivity.sobol_indices` reads
    the outcomes of the matrices A, B and A_B^i from their positions.
    """
    try:
        from SALib.sample import sobol as salib_sobol
    except ImportError as exc:
        raise DesignError(missing_salib("saltelli")) from exc
    x = salib_sobol.sample(
        _salib_problem(factors),
        n,
        calc_second_order=second_order,
        scramble=True,
        seed=design_seed(seed),
    )
    return np.asarray(x, dtype=np.float64)


def morris(factors: Sequence[Factor], r: int, seed: int, *, levels: int = 4) -> NDArray[np.float64]:
    """``r`` Morris trajectories (SALib) on a ``levels``-level grid of the unit cube.

    Each trajectory is ``D + 1`` consecutive rows that differ in one factor at a time.
    """
    try:
        from SALib.sample import morris as salib_morris
    except ImportError as exc:
        raise DesignError(missing_salib("morris")) from exc
    x = salib_morris.sample(_salib_problem(factors), r, num_levels=levels, seed=design_seed(seed))
    return np.asarray(x, dtype=np.float64)


def missing_salib(design: str) -> str:
    """The one-line message for a saltelli or morris design without SALib installed."""
    install = 'pip install "treatysim[sensitivity]"'
    return f"the {design} design needs SALib, which is not installed: {install}"


# --------------------------------------------------------------------------------------------
# table designs


def _table_path(file: str, base_dir: Path | None) -> Path:
    return (base_dir or Path.cwd()) / file


def _parse_cell(text: str, kind: Kind | None) -> Any:
    """A CSV cell as a typed value: the factor's kind when known, else inferred from the text."""
    cell = text.strip()
    if kind == "date" or (kind is None and _DATE.match(cell)):
        return dt.date.fromisoformat(cell)
    if kind == "bool" or (kind is None and cell.lower() in ("true", "false")):
        if cell.lower() not in ("true", "false"):
            raise ValueError(f"'{cell}' is not true or false")
        return cell.lower() == "true"
    if kind == "int":
        number = float(cell)
        if not number.is_integer():
            raise ValueError(f"'{cell}' is not a whole number")
        return int(number)
    if kind == "float":
        return float(cell)
    if kind is None and _INT.match(cell):
        return int(cell)
    if kind is None and _FLOAT.match(cell):
        return float(cell)
    return cell


def read_table(path: Path, factors: Sequence[Factor]) -> Points:
    """A table design: one CSV row per point, one column per factor (its name or its path).

    Cells are typed by the factor (dates, whole numbers, numbers, true/false) when it gives
    values or a range; otherwise ISO dates, integers, numbers and true/false are recognised and
    anything else is text. A factor with values or a range must keep inside them.

    Raises:
        DesignError: A missing file, a missing or unknown column, an empty or unreadable cell,
            or a value outside the factor's range or values.
    """
    try:
        text = read_limited(path, max_bytes=MAX_CSV_BYTES).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except OSError as exc:
        raise DesignError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise DesignError(
            f"{path.name}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x})"
        ) from None
    except csv.Error as exc:
        raise DesignError(f"{path.name}: not valid CSV ({exc})") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise DesignError(f"{path.name}: the table is empty")
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    if not body:
        raise DesignError(f"{path.name}: the table has a header but no points")
    positions: list[int] = []
    for factor in factors:
        names = [n for n in (factor.name, factor.path) if n]
        found = [header.index(n) for n in names if n in header]
        if not found:
            raise DesignError(f"{path.name}: no column named {' or '.join(names)}")
        positions.append(found[0])
    known = {n for f in factors for n in (f.name, f.path) if n}
    extra = [h for h in header if h not in known and h != "point"]
    if extra:
        raise DesignError(f"{path.name}: column '{extra[0]}' is not a factor of the sweep")
    columns: list[NDArray[Any]] = []
    for factor, pos in zip(factors, positions, strict=True):
        kind = factor_kind(factor)
        values: list[Any] = []
        for line, row in enumerate(body, start=2):
            cell = row[pos] if pos < len(row) else ""
            if not cell.strip():
                raise DesignError(f"{path.name}:{line}: empty cell in column '{header[pos]}'")
            try:
                value = _parse_cell(cell, kind)
            except ValueError as exc:
                raise DesignError(f"{path.name}:{line}: column '{header[pos]}': {exc}") from None
            _check_inside(factor, value, f"{path.name}:{line}")
            values.append(value)
        columns.append(as_column(values, kind or kind_of(values)))
    return Points(tuple(factors), tuple(columns), None, "table")


def _check_inside(factor: Factor, value: Any, where: str) -> None:
    if factor.values is not None:
        allowed = candidate_values(factor)
        if value not in allowed:
            raise DesignError(f"{where}: {value!r} is not one of the values of '{factor.label}'")
    elif factor.is_range:
        low, high = factor.low, factor.high
        if not (low <= value <= high):
            raise DesignError(f"{where}: {value} is outside [{low}, {high}] of '{factor.label}'")


def describe(points: Points) -> str:
    """One line: the design type, the factors and the number of points."""
    factors = ", ".join(points.labels)
    size = f"{len(points):,} points"
    return f"{points.kind} design over {len(points.factors)} factors ({factors}): {size}"
