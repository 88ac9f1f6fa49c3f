"""Run every command of docs/tutorial.md and draw the tutorial's figures from the runs.

    python docs/tutorial/make_figures.py [--work DIR] [--jobs N]

The commands are read from the tutorial's fenced ``bash`` blocks and run as written, in a
working folder (a temporary one unless ``--work`` is given) where ``scenarios/`` points at the
bundled scenarios; ``treatysim`` is run as ``python -m treatysim`` with this interpreter. The
``treatysim demo`` command is not run (it serves a page until interrupted; the browser test
covers it). The figures are written next to this script, and :data:`QUOTES` lists, for every
number the tutorial quotes, the sentence that must hold it: ``tests/test_tutorial.py`` runs the
same commands and checks each sentence against fresh runs.
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
TUTORIAL = HERE.parent / "tutorial.md"
#: Spreads of the thresholds swept in part 2 (as in the tutorial's commands).
SPREADS = ("0.10", "0.12", "0.13", "0.15")
#: Mean of the normal thresholds in granovetter_normal.yaml.
NORMAL_MEAN = 0.25
#: Scenarios whose runs take longest (1,000 agents), started first.
BIG_POPULATIONS = ("granovetter_normal", "watts_cascade")
#: A Watts run with more actors than this is a global cascade.
GLOBAL_CASCADE = 100


def _spread_key(sd: str) -> str:
    """The key of a spread's row in the numbers: ``0.12`` → ``normal_sd012``."""
    return f"normal_sd{sd.replace('.', '')}"


#: For each quoted number, the exact text of the tutorial that quotes it.
QUOTES: dict[str, str] = {
    "riot_size": "all **{riot_size}** people riot",
    "riot_last": "the last one joins on **{riot_last}**",
    "broken_size": "only **{broken_size}** person riots",
    **{_spread_key(sd): f"| {sd} | {{{_spread_key(sd)}}} |" for sd in SPREADS},
    "normal_share_012": "the runs above stop at {normal_share_012}% of the agents",
    "critical_sd": "critical spread of about **{critical_sd}**",
    "fixed_point_012": "at sd = 0.12 the first fixed point is x* ≈ **{fixed_point_012}**",
    "watts_3": "**{watts_3}** of the 20 runs",
    "watts_12": "at mean degree 12, **{watts_12}** of 20",
    "baltic_exits": "withdrawn by the end: **{baltic_exits}** on average",
    "baltic_nor": "Norway has withdrawn by 31 December 2026 in **{baltic_nor}** of the 100",
    "early_exits": "**{early_exits}** states withdrawn on average with the April 2025 ceasefire",
    "late_exits": "**{late_exits}** with the June 2026 one",
    "early_nor": "Norway has withdrawn by the end in **{early_nor}** of the early-ceasefire runs",
    "late_nor": "against **{late_nor}** of the late ones",
    "early_nor_announced": "Norway *announces* its exit in **{early_nor_announced}** of the",
    "late_nor_announced": "and in **{late_nor_announced}** of the late ones. What",
    "early_nor_median": "median announcement moves from **{early_nor_median}** (early",
    "late_nor_median": "to **{late_nor_median}** (late ceasefire",
    "early_long_nor": "Norway has withdrawn in **{early_long_nor}** of the early-ceasefire runs",
    "late_long_nor": "and in **{late_long_nor}** of the late ones (`results/ceasefire_compare_long",
    "early_long_exits": "the mean exits are **{early_long_exits}** and",
    "late_long_exits": "and **{late_long_exits}**. In this model",
    "riot_fixed": "all **{riot_fixed}** people riot again",
    "peer_nor": "withdrawn by the end in **{peer_nor}** of the 100 runs, against **{baltic_nor}**",
}


# --------------------------------------------------------------------------------------------
# the commands


def bash_blocks(text: str) -> list[str]:
    """The contents of the fenced ``bash`` blocks of a Markdown text (also indented), in order."""
    blocks = re.findall(r"^([ \t]*)```bash\n(.*?)^[ \t]*```", text, flags=re.S | re.M)
    return [textwrap.dedent(body) if indent else body for indent, body in blocks]


