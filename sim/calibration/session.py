"""Calibrate a calibration file: the treaty model on the batched engine, workers, the manifest.

:func:`calibrate_file` is what ``treatysim calibrate`` runs. It builds the block simulator
(:class:`~treatysim.calibration.treaty.TreatySimulator`; with ``workers > 1`` each block is
split into contiguous parts run by a pool of processes, each holding its own simulator, so the
statistics do not depend on the number of workers), runs or resumes ABC-SMC
(:func:`~treatysim.calibration.calibrate.run_abc`) with pyabc or the built-in engine, records
the hashes of its inputs in the manifest, and runs the posterior predictive check
(``ppc.parquet``: the targets' statistics of runs whose parameters are drawn from the posterior).
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import logging
import multiprocessing
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from treatysim.calibration.calibrate import CalibrationResult, run_abc
from treatysim.calibration.generation import Generation
from treatysim.calibration.priors import PriorSet
from treatysim.calibration.simulator import Params, Stats, simulation_seed
from treatysim.calibration.store import MANIFEST, draw_posterior, read_manifest, write_json
from treatysim.calibration.store import write_parquet as store_parquet
from treatysim.calibration.targets import calibration_distance, observed_statistics
from treatysim.calibration.treaty import TreatySimulator
from treatysim.scenario.calibration import Method
from treatysim.scenario.calibration_load import LoadedCalibration, base_path, load_calibration
from treatysim.scenario.dataset import dataset_path

#: The posterior predictive check's file in the calibration folder.
PPC = "ppc.parquet"
#: Generation index of the posterior predictive check's simulation seeds.
PPC_GENERATION = 10_000
#: The loggers pyabc writes to (quietened to warnings: only treatysim's progress lines show).
PYABC_LOGGERS = ("ABC", "pyabc")


class PyabcMissingError(RuntimeError):
    """``--method pyabc`` without pyabc installed."""


def quiet_pyabc() -> None:
    """Keep pyabc's INFO lines (one per generation and sampler) off the terminal."""
    for name in PYABC_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def require_pyabc() -> None:
    """Raise :class:`PyabcMissingError`, saying how to install it, when pyabc is missing."""
    try:
        import pyabc  # noqa: F401
    except ImportError:
        raise PyabcMissingError(
            "the pyabc engine needs pyabc: pip install 'treatysim[calibrate]' "
            "(or run with --method smc, treatysim's own ABC-SMC)"
        ) from None


# --------------------------------------------------------------------------------------------
# workers

_WORKER: TreatySimulator | None = None


def _start_worker(path: str) -> None:
    global _WORKER
    loaded = load_calibration(path)
    _WORKER = TreatySimulator(loaded.base, loaded.model.targets, loaded.model.treaty)


def _work(params: list[dict[str, float]], seeds: list[int]) -> list[Stats]:
    assert _WORKER is not None
    return _WORKER(params, seeds)


