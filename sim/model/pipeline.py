"""The withdrawal pipeline: party → deliberating → announced → approved → notified → withdrawn.

Besides these, ``retracted`` (the attempt ended: retraction or a failed vote) and ``suspended``
(suspension of the treaty's operation, Ukraine's 2025 move). Stage codes are small integers so the
stage of every state in every treaty is one integer array; ``NOT_PARTY`` marks states that never
were parties.

Both engines call :func:`advance`, so every mechanism of the pipeline (deliberation and its
return, joint decisions of groups, the war's clock of the armed-conflict clause, suspension)
is one piece of code for the Mesa model and the batched engine alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from treatysim.scenario.types import STAGES

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
#: Stages from which a group may carry a member into a joint announcement.
_GROUP_PENDING = _bit(PARTY) | _bit(DELIBERATING)


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


@dataclass(frozen=True)
class JointGroup:
    """A group whose members decide together (``groups.<name>.decide``), as rows of the model.

    Attributes:
        rows: The members' state rows, ascending.
        follow: False: a joint announcement (together); True: followers of a leader.
        leader: The leader's row (follow only), else -1.
    """

    rows: NDArray[np.intp]
    follow: bool
    leader: int = -1


@dataclass(frozen=True)
class StepMechanisms:
    """The step's inputs to the mechanisms beyond the plain pipeline (issue 12).

    Attributes:
        pressure: The rule's pressure, broadcastable to (..., n, k).
        threshold: The rule's threshold, broadcastable to (..., n, k).
        wants_return: A deliberating state would drop the idea, shape (..., n, k).
        suspension_allowed: Per treaty, shape (k,).
        conflict_trigger: Parties that must have deposited before a state held up by the
            armed-conflict clause moves (a number, or shape (..., 1, 1)).
        conflict_cost: Pressure above the threshold such a state needs (number or (..., 1, 1)).
        groups: The groups that decide together.
        joint_share: Per group, the group threshold as a share of a member's own threshold:
            indexable by group, each entry a number or shape (..., 1, 1).
        p_follow: Per group, the probability this step that a ready follower follows its
            leader, indexed like ``joint_share``.
    """

    pressure: FloatArray
    threshold: FloatArray
    wants_return: BoolArray
    suspension_allowed: BoolArray
    conflict_trigger: FloatArray | float
    conflict_cost: FloatArray | float
    groups: tuple[JointGroup, ...] = ()
    joint_share: Any = ()
    p_follow: Any = ()


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
    mechanisms: StepMechanisms | None = None,
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
        mechanisms: Pressure, threshold and the inputs of the mechanisms of issue 12 (return
            from deliberation, joint decisions, the armed-conflict clause's clock, suspension).
            None: the plain pipeline of before (kept for tests of the pipeline alone).

    Returns:
        The transitions, in the order they happened.
    """
    out: list[Transition] = []
    mech = mechanisms
    groups = () if mech is None else mech.groups
    # Most states sit still most steps: skip every rule whose source stage is empty. A stage
    # emptied during the step still counts as present: its rule then finds nobody.
    present = _present(stage)
    if (
        not present & _IN_MOTION
        and not (present & (_bit(PARTY) | _bit(SUSPENDED)) and wants_exit.any())
        and not (groups and present & _GROUP_PENDING)
    ):
        return out

    def has(code: int) -> int:
        return present & _bit(code)

    def move(mask: BoolArray, to: int) -> None:
        nonlocal present
        if mask.any():
            np.copyto(stage, to, where=mask)  # cheaper than stage[mask] = to
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
    if mech is not None and has(DELIBERATING) and mech.wants_return.any():
        # pressure fell well below the threshold: the idea is dropped (hysteresis)
        move((stage == DELIBERATING) & mech.wants_return, PARTY)
    if mech is not None and groups:
        _groups(stage, draws, p_deliberation, mech, conflict_blocks, move)
    if has(DELIBERATING):
        deliberating = (stage == DELIBERATING) & wants_exit
        if deliberating.any():
            announcing = deliberating & (draws.deliberation < p_deliberation[col])
            if conflict_blocks.any():
                # the armed-conflict clause would hold up these states' exits
                held = announcing & conflict_blocks
                if mech is None:  # the plain pipeline: they suspend at once (Ukraine, 2025)
                    move(held, SUSPENDED)
                move(announcing & ~conflict_blocks, ANNOUNCED)
                if mech is not None and held.any():
                    _conflict_move(stage, held, mech, move)
            else:
                move(announcing, ANNOUNCED)
    if has(SUSPENDED) and wants_exit.any():
        # Art. 20(3): once the conflict is over, a suspended state may move on to withdrawal
        resuming = (stage == SUSPENDED) & wants_exit & ~conflict_blocks
        move(resuming & (draws.deliberation < p_deliberation[col]), ANNOUNCED)
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


