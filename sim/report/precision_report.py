"""The ``--precision`` part of a run report: the rule's outcome in words and the convergence figure.

Rebuilt from the stored tables: the headline probabilities
(:func:`treatysim.analysis.precision.headline_outcomes`) after every block
(:func:`~treatysim.analysis.precision.precision_path`), so the figure shows how each estimate's
Wilson interval narrowed as replications were added, against the target half-width.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from treatysim.analysis.precision import headline_outcomes, precision_path, precision_text
from treatysim.plots.explore import precision_plot

if TYPE_CHECKING:
    import pandas as pd

    from treatysim.model.world import World

#: Estimates drawn in the convergence figure: those with the widest final intervals.
SHOWN = 6


def precision_section(
    record: dict[str, Any],
    runs: pd.DataFrame,
    events: pd.DataFrame,
    world: World,
    plots_dir: Path,
    svg: bool = False,
) -> tuple[dict[str, Any], list[Path]]:
    """The summary's ``precision`` entry and the convergence figure.

    Args:
        record: The manifest's ``precision`` record.
        runs: The runs table.
        events: The events table.
        world: The run's world (states, treaties, parties).
        plots_dir: Where the figure goes (``precision.png``).
        svg: Also write an SVG.

    Returns:
        ``({"text", "target", "block", "cap", "final_n", "reached", "capped", "shown"}, files)``.
    """
    treaty = world.scenario.primary_treaty
    k = world.treaties.index(treaty)
    parties = [s for i, s in enumerate(world.ids) if world.party[i, k]]
    flags = headline_outcomes(runs, events, parties, treaty)
    path = precision_path(flags, block=int(record["block"]))
    last = path.groupby("name", sort=False)["half_width"].last().sort_values(ascending=False)
    shown = [str(n) for n in last.index[:SHOWN]]
    files = precision_plot(
        path[path["name"].isin(shown)], plots_dir / "precision", target=record["target"], svg=svg
    )
    entry = {
        "text": precision_text(record),
        **{key: record[key] for key in ("target", "block", "cap", "final_n", "reached", "capped")},
        "headline_probabilities": len(flags),
        "shown": shown,
    }
    return entry, files


def precision_markdown(entry: dict[str, Any]) -> list[str]:
    """The summary.md lines of the precision entry."""
    return [
        "## Replications: precision rule",
        "",
        f"{entry['text']}. Blocks of {entry['block']} replications, checked after each block "
        f"against {entry['headline_probabilities']} headline probabilities (each party's "
        "P(moves) and P(cascade ≥ k)); the result equals a fixed run of the final size. "
        f"The convergence figure (plots/precision.png) shows the {len(entry['shown'])} "
        "estimates with the widest intervals; the others are narrower.",
        "",
    ]
