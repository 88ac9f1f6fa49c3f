"""Scenario discovery: which regions of a sweep's factor space produce the outcome of interest.

Two views of the same question, each returned as plain JSON-ready dicts:

- **PRIM**, the Patient Rule Induction Method (Friedman & Fisher 1999), used for scenario
  discovery as Bryant & Lempert (2010) describe it. PRIM peels thin slices off a box around the
  whole factor space, each time the slice whose removal raises the share of cases of interest
  inside the box the most, and records every step: *coverage* (the share of all cases of interest
  that fall in the box), *density* (the share of cases in the box that are of interest) and
  *mass* (the share of all cases in the box). The analyst picks one box on that peeling
  trajectory; :func:`prim_box` picks by a stated rule (:func:`choose_step`: near the highest
  density reachable with coverage at least ``min_coverage``, the box with the most coverage).
  Each restriction of the chosen box carries its *quasi-p value* (Bryant & Lempert 2010): a
  one-sided binomial test of the box's cases of interest against the density of the box with
  that restriction removed; a large value means the restriction adds little.
- **CART** (Breiman et al. 1984), a small classification tree whose leaves are boxes too, read as
  rules; it is a second opinion, not a replacement (Lempert et al. 2008 compare both).

PRIM is EMA Workbench's (Kwakkel 2017), ``ema_workbench.analysis.prim``, version 3. Why this one
and not the ``prim`` package (Project Platypus, 1.0.0), which was tried too and gives the same
trajectory on the planted-box test (it is a fork of the same code):

- License: EMA Workbench is BSD-3-Clause, compatible with treatysim's MIT; ``prim`` is GPL-3.0,
  which would bind anyone who distributes treatysim with it.
- Maintenance and API: EMA Workbench 3.0 (2025) requires Python ≥ 3.12 and is typed; its PRIM
  dropped the built-in ``threshold`` (the cases of interest are a boolean ``y``, which is how
  :func:`treatysim.analysis.condition.parse_where` feeds it) and leaves the choice of box to the
  user, as here. ``prim`` last released in 2024 and still takes a threshold.
- Weight: EMA Workbench is the heavier install (scikit-learn, statsmodels, seaborn,
  platypus-opt, tqdm; its import takes seconds). scikit-learn is needed for CART and feature
  scoring anyway, and both live in the optional ``explore`` extra, imported only when used.

Install with ``pip install "treatysim[explore]"``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from treatysim.analysis.condition import Condition
from treatysim.analysis.scoring import feature_scores

#: Coverage the chosen PRIM box must keep, by default (Bryant & Lempert 2010 report boxes of
#: coverage and density near 0.8 as good scenarios).
MIN_COVERAGE = 0.8
#: Density the chosen box may give up for more coverage (see :func:`choose_step`).
DENSITY_TOLERANCE = 0.02
#: Quasi-p value at or below which a restriction counts as significant.
SIGNIFICANCE = 0.05
#: CART's default depth: three questions make a rule a reader can hold in mind.
CART_DEPTH = 3


def _number(value: Any) -> float | None:
    """A finite float, or None for NaN, infinities and EMA's "not restricted" marker (-1)."""
    result = float(value)
    return result if math.isfinite(result) and result >= 0 else None


def prepare_factors(factors: pd.DataFrame) -> pd.DataFrame:
    """Factor columns in the types PRIM handles: numbers as float64, everything else as text.

    EMA Workbench treats non-numeric columns as categorical. Integer columns are converted to
    float64 too: EMA Workbench 3.0.0 fails on int64 factors under pandas 3 when pasting writes a
    half-way limit such as 2.5 into an integer column (quaquel/EMAworkbench#448, fixed after
    3.0.0 by #451), and a limit between two integers reads just as well. Booleans become the
    categories ``"True"`` and ``"False"``.

    Args:
        factors: One row per case, one column per factor.

    Returns:
        A copy with a fresh 0..n-1 index.
    """
    out: dict[str, pd.Series] = {}
    for name in factors.columns:
        column = factors[name]
        if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
            out[str(name)] = column.astype(str)
        else:
            out[str(name)] = column.astype("float64")
    return pd.DataFrame(out).reset_index(drop=True)


def _cases(y: ArrayLike, rows: int) -> NDArray[np.bool_]:
    flags = np.asarray(y)
    if flags.shape != (rows,):
        raise ValueError(f"y has shape {flags.shape}; expected ({rows},), one flag per row of X")
    if flags.dtype != bool:
        raise ValueError(f"y must be boolean (cases of interest), got dtype {flags.dtype}")
    if not flags.any():
        raise ValueError("no case of interest: the condition holds in none of the rows")
    return flags


