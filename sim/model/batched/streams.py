"""The random numbers of a batch's steps (items 5 and 6 of :mod:`treatysim.model.draws`).

Two ways to the same numbers:

- :class:`BulkSteps` draws every replication's uniforms and noise a few steps at a time into
  reused buffers (small populations, where one call per replication and few steps is cheapest);
- :class:`LazySteps` draws a field of a step (say, step 12's retraction uniforms) only when the
  pipeline reads it, for every replication, straight from its place in the replication's stream:
  each uniform is one 64-bit output of the bit generator, so field ``f`` of step ``t`` starts
  ``((t - 1) * 5 + f) * n * k`` outputs after the head, and ``PCG64.advance`` jumps there;
  the noise, whose normals may take more than one output each, is drawn step after step from a
  copy of the stream advanced past every uniform (as in :class:`~treatysim.model.draws.Streams`).

A field whose probability is 0 or 1 in every step and world decides nothing (a uniform on
[0, 1) is always below 1 and never below 0), so :class:`LazySteps` never draws it; nor does
it draw the perception noise when every target is zero (no threat anywhere: the noise is
multiplied by the target). Large synthetic populations thus skip most of their draws while
every replication keeps the numbers of the layout, the Mesa engine's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from treatysim.model.draws import Streams, copy_bit_generator
from treatysim.model.pipeline import StepDraws
from treatysim.model.world import World

FloatArray = NDArray[np.float64]
#: The fields of :class:`StepDraws`, in the layout's order.
FIELDS = ("deliberation", "vote_timing", "vote_outcome", "deposit", "retraction")
#: Memory for the random numbers drawn ahead by :class:`BulkSteps`.
DRAW_BYTES = 8 * 2**20
#: Cells (states × treaties) from which :class:`LazySteps` is used.
LAZY_CELLS = 256


def decisive(probabilities: Sequence[Any]) -> bool:
    """Whether a uniform compared with these probabilities can change anything (not all 0 or 1)."""
    return any(np.any((p > 0) & (p < 1)) for p in probabilities)


class BulkSteps:
    """Every step's uniforms and noise, drawn a few steps at a time (see the module docstring).

    Args:
        generators: Each replication's Generator, just after its head (items 0 to 4).
        worlds: Each replication's world.
        steps: Steps in the calendar.
    """

    def __init__(
        self, generators: list[np.random.Generator], worlds: list[World], steps: int
    ) -> None:
        self.streams = Streams(generators, worlds)
        b = len(generators)
        n, k = worlds[0].party.shape
        per_step = 8 * b * (5 * n * k + n)
        self.steps = steps
        self.ahead = max(1, min(steps, DRAW_BYTES // per_step))
        self.uniforms = np.empty((b, self.ahead, 5, n, k))
        self.noise_buffer = np.empty((b, self.ahead, n)) if self.streams.has_noise else None

    def step(self, k: int) -> tuple[StepDraws, FloatArray | None]:
        """Step k's uniforms and noise (None without noise)."""
        slot = (k - 1) % self.ahead
        if slot == 0:
            m = min(self.ahead, self.steps - k + 1)
            noise = None if self.noise_buffer is None else self.noise_buffer[:, :m]
            self.streams.fill(self.uniforms[:, :m], noise)
        uniforms = self.uniforms[:, slot]
        draws = StepDraws(*(uniforms[:, f] for f in range(5)))
        return draws, None if self.noise_buffer is None else self.noise_buffer[:, slot]


class _Cursor:
    """One replication's stream, positioned by jumps (counted from the end of its head)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.bits = copy_bit_generator(rng)
        self.generator = np.random.Generator(self.bits)
        self.at = 0

    def jump(self, position: int) -> np.random.Generator:
        """The generator, moved to ``position`` outputs after the head."""
        if position != self.at:
            self.bits.advance((position - self.at) % 2**128)
        self.at = position
        return self.generator


class LazyStepDraws(StepDraws):
    """A step's uniforms, each field drawn when first read (see :class:`LazySteps`)."""

    def __init__(self, source: LazySteps, k: int) -> None:
        self._source = source
        self._k = k
        self._drawn: dict[int, FloatArray] = {}

    def _field(self, f: int) -> FloatArray:
        if f not in self._drawn:
            self._drawn[f] = self._source.field(self._k, f)
        return self._drawn[f]

    @property
    def deliberation(self) -> FloatArray:  # type: ignore[override]
        """Deliberation uniforms, shape (B, n, k)."""
        return self._field(0)

    @property
    def vote_timing(self) -> FloatArray:  # type: ignore[override]
        """Vote-timing uniforms."""
        return self._field(1)

    @property
    def vote_outcome(self) -> FloatArray:  # type: ignore[override]
        """Vote-outcome uniforms."""
        return self._field(2)

    @property
    def deposit(self) -> FloatArray:  # type: ignore[override]
        """Deposit uniforms."""
        return self._field(3)

    @property
    def retraction(self) -> FloatArray:  # type: ignore[override]
        """Retraction uniforms."""
        return self._field(4)


class LazySteps:
    """Uniforms drawn per field when read; noise per step when it can matter.

    Args:
        generators: Each replication's Generator, just after its head (items 0 to 4).
        worlds: Each replication's world.
        steps: Steps in the calendar.
        needed: Per field of :class:`StepDraws`, whether its uniforms can decide anything.
        noisy: Whether the perception noise can change anything.
    """

    def __init__(
        self,
        generators: list[np.random.Generator],
        worlds: list[World],
        steps: int,
        needed: Sequence[bool],
        noisy: bool,
    ) -> None:
        self.B = len(generators)
        self.n, self.k = worlds[0].party.shape
        self.steps = steps
        self.needed = tuple(needed)
        self.cursors = [_Cursor(g) for g in generators]
        self.has_noise = [bool(w.scenario.parameters.threat.noise) for w in worlds]
        self.noisy = noisy and any(self.has_noise)
        self.zeros = np.zeros((self.B, self.n, self.k))
        self.fields_drawn = 0
        self.noise = np.zeros((self.B, self.n)) if any(self.has_noise) else None
        # the noise is drawn step after step from a stream of its own (a normal may take more
        # than one output, so its positions are not known in advance)
        self.noise_streams: list[np.random.Generator | None] = []
        if self.noisy:
            self.noise_streams = Streams(generators, worlds).noise

    def field(self, k: int, f: int) -> FloatArray:
        """Field f of step k for every replication, shape (B, n, k)."""
        if not self.needed[f]:
            return self.zeros  # compared with 0 or 1 only: any number in [0, 1) decides alike
        cells = self.n * self.k
        out = np.empty((self.B, self.n, self.k))
        position = ((k - 1) * 5 + f) * cells
        for b, cursor in enumerate(self.cursors):
            cursor.jump(position).random(out=out[b])
            cursor.at += cells
        self.fields_drawn += 1
        return out

    def step(self, k: int) -> tuple[StepDraws, FloatArray | None]:
        """Step k's uniforms (drawn when read) and noise (None without noise)."""
        if self.noise is not None and self.noisy:
            for b, stream in enumerate(self.noise_streams):
                if stream is not None:
                    stream.standard_normal(out=self.noise[b])
        return LazyStepDraws(self, k), self.noise
