"""Run, or resume, an ABC-SMC calibration into a calibration folder.

:func:`run_abc` is the engine-agnostic core (priors, a block simulator, observed statistics, a
distance); :func:`run_calibration` reads those from a calibration file's model. Both write the
folder described in :mod:`treatysim.calibration.store` and return a
:class:`CalibrationResult`.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from treatysim.calibration.generation import Generation
from treatysim.calibration.priors import PriorSet
from treatysim.calibration.pyabc_engine import (
    RUN_ID,
    read_stored_generations,
    run_pyabc,
    stored_generations,
)
from treatysim.calibration.simulator import BlockSimulator, replicated
from treatysim.calibration.smc import Problem, run_smc, stop_after, total_simulations
from treatysim.calibration.store import (
    MANIFEST,
    PYABC_DB,
    particle_frame,
    read_generations,
    read_manifest,
    save_generation,
    write_diagnostics,
    write_json,
)
from treatysim.calibration.targets import (
    WeightedDistance,
    calibration_distance,
    observed_statistics,
)
from treatysim.scenario.calibration import Calibration, Method

#: Manifest keys that must match for a folder to be resumed.
_FINGERPRINT = ("engine", "seed", "method", "priors", "observed", "distance")


class CalibrationFolderError(ValueError):
    """The folder holds another calibration, or a finished one is started again."""


@dataclass(frozen=True)
class CalibrationResult:
    """A calibration's generations, as written to its folder.

    Attributes:
        folder: The calibration folder.
        names: Parameter names (key paths), the particle columns.
        generations: Every completed generation, from 0.
        resumed_from: Generations already done when this call started (0 for a fresh run).
    """

    folder: Path
    names: tuple[str, ...]
    generations: tuple[Generation, ...]
    resumed_from: int

    @property
    def posterior(self) -> pd.DataFrame:
        """The last generation's particles: one column per parameter, ``weight``, ``distance``."""
        return particle_frame(self.generations[-1], self.names)

    @property
    def diagnostics(self) -> pd.DataFrame:
        """Epsilon, acceptance rate, ESS, … per generation."""
        return pd.DataFrame([g.diagnostics() for g in self.generations])

    def weighted_mean(self, name: str) -> float:
        """Posterior mean of a parameter (importance-weighted)."""
        gen = self.generations[-1]
        return float(np.average(gen.theta[:, self.names.index(name)], weights=gen.weights))


def versions(engine: str) -> dict[str, str]:
    """Versions of Python and of the packages a calibration's numbers depend on."""
    out = {"python": platform.python_version()}
    names = ["treatysim", "numpy", "scipy", "pandas", "pyarrow", "pydantic"]
    if engine == "pyabc":
        names.append("pyabc")
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _manifest(
    priors: PriorSet,
    observed: Mapping[str, float],
    distance: WeightedDistance,
    method: Method,
    seed: int,
    describe: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "kind": "treatysim calibration",
        "engine": method.engine,
        "seed": int(seed),
        "method": method.model_dump(mode="json"),
        "priors": priors.describe(),
        "parameters": list(priors.names),
        "observed": {k: float(v) for k, v in observed.items()},
        "distance": {
            "p": distance.p,
            "weights": dict(zip(distance.names, map(float, distance.weights), strict=True)),
            "scales": dict(zip(distance.names, map(float, distance.scales), strict=True)),
        },
        **dict(describe),
        "versions": versions(method.engine),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "status": "running",
        "pyabc_run_id": RUN_ID if method.engine == "pyabc" else None,
    }


def _check_folder(folder: Path, manifest: Mapping[str, Any], resume: bool) -> dict[str, Any]:
    """The manifest to write: the old one when resuming (after checking it matches)."""
    path = folder / MANIFEST
    if not path.exists():
        return dict(manifest)
    if not resume:
        raise CalibrationFolderError(
            f"{folder} already holds a calibration; resume it or choose another folder"
        )
    old = read_manifest(folder)
    new = {k: manifest[k] for k in _FINGERPRINT}
    differ = [k for k in _FINGERPRINT if old.get(k) != new[k]]
    if differ:
        raise CalibrationFolderError(
            f"{folder} holds a different calibration ({', '.join(differ)} differ)"
        )
    return {**old, "resumed": [*old.get("resumed", []), manifest["created"]]}


