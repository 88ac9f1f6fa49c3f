"""The ``treatysim`` command line (also ``python -m treatysim``).

Exit codes: 0 success, 1 runtime failure, 2 bad input. Heavy modules are imported inside the
commands, so ``treatysim --help`` starts quickly.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


#: Most problems printed for one command; the rest are counted in a last line.
MAX_PROBLEMS = 200
#: Bounds of the scenario schema's run.seed and run.replications.
MAX_SEED, MAX_REPLICATIONS = 2**63 - 1, 10_000_000


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on usage errors, which is our bad-input code too.

    A usage error is one line (``treatysim run: error: argument --seed: ...``), as every
    other problem is.
    """

    def error(self, message: str) -> NoReturn:
        """Print one line and exit 2."""
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def _bounded(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low} to {high:,}")
        return value

    parse.__name__ = "whole number"
    return parse


def _add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--quiet", "-q", action="store_true", help="print nothing but errors (default: off)"
    )


def _flag(p: argparse.ArgumentParser, name: str, text: str) -> None:
    p.add_argument(name, action="store_true", help=f"{text} (default: off)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = _Parser(
        prog="treatysim",
        description="Simulate treaty-withdrawal cascades between states (Mesa agent-based model).",
        epilog="Exit codes: 0 success, 1 runtime failure, 2 bad input.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    workers = _bounded(1, 4096)

    p = sub.add_parser("validate", help="check scenario and sweep files; report every problem")
    p.add_argument("files", nargs="+", metavar="FILE", help="scenario or sweep files")
    _add_quiet(p)

    p = sub.add_parser("schema", help="print the JSON Schema of scenario and sweep files")
    p.add_argument(
        "--kind",
        choices=["all", "scenario", "sweep"],
        default="all",
        help="which schema (default: %(default)s)",
    )

    p = sub.add_parser("run", help="run a scenario's seeded replications")
    p.add_argument(
        "scenario",
        metavar="SCENARIO",
        help="a scenario file, or a bundled scenario's name (e.g. teaching/granovetter_riot)",
    )
    p.add_argument(
        "--replications",
        "-n",
        type=_bounded(1, MAX_REPLICATIONS),
        metavar="N",
        help=f"replications, 1 to {MAX_REPLICATIONS:,} (default: the scenario's run.replications)",
    )
    p.add_argument(
        "--seed",
        type=_bounded(0, MAX_SEED),
        metavar="S",
        help="root seed, 0 to 2**63-1 (default: the scenario's run.seed)",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder, new or empty (default: results/NAME/TIMESTAMP)",
    )
    p.add_argument(
        "--workers",
        "-w",
        type=workers,
        default=1,
        metavar="W",
        help="processes, at most one per replication and CPU (default: %(default)s)",
    )
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a scenario key, e.g. parameters.threat.sensitivity=2.5 (repeatable; "
        "default: none)",
    )
    p.add_argument(
        "--timeseries",
        choices=["full", "counts", "none"],
        help="recording mode (default: the scenario's run.timeseries)",
    )
    _add_quiet(p)
    _flag(p, "--svg", "also write SVG plots")
    p.add_argument(
        "--no-report",
        action="store_true",
        help="write the tables and manifest only; `treatysim report DIR` draws the rest later "
        "(default: off)",
    )
    p.add_argument(
        "--engine",
        choices=["auto", "mesa", "batched"],
        default="auto",
        help="mesa: the Mesa model, one replication at a time; batched: replications on one "
        "array axis; auto: batched wherever it supports the scenario (default: %(default)s)",
    )

    p = sub.add_parser("sweep", help="run a parameter sweep")
    p.add_argument("sweep", metavar="SWEEP", help="a sweep file, or a bundled sweep's name")
    p.add_argument(
        "--workers",
        "-w",
        type=workers,
        metavar="W",
        help="processes, at most one per run and CPU (default: all cores)",
    )
    p.add_argument(
        "--executor",
        choices=["local", "dask"],
        default="local",
        help="where runs execute (default: %(default)s)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler, e.g. tcp://host:8786 (default: a local cluster)",
    )
    p.add_argument(
        "--out", type=Path, metavar="DIR", help="sweep folder (default: results/NAME/TIMESTAMP)"
    )
    _flag(p, "--resume", "finish an interrupted sweep in --out")
    _flag(p, "--retry-failed", "rerun only the failed runs")
    _flag(p, "--dry-run", "print the size and estimates only")
    p.add_argument(
        "--engine",
        choices=["auto", "mesa", "batched"],
        default="auto",
        help="mesa: one replication at a time; batched: a chunk's runs (across points) on one "
        "array axis; auto: batched (default: %(default)s). The tables are the same.",
    )
    _add_quiet(p)

    p = sub.add_parser("report", help="rebuild summary and plots from a stored run or sweep")
    p.add_argument("folder", type=Path, metavar="DIR", help="a run or sweep folder")
    _flag(p, "--svg", "also write SVG plots")
    _add_quiet(p)

    p = sub.add_parser("compare", help="compare two run folders")
    p.add_argument("a", type=Path, metavar="DIR_A", help="the reference run folder (A)")
    p.add_argument("b", type=Path, metavar="DIR_B", help="the run folder compared with A (B)")
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="comparison folder (default: beside DIR_A, compare-A-vs-B)",
    )
    _add_quiet(p)

    p = sub.add_parser("export", help="write every table of a run or sweep folder as CSV")
    p.add_argument("folder", type=Path, metavar="DIR", help="a run or sweep folder")
    p.add_argument(
        "--format", choices=["csv"], default="csv", help="file format (default: %(default)s)"
    )
    p.add_argument("--out", type=Path, metavar="DEST", help="destination folder (default: DIR/csv)")
    _add_quiet(p)

    p = sub.add_parser("demo", help="serve the interactive teaching demo in a browser")
    p.add_argument(
        "--port",
        type=_bounded(1, 65535),
        default=8765,
        metavar="P",
        help="TCP port on 127.0.0.1 (default: %(default)s)",
    )
    p.add_argument(
        "--scenario",
        type=Path,
        metavar="FILE",
        help="scenario to add to the list and open first (default: teaching/baltic_simple)",
    )
    _flag(p, "--no-browser", "do not open a browser window")
    return parser


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


