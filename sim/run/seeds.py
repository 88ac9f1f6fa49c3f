"""Seeds and ids of replications.

Replication ``r`` of a run with root seed ``S`` draws all its randomness from
``numpy.random.SeedSequence(S).spawn(R)[r]`` (equivalently ``SeedSequence(S, spawn_key=(r,))``),
so its result does not depend on the number of workers or the order in which runs finish.
Sweeps use the spawn key ``(point, replication)``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np


def replication_seed(root: int, *key: int) -> int:
    """The 63-bit seed of a replication, from the root seed and its spawn key.

    ``replication_seed(S, r)`` is the seed of ``SeedSequence(S).spawn(...)[r]``; sweeps use the
    key ``(point, replication)``.
    """
    child = np.random.SeedSequence(root, spawn_key=key)
    return int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def scenario_digest(resolved: dict[str, Any]) -> str:
    """A stable digest of a resolved scenario (canonical JSON).

    The ``provenance`` mapping is left out: it documents the inputs and changes nothing that
    runs, so tagging a scenario keeps its run ids.
    """
    content = {k: v for k, v in resolved.items() if k != "provenance"}
    text = json.dumps(content, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def run_id(digest: str, root_seed: int, *key: int) -> str:
    """A run's id: the same scenario, root seed and replication give the same id."""
    text = f"{digest}:{root_seed}:{':'.join(map(str, key))}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]
