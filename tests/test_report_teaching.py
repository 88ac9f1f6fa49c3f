"""The run report of a teaching scenario speaks its scenario's words and shows every agent.

Granovetter's riot (100 agents, one replication, no delays) is the case: person i joins once i
others have, so everything about its report is known in advance — 100 of 100 act, person i on
day i + 1, and announcing, notifying and withdrawing fall on the same step.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from treatysim.analysis import stats
from treatysim.plots import first_action, style
from treatysim.report.run_report import build_report, summary_table
from treatysim.run.runner import run_scenario
from treatysim.scenario.load import load_scenario

from modelkit import SCENARIOS

STAGE_WORDS = ("announced", "notified", "withdrawn")


@pytest.fixture(scope="module")
def riot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The riot's run folder and its report's figures (captured before they are saved)."""
    folder = tmp_path_factory.mktemp("riot") / "run"
    run_scenario(
        load_scenario(SCENARIOS / "teaching/granovetter_riot.yaml"), out=folder, quiet=True
    )
    with capturing() as figures:
        build_report(folder)
    return folder, figures


@contextmanager
def capturing() -> Iterator[dict[str, Any]]:
    """Keep every figure saved inside the block, by file name, as it is saved."""
    figures: dict[str, Any] = {}
    save = style.save

    def keep(fig: Any, base: Path, *, svg: bool = False) -> list[Path]:
        figures[base.name] = fig
        return save(fig, base, svg=svg)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(style, "save", keep)
        yield figures


def _labels(fig: Any) -> list[str]:
    """Every axis label, legend entry and colour-bar label of a figure."""
    out = []
    for ax in fig.axes:
        out += [ax.get_xlabel(), ax.get_ylabel(), ax.get_title()]
        legend = ax.get_legend()
        if legend is not None:
            out += [t.get_text() for t in legend.get_texts()]
    out += [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    return [t for t in out if t]


def test_teaching_figures_use_the_scenarios_words(riot: tuple[Path, dict[str, Any]]) -> None:
    _, figures = riot
    assert {"cascade", "cascade_size", "first_action", "population"} <= set(figures)
    for name, fig in figures.items():
        for label in _labels(fig):
            assert not any(w in label for w in STAGE_WORDS), (name, label)
    cascade = figures["cascade"]
    # three identical stages (no delays) are one panel, "agents acted", with no median or bands
    assert len(cascade.axes) == 1
    assert cascade.axes[0].get_ylabel() == "agents acted"
    assert [t.get_text() for t in cascade.axes[0].get_legend().get_texts()] == ["acted"]
    assert "same step" in cascade._suptitle.get_text()
    sizes = figures["cascade_size"].axes[0]
    assert "agents that acted" in sizes.get_xlabel()
    # one answer: a line at it, no distribution and no interval of a mean
    assert [t.get_text() for t in sizes.get_legend().get_texts()] == ["the one run: 100 agents"]
    assert not sizes.patches and "one run" in sizes.get_title()


def test_a_geographic_report_keeps_its_stage_names(tmp_path: Path) -> None:
    words = {"announced": "acted", "notified": "acted, notified"}
    dates = ["2025-01-01", "2025-02-01", "2025-03-01"]
    bands = {q: [0, 1, 2] for q in ("q05", "q25", "q50", "q75", "q95")}
    kept: list[Any] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(style, "save", lambda fig, base, svg=False: kept.append(fig) or [])
        from treatysim.plots import run as plots

        plots.cascade_plot(dates, {"announced": bands, "notified": bands}, tmp_path / "a")
        plots.cascade_plot(dates, {"announced": bands, "notified": bands}, tmp_path / "b",
                           noun="agents", labels=words)  # fmt: skip
    assert [ax.get_ylabel() for ax in kept[0].axes] == ["states announced", "states notified"]
    assert [ax.get_ylabel() for ax in kept[1].axes] == ["agents acted", "agents acted, notified"]


def test_a_large_population_gets_every_agent_not_a_timeline(
    riot: tuple[Path, dict[str, Any]],
) -> None:
    folder, figures = riot
    assert (folder / "plots/first_action.png").is_file()
    assert not (folder / "plots/timeline.png").exists()
    fig = figures["first_action"]
    image = fig.axes[1].get_images()[0].get_array()
    assert image.shape[0] == 100  # every agent, one row each
    # person i acts on day i + 1 in the one run: sorted by first action, each row has acted on
    # exactly one step fewer than the row above
    acted_steps = np.asarray(image).sum(axis=1)
    assert np.all(np.diff(acted_steps) == -1), acted_steps[:5]
    assert set(np.unique(image)) <= {0.0, 1.0}  # one run: acted or not, no shares
    caption = fig._suptitle.get_text()
    assert "all 100 agents" in caption and "left out" in caption


def test_agent_order_puts_early_and_likely_actors_first() -> None:
    nan = np.nan
    # three runs, four agents: C acts first; A and B share a median day (5), A acts in more
    # runs (3 against 2); D never acts
    first = np.array([[5.0, 5.0, 1.0, nan], [5.0, nan, 2.0, nan], [6.0, 5.0, 1.0, nan]])
    order = first_action.agent_order(first, ["A", "B", "C", "D"])
    assert order.tolist() == [2, 0, 1, 3]
    reach = stats.Reach(("r",), ("A",), np.array([[[nan, 3.0, 2.0, nan, nan, nan, 7.0]]]))
    assert stats.first_moved(reach).tolist() == [[2.0]]


def test_one_replication_prints_its_one_answer(riot: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = riot
    text = summary_table(folder)
    assert "CI" not in text and "[" not in text
    lines = text.splitlines()
    assert lines[0].endswith("1 run ok, 0 failed")
    assert lines[1].startswith("100 of 100 agents acted")
    assert lines[3].split() == ["P00", "2025-01-02", "yes"]


def test_replications_that_all_agree_print_one_answer(tmp_path: Path) -> None:
    loaded = load_scenario(SCENARIOS / "teaching/granovetter_riot.yaml")
    run_scenario(loaded, replications=3, out=tmp_path / "three", quiet=True)
    build_report(tmp_path / "three")
    text = summary_table(tmp_path / "three")
    assert "all 3 had the same outcome" in text.splitlines()[0] and "CI" not in text


def test_a_comparison_of_synthetic_runs_speaks_of_agents(
    riot: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    from treatysim.report.compare import compare

    folder, _ = riot
    with capturing() as figures:
        compare(folder, folder, out=tmp_path / "cmp")
    labels = _labels(figures["cascade_compare"])
    titles = [ax.get_title() for ax in figures["cascade_compare"].axes]
    assert titles[0] == "agents acted" and "agents (cumulative)" in labels
    assert not any("states" in label for label in labels), labels


def test_the_teaching_summary_speaks_of_agents(riot: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = riot
    text = (folder / "summary.md").read_text(encoding="utf-8")
    assert "## Agents most likely to act" in text
    assert "| agent | P(acted) | P(acted, notified) | P(acted, out) |" in text
    assert "## Time to the first action" in text and "## Order of actions" in text
    assert "- An agent reached stage X" in text and "- Cascade size: agents that acted" in text
    for phrase in ("announce an exit", "States most", "P(any party moved)", "Mean states",
                   "A state reached", "A or B announced", "states that"):  # fmt: skip
        assert phrase not in text, phrase
