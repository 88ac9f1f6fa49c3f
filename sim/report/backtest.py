"""``treatysim backtest``: run a scenario with information cut at a date, and score it.

:func:`backtest` checks the scenario against the cutoff (events dated after it are refused; inputs
whose provenance is after it or derived from the outcome are listed, or refused with
``strict``), runs it up to ``until`` (optionally with a posterior ensemble), and scores each
party's predicted move by ``until`` against the observed stages with
:func:`treatysim.analysis.scoreboard.score_events`: Brier score, log score and the date CRPS,
for the model and the null models on the same states, with paired bootstrap intervals on every
difference. :func:`write_backtest` writes ``scores.json``, ``scores.parquet`` / ``scores.csv``,
``reliability.png`` and ``summary.md``.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from treatysim.analysis.scoreboard import BacktestScores, reliability_tables, score_events
from treatysim.calibration.ensemble import posterior_ensemble, posterior_maker
from treatysim.plots.reliability import reliability_plot
from treatysim.report.markdown import jsonable, table
from treatysim.results.manifest import environment_info
from treatysim.results.store import claim_folder, mark_complete, write_json, write_table, write_text
from treatysim.run.ensemble import describe
from treatysim.run.runner import Simulation, simulate_tables
from treatysim.scenario.errors import Problem, ValidationError
from treatysim.scenario.inputs import flagged_inputs, posterior_tags
from treatysim.scenario.load import Loaded, revalidate
from treatysim.scenario.provenance import TaggedInput, side_file

#: The null models the verdict names (the issue's three), with their labels.
VERDICT_NULLS = {
    "base_rate_in_sample": "base rate (in-sample)",
    "exposure": "exposure (land border with a threat source or its ally)",
    "exposure_minus_allies": "exposure minus the source's allies",
}
SCORE_LABELS = {"brier": "Brier score", "log": "log score", "crps_days": "date CRPS (days)"}


@dataclass
class Backtest:
    """A backtest's result.

    Attributes:
        scores: The scoreboard (per-state table and JSON summary).
        flagged: Inputs whose provenance is after the cutoff or derived from the outcome.
        simulation: The run that was scored.
        cutoff: Information cutoff.
        until: Horizon.
    """

    scores: BacktestScores
    flagged: list[TaggedInput]
    simulation: Simulation
    cutoff: dt.date
    until: dt.date


def _scheduled_by(event: Any, cutoff: dt.date) -> bool:
    """Whether an event's date was known by the cutoff (``scheduled_since`` on or before it)."""
    return event.scheduled_since is not None and event.scheduled_since <= cutoff


def late_events(loaded: Loaded[Any], cutoff: dt.date) -> list[Problem]:
    """One problem per event dated after the cutoff and not scheduled by it, at its date."""
    doc = loaded.document
    return [
        doc.problem(
            ("events", i, "date"),
            f"events[{i}].date",
            f"event '{e.id or e.type}' is dated {e.date}, after the cutoff {cutoff}: a backtest "
            "may only use what was known by then (remove it, e.g. with extends and remove: true, "
            "or give the date it was scheduled as scheduled_since)",
        )
        for i, e in enumerate(loaded.model.events)
        if e.date > cutoff and not _scheduled_by(e, cutoff)
    ]


def scheduled_events(loaded: Loaded[Any], cutoff: dt.date) -> list[dict[str, str]]:
    """The events after the cutoff that a backtest keeps because they were scheduled by then."""
    return [
        {
            "event": e.id or e.type,
            "date": e.date.isoformat(),
            "scheduled_since": e.scheduled_since.isoformat(),
            "note": e.note,
        }
        for e in loaded.model.events
        if e.date > cutoff and _scheduled_by(e, cutoff)
    ]


