"""The report of a run folder: ``summary.json``, ``summary.md`` and ``plots/``.

Everything here reads stored tables (:func:`treatysim.results.store.load_run`), never reruns a
model, so ``treatysim report DIR`` rebuilds a report from the folder alone. The numbers come from
:func:`treatysim.analysis.run_summary.summarize`, the figures from
:mod:`treatysim.report.run_plots`; this
module writes the words and the files. Sweep folders are handed to
:mod:`treatysim.report.sweep_report`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from treatysim.analysis import stats
from treatysim.analysis.run_summary import METHODS, Layout, summarize
from treatysim.report import markdown
from treatysim.report.inputs import describe_uncertainty, inputs_markdown
from treatysim.report.markdown import fmt_p, jsonable, table
from treatysim.report.precision_report import precision_markdown, precision_section
from treatysim.report.run_plots import AGENT_WORDS, run_plots
from treatysim.report.sweep_report import build_sweep_report
from treatysim.results.store import (
    PLOTS,
    SUMMARY_JSON,
    SUMMARY_MD,
    TIMESERIES,
    RunData,
    StoreError,
    check_complete,
    load_run,
    read_manifest,
    write_json,
    write_text,
)
from treatysim.scenario.errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd


#: Most states listed in the tables of summary.md.
TOP = 15


def ranked_states(treaty: Mapping[str, Any], stage: str = "announced") -> list[str]:
    """Party states by P(reached ``stage`` by the end), highest first (ties by id)."""
    states = treaty["states"]
    key = {s: states[s]["stages"][stage]["end"]["p"] or 0.0 for s in states if states[s]["party"]}
    return sorted(key, key=lambda s: (-key[s], s))


def _fmt_single(prop: Mapping[str, Any] | None, digits: int = 2) -> str:
    """A number without its interval (one replication)."""
    return markdown.fmt_p({**prop, "lo": None} if prop else prop, digits)


def _steps(p_at_least: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of P(size ≥ k) where the next k has a lower probability (and the last row)."""
    if len(p_at_least) <= 20:
        return p_at_least
    following = [*p_at_least[1:], None]
    return [
        r for r, nxt in zip(p_at_least, following, strict=True) if not nxt or nxt["p"] != r["p"]
    ]


#: The words of summary.md, for geographic states and for a synthetic population (whose
#: scenarios speak of agents acting, as its figures do: :data:`run_plots.AGENT_WORDS`).
WORDS = {
    "states": {
        "unit": "state", "units": "states", "act": "announce an exit", "acts": "announces",
        "action": "announcement", "actions": "announcements", "exit": "exit",
        "any": "P(any party moved)", "movers": "expected movers",
    },
    "agents": {
        "unit": "agent", "units": "agents", "act": "act", "acts": "acts",
        "action": "action", "actions": "actions", "exit": "action",
        "any": "P(any agent acted)", "movers": "expected agents that acted",
    },
}  # fmt: skip


#: The methods of summary.md for a synthetic population, in its words (the rest as METHODS).
AGENT_METHODS = {
    **METHODS,
    "reached": "An agent reached stage X by date d when it has an event of stage X dated <= d.",
    "cascade_size": "Cascade size: agents that acted, per run.",
    "order": "P(A before B): among runs where A or B acted, A acted and B did not, or A acted "
    "strictly earlier; acting on the same day counts 1/2 to each; runs where neither acted are "
    "left out. Wilson interval with the half-counted k.",
    "curves": "Curves: per run, agents that had reached the stage by each step date; bands are "
    "quantiles across runs (5/25/50/75/95%).",
}


