"""The calibration folder: particles per generation, diagnostics, manifest; atomic writes.

Layout::

    CALDIR/
      manifest.json            seed, versions, priors, targets, observed statistics, settings
      particles/gen_000.parquet one file per generation: generation, particle, one column per
                               parameter (its key path), weight, distance
      generations.parquet      per generation: epsilon, n_accepted, n_evaluations,
      generations.json         n_simulations, acceptance_rate, ess, accepted_moves, distinct
                               (the same table as JSON)
      pyabc.db                 the pyabc engine's SQLite database (pyabc engine only)

Every file is written to a temporary file in the same folder and moved into place with
``os.replace``, so a reader (or a resumed run) never sees half a file. ``generations.json`` is
written after the generation's particle file and is the record of which generations are done.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from treatysim.calibration.generation import Generation

MANIFEST = "manifest.json"
GENERATIONS = "generations"
PARTICLES = "particles"
PYABC_DB = "pyabc.db"


def _atomic(path: Path, write: Any) -> None:
    """Call ``write(tmp_path)`` and move the temporary file onto ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (sorted keys off; two-space indent)."""
    text = json.dumps(data, indent=2, allow_nan=True, default=str) + "\n"
    _atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    """Write a DataFrame as Parquet atomically."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    _atomic(path, lambda tmp: pq.write_table(table, tmp))


def particle_path(folder: Path, t: int) -> Path:
    """The particle file of generation ``t``."""
    return Path(folder) / PARTICLES / f"gen_{t:03d}.parquet"


def particle_frame(gen: Generation, names: Sequence[str]) -> pd.DataFrame:
    """A generation's particles as a table (one column per parameter)."""
    frame = pd.DataFrame(gen.theta, columns=list(names))
    frame.insert(0, "particle", np.arange(len(frame), dtype=np.int64))
    frame.insert(0, "generation", np.full(len(frame), gen.t, dtype=np.int64))
    frame["weight"] = gen.weights
    frame["distance"] = gen.distances
    return frame


def write_generation(folder: Path, gen: Generation, names: Sequence[str]) -> None:
    """Write a generation's particle file."""
    write_parquet(particle_path(folder, gen.t), particle_frame(gen, names))


def write_diagnostics(folder: Path, gens: Iterable[Generation]) -> pd.DataFrame:
    """Write the diagnostics table (Parquet and JSON); returns it."""
    rows = [g.diagnostics() for g in gens]
    frame = pd.DataFrame(
        rows,
        columns=[
            "generation", "epsilon", "n_accepted", "n_evaluations", "n_simulations",
            "acceptance_rate", "ess", "accepted_moves", "distinct",
        ],
    )  # fmt: skip
    write_parquet(Path(folder) / f"{GENERATIONS}.parquet", frame)
    write_json(Path(folder) / f"{GENERATIONS}.json", rows)
    return frame


def save_generation(folder: Path, gens: Sequence[Generation], names: Sequence[str]) -> None:
    """Checkpoint after the last of ``gens``: its particle file, then the diagnostics."""
    write_generation(folder, gens[-1], names)
    write_diagnostics(folder, gens)


def read_generations(folder: Path, names: Sequence[str]) -> list[Generation]:
    """The completed generations of a folder (those listed in ``generations.json``).

    Raises:
        FileNotFoundError: A listed generation's particle file is missing.
    """
    path = Path(folder) / f"{GENERATIONS}.json"
    if not path.exists():
        return []
    gens = []
    for row in json.loads(path.read_text(encoding="utf-8")):
        t = int(row["generation"])
        frame = pq.read_table(particle_path(folder, t)).to_pandas()
        gens.append(
            Generation(
                t=t,
                theta=frame[list(names)].to_numpy(dtype=float),
                weights=frame["weight"].to_numpy(dtype=float),
                distances=frame["distance"].to_numpy(dtype=float),
                epsilon=float(row["epsilon"]),
                n_evaluations=int(row["n_evaluations"]),
                n_simulations=int(row["n_simulations"]),
                accepted_moves=row.get("accepted_moves"),
            )
        )
    return gens


def read_manifest(folder: Path) -> dict[str, Any]:
    """The folder's manifest."""
    return dict(json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8")))


def posterior(folder: Path) -> pd.DataFrame:
    """The last generation's particles (parameter columns, ``weight``, ``distance``)."""
    rows = json.loads((Path(folder) / f"{GENERATIONS}.json").read_text(encoding="utf-8"))
    if not rows:
        raise FileNotFoundError(f"{folder}: no completed generation")
    return pq.read_table(particle_path(folder, int(rows[-1]["generation"]))).to_pandas()


def draw_posterior(folder: Path, n: int, seed: int) -> pd.DataFrame:
    """``n`` parameter sets resampled from the posterior by weight (multinomial), seeded.

    The input of posterior ensembles: replication ``i`` of a run takes row ``i``.

    Args:
        folder: The calibration folder.
        n: Number of draws.
        seed: Seed of the resampling.

    Returns:
        One row per draw: the parameter columns and ``particle`` (the drawn particle's index).
    """
    frame = posterior(folder)
    names = [c for c in frame.columns if c not in {"generation", "particle", "weight", "distance"}]
    weights = frame["weight"].to_numpy(dtype=float)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    idx = rng.choice(len(frame), size=n, p=weights / weights.sum())
    return frame.iloc[idx][["particle", *names]].reset_index(drop=True)
