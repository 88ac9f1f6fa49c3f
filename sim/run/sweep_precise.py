"""Sweeps with ``--precision H``: blocks of replications per point until its intervals are narrow.

Design (see also ``docs/sweeps.md``):

- The run keys span ``points × cap`` (:attr:`treatysim.run.plan.SweepPlan.replications` is the
  cap), so the shard store, its resume scan and its status bytes work unchanged. Run ``(p, r)``
  has the seed ``replication_seed(root, p, r)`` whatever the block or the final size, so a
  block extends the sequence a fixed sweep of any larger size would use.
- Work goes in rounds: every point still open runs its next block (one round is one batch of
  chunk jobs on the executor, across points); after the round the shards are written and each
  point's rule is checked on its stored rows ``r < n``
  (:data:`treatysim.run.precise.Judge`, passed in by the CLI as for ``run --precision``).
- Nothing but the stored rows decides: after a kill, ``--resume`` replays every point's rule
  from its first block on the stored rows, which gives the same decisions, and runs only the
  keys of the blocks the replay asks for. Runs are neither lost nor run twice, and the result
  does not depend on the number of workers or on where the kill fell.
- While running, a row carries a provisional run id (the point's digest at the cap). The final
  relabelling happens at consolidation: the rows ``r < n_p`` of point ``p`` are kept and their
  run ids derive from the point's scenario at its final size ``n_p``, so each point's tables
  equal those of a fixed sweep of ``n_p`` replications. (The alternative, a run id digest
  without the count, would make a precision sweep's ids differ from a fixed sweep's.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from treatysim.model.world import World, build_world
from treatysim.results.shards import STATUS_FAILED, STATUS_MISSING, STATUS_OK, Layer
from treatysim.run.precise import Judge
from treatysim.run.seeds import run_id

if TYPE_CHECKING:
    import pandas as pd

    from treatysim.run.plan import SweepPlan

_RUN_COLUMNS = ["point", "replication", "run_id", "status", "cascade_size"]
_EVENT_COLUMNS = ["point", "replication", "run_id", "iso3", "treaty", "stage"]


@dataclass
class _Point:
    """One point's progress: the size under test, its stored rows, the rule's verdicts."""

    n: int
    runs: list[pd.DataFrame] = field(default_factory=list)
    events: list[pd.DataFrame] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    record: dict[str, Any] | None = None


class PrecisionRounds:
    """The rule of every point of a precision sweep, fed with the stored shards.

    Args:
        plan: The sweep plan (with its :attr:`~treatysim.run.plan.SweepPlan.precision` rule).
        judge: The check after each block (rows of one point, its world).
        status: The stored status byte of each run key (from the resume scan).
        retry_failed: Rerun stored failed rows before the rule looks at them.
    """

    def __init__(
        self, plan: SweepPlan, judge: Judge, status: np.ndarray, *, retry_failed: bool = False
    ) -> None:
        assert plan.precision is not None
        self.plan = plan
        self.rule = plan.precision
        self.judge = judge
        self.status = status.copy()
        self.todo = status == STATUS_MISSING
        if retry_failed:
            self.todo |= status == STATUS_FAILED
        self.points = [_Point(self.rule.block) for _ in range(plan.n_points)]
        self._worlds: dict[int, World] = {}
        self.rounds = 0

    def ingest(self, layers: list[Layer]) -> None:
        """Add the rows of stored layers (oldest first; a newer row of a key wins)."""
        cap = self.plan.replications
        for layer in layers:
            runs = pq.read_table(layer.runs, columns=_RUN_COLUMNS).to_pandas()
            runs["_layer"] = layer.number
            keys = runs["point"].to_numpy(np.int64) * cap + runs["replication"].to_numpy(np.int64)
            ok = (runs["status"].astype(str) == "ok").to_numpy()
            self.status[keys] = np.where(ok, STATUS_OK, STATUS_FAILED)
            self.todo[keys] = False
            for point, rows in runs.groupby("point", sort=False):
                self.points[int(point)].runs.append(rows)
            if layer.events is not None and layer.events.is_file():
                events = pq.read_table(layer.events, columns=_EVENT_COLUMNS).to_pandas()
                events["_layer"] = layer.number
                for point, rows in events.groupby("point", sort=False):
                    self.points[int(point)].events.append(rows)

    def advance(self) -> np.ndarray:
        """Check every open point whose block is stored; return the run keys still to run."""
        pending = [self._advance(p) for p in range(self.plan.n_points)]
        return np.sort(np.concatenate(pending)) if pending else np.zeros(0, np.int64)

    def _advance(self, p: int) -> np.ndarray:
        point, cap, block = self.points[p], self.plan.replications, self.rule.block
        while point.record is None:
            keys = p * cap + np.arange(point.n, dtype=np.int64)
            missing = keys[self.todo[keys]]
            if missing.size:
                return missing
            runs, events = self._frames(point)
            reached, widest, width = self.judge(runs, events, self._world(p))
            point.history.append({"n": point.n, "max_half_width": width, "widest": widest})
            capped = not reached and point.n + block > cap
            if reached or capped:
                point.record = {
                    "point": p,
                    "n": point.n,
                    "reached": bool(reached),
                    "capped": bool(capped),
                    "widest": widest,
                    "max_half_width": float(width),
                }
                point.runs, point.events = [], []  # the rule is done with them
            else:
                point.n += block
        return np.zeros(0, np.int64)

    def _frames(self, point: _Point) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The point's newest row of each replication below ``n``, and those rows' events."""
        import pandas as pd

        point.runs = [pd.concat(point.runs, ignore_index=True)] if point.runs else []
        point.events = [pd.concat(point.events, ignore_index=True)] if point.events else []
        runs = point.runs[0] if point.runs else pd.DataFrame(columns=[*_RUN_COLUMNS, "_layer"])
        runs = runs[runs["replication"] < point.n].sort_values("_layer", kind="stable")
        runs = runs.drop_duplicates("replication", keep="last")
        if not point.events:
            return runs, pd.DataFrame(columns=[*_EVENT_COLUMNS, "_layer"])
        events = point.events[0].merge(runs[["replication", "_layer"]], how="inner")
        return runs, events

    def _world(self, p: int) -> World:
        if p not in self._worlds:
            loaded, _ = self.plan.point_scenario(p)
            self._worlds[p] = build_world(loaded.model, loaded.base_dir)
        return self._worlds[p]

    def run(
        self,
        execute: Callable[[np.ndarray], list[Layer]],
        note: Callable[[str], None],
    ) -> int:
        """Run rounds until every point has stopped; return the runs executed.

        Args:
            execute: Runs the given keys and returns the layers it wrote (newest last).
            note: Where a line per round goes.
        """
        executed = 0
        while (pending := self.advance()).size:
            self.rounds += 1
            open_points = int(np.unique(pending // self.plan.replications).size)
            note(f"precision: round {self.rounds}: {pending.size:,} runs at {open_points:,} points")
            self.ingest(execute(pending))
            executed += int(pending.size)
        return executed

    def sizes(self) -> np.ndarray:
        """Each point's final number of replications."""
        return np.array([self._record(p)["n"] for p in range(self.plan.n_points)], np.int64)

    def _record(self, p: int) -> dict[str, Any]:
        record = self.points[p].record
        if record is None:
            raise RuntimeError(f"point {p} has not stopped")
        return record

    def relabel(self) -> Callable[[pa.Table], pa.Table]:
        """Sets a table's run ids to those of a fixed sweep of each point's final size."""
        sizes, plan = self.sizes(), self.plan
        digests: dict[int, str] = {}

        def apply(table: pa.Table) -> pa.Table:
            if table.num_rows == 0:
                return table
            keys = table.column("point").to_numpy().astype(np.int64) * plan.replications
            keys += table.column("replication").to_numpy().astype(np.int64)
            unique, inverse = np.unique(keys, return_inverse=True)
            ids = []
            for key in unique:
                p, r = divmod(int(key), plan.replications)
                if p not in digests:
                    digests[p] = plan.point_scenario(p, int(sizes[p]))[1]
                ids.append(run_id(digests[p], plan.root, p, r))
            column = pa.array(np.asarray(ids, dtype=object)[inverse], pa.string())
            at = table.schema.get_field_index("run_id")
            return table.set_column(at, table.schema.field(at), column)

        return apply

    def manifest(self) -> dict[str, Any]:
        """The manifest's entries: sizes, runs and the ``precision`` record with every point."""
        sizes = self.sizes()
        points = [
            {**self._record(p), "history": self.points[p].history}
            for p in range(self.plan.n_points)
        ]
        return {
            "replications": int(sizes.max(initial=0)),
            "runs": int(sizes.sum()),
            "run_id_rule": (
                "run_id(sha256 of point p's resolved scenario with run.replications = p's final "
                "n, root_seed, p, r): as a fixed sweep of that size; column 'run_id'"
            ),
            "precision": {
                "rule": (
                    "each point adds blocks of replications (run (p, r) keeps its seed whatever "
                    "the block) until every headline probability's Wilson half-width <= target, "
                    "or another block would pass the cap; checked in rounds across points"
                ),
                "target": self.rule.target,
                "block": self.rule.block,
                "cap": self.rule.cap,
                "confidence": self.rule.confidence,
                "rounds": self.rounds,
                "reached": sum(bool(p["reached"]) for p in points),
                "capped": sum(bool(p["capped"]) for p in points),
                "points": points,
            },
        }


def new_layers(shards: Path, first: int, stop: int) -> list[Layer]:
    """The layers of shard numbers ``first .. stop - 1`` written by this session."""
    layers = []
    for number in range(first, stop):
        runs = shards / f"runs-{number:06d}.parquet"
        events = shards / f"events-{number:06d}.parquet"
        if runs.is_file():
            layers.append(Layer(number, runs, events if events.is_file() else None, None, 0, 0))
    return layers