def render_markdown(summary: Mapping[str, Any]) -> str:
    """summary.md: the summary's main figures as Markdown tables, methods stated.

    A synthetic population (its report has a ``population_view`` instead of a map) is
    described in its scenario's words: agents that act, not states that announce an exit.
    """
    synthetic = "population_view" in summary
    w = WORDS["agents" if synthetic else "states"]
    methods = AGENT_METHODS if synthetic else METHODS

    def stage(g: str) -> str:
        return AGENT_WORDS.get(g, g) if synthetic else g

    t = summary["primary_treaty"]
    tr = summary["treaties"][t]
    runs = summary["runs"]
    single = runs["ok"] == 1
    # one replication has one answer: its numbers, not intervals around them
    fmt_p = _fmt_single if single else markdown.fmt_p
    out = [
        f"# {summary['scenario']}: {t}",
        "",
        f"{runs['ok']} replication{'' if single else 's'} ok, {runs['failed']} failed; calendar "
        f"{summary['calendar']['start']} to {summary['calendar']['end']} "
        f"({summary['calendar']['steps']} steps); {summary.get('engine', 'mesa')} engine. "
        + ("One replication: its outcome, without intervals." if single else "Intervals: 95%.")
        + (f" Intervals cover {summary['uncertainty']}." if summary.get("uncertainty") else ""),
        "",
    ]
    if summary.get("precision"):
        out += precision_markdown(summary["precision"])
    top = [s for s in ranked_states(tr) if tr["states"][s]["moved"]["p"]]
    out += [f"## {w['units'].capitalize()} most likely to {w['act']}", ""]
    rows = []
    for s in top[:TOP]:
        st = tr["states"][s]["stages"]
        ann = st["announced"]
        rows.append(
            [
                s,
                *(fmt_p(st[g]["end"]) for g in ("announced", "notified", "withdrawn")),
                f"{ann['median'] or '–'} [{ann['q25'] or '–'}, {ann['q75'] or '–'}]",
            ]
        )
    out += table(
        [
            w["unit"],
            *(f"P({stage(g)})" for g in ("announced", "notified", "withdrawn")),
            f"median {w['action']} [IQR]",
        ],
        rows,
    )
    for d in summary["report_dates"]:
        by = tr.get("moved_by_date", {}).get(d)
        if by is not None:
            out += [
                f"By {d}: {w['any']} {fmt_p(by['any'], 3)}; {w['movers']} "
                f"{fmt_p(by['movers'], 3)}.",
                "",
            ]
        rows = [
            [s, *(fmt_p(tr["states"][s]["stages"][g]["by_date"][d]) for g in stats.CURVE_STAGES)]
            for s in top[:TOP]
        ]
        out += [
            f"### By {d}",
            "",
            *table([w["unit"], *(f"P({stage(g)})" for g in stats.CURVE_STAGES)], rows),
        ]
    size = tr["cascade_size"]
    out += [
        "## Cascade size",
        "",
        f"Mean {fmt_p(size['mean'])}; observed: "
        f"{tr['observed_size'] if tr['observed_size'] is not None else 'unknown'}.",
        "",
    ]
    reached = [(k, n) for k, n in size["distribution"].items() if n]
    if len(reached) < len(size["distribution"]):
        out += ["Sizes that no run reached are left out.", ""]
    out += table(["size", "runs"], reached)
    steps = _steps(size["p_at_least"])
    if len(steps) < len(size["p_at_least"]):
        out += ["P(size ≥ k) at each k where it drops (it is constant in between).", ""]
    out += table(["k", "P(size ≥ k)"], [[r["size"], fmt_p(r)] for r in steps])
    means = tr["means"]
    per_run = "; ".join(f"{c} {fmt_p(m)}" for c, m in means.items())
    out += [f"Mean {w['units']} per run: {per_run}", ""]
    fe = tr["first_exit"]
    out += [f"## Time to the first {w['exit']}", ""]
    if fe["median_days"] is not None:
        out += [
            f"Median {fe['median_days']:.0f} days after the start (IQR {fe['q25_days']:.0f}–"
            f"{fe['q75_days']:.0f}), among {fe['n_with_exit']} runs with an {w['exit']}."
        ]
    out += [f"Share of runs with no {w['exit']} by the end: {fmt_p(fe['no_exit'])}.", ""]
    order = tr["order"]
    if len(order["states"]) >= 2:
        out += [
            f"## Order of {w['actions']}",
            "",
            f"Row {w['unit']} {w['acts']} before column {w['unit']}. " + methods["order"],
            "",
        ]
        rows = [
            [a, *("–" if p is None else f"{p:.2f}" for p in order["p"][i])]
            for i, a in enumerate(order["states"])
        ]
        out += table(["before →", *order["states"]], rows)
    curves = tr["curves"]
    step_days = stats.day_array(curves["dates"])
    report = stats.day_array(summary["report_dates"])
    picks = sorted(
        {*(np.searchsorted(step_days, report, side="right") - 1), len(step_days) - 1} - {-1}
    )
    if curves.get("announced"):
        out += ["## Cascade over time (median [5%, 95%] of runs)", ""]
        rows = [
            [
                curves["dates"][i],
                *(
                    f"{curves[g]['q50'][i]:.0f} [{curves[g]['q05'][i]:.0f}, "
                    f"{curves[g]['q95'][i]:.0f}]"
                    for g in stats.CURVE_STAGES
                ),
            ]
            for i in picks
        ]
        out += table(["date", *(stage(g) for g in stats.CURVE_STAGES)], rows)
    records = [r for r in summary["observed"]["records"] if r.get("modelled")]
    if records:
        out += ["## Observed history beside the model", ""]
        rows = [
            [
                r["iso3"],
                r["treaty"],
                r["stage"],
                r["date"],
                r["median"] or "–",
                f"{r['q25'] or '–'} – {r['q75'] or '–'}",
                fmt_p(r["by_observed_date"]),
                fmt_p(r["ever"]),
            ]
            for r in records
        ]
        out += table(
            [
                "state",
                "treaty",
                "stage",
                "observed",
                "predicted median",
                "IQR",
                "P(by observed date)",
                "P(ever)",
            ],
            rows,
        )
        mae = summary["observed"]["mean_abs_error_days"]
        if mae is not None:
            out += [f"Mean |observed − predicted median|: {mae:.0f} days.", ""]
    for other in summary["treaties"]:
        if other != t:
            o = summary["treaties"][other]
            out += [
                f"## Treaty {other}",
                "",
                f"Mean cascade size {fmt_p(o['cascade_size']['mean'])}"
                f"; mean exits {fmt_p(o['means']['n_withdrawn'])}.",
                "",
            ]
    out += inputs_markdown(summary)
    out += ["## Methods", "", *(f"- {v}" for v in methods.values()), ""]
    if summary.get("plots"):
        out += ["## Plots", "", *(f"- [{p}]({p})" for p in summary["plots"]), ""]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# files