def _say(args: argparse.Namespace, text: str) -> None:
    """Print to stdout unless --quiet."""
    if not getattr(args, "quiet", False):
        print(text)


def _validate(args: argparse.Namespace, argv: list[str]) -> int:
    from treatysim.scenario.errors import ValidationError
    from treatysim.scenario.load import validate_file

    status = EXIT_OK
    for file in args.files:
        try:
            kind = validate_file(file)
            _say(args, f"{file}: ok ({kind})")
        except ValidationError as exc:
            _print_problems(exc.problems)
            status = EXIT_BAD_INPUT
    return status


def _schema(args: argparse.Namespace, argv: list[str]) -> int:
    import json

    from treatysim.scenario.doc import json_schema

    print(json.dumps(json_schema(args.kind), indent=2))
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
    )
    if args.no_report:
        _say(args, f"tables: {summary.folder}")
    else:
        from treatysim.report.run_report import build_report, summary_table

        try:
            build_report(summary.folder, svg=args.svg)
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
    plan = prepare(loaded)
    workers = args.workers if args.workers is not None else default_workers()
    if args.executor == "local":
        workers = _cap_workers(args, workers, plan.n_runs, "runs")
    if args.dry_run:
        stored = 0
        if args.out is not None and (args.out / PLAN).is_file():
            state = scan_folder(args.out, plan.n_points, plan.replications, clean=False)
            stored = int((state.status == STATUS_OK).sum())
        print(dry_run_text(plan, workers, stored=stored))
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


def _report(args: argparse.Namespace, argv: list[str]) -> int:
    from treatysim.report.run_report import build_report
    from treatysim.results.store import StoreError

    try:
        build_report(args.folder, svg=args.svg)
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


def _demo(args: argparse.Namespace, argv: list[str]) -> int:
    from treatysim.demo.server import serve

    return serve(port=args.port, scenario=args.scenario, open_browser=not args.no_browser)


if __name__ == "__main__":
    sys.exit(main())
