"""The calibration language: a base scenario, priors, targets, a distance, ABC-SMC settings.

A calibration file names a base scenario, puts a prior on some of its numbers (scenario key
paths, as sweep factors do), reads targets from an observed dataset, and sets the ABC-SMC method
(Beaumont et al. 2009, "Adaptive approximate Bayesian computation", Biometrika 96:983; Del Moral,
Doucet & Jasra 2012, "An adaptive sequential Monte Carlo method for approximate Bayesian
computation", Statistics and Computing 22:1009).

Each target is one summary statistic with the target's name. Its observed value is computed from
the observed dataset, its simulated value from a run's events, in the same way
(``treatysim.calibration.targets``). The distance between simulated and observed statistics is a
weighted p-norm of the differences, each divided by the target's scale::

    d(s, o) = ( sum_k w_k * |s_k - o_k|**p / scale_k**p ) ** (1/p)

Every model is frozen and forbids unknown keys, as in ``treatysim.scenario.schema``.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from treatysim.scenario.keypath import KeyPathError, parse
from treatysim.scenario.schema import Date, Frozen, Name, Stage, StateId, Whole

CALIBRATION_SCHEMA_VERSION = 1

# --------------------------------------------------------------------------------------------
# priors


class Uniform(Frozen):
    """Uniform prior on [low, high]."""

    distribution: Literal["uniform"]
    low: float = Field(description="Lower bound (the parameter's unit).")
    high: float = Field(description="Upper bound (the parameter's unit); above low.")

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError(f"bounds the wrong way round: low {self.low} >= high {self.high}")
        return self


class LogUniform(Frozen):
    """Log-uniform prior on [low, high]: uniform in log(value); both bounds positive."""

    distribution: Literal["log_uniform"]
    low: float = Field(gt=0, description="Lower bound, > 0 (the parameter's unit).")
    high: float = Field(gt=0, description="Upper bound, > low (the parameter's unit).")

    @model_validator(mode="after")
    def _ordered(self) -> LogUniform:
        if not self.low < self.high:
            raise ValueError(f"bounds the wrong way round: low {self.low} >= high {self.high}")
        return self


class Normal(Frozen):
    """Normal prior with a mean and a standard deviation (unbounded)."""

    distribution: Literal["normal"]
    mean: float = Field(description="Mean (the parameter's unit).")
    sd: float = Field(gt=0, description="Standard deviation, > 0 (the parameter's unit).")


class TruncatedNormal(Frozen):
    """Normal prior truncated to [low, high]; at least one bound is given."""

    distribution: Literal["truncated_normal"]
    mean: float = Field(description="Mean of the untruncated normal (the parameter's unit).")
    sd: float = Field(gt=0, description="Standard deviation of the untruncated normal, > 0.")
    low: float | None = Field(None, description="Lower bound (None: unbounded below).")
    high: float | None = Field(None, description="Upper bound (None: unbounded above).")

    @model_validator(mode="after")
    def _bounds(self) -> TruncatedNormal:
        if self.low is None and self.high is None:
            raise ValueError("a truncated normal needs low, high or both (else use normal)")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"bounds the wrong way round: low {self.low} >= high {self.high}")
        # Refuse a truncation so far in a tail that the prior has (almost) no mass.
        z_lo = -math.inf if self.low is None else (self.low - self.mean) / self.sd
        z_hi = math.inf if self.high is None else (self.high - self.mean) / self.sd
        if z_lo > 8 or z_hi < -8:
            raise ValueError("the bounds lie more than 8 standard deviations from the mean")
        return self


#: A target's stage: a pipeline stage, or ``moved`` (the first of any moved stage).
StageOrMoved = Literal[
    "party", "deliberating", "announced", "approved", "notified", "withdrawn", "retracted",
    "suspended", "moved",
]  # fmt: skip
assert set(StageOrMoved.__args__) == {*Stage.__args__, "moved"}  # type: ignore[attr-defined]

Prior = Annotated[
    Uniform | LogUniform | Normal | TruncatedNormal,
    Field(discriminator="distribution"),
]

# --------------------------------------------------------------------------------------------
# targets


class Window(Frozen):
    """A closed window of calendar dates."""

    start: Date = Field(description="First day of the window (inclusive).")
    end: Date = Field(description="Last day of the window (inclusive), after start.")

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise ValueError(f"window ends ({self.end}) on or before it starts ({self.start})")
        return self

    @property
    def days(self) -> int:
        """Length of the window in days (end minus start)."""
        return (self.end - self.start).days


class TargetBase(Frozen):
    """What every target has: a name (the summary statistic's), a window, a weight, a scale."""

    name: Name = Field(description="The summary statistic's name; unique among the targets.")
    window: Window
    weight: float = Field(
        1.0, ge=0, le=1e6, description="Weight w_k of the target in the distance (default 1)."
    )
    scale: float | None = Field(
        None,
        gt=0,
        description=(
            "Divisor of the difference |simulated - observed| in the distance, in the "
            "statistic's unit. Default per kind: stage_date and stage_span the window's length "
            "in days; "
            "not_moved and quiet_window 1; mover_count max(1, observed count)."
        ),
    )


class StageDate(TargetBase):
    """A dated stage of one state: days from the window's start, censored at its end.

    Statistic: days from ``window.start`` to the state's first ``stage`` (the first of any moved
    stage when ``stage`` is ``moved``), or the window's length if it falls outside the window
    (not reached, or after the end). Unit: days.
    """

    kind: Literal["stage_date"]
    state: StateId
    stage: StageOrMoved = Field(
        description="The pipeline stage (announced, notified, …), or moved: the first move."
    )


class NotMoved(TargetBase):
    """States that did not move within a window.

    Statistic: the share of ``states`` that moved (reached any moved stage) within the window.
    Unit: share, 0 to 1.
    """

    kind: Literal["not_moved"]
    states: list[StateId] = Field(min_length=1, description="The states (ISO3 codes).")


class QuietWindow(TargetBase):
    """A whole window without any mover.

    Statistic: 1 if any of ``states`` (default: every state of the run or the observed table)
    moved within the window, else 0; averaged over replications it is a probability.
    """

    kind: Literal["quiet_window"]
    states: list[StateId] | None = Field(None, description="The states; None: all.")


class MoverCount(TargetBase):
    """The number of movers in a window.

    Statistic: how many of ``states`` (default: all) first moved within the window. Unit: states.
    """

    kind: Literal["mover_count"]
    states: list[StateId] | None = Field(None, description="The states; None: all.")


class StageSpan(TargetBase):
    """How close together several states reached a stage (a joint announcement).

    Statistic: days between the first and the last of ``states`` to reach ``stage`` within the
    window (0 when all did on one day), or the window's length if any did not reach it within
    the window. Unit: days.
    """

    kind: Literal["stage_span"]
    states: list[StateId] = Field(min_length=2, description="The states (ISO3 codes).")
    stage: StageOrMoved = Field(
        "announced", description="The pipeline stage, or moved: the first move."
    )


Target = Annotated[
    StageDate | NotMoved | QuietWindow | MoverCount | StageSpan, Field(discriminator="kind")
]

# --------------------------------------------------------------------------------------------
# distance, method, file


class Distance(Frozen):
    """The distance between simulated and observed summary statistics (see the module doc)."""

    p: Literal[1, 2] = Field(
        2, description="Exponent of the p-norm: 1 (sum of weighted |differences|) or 2."
    )


class Method(Frozen):
    """ABC-SMC settings (docs/calibration.md: the built-in replenishment engine and pyabc's)."""

    engine: Literal["pyabc", "builtin"] = Field(
        "pyabc",
        description=(
            "pyabc: pyabc's ABCSMC with a block sampler and a SQLite database; builtin: "
            "treatysim's own ABC-SMC with a checkpoint per generation."
        ),
    )
    population_size: Whole = Field(
        200, ge=10, le=1_000_000, description="Accepted particles per generation."
    )
    max_generations: Whole = Field(
        10, ge=1, le=1000, description="Generations at most (the first samples the prior)."
    )
    minimum_epsilon: float = Field(
        0.0, ge=0, description="Stop once epsilon falls to this (distance units)."
    )
    max_simulations: Whole = Field(
        1_000_000,
        ge=1,
        le=10**10,
        description="Stop once this many particles were simulated in total (all generations).",
    )
    replications: Whole = Field(
        1,
        ge=1,
        le=10_000,
        description="Simulations per particle; their summary statistics are averaged.",
    )
    block_size: Whole | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="Candidate particles per simulator call (default: the population size).",
    )
    epsilon_quantile: float = Field(
        0.5,
        gt=0,
        lt=1,
        description=(
            "alpha: epsilon_t is this (weighted) quantile of generation t-1's distances; the "
            "built-in engine keeps this share of its particles and replenishes the rest."
        ),
    )
    min_acceptance_rate: float = Field(
        0.0,
        ge=0,
        lt=1,
        description=(
            "Stop when a generation's acceptance rate (of ABC-MCMC moves, for the built-in "
            "engine) falls below this."
        ),
    )