def read_run(folder: Path, allow_incomplete: bool = False, *, timeseries: bool = True) -> RunData:
    """:func:`~treatysim.results.store.load_run`, with unreadable tables reported as StoreError.

    Raises:
        StoreError: Not a run folder, an incomplete one, or unreadable tables or manifest.
    """
    try:
        return load_run(folder, allow_incomplete=allow_incomplete, timeseries=timeseries)
    except StoreError:
        raise
    except (OSError, ValueError, ValidationError) as exc:
        raise StoreError(f"{folder}: unreadable run folder ({exc})") from exc


def _threat_rows(path: Path, layout: Layout) -> pd.DataFrame | None:
    """The rows of timeseries.parquet the report uses: threat at the report dates and the end.

    The whole table (every state, step and replication: 1.5 million rows for the founding run)
    took a second to read; the report needs a few steps of four columns. They are read with
    ``ParquetFile`` (run ids and states as dictionaries, one thread) and filtered here: 0.14 s
    CPU in a fresh process against 0.39 s for ``read_table(filters=...)``, whose dataset
    machinery is itself a costly import; reading the states as a dictionary too halved the read
    again, 0.24 to 0.12 s (measured 2026-11-30 on the founding run). Memory-mapping the file
    instead of reading it through buffered reads, one per column chunk, cut the read from
    0.16–0.32 s to about 0.10 s CPU (the same day, 24 MB, 182 row groups).

    Raises:
        StoreError: The table is unreadable.
    """
    if not path.is_file():
        return None
    try:
        meta = pq.read_metadata(path)  # the footer, read once
        names = meta.schema.to_arrow_schema().names
        if "threat" not in names:
            return None
        dictionaries = [c for c in ("run_id", "iso3") if c in names]
        file = pq.ParquetFile(path, metadata=meta, read_dictionary=dictionaries, memory_map=True)
        steps = stats.day_array(layout.dates)
        days = [stats.to_day(d) for d in layout.report_dates] + [int(steps[-1])]
        wanted = sorted({int(np.searchsorted(steps, d, side="right")) - 1 for d in days} - {-1})
        table = file.read(columns=["run_id", "step", "iso3", "threat"], use_threads=False)
        table = table.filter(pc.is_in(table["step"], pa.array(wanted, type=table["step"].type)))
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise StoreError(f"{path}: unreadable table ({exc})") from exc
    frame = table.to_pandas()
    for column in ("run_id", "iso3"):  # plain strings, as read_table gave them
        frame[column] = frame[column].astype(str)
    return frame


