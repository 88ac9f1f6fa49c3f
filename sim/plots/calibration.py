"""Plots of a calibration folder: marginals, pairs, the posterior predictive check, diagnostics.

- ``marginals.png``: each parameter's prior density against its posterior (an
  importance-weighted histogram of the last generation), with the posterior's 90% interval;
- ``pairs.png``: the posterior particles for each pair of parameters (point area ∝ weight);
- ``ppc.png``: each target's observed value against the posterior predictive 50% and 90%
  intervals of its statistic (from ``ppc.parquet``), in units of the target's scale;
- ``diagnostics.png``: epsilon, acceptance rate and effective sample size per generation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import TypeAdapter

from treatysim.calibration.generation import weighted_quantile
from treatysim.calibration.priors import frozen
from treatysim.calibration.store import posterior, read_manifest
from treatysim.plots import style
from treatysim.plots.style import OKABE_ITO
from treatysim.scenario.calibration import Prior

PLOTS = "plots"


POST = OKABE_ITO["blue"]
PRIOR = OKABE_ITO["orange"]
OBSERVED = OKABE_ITO["vermillion"]


def _save(fig: Any, path: Path) -> Path:
    return style.save(fig, path.with_suffix(""))[0]


def _short(name: str) -> str:
    """A key path shortened for axis labels (its last two parts)."""
    return ".".join(name.split(".")[-2:])


def marginals(post: pd.DataFrame, priors: Mapping[str, Prior], path: Path) -> Path:
    """Prior density against weighted posterior histogram, one panel per parameter."""
    names = list(priors)
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig = style.figure(4.2 * cols, 3.0 * rows)
    axes = fig.subplots(rows, cols, squeeze=False)
    w = post["weight"].to_numpy(dtype=float)
    for ax, name in zip(axes.flat, names, strict=False):
        values = post[name].to_numpy(dtype=float)
        dist = frozen(priors[name])
        lo, hi = dist.ppf(0.001), dist.ppf(0.999)
        grid = np.linspace(min(lo, values.min()), max(hi, values.max()), 200)
        ax.hist(values, bins=30, weights=w, density=True, color=POST, alpha=0.6,
                label="posterior")  # fmt: skip
        ax.plot(grid, dist.pdf(grid), color=PRIOR, lw=2, label="prior")
        q05, q95 = (weighted_quantile(values, w, a) for a in (0.05, 0.95))
        ax.axvspan(q05, q95, color=POST, alpha=0.12, label="90% interval")
        ax.set_title(_short(name), fontsize=10)
        ax.set_yticks([])
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle("Prior and posterior of each parameter")
    return _save(fig, path)


def pairs(post: pd.DataFrame, names: Sequence[str], path: Path) -> Path:
    """Scatter of the posterior particles for each pair of parameters (area ∝ weight)."""
    names = list(names)
    k = len(names)
    size = max(1.6, min(3.0, 14 / max(k, 1)))
    fig = style.figure(size * k, size * k)
    axes = fig.subplots(k, k, squeeze=False)
    w = post["weight"].to_numpy(dtype=float)
    area = 60 * w / w.max()
    for i, yi in enumerate(names):
        for j, xj in enumerate(names):
            ax = axes[i, j]
            if i == j:
                ax.hist(post[xj], bins=25, weights=w, color=POST, alpha=0.7)
            elif i > j:
                ax.scatter(post[xj], post[yi], s=area, alpha=0.35, color=POST, lw=0)
            else:
                ax.set_visible(False)
            ax.tick_params(labelsize=6)
            if i == k - 1:
                ax.set_xlabel(_short(xj), fontsize=7)
            if j == 0 and i > 0:
                ax.set_ylabel(_short(yi), fontsize=7)
    fig.suptitle("Posterior particles, pairwise (area proportional to weight)")
    return _save(fig, path)


def predictive(
    ppc: pd.DataFrame, observed: Mapping[str, float], scales: Mapping[str, float], path: Path
) -> Path:
    """Each target's observed value against the predictive 50% and 90% intervals (in scales)."""
    names = list(observed)
    fig = style.figure(7.5, 0.45 * len(names) + 1.5)
    ax = fig.subplots()
    for y, name in enumerate(names):
        sim = (ppc[name].to_numpy(dtype=float) - observed[name]) / scales[name]
        q05, q25, q50, q75, q95 = np.quantile(sim, [0.05, 0.25, 0.5, 0.75, 0.95])
        ax.plot([q05, q95], [y, y], color=POST, lw=2, alpha=0.5)
        ax.plot([q25, q75], [y, y], color=POST, lw=6)
        ax.plot([q50], [y], "o", color="white", mec=POST, ms=5)
    ax.axvline(0, color=OBSERVED, lw=1.5, label="observed")
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("(simulated − observed) / scale")
    ax.set_title("Posterior predictive check: 50% and 90% intervals; red: the observed value")
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path)


def diagnostics(gens: pd.DataFrame, path: Path) -> Path:
    """Epsilon, acceptance rate, and ESS (pyabc) or distinct particles (built-in) per generation.

    The built-in engine's particles have equal weights, so their ESS is the population size and
    says nothing; how many of them are distinct (not copies no move has changed) does.
    """
    moves = "accepted_moves" in gens and gens["accepted_moves"].notna().any()
    spread, spread_title = (
        ("distinct", "distinct particles") if moves else ("ess", "effective sample size")
    )
    fig = style.figure(11, 3)
    axes = fig.subplots(1, 3)
    for ax, col, title in zip(
        axes,
        ["epsilon", "acceptance_rate", spread],
        [
            "epsilon (distance threshold)",
            "move acceptance rate" if moves else "acceptance rate",
            spread_title,
        ],
        strict=True,
    ):
        ax.plot(gens["generation"], gens[col], "o-", color=POST)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("generation")
    axes[1].set_yscale("log")
    if moves:
        axes[2].set_ylim(0, float(gens["n_accepted"].max()) * 1.05)
    return _save(fig, path)


def write_calibration_plots(folder: Path | str) -> list[Path]:
    """Draw every plot of a calibration folder into ``folder/plots``; returns their paths."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    adapter: TypeAdapter[Prior] = TypeAdapter(Prior)
    priors = {n: adapter.validate_python(p) for n, p in manifest["priors"].items()}
    post = posterior(folder)
    out = folder / PLOTS
    paths = [marginals(post, priors, out / "marginals.png")]
    if len(priors) > 1:
        paths.append(pairs(post, list(priors), out / "pairs.png"))
    if (folder / "ppc.parquet").exists():
        ppc = pd.read_parquet(folder / "ppc.parquet")
        scales = manifest["distance"]["scales"]
        paths.append(predictive(ppc, manifest["observed"], scales, out / "ppc.png"))
    gens = pd.read_parquet(folder / "generations.parquet")
    paths.append(diagnostics(gens, out / "diagnostics.png"))
    return paths
