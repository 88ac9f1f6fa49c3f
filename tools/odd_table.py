"""Write (or check) the founding scenario's table in docs/ODD.md, section 8, from a real run.

    python tools/odd_table.py            # run ottawa_2025 (200 replications), rewrite the table
    python tools/odd_table.py --check    # exit 1 if the committed table differs from a fresh run

The table sits between the markers ``<!-- calibration-table:start -->`` and ``:end -->``. It is
measured with the README's run command (the scenario's own replications and seed, shipped
defaults), so every figure in it is one the code produces.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import treatysim as ts
from treatysim.analysis.run_summary import Layout, summarize

ROOT = Path(__file__).resolve().parent.parent
ODD = ROOT / "docs" / "ODD.md"
START, END = "<!-- calibration-table:start -->", "<!-- calibration-table:end -->"
FIVE = ("EST", "LVA", "LTU", "POL", "FIN")
LISTED = 15


def _p(entry: dict) -> str:
    return f"{entry['p']:.3f} [{entry['lo']:.3f}, {entry['hi']:.3f}]"


def table() -> str:
    """The Markdown between the markers, from a fresh run of the founding scenario."""
    scenario = ts.load("ottawa_2025")
    result = ts.simulate(scenario)
    layout = Layout.from_world(result.simulation.world)
    summary = summarize(result.runs, result.events, layout)
    runs = scenario.model.run
    first = layout.report_dates[0].isoformat()
    states = summary["treaties"]["ottawa"]["states"]
    order = sorted(
        states,
        key=lambda s: (-(states[s]["stages"]["announced"]["by_date"][first]["p"] or 0.0), s),
    )
    shown = [s for s in order if states[s]["stages"]["announced"]["end"]["k"]][:LISTED]
    shown += [s for s in ("BLR", "DEU", "UKR") if s not in shown]
    lines = [
        "Measured with `treatysim run scenarios/ottawa_2025.yaml` (the README's run command: "
        f"{runs.replications} replications, root seed {runs.seed}, shipped defaults, "
        f"{result.simulation.engine} engine), by `python tools/odd_table.py`; a test checks that "
        "the table matches a fresh run. States not listed never announced in these runs.",
        "",
        f"| state | P(announced by {first}) [95% CI] | median announcement | "
        f"P(withdrawn by {layout.dates[-1].isoformat()}) |",
        "|---|---|---|---|",
    ]
    for s in shown:
        stages = states[s]["stages"]
        median = stages["announced"]["median"] or "—"
        withdrawn = stages["withdrawn"]["end"]["p"] or 0.0
        lines.append(
            f"| {s} ({states[s]['name']}) | {_p(stages['announced']['by_date'][first])} | "
            f"{median} | {withdrawn:.3f} |"
        )
    others = result.runs.shape[0]
    announced = result.events[
        (result.events["stage"] == "announced") & (result.events["date"] <= layout.report_dates[0])
    ]
    extra = announced[~announced["iso3"].isin(FIVE)]["run_id"].count() / others
    ukr = states["UKR"]["stages"]
    size = summary["treaties"]["ottawa"]["cascade_size"]["mean"]
    lines += [
        "",
        f"Mean number of states other than the five that announce by {first}: {extra:.3f}.",
        f"Ukraine: P(suspended by {first}) = {ukr['suspended']['by_date'][first]['p']:.3f}; "
        f"P(announced a withdrawal by {first}) = "
        f"{ukr['announced']['by_date'][first]['p']:.3f} (no suspension stage where the treaty "
        "allows none; the withdrawal waits for the end of the conflict, ODD 7.5 step 3a); "
        f"P(withdrawn by the end) = {ukr['withdrawn']['end']['p'] or 0.0:.3f}.",
        f"Cascade size (announced or suspended): mean {size['mean']:.2f} "
        f"[{size['lo']:.2f}, {size['hi']:.2f}]; observed 6.",
    ]
    return "\n".join(lines)


def main() -> int:
    """Rewrite the table, or with --check compare it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of rewriting")
    args = parser.parse_args()
    text = ODD.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + r"\n.*?\n" + re.escape(END), flags=re.S)
    new = f"{START}\n{table()}\n{END}"
    if args.check:
        current = pattern.search(text)
        if current is None or current.group(0) != new:
            print("docs/ODD.md's table differs from a fresh run: python tools/odd_table.py")
            return 1
        return 0
    ODD.write_text(pattern.sub(lambda _: new, text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
