"""Provenance of inputs: which numbers were known before a date, read from the outcome, or fitted.

A scenario keeps its numbers plain and tags them in a sibling top-level mapping, keyed by key
path (the paths ``--set`` and sweep factors use)::

    provenance:
      states.overrides.NOR.stigma:
        kind: observed                 # read from the outcome being modelled
        date: 2025-04-04
        source: Reuters, 2025-04-04, Norway stays in "to maintain the stigma"
      threat_sources.RUS.tied_down_share:
        kind: ex_ante                  # known on `date`, from `source`
        date: 2025-03-30
        source: Pevkur, Financial Times, 2025-03-30
      parameters.threat.sensitivity:
        kind: fitted                   # fitted to data up to `date` (no date: to the outcome)
        date: 2025-12-31
        source: hand-calibrated in-sample to the 2025 cascade (docs/ODD.md section 8)

A path may name a default the file does not set (``parameters.threat.sensitivity``): the run uses
that value too. A dataset CSV tags its columns in a side file next to it,
``<stem>.provenance.yaml``, with a ``columns:`` mapping of the same entries (see
``sim/data/europe_states.provenance.yaml``). An observed-stage table is the outcome itself.

:func:`flag_inputs` lists the inputs a backtest with a cutoff must not rely on: every
``observed`` input, every ``fitted`` input without a date or fitted to data after the cutoff, and
every ``ex_ante`` input known only after it. Without a cutoff it lists the ``observed`` and
``fitted`` inputs (the run report's list).

A run that overrides a tagged input retags it (:mod:`treatysim.scenario.retag`): ``override``
for ``--set``, ``swept`` for a sweep factor, ``fitted`` for a posterior draw. An outcome-derived
input replaced by a user's value is then no longer flagged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from treatysim.scenario.errors import ValidationError
from treatysim.scenario.explain import did_you_mean, validate_document
from treatysim.scenario.types import Date, Frozen
from treatysim.scenario.yamlio import load_yaml_file

if TYPE_CHECKING:
    from treatysim.scenario.schema import Scenario

Kind = Literal["ex_ante", "observed", "fitted", "override", "swept"]

#: What each kind means (for reports and the JSON schema).
KINDS: dict[str, str] = {
    "ex_ante": "known on `date` (before the outcome), from `source`",
    "observed": "read from the outcome the scenario models",
    "fitted": "fitted to data up to `date` (no date: fitted to the outcome)",
    "override": "set for this run by the user (`--set` or the API's overrides; `source`)",
    "swept": "varied by a sweep factor (`source` names the factor and the sweep file)",
}
#: Kinds a run gives an input it overrides (:mod:`treatysim.scenario.retag`); a scenario file
#: may carry them too (a run folder's resolved scenario.yaml does).
SET_FOR_RUN = ("override", "swept")


class Provenance(Frozen):
    """Where one input's value comes from."""

    kind: Kind = Field(
        description=(
            "ex_ante: known before `date`, from `source`; observed: read from the outcome being "
            "modelled; fitted: calibrated to data up to `date` (no date: to the outcome); "
            "override: set for a run by `--set` (the source is the --set text); swept: varied "
            "by a sweep factor (the source names the factor and the sweep file)."
        )
    )
    date: Date | None = Field(
        None,
        description=(
            "ex_ante: the date the value was known (required); observed: the date of the "
            "observation; fitted: the last date of the data it was fitted to."
        ),
    )
    source: str = Field("", max_length=2000, description="Where the value comes from.")

    @model_validator(mode="after")
    def _ex_ante_has_date(self) -> Provenance:
        if self.kind == "ex_ante" and self.date is None:
            raise ValueError("an ex_ante input needs the date it was known")
        return self


class DatasetProvenance(Frozen):
    """The side file ``<dataset stem>.provenance.yaml``: provenance of a dataset's columns."""

    schema_version: Literal[1] = Field(description="Version of the provenance file (1).")
    columns: dict[str, Provenance] = Field(
        default_factory=dict, description="Column name to its provenance."
    )


def side_file(dataset: Path) -> Path:
    """The provenance side file of a dataset CSV (it may not exist)."""
    return dataset.with_name(f"{dataset.stem}.provenance.yaml")