def input_problems(
    loaded: Loaded[Any], flagged: Sequence[TaggedInput], posterior: str | None = None
) -> list[Problem]:
    """The flagged inputs as problems (``--strict``), at their provenance entries."""
    out = []
    drawn = set(posterior_tags(_record(posterior)))
    for item in flagged:
        message = f"{item.kind} input not allowed in a strict backtest: {item.reason}"
        if item.key in drawn and item.where == "scenario":
            out.append(Problem(str(posterior), 0, 0, item.key, message))
        elif item.where == "scenario":
            loc = ("provenance", item.key)
            out.append(loaded.document.problem(loc, f"provenance.{item.key}", message, key=True))
        else:
            dataset = loaded.model.states.dataset
            from_file = side_file(Path(item.where.removeprefix("dataset:"))).name
            out.append(Problem(f"{dataset}:{from_file}", 0, 0, f"columns.{item.key}", message))
    return out


def _record(posterior: Path | str | None) -> dict[str, Any] | None:
    """A posterior ensemble's manifest record (one draw), or None."""
    if posterior is None:
        return None
    return dict(posterior_ensemble(posterior, 1, 0).record)


def _bad(key: str, message: str) -> ValidationError:
    return ValidationError([Problem(f"--{key}", 1, 1, key, message)])


def backtest(
    loaded: Loaded[Any],
    cutoff: dt.date,
    until: dt.date,
    *,
    replications: int | None = None,
    seed: int | None = None,
    posterior: Path | str | None = None,
    strict: bool = False,
    engine: str = "auto",
    workers: int = 1,
    n_boot: int = 2000,
    warn: bool = True,
) -> Backtest:
    """Run and score a backtest (see the module docstring).

    Args:
        loaded: The scenario.
        cutoff: Information cutoff: no event after it; the scored window starts on it.
        until: Horizon: the last day that counts as moved; the run ends on it.
        replications: Overrides ``run.replications``.
        seed: Overrides ``run.seed``.
        posterior: A calibration folder whose posterior each replication draws from.
        strict: Refuse inputs whose provenance is after the cutoff or outcome-derived.
        engine: ``auto``, ``batched`` or ``mesa``.
        workers: Processes.
        n_boot: Bootstrap resamples of the score intervals.
        warn: Print the flagged inputs to stderr (when not strict).

    Raises:
        ValidationError: Events after the cutoff, a bad window, a bad posterior folder, or (strict)
            flagged inputs; one line per problem.
    """
    scenario = loaded.model
    if until <= cutoff:
        raise _bad("until", f"the horizon {until} must be after the cutoff {cutoff}")
    if until > scenario.calendar.end:
        raise _bad("until", f"the horizon {until} is after the calendar's end")
    problems = late_events(loaded, cutoff)
    if problems:
        raise ValidationError(problems)
    ensemble = posterior_maker(posterior) if posterior is not None else None
    record = _record(posterior)
    flagged = flagged_inputs(scenario, loaded.base_dir, cutoff, posterior=record)
    if strict and flagged:
        raise ValidationError(
            input_problems(loaded, flagged, str(posterior) if posterior is not None else None)
        )
    if warn:
        for item in flagged:
            print(f"warning: {item.line()}", file=sys.stderr)
    short = revalidate(
        loaded, [("calendar.end", until.isoformat()), ("run.report_dates", [until.isoformat()])]
    )
    sim = simulate_tables(
        short,
        replications=replications,
        seed=seed,
        timeseries="none",
        workers=workers,
        engine=engine,
        ensemble=ensemble,
    )
    runs, events, _ = sim.tables.frames()
    ok = runs.loc[runs["status"] == "ok", "run_id"].astype(str).tolist()
    if not ok:
        raise RuntimeError("every replication failed; nothing to score")
    world = sim.world
    treaty = scenario.primary_treaty
    k = world.treaties.index(treaty)
    parties = [s for i, s in enumerate(world.ids) if world.party[i, k]]
    borders = {s: list(r.land_borders) for s, r in world.dataset.states.items()}
    sources = list(scenario.threat_sources)
    allies = {sid: list(src.allies) for sid, src in scenario.threat_sources.items()}
    scores = score_events(
        events, ok, parties, treaty, start=cutoff, until=until, borders=borders,
        sources=sources, allies=allies, observed=list(world.observed), n_boot=n_boot,
    )  # fmt: skip
    return Backtest(scores, flagged, sim, cutoff, until)