def _kind(folder: Path, require_complete: bool = True) -> str:
    if not folder.is_dir():
        raise StoreError(f"{folder}: no such folder")
    if require_complete:
        check_complete(folder)
    return str(read_manifest(folder).get("kind", "run"))


def build_report(
    folder: Path | str,
    *,
    svg: bool = False,
    require_complete: bool = True,
    on_phase: Callable[[str], None] | None = None,
) -> Path:
    """Write summary.json, summary.md and plots/ for a run folder (or delegate for a sweep).

    Args:
        folder: A run folder (or a sweep folder, handed to :mod:`treatysim.report.sweep_report`).
        svg: Also write SVG plots.
        require_complete: Refuse a folder with an INCOMPLETE marker (the runner passes False
            for the report it writes just before removing the marker).
        on_phase: Called with a line as each phase of a run's report starts (the CLI prints
            them, so a report of a few seconds shows what it is doing).

    Returns:
        The path of summary.md.

    Raises:
        StoreError: The folder is not a readable run folder.
    """
    folder = Path(folder)
    if _kind(folder, require_complete) == "sweep":
        build_sweep_report(folder, svg=svg, require_complete=require_complete)
        return folder / SUMMARY_MD
    clock = time.perf_counter()

    def phase(text: str) -> None:
        if on_phase is not None:
            on_phase(f"report [{time.perf_counter() - clock:4.1f} s]: {text}")

    phase("reading the tables")
    data = read_run(folder, allow_incomplete=not require_complete, timeseries=False)
    world = data.world()
    layout = Layout.from_world(world)
    phase("statistics")
    summary = summarize(
        data.runs, data.events, layout, timeseries=_threat_rows(folder / TIMESERIES, layout)
    )
    summary["engine"] = data.manifest.get("engine", "mesa")
    summary["uncertainty"] = data.manifest.get("uncertainty") or describe_uncertainty(
        data.manifest.get("posterior")
    )
    summary["posterior"] = data.manifest.get("posterior")
    summary["inputs"] = data.manifest.get("provenance")
    phase("plots")
    files = run_plots(summary, data, world, svg)
    if data.manifest.get("precision"):
        summary["precision"], more = precision_section(
            data.manifest["precision"], data.runs, data.events, world, folder / PLOTS, svg
        )
        files += more
    summary["plots"] = [str(p.relative_to(folder)) for p in files]
    summary = jsonable(summary)
    phase("summary.json and summary.md")
    write_json(folder / SUMMARY_JSON, summary)
    write_text(folder / SUMMARY_MD, render_markdown(summary))
    phase("done")
    return folder / SUMMARY_MD


