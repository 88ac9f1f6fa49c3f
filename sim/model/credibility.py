"""A compiled timeline with another world's credibility of allied guarantees.

Only two tracks of a :class:`~treatysim.model.timeline.Timeline` depend on the credibility of
allied guarantees: ``credibility`` itself and ``discounted`` (the source threat times
``1 - reassurance_weight * credibility``). Credibility starts at
``parameters.threat.initial_credibility`` and changes only at events (a ``reassurance`` sets it,
a ceasefire's ``guarantee_change`` moves it), so it is piecewise constant between event steps.

ABC particles that differ only in those numbers (the size of a credibility drop, the
reassurance weight) can therefore share one compiled timeline: :func:`with_credibility` replays
the world's events, without the per-step work of a compilation, to get its credibility at each
step, and discounts the shared ``source_threat`` track afresh. The result equals a full
compilation exactly (the discount is elementwise; tests/test_credibility.py checks every track).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from treatysim.model import dynamics
from treatysim.model.timeline import COMPILERS, Compiling, Timeline, Track, events_by_step

if TYPE_CHECKING:
    from treatysim.model.world import World

#: Event fields that change only the credibility of allied guarantees, by event type.
CREDIBILITY_FIELDS: dict[str, tuple[str, ...]] = {
    "reassurance": ("credibility",),
    "ceasefire": ("guarantee_change",),
}


def credibility_track(world: World) -> Track:
    """Each step's credibility of allied guarantees, shape (n,) per step.

    Replays the world's events in the order a compilation applies them (by date, acting from
    the step whose period holds the date) on a scratch compiling state, and reads only its
    credibility after each step's events.
    """
    cal = world.calendar
    c = Compiling(world)
    due = events_by_step(world)
    rows = [c.credibility.copy()]
    starts = [0]
    for k in sorted(due):
        c.step = k
        for event in due[k]:
            c.months = cal.months_at(event.date)
            COMPILERS[event.type](c, event)
        if c.credibility.tobytes() != rows[-1].tobytes():
            rows.append(c.credibility.copy())
            starts.append(k)
    index = np.searchsorted(np.asarray(starts), np.arange(cal.n_steps + 1), side="right") - 1
    return Track.frozen(np.stack(rows), index.astype(np.intp))


def with_credibility(timeline: Timeline, world: World) -> Timeline:
    """``timeline`` (compiled for a world alike but for credibility) with ``world``'s credibility.

    Args:
        timeline: A timeline compiled for a world whose events, calendar, sources, conflicts
            and membership equal ``world``'s except for the fields in
            :data:`CREDIBILITY_FIELDS`, initial credibility and the reassurance weight.
        world: The world whose credibility the result carries.
    """
    credibility = credibility_track(world)
    weight = world.scenario.parameters.threat.reassurance_weight
    dense = dynamics.discounted_threat(timeline.source_threat.dense(), credibility.dense(), weight)
    return dataclasses.replace(timeline, credibility=credibility, discounted=compress(dense))


def compress(dense: NDArray[Any]) -> Track:
    """A :class:`Track` of per-step values, one row per run of (bytewise) equal values."""
    flat = np.ascontiguousarray(dense).reshape(len(dense), -1).view(np.uint8)
    change = (flat[1:] != flat[:-1]).any(axis=1)
    starts = np.concatenate([[0], np.flatnonzero(change) + 1])
    index = np.concatenate([[0], np.cumsum(change)]).astype(np.intp)
    return Track.frozen(np.array(dense[starts], copy=True), index)
