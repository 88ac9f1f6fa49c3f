"""``treatysim run --precision H``: replications in seeded blocks until the intervals are narrow.

Replication ``r`` always has the seed ``replication_seed(root, r)`` (:mod:`treatysim.run.seeds`),
so a block of replications ``n … n+B−1`` extends the same sequence a fixed run of any larger
size would use. After each block the rule of :mod:`treatysim.analysis.precision` is checked on
the headline probabilities (:func:`~treatysim.analysis.precision.headline_outcomes`); the run
stops when every Wilson half-width is at most ``H`` or when another block would pass the cap.
The tables are then labelled as a fixed run of the final size (the resolved scenario records
that size, and the run ids derive from it), so they equal ``treatysim run -n FINAL`` exactly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from treatysim.model.world import World, build_world
from treatysim.results.tables import Output, Task, build_tables
from treatysim.run.runner import (
    Simulation,
    _execute,
    _settings,
    choose_engine,
    replication_tasks,
    resolved_document,
)
from treatysim.run.seeds import replication_seed, scenario_digest
from treatysim.scenario.errors import Problem, ValidationError
from treatysim.scenario.load import Loaded

if TYPE_CHECKING:
    import pandas as pd

#: The rule's check after a block: (runs, events, world) → (reached, widest name, its half-width).
#: :func:`treatysim.analysis.precision.headline_judge` makes one (the analysis layer sits above
#: this one, so the CLI passes it in, as calibration's simulator is passed in).
Judge = Callable[["pd.DataFrame", "pd.DataFrame", World], tuple[bool, str | None, float]]

#: Replications per block by default.
BLOCK = 50
#: Most replications by default.
CAP = 10_000


@dataclass(frozen=True)
class PrecisionRule:
    """The stopping rule of ``--precision``.

    Attributes:
        target: The largest acceptable Wilson half-width ``H``, in (0, 0.5].
        block: Replications per block (the rule is checked after each).
        cap: The most replications (a multiple of nothing in particular; the last block is
            never cut short, so the final size is at most the cap).
        confidence: Two-sided confidence level of the intervals.
    """

    target: float
    block: int = BLOCK
    cap: int = CAP
    confidence: float = 0.95

    def problems(self) -> list[Problem]:
        """Bad settings, as ``--option:1:1`` problems."""
        out = []
        if not 0.0 < self.target <= 0.5:
            out.append(Problem("--precision", 1, 1, "precision", "must be in (0, 0.5]"))
        if self.block < 1:
            out.append(Problem("--block", 1, 1, "block", "must be at least 1"))
        if self.cap < self.block:
            out.append(
                Problem("--max-replications", 1, 1, "max_replications", "must be >= --block")
            )
        return out


def _relabel(outputs: list[Output], tasks: list[Task]) -> list[Output]:
    return [dataclasses.replace(o, task=t) for o, t in zip(outputs, tasks, strict=True)]


def simulate_precise(
    loaded: Loaded[Any],
    rule: PrecisionRule,
    judge: Judge,
    *,
    seed: int | None = None,
    timeseries: str | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    quiet: bool = True,
    engine: str = "auto",
) -> tuple[Simulation, dict[str, Any]]:
    """Run blocks of replications until the rule is met or the cap is reached.

    Args:
        loaded: A validated scenario (after any ``--set`` overrides).
        rule: Target, block, cap.
        judge: The check after each block (see :data:`Judge`).
        seed: Overrides ``run.seed``.
        timeseries: Overrides ``run.timeseries``.
        workers: Processes (1: in-process).
        executor: Any ``concurrent.futures.Executor`` instead of a process pool.
        quiet: No progress display.
        engine: ``mesa``, ``batched`` or ``auto``.

    Returns:
        The simulation (as a fixed run of the final size) and the manifest's ``precision``
        record: rule, target, block, cap, confidence, final n, ``reached``, ``capped``, the
        widest interval's name and half-width, and the half-width after each block.

    Raises:
        ValidationError: Bad rule settings or an unknown engine.
    """
    if problems := rule.problems():
        raise ValidationError(problems)
    _, root, mode = _settings(loaded, rule.block, seed, timeseries)
    world = build_world(loaded.model, loaded.base_dir)
    ran = choose_engine(engine)
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    outputs: list[Output] = []
    history: list[dict[str, Any]] = []
    n = 0
    while True:
        block = [Task(r, replication_seed(root, r), f"block-{r}") for r in range(n, n + rule.block)]
        new = _execute(world, block, mode, workers, executor, quiet, ran)
        outputs += sorted(new, key=lambda o: o.task.replication)
        n += rule.block
        runs, events, _ = build_tables(world, outputs, "none").frames()
        reached, widest, max_half_width = judge(runs, events, world)
        history.append({"n": n, "max_half_width": max_half_width, "widest": widest})
        capped = not reached and n + rule.block > rule.cap
        if reached or capped:
            break
    resolved = resolved_document(loaded, n, root)
    digest = scenario_digest(resolved)
    tasks = replication_tasks(digest, root, n)
    outputs = _relabel(outputs, tasks)
    sim = Simulation(
        loaded=loaded,
        world=world,
        resolved=resolved,
        digest=digest,
        root=root,
        tasks=tasks,
        timeseries=mode,
        tables=build_tables(world, outputs, mode),
        seconds=time.perf_counter() - clock,
        started=started,
        executor=workers if executor is None else type(executor).__name__,
        engine=ran,
    )
    record = {
        "rule": (
            "add blocks of replications (seeds continue the fixed run's sequence) until every "
            "headline probability's Wilson half-width <= target, or another block would pass the "
            "cap; headline probabilities: each party's P(moves) and P(cascade >= k) for the "
            "primary treaty"
        ),
        "target": rule.target,
        "block": rule.block,
        "cap": rule.cap,
        "confidence": rule.confidence,
        "final_n": n,
        "reached": reached,
        "capped": capped,
        "widest": widest,
        "max_half_width": max_half_width,
        "history": history,
    }
    return sim, record