def commands(text: str) -> list[str]:
    r"""Every command of the bash blocks: one per line, ``\`` continuations joined."""
    out: list[str] = []
    for block in bash_blocks(text):
        joined = re.sub(r"\\\n\s*", " ", block)
        out += [line.strip() for line in joined.splitlines() if line.strip() and line[0] != "#"]
    return out


def is_demo(command: str) -> bool:
    """Whether a command serves the demo page (it blocks until interrupted)."""
    return shlex.split(command)[:2] == ["treatysim", "demo"]


def argv(command: str) -> list[str]:
    """A tutorial command as an argument list, ``treatysim`` run by this interpreter."""
    words = shlex.split(command)
    if words[0] != "treatysim":
        raise ValueError(f"the tutorial should only run treatysim, not: {command}")
    return [sys.executable, "-m", "treatysim", *words[1:]]


def prepare(work: Path) -> None:
    """Make ``scenarios/`` in the working folder point at the bundled scenarios."""
    work.mkdir(parents=True, exist_ok=True)
    link = work / "scenarios"
    if not link.exists():
        link.symlink_to(Path(str(importlib.resources.files("treatysim.scenarios"))))


@dataclass
class Ran:
    """A command that ran: what, its exit code, and what it printed."""

    command: str
    returncode: int
    output: str


