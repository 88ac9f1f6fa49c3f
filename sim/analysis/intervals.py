"""Confidence intervals: proportions (Wilson, Newcombe) and means (Student t, Welch).

Pure functions of numbers and arrays; :mod:`treatysim.analysis.stats` builds the run statistics
on them. The normal quantile comes from the standard library and Student's t quantile from
:func:`t_quantile` (the regularised incomplete beta function, by continued fraction, inverted
by bisection): no SciPy, whose import costs more than a second of a report.
"""

from __future__ import annotations

import math
from functools import cache
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "mean_interval",
    "newcombe_difference",
    "proportion",
    "t_quantile",
    "welch_difference",
    "wilson_interval",
]


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz's method)."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b), for 0 ≤ x ≤ 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def _t_upper(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` degrees of freedom, t ≥ 0."""
    return 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))


@cache
def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` > 0 degrees of freedom (whole or not).

    Agrees with ``scipy.stats.t.ppf`` to about 1e-8 (tests/test_stats.py).
    """
    if not 0.0 < p < 1.0 or df <= 0:
        raise ValueError(f"t_quantile needs 0 < p < 1 and df > 0 (got {p}, {df})")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    tail = 1.0 - p
    lo, hi = 0.0, max(1.0, NormalDist().inv_cdf(p))
    while _t_upper(hi, df) > tail:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if _t_upper(mid, df) > tail:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * hi:
            break
    return 0.5 * (lo + hi)


@cache
def _z(confidence: float) -> float:
    """The two-sided normal quantile of ``0.5 + confidence / 2`` (1.96 for 95%)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(k: ArrayLike, n: ArrayLike, confidence: float = 0.95) -> tuple[Any, Any]:
    """Wilson score interval for a binomial proportion k/n.

    ``centre ± half`` with ``centre = (p + z²/2n) / (1 + z²/n)`` and
    ``half = z·sqrt(p(1−p)/n + z²/4n²) / (1 + z²/n)``, where ``z`` is the normal quantile of
    ``0.5 + confidence/2``. Unlike the Wald interval it stays inside [0, 1] and keeps close to
    its nominal coverage for small n and for p near 0 or 1.

    Args:
        k: Successes (scalar or array; non-integers are allowed, e.g. half-counted ties).
        n: Trials (scalar or array, broadcast against ``k``).
        confidence: Two-sided confidence level.

    Returns:
        ``(lower, upper)``: floats for scalar input, arrays otherwise; NaN where ``n == 0``.
    """
    k_arr, n_arr = np.broadcast_arrays(np.asarray(k, dtype=float), np.asarray(n, dtype=float))
    z = _z(confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k_arr / n_arr
        denom = 1.0 + z * z / n_arr
        centre = (p + z * z / (2 * n_arr)) / denom
        half = z * np.sqrt(p * (1 - p) / n_arr + z * z / (4 * n_arr * n_arr)) / denom
    # exact ends: the bound is 0 at k = 0 and 1 at k = n (rounding would leave 1e-16 off)
    lower = np.where(k_arr <= 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    upper = np.where(k_arr >= n_arr, 1.0, np.clip(centre + half, 0.0, 1.0))
    lower, upper = (np.where(n_arr > 0, b, np.nan) for b in (lower, upper))
    if lower.ndim == 0:
        return float(lower), float(upper)
    return lower, upper


def proportion(k: float, n: int, confidence: float = 0.95) -> dict[str, Any]:
    """A proportion with its Wilson interval: ``{"p", "lo", "hi", "k", "n"}`` (p None if n=0)."""
    lo, hi = wilson_interval(k, n, confidence)
    return {
        "p": k / n if n else None,
        "lo": None if np.isnan(lo) else lo,
        "hi": None if np.isnan(hi) else hi,
        "k": k,
        "n": n,
    }


def newcombe_difference(
    k1: float, n1: int, k2: float, n2: int, confidence: float = 0.95
) -> dict[str, Any]:
    """Difference ``p2 − p1`` of two independent proportions with Newcombe's hybrid score CI.

    Newcombe (1998), method 10: with Wilson intervals ``(l1, u1)`` and ``(l2, u2)``, the bounds
    are ``d − sqrt((p2−l2)² + (u1−p1)²)`` and ``d + sqrt((u2−p2)² + (p1−l1)²)``.
    """
    if n1 == 0 or n2 == 0:
        return {"diff": None, "lo": None, "hi": None}
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, confidence)
    l2, u2 = wilson_interval(k2, n2, confidence)
    d = p2 - p1
    return {
        "diff": d,
        "lo": d - float(np.hypot(p2 - l2, u1 - p1)),
        "hi": d + float(np.hypot(u2 - p2, p1 - l1)),
    }


def mean_interval(values: ArrayLike, confidence: float = 0.95) -> dict[str, Any]:
    """Mean with a Student-t interval ``mean ± t(n−1)·sd/√n`` (NaNs dropped).

    For non-negative data (counts) the lower bound is clipped at 0, the least possible mean.

    Returns ``{"mean", "lo", "hi", "sd", "n"}``; the bounds are None for fewer than two values
    and equal to the mean when every value is the same.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return {"mean": None, "lo": None, "hi": None, "sd": None, "n": 0}
    mean = float(x.mean())
    if n < 2:
        return {"mean": mean, "lo": None, "hi": None, "sd": None, "n": n}
    sd = float(x.std(ddof=1))
    half = t_quantile(0.5 + confidence / 2, n - 1) * sd / np.sqrt(n)
    lo = max(mean - half, 0.0) if x.min() >= 0 else mean - half
    return {"mean": mean, "lo": lo, "hi": mean + half, "sd": sd, "n": n}


def welch_difference(a: ArrayLike, b: ArrayLike, confidence: float = 0.95) -> dict[str, Any]:
    """``mean(b) − mean(a)`` with Welch's t interval (unequal variances, Satterthwaite df)."""
    xa, xb = (np.asarray(v, dtype=float) for v in (a, b))
    xa, xb = xa[~np.isnan(xa)], xb[~np.isnan(xb)]
    if xa.size < 2 or xb.size < 2:
        return {"diff": None, "lo": None, "hi": None, "df": None, "se": None}
    diff = float(xb.mean() - xa.mean())
    va, vb = xa.var(ddof=1) / xa.size, xb.var(ddof=1) / xb.size
    se = float(np.sqrt(va + vb))
    if se == 0:
        return {"diff": diff, "lo": diff, "hi": diff, "df": None, "se": 0.0}
    df = float((va + vb) ** 2 / (va**2 / (xa.size - 1) + vb**2 / (xb.size - 1)))
    half = t_quantile(0.5 + confidence / 2, df) * se
    return {"diff": diff, "lo": diff - half, "hi": diff + half, "df": df, "se": se}
