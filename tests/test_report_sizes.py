"""The run report's figures of a synthetic population stay readable, and quick, at the schema's
largest population.

Running a teaching scenario at the largest size allowed (``states.synthetic.size`` ≤ 20,000)
takes minutes and gigabytes before any report (building the world alone: ~130 s and ~10 GB for a
complete graph, measured 2026-11-30), so this test draws the report's figures of such a run
from made-up numbers of the right shapes: one replication (the cheapest run a teacher makes),
each agent acting or not, through the same plotting functions and layouts the report uses.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg

from treatysim.analysis import stats
from treatysim.plots import first_action
from treatysim.plots import network as network_plots
from treatysim.plots import run as plots
from treatysim.report.run_plots import TIMELINE_ROWS
from treatysim.scenario.load import load_scenario
from treatysim.scenario.population import SyntheticPopulation

from modelkit import SCENARIOS

#: Wall seconds allowed for the four figures at the largest size (measured 20–29 s while
#: sharing 2 cores at load ~8; the old synthetic "map" took 94 s at 5,000 agents).
BUDGET_S = 60.0


def largest_size() -> int:
    """The schema's upper bound on a synthetic population's size."""
    field = SyntheticPopulation.model_fields["size"]
    return int(next(m.le for m in field.metadata if hasattr(m, "le")))


def teaching_populations() -> list[tuple[str, int, str]]:
    """(scenario, largest size it allows, network type) per teaching scenario with agents."""
    out = []
    for path in sorted((SCENARIOS / "teaching").glob("*.yaml")):
        population = load_scenario(path).model.states.synthetic
        if population is None:
            continue
        # a list of thresholds fixes the size (one threshold per agent)
        fixed = population.thresholds.values is not None
        out.append(
            (path.stem, population.size if fixed else largest_size(), population.network.type)
        )
    return out


def test_there_are_teaching_populations_at_the_largest_size() -> None:
    sizes = {name: n for name, n, _ in teaching_populations()}
    assert largest_size() == 20_000
    assert sizes["watts_cascade"] == sizes["granovetter_normal"] == largest_size()
    assert sizes["granovetter_riot"] == 100  # its 100 listed thresholds


@pytest.mark.parametrize(("name", "n", "kind"), teaching_populations())
def test_report_figures_at_the_largest_size(name: str, n: int, kind: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    ids = [f"A{i:05d}" for i in range(n)]
    acted = rng.random(n) < 0.6  # one replication: each agent acted or not
    day = np.where(acted, rng.integers(0, 52, n), -1)
    dates = [str(np.datetime64("2025-01-01") + np.timedelta64(7 * k, "D")) for k in range(53)]
    counts = np.array([[(day >= 0) & (day <= k) for k in range(53)]]).sum(axis=2)
    curves = {
        g: stats.curve_bands(counts if g == "announced" else counts // 2)
        for g in stats.CURVE_STAGES
    }
    size = int(acted.sum())
    distribution = {str(k): int(k == size) for k in range(n + 1)}
    summary_size = {
        "n": 1,
        "distribution": distribution,
        "mean": {"mean": float(size), "lo": None, "hi": None},
    }
    occupancy = np.zeros((len(stats.OCCUPANCY_STAGES), 53))
    occupancy[stats.OCCUPANCY_STAGES.index("party")] = 1.0
    rows = [(f"{ids[i]} 100%", occupancy) for i in range(TIMELINE_ROWS)]
    if n > network_plots.SPRING_LAYOUT_MAX:
        layout = network_plots.grid_layout(n, f"a {kind} network")
    else:
        angle = 2 * np.pi * np.arange(n) / n
        ties = np.ones((n, n), dtype=bool) if kind == "complete" else np.eye(n, k=1, dtype=bool)
        layout = network_plots.network_layout(ties, np.cos(angle), np.sin(angle))
    start = time.perf_counter()
    files = plots.cascade_plot(dates, curves, tmp_path / "cascade", noun="agents")
    files += plots.cascade_size_plot(summary_size, tmp_path / "cascade_size", noun="agents")
    if n > TIMELINE_ROWS:  # the report draws every agent's first action, not 25 strips
        steps = stats.day_array(dates)
        first = np.where(acted, steps[np.maximum(day, 0)], np.nan).astype(float)[None, :]
        files += first_action.first_action_plot(dates, steps, first, ids, tmp_path / "first_action")
    else:
        files += plots.timeline_plot(
            dates, rows, stats.OCCUPANCY_STAGES, tmp_path / "timeline", noun="agent",
            left_out=size - len(rows),
        )  # fmt: skip
    files += network_plots.population_plot(
        ids, layout, acted.astype(float), tmp_path / "population", single=True
    )
    elapsed = time.perf_counter() - start
    assert elapsed < BUDGET_S, f"{name} at {n} agents: {elapsed:.1f} s"
    for path in files:
        pixels = mpimg.imread(path)
        height, width = pixels.shape[:2]
        # a figure's size does not grow with the population: readable at any n
        assert 900 <= width <= 2000 and 600 <= height <= 2000, (path.name, width, height)
        assert pixels[..., :3].std() > 0.05, path.name
    if layout.grid:
        # every agent is a square of its own: the grid has n cells, no more than 142 per side
        side = int(layout.x.max()) + 1
        assert side * (int(-layout.y.min()) + 1) >= n and side == int(np.ceil(np.sqrt(n)))
        assert "not drawn" in layout.note and f"{n} agents" in layout.note