def choose_step(
    trajectory: Sequence[dict[str, Any]],
    min_coverage: float,
    density_tolerance: float = DENSITY_TOLERANCE,
) -> int:
    """The step of a peeling trajectory to report, by a stated rule.

    Among the steps with coverage ≥ ``min_coverage``, find the highest density; then, among the
    steps whose density is within ``density_tolerance`` of it, take the one with the highest
    coverage (ties: fewer restricted factors, higher density, the earlier step). The tolerance
    plays the part of CART's one-standard-error rule (Breiman et al. 1984): the last peels of a
    trajectory often raise density by shaving off a few noisy cases while losing real coverage,
    so the rule prefers the larger box when the gain in density is within the tolerance. With a
    tolerance of 0 it is plainly "the densest box with at least that coverage". Step 0 (the whole
    space, coverage 1) always qualifies, so a step is always found.

    Args:
        trajectory: Rows with ``coverage``, ``density`` and ``restricted``.
        min_coverage: The lowest acceptable coverage, in [0, 1].
        density_tolerance: How much density to give up for coverage, in [0, 1].

    Returns:
        The index of the chosen row.
    """
    eligible = [i for i, row in enumerate(trajectory) if row["coverage"] >= min_coverage - 1e-12]
    densest = max(trajectory[i]["density"] for i in eligible)
    near = [i for i in eligible if trajectory[i]["density"] >= densest - density_tolerance - 1e-12]
    return min(
        near,
        key=lambda i: (
            -trajectory[i]["coverage"],
            trajectory[i]["restricted"],
            -trajectory[i]["density"],
            i,
        ),
    )


def _restriction(
    name: str, limits: pd.Series, initial: pd.Series, quasi_p: Sequence[float], alpha: float
) -> dict[str, Any]:
    qp_sides = [_number(v) for v in quasi_p]
    worst = max((v for v in qp_sides if v is not None), default=None)
    common = {"factor": name, "quasi_p": worst, "significant": worst is not None and worst <= alpha}
    if isinstance(limits.iloc[0], set | frozenset):
        return {
            **common,
            "kind": "categorical",
            "values": sorted(str(v) for v in limits.iloc[0]),
            "all_values": sorted(str(v) for v in initial.iloc[0]),
        }
    return {
        **common,
        "kind": "numeric",
        "min": float(limits.iloc[0]),
        "max": float(limits.iloc[1]),
        "range_min": float(initial.iloc[0]),
        "range_max": float(initial.iloc[1]),
        "quasi_p_min": qp_sides[0],
        "quasi_p_max": qp_sides[1],
    }


def prim_box(
    factors: pd.DataFrame,
    y: ArrayLike,
    *,
    min_coverage: float = MIN_COVERAGE,
    density_tolerance: float = DENSITY_TOLERANCE,
    peel_alpha: float = 0.05,
    paste_alpha: float = 0.05,
    mass_min: float = 0.05,
    significance: float = SIGNIFICANCE,
) -> dict[str, Any]:
    """Find the first PRIM box for the cases of interest ``y`` (Friedman & Fisher 1999).

    Runs EMA Workbench's PRIM (lenient1 objective, default update) once, keeps the whole peeling
    and pasting trajectory, and reports the box chosen by :func:`choose_step`.

    Args:
        factors: One row per case (sweep point or run), one column per factor.
        y: One boolean per row: True for a case of interest.
        min_coverage: The chosen box keeps at least this coverage (see :func:`choose_step`).
        density_tolerance: Density the chosen box may give up for coverage.
        peel_alpha: Share of the box's cases peeled off per step (Friedman & Fisher's α).
        paste_alpha: Share of cases added back per pasting step.
        mass_min: PRIM stops peeling when the box would hold less than this share of all cases.
        significance: A restriction is ``significant`` when its quasi-p value is at most this.

    Returns:
        ``{"method", "parameters", "n", "cases_of_interest", "base_density", "trajectory",
        "chosen_step", "selection_rule", "box"}``. ``trajectory`` is a list of ``{"step",
        "coverage", "density", "mass", "restricted", "n", "k"}`` (``restricted``: the number of
        restricted factors, ``k``: cases of interest in the box). ``box`` holds ``coverage``,
        ``density``, ``mass``, ``n``, ``k`` and ``restrictions``, one dict per restricted factor
        with ``factor``, ``kind``, ``quasi_p`` (the larger of its sides' values),
        ``significant`` and, for a numeric factor, ``min``, ``max``, ``range_min``,
        ``range_max``, ``quasi_p_min``, ``quasi_p_max`` (None for an unrestricted side), or for a
        categorical one, ``values`` and ``all_values``.

    Raises:
        ValueError: If ``y`` is not one boolean per row or holds no case of interest.
        ImportError: If EMA Workbench is not installed (the ``explore`` extra).
    """
    x = prepare_factors(factors)
    flags = _cases(y, len(x))
    with warnings.catch_warnings():
        # EMA Workbench warns at import about optional packages (ipyparallel, altair) it does not
        # need for PRIM.
        warnings.simplefilter("ignore")
        import ema_workbench
        from ema_workbench.analysis import prim

        algorithm = prim.Prim(
            x, flags, peel_alpha=peel_alpha, paste_alpha=paste_alpha, mass_min=mass_min
        )
        box = algorithm.find_box()
    table = box.peeling_trajectory
    trajectory = [
        {
            "step": i,
            "coverage": float(table["coverage"].iloc[i]),
            "density": float(table["density"].iloc[i]),
            "mass": float(table["mass"].iloc[i]),
            "restricted": int(table["res_dim"].iloc[i]),
            "n": int(table["n"].iloc[i]),
            "k": int(table["k"].iloc[i]),
        }
        for i in range(len(table))
    ]
    chosen = choose_step(trajectory, min_coverage, density_tolerance)
    limits, initial = box.box_lims[chosen], box.box_lims[0]
    restrictions = [
        _restriction(name, limits[name], initial[name], quasi_p, significance)
        for name, quasi_p in box.p_values[chosen].items()
    ]
    stats = {k: v for k, v in trajectory[chosen].items() if k not in ("step", "restricted")}
    return {
        "method": f"PRIM (EMA Workbench {ema_workbench.__version__}, lenient1 objective)",
        "parameters": {
            "peel_alpha": peel_alpha,
            "paste_alpha": paste_alpha,
            "mass_min": mass_min,
            "min_coverage": min_coverage,
            "density_tolerance": density_tolerance,
            "significance": significance,
        },
        "n": len(x),
        "cases_of_interest": int(flags.sum()),
        "base_density": float(flags.mean()),
        "trajectory": trajectory,
        "chosen_step": chosen,
        "selection_rule": (
            f"of the boxes with coverage >= {min_coverage:g}, the one with the highest coverage "
            f"whose density is within {density_tolerance:g} of the highest density"
        ),
        "box": {**stats, "restrictions": restrictions},
    }


