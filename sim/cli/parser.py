"""The argument parser of every ``treatysim`` command: names, bounds, help and defaults."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

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


def _add_precision(p: argparse.ArgumentParser, where: str) -> None:
    """``--precision H`` with ``--block`` and ``--max-replications`` (run and sweep)."""
    p.add_argument(
        "--precision",
        type=_half_width,
        metavar="H",
        help="add replications in seeded blocks until every headline probability's Wilson 95%% "
        f"half-width is at most H, in (0, 0.5]{where} (default: off; a fixed number of "
        "replications)",
    )
    p.add_argument(
        "--block",
        type=_bounded(1, MAX_REPLICATIONS),
        default=50,
        metavar="B",
        help="with --precision: replications per block (default: %(default)s)",
    )
    p.add_argument(
        "--max-replications",
        type=_bounded(1, MAX_REPLICATIONS),
        default=10_000,
        metavar="N",
        help="with --precision: the cap on replications (default: %(default)s)",
    )


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

    p = sub.add_parser(
        "validate", help="check scenario, sweep and calibration files; report every problem"
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="scenario, sweep or calibration files")
    _add_quiet(p)

    p = sub.add_parser(
        "schema", help="print the JSON Schema of scenario, sweep and calibration files"
    )
    p.add_argument(
        "--kind",
        choices=["all", "scenario", "sweep", "calibration"],
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
    p.add_argument(
        "--posterior",
        type=Path,
        metavar="CALDIR",
        help="draw each replication's parameters from this calibration folder's posterior, "
        "seeded from the root seed (default: none, the scenario's fixed parameters)",
    )

    _add_precision(p, "")

    p = sub.add_parser("sweep", help="run a parameter sweep")
    p.add_argument("sweep", metavar="SWEEP", help="a sweep file, or a bundled sweep's name")
    p.add_argument(
        "--posterior",
        type=Path,
        metavar="CALDIR",
        help="replication r of every point draws its parameters from this calibration's "
        "posterior (draw r, seeded from the sweep's seed; default: none)",
    )
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
    _add_precision(p, " at each point (replaces the sweep file's replications)")
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

    _add_discover(sub)
    _calibrate_parser(sub, workers)

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
    _add_backtest(sub)
    return parser


def _iso_date(text: str) -> dt.date:
    """An argparse type: a date written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _add_backtest(sub: Any) -> None:
    """``treatysim backtest``'s arguments."""
    p = sub.add_parser("backtest", help="score a run made with information cut at a date")
    p.add_argument("scenario", metavar="SCENARIO", help="a scenario file or bundled name")
    p.add_argument(
        "--cutoff", type=_iso_date, required=True, metavar="DATE",
        help="information cutoff: events after it are refused; scoring starts on it "
        "(required; no default)",
    )  # fmt: skip
    p.add_argument(
        "--until", type=_iso_date, required=True, metavar="DATE",
        help="horizon: a state counts as moved if it moved by this date (required; no default)",
    )  # fmt: skip
    p.add_argument(
        "--posterior", type=Path, metavar="CALDIR",
        help="draw each replication's parameters from this calibration's posterior "
        "(default: none, the scenario's fixed parameters)",
    )  # fmt: skip
    p.add_argument(
        "--replications", "-n", type=_bounded(1, MAX_REPLICATIONS), metavar="N",
        help="replications (default: the scenario's run.replications)",
    )  # fmt: skip
    p.add_argument(
        "--seed", type=_bounded(0, MAX_SEED), metavar="S",
        help="root seed (default: the scenario's run.seed)",
    )  # fmt: skip
    p.add_argument(
        "--out", type=Path, metavar="DIR",
        help="output folder, new or empty (default: results/NAME_backtest/TIMESTAMP)",
    )  # fmt: skip
    _flag(
        p, "--strict",
        "refuse inputs whose provenance is after the cutoff or derived from the outcome "
        "(without it they are listed as warnings)",
    )  # fmt: skip
    p.add_argument(
        "--set", dest="sets", action="append", default=[], metavar="KEY.PATH=VALUE",
        help="override a scenario key (repeatable; default: none)",
    )  # fmt: skip
    p.add_argument(
        "--engine", choices=["auto", "mesa", "batched"], default="auto",
        help="engine (default: %(default)s)",
    )  # fmt: skip
    p.add_argument(
        "--workers", "-w", type=_bounded(1, 4096), default=1, metavar="W",
        help="processes (default: %(default)s)",
    )  # fmt: skip
    p.add_argument(
        "--n-boot", type=_bounded(100, 1_000_000), default=2000, metavar="B",
        help="bootstrap resamples of the score intervals (default: %(default)s)",
    )  # fmt: skip
    _add_quiet(p)


