"""Issue 12's target figures, with the scenarios' parameters or a posterior ensemble.

    python tools/mechanism_figures.py [--replications N] [--posterior CALDIR] [--scenarios ...]

Prints, for the founding scenario (ottawa_2025) and its spin-up variant from the full-scale
invasion (ottawa_2022): expected Ottawa movers from 2022-03 to 2024-12 and P(any moved before
2025) (spin-up only), Ukraine's median move date (first of announced or suspended), and the share
of runs in which Estonia, Latvia, Lithuania and Poland all announce within 7 days of each other;
and the ceasefire variants' effect on the expected number of movers by 2026-12-31 (paired runs,
same seeds). With ``--posterior CALDIR`` each replication's parameters are drawn from that
calibration's posterior (``treatysim.simulate(..., posterior=CALDIR)``), so the figures carry
parameter and seed uncertainty together.
"""

from __future__ import annotations

import argparse
import datetime as dt

import numpy as np
import pandas as pd

import treatysim as ts

MOVE = ("announced", "suspended")
FOUR = ("EST", "LVA", "LTU", "POL")


def first_moves(events: pd.DataFrame) -> pd.DataFrame:
    """Per run and state, the first date it moved (announced or suspended) in the Ottawa treaty."""
    ev = events[(events["treaty"] == "ottawa") & events["stage"].isin(MOVE)].copy()
    ev["date"] = pd.to_datetime(ev["date"])
    return ev.groupby(["run_id", "iso3"])["date"].min().unstack()


def figures(name: str, replications: int, posterior: str | None = None) -> dict[str, object]:
    """The target figures of one scenario (parameters drawn from ``posterior`` if given)."""
    if posterior is None:
        result = ts.simulate(name, replications=replications)
    else:
        result = ts.simulate(name, replications=replications, posterior=posterior)
    runs = result.runs["run_id"].tolist()
    moves = first_moves(result.events).reindex(runs)
    out: dict[str, object] = {"scenario": name, "replications": len(runs)}
    quiet = (moves >= "2022-03-01") & (moves <= "2024-12-31")
    if name != "ottawa_2025" and not name.startswith("ceasefire"):  # those start in 2025
        out["expected movers 2022-03..2024-12"] = float(quiet.sum(axis=1).mean())
    out["P(any moved before 2025)"] = float((moves < "2025-01-01").any(axis=1).mean())
    ukr = moves["UKR"].dropna() if "UKR" in moves else pd.Series(dtype="datetime64[ns]")
    out["P(UKR moved)"] = len(ukr) / len(runs)
    out["UKR median move"] = str(ukr.sort_values().iloc[len(ukr) // 2].date()) if len(ukr) else None
    four = moves.reindex(columns=list(FOUR))
    span = (four.max(axis=1) - four.min(axis=1)).dt.days
    out["share EST/LVA/LTU/POL within 7 days"] = float(
        (four.notna().all(axis=1) & (span <= 7)).mean()
    )
    by_2025 = moves <= "2025-12-31"
    five = [*FOUR, "FIN"]
    for state in (*five, "NOR", "SWE"):
        out[f"P({state} moved by 2025-12-31)"] = (
            float(by_2025[state].mean()) if state in by_2025 else 0.0
        )
    out["P(all five moved by 2025-12-31)"] = float(
        by_2025.reindex(columns=five, fill_value=False).all(axis=1).mean()
    )
    others = [c for c in by_2025.columns if c not in {*five, "UKR"}]
    out["expected other movers by 2025-12-31 (not the five, not UKR)"] = float(
        by_2025[others].sum(axis=1).mean()
    )
    out["expected movers by 2026-12-31"] = float((moves <= "2026-12-31").sum(axis=1).mean())
    return out


def main() -> None:
    """Print the figures of the founding scenario, the spin-up and the ceasefire variants."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=200, help="(default: 200)")
    parser.add_argument(
        "--posterior", default=None, help="calibration folder for the parameters (default: none)"
    )
    parser.add_argument(
        "--scenarios",
        nargs="+",
        default=["ottawa_2025", "ottawa_2022", "ceasefire_2025", "ceasefire_2026"],
        help="scenarios to measure (default: %(default)s)",
    )
    args = parser.parse_args()
    now = dt.datetime.now(dt.UTC)
    print(
        f"measured {now:%Y-%m-%d %H:%M} UTC, {args.replications} replications, "
        f"posterior {args.posterior}"
    )
    base = None
    for name in args.scenarios:
        f = figures(name, args.replications, args.posterior)
        if name == "ottawa_2025":
            base = f["expected movers by 2026-12-31"]
        elif name.startswith("ceasefire") and isinstance(base, float):
            f["ceasefire effect on movers by 2026-12-31"] = float(
                np.round(f["expected movers by 2026-12-31"] - base, 4)  # type: ignore[operator]
            )
        print(f)


if __name__ == "__main__":
    main()
