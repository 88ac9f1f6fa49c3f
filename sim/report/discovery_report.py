"""``treatysim discover``: scenario discovery on a sweep folder, written to ``discovery/``.

Reads stored tables only (``manifest.json``, ``design.parquet``, ``runs.parquet``) and writes
``discovery/discovery.json`` (PRIM's peeling trajectory, the chosen box's limits, coverage,
density, mass and each restriction's quasi-p value; CART's rules; feature scores),
``cart_rules.txt`` and the figures ``prim_trajectory.png``, ``prim_box.png``,
``cart_leaves.png`` and ``feature_scores.png``. The sweep report's sections are in
:mod:`treatysim.report.explore_report`.

Date factors are given to PRIM, CART and the feature scores as decimal years (2025.5 is about
the first of July 2025), so a box limit reads as a date.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from treatysim.analysis.condition import parse_where
from treatysim.analysis.discovery import discover
from treatysim.plots.explore import (
    cart_leaves_plot,
    feature_scores_plot,
    prim_box_plot,
    prim_tradeoff_plot,
)
from treatysim.results.store import (
    DESIGN,
    INCOMPLETE,
    MANIFEST,
    RUNS,
    StoreError,
    write_json,
    write_text,
)
from treatysim.scenario.sweep import DATE_OUTCOMES

#: The folder ``treatysim discover`` writes inside a sweep folder.
DISCOVERY = "discovery"
DISCOVERY_JSON = "discovery.json"
#: The one line shown when the optional libraries are missing.
INSTALL_EXPLORE = 'pip install "treatysim[explore]"'


class DiscoveryError(ValueError):
    """Bad input to scenario discovery (an unknown outcome, a condition no case meets)."""


def missing_explore(modules: tuple[str, ...] = ("ema_workbench", "sklearn")) -> str | None:
    """The one-line message when EMA Workbench or scikit-learn is missing, else None.

    Args:
        modules: The modules needed (scenario discovery needs both; feature scoring only
            ``sklearn``).
    """
    import importlib
    import warnings

    for module in modules:
        try:
            with warnings.catch_warnings():  # EMA Workbench warns about optional packages
                warnings.simplefilter("ignore")
                importlib.import_module(module)
        except ImportError:
            return (
                f"scenario discovery and feature scoring need EMA Workbench and scikit-learn "
                f"({module} is not installed): {INSTALL_EXPLORE}"
            )
    return None


def sweep_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a complete sweep folder.

    Raises:
        StoreError: Not a sweep folder, an incomplete one, or a missing table.
    """
    path = folder / MANIFEST
    if not path.is_file():
        raise StoreError(f"{folder}: not a sweep folder (no {MANIFEST})")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("kind") != "sweep":
        raise StoreError(f"{folder}: not a sweep folder (manifest kind {manifest.get('kind')!r})")
    if (folder / INCOMPLETE).exists():
        raise StoreError(f"{folder}: the sweep is incomplete; finish it with --resume")
    for name in (RUNS, DESIGN):
        if not (folder / name).is_file():
            raise StoreError(f"{folder}: missing {name}")
    return manifest


def _decimal_year(value: Any) -> float:
    if isinstance(value, dt.date):
        start = dt.date(value.year, 1, 1).toordinal()
        length = dt.date(value.year + 1, 1, 1).toordinal() - start
        return value.year + (value.toordinal() - start) / length
    return float("nan")


