"""The sweep language: a base scenario, factors, a design, replications, outcomes and a seed.

Following the EMA Workbench's vocabulary, factors (uncertainties and levers) are typed objects
with bounds or values; the design decides the points; replications are seeds derived from the
root seed, the point and the replication.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

from pydantic import Field, model_validator

from treatysim.scenario.types import Frozen, Name

FactorValue = float | int | dt.date | str | bool

#: The per-run outcomes (the M of XLRM): columns of runs.parquet for the primary treaty; the
#: other treaties' columns carry the suffix ``__TREATY``. A sweep summarises the numeric ones.
OUTCOMES = (
    "cascade_size",
    "n_announced",
    "n_notified",
    "n_withdrawn",
    "n_suspended",
    "n_retracted",
    "first_announcement",
    "first_exit",
    "days_to_first_exit",
)
#: Outcomes that are dates, not numbers (a sweep cannot average them).
DATE_OUTCOMES = ("first_announcement", "first_exit")


class Factor(Frozen):
    """One factor of a sweep: a scenario key path and the values it takes."""

    path: str = Field(
        min_length=1,
        max_length=300,
        description=(
            "Scenario key path, e.g. parameters.threat.sensitivity, events.ceasefire.date, "
            "events[0].freed_share or states.overrides.NOR.stigma."
        ),
    )
    name: str | None = Field(None, max_length=60, description="Short label for tables and plots.")
    values: list[FactorValue] | None = Field(
        None, min_length=1, description="Explicit values (grid designs)."
    )
    low: float | dt.date | None = Field(None, description="Lower bound of a range.")
    high: float | dt.date | None = Field(None, description="Upper bound of a range.")
    levels: int | None = Field(
        None, ge=2, le=1000, description="Grid designs: evenly spaced levels across the range."
    )
    distribution: Literal["uniform", "loguniform", "normal"] = Field(
        "uniform",
        description=(
            "How unit-cube samples map onto the range: uniform, log-uniform, or normal with "
            "mean (low + high)/2 and standard deviation (high - low)/4, truncated to the range."
        ),
    )
    integer: bool = Field(False, description="Round sampled values to whole numbers.")
    role: Literal["uncertainty", "lever"] = Field(
        "uncertainty",
        description=(
            "XLRM role (Lempert et al. 2003): uncertainty (what nobody controls, e.g. a ceasefire "
            "date) or lever (a policy setting, e.g. allied reassurance). A sweep with both runs "
            "every lever setting (the levers' values or levels, crossed) in every state of the "
            "world of the uncertainties' design, and its report ranks the settings' robustness."
        ),
    )

    @model_validator(mode="after")
    def _values_or_range(self) -> Factor:
        # A factor of a table design may give neither: its values come from the table's column
        # (the sweep's cross-checks require values or a range for every other design).
        has_range = self.low is not None or self.high is not None
        if self.values is not None and has_range:
            raise ValueError("give either values or low/high, not both")
        if self.levels is not None and not has_range:
            raise ValueError("levels is only for ranges (low, high)")
        if has_range:
            if self.low is None or self.high is None:
                raise ValueError("a range needs both low and high")
            if type(self.low) is not type(self.high) and not (
                isinstance(self.low, float | int) and isinstance(self.high, float | int)
            ):
                raise ValueError("low and high must both be numbers or both be dates")
            if self.low >= self.high:  # type: ignore[operator]
                raise ValueError(f"bounds the wrong way round: low {self.low} >= high {self.high}")
            if (
                self.distribution == "loguniform"
                and isinstance(self.low, float | int)
                and self.low <= 0
            ):
                raise ValueError("a log-uniform range needs low > 0")
            if isinstance(self.low, dt.date):
                if self.distribution == "loguniform":
                    raise ValueError("a date range cannot be log-uniform")
                if self.integer:
                    raise ValueError("integer is for numbers; a date range steps in whole days")
            elif self.integer and math.ceil(self.low) > math.floor(self.high):  # type: ignore[arg-type]
                raise ValueError(f"no whole number between {self.low} and {self.high}")
        return self

    @property
    def label(self) -> str:
        """Name used in tables: ``name`` or the path."""
        return self.name or self.path

    @property
    def is_range(self) -> bool:
        """Whether the factor is a range (low, high), not a list of values or a table column."""
        return self.low is not None


class Design(Frozen):
    """How points are chosen."""

    type: Literal["grid", "lhs", "sobol", "saltelli", "morris", "table"] = Field(
        description=(
            "grid: every combination; lhs: Latin hypercube; sobol: scrambled Sobol sequence "
            "(scipy.stats.qmc); saltelli: Saltelli sampling for Sobol indices (SALib); "
            "morris: Morris trajectories (SALib); table: explicit points from a CSV file."
        )
    )
    samples: int | None = Field(
        None,
        ge=1,
        le=10_000_000,
        description=(
            "lhs/sobol: number of points; saltelli: base sample N (points = N·(D+2)); "
            "morris: number of trajectories (points = r·(D+1))."
        ),
    )
    levels: int = Field(4, ge=2, le=100, description="Morris: grid levels.")
    second_order: bool = Field(False, description="Saltelli: also estimate second-order indices.")
    file: str | None = Field(
        None, description="table: CSV with one column per factor (name or path), one row a point."
    )

    @model_validator(mode="after")
    def _sizes(self) -> Design:
        if self.type in {"lhs", "sobol", "saltelli", "morris"} and self.samples is None:
            raise ValueError(f"a {self.type} design needs samples")
        if self.type in {"sobol", "saltelli"} and self.samples is not None:
            n = self.samples
            if n & (n - 1):
                below = 1 << (n.bit_length() - 1)
                raise ValueError(
                    f"{self.type} samples must be a power of two "
                    f"(got {n}; try {below} or {below * 2})"
                )
        if self.type == "table" and not self.file:
            raise ValueError("a table design needs file")
        if self.type != "table" and self.file:
            raise ValueError("file is only for table designs")
        return self


class Robustness(Frozen):
    """How a sweep's report judges lever settings across the states of the world."""

    outcome: str = Field(
        "cascade_size", description="The outcome (its per-point mean) the levers are judged on."
    )
    satisficing: str | None = Field(
        None,
        max_length=40,
        description=(
            'Acceptable outcome, e.g. "<= 5" (an operator and a number); default: at most the '
            "median of the outcome's point means."
        ),
    )
    percentile: float = Field(
        90.0, ge=0, le=100, description="Percentile reported beside the mean."
    )
    larger_is_better: bool = Field(False, description="The outcome is better when larger.")


