"""Replications that are enough: the stopping rule behind ``treatysim run --precision H``.

A run reports probabilities (that a state exits, that the cascade reaches k states), each with a
Wilson (1927) 95% score interval (:func:`treatysim.analysis.intervals.wilson_interval`). With
``--precision H`` replications are added in seeded blocks until every reported interval's
half-width is at most ``H``, or a cap is reached. The rule is checked only at block boundaries,
so the result is the same as a fixed run of the final size (sequential fixed-width intervals in
the manner of Chow & Robbins 1965; Law 2015, ch. 9, for simulation output).

The half-width reported here is ``(upper − lower) / 2`` of the Wilson interval: for an observed
share ``p`` of ``n`` it is ``z·sqrt(p(1−p)/n + z²/4n²) / (1 + z²/n)``, largest at ``p = 0.5``
(so about ``(z / 2H)²`` replications are enough whatever the probabilities are).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from treatysim.analysis.intervals import wilson_interval
from treatysim.scenario.types import MOVED_STAGES

if TYPE_CHECKING:
    from treatysim.model.world import World


def half_width(k: ArrayLike, n: ArrayLike, confidence: float = 0.95) -> np.ndarray:
    """Half the width of the Wilson interval of ``k`` successes in ``n`` trials (NaN if n = 0).

    Args:
        k: Successes (scalar or array).
        n: Trials (broadcast against ``k``).
        confidence: Two-sided confidence level.

    Returns:
        An array of half-widths, the shape of ``k`` and ``n`` broadcast.
    """
    lower, upper = wilson_interval(np.atleast_1d(k), np.atleast_1d(n), confidence)
    return (np.asarray(upper) - np.asarray(lower)) / 2.0


@dataclass(frozen=True)
class PrecisionCheck:
    """The stopping rule's verdict after ``n`` replications.

    Attributes:
        n: Replications so far.
        widest: The probability with the widest interval (None if there are none).
        max_half_width: That interval's half-width (0 if there are no probabilities).
        reached: Every half-width is at most the target.
        capped: Not reached, and the cap forbids another block.
        next_n: The replications to run to next (``n + block``), or None when stopping.
    """

    n: int
    widest: str | None
    max_half_width: float
    reached: bool
    capped: bool
    next_n: int | None


def check_precision(
    successes: Mapping[str, int],
    n: int,
    *,
    target: float,
    block: int,
    cap: int | None = None,
    confidence: float = 0.95,
) -> PrecisionCheck:
    """Decide whether a run of ``n`` replications is precise enough, or how far to go on.

    Args:
        successes: For each reported probability (by name), how many of the ``n`` replications
            had the event.
        n: Replications run so far (a multiple of ``block`` when called at block boundaries).
        target: The largest acceptable Wilson half-width ``H``, in (0, 0.5].
        block: Replications per added block.
        cap: The most replications allowed (None: no cap).
        confidence: Two-sided confidence level of the intervals.

    Returns:
        The verdict; stop when ``next_n`` is None.

    Raises:
        ValueError: On a target outside (0, 0.5], a block below 1, n below 1, or counts outside
            0..n.
    """
    if not 0.0 < target <= 0.5:
        raise ValueError(f"the target half-width must be in (0, 0.5], got {target}")
    if block < 1 or n < 1:
        raise ValueError(f"block and n must be at least 1, got block={block}, n={n}")
    bad = [name for name, k in successes.items() if not 0 <= k <= n]
    if bad:
        raise ValueError(f"counts outside 0..{n}: {', '.join(bad)}")
    names = list(successes)
    widest: int | None = None
    max_width = 0.0
    if names:
        widths = half_width([successes[name] for name in names], n, confidence)
        widest = int(np.argmax(widths))
        max_width = float(widths[widest])
    # a tolerance of 1e-12 so that an n computed to meet the target exactly is not rejected
    reached = max_width <= target + 1e-12
    capped = not reached and cap is not None and n + block > cap
    return PrecisionCheck(
        n=n,
        widest=names[widest] if widest is not None else None,
        max_half_width=max_width,
        reached=reached,
        capped=capped,
        next_n=None if reached or capped else n + block,
    )


def replications_for(p: float, target: float, *, block: int = 1, confidence: float = 0.95) -> int:
    """The fewest replications (a multiple of ``block``) whose Wilson half-width at p is ≤ target.

    Setting the half-width ``z·sqrt(pq/n + z²/4n²) / (1 + z²/n)`` equal to ``H`` and squaring
    gives the quadratic ``H²n² + (2H²z² − z²pq)·n + z⁴(H² − 1/4) = 0``, whose larger root is the
    crossing point (the half-width falls as n grows). The root is rounded up to whole blocks and
    checked against :func:`half_width`.

    Args:
        p: The true (and observed) probability, in [0, 1].
        target: The half-width ``H``, in (0, 0.5].
        block: Replications per block.
        confidence: Two-sided confidence level.

    Returns:
        The smallest multiple of ``block`` that reaches the target.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be within [0, 1], got {p}")
    if not 0.0 < target <= 0.5:
        raise ValueError(f"the target half-width must be in (0, 0.5], got {target}")
    z2 = NormalDist().inv_cdf(0.5 + confidence / 2) ** 2
    a, b, c = target**2, 2 * target**2 * z2 - z2 * p * (1 - p), z2 * z2 * (target**2 - 0.25)
    root = (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    n = max(block, math.ceil(max(root, 1.0) / block) * block)

    def meets(size: int) -> bool:
        return float(half_width(p * size, size, confidence)[0]) <= target + 1e-12

    while not meets(n):  # guard against rounding at the root
        n += block
    while n > block and meets(n - block):
        n -= block
    return n


def stopping_size(
    outcomes: Mapping[str, ArrayLike],
    *,
    target: float,
    block: int,
    cap: int | None = None,
    confidence: float = 0.95,
) -> PrecisionCheck:
    """Apply the stopping rule to per-replication 0/1 outcomes, block by block, and stop.

    The function a test (or a report) uses to replay ``--precision`` on stored replications:
    replication ``i`` of every array belongs to the same run, in seed order.

    Args:
        outcomes: For each reported probability, one boolean per replication (all equally long).
        target: The largest acceptable Wilson half-width.
        block: Replications per block.
        cap: The most replications allowed; the arrays' length caps it too.
        confidence: Two-sided confidence level.

    Returns:
        The verdict at the block where the rule stopped (``capped`` when it ran out).
    """
    arrays = {name: np.asarray(v, dtype=bool) for name, v in outcomes.items()}
    lengths = {a.shape[0] for a in arrays.values()}
    if len(lengths) != 1:
        raise ValueError("every outcome needs the same number of replications")
    available = lengths.pop()
    limit = available if cap is None else min(cap, available)
    cumulative = {name: np.cumsum(a) for name, a in arrays.items()}
    n = block
    while True:
        if n > available:
            raise ValueError(f"{available} replications are too few for a block of {block}")
        counts = {name: int(c[n - 1]) for name, c in cumulative.items()}
        verdict = check_precision(
            counts, n, target=target, block=block, cap=limit, confidence=confidence
        )
        if verdict.next_n is None:
            return verdict
        n = verdict.next_n


def precision_path(
    outcomes: Mapping[str, ArrayLike], *, block: int, confidence: float = 0.95
) -> pd.DataFrame:
    """Each probability's estimate and interval after every block: the report's convergence table.

    Args:
        outcomes: For each reported probability, one boolean per replication, in seed order.
        block: Replications per block.
        confidence: Two-sided confidence level.

    Returns:
        A tidy DataFrame with columns ``name``, ``n``, ``p``, ``lower``, ``upper`` and
        ``half_width``, one row per probability and block boundary.
    """
    rows = []
    for name, values in outcomes.items():
        cumulative = np.cumsum(np.asarray(values, dtype=bool))
        sizes = np.arange(block, cumulative.shape[0] + 1, block)
        k = cumulative[sizes - 1]
        lower, upper = wilson_interval(k, sizes, confidence)
        rows.append(
            pd.DataFrame(
                {
                    "name": name,
                    "n": sizes,
                    "p": k / sizes,
                    "lower": lower,
                    "upper": upper,
                    "half_width": (np.asarray(upper) - np.asarray(lower)) / 2.0,
                }
            )
        )
    columns = ["name", "n", "p", "lower", "upper", "half_width"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)


def headline_outcomes(
    runs: pd.DataFrame, events: pd.DataFrame, states: Sequence[str], treaty: str
) -> dict[str, np.ndarray]:
    """The 0/1 outcome behind each probability the stopping rule watches, per ok replication.

    The headline probabilities of a run's report for its primary treaty: each state's
    probability of moving to leave (announcing an exit or suspending, ``P(ISO3 moves)``) and the
    probability that the cascade reaches at least k states (``P(cascade >= k)``, for k from 1 to
    the largest cascade seen). Only ok replications count, in replication order.

    Args:
        runs: The runs table (``run_id``, ``replication``, ``status``, ``cascade_size``).
        events: The events table (``run_id``, ``iso3``, ``treaty``, ``stage``).
        states: The states whose probability of moving is reported (the treaty's parties).
        treaty: The primary treaty.

    Returns:
        For each probability's name, one boolean per ok replication.
    """
    ok = runs[runs["status"] == "ok"].sort_values("replication")
    position = {str(r): i for i, r in enumerate(ok["run_id"])}
    moved = events[
        (events["treaty"].astype(str) == treaty)
        & events["stage"].astype(str).isin(MOVED_STAGES)
        & events["run_id"].astype(str).isin(position)
    ]
    pairs = moved[["run_id", "iso3"]].astype(str).drop_duplicates()
    index = {s: j for j, s in enumerate(states)}
    matrix = np.zeros((len(ok), len(states)), dtype=bool)
    rows = np.array([position[r] for r in pairs["run_id"]], dtype=np.int64)
    cols = np.array([index.get(s, -1) for s in pairs["iso3"]], dtype=np.int64)
    keep = cols >= 0
    matrix[rows[keep], cols[keep]] = True
    size = ok["cascade_size"].to_numpy(dtype=np.int64)  # the primary treaty's outcome
    out = {f"P({s} moves)": matrix[:, j] for j, s in enumerate(states)}
    for k in range(1, int(size.max(initial=0)) + 1):
        out[f"P(cascade >= {k})"] = size >= k
    return out


def headline_judge(
    target: float, confidence: float = 0.95
) -> Callable[[pd.DataFrame, pd.DataFrame, World], tuple[bool, str | None, float]]:
    """The check ``--precision`` runs after each block, on the headline probabilities.

    Args:
        target: The largest acceptable Wilson half-width.
        confidence: Two-sided confidence level.

    Returns:
        A function of (runs, events, world) giving (every half-width ≤ target and at least one
        ok run, the widest probability's name, its half-width).
    """

    def judge(
        runs: pd.DataFrame, events: pd.DataFrame, world: World
    ) -> tuple[bool, str | None, float]:
        treaty = world.scenario.primary_treaty
        k = world.treaties.index(treaty)
        parties = [s for i, s in enumerate(world.ids) if world.party[i, k]]
        flags = headline_outcomes(runs, events, parties, treaty)
        n_ok = int((runs["status"] == "ok").sum())
        if n_ok == 0:
            return False, None, 0.5
        counts = {name: int(v.sum()) for name, v in flags.items()}
        verdict = check_precision(counts, n_ok, target=target, block=1, confidence=confidence)
        return verdict.reached, verdict.widest, verdict.max_half_width

    return judge


def precision_text(record: dict[str, Any]) -> str:
    """One line for the terminal and the summary: reached, or the cap said plainly."""
    widest = f"widest: {record['widest']} ± {record['max_half_width']:.3f}"
    if record["reached"]:
        return (
            f"precision: every headline probability within ± {record['target']:g} after "
            f"{record['final_n']:,} replications ({widest})"
        )
    return (
        f"precision NOT reached: stopped at the cap of {record['cap']:,} replications "
        f"({record['final_n']:,} run; {widest}, target ± {record['target']:g})"
    )
