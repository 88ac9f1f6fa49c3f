"""Docs follow the code: the ODD's parameter table is the schema's."""

from __future__ import annotations

from pathlib import Path

from sim.doc import END, START, parameter_rows, parameter_table

ROOT = Path(__file__).resolve().parent.parent


def test_odd_parameter_table_matches_the_schema() -> None:
    text = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    committed = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert committed == parameter_table().strip(), "run `python -m sim.doc` to regenerate"


def test_every_parameter_has_default_unit_range_and_source() -> None:
    rows = parameter_rows()
    assert len(rows) >= 25
    for row in rows:
        assert row["default"] and row["unit"] and row["source"] and row["meaning"], row
        low, high = (float(x) for x in row["range"].split(" – "))
        assert low <= float(row["default"]) <= high, row
