"""The withdrawal pipeline: party → deliberating → announced → approved → notified → withdrawn.

Besides these, ``retracted`` (the attempt ended: retraction or a failed vote) and ``suspended``
(suspension of the treaty's operation, Ukraine's 2025 move). Stage codes are small integers so the
stage of every state in every treaty is one integer array; ``NOT_PARTY`` marks states that never
were parties.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from treatysim.scenario.schema import STAGES

NOT_PARTY = -1
CODE = {name: code for code, name in enumerate(STAGES)}
PARTY, DELIBERATING, ANNOUNCED, APPROVED, NOTIFIED, WITHDRAWN, RETRACTED, SUSPENDED = (
    CODE[s] for s in STAGES
)
#: Stages in which a state counts as having moved (announced or left) for its peers.
MOVED = (ANNOUNCED, APPROVED, NOTIFIED, WITHDRAWN, SUSPENDED)
#: Stages from which a state may retract.
RETRACTABLE = (ANNOUNCED, APPROVED, NOTIFIED)


assert set(MOVED) == set(range(ANNOUNCED, len(STAGES))) - {RETRACTED}
assert tuple(range(ANNOUNCED, NOTIFIED + 1)) == RETRACTABLE


def moved(stage: NDArray[np.integer]) -> NDArray[np.bool_]:
    """Where a state counts as having moved (announced or left): two comparisons, not np.isin."""
    return (stage >= ANNOUNCED) & (stage != RETRACTED)


def _retractable(stage: NDArray[np.integer]) -> NDArray[np.bool_]:
    return (stage >= ANNOUNCED) & (stage <= NOTIFIED)


def _bit(code: int) -> int:
    return 1 << (code + 1)


#: Stages whose states may move without a new decision.
_IN_MOTION = _bit(DELIBERATING) | _bit(ANNOUNCED) | _bit(APPROVED) | _bit(NOTIFIED)


def _present(stage: NDArray[np.integer]) -> int:
    """The stages that occur anywhere, as bits (``_bit(code)``)."""
    if stage.size <= 512:  # counting is cheapest on small arrays
        counts = np.bincount(stage.ravel() + 1, minlength=len(STAGES) + 1).tolist()
        return sum(1 << i for i, c in enumerate(counts) if c)
    shifted = np.left_shift(1, stage + 1, dtype=np.int16)
    return int(np.bitwise_or.reduce(shifted, axis=None))


#: Stage codes: int64 in the Mesa model, int8 in the batched engine.
IntArray = NDArray[np.signedinteger[Any]]
BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]


@dataclass
class Transition:
    """States that entered a stage during a step."""

    mask: BoolArray
    stage: int


@dataclass
class StepDraws:
    """Uniform draws for one step, one per state and treaty for each random choice.

    Every step has all of them, whether used or not, so two scenarios run with the same seed
    share their random numbers (common random numbers) and differ only by what they change.
    They are drawn up front for the whole run (see :mod:`treatysim.model.draws`).
    """

    deliberation: FloatArray
    vote_timing: FloatArray
    vote_outcome: FloatArray
    deposit: FloatArray
    retraction: FloatArray

    @classmethod
    def of(cls, uniforms: FloatArray) -> StepDraws:
        """The step's draws from its uniforms, shape (5, ..., n, k), in the field order."""
        return cls(uniforms[0], uniforms[1], uniforms[2], uniforms[3], uniforms[4])


