"""Per-state commitment inputs derived from attributes known before the cut (2024-11-30).

A state's stigma (extra commitment to the mine ban) and its mean time to a parliament vote are
not set per state from the outcome: they follow from columns of the state table by a linear
formula whose coefficients are scenario parameters (priors in docs/ODD.md §7, fitted by the
calibration machinery):

    stigmaᵢ = stigma + w_core · coreᵢ + w_host · hostedᵢ + w_pres · presidenciesᵢ
    parliament_monthsᵢ = parliament_months · (1 + w_chamber · (chambersᵢ − 1))

``coreᵢ`` is membership of the Ottawa-process core group (1996–97), ``hostedᵢ`` having hosted
the treaty's adoption, signing or a formal meeting, ``presidenciesᵢ`` the number of Meetings of
States Parties or Review Conferences the state presided over (1999–2024), ``chambersᵢ`` the
chambers of its parliament (sources and dates: sim/data/README.md). A missing value (empty or
``NA``) contributes nothing: no stigma term, one chamber. Every coefficient defaults to 0, so a
scenario that does not set them behaves as before; an explicit ``states.overrides.<ISO3>`` value
still wins over the formula.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from treatysim.scenario.dataset import Row, StateRecord
    from treatysim.scenario.parameters import CommitmentParameters, PipelineParameters

#: Priors of the formula's weights (uniform low–high), for a calibration file's ``priors``; the
#: founding scenario sets their medians. Sources and reasoning: docs/ODD.md §7.3 and §7.5.
FORMULA_PRIORS: dict[str, tuple[float, float]] = {
    "parameters.commitment.stigma_core_group": (0.0, 0.6),
    "parameters.commitment.stigma_host": (0.0, 0.6),
    "parameters.commitment.stigma_presidency": (0.0, 0.3),
    "parameters.pipeline.parliament_second_chamber": (0.0, 0.8),
}

#: Text read as a missing value.
MISSING = frozenset({"", "NA"})


@dataclass(frozen=True)
class AttributeColumn:
    """One ex-ante attribute column of the state table.

    Attributes:
        name: Column name.
        low: Smallest allowed whole number.
        high: Largest allowed whole number.
        meaning: What the value means (for error messages and docs).
    """

    name: str
    low: int
    high: int
    meaning: str


#: The attribute columns, their allowed whole-number ranges and meanings.
ATTRIBUTE_COLUMNS = (
    AttributeColumn("apmbc_core_group", 0, 1, "Ottawa-process core group member (0 or 1)"),
    AttributeColumn("apmbc_hosted", 0, 1, "hosted the convention's adoption, signing or a meeting"),
    AttributeColumn("apmbc_presidencies", 0, 30, "presidencies of the convention's meetings"),
    AttributeColumn("parliament_chambers", 1, 2, "chambers of the national parliament"),
)


def attribute_problems(filename: str, header: Sequence[str], rows: Sequence[Row]) -> list[str]:
    """Malformed attribute values of a state table, one positioned line per problem.

    Each line reads ``FILE:LINE:COL: ISO3.column: message`` (COL is the 1-based field number).
    Columns absent from the header are not checked: their values are all missing.
    """
    problems = []
    for spec in ATTRIBUTE_COLUMNS:
        if spec.name not in header:
            continue
        col = list(header).index(spec.name) + 1
        for row in rows:
            text = row.fields[spec.name].strip()
            if text in MISSING:
                continue
            value = _whole(text)
            if value is None or not spec.low <= value <= spec.high:
                iso3 = row.fields.get("iso3", "").strip() or "?"
                problems.append(
                    f"{filename}:{row.line}:{col}: {iso3}.{spec.name}: '{text}' is not a whole "
                    f"number from {spec.low} to {spec.high} ({spec.meaning}) or NA"
                )
    return problems


def _whole(text: str) -> int | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or value != int(value):
        return None
    return int(value)


def attribute(records: Sequence[StateRecord], name: str) -> NDArray[np.float64]:
    """One attribute for each state, NaN where missing (or where the table has no such column).

    The values were checked when the table was loaded (:func:`attribute_problems`).
    """
    out = np.full(len(records), np.nan)
    for i, record in enumerate(records):
        text = record.columns.get(name, "").strip()
        if text not in MISSING:
            out[i] = float(text)
    return out


def derived_stigma(
    records: Sequence[StateRecord], params: CommitmentParameters
) -> NDArray[np.float64]:
    """Each state's stigma from its ex-ante attributes (commitment units).

    ``stigma + w_core · core + w_host · hosted + w_pres · presidencies``; a missing attribute
    adds nothing.
    """
    terms = (
        (params.stigma_core_group, "apmbc_core_group"),
        (params.stigma_host, "apmbc_hosted"),
        (params.stigma_presidency, "apmbc_presidencies"),
    )
    out = np.full(len(records), float(params.stigma))
    for weight, column in terms:
        if weight:
            out += weight * np.nan_to_num(attribute(records, column), nan=0.0)
    return out


def derived_parliament_months(
    records: Sequence[StateRecord], params: PipelineParameters
) -> NDArray[np.float64]:
    """Each state's mean time from announcement to the parliament's vote (months).

    ``parliament_months · (1 + w_chamber · (chambers − 1))``; a missing chamber count is one.
    """
    chambers = np.nan_to_num(attribute(records, "parliament_chambers"), nan=1.0)
    factor = 1.0 + params.parliament_second_chamber * (chambers - 1.0)
    return params.parliament_months * factor
