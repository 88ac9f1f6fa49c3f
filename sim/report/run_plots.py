"""The figures of a run's report: which plots a run gets, in its population's words.

Geographic states get the cascade, the cascade sizes, a timeline of the states most likely to
move and the map. A synthetic population gets the same cascade and sizes in its scenario's words
(agents *act*), its network or grid, and, past :data:`TIMELINE_ROWS` agents, one image of every
agent's first action instead of a timeline of a few of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from treatysim.analysis import stats
from treatysim.analysis.run_summary import ok_run_ids
from treatysim.plots import first_action
from treatysim.plots import map as map_plots
from treatysim.plots import network as network_plots
from treatysim.plots import run as plots
from treatysim.results.store import PLOTS, RunData

if TYPE_CHECKING:
    from treatysim.model.world import World

#: Most states drawn in timeline.png (the most likely to move). A synthetic population with
#: more agents gets first_action.png instead: every agent in one image.
TIMELINE_ROWS = 25
#: The words of a synthetic population's figures. Its scenarios speak of agents acting (the
#: treaty is "not acting", "to act = to join"), not of states announcing an exit.
AGENT_WORDS = {
    "not_party": "never in",
    "party": "not acted",
    "deliberating": "deliberating",
    "announced": "acted",
    "notified": "acted, notified",
    "withdrawn": "acted, out",
    "retracted": "acted, then retracted",
    "suspended": "acted (suspended)",
}


def _agent_curves(
    curves: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, str], str]:
    """The cascade curves of a synthetic population in its words, one panel where stages agree.

    Teaching scenarios have no pipeline delays, so announcing, notifying and withdrawing fall on
    the same step and their three panels were identical: they are drawn as one, ``acted``.
    """
    stages = [s for s in stats.CURVE_STAGES if curves.get(s)]
    first = stages[0] if stages else ""

    def same(stage: str, start: int) -> bool:
        return all(curves[stage][k][start:] == curves[first][k][start:] for k in curves[first])

    if len(stages) > 1 and all(same(s, 1) for s in stages):
        note = f"{', '.join(stages)}: the same step here (no delays), drawn as one curve"
        if not all(same(s, 0) for s in stages):
            # the initial actors start announced and move on at the first step
            note += "\n(but the initial actors: announced at the start, out one step later)"
        return {first: curves[first]}, {first: "acted"}, note
    return curves, AGENT_WORDS, ""


def p_moved_of(states: Mapping[str, Any], ids: Sequence[str]) -> NDArray[np.float64]:
    """Per state (in ``ids`` order), P(moved to leave by the end) from the summary."""
    return np.array([float(states[s]["moved"]["p"] or 0.0) for s in ids])


def _population(
    summary: dict[str, Any],
    world: World,
    p_moved: NDArray[np.float64],
    out: Path,
    title: str,
    svg: bool,
) -> list[Path]:
    """No geography, so no map: the agents on their network (few) or a grid (many)."""
    summary["map"] = {"outlines": None, "capitals_only": [], "skipped": "no geography"}
    layout = network_plots.report_layout(world)
    summary["population_view"] = {"kind": "grid" if layout.grid else "network", "note": layout.note}
    single = summary["runs"]["ok"] == 1
    return network_plots.population_plot(
        world.ids,
        layout,
        p_moved,
        out / "population",
        title=f"{title}: " + ("who acted" if single else "P(acted)"),
        single=single,
        svg=svg,
    )


def run_plots(summary: dict[str, Any], data: RunData, world: World, svg: bool) -> list[Path]:
    """Draw a run's figures into ``plots/``; return the files written.

    Also records in ``summary`` how the population was drawn (``map``, ``population_view``).
    """
    out = data.folder / PLOTS
    t = summary["primary_treaty"]
    tr = summary["treaties"][t]
    n_ok = summary["runs"]["ok"]
    title = f"{summary['scenario']} · {t} · {n_ok} run{'' if n_ok == 1 else 's'}"
    curves = {s: tr["curves"][s] for s in stats.CURVE_STAGES}
    obs = tr["observed_curves"] if tr["observed_size"] is not None else None
    events = [(e.date, e.id or e.type) for e in world.scenario.events]
    synthetic = world.population is not None
    noun = "agent" if synthetic else "state"
    labels: dict[str, str] | None = None
    note = ""
    if synthetic:
        curves, labels, note = _agent_curves(curves)
    files = plots.cascade_plot(
        tr["curves"]["dates"],
        curves,
        out / "cascade",
        observed=obs,
        events=events,
        noun=f"{noun}s",
        labels=labels,
        note=note,
        single=n_ok == 1,
        title=title,
        svg=svg,
    )
    files += plots.cascade_size_plot(
        tr["cascade_size"],
        out / "cascade_size",
        observed=tr["observed_size"],
        noun=f"{noun}s",
        counted="that acted" if synthetic else "that announced or suspended",
        title=title,
        svg=svg,
    )
    k = world.treaties.index(t)
    states = tr["states"]

    def p_any(s: str) -> float:
        return float(states[s]["moved"]["p"] or 0.0)

    moved = sorted((s for s in states if p_any(s) > 0.01), key=lambda s: (-p_any(s), s))
    movers = moved[:TIMELINE_ROWS]
    movers.sort(key=lambda s: (states[s]["stages"]["announced"]["median"] or "9999", -p_any(s)))
    ok = ok_run_ids(data.runs)
    steps = stats.day_array(world.calendar.dates)
    if synthetic and world.n_states > TIMELINE_ROWS:
        rc = stats.reach(data.events, ok, world.ids, t)
        files += first_action.first_action_plot(
            world.calendar.dates,
            steps,
            stats.first_moved(rc),
            world.ids,
            out / "first_action",
            noun=noun,
            title=title,
            svg=svg,
        )
        return files + _population(summary, world, p_moved_of(states, world.ids), out, title, svg)
    party = [bool(world.party[world.index(s), k]) for s in movers]
    occ = stats.occupancies(data.events, ok, movers, t, party, steps)
    rows = [(f"{s} {p_any(s):.0%}", occ[i]) for i, s in enumerate(movers)]
    files += plots.timeline_plot(
        world.calendar.dates,
        rows,
        stats.OCCUPANCY_STAGES,
        out / "timeline",
        noun=noun,
        left_out=len(moved) - len(movers),
        labels=AGENT_WORDS if synthetic else None,
        title=title,
        svg=svg,
    )
    p_moved = p_moved_of(states, world.ids)
    if synthetic:
        return files + _population(summary, world, p_moved, out, title, svg)
    p_suspended = np.array(
        [float(states[s]["stages"]["suspended"]["end"]["p"] or 0.0) for s in world.ids]
    )
    map_files, dots = map_plots.map_plot(
        world.ids,
        world.lat,
        world.lon,
        world.party[:, k],
        p_moved,
        p_suspended,
        out / "map",
        title=f"{title}: P(moved to leave by the end)",
        svg=svg,
    )
    summary["map"] = {"outlines": map_plots.OUTLINES, "dots": dots}
    return files + map_files