def factor_frame(design: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """The design's factor columns, dates as decimal years, indexed by point."""
    out = {}
    for label in labels:
        column = design[label]
        if column.dtype == object and len(column) and isinstance(column.iloc[0], dt.date):
            out[label] = column.map(_decimal_year).astype(float)
        else:
            out[label] = column
    return pd.DataFrame(out, index=design["point"].to_numpy())


def case_table(
    folder: Path, manifest: dict[str, Any], outcome: str, on: str
) -> tuple[pd.DataFrame, list[str]]:
    """One row per point (its mean over ok runs) or per run, with the factors and the outcome.

    Raises:
        DiscoveryError: An outcome the runs table does not hold as a number.
    """
    import pyarrow.parquet as pq

    columns = pq.read_schema(folder / RUNS).names
    numeric = [
        c
        for c in columns
        if c not in ("run_id", "point", "replication", "seed", "status", "error", "seconds")
        and not c.startswith(DATE_OUTCOMES)
    ]
    if outcome not in numeric:
        raise DiscoveryError(f"--outcome: unknown outcome '{outcome}'; one of {', '.join(numeric)}")
    runs = pd.read_parquet(folder / RUNS, columns=["point", "status", outcome])
    values = pd.to_numeric(runs[outcome], errors="coerce").where(runs["status"] == "ok")
    labels = [f["name"] for f in manifest["factors"]]
    factors = factor_frame(pd.read_parquet(folder / DESIGN), labels)
    if on == "points":
        means = values.groupby(runs["point"]).mean().reindex(factors.index)
        table = factors.assign(**{outcome: means.to_numpy()})
    else:
        table = factors.loc[runs["point"].to_numpy()].reset_index(drop=True)
        table[outcome] = values.to_numpy()
    return table.reset_index(drop=True), labels


@dataclass
class DiscoverySettings:
    """The options of ``treatysim discover`` (see its ``--help``)."""

    outcome: str
    where: str
    on: str = "points"
    min_coverage: float = 0.8
    density_tolerance: float = 0.02
    peel_alpha: float = 0.05
    mass_min: float = 0.05
    cart_depth: int = 3
    seed: int = 0
    svg: bool = False


def write_discovery(folder: Path | str, settings: DiscoverySettings) -> Path:
    """Run PRIM, CART and feature scoring on a sweep folder and write ``discovery/``.

    Returns:
        The path of ``discovery/discovery.json``.

    Raises:
        StoreError: Not a complete sweep folder.
        DiscoveryError: A bad ``--where``, an unknown outcome, no case (or only cases) of
            interest.
    """
    folder = Path(folder)
    manifest = sweep_manifest(folder)
    try:
        condition = parse_where(settings.where)
    except ValueError as exc:
        raise DiscoveryError(f"--where: {exc}") from None
    table, labels = case_table(folder, manifest, settings.outcome, settings.on)
    flags = condition.holds(table[settings.outcome].to_numpy(dtype=float))
    known = int(table[settings.outcome].notna().sum())
    if not flags.any() or flags.sum() == known:
        what = "none" if not flags.any() else "all"
        raise DiscoveryError(
            f"--where: {settings.outcome} {condition} holds in {what} of the {known} "
            f"{settings.on}; nothing to tell apart"
        )
    result = discover(
        table,
        factors=labels,
        outcome=settings.outcome,
        where=condition,
        min_coverage=settings.min_coverage,
        density_tolerance=settings.density_tolerance,
        peel_alpha=settings.peel_alpha,
        mass_min=settings.mass_min,
        cart_depth=settings.cart_depth,
        seed=settings.seed,
    )
    result["on"] = settings.on
    result["sweep"] = manifest["sweep_name"]
    result["date_factors"] = "given as decimal years (2025.5 ≈ 1 July 2025)"
    out = folder / DISCOVERY
    out.mkdir(exist_ok=True)
    files = prim_tradeoff_plot(result["prim"], out / "prim_trajectory", svg=settings.svg)
    files += prim_box_plot(result["prim"], out / "prim_box", svg=settings.svg)
    files += cart_leaves_plot(result["cart"], out / "cart_leaves", svg=settings.svg)
    scores = pd.DataFrame(result["feature_scores"])
    files += feature_scores_plot(
        scores, out / "feature_scores", outcome=f"{settings.outcome} {condition}", svg=settings.svg
    )
    result["plots"] = [p.relative_to(folder).as_posix() for p in files]
    write_text(out / "cart_rules.txt", result["cart"]["text"])
    write_json(out / DISCOVERY_JSON, result)
    return out / DISCOVERY_JSON
