"""Every random number of a replication, drawn once, up front, in one documented layout.

Both engines (the Mesa model and the batched engine) draw a replication's numbers from its own
Generator in the same order, so they run the same replication. From the replication's Generator
``g`` (``numpy.random.default_rng(seed)``), in this order:

0. ``g.integers(2**31 - 1)``: the seed of the model's stdlib ``random``, drawn by
   ``mesa.Model.__init__`` (the batched engine draws it too, and ignores it);
1. ``threshold_shift = g.normal(0, threshold_noise, (n, k))``: idiosyncratic threshold shifts;
2. a synthetic population's network seed, ``g.integers(0, 2**63 - 1)``, when every replication
   draws its own graph;
3. a synthetic population's thresholds, ``g.uniform(low, high, n)`` or ``g.normal(mean, sd, n)``,
   when they are drawn;
4. a synthetic population's initial actors, ``g.choice(n, count, replace=False)``, when random;
5. ``uniforms = g.random((steps, 5, n, k))``: step t's pipeline draws are ``uniforms[t - 1]``, in
   the order of :class:`treatysim.model.pipeline.StepDraws` (deliberation, vote timing, vote
   outcome, deposit, retraction);
6. ``noise = g.standard_normal((steps, n))``: step t's perception noise is ``noise[t - 1]``;
   not drawn when the scenario's threat noise is zero.

Every step's uniforms are drawn whether used or not, so two scenarios run with the same seed
share their random numbers (common random numbers) and differ only by what they change. The
perception noise comes last, so that switching the noise off leaves every other draw in place.

Each uniform takes exactly one 64-bit output of the bit generator, so the noise starts at a
known place in the stream: a copy of ``g``'s bit generator taken after item 4 and advanced by
``steps * 5 * n * k`` gives the noise. The batched engine uses this to draw both, a few steps
at a time, into small reused buffers (:class:`Streams`); the numbers are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.random.bit_generator import ISeedSequence
from numpy.typing import NDArray

from treatysim.model.population import draw_thresholds

if TYPE_CHECKING:
    from treatysim.model.world import World

#: The bound of the integer mesa.Model draws from a Generator to seed its stdlib ``random``.
MESA_SEED_BOUND = np.iinfo(np.int32).max


@dataclass(frozen=True)
class Head:
    """Items 1 to 4 of the layout: what a replication draws before its steps.

    Attributes:
        threshold_shift: Shape (n, k).
        graph_seed: Seed of this replication's synthetic network, or None.
        thresholds: Shape (n,): this replication's thresholds (the world's fixed ones where
            they are not drawn), or None when none is drawn.
        actors: Rows of the initial actors, in the order drawn, or None.
    """

    threshold_shift: NDArray[np.float64]
    graph_seed: int | None
    thresholds: NDArray[np.float64] | None
    actors: NDArray[np.int64] | None


@dataclass(frozen=True)
class Draws:
    """One replication's random numbers (see the module docstring for the layout).

    Attributes:
        threshold_shift: Shape (n, k).
        graph_seed: Seed of this replication's synthetic network, or None.
        thresholds: Shape (n,): this replication's thresholds (the world's fixed ones where
            they are not drawn), or None when none is drawn.
        actors: Rows of the initial actors, in the order drawn, or None.
        uniforms: Shape (steps, 5, n, k).
        noise: Shape (steps, n), or None when the threat noise is zero.
    """

    threshold_shift: NDArray[np.float64]
    graph_seed: int | None
    thresholds: NDArray[np.float64] | None
    actors: NDArray[np.int64] | None
    uniforms: NDArray[np.float64]
    noise: NDArray[np.float64] | None


def draw_replication(world: World, rng: np.random.Generator) -> Draws:
    """Draw items 1 to 6 of the layout (item 0 is Mesa's, drawn before)."""
    head = draw_head(world, rng)
    n, k = world.party.shape
    steps = world.calendar.n_steps
    uniforms = rng.random((steps, 5, n, k))
    noise = rng.standard_normal((steps, n)) if world.scenario.parameters.threat.noise else None
    return Draws(
        head.threshold_shift, head.graph_seed, head.thresholds, head.actors, uniforms, noise
    )


def draw_head(world: World, rng: np.random.Generator) -> Head:
    """Draw items 1 to 4 of the layout."""
    params = world.scenario.parameters
    n, k = world.party.shape
    threshold_shift = rng.normal(0.0, params.commitment.threshold_noise, (n, k))
    graph_seed = int(rng.integers(0, 2**63 - 1)) if world.graph_per_replication else None
    thresholds = actors = None
    population = world.population
    if population is not None:
        drawn = np.isnan(world.fixed_threshold)
        if drawn.any():
            draws = draw_thresholds(population.thresholds, population.size, rng)
            thresholds = np.where(drawn, draws, world.fixed_threshold)
        if population.initial_actors.kind == "random":
            actors = rng.choice(
                population.size, size=population.initial_actors.count, replace=False
            )
    return Head(threshold_shift, graph_seed, thresholds, actors)


class _FixedSeed(ISeedSequence):
    """Seeds the bit generators whose state is then overwritten, at once.

    A :class:`~numpy.random.bit_generator.ISeedSequence` (the interface a BitGenerator reads its
    seed words from) that hands out words computed once: making a PCG64 from it costs a quarter
    of making one from a SeedSequence, which hashes its entropy every time.
    """

    _words = np.random.SeedSequence(0).generate_state(4, np.uint64)

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> NDArray[Any]:
        """The seed words: the cached ones for PCG64 (4 × uint64), else freshly generated."""
        if n_words == 4 and np.dtype(dtype) == np.uint64:
            return self._words.copy()
        return np.random.SeedSequence(0).generate_state(n_words, dtype)


#: Seeds the bit generators whose state is then overwritten.
ANY_SEED = _FixedSeed()


def copy_bit_generator(rng: np.random.Generator) -> np.random.PCG64:
    """A new PCG64 in the state of ``rng``'s bit generator (which must be a PCG64)."""
    bits = np.random.PCG64(ANY_SEED)  # type: ignore[arg-type]  # any ISeedSequence works
    bits.state = rng.bit_generator.state  # type: ignore[assignment]
    return bits


class Streams:
    """Items 5 and 6 for a batch of replications, drawn a few steps at a time.

    Args:
        generators: Each replication's Generator, just after its head (items 0 to 4).
        worlds: Each replication's world (for its shape and whether it has noise).
    """

    def __init__(self, generators: list[np.random.Generator], worlds: list[World]) -> None:
        self.uniforms = generators
        self.noise: list[np.random.Generator | None] = []
        for rng, world in zip(generators, worlds, strict=True):
            if not world.scenario.parameters.threat.noise:
                self.noise.append(None)
                continue
            n, k = world.party.shape
            copy = copy_bit_generator(rng)
            copy.advance(world.calendar.n_steps * 5 * n * k)
            self.noise.append(np.random.Generator(copy))

    @property
    def has_noise(self) -> bool:
        """Whether any replication has perception noise."""
        return any(rng is not None for rng in self.noise)

    def fill(self, uniforms: NDArray[np.float64], noise: NDArray[np.float64] | None) -> None:
        """Draw the next steps: ``uniforms`` (B, T, 5, n, k) and ``noise`` (B, T, n), in place."""
        for b, rng in enumerate(self.uniforms):
            rng.random(out=uniforms[b])
        if noise is not None:
            for b, noise_rng in enumerate(self.noise):
                if noise_rng is None:
                    noise[b] = 0.0
                else:
                    noise_rng.standard_normal(out=noise[b])
