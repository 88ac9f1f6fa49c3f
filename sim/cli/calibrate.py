"""``treatysim calibrate FILE``: ABC-SMC of a calibration file into a calibration folder.

Exit codes: 0 done, 1 a runtime failure (the folder holds another calibration, …), 2 bad input
(an invalid calibration file, pyabc missing for ``--method pyabc``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from treatysim.cli.parser import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK

#: ``--method`` names and the calibration file's ``method.engine`` values.
METHODS = {"pyabc": "pyabc", "smc": "builtin"}

if TYPE_CHECKING:
    from treatysim.calibration.generation import Generation


def calibrate(args: argparse.Namespace, argv: list[str]) -> int:
    """Run or resume a calibration; print one progress line per generation unless --quiet."""
    from treatysim.calibration.calibrate import CalibrationFolderError
    from treatysim.calibration.session import PyabcMissingError, calibrate_file
    from treatysim.plots.calibration import write_calibration_plots
    from treatysim.results.store import output_problem
    from treatysim.scenario.bundled import bundled_or_path
    from treatysim.scenario.calibration_load import load_calibration

    problem = output_problem(args.out)
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.resume and args.out is None:
        print("--resume: give --out DIR, the folder of the calibration", file=sys.stderr)
        return EXIT_BAD_INPUT
    path = bundled_or_path(args.file)
    loaded = load_calibration(path)  # a ValidationError is reported by the caller (exit 2)
    out = args.out
    if out is None:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path("results") / "calibration" / loaded.model.name / stamp
    overrides = {}
    if args.population_size is not None:
        overrides["population_size"] = args.population_size
    if args.max_simulations is not None:
        overrides["max_simulations"] = args.max_simulations
    if args.max_generations is not None:
        overrides["max_generations"] = args.max_generations
    start = time.perf_counter()
    # the built-in engine's particles are equally weighted, so its ESS is the population size
    # in every generation: the distinct particles say how far the population has collapsed
    builtin = (METHODS[args.method] if args.method else loaded.model.method.engine) == "builtin"

    def progress(gen: Generation) -> None:
        if args.quiet:
            return
        d = gen.diagnostics()
        spread = f"{d['distinct']} distinct particles" if builtin else f"ESS {d['ess']:.0f}"
        what = "acceptance" if gen.accepted_moves is None else "move acceptance"
        print(
            f"generation {d['generation']}: epsilon {d['epsilon']:.4g}, {what} "
            f"{d['acceptance_rate']:.3f}, {spread}, {d['n_simulations']:,} simulations, "
            f"{time.perf_counter() - start:.0f} s",
            flush=True,
        )

    try:
        result = calibrate_file(
            path,
            out,
            resume=args.resume,
            workers=args.workers,
            engine=METHODS[args.method] if args.method else None,
            overrides=overrides,
            ppc_draws=args.ppc_draws,
            progress=progress,
        )
    except PyabcMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except CalibrationFolderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    plots = [] if args.no_plots else write_calibration_plots(result.folder)
    if not args.quiet:
        total = int(result.diagnostics["n_simulations"].sum())
        print(
            f"{result.folder}: {len(result.generations)} generations, {total:,} simulations, "
            f"{time.perf_counter() - start:.0f} s; {len(plots)} plots"
        )
    return EXIT_OK