def run_abc(
    priors: PriorSet,
    simulate: BlockSimulator,
    observed: Mapping[str, float],
    distance: WeightedDistance,
    method: Method,
    seed: int,
    out: Path | str,
    *,
    resume: bool = False,
    describe: Mapping[str, Any] | None = None,
    progress: Callable[[Generation], None] | None = None,
) -> CalibrationResult:
    """Run (or resume) ABC-SMC and write the calibration folder.

    Args:
        priors: The priors.
        simulate: The block simulator (one call per block of candidate particles).
        observed: Observed summary statistics, by name (the distance's names).
        distance: The distance between statistics.
        method: The settings, including the engine (pyabc or builtin).
        seed: Root seed.
        out: The calibration folder (created).
        resume: Continue the calibration in ``out`` after its last completed generation.
        describe: Extra manifest entries (e.g. the calibration file's name and targets).
        progress: Called with each generation once it is checkpointed.

    Returns:
        The completed generations.

    Raises:
        CalibrationFolderError: ``out`` holds a calibration and ``resume`` is false, or it holds
            a different one.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = _check_folder(
        folder, _manifest(priors, observed, distance, method, seed, describe or {}), resume
    )
    manifest["status"] = "running"
    write_json(folder / MANIFEST, manifest)
    problem = Problem(
        priors=priors,
        simulate=replicated(simulate, method.replications),
        distance=distance,
        observed=distance.vector(observed),
        seed=seed,
    )
    gens = read_generations(folder, priors.names) if resume else []
    resumed_from = len(gens)

    def checkpoint(gen: Generation) -> None:
        del gens[gen.t :]
        gens.append(gen)
        save_generation(folder, gens, priors.names)
        if progress is not None:
            progress(gen)

    if method.engine == "builtin":
        run_smc(problem, method, done=list(gens), on_generation=checkpoint)
    else:
        db_path = folder / PYABC_DB
        stored = stored_generations(db_path) if resume else 0
        if stored < len(gens):
            raise CalibrationFolderError(
                f"{folder}: the database holds {stored} generations, the folder {len(gens)}"
            )
        for gen in read_stored_generations(db_path, priors.names, len(gens)) if resume else []:
            checkpoint(gen)  # stored by pyabc, but killed before its checkpoint
        if not (gens and stop_after(gens[-1], method, total_simulations(gens, method))):
            run_pyabc(
                problem,
                method,
                db_path,
                resume=resume and stored > 0,
                on_generation=checkpoint,
                stop=lambda gen, _: stop_after(gen, method, total_simulations(gens, method)),
            )
    write_diagnostics(folder, gens)
    manifest["status"] = "complete"
    manifest["generations"] = len(gens)
    write_json(folder / MANIFEST, manifest)
    return CalibrationResult(folder, priors.names, tuple(gens), resumed_from)


def run_calibration(
    calibration: Calibration,
    simulate: BlockSimulator,
    out: Path | str,
    *,
    resume: bool = False,
    observed_rows: Sequence[Mapping[str, str]] | None = None,
) -> CalibrationResult:
    """Run (or resume) the calibration a calibration file describes.

    Args:
        calibration: The validated calibration file.
        simulate: Block simulator returning the targets' statistics (e.g.
            :func:`~treatysim.calibration.simulator.events_simulator` on the batched engine).
        out: The calibration folder.
        resume: Continue the calibration in ``out``.
        observed_rows: Observed-stage rows to use instead of ``calibration.observed``.
    """
    observed = observed_statistics(
        calibration.targets,
        calibration.treaty,
        calibration.observed if observed_rows is None else observed_rows,
    )
    return run_abc(
        PriorSet.from_mapping(calibration.priors),
        simulate,
        observed,
        calibration_distance(calibration, observed),
        calibration.method,
        calibration.seed,
        out,
        resume=resume,
        describe={
            "calibration": {
                "name": calibration.name,
                "description": calibration.description,
                "base": calibration.base,
                "observed": calibration.observed,
                "treaty": calibration.treaty,
            },
            "targets": [t.model_dump(mode="json") for t in calibration.targets],
        },
    )
