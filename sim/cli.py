"""The ``treatysim`` command line (also ``python -m treatysim``).

Exit codes: 0 success, 1 runtime failure, 2 bad input. Heavy modules are imported inside the
commands, so ``treatysim --help`` starts quickly.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from treatysim.run.sweep import SweepSummary

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on usage errors, which is our bad-input code too."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = _Parser(
        prog="treatysim",
        description="Simulate treaty-withdrawal cascades between states (Mesa agent-based model).",
        epilog="Exit codes: 0 success, 1 runtime failure, 2 bad input.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("validate", help="check scenario and sweep files; report every problem")
    p.add_argument("files", nargs="+", metavar="FILE")

    p = sub.add_parser("schema", help="print the JSON Schema of scenario and sweep files")
    p.add_argument("--kind", choices=["all", "scenario", "sweep"], default="all")

    p = sub.add_parser("run", help="run a scenario's seeded replications")
    p.add_argument(
        "scenario",
        metavar="SCENARIO",
        help="a scenario file, or a bundled scenario's name (e.g. teaching/granovetter_riot)",
    )
    p.add_argument("--replications", "-n", type=int, metavar="N")
    p.add_argument("--seed", type=int, metavar="S", help="root seed (default: run.seed)")
    p.add_argument("--out", type=Path, metavar="DIR", help="output folder (new or empty)")
    p.add_argument(
        "--workers", "-w", type=int, default=1, metavar="W", help="processes (default 1)"
    )
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a scenario key, e.g. parameters.threat.sensitivity=2.5 (repeatable)",
    )
    p.add_argument("--timeseries", choices=["full", "counts", "none"], help="recording mode")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary table")
    p.add_argument("--svg", action="store_true", help="also write SVG plots")
    p.add_argument(
        "--no-report",
        action="store_true",
        help="write the tables and manifest only; `treatysim report DIR` draws the rest later",
    )
    p.add_argument(
        "--engine",
        choices=["auto", "mesa", "batched"],
        default="auto",
        help="mesa: the Mesa model, one replication at a time; batched: replications on one "
        "array axis; auto: batched wherever it supports the scenario (default: %(default)s)",
    )

    p = sub.add_parser("sweep", help="run a parameter sweep")
    p.add_argument("sweep", metavar="SWEEP")
    p.add_argument("--workers", "-w", type=int, metavar="W", help="processes (default: all cores)")
    p.add_argument("--executor", choices=["local", "dask"], default="local")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--out", type=Path, metavar="DIR")
    p.add_argument("--resume", action="store_true", help="finish an interrupted sweep in --out")
    p.add_argument("--retry-failed", action="store_true", help="rerun only the failed runs")
    p.add_argument("--dry-run", action="store_true", help="print the size and estimates only")
    p.add_argument("--quiet", "-q", action="store_true")

    p = sub.add_parser("report", help="rebuild summary and plots from a stored run or sweep")
    p.add_argument("folder", type=Path, metavar="DIR")
    p.add_argument("--svg", action="store_true", help="also write SVG plots")

    p = sub.add_parser("compare", help="compare two run folders")
    p.add_argument("a", type=Path, metavar="DIR_A")
    p.add_argument("b", type=Path, metavar="DIR_B")
    p.add_argument("--out", type=Path, metavar="DIR", help="comparison folder")

    p = sub.add_parser("export", help="write every table of a run or sweep folder as CSV")
    p.add_argument("folder", type=Path, metavar="DIR")
    p.add_argument(
        "--format", choices=["csv"], default="csv", help="file format (default: %(default)s)"
    )
    p.add_argument("--out", type=Path, metavar="DEST", help="destination folder (default: DIR/csv)")

    p = sub.add_parser("demo", help="serve the interactive teaching demo in a browser")
    p.add_argument("--port", type=int, default=8765, metavar="P")
    p.add_argument("--scenario", type=Path, metavar="FILE", help="scenario to open first")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
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
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_FAILURE


def _validate(args: argparse.Namespace, argv: list[str]) -> int:
    from treatysim.scenario.errors import ValidationError
    from treatysim.scenario.load import validate_file

    status = EXIT_OK
    for file in args.files:
        try:
            kind = validate_file(file)
            print(f"{file}: ok ({kind})")
        except ValidationError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
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

    loaded = apply_overrides(load_scenario(bundled_or_path(args.scenario)), args.sets)
    if args.replications is not None and args.replications < 1:
        print("--replications: must be >= 1", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.workers < 1:
        print("--workers: must be >= 1", file=sys.stderr)
        return EXIT_BAD_INPUT
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
        print(f"tables: {summary.folder}")
    else:
        from treatysim.report.run_report import build_report, summary_table

        try:
            build_report(summary.folder, svg=args.svg, on_phase=None if args.quiet else _phase)
        except StoreError as exc:
            print(f"the run's tables were written but its report failed: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        if not args.quiet:
            print(summary_table(summary.folder))
        print(f"report: {summary.folder / 'summary.md'}")
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

    workers = args.workers if args.workers is not None else default_workers()
    if workers < 1:
        print("--workers: must be >= 1", file=sys.stderr)
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
    if args.workers is None:  # in-process for a small sweep, else the free cores
        workers = default_workers(plan.n_runs)
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
    )
    try:
        summary = run_sweep(plan, options)
    except ExecutorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SweepError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if summary.executed or not (summary.folder / SUMMARY_MD).is_file():
        try:
            build_report(summary.folder)
        except StoreError as exc:
            print(f"the sweep's tables were written but its report failed: {exc}", file=sys.stderr)
            return EXIT_FAILURE
    print(_sweep_summary_text(summary))
    return EXIT_FAILURE if summary.failed else EXIT_OK


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


def _sweep_summary_text(summary: SweepSummary, listed: int = 20) -> str:
    before = summary.runs - summary.executed
    lines = [
        f"sweep: {summary.points:,} points × {summary.replications:,} replications = "
        f"{summary.runs:,} runs ({summary.executed:,} run now"
        + (f", {before:,} stored before" if before else "")
        + ")",
        f"executor: {summary.executor}; {summary.seconds:,.1f} s, "
        f"{summary.runs_per_second:,.1f} runs/s",
        f"ok: {summary.ok:,}; failed: {summary.failed:,}",
    ]
    for failure in summary.failures[:listed]:
        lines.append(
            f"  failed: point {failure['point']}, replication {failure['replication']}: "
            f"{failure['error']}"
        )
    if summary.failed > listed:
        lines.append(f"  ... and {summary.failed - listed:,} more (runs.parquet, status 'failed')")
    if summary.failed:
        lines.append(
            f"rerun them with: treatysim sweep SWEEP --out {summary.folder} --retry-failed"
        )
    lines.append(f"results: {summary.folder}")
    if (summary.folder / "summary.md").is_file():
        lines.append(f"report: {summary.folder / 'summary.md'}")
    return "\n".join(lines)


def _phase(text: str) -> None:
    """A report phase's line, on stderr (stdout keeps the results)."""
    print(text, file=sys.stderr, flush=True)


def _report(args: argparse.Namespace, argv: list[str]) -> int:
    from treatysim.report.run_report import build_report
    from treatysim.results.store import StoreError

    try:
        build_report(args.folder, svg=args.svg, on_phase=_phase)
    except StoreError as exc:
        print(f"{args.folder}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"report: {args.folder / 'summary.md'}")
    return EXIT_OK


def _compare(args: argparse.Namespace, argv: list[str]) -> int:
    from treatysim.report.compare import compare
    from treatysim.results.store import StoreError

    try:
        folder = compare(args.a, args.b, args.out)
    except StoreError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"comparison: {folder / 'comparison.md'}")
    return EXIT_OK


def _export(args: argparse.Namespace, argv: list[str]) -> int:
    from treatysim.results.export import ExportError, export_folder

    try:
        exported = export_folder(args.folder, args.out)
    except ExportError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    for item in exported:
        print(f"{item.target} ({item.rows:,} rows)")
    return EXIT_OK


def _demo(args: argparse.Namespace, argv: list[str]) -> int:
    from treatysim.demo.server import serve

    return serve(port=args.port, scenario=args.scenario, open_browser=not args.no_browser)


if __name__ == "__main__":
    sys.exit(main())
