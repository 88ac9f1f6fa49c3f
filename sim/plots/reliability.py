"""Reliability diagram of a backtest: predicted probability against observed frequency.

Draws the tables of :func:`treatysim.analysis.reliability.reliability_table`, one per forecast
(the model and the null models, binned alike), on a ``matplotlib.figure.Figure`` made without
pyplot, in the Okabe–Ito palette, like the run's figures (:mod:`treatysim.plots.run`). The top
panel shows each bin's observed frequency at its mean predicted probability, with the Wilson
interval, against the diagonal of perfect reliability; the bottom panel the number of states per
bin.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from treatysim.plots import style

DPI = 150
#: Okabe & Ito (2008), in the order forecasts are drawn (the model first).
COLOURS = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def reliability_plot(
    tables: Mapping[str, pd.DataFrame], base: Path, *, title: str = "", svg: bool = False
) -> list[Path]:
    """Write ``base.png`` (and ``base.svg``): the reliability diagram of several forecasts.

    Args:
        tables: Forecast name → its reliability table (the same bins for every forecast).
        base: Output path without suffix.
        title: Figure title.
        svg: Also write SVG.

    Returns:
        The paths written.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 7), dpi=DPI, layout="constrained")
    top, bottom = fig.subplots(2, 1, height_ratios=(3, 1), sharex=True)
    top.plot([0, 1], [0, 1], color="#999999", lw=1, ls="--", label="perfectly reliable")
    n_forecasts = max(len(tables), 1)
    width = 1.0 / n_forecasts
    for i, (name, table) in enumerate(tables.items()):
        colour, marker = COLOURS[i % len(COLOURS)], MARKERS[i % len(MARKERS)]
        full = table[table["n"] > 0]
        x = full["mean_predicted"].to_numpy(dtype=float)
        y = full["observed_frequency"].to_numpy(dtype=float)
        err = np.vstack(
            [y - full["observed_lower"].to_numpy(float), full["observed_upper"].to_numpy(float) - y]
        )
        top.errorbar(
            x, y, yerr=err, color=colour, marker=marker, ms=6, lw=1.2, capsize=3, label=name
        )
        centres = ((table["lower"] + table["upper"]) / 2).to_numpy(dtype=float)
        widths = (table["upper"] - table["lower"]).to_numpy(dtype=float) * width * 0.9
        offsets = (i - (n_forecasts - 1) / 2) * widths / 0.9
        bottom.bar(centres + offsets, table["n"], width=widths, color=colour, alpha=0.8)
    top.set_xlim(0, 1)
    top.set_ylim(-0.02, 1.02)
    top.set_ylabel("observed frequency (95% Wilson interval)")
    top.set_title(f"{title}\nreliability: moved to leave by the horizon", fontsize=10)
    top.grid(alpha=0.3)
    top.legend(fontsize=8, loc="upper left")
    bottom.set_xlabel("predicted probability")
    bottom.set_ylabel("states")
    bottom.grid(axis="y", alpha=0.3)
    return style.save(fig, base, svg=svg)
