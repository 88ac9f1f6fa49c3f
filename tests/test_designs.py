"""Sweep designs: grids, Latin hypercubes, Sobol' sequences, SALib designs, tables, validation."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from treatysim.scenario import designs
from treatysim.scenario.designs import DesignError
from treatysim.scenario.errors import ValidationError
from treatysim.scenario.load import load_sweep
from treatysim.scenario.sweep import Sweep

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def make(factors: list[dict[str, Any]], design: dict[str, Any], seed: int = 1) -> Sweep:
    """A sweep model (not checked against a base scenario)."""
    return Sweep.model_validate(
        {
            "schema_version": 1,
            "name": "t",
            "base": "base.yaml",
            "factors": factors,
            "design": design,
            "seed": seed,
        }
    )


def test_grid_is_every_combination_last_factor_fastest() -> None:
    sweep = make(
        [
            {"name": "a", "path": "p.a", "values": [1.5, 2.5]},
            {"name": "b", "path": "p.b", "values": ["x", "y", "z"]},
            {"name": "c", "path": "p.c", "low": 0.0, "high": 1.0, "levels": 3},
        ],
        {"type": "grid"},
    )
    points = designs.generate(sweep)
    assert len(points) == 2 * 3 * 3 == designs.count_points(sweep)
    rows = [tuple(points.value(p, j) for j in range(3)) for p in range(len(points))]
    expected = [(a, b, c) for a in (1.5, 2.5) for b in ("x", "y", "z") for c in (0.0, 0.5, 1.0)]
    assert rows == expected
    assert points.unit is None
    assert points.assignments(4) == [("p.a", 1.5), ("p.b", "y"), ("p.c", 0.5)]


def test_grid_levels_follow_the_distribution() -> None:
    log = make(
        [{"path": "p.a", "low": 1.0, "high": 100.0, "levels": 3, "distribution": "loguniform"}],
        {"type": "grid"},
    )
    np.testing.assert_allclose(designs.generate(log).columns[0], [1.0, 10.0, 100.0])
    whole = make(
        [{"path": "p.a", "low": 1, "high": 3, "levels": 6, "integer": True}], {"type": "grid"}
    )
    values = [designs.generate(whole).value(p, 0) for p in range(3)]
    assert values == [1, 2, 3] and all(type(v) is int for v in values)


def test_latin_hypercube_puts_one_sample_in_each_bin_of_each_factor() -> None:
    n = 50
    sweep = make(
        [
            {"name": "a", "path": "p.a", "low": 2.0, "high": 7.0},
            {"name": "b", "path": "p.b", "low": -1.0, "high": 1.0},
            {"name": "c", "path": "p.c", "low": 0.0, "high": 10.0},
        ],
        {"type": "lhs", "samples": n},
        seed=42,
    )
    points = designs.generate(sweep)
    assert points.unit is not None and points.unit.shape == (n, 3)
    for j, (low, high) in enumerate([(2.0, 7.0), (-1.0, 1.0), (0.0, 10.0)]):
        bins = np.floor(points.unit[:, j] * n).astype(int)
        assert sorted(bins) == list(range(n))
        value_bins = np.floor((points.columns[j] - low) / (high - low) * n).astype(int)
        assert sorted(value_bins) == list(range(n))
    again = designs.generate(sweep)
    np.testing.assert_array_equal(again.unit, points.unit)  # seeded from the sweep's seed
    other = designs.generate(sweep.model_copy(update={"seed": 43}))
    assert not np.array_equal(other.unit, points.unit)


def test_sobol_sequence_is_balanced_and_seeded() -> None:
    sweep = make(
        [{"path": "p.a", "low": 0.0, "high": 1.0}, {"path": "p.b", "low": 0.0, "high": 1.0}],
        {"type": "sobol", "samples": 64},
        seed=9,
    )
    points = designs.generate(sweep)
    assert len(points) == 64
    # a base-2 Sobol' net: each half, quarter, ... of an axis holds its share of the points
    for j in range(2):
        assert (
            np.bincount(np.floor(points.columns[j] * 8).astype(int), minlength=8).tolist()
            == [8] * 8
        )
    np.testing.assert_array_equal(designs.generate(sweep).unit, points.unit)


def test_sobol_and_saltelli_need_a_power_of_two_at_validation(tmp_path: Path) -> None:
    for kind in ("sobol", "saltelli"):
        path = tmp_path / f"{kind}.yaml"
        path.write_text(
            "schema_version: 1\nname: s\nbase: ../base.yaml\n"
            "factors:\n  - {path: parameters.threat.sensitivity, low: 1.0, high: 3.0}\n"
            f"design: {{type: {kind}, samples: 100}}\n",
            encoding="utf-8",
        )
        with pytest.raises(ValidationError) as err:
            load_sweep(path)
        text = str(err.value)
        assert "power of two" in text and "try 64 or 128" in text
        assert f"{path}:" in text  # FILE:LINE:COL


def test_validation_catches_bounds_paths_and_design_mismatch(tmp_path: Path) -> None:
    base = (SCENARIOS / "ottawa_2025.yaml").read_text(encoding="utf-8")
    (tmp_path / "base.yaml").write_text(base, encoding="utf-8")
    cases = {
        "low: 3.0, high: 1.0": "bounds the wrong way round",
        "low: 1.0, high: 3.0, distribution: loguniform, integer: true, levels: 2": None,
    }
    for factor, message in cases.items():
        path = tmp_path / "s.yaml"
        path.write_text(
            "schema_version: 1\nname: s\nbase: base.yaml\n"
            f"factors:\n  - {{path: parameters.threat.sensitivity, {factor}}}\n"
            "design: {type: grid}\n",
            encoding="utf-8",
        )
        if message is None:
            load_sweep(path)
        else:
            with pytest.raises(ValidationError, match=message):
                load_sweep(path)
    path = tmp_path / "typo.yaml"
    path.write_text(
        "schema_version: 1\nname: s\nbase: base.yaml\n"
        "factors:\n  - {path: parameters.threat.sensitivty, values: [1.0]}\n"
        "  - {path: 'events[9].date', values: [2025-05-01]}\n"
        "  - {path: parameters.threat.alarm_spread, values: [0.1]}\n"
        "design: {type: lhs, samples: 4}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as err:
        load_sweep(path)
    text = str(err.value)
    assert "did you mean 'sensitivity'" in text
    assert "factors[1].path: unknown key path" in text
    assert "a lhs design needs a range" in text


def test_date_factors_are_dates_inside_their_range() -> None:
    low, high = dt.date(2025, 4, 1), dt.date(2027, 1, 1)
    sweep = make(
        [{"path": "events.ceasefire.date", "low": low, "high": high}],
        {"type": "lhs", "samples": 40},
    )
    points = designs.generate(sweep)
    values = [points.value(p, 0) for p in range(len(points))]
    assert all(type(v) is dt.date and low <= v <= high for v in values)
    assert len(set(values)) == 40
    grid = make(
        [{"path": "events.ceasefire.date", "low": low, "high": high, "levels": 3}], {"type": "grid"}
    )
    g = designs.generate(grid)
    assert [g.value(p, 0) for p in range(3)] == [low, dt.date(2026, 2, 15), high]
    listed = make([{"path": "events.ceasefire.date", "values": [low, high]}], {"type": "grid"})
    assert designs.generate(listed).value(1, 0) == high
    table = designs.generate(grid).table()
    assert str(table.schema.field("events.ceasefire.date").type) == "date32[day]"


def test_integer_factors_are_whole_numbers_with_equal_chances() -> None:
    sweep = make(
        [{"path": "p.k", "low": 1, "high": 4, "integer": True}], {"type": "lhs", "samples": 400}
    )
    points = designs.generate(sweep)
    values = [points.value(p, 0) for p in range(len(points))]
    assert all(type(v) is int for v in values)
    assert np.bincount(values).tolist() == [0, 100, 100, 100, 100]  # LHS: exactly equal shares
    assert points.columns[0].dtype == np.int64


def test_distributions_map_the_unit_cube_onto_the_range() -> None:
    u = np.array([0.0, 0.5, 1.0])
    normal = make(
        [{"path": "p.a", "low": 0.0, "high": 4.0, "distribution": "normal"}],
        {"type": "lhs", "samples": 2},
    ).factors[0]
    np.testing.assert_allclose(designs.from_unit(normal, u), [0.0, 2.0, 4.0])
    log = make(
        [{"path": "p.a", "low": 0.01, "high": 1.0, "distribution": "loguniform"}],
        {"type": "lhs", "samples": 2},
    ).factors[0]
    np.testing.assert_allclose(designs.from_unit(log, u), [0.01, 0.1, 1.0])
    sample = designs.from_unit(normal, np.random.default_rng(0).random(20000))
    assert abs(sample.mean() - 2.0) < 0.02 and abs(sample.std() - 0.88) < 0.02  # sd 1, cut at ±2


def test_saltelli_and_morris_sizes() -> None:
    factors = [{"path": f"p.x{i}", "low": 0.0, "high": 1.0} for i in range(3)]
    assert len(designs.generate(make(factors, {"type": "saltelli", "samples": 16}))) == 16 * 5
    assert (
        len(
            designs.generate(
                make(factors, {"type": "saltelli", "samples": 16, "second_order": True})
            )
        )
        == 16 * 8
    )
    morris = designs.generate(make(factors, {"type": "morris", "samples": 10, "levels": 4}))
    assert len(morris) == 10 * 4
    assert morris.unit is not None
    steps = np.abs(np.diff(morris.unit.reshape(10, 4, 3), axis=1))
    assert ((steps > 0).sum(axis=2) == 1).all()  # one factor moves at a time
    assert np.isin(np.round(morris.unit * 3, 9), [0, 1, 2, 3]).all()  # on the 4-level grid


def test_table_design_reads_columns_by_name_or_path(tmp_path: Path) -> None:
    (tmp_path / "points.csv").write_text(
        "sensitivity,events.ceasefire.date,states.overrides.NOR.stigma\n"
        "2.5,2025-06-01,0\n3.5,2026-01-15,1.2\n",
        encoding="utf-8",
    )
    sweep = make(
        [
            {"name": "sensitivity", "path": "parameters.threat.sensitivity"},
            {"path": "events.ceasefire.date"},
            {"path": "states.overrides.NOR.stigma", "low": 0.0, "high": 2.0},
        ],
        {"type": "table", "file": "points.csv"},
    )
    points = designs.generate(sweep, tmp_path)
    assert len(points) == 2 == designs.count_points(sweep, tmp_path)
    assert points.assignments(1) == [
        ("parameters.threat.sensitivity", 3.5),
        ("events.ceasefire.date", dt.date(2026, 1, 15)),
        ("states.overrides.NOR.stigma", 1.2),
    ]
    assert type(points.value(0, 2)) is float  # typed by the factor's range, though written "0"
    assert points.frame()["point"].tolist() == [0, 1]


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("a\n1\n", "no column named b"),
        ("a,b,c\n1,2,3\n", "column 'c' is not a factor"),
        ("a,b\n1,\n", "points.csv:2: empty cell in column 'b'"),
        ("a,b\n1,9\n", "9.0 is outside [0.0, 5.0]"),
        ("a,b\n", "no points"),
    ],
)
def test_table_design_errors_name_the_row(tmp_path: Path, csv: str, message: str) -> None:
    (tmp_path / "points.csv").write_text(csv, encoding="utf-8")
    sweep = make(
        [{"path": "a"}, {"path": "b", "low": 0.0, "high": 5.0}],
        {"type": "table", "file": "points.csv"},
    )
    with pytest.raises(DesignError, match=message.replace("[", r"\[").replace(".", r"\.")):
        designs.generate(sweep, tmp_path)


def test_table_problems_are_validation_errors(tmp_path: Path) -> None:
    base = (SCENARIOS / "ottawa_2025.yaml").read_text(encoding="utf-8")
    (tmp_path / "base.yaml").write_text(base, encoding="utf-8")
    (tmp_path / "t.csv").write_text("parameters.threat.sensitivity\n2.0\n11.0\n", encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text(
        "schema_version: 1\nname: s\nbase: base.yaml\n"
        "factors:\n  - {path: parameters.threat.sensitivity}\n"
        "design: {type: table, file: t.csv}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError, match=r"value 11\.0.*must be <= 10"):
        load_sweep(path)
    (tmp_path / "t.csv").write_text("parameters.threat.sensitivity\n2.0\n\n", encoding="utf-8")
    assert load_sweep(path).model.design.type == "table"
    assert math.isclose(designs.generate(load_sweep(path).model, tmp_path).value(0, 0), 2.0)
