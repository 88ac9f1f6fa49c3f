"""The ``treatysim`` command line (also ``python -m treatysim``).

Exit codes: 0 success, 1 runtime failure, 2 bad input. Heavy modules are imported inside the
commands, so ``treatysim --help`` starts quickly.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from treatysim.cli.parser import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, MAX_PROBLEMS, build_parser


def _print_problems(problems: Sequence[object], limit: int = MAX_PROBLEMS) -> None:
    """Print problems one per line, at most ``limit``, then how many more there are."""
    for problem in problems[:limit]:
        print(problem, file=sys.stderr)
    if len(problems) > limit:
        print(f"... and {len(problems) - limit:,} more problems", file=sys.stderr)


def _check_out(out: Path | None, what: str = "--out") -> str | None:
    from treatysim.results.store import output_problem

    return output_problem(out, what)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a usage error (2) or --help (0): returned like the rest
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    if args.version:
        from treatysim import __version__

        print(f"treatysim {__version__}")
        return EXIT_OK
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    from treatysim.scenario.errors import ValidationError

    handler = {
        "validate": _validate,
        "schema": _schema,
        "run": _run,
        "sweep": _sweep,
        "report": _report,
        "compare": _compare,
        "export": _export,
        "demo": _demo,
        "backtest": _backtest,
        "discover": _discover,
        "calibrate": _calibrate,
    }[args.command]
    try:
        return handler(args, list(argv) if argv is not None else sys.argv[1:])
    except ValidationError as exc:
        _print_problems(exc.problems)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:  # a full disk, a vanished folder: a runtime failure, not a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILURE


def _backtest(args: argparse.Namespace, argv: list[str]) -> int:
    from treatysim.cli.backtest import run_backtest

    return run_backtest(args, argv)


def _say(args: argparse.Namespace, text: str) -> None:
    """Print to stdout unless --quiet."""
    if not getattr(args, "quiet", False):
        print(text)


def _calibrate(args: argparse.Namespace, argv: list[str]) -> int:
    from treatysim.cli.calibrate import calibrate

    return calibrate(args, argv)


def _validate(args: argparse.Namespace, argv: list[str]) -> int:
    from treatysim.scenario.bundled import bundled_or_path
    from treatysim.scenario.calibration_load import is_calibration_file, load_calibration
    from treatysim.scenario.errors import ValidationError
    from treatysim.scenario.load import validate_file

    status = EXIT_OK
    for name in args.files:
        file = bundled_or_path(name)  # a bundled name (calibration/ottawa_full) as run takes it
        try:
            if is_calibration_file(file):
                load_calibration(file)
                kind = "calibration"
            else:
                kind = validate_file(file)
            _say(args, f"{name}: ok ({kind})")
        except ValidationError as exc:
            _print_problems(exc.problems)
            status = EXIT_BAD_INPUT
    return status


def _schema(args: argparse.Namespace, argv: list[str]) -> int:
    import json
    import os

    from treatysim.scenario.doc import json_schema

    text = json.dumps(json_schema(args.kind), indent=2) + "\n"
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `treatysim schema | head`: the reader has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the flush at exit does not fail again
    return EXIT_OK


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    from treatysim.results.store import StoreError
    from treatysim.run.runner import apply_overrides, run_scenario
    from treatysim.scenario.bundled import bundled_or_path
    from treatysim.scenario.load import load_scenario

    problem = _check_out(args.out)
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    loaded = apply_overrides(load_scenario(bundled_or_path(args.scenario)), args.sets)
    replications = args.replications or loaded.model.run.replications
    args.workers = _cap_workers(args, args.workers, replications, "replications")
    ensemble = None
    if args.posterior is not None:
        if args.precision is not None:
            print("--posterior: not with --precision (give -n)", file=sys.stderr)
            return EXIT_BAD_INPUT
        from treatysim.calibration.ensemble import posterior_maker

        ensemble = posterior_maker(args.posterior)
    if args.precision is not None:
        from treatysim.cli.precision import run_precise

        summary = run_precise(args, loaded, argv)
    else:
        summary = run_scenario(
            loaded,
            replications=args.replications,
            seed=args.seed,
            out=args.out,
            workers=args.workers,
            timeseries=args.timeseries,
            quiet=args.quiet,
            command=["treatysim", *argv],
            engine=args.engine,
            ensemble=ensemble,
        )
    if args.no_report:
        _say(args, f"tables: {summary.folder}")
    else:
        from treatysim.report.run_report import build_report, summary_table

        try:
            build_report(summary.folder, svg=args.svg, on_phase=None if args.quiet else _phase)
        except StoreError as exc:
            print(f"the run's tables were written but its report failed: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        _say(args, summary_table(summary.folder))
        _say(args, f"report: {summary.folder / 'summary.md'}")
    if summary.failed:
        print(f"{summary.failed} of {summary.replications} replications failed", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _sweep(args: argparse.Namespace, argv: list[str]) -> int:
    """``treatysim sweep``: run, resume, retry or size up a sweep.

    Exit codes: 0 every run ok, 1 some runs failed or the sweep stopped, 2 bad input.
    """
    from treatysim.report.run_report import build_report
    from treatysim.results.shards import STATUS_OK, SweepError, scan_folder
    from treatysim.results.store import PLAN, SUMMARY_MD, StoreError
    from treatysim.run.dry_run import dry_run_text
    from treatysim.run.executors import ExecutorError, default_workers
    from treatysim.run.plan import prepare
    from treatysim.run.sweep import SweepOptions, run_sweep
    from treatysim.scenario.load import load_sweep

    problem = _check_out(args.out)
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.scheduler and args.executor != "dask":
        print("--scheduler: only with --executor dask", file=sys.stderr)
        return EXIT_BAD_INPUT
    if (args.resume or args.retry_failed) and args.out is None:
        print("--resume/--retry-failed: give --out DIR, the folder of the sweep", file=sys.stderr)
        return EXIT_BAD_INPUT
    from treatysim.scenario.bundled import bundled_or_path

    loaded = load_sweep(bundled_or_path(args.sweep))
    missing = _require_salib(loaded.model.design.type)
    if missing:
        print(f"error: {missing}", file=sys.stderr)
        return EXIT_BAD_INPUT
    ensemble = None
    if args.posterior is not None:
        if args.precision is not None:  # the ensemble has one draw per fixed replication
            print("--posterior: not with --precision (give replications)", file=sys.stderr)
            return EXIT_BAD_INPUT
        from treatysim.calibration.ensemble import posterior_maker

        ensemble = posterior_maker(args.posterior)
    plan = prepare(loaded, ensemble=ensemble)
    from treatysim.cli.precision import sweep_precision

    judge = sweep_precision(args, plan)
    workers = args.workers if args.workers is not None else default_workers(plan.n_runs)
    if args.executor == "local":
        workers = _cap_workers(args, workers, plan.n_runs, "runs")
    if args.dry_run:
        stored = 0
        if args.out is not None and (args.out / PLAN).is_file():
            state = scan_folder(args.out, plan.n_points, plan.replications, clean=False)
            stored = int((state.status == STATUS_OK).sum())
        from treatysim.run.runner import choose_engine

        engine = choose_engine(args.engine)
        print(dry_run_text(plan, workers, stored=stored, engine=engine))
        return EXIT_OK
    options = SweepOptions(
        out=args.out,
        workers=workers,
        executor_kind=args.executor,
        scheduler=args.scheduler,
        resume=args.resume,
        retry_failed=args.retry_failed,
        quiet=args.quiet,
        command=["treatysim", *argv],
        engine=args.engine,
        judge=judge,
    )
    try:
        summary = run_sweep(plan, options)
    except ExecutorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (SweepError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if summary.executed or not (summary.folder / SUMMARY_MD).is_file():
        try:
            build_report(summary.folder)
        except (StoreError, SweepError) as exc:
            print(f"the sweep's tables were written but its report failed: {exc}", file=sys.stderr)
            return EXIT_FAILURE
    from treatysim.report.sweep_report import sweep_summary_text

    text = sweep_summary_text(summary)
    if summary.failed and args.quiet:  # failed runs are errors: --quiet still lists them
        print(text, file=sys.stderr)
    else:
        _say(args, text)
        if args.quiet and "precision NOT reached" in text:  # a cap is said even with --quiet
            print(next(t for t in text.splitlines() if "NOT reached" in t), file=sys.stderr)
    return EXIT_FAILURE if summary.failed else EXIT_OK


def _cap_workers(args: argparse.Namespace, workers: int, tasks: int, what: str) -> int:
    """At most one worker per task and per CPU; say so when the request is cut down."""
    cpus = os.cpu_count() or 1
    capped = max(1, min(workers, tasks, cpus))
    if capped < workers and not getattr(args, "quiet", False):
        reason = f"{tasks:,} {what}" if tasks <= cpus else f"{cpus} CPUs"
        print(f"--workers {workers}: using {capped} ({reason})", file=sys.stderr)
    return capped


def _require_salib(plan_design: str) -> str | None:
    """The one-line error for a saltelli or morris design without SALib, else None."""
    if plan_design not in ("saltelli", "morris"):
        return None
    try:
        import SALib.analyze
        import SALib.sample  # noqa: F401
    except ImportError:
        from treatysim.scenario.designs import missing_salib

        return missing_salib(plan_design)
    return None


def _phase(text: str) -> None:
    """A report phase's line, on stderr (stdout keeps the results)."""
    print(text, file=sys.stderr, flush=True)


