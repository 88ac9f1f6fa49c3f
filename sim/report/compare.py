"""Compare two stored runs: cascade curves, expected exits and each state's exit probability.

``treatysim compare DIR_A DIR_B`` writes ``comparison.md``, ``comparison.json`` and
``cascade_compare.png``. Differences are B − A with confidence intervals; when both runs share
their root seed and replication count, the paired difference (common random numbers) is given
too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from treatysim.analysis import intervals, stats
from treatysim.analysis.run_summary import ok_run_ids
from treatysim.plots import run as plots
from treatysim.report.markdown import fmt_p, jsonable, table
from treatysim.report.run_plots import AGENT_WORDS
from treatysim.report.run_report import read_run
from treatysim.results.store import StoreError, write_json, write_text

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Side:
    """One run of a comparison, reduced to what the comparison needs for one treaty.

    Attributes:
        folder: The run folder.
        scenario: Scenario name.
        treaty: The compared treaty.
        root_seed: The run's root seed (from the manifest).
        replications: Replications run (ok and failed).
        failed: Failed replications.
        party: Per state: a party to the treaty at the start.
        outcomes: Per-run outcomes (:func:`treatysim.analysis.stats.run_outcomes`), indexed
            by replication.
        reach: Per run, state and stage: the day the stage was reached.
        dates: Step dates.
        curves: Cumulative curve bands per stage.
        events: The scenario's events as ``(date, label)``, for the plot.
        uncertainty: What the run's spread covers (seed, or parameters and seed).
        synthetic: A synthetic population (agents that act), not geographic states.
    """

    folder: Path
    scenario: str
    treaty: str
    root_seed: int | None
    replications: int
    failed: int
    party: dict[str, bool]
    outcomes: pd.DataFrame
    reach: stats.Reach
    dates: tuple[dt.date, ...]
    curves: dict[str, dict[str, list[float]]]
    events: tuple[tuple[dt.date, str], ...] = ()
    uncertainty: str = "seed (stochastic) uncertainty only"
    synthetic: bool = False

    @classmethod
    def load(cls, folder: Path, treaty: str | None = None) -> Side:
        """Read a run folder; ``treaty`` defaults to the run's primary treaty.

        Raises:
            StoreError: Unreadable folder, or a run without the treaty.
        """
        data = read_run(folder)
        world = data.world()
        treaty = treaty or world.scenario.primary_treaty
        if treaty not in world.treaties:
            raise StoreError(f"{folder}: the run has no treaty {treaty!r} to compare")
        ok = ok_run_ids(data.runs)
        rc = stats.reach(data.events, ok, world.ids, treaty)
        steps = stats.day_array(world.calendar.dates)
        outcomes = stats.run_outcomes(data.events, ok, world.ids, treaty, world.calendar.start)
        replication = data.runs.set_index("run_id")["replication"]
        outcomes = outcomes.set_axis(replication.loc[outcomes.index].astype(int).to_numpy())
        k = world.treaties.index(treaty)
        return cls(
            folder=folder,
            scenario=world.scenario.name,
            treaty=treaty,
            root_seed=data.manifest.get("root_seed"),
            replications=len(data.runs),
            failed=len(data.runs) - len(ok),
            party={s: bool(world.party[i, k]) for i, s in enumerate(world.ids)},
            outcomes=outcomes,
            reach=rc,
            dates=world.calendar.dates,
            curves={
                g: stats.curve_bands(stats.cumulative_counts(rc, g, steps))
                for g in stats.CURVE_STAGES
            },
            events=tuple((e.date, e.id or e.type) for e in world.scenario.events),
            uncertainty=data.manifest.get("uncertainty") or "seed (stochastic) uncertainty only",
            synthetic=world.population is not None,
        )

    def info(self) -> dict[str, Any]:
        """The run's identity for comparison.json."""
        return {
            "folder": str(self.folder),
            "scenario": self.scenario,
            "treaty": self.treaty,
            "root_seed": self.root_seed,
            "replications": self.replications,
            "runs_ok": self.reach.n_runs,
            "runs_failed": self.failed,
            "uncertainty": self.uncertainty,
        }


