"""The Python API: load a scenario, simulate it, read the tables, save a run folder.

``import treatysim as ts`` gives these names (see DESIGN.md, "Python API")::

    scenario = ts.load("ottawa_2025", overrides={"parameters.threat.sensitivity": 3.0})
    result = ts.simulate(scenario, replications=200, seed=1)
    result.runs, result.events, result.timeseries      # pandas DataFrames
    result.save("results/my_run")                       # the folder `treatysim run` writes

The command line is a thin layer over the same functions: ``treatysim run`` is
:func:`load`, :func:`simulate` and :meth:`Result.save`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from treatysim.calibration.ensemble import posterior_maker
from treatysim.report.run_report import build_report
from treatysim.run.runner import Simulation, simulate_tables, write_run_folder
from treatysim.scenario.bundled import bundled_or_path
from treatysim.scenario.load import Loaded, load_scenario, revalidate
from treatysim.scenario.schema import Scenario

if TYPE_CHECKING:
    import pandas as pd

Engine = Literal["auto", "mesa", "batched"]
Timeseries = Literal["none", "counts", "full"]


def load(source: str | Path, overrides: Mapping[str, Any] | None = None) -> Loaded[Scenario]:
    """Load and validate a scenario file, or a bundled scenario by name.

    Args:
        source: A file path, or a bundled name such as ``"ottawa_2025"`` or
            ``"teaching/granovetter_riot"``.
        overrides: Key paths and values applied on top of the file, validated as the file is
            (the API's ``--set``), e.g. ``{"events.ceasefire.date": "2026-06-01"}``.

    Returns:
        The validated scenario: ``.model`` is the frozen :class:`Scenario`, ``.path`` its file.

    Raises:
        ValidationError: Every problem, as ``FILE:LINE:COL: key.path: message`` lines in
            ``.problems``.
    """
    loaded = load_scenario(bundled_or_path(str(source)))
    return revalidate(loaded, list((overrides or {}).items()), origin="overrides")


@dataclass
class Result:
    """The replications of a scenario, in memory: tables as DataFrames, and a way to store them.

    Attributes:
        simulation: The runner's record (scenario as it ran, seeds, run ids, Arrow tables).
    """

    simulation: Simulation
    _frames: tuple[Any, Any, Any] | None = field(default=None, repr=False)

    def _tables(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
        if self._frames is None:
            self._frames = self.simulation.tables.frames()
        return self._frames

    @property
    def runs(self) -> pd.DataFrame:
        """One row per replication: ids, seed, status and outcomes (runs.parquet's columns)."""
        return self._tables()[0]

    @property
    def events(self) -> pd.DataFrame:
        """One row per stage change (events.parquet's columns)."""
        return self._tables()[1]

    @property
    def timeseries(self) -> pd.DataFrame | None:
        """Per step (and state, for ``full``) records; None when simulated with ``none``."""
        return self._tables()[2]

    @property
    def seeds(self) -> list[int]:
        """Every replication's seed, in order (also in the manifest)."""
        return [task.seed for task in self.simulation.tasks]

    @property
    def failed(self) -> int:
        """Replications that raised (kept as ``failed`` rows of :attr:`runs`)."""
        return self.simulation.failed

    def save(
        self,
        folder: str | Path,
        *,
        report: bool = True,
        svg: bool = False,
        command: Sequence[str] | None = None,
    ) -> Path:
        """Write the run folder ``treatysim run`` writes, with its report unless ``report=False``.

        Args:
            folder: A new or empty folder.
            report: Also write summary.json, summary.md and plots/.
            svg: Also write the plots as SVG.
            command: The command line recorded in the manifest (default: the API call).

        Returns:
            The folder.

        Raises:
            ValidationError: The folder exists and is not empty.
        """
        target = Path(folder)
        write_run_folder(self.simulation, target, command=command or ["treatysim.simulate"])
        if report:
            build_report(target, svg=svg)
        return target


def simulate(
    scenario: Loaded[Scenario] | str | Path,
    *,
    replications: int | None = None,
    seed: int | None = None,
    engine: Engine = "auto",
    timeseries: Timeseries = "none",
    workers: int = 1,
    executor: Executor | None = None,
    progress: bool = False,
    posterior: str | Path | None = None,
) -> Result:
    """Run a scenario's seeded replications and return their tables in memory.

    Replication ``r`` draws every random number from the seed ``replication_seed(seed, r)``, so
    the tables do not depend on ``workers``, the executor or the engine.

    Args:
        scenario: A loaded scenario (:func:`load`), or a file path or bundled name.
        replications: Overrides the scenario's ``run.replications``.
        seed: Overrides the scenario's ``run.seed`` (the root seed).
        engine: ``"mesa"`` (the Mesa model, one replication at a time), ``"batched"`` (every
            replication of a block on one array axis) or ``"auto"`` (the batched engine wherever
            it supports the scenario).
        timeseries: ``"none"``, ``"counts"`` (states per stage per step) or ``"full"``.
        workers: Processes (1: in this process).
        executor: Any ``concurrent.futures.Executor`` to run on instead of a process pool.
        progress: Show a progress display.
        posterior: A calibration folder: each replication's parameters are drawn from its
            posterior (weighted particles), seeded from the root seed, so the statistics cover
            parameter and seed uncertainty together (recorded in the manifest with the
            folder's hash).

    Raises:
        ValidationError: Bad input (the scenario, fewer than one replication, or a bad
            calibration folder).
    """
    loaded = scenario if isinstance(scenario, Loaded) else load(scenario)
    simulation = simulate_tables(
        loaded,
        replications=replications,
        seed=seed,
        timeseries=timeseries,
        workers=workers,
        executor=executor,
        quiet=not progress,
        engine=engine,
        ensemble=posterior_maker(posterior) if posterior is not None else None,
    )
    return Result(simulation)
