"""The dated forecast (tools/forecast.py, docs/forecasts.md; issue 12 item 8).

The committed document's numbers come from a long run that a test cannot repeat; what is tested
is the table's arithmetic on hand-made runs, the document's structure on a tiny run of the
command, and that the committed document has the same structure and names the hash of the
posterior that is shipped.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from treatysim.calibration.ensemble import calibration_hash

from modelkit import load_tool

ROOT = Path(__file__).resolve().parent.parent
CELL = re.compile(r"^(\d\.\d{3}) \[(\d\.\d{3}), (\d\.\d{3})\]$")


def _tool() -> ModuleType:
    return load_tool("forecast")


def _parse(text: str, today: str) -> tuple[list[str], dict[str, list[str]]]:
    """The forecast table's header and rows (state → cells) of a forecast document."""
    lines = [ln for ln in text.splitlines() if ln.startswith("| ")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[1:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    assert f"Made on **{today}**" in text
    return header, rows


def _check_structure(tool: ModuleType, text: str, today: str) -> dict[str, list[str]]:
    header, rows = _parse(text, today)
    assert header == [c.replace("{today}", today) for c in tool.COLUMNS]
    assert {"NOR", "SWE", "FIN", "EST", "UKR", "DEU"} <= set(rows)
    for state, cells in rows.items():
        assert len(cells) == len(header) - 1, state
        observed = cells[0]
        for i, cell in enumerate(cells[1:]):
            conditional = i >= len(tool.HORIZONS)
            if cell == "—":
                assert conditional and observed != "—", (state, i)  # only for observed movers
                continue
            p, low, high = (float(x) for x in CELL.match(cell).groups())  # type: ignore[union-attr]
            assert 0.0 <= low <= p <= high <= 1.0, (state, cell)
        if observed == "—":  # a party that had not moved: both columns filled
            assert "—" not in cells[1:], state
    return rows


def test_forecast_table_by_hand() -> None:
    tool = _tool()
    when = pd.to_datetime
    moves = pd.DataFrame(
        {
            "NOR": when([None, "2026-05-01", "2027-06-01", "2025-03-01"]),
            "EST": when(["2025-03-18", None, "2025-04-01", "2025-03-18"]),
        },
        index=["0", "1", "2", "3"],
    )
    table = tool.forecast_table(moves, ["EST", "NOR", "SWE"], {"EST": "2025-03-18"}, "2026-11-30")
    t = table.set_index("state")
    assert t.loc["NOR", "p 2026-12-31"] == 0.5 and t.loc["NOR", "p 2027-12-31"] == 0.75
    # runs 0 and 2 had not moved by 2026-11-30; only run 2 moves, in 2027
    assert t.loc["NOR", "n_cond"] == 2
    assert t.loc["NOR", "p_cond 2026-12-31"] == 0.0 and t.loc["NOR", "p_cond 2027-12-31"] == 0.5
    assert t.loc["EST", "p 2026-12-31"] == 0.75 and math.isnan(t.loc["EST", "p_cond 2026-12-31"])
    assert t.loc["SWE", "p 2027-12-31"] == 0.0 and t.loc["SWE", "n_cond"] == 4
    for h in tool.HORIZONS:
        assert (t[f"low {h}"] <= t[f"p {h}"]).all() and (t[f"p {h}"] <= t[f"high {h}"]).all()
    assert t.loc["SWE", "high 2027-12-31"] > 0  # a Wilson interval, not a point


def test_forecast_command_writes_the_documented_structure(tmp_path) -> None:
    tool = _tool()
    out = tmp_path / "forecasts.md"
    assert tool.main(["--replications", "4", "--today", "2026-11-30", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    rows = _check_structure(tool, text, "2026-11-30")
    assert calibration_hash(tool.POSTERIOR) in text
    assert rows["EST"][0] == "2025-03-18" and rows["NOR"][0] == "—"
    assert "4 replications" in text


def test_committed_forecast_names_the_shipped_posterior() -> None:
    tool = _tool()
    text = (ROOT / "docs" / "forecasts.md").read_text(encoding="utf-8")
    today = re.search(r"Made on \*\*(\d{4}-\d\d-\d\d)\*\*", text)
    assert today is not None
    _check_structure(tool, text, today.group(1))
    assert f"sha256 `{calibration_hash(tool.POSTERIOR)}`" in text


@pytest.mark.parametrize("bad", [0])
def test_wilson_of_no_runs_is_undefined(bad: int) -> None:
    assert all(math.isnan(x) for x in _tool().wilson(0, bad))