def verdicts(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Per score and null: the difference model − null, its interval, and the plain verdict."""
    out = []
    for score, result in summary["scores"].items():
        for null, label in VERDICT_NULLS.items():
            diff = result.get("differences", {}).get(null)
            if diff is None:
                continue
            if diff["upper"] < 0:
                verdict = "model better (interval below 0)"
            elif diff["lower"] > 0:
                verdict = "model worse (interval above 0)"
            elif diff["mean"] < 0:
                verdict = "model better on average, not decisively (interval covers 0)"
            elif diff["mean"] > 0:
                verdict = "model worse on average, not decisively (interval covers 0)"
            else:
                verdict = "tie"
            out.append(
                {
                    "score": score,
                    "null": null,
                    "null_label": label,
                    "difference": diff["mean"],
                    "lower": diff["lower"],
                    "upper": diff["upper"],
                    "beat": bool(diff["upper"] < 0),
                    "verdict": verdict,
                }
            )
    return out


def scores_document(bt: Backtest, command: Sequence[str] | None = None) -> dict[str, Any]:
    """The body of ``scores.json``."""
    sim = bt.simulation
    summary = dict(bt.scores.summary)
    return jsonable(
        {
            "kind": "backtest",
            "scenario": sim.loaded.model.name,
            "scenario_file": str(sim.loaded.path) if sim.loaded.path else None,
            "cutoff": bt.cutoff.isoformat(),
            "until": bt.until.isoformat(),
            "replications": len(sim.tasks),
            "root_seed": sim.root,
            "seeds": [t.seed for t in sim.tasks],
            "engine": sim.engine,
            "posterior": dict(sim.ensemble.record) if sim.ensemble is not None else None,
            "uncertainty": describe(sim.ensemble),
            "flagged_inputs": [t.as_dict() for t in bt.flagged],
            "scheduled_events": scheduled_events(sim.loaded, bt.cutoff),
            "verdicts": verdicts(summary),
            **summary,
            "command": list(command) if command is not None else sys.argv,
            **environment_info(),
        }
    )


def summary_markdown(doc: dict[str, Any]) -> str:
    """``summary.md``: whether the model beat each null, plainly, with the numbers."""
    out = [
        f"# Backtest of {doc['scenario']}: information cut at {doc['cutoff']}, scored to "
        f"{doc['until']}",
        "",
        f"{doc['n_states']} parties of {doc['treaty']} scored ({doc['n_observed_moved']} moved "
        f"in the window); {doc['replications']} replications, root seed {doc['root_seed']}, "
        f"{doc['engine']} engine. The model's probabilities cover {doc['uncertainty']}. "
        f"Differences are model − null (negative favours the model), with "
        f"{doc['scores']['brier']['confidence']:.0%} paired bootstrap intervals over states.",
        "",
        "## Did the model beat the null models?",
        "",
    ]
    for null, label in VERDICT_NULLS.items():
        mine = [v for v in doc["verdicts"] if v["null"] == null]
        if not mine:
            continue
        beat = [SCORE_LABELS.get(v["score"], v["score"]) for v in mine if v["beat"]]
        lost = [SCORE_LABELS.get(v["score"], v["score"]) for v in mine if v["lower"] > 0]
        text = f"- Against the {label}: the model "
        text += f"beat it on {', '.join(beat)}" if beat else "did not beat it on any score"
        if lost:
            text += f"; it was worse (interval above 0) on {', '.join(lost)}"
        out.append(text + ".")
    out.append("")
    rows = [
        [
            SCORE_LABELS.get(v["score"], v["score"]),
            v["null_label"],
            f"{v['difference']:+.4g} [{v['lower']:+.4g}, {v['upper']:+.4g}]",
            "yes" if v["beat"] else "no",
            v["verdict"],
        ]
        for v in doc["verdicts"]
    ]
    out += table(["score", "null", "model − null [interval]", "beat?", "verdict"], rows)
    means = [
        [
            SCORE_LABELS.get(score, score),
            name,
            f"{m['mean']:.4g} [{m['lower']:.4g}, {m['upper']:.4g}]",
        ]
        for score, result in doc["scores"].items()
        for name, m in result["means"].items()
    ]
    out += ["## Mean scores", "", *table(["score", "forecast", "mean [interval]"], means)]
    out += _break_even_markdown(doc.get("brier_break_even") or {})
    if doc["excluded_moved_before_start"]:
        out += [
            "States that moved before the cutoff are not scored: "
            + ", ".join(doc["excluded_moved_before_start"])
            + ".",
            "",
        ]
    scheduled = doc.get("scheduled_events") or []
    if scheduled:
        out += [
            "## Events after the cutoff, scheduled before it",
            "",
            "Their dates were known at the cutoff; their sizes are the scenario's (or the "
            "posterior's) and are listed below if not ex ante:",
            "",
            *(
                f"- `{e['event']}` on {e['date']}, scheduled since {e['scheduled_since']}"
                for e in scheduled
            ),
            "",
        ]
    flagged = doc["flagged_inputs"]
    out += ["## Inputs after the cutoff or derived from the outcome", ""]
    if flagged:
        out += [
            f"{len(flagged)} inputs this backtest used were not known at the cutoff; the scores "
            "above are not a clean out-of-sample test while they stay:",
            "",
        ]
        for item in flagged:
            where = "" if item["where"] == "scenario" else f"{item['where']}: "
            out.append(f"- {where}`{item['key']}` ({item['kind']}): {item['reason']}")
        out.append("")
    else:
        out += ["None of the tagged inputs is after the cutoff or derived from the outcome.", ""]
    out += [
        "Files: scores.json (every score and interval), scores.parquet / scores.csv (per state), "
        "reliability.png.",
        "",
    ]
    return "\n".join(out)


def _break_even_markdown(break_even: Mapping[str, Any]) -> list[str]:
    """How confident an exposure rule had to be to beat the model on the Brier score."""
    if not break_even:
        return []
    out = [
        "## How sure the exposure rules had to be",
        "",
        "An exposure rule's one free number is p_hi, the probability it gives an exposed state "
        "(the scores above use the default). The rule's Brier score is below the model's "
        "for every p_hi in the range shown, and above it elsewhere:",
        "",
    ]
    for name, item in break_even.items():
        span = item["null_better_for_p_hi"]
        where = (
            f"rule better for p_hi in [{span[0]:.3f}, {span[1]:.3f}]"
            if span is not None
            else "the model is better for every p_hi"
        )
        out.append(
            f"- {VERDICT_NULLS.get(name, name)}: {where} (model Brier "
            f"{item['model_brier']:.4f}; default p_hi {item['p_hi']:g}, p_lo {item['p_lo']:g})."
        )
    return [*out, ""]


def write_backtest(bt: Backtest, folder: Path, command: Sequence[str] | None = None) -> Path:
    """Write the backtest folder; returns summary.md's path.

    Raises:
        ValidationError: The folder exists and is not empty.
    """
    if folder.exists() and any(folder.iterdir()):
        raise ValidationError(
            [Problem(str(folder), 0, 0, "--out", "the output folder exists and is not empty")]
        )
    try:
        claim_folder(folder, "backtest in progress or interrupted")
    except FileExistsError:
        raise ValidationError(
            [Problem(str(folder), 0, 0, "--out", "the output folder is in use")]
        ) from None
    doc = scores_document(bt, command)
    write_json(folder / "scores.json", doc)
    table_ = pa.Table.from_pandas(bt.scores.table, preserve_index=False)
    write_table(folder / "scores.parquet", table_)
    write_text(folder / "scores.csv", bt.scores.table.to_csv(index=False))
    reliability_plot(
        reliability_tables(bt.scores),
        folder / "reliability",
        title=f"{doc['scenario']}: moved by {doc['until']} (cutoff {doc['cutoff']})",
    )
    write_text(folder / "summary.md", summary_markdown(doc))
    mark_complete(folder)
    return folder / "summary.md"