class Sweep(Frozen):
    """A sweep file."""

    schema_version: Literal[1] = Field(description="Version of the sweep language (1).")
    name: Name = Field(description="Short name, used for output folders.")
    description: str = Field("", max_length=20000)
    base: str = Field(min_length=1, description="The base scenario file, relative to this file.")
    factors: list[Factor] = Field(min_length=1, max_length=100, description="What varies.")
    design: Design
    replications: int = Field(10, ge=1, le=1_000_000, description="Replications per point.")
    outcomes: list[str] = Field(
        default_factory=lambda: ["cascade_size", "n_withdrawn"],
        min_length=1,
        description="Outcome columns of runs.parquet to summarise per point.",
    )
    thresholds: list[int] = Field(
        default_factory=lambda: [3, 6],
        description="Report P(cascade_size >= k) for each k.",
    )
    seed: int = Field(1, ge=0, le=2**63 - 1, description="Root seed of the sweep.")
    timeseries: Literal["counts", "none"] = Field(
        "none", description="Time series to keep per run (full series are too large for sweeps)."
    )
    robustness: Robustness | None = Field(
        None, description="How the report judges lever settings (sweeps with levers)."
    )
    chunk_size: int | None = Field(
        None, ge=1, le=10_000, description="Runs per task sent to a worker (default: automatic)."
    )

    @property
    def levers(self) -> list[Factor]:
        """The factors with role ``lever``."""
        return [f for f in self.factors if f.role == "lever"]

    @property
    def uncertainties(self) -> list[Factor]:
        """The factors with role ``uncertainty``."""
        return [f for f in self.factors if f.role == "uncertainty"]

    @property
    def crossed(self) -> bool:
        """Whether the design crosses every lever setting with a sampled uncertainty design.

        True when the sweep has both roles and a sampled (lhs or sobol) design: the levers'
        settings (their values or levels, every combination) are each run at every point of the
        uncertainties' design. A grid crosses every factor anyway, and a table is taken as given.
        """
        return (
            bool(self.levers) and bool(self.uncertainties) and self.design.type in ("lhs", "sobol")
        )
