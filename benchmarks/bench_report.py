"""Time of ``treatysim report`` against a minimal matplotlib script, measured side by side.

Prints, for the founding run (``ottawa_2025``, 200 replications) and a 1,000-agent teaching run
(``teaching/watts_cascade``, its own replications):
- the median wall time of ``treatysim report DIR`` as a fresh process;
- the median wall time of a minimal script, also a fresh process, that imports pandas and
  matplotlib, draws four simple figures (lines, bars, a histogram, a scatter of 1,000 points) and
  saves them as PNG at the report's resolution (treatysim.plots.style.DPI);
- their ratio, against the targets (founding ≤ 2×, 1,000 agents ≤ 3×): the median over the
  rounds of each report's CPU time divided by that of the minimal script run just after it
  (paired, so a change of load between rounds cancels), with its quartiles; the ratio of the
  two medians is printed too;
- the one-minute load average before and after (the machine may be shared);
- the CPU seconds (user + system) of each, and their ratio: on a loaded, shared machine the wall
  time mostly measures waiting for a core, the CPU time what each process did;
- with ``--baseline-python PY``, the same report made by another installation (e.g. main's
  venv), interleaved with the rest, for a before/after on the same machine at the same time.

The runs are made once (``treatysim run ... --no-report``) into a scratch folder; the report and
the minimal script then run interleaved, ``--repeats`` times each, so that load changes touch
both alike.

Bytecode: the timed processes cache compiled modules (``PYTHONPYCACHEPREFIX`` in the scratch
folder, ``PYTHONDONTWRITEBYTECODE`` unset for them) and each command runs once untimed first, as
on any ordinary installation after its first run. Without this, an environment that sets
``PYTHONDONTWRITEBYTECODE`` (this sandbox does) recompiles treatysim's ~70 source modules in
every report process (≈ 0.3 s CPU), a cost the minimal script, which has no modules of its own,
never pays. ``--no-bytecode-cache`` measures that way instead.

Usage: python benchmarks/bench_report.py [--repeats R] [--work DIR] [--baseline-python PY]
"""

from __future__ import annotations

import argparse
import os
import resource
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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of a fresh process (output discarded; a failure stops the run)."""
    cpu, start = _children_cpu(), time.perf_counter()
    subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    return time.perf_counter() - start, _children_cpu() - cpu


def main() -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timings of each (default: 5)")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument(
        "--baseline-python",
        type=Path,
        help="also time the report made by this interpreter's treatysim (default: none)",
    )
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="time processes with the environment as it is, bytecode caching included or not "
        "(default: cache bytecode in the scratch folder, one untimed run of each first)",
    )
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
    commands = {
        f"report {label}": [*treatysim(), "report", str(f), "-q"] for label, f in folders.items()
    }
    if args.baseline_python:
        for label, f in folders.items():
            commands[f"baseline {label}"] = [
                str(args.baseline_python), "-m", "treatysim", "report", str(f), "-q",
            ]  # fmt: skip
    env = None
    if not args.no_bytecode_cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        for command in [*commands.values(), minimal]:  # untimed: compiles and caches bytecode
            timed(command, env)
    load_before = os.getloadavg()[0]
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    times["minimal script"] = []
    paired: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.repeats):
        for name, command in commands.items():
            times[name].append(timed(command, env))
            times["minimal script"].append(timed(minimal, env))
            # the CPU ratio against the minimal script timed just after it: a change of load
            # between rounds touches both timings of a pair alike
            paired[name].append(times[name][-1][1] / times["minimal script"][-1][1])
    load_after = os.getloadavg()[0]

    def medians(name: str) -> tuple[float, float]:
        return (
            statistics.median(w for w, _ in times[name]),
            statistics.median(c for _, c in times[name]),
        )

    base_wall, base_cpu = medians("minimal script")
    print(
        f"cores: {os.cpu_count()}; load average (1 min): {load_before:.2f} before, "
        f"{load_after:.2f} after; {args.repeats} repeats each, interleaved; medians; bytecode "
        + ("as the environment has it" if args.no_bytecode_cache else "cached")
    )
    print(
        f"{'':<24}{'wall s':>8}{'÷ min.':>8}{'CPU s':>8}{'÷ min.':>8}"
        f"{'paired ÷ [quartiles]':>24}{'target':>8}"
    )
    for name in ["minimal script", *commands]:
        wall, cpu = medians(name)
        label = name.split(" ", 1)[1] if " " in name else name
        target = TARGETS.get(label)
        pairs, verdict = "", ""
        if name in paired:
            q1, _, q3 = statistics.quantiles(paired[name], n=4) if args.repeats > 1 else [0] * 3
            ratio = statistics.median(paired[name])
            pairs = f"{ratio:.2f}× [{q1:.2f}, {q3:.2f}]"
            if target is not None:
                verdict = f"{target:>7.0f}× " + ("met" if ratio <= target else "NOT met")
                verdict += " (paired CPU)"
        print(
            f"{name:<24}{wall:>8.2f}{wall / base_wall:>7.2f}×{cpu:>8.2f}"
            f"{cpu / base_cpu:>7.2f}×{pairs:>24}{verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