def _conflict_move(
    stage: IntArray,
    held: BoolArray,
    mech: StepMechanisms,
    move: Callable[[BoolArray, int], None],
) -> None:
    """States whose exit the armed-conflict clause holds up, whose deliberation has ended.

    A state moves only when peers' exits have begun (at least ``conflict_trigger`` other
    parties have deposited) and its pressure exceeds its threshold by ``conflict_cost``; it
    then suspends where the treaty allows suspension, and otherwise announces a withdrawal
    that takes effect once its conflict ends. Otherwise it keeps deliberating.
    """
    deposited = ((stage == NOTIFIED) | (stage == WITHDRAWN)).sum(axis=-2, keepdims=True)
    excess = np.asarray(mech.pressure - mech.threshold)
    going = held & (deposited >= mech.conflict_trigger) & (excess > mech.conflict_cost)
    if going.any():
        allowed = mech.suspension_allowed
        move(going & allowed, SUSPENDED)
        move(going & ~allowed, ANNOUNCED)


def _groups(
    stage: IntArray,
    draws: StepDraws,
    p_deliberation: FloatArray,
    mech: StepMechanisms,
    conflict_blocks: BoolArray,
    move: Callable[[BoolArray, int], None],
) -> None:
    """Joint announcements and leaders' followers, group by group (in the scenario's order).

    A member is *pending* while it is a party or deliberating and no armed-conflict clause holds
    up its exit, and *ready* when its pressure exceeds ``joint_share`` × its own threshold.

    * together: once every pending member is ready, all of them announce on the same step,
      when the deliberation time of the group's first member (lowest row) runs out.
    * follow: once the leader has moved, each ready pending follower announces with the
      probability ``p_follow`` per step (an exponential lag), its own draw deciding.
    """
    for g, group in enumerate(mech.groups):
        rows = group.rows
        if len(rows) == 0 or (group.follow and group.leader < 0):
            continue  # no member, or the leader is not in the scenario
        sub = stage[..., rows, :]
        pending = ((sub == PARTY) | (sub == DELIBERATING)) & ~conflict_blocks[..., rows, :]
        if not pending.any():
            continue
        pressure = np.broadcast_to(mech.pressure, stage.shape)[..., rows, :]
        threshold = np.broadcast_to(mech.threshold, stage.shape)[..., rows, :]
        ready = pressure > mech.joint_share[g] * threshold
        if group.follow:
            leader = moved(stage[..., group.leader : group.leader + 1, :])
            follower = rows != group.leader
            timer = draws.deliberation[..., rows, :] < mech.p_follow[g]
            members = pending & ready & leader & timer & follower[:, None]
        else:
            first = rows[0]
            timer = (
                draws.deliberation[..., first : first + 1, :]
                < p_deliberation[..., first : first + 1, None]
            )
            together = (ready | ~pending).all(axis=-2, keepdims=True) & timer
            members = pending & together
        if not members.any():
            continue  # nobody moves: skip the full-size mask (most steps)
        mask = np.zeros(stage.shape, dtype=bool)
        mask[..., rows, :] = members
        move(mask, ANNOUNCED)


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