@dataclass(frozen=True)
class TaggedInput:
    """One tagged input a run uses.

    Attributes:
        where: ``scenario`` or ``dataset:<file name>``.
        key: The key path (scenario) or column name (dataset).
        kind: One of :data:`KINDS`.
        date: The provenance date, if any.
        source: Where the value comes from.
        reason: Why it is flagged (empty if it is not).
    """

    where: str
    key: str
    kind: str
    date: dt.date | None
    source: str
    reason: str = ""

    def as_dict(self) -> dict[str, str | None]:
        """JSON-ready."""
        return {
            "where": self.where,
            "key": self.key,
            "kind": self.kind,
            "date": self.date.isoformat() if self.date else None,
            "source": self.source,
            "reason": self.reason,
        }

    def line(self) -> str:
        """One line for a report: ``key (kind, date): reason; source``."""
        date = f", {self.date}" if self.date else ""
        where = "" if self.where == "scenario" else f"{self.where}: "
        source = f" — {self.source}" if self.source else ""
        return f"{where}{self.key} ({self.kind}{date}): {self.reason}{source}"


def reason(entry: Provenance, cutoff: dt.date | None) -> str:
    """Why an input is flagged for a cutoff ("" if not); without a cutoff, non-ex-ante inputs.

    A value set for the run (``override``, ``swept``) is the user's choice, not read from the
    outcome: it is not flagged (the manifest and the report list it separately).
    """
    if entry.kind in SET_FOR_RUN:
        return ""
    if entry.kind == "observed":
        return "read from the outcome"
    if entry.kind == "fitted":
        if entry.date is None:
            return "fitted to the outcome"
        if cutoff is None or entry.date > cutoff:
            return f"fitted to data up to {entry.date}"
        return ""
    if cutoff is not None and entry.date is not None and entry.date > cutoff:
        return f"known only on {entry.date}, after the cutoff {cutoff}"
    return ""


def tagged_inputs(
    scenario: Scenario, dataset: DatasetProvenance | None = None, dataset_name: str = ""
) -> list[TaggedInput]:
    """Every tagged input of a scenario and its dataset, unflagged."""
    out = [
        TaggedInput("scenario", key, e.kind, e.date, e.source)
        for key, e in scenario.provenance.items()
    ]
    if dataset is not None:
        out.extend(
            TaggedInput(f"dataset:{dataset_name}", key, e.kind, e.date, e.source)
            for key, e in dataset.columns.items()
        )
    return out


def flag_inputs(
    scenario: Scenario,
    dataset: DatasetProvenance | None = None,
    dataset_name: str = "",
    cutoff: dt.date | None = None,
) -> list[TaggedInput]:
    """The tagged inputs flagged for a cutoff (see the module docstring), with their reasons."""
    entries = dict(scenario.provenance)
    out = []
    for item in tagged_inputs(scenario, dataset, dataset_name):
        entry = (
            entries[item.key] if item.where == "scenario" else dataset.columns[item.key]  # type: ignore[union-attr]
        )
        why = reason(entry, cutoff)
        if why:
            out.append(TaggedInput(item.where, item.key, item.kind, item.date, item.source, why))
    return out


def load_dataset_provenance(
    dataset: Path, columns: Sequence[str] | None = None
) -> DatasetProvenance | None:
    """The validated side file of a dataset CSV, or None if it has none.

    Args:
        dataset: The dataset CSV.
        columns: The CSV's columns; a tagged column not among them is a problem.

    Raises:
        ValidationError: The side file is malformed (``FILE:LINE:COL: key.path: message``).
    """
    path = side_file(dataset)
    if not path.is_file():
        return None
    doc = load_yaml_file(path)
    model = validate_document(doc, DatasetProvenance)
    if columns is not None:
        problems = [
            doc.problem(
                ("columns", name),
                f"columns.{name}",
                f"{dataset.name} has no column '{name}'" + did_you_mean(name, columns),
                key=True,
            )
            for name in model.columns
            if name not in columns
        ]
        if problems:
            raise ValidationError(problems)
    return model
