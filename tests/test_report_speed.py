"""The report's fast paths give the same numbers as the plain ones they replace."""

from __future__ import annotations

import numpy as np
import pytest

from treatysim.analysis.intervals import proportion
from treatysim.analysis.stats import _quartile_dates, proportions, quantile_dates


@pytest.mark.parametrize("seed", range(20))
def test_quartile_dates_of_every_column_at_once(seed: int) -> None:
    rng = np.random.default_rng(seed)
    days = rng.integers(20_000, 21_000, size=(rng.integers(1, 60), 30)).astype(float)
    days[rng.random(days.shape) < rng.random()] = np.nan
    days[:, 0] = np.nan  # a state that never reached the stage
    expected = [quantile_dates(days[:, j]) for j in range(days.shape[1])]
    assert _quartile_dates(days) == expected


def test_proportions_equal_one_proportion_per_count() -> None:
    counts = np.array([0, 1, 5, 99, 100, 37])
    assert proportions(counts, 100) == [proportion(int(k), 100) for k in counts]
    assert proportions(np.array([0, 0]), 0) == [proportion(0, 0), proportion(0, 0)]


def test_the_report_tells_its_phases(tmp_path, capsys) -> None:
    from treatysim.cli import main
    from treatysim.report.run_report import build_report
    from treatysim.run.runner import run_scenario
    from treatysim.scenario.bundled import bundled_or_path
    from treatysim.scenario.load import load_scenario

    loaded = load_scenario(bundled_or_path("teaching/baltic_simple"))
    summary = run_scenario(loaded, replications=3, out=tmp_path / "run", quiet=True)
    lines: list[str] = []
    build_report(summary.folder, on_phase=lines.append)
    phases = [line.split(": ", 1)[1] for line in lines]
    assert phases == [
        "reading the tables",
        "statistics",
        "plots",
        "summary.json and summary.md",
        "done",
    ]
    assert all(line.startswith("report [") for line in lines)
    capsys.readouterr()
    assert main(["report", str(summary.folder)]) == 0
    captured = capsys.readouterr()
    assert "report [" in captured.err and "]: plots" in captured.err
    assert captured.out == f"report: {summary.folder / 'summary.md'}\n"
    assert main(["report", str(summary.folder), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")  # quiet is quiet: no phases either