def _run(command: str, work: Path, timeout: float) -> Ran:
    proc = subprocess.run(  # noqa: S603 - our own interpreter, arguments from the tutorial
        argv(command),
        cwd=work,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Ran(command, proc.returncode, proc.stdout + proc.stderr)


def run_all(cmds: list[str], work: Path, jobs: int = 2, timeout: float = 600) -> list[Ran]:
    """Run the tutorial's commands (not the demo) in ``work``: runs in parallel, then the rest.

    ``treatysim run`` commands write separate folders, so they run ``jobs`` at a time; every
    other command (``compare`` reads run folders) runs afterwards, in the tutorial's order.
    """
    prepare(work)
    runs = [c for c in cmds if not is_demo(c) and shlex.split(c)[1] == "run"]
    rest = [c for c in cmds if not is_demo(c) and c not in runs]
    # the 1,000-agent populations first, so that no long run is left alone at the end
    runs.sort(key=lambda c: not any(big in c for big in BIG_POPULATIONS))
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        done = list(pool.map(lambda c: _run(c, work, timeout), runs))
    done += [_run(c, work, timeout) for c in rest]
    return done


# --------------------------------------------------------------------------------------------
# the numbers


def _runs(folder: Path) -> Any:
    import pandas as pd

    return pd.read_parquet(folder / "runs.parquet")


def _share_withdrawn(folder: Path, iso3: str) -> float:
    """Share of the runs in which a state had withdrawn by the end of the calendar."""
    import pandas as pd

    events = pd.read_parquet(folder / "events.parquet")
    hit = events[(events["iso3"] == iso3) & (events["stage"] == "withdrawn")]
    return hit["replication"].nunique() / len(_runs(folder))


def fixed_point(sd: float, mean: float = NORMAL_MEAN) -> float:
    """The first fixed point of x = F(x) reached from x = 0, F the normal thresholds' CDF.

    Iterating x → F(x) from 0 climbs to the smallest root of F(x) − x (F(0) > 0, F rises), so
    the root is found directly: the first sign change on a fine grid, refined by Brent's method.
    """
    from scipy.optimize import brentq
    from scipy.stats import norm

    def gap(x: float) -> float:
        return float(norm.cdf((x - mean) / sd)) - x

    xs = np.linspace(0.0, 1.0, 20_001)
    below = np.nonzero(norm.cdf((xs - mean) / sd) - xs <= 0)[0]
    if below.size == 0:
        return 1.0
    k = int(below[0])
    return float(brentq(gap, xs[k - 1], xs[k], xtol=1e-12)) if k else 0.0


def critical_spread(mean: float = NORMAL_MEAN) -> float:
    """The smallest spread at which the iteration from 0 runs to (almost) everyone."""
    lo, hi = 0.05, 0.25
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if fixed_point(mid, mean) > 0.5 else (mid, hi)
    return hi


def numbers(work: Path) -> dict[str, str]:
    """Every number the tutorial quotes, formatted as quoted, computed from the run folders."""
    res = work / "results"
    out: dict[str, str] = {}
    import pandas as pd

    out["riot_size"] = str(int(_runs(res / "riot")["cascade_size"].iloc[0]))
    events = pd.read_parquet(res / "riot" / "events.parquet")
    out["riot_last"] = str(events.loc[events["stage"] == "announced", "date"].max())
    out["broken_size"] = str(int(_runs(res / "riot_broken")["cascade_size"].iloc[0]))
    for sd in SPREADS:
        sizes = _runs(res / _spread_key(sd))["cascade_size"].astype(int)
        full = int((sizes == 1000).sum())
        out[_spread_key(sd)] = (
            f"{', '.join(map(str, sizes))} | {sizes.mean():.1f} | {full} of {len(sizes)}"
        )
    mean_012 = _runs(res / _spread_key("0.12"))["cascade_size"].mean()
    out["normal_share_012"] = f"{mean_012 / 10:.0f}"
    out["critical_sd"] = f"{critical_spread():.3f}"
    out["fixed_point_012"] = f"{fixed_point(0.12):.3f}"
    for degree in (3, 12):
        sizes = _runs(res / f"watts_k{degree}")["cascade_size"]
        out[f"watts_{degree}"] = str(int((sizes > GLOBAL_CASCADE).sum()))
    out["riot_fixed"] = str(int(_runs(res / "riot_fixed")["cascade_size"].iloc[0]))
    out["peer_nor"] = f"{round(100 * _share_withdrawn(res / 'baltic_peer08', 'NOR'))}"
    baseline = _runs(res / "baltic")
    out["baltic_exits"] = f"{baseline['n_withdrawn'].mean():.2f}"
    out["baltic_nor"] = f"{round(100 * _share_withdrawn(res / 'baltic', 'NOR'))}"
    comparison = json.loads((res / "ceasefire_compare" / "comparison.json").read_text())
    out["early_exits"] = f"{comparison['exits']['mean_a']['mean']:.2f}"
    out["late_exits"] = f"{comparison['exits']['mean_b']['mean']:.2f}"
    out["early_nor"] = f"{comparison['states']['NOR']['p_a']['p']:.0%}"
    out["late_nor"] = f"{comparison['states']['NOR']['p_b']['p']:.0%}"
    announced = comparison["states_announced"]["NOR"]
    out["early_nor_announced"] = f"{announced['p_a']['p']:.0%}"
    out["late_nor_announced"] = f"{announced['p_b']['p']:.0%}"
    for side in ("early", "late"):
        summary = json.loads((res / f"baltic_{side}" / "summary.json").read_text())
        nor = summary["treaties"]["ottawa"]["states"]["NOR"]["stages"]["announced"]
        out[f"{side}_nor_median"] = str(nor["median"])
    long = json.loads((res / "ceasefire_compare_long" / "comparison.json").read_text())
    out["early_long_nor"] = f"{long['states']['NOR']['p_a']['p']:.0%}"
    out["late_long_nor"] = f"{long['states']['NOR']['p_b']['p']:.0%}"
    out["early_long_exits"] = f"{long['exits']['mean_a']['mean']:.2f}"
    out["late_long_exits"] = f"{long['exits']['mean_b']['mean']:.2f}"
    return out


def quotes(values: dict[str, str]) -> dict[str, str]:
    """The sentences the tutorial must contain, with the computed numbers filled in."""
    return {key: template.format(**values) for key, template in QUOTES.items()}


def says(text: str, sentence: str) -> bool:
    """Whether a Markdown text contains a sentence (line breaks and indents count as spaces)."""
    return " ".join(sentence.split()) in " ".join(text.split())


# --------------------------------------------------------------------------------------------
# the figures


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def draw(work: Path, out: Path) -> list[Path]:
    """Draw the tutorial's figures from the run folders in ``work``; returns the files."""
    import pandas as pd
    from scipy.stats import norm

    from treatysim.plots.style import OKABE_ITO

    res = work / "results"
    out.mkdir(parents=True, exist_ok=True)
    files = []

    # part 1: rioters by round
    fig = _figure(6.5, 3.6)
    ax = fig.subplots()
    for name, label, colour in (
        ("riot", "thresholds 0, 1, 2, …, 99", OKABE_ITO["vermillion"]),
        ("riot_broken", "the same, but 1 → 2", OKABE_ITO["blue"]),
    ):
        events = pd.read_parquet(res / name / "events.parquet")
        steps = events.loc[events["stage"] == "announced", "step"].sort_values()
        rounds = np.arange(0, 121)
        ax.step(rounds, np.searchsorted(steps.to_numpy(), rounds, side="right"), where="post",
                color=colour, lw=2, label=label)  # fmt: skip
    ax.set_xlabel("round (day)")
    ax.set_ylabel("people rioting")
    ax.set_title("Granovetter's riot: one threshold changed by one")
    ax.grid(alpha=0.3)
    ax.legend()
    files.append(out / "riot.png")
    fig.savefig(files[-1])

    # part 2: F(x) against the diagonal, and the final share against the spread
    fig = _figure(9, 3.8)
    left, right = fig.subplots(1, 2)
    xs = np.linspace(0, 0.16, 401)
    left.plot(xs, xs, color="#555555", ls="--", lw=1, label="x = F(x)")
    for sd, colour in (("0.12", OKABE_ITO["blue"]), ("0.13", OKABE_ITO["vermillion"])):
        left.plot(xs, norm.cdf((xs - NORMAL_MEAN) / float(sd)), color=colour, lw=2,
                  label=f"F(x), sd = {sd}")  # fmt: skip
    left.set_xlabel("x: share acting")
    left.set_ylabel("F(x): share whose threshold ≤ x")
    x12 = fixed_point(0.12)
    left.scatter([x12], [x12], color=OKABE_ITO["blue"], zorder=4, s=30)
    left.annotate(f"x* ≈ {x12:.3f}", (x12, x12), xytext=(12, -4), textcoords="offset points")
    left.set_title("Near the origin: a fixed point, or none")
    left.legend()
    left.grid(alpha=0.3)
    grid = np.linspace(0.05, 0.25, 161)
    right.plot(grid, [fixed_point(s) for s in grid], color="#555555", lw=1.5,
               label="first fixed point of x = F(x)")  # fmt: skip
    for sd in SPREADS:
        sizes = _runs(res / _spread_key(sd))["cascade_size"] / 1000
        jitter = np.linspace(-0.002, 0.002, len(sizes))
        right.scatter(float(sd) + jitter, sizes, color=OKABE_ITO["vermillion"], s=18, zorder=3)
    right.scatter([], [], color=OKABE_ITO["vermillion"], s=18, label="runs (1,000 agents)")
    right.set_xlabel("spread of thresholds (sd)")
    right.set_ylabel("final share acting")
    right.set_title("The jump")
    right.legend(loc="center right")
    right.grid(alpha=0.3)
    files.append(out / "normal.png")
    fig.savefig(files[-1])

    # part 3: cascade sizes at mean degree 3 and 12
    fig = _figure(6.5, 3.6)
    ax = fig.subplots()
    bins = np.linspace(0, 1000, 21)
    for degree, colour in ((3, OKABE_ITO["vermillion"]), (12, OKABE_ITO["blue"])):
        sizes = _runs(res / f"watts_k{degree}")["cascade_size"]
        ax.hist(sizes, bins=bins, color=colour, alpha=0.7, label=f"mean degree {degree}")
    ax.set_xlabel("cascade size (agents that acted, of 1,000)")
    ax.set_ylabel("runs")
    ax.set_title("Watts: one seed, 20 random networks each")
    ax.legend()
    files.append(out / "watts.png")
    fig.savefig(files[-1])

    # part 4: the comparison plot `treatysim compare` drew
    files.append(out / "ceasefire_compare.png")
    shutil.copyfile(res / "ceasefire_compare" / "cascade_compare.png", files[-1])
    return files


def main(argv_: list[str] | None = None) -> int:
    """Run the tutorial's commands, check its quoted numbers, write its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    args = parser.parse_args(argv_)
    text = TUTORIAL.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        for ran in run_all(commands(text), work, args.jobs):
            status = "ok" if ran.returncode == 0 else f"exit {ran.returncode}"
            print(f"{status}: {ran.command}")
            if ran.returncode != 0:
                print(ran.output, file=sys.stderr)
                return 1
        values = numbers(work)
        print(json.dumps(values, indent=2))
        missing = [q for q in quotes(values).values() if not says(text, q)]
        for sentence in missing:
            print(f"tutorial.md does not say: {sentence}", file=sys.stderr)
        for path in draw(work, HERE):
            print(f"wrote {path.relative_to(HERE.parent.parent)}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