def _same_outcome(tr: Mapping[str, Any]) -> bool:
    """Every replication had the same outcome: one cascade size, every state always or never."""
    sizes = [k for k, n in tr["cascade_size"]["distribution"].items() if n]
    return len(sizes) <= 1 and all(
        st["stages"][g]["end"]["p"] in (0.0, 1.0, None)
        for st in tr["states"].values()
        for g in ("announced", "withdrawn")
    )


def summary_table(folder: Path | str, limit: int = 10) -> str:
    """A short plain-text table for the terminal: the top states by P(announce) and the means.

    One replication, or replications that all had the same outcome (a deterministic scenario),
    have one answer: it is printed as such ("100 of 100 agents acted"), without interval columns.
    """
    folder = Path(folder)
    try:
        summary = json.loads((folder / SUMMARY_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = read_run(folder, allow_incomplete=True)
        summary = jsonable(summarize(data.runs, data.events, Layout.from_world(data.world())))
    t = summary["primary_treaty"]
    tr = summary["treaties"][t]
    n_ok = summary["runs"]["ok"]
    head = (
        f"{summary['scenario']} · {t} · {n_ok} run{'' if n_ok == 1 else 's'} ok, "
        f"{summary['runs']['failed']} failed"
    )
    if n_ok and (n_ok == 1 or _same_outcome(tr)):
        return "\n".join(_one_answer(summary, head, limit))
    lines = [
        head,
        f"{'state':<6} {'P(announce)':>11}  {'95% CI':<15} {'P(exit)':>7}  median announcement",
    ]
    for s in ranked_states(tr)[:limit]:
        st = tr["states"][s]["stages"]
        a = st["announced"]["end"]
        if not a["p"]:
            break
        ci = f"[{a['lo']:.2f}, {a['hi']:.2f}]"
        lines.append(
            f"{s:<6} {a['p']:>11.2f}  {ci:<15} {st['withdrawn']['end']['p']:>7.2f}  "
            f"{st['announced']['median'] or '–'}"
        )
    lines.append(
        f"mean cascade size {fmt_p(tr['cascade_size']['mean'])}; "
        f"mean exits {fmt_p(tr['means']['n_withdrawn'])}"
    )
    return "\n".join(lines)


def _one_answer(summary: Mapping[str, Any], head: str, limit: int) -> list[str]:
    """The terminal table of a run with one answer: counts and dates, no intervals."""
    tr = summary["treaties"][summary["primary_treaty"]]
    synthetic = "population_view" in summary
    noun, verb = ("agents", "acted") if synthetic else ("states", "announced an exit")
    parties = sum(1 for st in tr["states"].values() if st["party"])
    size = tr["cascade_size"]["mean"]["mean"]
    exits = tr["means"]["n_withdrawn"]["mean"]
    n_ok = summary["runs"]["ok"]
    states = tr["states"]
    # in the order they acted (ties by id): with one answer, who went first is the story
    acted = sorted(
        (s for s in states if states[s]["stages"]["announced"]["end"]["p"]),
        key=lambda s: (states[s]["stages"]["announced"]["median"] or "9999", s),
    )
    width = max([6, *(len(s) for s in acted[:limit])])
    lines = [
        head + ("" if n_ok == 1 else f"; all {n_ok} had the same outcome"),
        f"{size:,.0f} of {parties:,} {noun} {verb}; {exits:,.0f} withdrew (took effect)"
        + (f"; the first {limit} by date:" if len(acted) > limit else ""),
        f"{noun[:-1]:<{width}} {'acted' if synthetic else 'announced':<11} withdrawn",
    ]
    for s in acted[:limit]:
        st = states[s]["stages"]
        gone = "yes" if st["withdrawn"]["end"]["p"] else "no"
        lines.append(f"{s:<{width}} {st['announced']['median'] or '–':<11} {gone}")
    return lines
