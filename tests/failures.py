"""Failure injection for tests: the model raises for chosen replications.

Production code has no failure hook. A test replaces the model class that
:func:`treatysim.run.replicate.run_one` builds (the Mesa engine) and the batch function that
:func:`treatysim.run.replicate.run_batched` calls (the batched engine), so the exception rises
inside a real replication and goes through the runner's own error handling. The replication is
recognised by its seed (``numpy.random.default_rng(seed)`` keeps the seed as its entropy).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pytest

from treatysim.run import replicate
from treatysim.run.seeds import replication_seed


def fail_runs(monkeypatch: pytest.MonkeyPatch, root: int, keys: Iterable[tuple[int, ...]]) -> None:
    """Make the replications with these spawn keys raise (``(r,)`` for a run, ``(p, r)`` sweeps).

    Works in-process and in thread pools, which share the patched module.
    """
    seeds = {replication_seed(root, *key): key for key in keys}
    real = replicate.TreatyModel

    def model(world: Any, *, rng: np.random.Generator, **kwargs: Any) -> Any:
        key = seeds.get(rng.bit_generator.seed_seq.entropy)  # type: ignore[attr-defined]
        if key is not None:
            raise RuntimeError(f"injected failure (key {key})")
        return real(world, rng=rng, **kwargs)

    real_batch = replicate.run_batch

    def batch(world: Any, batch_seeds: Any, *args: Any, **kwargs: Any) -> Any:
        failing = [seeds[s] for s in batch_seeds if s in seeds]
        if failing:
            raise RuntimeError(f"injected failure (key {failing[0]})")
        return real_batch(world, batch_seeds, *args, **kwargs)

    monkeypatch.setattr(replicate, "TreatyModel", model)
    monkeypatch.setattr(replicate, "run_batch", batch)
