"""Turn replication outputs into the tidy tables of a run folder.

Tables (see README, "Outputs"):
- runs: one row per replication, with its status and outcomes;
- events: one row per stage change;
- timeseries: per step and state (``full``), or per step, treaty and stage (``counts``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from treatysim.model.pipeline import ANNOUNCED, NOTIFIED, RETRACTED, SUSPENDED, WITHDRAWN
from treatysim.scenario.schema import STAGES
from treatysim.scenario.sweep import OUTCOMES  # noqa: F401  (the M of XLRM; shards reads it here)

if TYPE_CHECKING:
    from treatysim.run.runner import Output
    from treatysim.model.world import World


@dataclass
class Tables:
    """The three tables of a run folder."""

    runs: pd.DataFrame
    events: pd.DataFrame
    timeseries: pd.DataFrame | None


def _dates(ordinals: np.ndarray) -> pd.Series:
    values = [dt.date.fromordinal(int(o)) for o in ordinals]
    return pd.Series(pd.to_datetime(values), dtype="datetime64[ns]").dt.date


def outcomes(world: World, output: Output) -> dict[str, object]:
    """Per-run outcomes, computed from the run's stage changes and final stages."""
    row: dict[str, object] = {}
    start = world.calendar.start.toordinal()
    primary = world.scenario.primary_treaty
    ev = output.events
    assert output.final_stage is not None, "outcomes exist only for runs that finished"
    for j, treaty in enumerate(world.treaties):
        suffix = "" if treaty == primary else f"__{treaty}"
        mine = ev["treaty"] == j
        reached = {
            stage: mine & (ev["stage"] == stage)
            for stage in (ANNOUNCED, NOTIFIED, RETRACTED, SUSPENDED, WITHDRAWN)
        }
        announced = set(ev["state"][reached[ANNOUNCED]].tolist())
        suspended = set(ev["state"][reached[SUSPENDED]].tolist())
        final = output.final_stage[:, j]
        ann_dates = ev["date"][reached[ANNOUNCED]]
        exit_dates = ev["date"][reached[WITHDRAWN]]
        first_exit = int(exit_dates.min()) if len(exit_dates) else None
        row[f"cascade_size{suffix}"] = len(announced | suspended)
        row[f"n_announced{suffix}"] = len(announced)
        row[f"n_notified{suffix}"] = len(set(ev["state"][reached[NOTIFIED]].tolist()))
        row[f"n_withdrawn{suffix}"] = int((final == WITHDRAWN).sum())
        row[f"n_suspended{suffix}"] = int((final == SUSPENDED).sum())
        row[f"n_retracted{suffix}"] = len(set(ev["state"][reached[RETRACTED]].tolist()))
        row[f"first_announcement{suffix}"] = (
            dt.date.fromordinal(int(ann_dates.min())) if len(ann_dates) else None
        )
        row[f"first_exit{suffix}"] = dt.date.fromordinal(first_exit) if first_exit else None
        row[f"days_to_first_exit{suffix}"] = (first_exit - start) if first_exit else None
    return row


def runs_table(world: World, outputs: Sequence[Output]) -> pd.DataFrame:
    """One row per replication: ids, seed, status, error, seconds and outcomes."""
    rows = []
    for out in outputs:
        row: dict[str, object] = {
            "run_id": out.task.run_id,
            **({"point": out.task.point} if out.task.point >= 0 else {}),
            "replication": out.task.replication,
            "seed": out.task.seed,
            "status": out.status,
            "error": out.error,
        }
        if out.status == "ok":
            row.update(outcomes(world, out))
        rows.append(row)
    frame = pd.DataFrame(rows)
    for column in frame.columns:
        if column.startswith(("first_announcement", "first_exit")):
            frame[column] = frame[column].astype("object")
    for column in ("replication", "point"):
        if column in frame:
            frame[column] = frame[column].astype("int64")
    frame["seed"] = frame["seed"].astype("uint64")
    return frame


