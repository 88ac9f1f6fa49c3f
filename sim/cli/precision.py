"""``treatysim run SCENARIO --precision H``: the run's replications grow in blocks until enough."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from treatysim.scenario.errors import Problem, ValidationError


def run_precise(args: argparse.Namespace, loaded: Any, argv: list[str]) -> Any:
    """Run blocks until the rule holds or the cap is reached; write the run folder.

    The outcome of the rule is printed on stderr in one line; a cap that stopped the run is
    printed even with ``--quiet``.

    Returns:
        The :class:`~treatysim.run.runner.RunSummary` of the written folder.

    Raises:
        ValidationError: ``--replications`` given too, or bad rule settings.
    """
    from treatysim.analysis.precision import headline_judge, precision_text
    from treatysim.run.precise import PrecisionRule, simulate_precise
    from treatysim.run.runner import default_folder, write_run_folder

    if args.replications is not None:
        message = "give either --replications or --precision (which chooses the number)"
        raise ValidationError([Problem("--precision", 1, 1, "precision", message)])
    rule = PrecisionRule(target=args.precision, block=args.block, cap=args.max_replications)
    sim, record = simulate_precise(
        loaded,
        rule,
        headline_judge(rule.target, rule.confidence),
        seed=args.seed,
        timeseries=args.timeseries,
        workers=args.workers,
        quiet=args.quiet,
        engine=args.engine,
    )
    sim.precision = record
    folder = args.out if args.out is not None else default_folder(loaded.model.name)
    summary = write_run_folder(sim, folder, command=["treatysim", *argv])
    if record["capped"] or not args.quiet:  # the cap is a warning: said even with --quiet
        print(precision_text(record), file=sys.stderr)
    return summary


def sweep_precision(args: argparse.Namespace, plan: Any) -> Any:
    """Set ``plan.precision`` from ``--precision``/``--block``/``--max-replications``.

    Returns:
        The check after each point's block (None without ``--precision``).

    Raises:
        ValidationError: Bad rule settings (one problem each).
    """
    from treatysim.analysis.precision import headline_judge
    from treatysim.run.precise import PrecisionRule

    if args.precision is None:
        return None
    rule = PrecisionRule(target=args.precision, block=args.block, cap=args.max_replications)
    if problems := rule.problems():
        raise ValidationError(problems)
    plan.precision = rule
    return headline_judge(rule.target, rule.confidence)