def _encoded(x: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns as they are; categorical ones one-hot (``name=value``) for a tree."""
    categorical = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]
    if not categorical:
        return x
    return pd.get_dummies(x, columns=categorical, prefix_sep="=", dtype=float)


def _leaf_rules(tree: Any, names: Sequence[str]) -> dict[int, list[dict[str, Any]]]:
    """Each leaf's path from the root, merged into one interval per factor."""
    inner = tree.tree_
    rules: dict[int, list[dict[str, Any]]] = {}

    def walk(node: int, bounds: dict[str, list[float]]) -> None:
        left, right = inner.children_left[node], inner.children_right[node]
        if left == right:  # a leaf
            rules[node] = [
                {
                    "factor": f,
                    "min": None if lo == -math.inf else lo,
                    "max": hi if hi < math.inf else None,
                }
                for f, (lo, hi) in bounds.items()
            ]
            return
        name, cut = names[inner.feature[node]], float(inner.threshold[node])
        lo, hi = bounds.get(name, [-math.inf, math.inf])
        walk(left, {**bounds, name: [lo, min(hi, cut)]})  # sklearn: left is x <= threshold
        walk(right, {**bounds, name: [max(lo, cut), hi]})

    walk(0, {})
    return rules


def _rule_text(rule: Sequence[dict[str, Any]]) -> str:
    parts = []
    for r in rule:
        if r["min"] is not None:
            parts.append(f"{r['factor']} > {r['min']:.6g}")
        if r["max"] is not None:
            parts.append(f"{r['factor']} <= {r['max']:.6g}")
    return " and ".join(parts) or "(everything)"


def cart_rules(
    factors: pd.DataFrame,
    y: ArrayLike,
    *,
    max_depth: int = CART_DEPTH,
    min_leaf_share: float = 0.01,
    seed: int = 0,
) -> dict[str, Any]:
    """A small classification tree (CART; Breiman et al. 1984) read as box rules, densest first.

    Args:
        factors: One row per case, one column per factor; categorical columns are one-hot
            encoded as ``factor=value`` (a rule ``factor=value > 0.5`` means "is that value").
        y: One boolean per row: True for a case of interest.
        max_depth: Depth of the tree (at most ``2**max_depth`` leaves).
        min_leaf_share: Smallest leaf, as a share of all rows.
        seed: ``random_state`` of scikit-learn's tree (it breaks ties between equal splits).

    Returns:
        ``{"method", "parameters", "n", "cases_of_interest", "text", "leaves"}``: ``text`` is
        scikit-learn's ``export_text`` drawing; ``leaves`` a list, densest first, of ``{"rule",
        "conditions", "n", "k", "coverage", "density", "mass"}`` where ``conditions`` holds one
        ``{"factor", "min", "max"}`` interval per factor on the path (``min < x <= max``, None for
        an open end) and ``rule`` is the same as text.

    Raises:
        ValueError: If ``y`` is not one boolean per row or holds no case of interest.
        ImportError: If scikit-learn is not installed (the ``explore`` extra).
    """
    from sklearn.tree import DecisionTreeClassifier, export_text

    x = _encoded(prepare_factors(factors))
    flags = _cases(y, len(x))
    names = [str(c) for c in x.columns]
    tree = DecisionTreeClassifier(
        max_depth=max_depth,
        min_samples_leaf=max(1, math.ceil(min_leaf_share * len(x))),
        random_state=seed,
    )
    tree.fit(x.to_numpy(dtype=float), flags)
    leaf_of_row = tree.apply(x.to_numpy(dtype=float))
    total = int(flags.sum())
    leaves: list[dict[str, Any]] = []
    for leaf, rule in _leaf_rules(tree, names).items():
        inside = leaf_of_row == leaf
        n, k = int(inside.sum()), int(flags[inside].sum())
        leaves.append(
            {
                "rule": _rule_text(rule),
                "conditions": rule,
                "n": n,
                "k": k,
                "coverage": k / total,
                "density": k / n if n else 0.0,
                "mass": n / len(x),
            }
        )
    leaves.sort(key=lambda leaf: (-leaf["density"], -leaf["coverage"]))
    return {
        "method": "CART (scikit-learn DecisionTreeClassifier)",
        "parameters": {"max_depth": max_depth, "min_leaf_share": min_leaf_share, "seed": seed},
        "n": len(x),
        "cases_of_interest": total,
        "text": export_text(tree, feature_names=names, decimals=4),
        "leaves": leaves,
    }


def discover(
    table: pd.DataFrame,
    *,
    factors: Sequence[str],
    outcome: str,
    where: Condition,
    min_coverage: float = MIN_COVERAGE,
    density_tolerance: float = DENSITY_TOLERANCE,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
    cart_depth: int = CART_DEPTH,
    seed: int = 0,
) -> dict[str, Any]:
    """Scenario discovery on a table: PRIM, CART and feature scores for ``outcome where``.

    What ``treatysim discover SWEEP_DIR --outcome NAME --where EXPR`` computes, on a table of
    point means or of single runs. Rows whose outcome is missing (failed runs) are left out and
    counted, not read as "not of interest".

    Args:
        table: One row per case with the factor columns and the outcome column.
        factors: The factor columns to explain the outcome with.
        outcome: The outcome column.
        where: The condition that makes a case one of interest, e.g. ``parse_where(">= 7")``.
        min_coverage: See :func:`prim_box`.
        density_tolerance: See :func:`prim_box`.
        peel_alpha: See :func:`prim_box`.
        mass_min: See :func:`prim_box`.
        cart_depth: Depth of the CART tree.
        seed: Seed of the tree and of the feature scores.

    Returns:
        ``{"outcome", "where", "rows", "rows_without_outcome", "cases_of_interest", "prim",
        "cart", "feature_scores"}``: ``prim`` as :func:`prim_box` returns it, ``cart`` as
        :func:`cart_rules`, ``feature_scores`` a list of ``{"factor", "score", "rank"}`` (extra
        trees on the cases of interest), all JSON-ready.

    Raises:
        ValueError: On missing columns or when no row is of interest.
    """
    missing = [c for c in (*factors, outcome) if c not in table.columns]
    if missing:
        raise ValueError(f"columns not in the table: {', '.join(missing)}")
    values = pd.to_numeric(table[outcome], errors="coerce").astype(float)
    known = values.notna().to_numpy()
    x = table.loc[known, list(factors)].reset_index(drop=True)
    y = where.holds(values[known].to_numpy())
    scores = feature_scores(x, y, seed=seed)
    return {
        "outcome": outcome,
        "where": str(where),
        "rows": int(known.sum()),
        "rows_without_outcome": int((~known).sum()),
        "cases_of_interest": int(y.sum()),
        "prim": prim_box(
            x,
            y,
            min_coverage=min_coverage,
            density_tolerance=density_tolerance,
            peel_alpha=peel_alpha,
            mass_min=mass_min,
        ),
        "cart": cart_rules(x, y, max_depth=cart_depth, seed=seed),
        "feature_scores": [
            {"factor": str(factor), "score": float(score), "rank": int(rank)}
            for factor, score, rank in zip(
                scores["factor"].tolist(),
                scores["score"].astype(float).tolist(),
                scores["rank"].astype(int).tolist(),
                strict=True,
            )
        ],
    }
