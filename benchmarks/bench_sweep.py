"""Sweep throughput and the parent's memory: 1 vs 2 local workers, Dask, 2k vs 20k runs.

Every measurement runs in a fresh Python process, so the start-up of worker pools and clusters
counts and the parent's peak RSS (``ru_maxrss``) belongs to that measurement alone. A sweep is
a grid over ``parameters.threat.sensitivity`` of the founding scenario (ottawa_2025) with 100
replications per point and no time series; runs/s is runs divided by the wall time of
``run_sweep`` (pool start-up, execution, shard writes and consolidation; no plots).

    python benchmarks/bench_sweep.py              # 2,000-run measurements (~1 min on 2 cores)
    python benchmarks/bench_sweep.py --repeat 3   # interleaved rounds; the fastest counts
    python benchmarks/bench_sweep.py --big        # also the 20,000-run memory measurement

Targets: 2 workers / 1 worker ≥ 1.7, Dask / local pool ≥ 0.8, RSS(20k) / RSS(2k) ≤ 1.2.
Other work on the machine distorts the numbers, so the load average and a machine check (the
speed-up of two processes over one on a plain Python loop, before and after) are printed with
them: the 2-worker target can only be met when the machine check is near 2.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPLICATIONS = 100


def sweep_text(runs: int) -> str:
    points = max(2, runs // REPLICATIONS)
    base = ROOT / "scenarios" / "ottawa_2025.yaml"
    return f"""\
schema_version: 1
name: bench_sweep
base: {base}
factors:
  - name: sensitivity
    path: parameters.threat.sensitivity
    low: 2.0
    high: 4.0
    levels: {points}
design: {{type: grid}}
replications: {REPLICATIONS}
outcomes: [cascade_size]
thresholds: [3]
seed: 1
timeseries: none
"""


def child(mode: str, runs: int) -> None:
    """One measurement: run the sweep and print seconds, runs and the peak RSS as JSON."""
    from treatysim.run.sweep import SweepOptions, run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sweep.yaml"
        path.write_text(sweep_text(runs), encoding="utf-8")
        kind, workers = {"one": ("local", 1), "pool": ("local", 2), "dask": ("dask", 2)}[mode]
        start = time.perf_counter()
        summary = run_sweep(
            path, SweepOptions(out=Path(tmp) / "out", workers=workers, executor_kind=kind)
        )
        wall = time.perf_counter() - start
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "runs": summary.runs,
                "failed": summary.failed,
                "wall": wall,
                "execution": summary.seconds,
                "rss_mb": rss_kb / 1024,
                "executor": summary.executor,
            }
        )
    )


def measure(mode: str, runs: int) -> dict[str, float | str]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--runs", str(runs)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    result: dict[str, float | str] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def row(label: str, r: dict[str, float | str]) -> str:
    runs, wall, execution = int(r["runs"]), float(r["wall"]), float(r["execution"])
    return (
        f"{runs:>7,}  {label:<28} {wall:>8.1f} {runs / wall:>9.1f} {runs / execution:>11.1f}"
        f" {float(r['rss_mb']):>10.1f}"
    )


def _spin(n: int) -> float:
    start = time.perf_counter()
    total = 0
    for i in range(n):
        total += i * i % 7
    return time.perf_counter() - start


def machine_speedup(n: int = 5_000_000) -> float:
    """Speed-up of two processes over one on a pure-Python loop: what this machine allows now."""
    from concurrent.futures import ProcessPoolExecutor

    serial = _spin(n) + _spin(n)
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_spin, [1000, 1000]))
        start = time.perf_counter()
        list(pool.map(_spin, [n, n]))
        parallel = time.perf_counter() - start
    return serial / parallel


LABELS = {
    "one": "in-process (1 worker)",
    "pool": "local pool (2 workers)",
    "dask": "dask LocalCluster (2 workers)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=list(LABELS), help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=2000, help="runs of the throughput sweeps")
    parser.add_argument("--big", action="store_true", help="also measure RSS at 10x the runs")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of the throughput measurements, interleaved; the fastest of each counts",
    )
    args = parser.parse_args()
    if args.child:
        child(args.child, args.runs)
        return
    print("treatysim sweep benchmark: ottawa_2025, timeseries none, grid over threat sensitivity")
    print(f"cores: {os.cpu_count()}; load average before: {os.getloadavg()[0]:.2f}")
    print(f"machine check: 2 processes / 1 on a pure-Python loop: {machine_speedup():.2f}x")
    head = f"{'runs':>7}  {'executor':<28} {'wall s':>8} {'runs/s':>9} {'exec runs/s':>11}"
    print(f"{head} {'RSS MB':>10}")
    modes = ["one", "pool"] + ([] if args.skip_dask else ["dask"])
    results: dict[str, list[dict[str, float | str]]] = {m: [] for m in modes}
    for _ in range(args.repeat):
        for mode in modes:
            results[mode].append(measure(mode, args.runs))
            print(row(LABELS[mode], results[mode][-1]), flush=True)
    best = {m: min(rs, key=lambda r: float(r["wall"])) for m, rs in results.items()}
    big = None
    if args.big:
        big = measure("pool", 10 * args.runs)
        print(row(LABELS["pool"], big), flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"machine check after: {machine_speedup():.2f}x")

    def rate(r: dict[str, float | str]) -> float:
        return int(r["runs"]) / float(r["wall"])

    print("ratios" + (f" (fastest of {args.repeat} rounds)" if args.repeat > 1 else "") + ":")
    print(f"  2 workers / 1 worker:  {rate(best['pool']) / rate(best['one']):.2f}  (target >= 1.7)")
    if "dask" in best:
        dask_ratio = rate(best["dask"]) / rate(best["pool"])
        print(f"  dask / local pool:     {dask_ratio:.2f}  (target >= 0.8)")
    if big is not None:
        ratio = float(big["rss_mb"]) / float(results["pool"][0]["rss_mb"])
        sizes = f"RSS({int(big['runs']):,}) / RSS({int(results['pool'][0]['runs']):,})"
        print(f"  {sizes}: {ratio:.2f}  (target <= 1.2)")


if __name__ == "__main__":
    main()
