"""A dated forecast of each Ottawa party's move, from the shipped posterior ensemble (issue 12).

    python tools/forecast.py [--replications N] [--posterior CALDIR] [--out docs/forecasts.md]

Runs the founding case with its spin-up (``ottawa_2022``, 2022-02-24 to 2027-12-31) with each
replication's parameters drawn from a calibration's posterior (by default the shipped
full-information posterior, ``scenarios/calibration/posterior/ottawa_full``), and writes, for
every state that was a party to the Ottawa Convention at the start, the probability that it has
moved to leave (announced a withdrawal or a suspension; any later stage) by 2026-12-31 and by
2027-12-31, with 95% Wilson intervals of those Monte Carlo estimates. It also gives, for the
states that had not moved by the forecast date (observed), the probability conditional on the
state not having moved by that date in the run. The document is dated and names the
posterior's hash (:func:`treatysim.calibration.ensemble.calibration_hash`), so it can be scored
later against what happens.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from scipy.stats import binomtest

import treatysim as ts
from treatysim.calibration.ensemble import calibration_hash
from treatysim.calibration.session import git_commit
from treatysim.model.world import build_world
from treatysim.results.store import write_text
from treatysim.scenario.dataset import load_observed

ROOT = Path(__file__).resolve().parent.parent
POSTERIOR = ROOT / "scenarios" / "calibration" / "posterior" / "ottawa_full"
SCENARIO = "ottawa_2022"
TREATY = "ottawa"
HORIZONS = ("2026-12-31", "2027-12-31")
MOVE = ("announced", "suspended", "approved", "notified", "withdrawn")
#: Columns of the forecast table, in order (tests check the document's table against them).
COLUMNS = (
    "state",
    "observed first move",
    *(f"P(moved by {h}) [95%]" for h in HORIZONS),
    *(f"P(moved by {h}, if not by {{today}}) [95%]" for h in HORIZONS),
)


def wilson(k: int, n: int) -> tuple[float, float, float]:
    """Share ``k/n`` with its 95% Wilson interval (SciPy)."""
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return k / n, float(ci.low), float(ci.high)


def first_moves(events: pd.DataFrame, runs: Sequence[str]) -> pd.DataFrame:
    """Per run (rows) and state (columns), the date of the first move in the Ottawa treaty."""
    ev = events[(events["treaty"] == TREATY) & events["stage"].isin(MOVE)].copy()
    ev["date"] = pd.to_datetime(ev["date"])
    return ev.groupby(["run_id", "iso3"])["date"].min().unstack().reindex(list(runs))


def forecast_table(
    moves: pd.DataFrame, parties: Sequence[str], observed: dict[str, str], today: str
) -> pd.DataFrame:
    """Each party's probabilities of having moved by each horizon, with Wilson intervals.

    Args:
        moves: First move date per run (rows) and state (columns); NaT: never moved.
        parties: The parties at the start.
        observed: Observed first move date per state (ISO3 → ISO date) up to ``today``.
        today: The forecast date (ISO).

    Returns:
        One row per party: ``state``, ``observed``, and per horizon ``p``, ``low``, ``high``
        (unconditional) and ``p_cond``, ``low_cond``, ``high_cond``, ``n_cond`` (conditional on
        no move by ``today`` in the run; NaN for states observed to have moved).
    """
    cut = pd.Timestamp(today)
    rows = []
    for state in parties:
        col = moves[state] if state in moves else pd.Series(pd.NaT, index=moves.index)
        row: dict[str, object] = {"state": state, "observed": observed.get(state, "")}
        not_yet = ~(col <= cut)
        for h in HORIZONS:
            by = col <= pd.Timestamp(h)
            row[f"p {h}"], row[f"low {h}"], row[f"high {h}"] = wilson(int(by.sum()), len(col))
            if state in observed:
                cond = (float("nan"),) * 3
            else:
                cond = wilson(int((by & not_yet).sum()), int(not_yet.sum()))
            row[f"p_cond {h}"], row[f"low_cond {h}"], row[f"high_cond {h}"] = cond
            row["n_cond"] = int(not_yet.sum())
        rows.append(row)
    return pd.DataFrame(rows)


def _cell(p: float, low: float, high: float) -> str:
    if p != p:  # NaN
        return "—"
    return f"{p:.3f} [{low:.3f}, {high:.3f}]"


def render(table: pd.DataFrame, meta: dict[str, object]) -> str:
    """The forecast as Markdown (``docs/forecasts.md``)."""
    today = str(meta["today"])
    header = [c.replace("{today}", today) for c in COLUMNS]
    lines = [
        "# Forecasts: Ottawa parties moving to leave, by 2026-12-31 and 2027-12-31",
        "",
        f"Made on **{today}** by `{meta['command']}` (treatysim {meta['version']}, commit "
        f"`{meta['commit']}`).",
        "",
        f"- Scenario: `{meta['scenario']}` (spin-up from 2022-02-24 to 2027-12-31), "
        f"{meta['replications']} replications, root seed {meta['seed']}.",
        f"- Posterior: `{meta['posterior']}`, sha256 `{meta['posterior_sha256']}` "
        "(over its manifest, diagnostics and last particles; "
        "`treatysim.calibration.ensemble.calibration_hash`). Each replication's parameters are "
        "drawn from it, so the probabilities carry parameter and seed uncertainty together.",
        "- A move is the first of announced, suspended or a later stage of withdrawal. "
        "Intervals are 95% Wilson intervals of the Monte Carlo estimate (finite replications); "
        "they do not add uncertainty about the model's structure.",
        f"- The model is not conditioned on what happened in 2025-26: the unconditional columns "
        f"are the model's probabilities from 2022; the conditional columns, for parties that "
        f"had not moved by {today} (observed), count only the runs in which that state had not "
        f"moved by {today} either, and are the ones to score.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for _, r in table.iterrows():
        cells = [str(r["state"]), str(r["observed"]) or "—"]
        cells += [_cell(r[f"p {h}"], r[f"low {h}"], r[f"high {h}"]) for h in HORIZONS]
        cells += [
            _cell(r[f"p_cond {h}"], r[f"low_cond {h}"], r[f"high_cond {h}"]) for h in HORIZONS
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Replications in the conditional columns (parties not observed to move): "
        f"{meta['n_cond_note']}.",
        "",
    ]
    return "\n".join(lines)


def observed_moves(today: str) -> dict[str, str]:
    """Observed first move per state in the Ottawa treaty, up to ``today`` (bundled data)."""
    out: dict[str, str] = {}
    for row in load_observed("observed_2025"):
        if row["treaty"] == TREATY and row["stage"] in MOVE and row["date"] <= today:
            out[row["iso3"]] = min(row["date"], out.get(row["iso3"], row["date"]))
    return out


def make_forecast(
    replications: int,
    posterior: Path,
    seed: int,
    today: str,
    workers: int = 1,
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Run the posterior ensemble and return the forecast table and its metadata."""
    loaded = ts.load(SCENARIO)
    world = build_world(loaded.model, loaded.base_dir)
    k = world.treaties.index(TREATY)
    parties = [s for i, s in enumerate(world.ids) if world.party[i, k]]
    result = ts.simulate(
        loaded, replications=replications, seed=seed, posterior=posterior, workers=workers
    )
    runs = result.runs["run_id"].tolist()
    moves = first_moves(result.events, runs)
    table = forecast_table(moves, parties, observed_moves(today), today)
    n_cond = table.loc[table["observed"] == "", "n_cond"]  # parties not observed to move
    meta: dict[str, object] = {
        "today": today,
        "scenario": SCENARIO,
        "replications": len(runs),
        "seed": seed,
        "posterior": _shown(posterior),
        "posterior_sha256": calibration_hash(posterior),
        "version": ts.__version__,
        "commit": git_commit(ROOT) or "unknown",
        "n_cond_note": (
            f"from {int(n_cond.min())} to {int(n_cond.max())} of {len(runs)}"
            if len(n_cond)
            else "none"
        ),
    }
    return table, meta


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the forecast document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=2000, help="(default: 2000)")
    parser.add_argument("--posterior", type=Path, default=POSTERIOR, help=f"(default: {POSTERIOR})")
    parser.add_argument("--seed", type=int, default=20261130, help="root seed (default: 20261130)")
    parser.add_argument(
        "--today", default=dt.date.today().isoformat(), help="forecast date (default: today)"
    )
    parser.add_argument("--workers", type=int, default=1, help="processes (default: 1)")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "forecasts.md", help="(default: %(default)s)"
    )
    args = parser.parse_args(argv)
    table, meta = make_forecast(args.replications, args.posterior, args.seed, args.today,
                                args.workers)  # fmt: skip
    shown = ["python tools/forecast.py", f"--replications {args.replications}"]
    if args.seed != 20261130:
        shown.append(f"--seed {args.seed}")
    meta["command"] = " ".join(shown)
    write_text(args.out, render(table, meta))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
