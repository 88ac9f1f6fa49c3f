"""``treatysim backtest``: score a run made with information cut at a date.

``treatysim backtest SCENARIO --cutoff DATE --until DATE`` runs and scores the scenario against
what happened (:mod:`treatysim.report.backtest`).

Exit codes: 0 scored, 1 a runtime failure, 2 bad input (events after the cutoff, a bad window,
a bad calibration folder, or with ``--strict`` inputs not known at the cutoff).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from treatysim.report.backtest import backtest, write_backtest
from treatysim.results.store import output_problem
from treatysim.run.runner import apply_overrides, default_folder
from treatysim.scenario.bundled import bundled_or_path
from treatysim.scenario.load import load_scenario

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def run_backtest(args: argparse.Namespace, argv: list[str]) -> int:
    """Handle ``treatysim backtest``."""
    problem = output_problem(args.out, "--out")
    if problem is None and args.out is not None and args.out.is_dir() and any(args.out.iterdir()):
        problem = f"{args.out}:0:0: --out: the output folder exists and is not empty"
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    loaded = apply_overrides(load_scenario(bundled_or_path(args.scenario)), args.sets)
    result = backtest(
        loaded,
        args.cutoff,
        args.until,
        replications=args.replications,
        seed=args.seed,
        posterior=args.posterior,
        strict=args.strict,
        engine=args.engine,
        workers=args.workers,
        n_boot=args.n_boot,
    )
    folder: Path = args.out or default_folder(f"{loaded.model.name}_backtest")
    summary = write_backtest(result, folder, command=["treatysim", *argv])
    if not args.quiet:
        doc = result.scores.summary
        print(
            f"backtest of {loaded.model.name}: {doc['n_states']} states, "
            f"{doc['n_observed_moved']} moved between {args.cutoff} and {args.until}"
        )
        brier = doc["scores"]["brier"]
        for name, d in brier.get("differences", {}).items():
            word = "beat" if d["upper"] < 0 else "did not beat"
            print(
                f"  Brier model − {name}: {d['mean']:+.4f} [{d['lower']:+.4f}, {d['upper']:+.4f}]"
                f" -> model {word} {name}"
            )
        print(f"report: {summary}")
    return EXIT_OK
