"""What a forecaster on 2024-11-30 had to know for the model to beat the exposure rule.

The scheduled backtest (``scenarios/calibration/ottawa_backtest_2024_11_30_scheduled.yaml``)
keeps the one shock whose date was known at the cut, the US inauguration of 2025-01-20, with
an unknown size (allied credibility after it, a uniform prior 0.2–1.0). This tool fixes that
size at each value of ``--sizes`` in turn and scores the backtest, with every other parameter
drawn from the cut posterior (``posterior/ottawa_cut_2024_11_30``, calibrated on the quiet
years only; the inauguration is after the cut, so no target informs its size). It prints, per
size: the model's P(moved by 2025-12-31) for the five and Norway, its Brier score, the
difference from the exposure-minus-allies rule with its interval, and the range of the rule's
p_hi for which the rule still scores better.

This is a conditional analysis, not a forecast: it answers "how large a shock would the
forecaster have had to foresee", not "what did the model predict".

Usage: python tools/foresight.py [--sizes 0.2 0.3 ...] [-n 400] [--workers 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios/calibration/ottawa_backtest_2024_11_30_scheduled.yaml"
POSTERIOR = ROOT / "scenarios/calibration/posterior/ottawa_cut_2024_11_30"
KEY = "events.us_inauguration_2025.credibility"
SHOWN = ["EST", "LVA", "LTU", "POL", "FIN", "UKR", "NOR"]


def score(size: float, out: Path, replications: int, workers: int, seed: int) -> dict:
    """Run the backtest with the shock's size fixed; return its scores.json."""
    from treatysim.cli import main

    folder = out / f"size_{size:g}"
    args = [
        "backtest", str(SCENARIO), "--cutoff", "2024-11-30", "--until", "2025-12-31",
        "--posterior", str(POSTERIOR), "--set", f"{KEY}={size}", "-n", str(replications),
        "--seed", str(seed), "--workers", str(workers), "--out", str(folder), "--quiet",
    ]  # fmt: skip
    code = main(args)
    if code != 0:
        raise SystemExit(f"backtest failed for size {size} (exit {code})")
    return json.loads((folder / "scores.json").read_text())


def row(size: float, doc: dict, table: Path) -> str:
    """One markdown row of the table."""
    import pandas as pd

    per_state = pd.read_parquet(table).set_index("iso3")["p_model"]
    diff = doc["scores"]["brier"]["differences"]["exposure_minus_allies"]
    span = doc["brier_break_even"]["exposure_minus_allies"]["null_better_for_p_hi"]
    where = f"[{span[0]:.2f}, {span[1]:.2f}]" if span else "none"
    probs = " / ".join(f"{per_state.get(s, float('nan')):.2f}" for s in SHOWN)
    brier = doc["scores"]["brier"]["means"]["model"]["mean"]
    return (
        f"| {size:g} | {probs} | {brier:.3f} | {diff['mean']:+.3f} "
        f"[{diff['lower']:+.3f}, {diff['upper']:+.3f}] | {where} |"
    )


def main() -> int:
    """Score the backtest at each size and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.2, 0.3, 0.4, 0.5, 0.6, 0.8])
    parser.add_argument("-n", "--replications", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20250318)
    parser.add_argument("--out", type=Path, help="keep the backtest folders here")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="foresight-"))
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        f"Backtest `{SCENARIO.relative_to(ROOT)}`, posterior `{POSTERIOR.relative_to(ROOT)}`, "
        f"{args.replications} replications, root seed {args.seed}; `{KEY}` fixed per row.",
        "",
        f"| credibility after 2025-01-20 | P(moved by 2025-12-31): {' / '.join(SHOWN)} | "
        "Brier | − exposure minus allies [95%] | rule better for p_hi in |",
        "|---|---|---|---|---|",
    ]
    for size in args.sizes:
        doc = score(size, out, args.replications, args.workers, args.seed)
        lines.append(row(size, doc, out / f"size_{size:g}" / "scores.parquet"))
        print(lines[-1], file=sys.stderr)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
