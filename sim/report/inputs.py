"""The run report's section on inputs derived from the outcome (their provenance).

The manifest's ``provenance`` entry (:func:`treatysim.scenario.inputs.provenance_record`) lists
the tagged inputs a run used whose values were read from the outcome (``observed``) or fitted
to it (``fitted``); the report prints them so that no reader takes an in-sample fit for a
forecast. Inputs the run set itself (``--set``: ``override``; a sweep factor: ``swept``) are
listed in their own section: their file tags no longer apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from treatysim.run.ensemble import describe
from treatysim.scenario.provenance import SET_FOR_RUN


def describe_uncertainty(record: Mapping[str, Any] | None) -> str:
    """Which uncertainty intervals cover, from the manifest's posterior record (None: fixed)."""
    if record is None:
        return describe(None)
    return (
        "parameter and seed uncertainty together: each replication runs its own parameter set "
        f"drawn from the posterior in {record.get('folder')}"
    )


def inputs_markdown(summary: Mapping[str, Any]) -> list[str]:
    """Markdown lines: the posterior used, and the outcome-derived inputs (empty if unknown)."""
    out: list[str] = []
    post = summary.get("posterior")
    if post:
        out += [
            "## Parameters drawn from a posterior",
            "",
            f"Each replication's {', '.join(f'`{p}`' for p in post.get('parameters', []))} "
            f"drawn from {post.get('folder')} (generation {post.get('generation')}, sha256 "
            f"{str(post.get('sha256'))[:12]}…; {post.get('distinct_particles')} distinct "
            f"particles in {post.get('draws')} draws; seed {post.get('seed')}). The drawn "
            "values replace the scenario's own for those keys.",
            "",
        ]
    inputs = summary.get("inputs")
    if not inputs:
        return out
    flagged = inputs.get("outcome_derived", [])
    kinds = inputs.get("by_kind", {})
    listed = ", ".join(f"{v} {k}" for k, v in kinds.items() if v or k not in SET_FOR_RUN)
    out += [
        "## Inputs derived from the outcome",
        "",
        f"{inputs.get('tagged', 0)} inputs carry provenance ("
        + listed
        + f"); {len(flagged)} were read from the outcome or fitted to it"
        + (":" if flagged else "."),
        "",
    ]
    for item in flagged:
        where = "" if item["where"] == "scenario" else f"{item['where']}: "
        date = f", {item['date']}" if item.get("date") else ""
        out.append(f"- {where}`{item['key']}` ({item['kind']}{date}): {item['reason']}")
    if flagged:
        out += [
            "",
            "Results that depend on these inputs are in-sample: they do not show that the model "
            "predicts the outcome (see `treatysim backtest`).",
        ]
    out.append("")
    return out + _set_for_run(inputs.get("set_for_run", []))


def _set_for_run(items: list[Mapping[str, Any]]) -> list[str]:
    """Markdown lines: the inputs this run set itself (``--set``, a sweep factor), if any."""
    if not items:
        return []
    out = [
        "## Inputs set for this run",
        "",
        ("1 input was" if len(items) == 1 else f"{len(items)} inputs were")
        + " set for this run, replacing the scenario file's values and their provenance:",
        "",
    ]
    for item in items:
        where = "" if item["where"] == "scenario" else f"{item['where']}: "
        out.append(f"- {where}`{item['key']}` ({item['kind']}): {item['source']}")
    out.append("")
    return out
