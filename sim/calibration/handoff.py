"""Block evaluation of per-particle samplers: pyabc's ``simulate_one`` run in blocks.

pyabc hands a sampler one opaque function, ``simulate_one()``, that draws a parameter, calls
the model once, then computes the distance, the acceptance and the importance weight of that one
particle (``pyabc.inference_util``). The model call sits in the middle, so a block of particles
cannot be simulated in one call by calling ``simulate_one`` in a loop.

:class:`BlockHandoff` runs each ``simulate_one`` of a block in a worker thread of its own, one
thread at a time: the thread runs until its model call (the model is :meth:`BlockHandoff.ask`),
hands its parameters over and waits; the next thread starts only then. Once every candidate of
the block waits, the block simulator runs once for all of them, and the threads are resumed one
at a time, in order, to finish their particle. Only one thread ever runs, in a fixed order, so
the draws from numpy's global random state (pyabc's) happen in the same order as with pyabc's
``SingleCoreSampler``, and the threads never run concurrently.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from treatysim.calibration.simulator import BlockSimulator, Stats, simulation_seed


class _AbortError(Exception):
    """Raised in a waiting worker when its block is abandoned."""


class _Worker:
    """A thread that runs jobs handed to it, one at a time."""

    def __init__(self, handoff: BlockHandoff) -> None:
        self.to_worker: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.to_main: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, args=(handoff,), daemon=True)
        self.thread.start()

    def _loop(self, handoff: BlockHandoff) -> None:
        handoff._local.worker = self
        while True:
            job = self.to_worker.get()
            if job is None:
                return
            try:
                self.to_main.put(("done", job()))
            except BaseException as err:  # handed to the main thread, which re-raises it
                self.to_main.put(("error", err))

    def run(self, job: Callable[[], Any]) -> tuple[str, Any]:
        """Start ``job`` and wait until it asks for a simulation, finishes or fails."""
        self.to_worker.put(job)
        return self.to_main.get()

    def answer(self, reply: Any) -> tuple[str, Any]:
        """Hand over a simulation's statistics (or an abort) and wait for the next message."""
        self.to_worker.put(reply)
        return self.to_main.get()


class BlockHandoff:
    """Evaluates a per-particle ``simulate_one`` in blocks, one simulator call per block.

    Args:
        simulate: The block simulator.
        block_size: Candidate particles per block.
        seed: Root seed of the simulation seeds (:func:`simulation_seed`).

    Attributes:
        calls: Number of calls to the block simulator so far.
        simulations: Simulations per generation index (particles, not replications).
    """

    def __init__(self, simulate: BlockSimulator, block_size: int, seed: int) -> None:
        self.simulate = simulate
        self.block_size = block_size
        self.seed = seed
        self.calls = 0
        self.simulations: dict[int, int] = {}
        self._local = threading.local()
        self._pool: list[_Worker] = []

    # -- the model side (inside a worker thread) ------------------------------------------------

    def ask(self, params: Mapping[str, float]) -> Stats:
        """The model function: hand ``params`` to the block and wait for its statistics."""
        worker: _Worker | None = getattr(self._local, "worker", None)
        if worker is None:
            raise RuntimeError("the block model can only run inside BlockHandoff.fill")
        worker.to_main.put(("ask", {str(k): float(v) for k, v in params.items()}))
        reply = worker.to_worker.get()
        if isinstance(reply, BaseException):
            raise reply
        return dict(reply)

    # -- the sampler side (main thread) ---------------------------------------------------------

    def _workers(self, k: int) -> list[_Worker]:
        while len(self._pool) < k:
            self._pool.append(_Worker(self))
        return self._pool[:k]

    def _simulate(self, t: int, params: list[dict[str, float]]) -> list[Stats]:
        first = self.simulations.get(t, 0)
        seeds = [simulation_seed(self.seed, t, first + i) for i in range(len(params))]
        self.calls += 1
        stats = self.simulate(params, seeds)
        if len(stats) != len(params):
            raise ValueError(f"the simulator returned {len(stats)} results for {len(params)}")
        self.simulations[t] = first + len(params)
        return stats

    @staticmethod
    def _abort(waiting: list[_Worker]) -> None:
        for worker in waiting:
            worker.answer(_AbortError("block abandoned"))

    def _finish(self, t: int, worker: _Worker, stats: Stats) -> Any:
        kind, payload = worker.answer(stats)
        while kind == "ask":  # a second model call within one particle: simulate it alone
            try:
                again = self._simulate(t, [payload])[0]
            except BaseException:
                self._abort([worker])
                raise
            kind, payload = worker.answer(again)
        if kind == "error":
            raise payload
        return payload

    def block(self, simulate_one: Callable[[], Any], t: int, k: int) -> list[Any]:
        """Run ``k`` candidates of generation ``t``; returns their particles in order."""
        workers = self._workers(k)
        messages: list[tuple[str, Any]] = []
        for i, worker in enumerate(workers):
            kind, payload = worker.run(simulate_one)
            if kind == "error":
                self._abort(
                    [w for w, m in zip(workers[:i], messages, strict=True) if m[0] == "ask"]
                )
                raise payload
            messages.append((kind, payload))
        asking = [i for i, (kind, _) in enumerate(messages) if kind == "ask"]
        try:
            stats = self._simulate(t, [messages[i][1] for i in asking]) if asking else []
        except BaseException:
            self._abort([workers[i] for i in asking])
            raise
        reply = dict(zip(asking, stats, strict=True))
        particles: list[Any] = []
        for i, (kind, payload) in enumerate(messages):
            if kind == "done":
                particles.append(payload)
                continue
            try:
                particles.append(self._finish(t, workers[i], reply[i]))
            except BaseException:
                self._abort([workers[j] for j in asking if j > i])
                raise
        return particles

    def fill(
        self,
        append: Callable[[Any], None],
        n: int,
        simulate_one: Callable[[], Any],
        t: int,
        max_eval: float = np.inf,
    ) -> int:
        """Evaluate blocks until ``n`` particles are accepted or ``max_eval`` are evaluated.

        Particles are passed to ``append`` in candidate order, up to the n-th accepted one (the
        rest of the last block is simulated but dropped, as a sequential sampler would never
        have drawn it), so the accepted population does not depend on the block size.

        Returns:
            The number of evaluated candidates (the acceptance rate's denominator).
        """
        accepted = evaluated = 0
        while accepted < n and evaluated < max_eval:
            k = int(min(self.block_size, max_eval - evaluated))
            for particle in self.block(simulate_one, t, k):
                if accepted >= n or evaluated >= max_eval:
                    break
                append(particle)
                evaluated += 1
                accepted += bool(particle.accepted)
        return evaluated

    def close(self) -> None:
        """Stop the worker threads."""
        for worker in self._pool:
            worker.to_worker.put(None)
        for worker in self._pool:
            worker.thread.join(timeout=5)
        self._pool.clear()