class Calibration(Frozen):
    """A calibration file."""

    schema_version: Literal[1] = Field(description="Version of the calibration language (1).")
    name: Name = Field(description="Short name, used for output folders.")
    description: str = Field("", max_length=20000, description="What is calibrated, and why.")
    base: str = Field(
        min_length=1, description="The base scenario: a file relative to this file, or bundled."
    )
    observed: str = Field(
        "observed_2025",
        min_length=1,
        description="The observed-stage table the targets are read from (bundled name or CSV).",
    )
    treaty: Name = Field(description="The treaty whose stages the targets refer to.")
    priors: dict[str, Prior] = Field(
        min_length=1, max_length=100, description="Scenario key path → prior distribution."
    )
    targets: list[Target] = Field(min_length=1, max_length=1000, description="What is matched.")
    distance: Distance = Field(default_factory=Distance)
    method: Method = Field(default_factory=Method)
    seed: Whole = Field(1, ge=0, le=2**63 - 1, description="Root seed of the calibration.")

    @field_validator("priors")
    @classmethod
    def _key_paths(cls, priors: dict[str, Any]) -> dict[str, Any]:
        for path in priors:
            try:
                parse(path)
            except KeyPathError as err:
                raise ValueError(str(err)) from err
        return priors

    @model_validator(mode="after")
    def _unique_targets(self) -> Calibration:
        names = [t.name for t in self.targets]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"target names must be unique: {', '.join(twice)}")
        return self


def calibration_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of calibration files."""
    return {
        **Calibration.model_json_schema(),
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "treatysim calibration",
    }


def calibration_problems(document: Any) -> list[str]:
    """Every problem of a parsed calibration document, as ``key.path: message`` lines.

    Args:
        document: The parsed YAML/JSON mapping.

    Returns:
        One line per problem; empty when the document is valid.
    """
    try:
        Calibration.model_validate(document)
    except ValidationError as err:
        return [
            f"{'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}" for e in err.errors()
        ]
    return []


def window_of(start: dt.date | str, end: dt.date | str) -> Window:
    """A :class:`Window` from two dates or ISO strings."""
    return Window.model_validate({"start": start, "end": end})
