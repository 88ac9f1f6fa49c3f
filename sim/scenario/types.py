"""The building blocks of the scenario and sweep languages.

Every model of a scenario or sweep file derives from :class:`Frozen`; identifiers, dates and
whole numbers are annotated types that reject what YAML would silently coerce (a number for a
date, ``true`` for ``1``); :func:`param` documents a model parameter's default, unit, range and
source. ``SCHEMA_VERSION`` is the version of both languages, checked once for either kind of file
by :mod:`treatysim.scenario.load`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

#: The version of the scenario and sweep languages this treatysim reads.
SCHEMA_VERSION = 1

#: Stages of the withdrawal pipeline, in the order a state moves through them.
PIPELINE_STAGES = ("party", "deliberating", "announced", "approved", "notified", "withdrawn")
#: Stages outside the forward pipeline.
SIDE_STAGES = ("retracted", "suspended")
STAGES = PIPELINE_STAGES + SIDE_STAGES
#: The one definition of "moved to leave" a treaty, used by tables, plots and scores alike: the
#: state announced an exit (or went further down the pipeline) or suspended the treaty.
#: Deliberating is not moving; a retraction undoes a move but the move happened.
MOVED_STAGES = ("announced", "approved", "notified", "withdrawn", "suspended")

StateId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,31}$",
        description="A state's id: its ISO 3166-1 alpha-3 code, or a synthetic agent's name.",
    ),
]
Name = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]{0,39}$",
        description="An identifier: lower case letters, digits and underscores.",
    ),
]


def _not_a_number(value: Any) -> Any:
    """Refuse numbers where a date is expected (pydantic would read 0 as 1970-01-01)."""
    if isinstance(value, bool | int | float):
        raise ValueError(f"expected a date written as YYYY-MM-DD, not the number {value!r}")
    return value


#: A calendar date; a bare number is an error, not a Unix timestamp.
Date = Annotated[dt.date, BeforeValidator(_not_a_number)]


def _quoted_whole(value: Any) -> Any:
    """Read a quoted whole number (``"2025"``) as the number, as floats read ``"6"``."""
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    return value


#: A whole number; true/false are errors, not 1/0. A quoted whole number is read as the number,
#: the same rule as for floats (``"6"`` is 6.0).
Whole = Annotated[int, BeforeValidator(_quoted_whole), Field(strict=True)]

Stage = Literal[
    "party", "deliberating", "announced", "approved", "notified", "withdrawn", "retracted",
    "suspended",
]  # fmt: skip


class Frozen(BaseModel):
    """Base for every scenario model: immutable, and unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


def param(default: Any, unit: str, description: str, *, ge: float, le: float, source: str) -> Any:
    """A model parameter: a bounded field whose default, unit, range and source are documented.

    Args:
        default: The documented default value.
        unit: The unit, as it will appear in the ODD parameter table.
        description: What the parameter does.
        ge: Lowest allowed value.
        le: Highest allowed value.
        source: Where the default comes from (literature, data, or calibration).
    """
    return Field(
        default,
        ge=ge,
        le=le,
        description=f"{description} Unit: {unit}.",
        json_schema_extra={"unit": unit, "source": source},
    )
