"""Golden tables: the runs and events of two scenarios, 20 replications, a fixed seed.

They guard every refactoring: the tables must stay identical. They may change only in a commit
that says why the numbers changed (regenerate with ``python tests/golden/make.py``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from treatysim.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = ("ottawa_2025", "teaching/baltic_simple")
SEED = 20250318
#: Columns that measure the machine, not the model.
UNSTABLE = ("seconds",)


def golden_tables(name: str, out: Path, engine: str = "mesa") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run a bundled scenario through the CLI and return its runs and events as text tables."""
    code = main(
        [
            *("run", name, "--replications", "20", "--seed", str(SEED), "--out", str(out)),
            *("--timeseries", "none", "--quiet", "--no-report", "--engine", engine),
        ]
    )
    assert code == 0
    runs = pd.read_parquet(out / "runs.parquet")
    events = pd.read_parquet(out / "events.parquet")
    runs = runs.drop(columns=[c for c in UNSTABLE if c in runs.columns])
    return _as_text(runs), _as_text(events)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as the text a CSV round trip gives, so the comparison is exact."""
    text = frame.astype(object).where(frame.notna(), "")
    return text.map(lambda v: repr(v) if isinstance(v, float) else str(v))


@pytest.mark.parametrize("engine", ["mesa", "batched"])
@pytest.mark.parametrize("name", CASES)
def test_tables_match_the_golden_files(name: str, engine: str, tmp_path: Path) -> None:
    runs, events = golden_tables(name, tmp_path / "run", engine)
    stem = name.replace("/", "_")
    expected_runs = pd.read_csv(GOLDEN / f"{stem}.runs.csv", dtype=str, keep_default_na=False)
    expected_events = pd.read_csv(GOLDEN / f"{stem}.events.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(runs.reset_index(drop=True), expected_runs)
    pd.testing.assert_frame_equal(events.reset_index(drop=True), expected_events)
