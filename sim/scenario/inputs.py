"""The tagged inputs of a scenario and its dataset, and those a cutoff flags.

Joins a scenario's ``provenance:`` mapping with its dataset's provenance side file
(:mod:`treatysim.scenario.provenance`) for the run manifest, the run report and ``backtest``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from treatysim.scenario.dataset import DatasetError, dataset_path
from treatysim.scenario.provenance import (
    KINDS,
    SET_FOR_RUN,
    DatasetProvenance,
    Provenance,
    TaggedInput,
    flag_inputs,
    load_dataset_provenance,
    tagged_inputs,
)
from treatysim.scenario.retag import retag
from treatysim.scenario.schema import Scenario


def dataset_provenance(
    scenario: Scenario, base_dir: Path | None = None
) -> tuple[DatasetProvenance | None, str]:
    """The scenario's dataset's provenance side file (None if it has none) and the CSV's name."""
    if scenario.states.synthetic is not None:
        return None, ""
    try:
        path = dataset_path(scenario.states.dataset, base_dir)
    except DatasetError:
        return None, ""
    return load_dataset_provenance(path), path.name


def posterior_tags(record: Mapping[str, Any] | None) -> dict[str, Provenance]:
    """Provenance of the parameters a posterior ensemble sets: ``fitted`` by the calibration.

    Fitted to data up to its targets' last day (``data_until`` in the record; unknown: no date).
    """
    if not record:
        return {}
    until = record.get("data_until")
    source = f"posterior of the calibration in {record.get('folder')}"
    return {
        str(key): Provenance(kind="fitted", date=until, source=source)
        for key in record.get("parameters", [])
    }


def _with_posterior(scenario: Scenario, record: Mapping[str, Any] | None) -> Scenario:
    """The scenario with its posterior-drawn keys tagged as fitted by the calibration.

    A draw replaces the tags at or under its key path (:func:`treatysim.scenario.retag.retag`),
    whatever the file or a ``--set`` said: the drawn value is what runs.
    """
    tags = posterior_tags(record)
    if not tags:
        return scenario
    data = scenario.model_dump()
    out = dict(scenario.provenance)
    for key, entry in tags.items():
        out = retag(out, data, key, entry)
    return scenario.model_copy(update={"provenance": out})


def flagged_inputs(
    scenario: Scenario,
    base_dir: Path | None = None,
    cutoff: dt.date | None = None,
    posterior: Mapping[str, Any] | None = None,
) -> list[TaggedInput]:
    """The inputs a cutoff flags (without one: the ``observed`` and ``fitted`` inputs).

    With a posterior ensemble's record, the parameters it draws are tagged ``fitted`` by the
    calibration instead of their scenario tags.
    """
    data, name = dataset_provenance(scenario, base_dir)
    return flag_inputs(_with_posterior(scenario, posterior), data, name, cutoff)


def provenance_record(
    scenario: Scenario,
    base_dir: Path | None = None,
    cutoff: dt.date | None = None,
    posterior: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest's ``provenance`` entry: the effective tags of the inputs a run used.

    ``by_kind`` counts the tags by kind, ``outcome_derived`` lists the flagged inputs, and
    ``set_for_run`` the inputs the run overrode (``--set``: ``override``; a sweep factor:
    ``swept``), whatever the file's tags said.
    """
    scenario = _with_posterior(scenario, posterior)
    data, name = dataset_provenance(scenario, base_dir)
    tagged = tagged_inputs(scenario, data, name)
    counts = {k: sum(t.kind == k for t in tagged) for k in KINDS}
    return {
        "cutoff": cutoff.isoformat() if cutoff else None,
        "tagged": len(tagged),
        "by_kind": counts,
        "outcome_derived": [t.as_dict() for t in flag_inputs(scenario, data, name, cutoff)],
        "set_for_run": [t.as_dict() for t in tagged if t.kind in SET_FOR_RUN],
    }