def events_table(world: World, outputs: Sequence[Output]) -> pd.DataFrame:
    """One row per stage change: run_id, replication, iso3, treaty, stage, date, step."""
    parts = []
    ids = np.array(world.ids, dtype=object)
    treaties = np.array(world.treaties, dtype=object)
    stages = np.array(STAGES, dtype=object)
    for out in outputs:
        ev = out.events
        if not ev or len(ev["step"]) == 0:
            continue
        n = len(ev["step"])
        part = {
            "run_id": np.full(n, out.task.run_id, dtype=object),
            **(
                {"point": np.full(n, out.task.point, dtype=np.int64)} if out.task.point >= 0 else {}
            ),
            "replication": np.full(n, out.task.replication, dtype=np.int64),
            "iso3": ids[ev["state"]],
            "treaty": treaties[ev["treaty"]],
            "stage": stages[ev["stage"]],
            "date_ordinal": ev["date"],
            "step": ev["step"].astype(np.int64),
        }
        parts.append(pd.DataFrame(part))
    columns = ["run_id", "replication", "iso3", "treaty", "stage", "date", "step"]
    if any(o.task.point >= 0 for o in outputs):
        columns.insert(1, "point")
    if not parts:
        empty = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
        for c in ("replication", "step", "point"):
            if c in empty:
                empty[c] = empty[c].astype("int64")
        return empty
    frame = pd.concat(parts, ignore_index=True)
    frame["date"] = _dates(frame.pop("date_ordinal").to_numpy())
    return frame[columns]


def timeseries_table(world: World, outputs: Sequence[Output], mode: str) -> pd.DataFrame | None:
    """Per-step records: per state (full) or stage counts per treaty (counts); None for none."""
    if mode == "none":
        return None
    dates = pd.Series(pd.to_datetime(list(world.calendar.dates))).dt.date.to_numpy()
    steps = np.arange(len(dates))
    parts = []
    for out in outputs:
        if out.status != "ok":
            continue
        if mode == "full" and out.threat is not None and out.stage is not None:
            assert out.commitment is not None
            n_steps, n = out.threat.shape
            part: dict[str, object] = {
                "run_id": np.full(n_steps * n, out.task.run_id, dtype=object),
                "replication": np.full(n_steps * n, out.task.replication, dtype=np.int64),
                "step": np.repeat(steps, n),
                "date": np.repeat(dates, n),
                "iso3": np.tile(np.array(world.ids, dtype=object), n_steps),
                "threat": out.threat.reshape(-1),
            }
            for j, treaty in enumerate(world.treaties):
                part[f"commitment_{treaty}"] = out.commitment[:, :, j].reshape(-1)
                codes = out.stage[:, :, j].reshape(-1)
                names = np.array([*STAGES, "not_party"], dtype=object)
                part[f"stage_{treaty}"] = names[np.where(codes < 0, len(STAGES), codes)]
            parts.append(pd.DataFrame(part))
        elif mode == "counts" and out.counts is not None:
            n_steps, k, n_stages = out.counts.shape
            size = n_steps * k
            part = {
                "run_id": np.full(size, out.task.run_id, dtype=object),
                "replication": np.full(size, out.task.replication, dtype=np.int64),
                "step": np.repeat(steps, k),
                "date": np.repeat(dates, k),
                "treaty": np.tile(np.array(world.treaties, dtype=object), n_steps),
            }
            flat = out.counts.reshape(size, n_stages)
            for code, stage in enumerate(STAGES):
                part[f"n_{stage}"] = flat[:, code].astype(np.int64)
            parts.append(pd.DataFrame(part))
    if not parts:
        return None
    return pd.concat(parts, ignore_index=True)


def tables(world: World, outputs: Sequence[Output], mode: str) -> Tables:
    """All tables of a run folder."""
    return Tables(
        runs=runs_table(world, outputs),
        events=events_table(world, outputs),
        timeseries=timeseries_table(world, outputs, mode),
    )
