"""Posterior ensembles: each replication's parameters drawn from a calibration's posterior.

``treatysim run SCENARIO --posterior CALDIR`` (and ``posterior=`` in :func:`treatysim.simulate`)
resamples the last generation's weighted particles
(:func:`~treatysim.calibration.store.draw_posterior`) once per replication, seeded from the
run's root seed, so a run's statistics and a comparison's intervals cover parameter and seed
uncertainty together. The draws depend only on the folder, the number of replications and the
root seed, never on workers or the engine.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from treatysim.calibration.store import (
    GENERATIONS,
    MANIFEST,
    draw_posterior,
    particle_path,
    read_manifest,
)
from treatysim.run.ensemble import Ensemble, EnsembleMaker
from treatysim.run.seeds import replication_seed
from treatysim.scenario.errors import Problem, ValidationError

#: Spawn key of the posterior resampling under the root seed (replications use ``(r,)``).
POSTERIOR_KEY = 0x706F7374


def posterior_seed(root: int) -> int:
    """The seed of a run's posterior draws: ``SeedSequence(root, spawn_key=(POSTERIOR_KEY,))``."""
    return replication_seed(root, POSTERIOR_KEY)


def _bad(folder: Path | str, message: str) -> ValidationError:
    return ValidationError([Problem(str(folder), 0, 0, "--posterior", message)])


def _last_generation(folder: Path) -> int:
    """The last completed generation of a calibration folder.

    Raises:
        ValidationError: Not a calibration folder, or one without a completed generation.
    """
    if not folder.is_dir():
        raise _bad(folder, "no such calibration folder")
    if not (folder / MANIFEST).is_file():
        raise _bad(folder, f"not a calibration folder (no {MANIFEST})")
    path = folder / f"{GENERATIONS}.json"
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        last = int(rows[-1]["generation"])
    except FileNotFoundError:
        raise _bad(
            folder, f"the calibration has no completed generation (no {path.name})"
        ) from None
    except (ValueError, KeyError, IndexError, TypeError):
        raise _bad(folder, f"{path.name} is unreadable or lists no generation") from None
    if not particle_path(folder, last).is_file():
        raise _bad(folder, f"generation {last}'s particle file is missing")
    return last


def calibration_hash(folder: Path | str) -> str:
    """sha256 over the files a posterior draw reads: manifest, diagnostics, last particles."""
    folder = Path(folder)
    last = _last_generation(folder)
    digest = hashlib.sha256()
    for path in (folder / MANIFEST, folder / f"{GENERATIONS}.json", particle_path(folder, last)):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def data_until(folder: Path) -> str | None:
    """The last day of data the calibration fitted: its targets' last window end (or None)."""
    try:
        targets = read_manifest(folder).get("targets") or []
        ends = [str(t["window"]["end"]) for t in targets if isinstance(t, dict)]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return max(ends) if ends else None


def posterior_ensemble(folder: Path | str, n: int, root: int) -> Ensemble:
    """``n`` parameter sets drawn from a calibration's posterior for the root seed ``root``.

    Raises:
        ValidationError: A bad calibration folder (one line).
    """
    folder = Path(folder)
    generation = _last_generation(folder)
    seed = posterior_seed(root)
    try:
        draws = draw_posterior(folder, n, seed)
    except (OSError, ValueError, KeyError) as exc:
        raise _bad(folder, f"cannot read the posterior: {exc}") from None
    names = [c for c in draws.columns if c != "particle"]
    if not names:
        raise _bad(folder, "the posterior has no parameter columns")
    values = draws[names].to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise _bad(folder, "the posterior holds non-finite parameter values")
    overrides = tuple({k: float(v) for k, v in zip(names, row, strict=True)} for row in values)
    record: dict[str, Any] = {
        "folder": str(folder.resolve()),
        "data_until": data_until(folder),
        "sha256": calibration_hash(folder),
        "generation": generation,
        "parameters": names,
        "seed": seed,
        "draws": n,
        "distinct_particles": int(draws["particle"].nunique()),
    }
    return Ensemble(
        overrides=overrides,
        keys=tuple(int(k) for k in draws["particle"]),
        record=record,
        source=str(folder),
    )


def posterior_maker(folder: Path | str) -> EnsembleMaker:
    """An ensemble maker for a calibration folder, checked now (a bad folder fails at once).

    Raises:
        ValidationError: A bad calibration folder (one line).
    """
    _last_generation(Path(folder))
    return lambda n, root: posterior_ensemble(folder, n, root)