def _fraction(high: float) -> Callable[[str], float]:
    """An argparse type: a number in (0, high]."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
        if not 0.0 < value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside (0, {high:g}]")
        return value

    return parse


_share = _fraction(1.0)  # a share of the cases
_half_width = _fraction(0.5)  # an interval half-width of a probability


def _add_discover(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "discover", help="scenario discovery on a sweep folder: PRIM boxes, CART rules, scores"
    )
    p.add_argument("folder", type=Path, metavar="SWEEP_DIR", help="a sweep folder")
    p.add_argument(
        "--outcome",
        required=True,
        metavar="NAME",
        help="an outcome column, e.g. cascade_size (required; default: none)",
    )
    p.add_argument(
        "--where",
        required=True,
        metavar="EXPR",
        help='what makes a case of interest: an operator and a number, e.g. ">= 7" '
        "(required; default: none)",
    )
    p.add_argument(
        "--on",
        choices=["points", "runs"],
        default="points",
        help="cases: each point's mean over its ok runs, or every single run "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--min-coverage",
        type=_share,
        default=0.8,
        metavar="C",
        help="the chosen PRIM box keeps at least this coverage (default: %(default)s)",
    )
    p.add_argument(
        "--density-tolerance",
        type=float,
        default=0.02,
        metavar="D",
        help="density given up for more coverage when choosing the box (default: %(default)s)",
    )
    p.add_argument(
        "--peel-alpha",
        type=_share,
        default=0.05,
        metavar="A",
        help="share of the box's cases peeled off per PRIM step (default: %(default)s)",
    )
    p.add_argument(
        "--mass-min",
        type=_share,
        default=0.05,
        metavar="M",
        help="PRIM stops before a box holds less than this share of the cases "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--cart-depth",
        type=_bounded(1, 10),
        default=3,
        metavar="K",
        help="depth of the CART tree, 1 to 10 (default: %(default)s)",
    )
    _flag(p, "--svg", "also write SVG plots")
    _add_quiet(p)


def _calibrate_parser(sub: Any, workers: Any) -> None:
    """The ``calibrate`` sub-command's arguments."""
    p = sub.add_parser("calibrate", help="ABC-SMC calibration of a scenario against observations")
    p.add_argument(
        "file", metavar="FILE", help="a calibration file, or a bundled one (calibration/NAME)"
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="calibration folder (default: results/calibration/NAME/TIMESTAMP)",
    )
    p.add_argument(
        "--workers",
        "-w",
        type=workers,
        default=1,
        metavar="W",
        help="processes that simulate each block (default: %(default)s)",
    )
    _flag(p, "--resume", "continue the calibration in --out after its last generation")
    p.add_argument(
        "--method",
        choices=["pyabc", "smc"],
        help="pyabc (needs treatysim[calibrate]) or smc, treatysim's own ABC-SMC "
        "(default: the file's method.engine)",
    )
    p.add_argument(
        "--population-size",
        type=_bounded(10, 1_000_000),
        metavar="N",
        help="accepted particles per generation (default: the file's method.population_size)",
    )
    p.add_argument(
        "--max-simulations",
        type=_bounded(1, 10**10),
        metavar="N",
        help="simulations at most, all generations (default: the file's method.max_simulations)",
    )
    p.add_argument(
        "--max-generations",
        type=_bounded(1, 1000),
        metavar="N",
        help="generations at most (default: the file's method.max_generations)",
    )
    p.add_argument(
        "--ppc-draws",
        type=_bounded(0, 100_000),
        default=200,
        metavar="N",
        help="posterior draws simulated for the predictive check, 0 for none "
        "(default: %(default)s)",
    )
    _flag(p, "--no-plots", "write the tables and manifest only")
    _add_quiet(p)
