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


def sweep_precision_markdown(manifest: dict[str, Any], shown: int = 40) -> list[str]:
    """The sweep summary's section on ``--precision``: each point's final n, capped points named.

    Args:
        manifest: A precision sweep's manifest (its ``precision`` record lists every point).
        shown: Points listed in the table; capped points beyond it are named below it.

    Returns:
        Markdown lines (empty for a sweep of fixed size).
    """
    record = manifest.get("precision")
    if not record:
        return []
    points = record["points"]
    capped = [p for p in points if p["capped"]]
    sizes = [int(p["n"]) for p in points]
    lines = [
        "",
        "## Replications: precision rule",
        "",
        f"Each point ran blocks of {record['block']} replications until every headline "
        f"probability's Wilson {record['confidence']:.0%} half-width was at most "
        f"± {record['target']:g}, or another block would pass the cap of {record['cap']:,} "
        f"({record['rounds']} rounds). Final sizes: {min(sizes):,} to {max(sizes):,} "
        f"replications, {sum(sizes):,} runs in all; each point's tables equal a fixed sweep of "
        "its final size.",
        "",
    ]
    if capped:
        lines.append(
            f"**{len(capped)} of {len(points)} point(s) reached the cap without the target** "
            f"(points {', '.join(str(p['point']) for p in capped)}): their intervals are wider "
            f"than ± {record['target']:g}."
        )
    else:
        lines.append("Every point reached the target; none was capped.")
    lines += ["", "| point | replications | widest interval | half-width | outcome |"]
    lines.append("|---|---|---|---|---|")
    for p in points[:shown]:
        outcome = "**capped**" if p["capped"] else "reached"
        lines.append(
            f"| {p['point']} | {int(p['n']):,} | {p['widest'] or '—'} | "
            f"{float(p['max_half_width']):.3f} | {outcome} |"
        )
    if len(points) > shown:
        lines.append(f"\n({len(points) - shown} more points in manifest.json, `precision.points`.)")
    return lines


def sweep_precision_overview(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The summary.json entry: rule settings, sizes, and the capped points (None if fixed)."""
    record = manifest.get("precision")
    if not record:
        return None
    keep = ("target", "block", "cap", "confidence", "rounds", "reached", "capped")
    return {
        **{key: record[key] for key in keep},
        "n": [int(p["n"]) for p in record["points"]],
        "capped_points": [int(p["point"]) for p in record["points"] if p["capped"]],
    }


def sweep_precision_text(manifest: dict[str, Any]) -> str | None:
    """One line for the terminal: the sizes, and the capped points said plainly (None if fixed)."""
    record = manifest.get("precision")
    if not record:
        return None
    sizes = [int(p["n"]) for p in record["points"]]
    capped = [str(p["point"]) for p in record["points"] if p["capped"]]
    head = (
        f"precision ± {record['target']:g}: {min(sizes):,} to {max(sizes):,} replications per point"
    )
    if not capped:
        return f"{head}; every point reached the target"
    return (
        f"{head}; precision NOT reached at {len(capped)} of {len(sizes)} points, stopped at the "
        f"cap of {record['cap']:,} (points {', '.join(capped)})"
    )