def advance(
    stage: IntArray,
    wants_exit: BoolArray,
    wants_retract: BoolArray,
    draws: StepDraws,
    *,
    p_deliberation: FloatArray,
    p_vote: FloatArray,
    pass_probability: FloatArray,
    p_deposit: FloatArray,
    p_retraction: FloatArray | float,
    bloc: IntArray,
    n_blocs: int,
    in_conflict: BoolArray,
    blocks_exit: BoolArray,
    effective_reached: BoolArray,
) -> list[Transition]:
    """Move states along the pipeline for one step, in place.

    Every array may have leading batch axes (replications): per-state arrays of shape (..., n)
    and per-state-and-treaty arrays of shape (..., n, k).

    Args:
        stage: Stage codes, shape (..., n, k); updated in place.
        wants_exit: The rule's exit decision, shape (n, k).
        wants_retract: The rule's retraction decision, shape (n, k).
        draws: This step's uniforms.
        p_deliberation: Probability of announcing this step, shape (n,).
        p_vote: Probability that parliament votes this step, shape (n,).
        pass_probability: Probability that a vote passes, shape (n,).
        p_deposit: Probability of depositing this step, shape (n,).
        p_retraction: Probability of retracting this step, for those who want to (a number, or
            shape (..., 1, 1) per replication).
        bloc: Deposit bloc of each state or -1, shape (n,).
        n_blocs: Number of blocs.
        in_conflict: Engaged in armed conflict, shape (n,).
        blocks_exit: Per treaty: armed conflict blocks exit (Ottawa Art. 20(3)), shape (k,).
        effective_reached: The notice period has run out by the end of this step, shape (n, k).

    Returns:
        The transitions, in the order they happened.
    """
    out: list[Transition] = []
    # Most states sit still most steps: skip every rule whose source stage is empty. A stage
    # emptied during the step still counts as present: its rule then finds nobody.
    present = _present(stage)
    if not present & _IN_MOTION and not (present & _bit(PARTY) and wants_exit.any()):
        return out

    def has(code: int) -> int:
        return present & _bit(code)

    def move(mask: BoolArray, to: int) -> None:
        nonlocal present
        if mask.any():
            stage[mask] = to
            out.append(Transition(mask, to))
            present |= _bit(to)

    col = (..., None)  # per-state arrays broadcast over treaties
    conflict_blocks = in_conflict[col] & blocks_exit

    # (each rule first checks whether anyone is concerned: with a batch of replications, most
    # of a step's work is elementwise, and most rules concern nobody in most steps)
    if (has(ANNOUNCED) or has(APPROVED) or has(NOTIFIED)) and wants_retract.any():
        retracting = _retractable(stage) & wants_retract
        if retracting.any():
            move(retracting & (draws.retraction < p_retraction), RETRACTED)
    if has(PARTY) and wants_exit.any():
        move((stage == PARTY) & wants_exit, DELIBERATING)
    if has(DELIBERATING):
        deliberating = (stage == DELIBERATING) & wants_exit
        if deliberating.any():
            announcing = deliberating & (draws.deliberation < p_deliberation[col])
            if conflict_blocks.any():
                # A state that could not leave while at war suspends the treaty instead
                # (Ukraine, 2025).
                move(announcing & conflict_blocks, SUSPENDED)
                move(announcing & ~conflict_blocks, ANNOUNCED)
            else:
                move(announcing, ANNOUNCED)
    if has(ANNOUNCED):
        voting = (stage == ANNOUNCED) & (draws.vote_timing < p_vote[col])
        if voting.any():
            passes = draws.vote_outcome < pass_probability[col]
            move(voting & passes, APPROVED)
            move(voting & ~passes, RETRACTED)
    if has(APPROVED):
        depositing = _depositing(stage, draws.deposit < p_deposit[col], bloc, n_blocs)
        move(depositing, NOTIFIED)
    if has(NOTIFIED):
        move((stage == NOTIFIED) & effective_reached & ~conflict_blocks, WITHDRAWN)
    return out


def _depositing(stage: IntArray, ready: BoolArray, bloc: IntArray, n_blocs: int) -> BoolArray:
    """Approved states that deposit this step; a bloc deposits together.

    A bloc waits until every member that has announced is approved; then, once any member is
    ready, all its approved members deposit on the same step (EE, LV and LT on 2025-06-27).
    """
    approved = stage == APPROVED
    solo = bloc < 0
    deposit = approved & ready & solo[:, None]
    for b in range(n_blocs):
        rows = np.flatnonzero(bloc == b)
        member_approved = approved[..., rows, :]
        if not member_approved.any():
            continue
        # per replication and treaty: reduce over the members (axis -2), not the batch
        waiting = (stage[..., rows, :] == ANNOUNCED).any(axis=-2, keepdims=True)
        ready_any = (member_approved & ready[..., rows, :]).any(axis=-2, keepdims=True)
        deposit[..., rows, :] |= member_approved & (ready_any & ~waiting)
    return deposit