def _report(args: argparse.Namespace, argv: list[str]) -> int:
    from treatysim.report.run_report import build_report
    from treatysim.results.store import StoreError

    try:
        build_report(args.folder, svg=args.svg, on_phase=None if args.quiet else _phase)
    except StoreError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    _say(args, f"report: {args.folder / 'summary.md'}")
    return EXIT_OK


def _compare(args: argparse.Namespace, argv: list[str]) -> int:
    from treatysim.report.compare import compare
    from treatysim.results.store import StoreError

    problem = _check_out(args.out)
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        folder = compare(args.a, args.b, args.out)
    except StoreError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    _say(args, f"comparison: {folder / 'comparison.md'}")
    return EXIT_OK


def _export(args: argparse.Namespace, argv: list[str]) -> int:
    from treatysim.results.export import ExportError, export_folder

    problem = _check_out(args.out)
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        exported = export_folder(args.folder, args.out)
    except ExportError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    for item in exported:
        _say(args, f"{item.target} ({item.rows:,} rows)")
    return EXIT_OK


def _discover(args: argparse.Namespace, argv: list[str]) -> int:
    from treatysim.cli.discover import discover_command

    return discover_command(args, argv)


def _demo(args: argparse.Namespace, argv: list[str]) -> int:
    from treatysim.demo.server import serve

    return serve(port=args.port, scenario=args.scenario, open_browser=not args.no_browser)


if __name__ == "__main__":
    sys.exit(main())