def compare_runs(a: Side, b: Side, confidence: float = 0.95) -> dict[str, Any]:
    """Differences B − A between two runs' outcomes (the contents of comparison.json).

    Expected exits (mean n_withdrawn) and mean cascade size: Welch's t interval for independent
    runs, and, when both runs share the root seed and replication count (common random numbers),
    a paired t interval over the replications ok in both, matched by replication index. Each
    state's exit probability (withdrawn by the end) and announcement probability (announced by
    the end): Newcombe's hybrid score interval.
    """
    out: dict[str, Any] = {"a": a.info(), "b": b.info(), "confidence": confidence}
    out["methods"] = {
        "difference": "B − A. Means: Welch's t interval (unequal variances); paired: Student-t "
        "interval of per-replication differences (same root seed and replications).",
        "states": "Exit probability per state (withdrawn by the end): Newcombe's hybrid score "
        "interval for the difference of two independent proportions (Wilson-based).",
        "states_announced": "Announcement probability per state (announced by the end, whatever "
        "came after): as the exit probability. A state that announces late may not reach "
        "withdrawal before the calendar ends (right-censoring): compare the two tables.",
    }
    paired = a.root_seed == b.root_seed and a.replications == b.replications
    oa, ob = a.outcomes, b.outcomes
    common = oa.index.intersection(ob.index)
    for column, key in (("n_withdrawn", "exits"), ("cascade_size", "cascade_size")):
        diffs = ob.loc[common, column].to_numpy(float) - oa.loc[common, column].to_numpy(float)
        out[key] = {
            "mean_a": intervals.mean_interval(oa[column], confidence),
            "mean_b": intervals.mean_interval(ob[column], confidence),
            "difference": intervals.welch_difference(oa[column], ob[column], confidence),
            "paired": (
                {**intervals.mean_interval(diffs, confidence), "pairs": len(common)}
                if paired
                else None
            ),
        }
    ra, rb = a.reach, b.reach
    for key, stage in (("states", "withdrawn"), ("states_announced", "announced")):
        xa, xb = ra.count(stage), rb.count(stage)
        out[key] = {
            s: {
                "p_a": intervals.proportion(int(xa[i]), ra.n_runs, confidence),
                "p_b": intervals.proportion(int(xb[rb.ids.index(s)]), rb.n_runs, confidence),
                "difference": intervals.newcombe_difference(
                    int(xa[i]), ra.n_runs, int(xb[rb.ids.index(s)]), rb.n_runs, confidence
                ),
            }
            for i, s in enumerate(ra.ids)
            if s in b.party and (a.party[s] or b.party[s])
        }
    return out


def _compare_markdown(c: Mapping[str, Any]) -> str:
    a, b = c["a"], c["b"]
    out = [f"# Comparison: {b['scenario']} (B) − {a['scenario']} (A), treaty {a['treaty']}", ""]
    out += table(
        ["", "folder", "runs ok", "failed", "root seed"],
        [
            [k, c[k]["folder"], c[k]["runs_ok"], c[k]["runs_failed"], c[k]["root_seed"]]
            for k in "ab"
        ],
    )
    out += [
        "Each run's intervals cover: "
        + "; ".join(f"{k.upper()}: {c[k].get('uncertainty', 'seed only')}" for k in "ab")
        + ".",
        "",
    ]
    for key, label in (
        ("exits", "Expected exits (mean states withdrawn by the end)"),
        ("cascade_size", "Mean cascade size"),
    ):
        x = c[key]
        out += [f"## {label}", ""]
        out += table(
            ["A", "B", "B − A (Welch)", "B − A (paired, common random numbers)"],
            [
                [
                    fmt_p(x["mean_a"]),
                    fmt_p(x["mean_b"]),
                    fmt_p(x["difference"]),
                    fmt_p(x["paired"])
                    if x["paired"]
                    else "not paired (different seeds or replications)",
                ]
            ],
        )
    for key, heading in (
        ("states", "Exit probability by state (withdrawn by the end)"),
        ("states_announced", "Announcement probability by state (announced by the end)"),
    ):
        rows = sorted(
            c.get(key, {}).items(),
            key=lambda kv: (-abs(kv[1]["difference"]["diff"] or 0), kv[0]),
        )
        rows = [r for r in rows if (r[1]["p_a"]["p"] or 0) + (r[1]["p_b"]["p"] or 0) > 0]
        out += [f"## {heading}", ""]
        out += table(
            ["state", "A", "B", "B − A (Newcombe)"],
            [[s, fmt_p(v["p_a"]), fmt_p(v["p_b"]), fmt_p(v["difference"])] for s, v in rows],
        )
    out += [
        "## Methods",
        "",
        *(f"- {v}" for v in c["methods"].values()),
        "",
        "![cascades](cascade_compare.png)",
        "",
    ]
    return "\n".join(out)


def compare(
    dir_a: Path | str, dir_b: Path | str, out: Path | str | None = None, *, svg: bool = False
) -> Path:
    """Compare two run folders: comparison.md, comparison.json and cascade_compare.png.

    Args:
        dir_a: The reference run (A).
        dir_b: The run compared with it (B); differences are B − A.
        out: Output folder (default: ``<dir_a>/../compare-<A>-vs-<B>``, named by scenario, or
            by folder when both runs are of the same scenario).
        svg: Also write the plot as SVG.

    Returns:
        The comparison folder.

    Raises:
        StoreError: A folder is not a readable run folder, or B lacks A's primary treaty.
    """
    dir_a, dir_b = Path(dir_a), Path(dir_b)
    a = Side.load(dir_a)
    b = Side.load(dir_b, a.treaty)
    if out is None:
        na, nb = a.scenario, b.scenario
        if na == nb:
            na, nb = f"{na}-{dir_a.resolve().name}", f"{nb}-{dir_b.resolve().name}"
        out = dir_a.resolve().parent / f"compare-{na}-vs-{nb}"
    out = Path(out)
    result = jsonable(compare_runs(a, b))
    runs = [(f"A: {a.scenario}", a.dates, a.curves), (f"B: {b.scenario}", b.dates, b.curves)]
    synthetic = a.synthetic and b.synthetic
    files = plots.compare_plot(
        runs,
        out / "cascade_compare",
        events=[a.events, b.events],
        noun="agents" if synthetic else "states",
        labels=AGENT_WORDS if synthetic else None,
        title=f"{a.treaty}: A vs B (median and 90% band of runs)",
        svg=svg,
    )
    result["plots"] = [p.name for p in files]
    write_json(out / "comparison.json", result)
    write_text(out / "comparison.md", _compare_markdown(result))
    return out
