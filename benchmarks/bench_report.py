"""Time of ``treatysim report`` against a minimal matplotlib script, measured side by side.

Prints, for the founding run (``ottawa_2025``, 200 replications) and a 1,000-agent teaching run
(``teaching/watts_cascade``, its own replications):
- the median wall time of ``treatysim report DIR`` as a fresh process;
- the median wall time of a minimal script, also a fresh process, that imports pandas and
  matplotlib, draws four simple figures (lines, bars, a histogram, a scatter of 1,000 points) and
  saves them as PNG at the report's resolution (treatysim.plots.style.DPI);
- their ratio, against the targets (founding ≤ 2×, 1,000 agents ≤ 3×);
- the one-minute load average before and after (the machine may be shared).

The runs are made once (``treatysim run ... --no-report``) into a scratch folder; the report and
the minimal script then run interleaved, ``--repeats`` times each, so that load changes touch
both alike.

Usage: python benchmarks/bench_report.py [--repeats R] [--work DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: The targets of issue 13: report time ÷ minimal script time.
TARGETS = {"founding": 2.0, "1,000 agents": 3.0}
RUNS = {
    "founding": ["ottawa_2025"],
    "1,000 agents": ["teaching/watts_cascade"],
}

MINIMAL = """
import sys
import numpy as np
import pandas as pd
import matplotlib
matplotlib.use("Agg")
from matplotlib.figure import Figure

dpi, out = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(1)
frame = pd.DataFrame({"x": np.arange(150), "y": rng.random(150).cumsum()})
for n in range(4):
    fig = Figure(figsize=(7, 4), dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    if n == 0:
        ax.plot(frame["x"], frame["y"])
    elif n == 1:
        ax.bar(range(30), rng.random(30))
    elif n == 2:
        ax.hist(rng.normal(size=1000), bins=40)
    else:
        ax.scatter(rng.random(1000), rng.random(1000), s=4)
    ax.set_title(f"figure {n}")
    fig.savefig(f"{out}/fig{n}.png", dpi=dpi)
"""


def treatysim() -> list[str]:
    """The console script next to this Python, else ``python -m treatysim``."""
    script = Path(sys.executable).parent / "treatysim"
    return [str(script)] if script.exists() else [sys.executable, "-m", "treatysim"]


def timed(command: list[str]) -> float:
    """Wall seconds of a fresh process (its output discarded; a failure stops the benchmark)."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timings of each (default: 5)")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    args = parser.parse_args()
    from treatysim.plots.style import DPI

    work = args.work or Path(tempfile.mkdtemp(prefix="bench_report_"))
    work.mkdir(parents=True, exist_ok=True)
    script = work / "minimal.py"
    script.write_text(MINIMAL, encoding="utf-8")
    (work / "minimal_out").mkdir(exist_ok=True)
    minimal = [sys.executable, str(script), str(DPI), str(work / "minimal_out")]
    folders = {}
    for label, scenario in RUNS.items():
        folder = work / label.replace(",", "").replace(" ", "_")
        if not (folder / "manifest.json").is_file():
            print(f"making the {label} run ({scenario[0]}) ...", flush=True)
            run = [*treatysim(), "run", *scenario, "--out", str(folder), "--no-report", "-q"]
            subprocess.run(run, check=True, stdout=subprocess.DEVNULL)
        folders[label] = folder
    load_before = os.getloadavg()[0]
    times: dict[str, list[float]] = {label: [] for label in folders}
    times["minimal"] = []
    for _ in range(args.repeats):
        for label, folder in folders.items():
            times[label].append(timed([*treatysim(), "report", str(folder)]))
            times["minimal"].append(timed(minimal))
    load_after = os.getloadavg()[0]
    base = statistics.median(times["minimal"])
    print(
        f"cores: {os.cpu_count()}; load average (1 min): {load_before:.2f} before, "
        f"{load_after:.2f} after; {args.repeats} repeats each, interleaved; medians"
    )
    print(f"{'':<20}{'median s':>9}{'min s':>8}{'÷ minimal':>11}{'target':>8}")
    print(f"{'minimal script':<20}{base:>9.2f}{min(times['minimal']):>8.2f}{'1.0×':>11}")
    for label in folders:
        median = statistics.median(times[label])
        ratio = median / base
        verdict = "met" if ratio <= TARGETS[label] else "NOT met"
        print(
            f"{'report ' + label:<20}{median:>9.2f}{min(times[label]):>8.2f}"
            f"{ratio:>10.1f}×{TARGETS[label]:>6.0f}× {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
