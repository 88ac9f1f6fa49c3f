"""tools/foresight.py: the scheduled backtest with the shock's size fixed, scored per size."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pandas as pd

from modelkit import load_tool

FIVE = ["EST", "LVA", "LTU", "POL", "FIN"]


def _tool() -> ModuleType:
    return load_tool("foresight")


def test_a_deeper_scheduled_shock_moves_the_five_more(tmp_path: Path) -> None:
    tool = _tool()
    p_five = {}
    for size in (0.2, 1.0):
        doc = tool.score(size, tmp_path, replications=60, workers=1, seed=7)
        folder = tmp_path / f"size_{size:g}"
        table = pd.read_parquet(folder / "scores.parquet").set_index("iso3")
        p_five[size] = float(table.loc[FIVE, "p_model"].mean())
        assert json.loads((folder / "scores.json").read_text())["replications"] == 60
        row = tool.row(size, doc, folder / "scores.parquet")
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[0] == f"{size:g}" and len(cells) == 5
        assert float(cells[2]) == round(doc["scores"]["brier"]["means"]["model"]["mean"], 3)
    # 1.0 is no change of credibility at all: without a shock the quiet years' bar holds
    assert p_five[0.2] > p_five[1.0] + 0.1, p_five