class PoolSimulator:
    """A block simulator that splits each block across worker processes.

    Each worker loads the calibration file once and runs its part of a block on the batched
    engine; the parts are contiguous and each simulation has its own seed, so the result equals
    one :class:`TreatySimulator` call on the whole block.

    Args:
        path: The calibration file.
        workers: Worker processes (2 or more).
    """

    def __init__(self, path: Path, workers: int) -> None:
        self.workers = workers
        context = multiprocessing.get_context("spawn")  # no fork of pyabc's threads
        self.pool = cf.ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start_worker, initargs=(str(path),)
        )

    def __call__(self, params: Sequence[Params], seeds: Sequence[int]) -> list[Stats]:
        """Statistics of a block, computed in ``workers`` parts."""
        size = -(-len(params) // self.workers)
        parts = [
            self.pool.submit(_work, [dict(p) for p in params[i : i + size]],
                             [int(s) for s in seeds[i : i + size]])
            for i in range(0, len(params), size)
        ]  # fmt: skip
        return [stats for part in parts for stats in part.result()]

    def close(self) -> None:
        """Stop the workers."""
        self.pool.shutdown(cancel_futures=True)


# --------------------------------------------------------------------------------------------
# the manifest's provenance


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def git_commit(folder: Path) -> str | None:
    """The git commit of the code (None outside a git checkout), with ``+dirty`` if modified."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        head = subprocess.run(  # noqa: S603 (fixed arguments)
            [git, "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(  # noqa: S603 (fixed arguments)
            [git, "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def provenance(loaded: LoadedCalibration) -> dict[str, Any]:
    """Hashes of the calibration file, the base scenario (file and resolved), the data files."""
    cal = loaded.model
    base = loaded.base
    assert loaded.file.path is not None and base.path is not None
    scenario = base.model
    data: dict[str, str] = {}
    if scenario.states.dataset is not None:
        data[scenario.states.dataset] = sha256_file(
            dataset_path(scenario.states.dataset, base.base_dir)
        )
    data[cal.observed] = sha256_file(dataset_path(cal.observed, loaded.file.base_dir))
    return {
        "calibration_file": {
            "path": str(loaded.file.path),
            "sha256": sha256_file(loaded.file.path),
        },
        "base_scenario": {
            "path": str(base_path(cal.base, loaded.file.path)),
            "sha256": sha256_file(base.path),
            "resolved_sha256": hashlib.sha256(scenario.model_dump_json().encode()).hexdigest(),
        },
        "data_files": data,
        "code": {"git_commit": git_commit(Path(__file__).resolve().parent)},
    }


# --------------------------------------------------------------------------------------------
# run


def predictive_check(
    folder: Path,
    simulate: Callable[[Sequence[Params], Sequence[int]], list[Stats]],
    names: Sequence[str],
    draws: int,
    seed: int,
) -> pd.DataFrame:
    """Simulate the targets at ``draws`` parameter sets drawn from the posterior (``ppc.parquet``).

    Returns:
        One row per draw: ``draw``, ``particle``, the parameters, then each target's statistic.
    """
    drawn = draw_posterior(folder, draws, seed)
    params = [{n: float(row[n]) for n in names} for _, row in drawn.iterrows()]
    seeds = [simulation_seed(seed, PPC_GENERATION, i) for i in range(draws)]
    stats = pd.DataFrame(simulate(params, seeds))
    frame = pd.concat([drawn.reset_index(drop=True), stats], axis=1)
    frame.insert(0, "draw", np.arange(draws, dtype=np.int64))
    store_parquet(folder / PPC, frame)
    return frame


def calibrate_file(
    path: Path | str,
    out: Path | str,
    *,
    resume: bool = False,
    workers: int = 1,
    engine: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    ppc_draws: int = 200,
    progress: Callable[[Generation], None] | None = None,
) -> CalibrationResult:
    """Run or resume the calibration a file describes, into a calibration folder.

    Args:
        path: The calibration file.
        out: The calibration folder.
        resume: Continue the calibration in ``out``.
        workers: Processes that simulate (1: in this process).
        engine: ``pyabc`` or ``builtin`` instead of the file's ``method.engine``.
        overrides: Other ``method`` settings instead of the file's (e.g. ``population_size``).
        ppc_draws: Posterior draws simulated for the predictive check (0: none).
        progress: Called after each generation.

    Raises:
        ValidationError: The file or its base scenario is not valid.
        PyabcMissingError: The pyabc engine without pyabc installed.
        CalibrationFolderError: ``out`` holds another calibration, or one not to be resumed.
    """
    path = Path(path)
    loaded = load_calibration(path)
    cal = loaded.model
    settings = {**cal.method.model_dump(), **(overrides or {})}
    if engine is not None:
        settings["engine"] = engine
    method = Method.model_validate(settings)
    if method.engine == "pyabc":
        require_pyabc()
        quiet_pyabc()
    observed = observed_statistics(cal.targets, cal.treaty, cal.observed)
    priors = PriorSet.from_mapping(cal.priors)
    local = TreatySimulator(loaded.base, cal.targets, cal.treaty)
    pool = PoolSimulator(path, workers) if workers > 1 else None
    simulate = pool if pool is not None else local
    try:
        result = run_abc(
            priors,
            simulate,
            observed,
            calibration_distance(cal, observed),
            method,
            cal.seed,
            out,
            resume=resume,
            describe={
                "calibration": {
                    "name": cal.name,
                    "description": cal.description,
                    "base": cal.base,
                    "observed": cal.observed,
                    "treaty": cal.treaty,
                },
                "targets": [t.model_dump(mode="json") for t in cal.targets],
                "provenance": provenance(loaded),
            },
            progress=progress,
        )
        if ppc_draws > 0:
            predictive_check(result.folder, simulate, priors.names, ppc_draws, cal.seed)
            manifest = read_manifest(result.folder)
            manifest["ppc"] = {"draws": ppc_draws, "file": PPC}
            manifest["workers"] = workers
            write_json(result.folder / MANIFEST, manifest)
    finally:
        if pool is not None:
            pool.close()
    return result
