"""Commitments measured before the cut (issue 12 item 6): the state table's ex-ante columns, the
formula that turns them into stigma and parliament times, and the loader's checks."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest

import treatysim as ts
from treatysim.cli import main
from treatysim.model.world import build_world
from treatysim.scenario.calibration import calibration_problems
from treatysim.scenario.commitments import (
    ATTRIBUTE_COLUMNS,
    FORMULA_PRIORS,
    derived_parliament_months,
    derived_stigma,
)
from treatysim.scenario.dataset import DatasetError, load_dataset
from treatysim.scenario.parameters import CommitmentParameters, PipelineParameters

ROOT = Path(__file__).resolve().parent.parent
STATES = ROOT / "sim" / "data" / "europe_states.csv"
README = ROOT / "sim" / "data" / "README.md"
BALTIC = ROOT / "scenarios" / "teaching" / "baltic_simple.yaml"
NEW = [c.name for c in ATTRIBUTE_COLUMNS]
#: The only missing values the README documents: the Holy See has no parliament.
DOCUMENTED_NA = {("VAT", "parliament_chambers")}


def test_every_state_has_every_new_column_or_a_documented_na() -> None:
    rows = list(csv.DictReader(STATES.open(encoding="utf-8", newline="")))
    assert len(rows) == 52
    readme = README.read_text(encoding="utf-8")
    for spec in ATTRIBUTE_COLUMNS:
        assert f"`{spec.name}`" in readme, f"{spec.name} has no row in the data README"
        for row in rows:
            text = row[spec.name].strip()
            if (row["iso3"], spec.name) in DOCUMENTED_NA:
                assert text == "NA"
                continue
            assert text.isdigit() and spec.low <= int(text) <= spec.high, (row["iso3"], text)
    for iso3, column in DOCUMENTED_NA:
        assert f"{iso3}" in readme and column in readme


def test_hand_checked_rows_follow_the_formula() -> None:
    """NOR: core, host, 2 presidencies, 1 chamber; POL: none, 2 chambers; VAT: chambers NA."""
    states = load_dataset("europe_2025").states
    records = [states[s] for s in ("NOR", "FIN", "POL", "AUT", "SVN", "VAT")]
    commitment = CommitmentParameters(
        stigma=0.1, stigma_core_group=0.3, stigma_host=0.2, stigma_presidency=0.15
    )
    # NOR 0.1 + 0.3 + 0.2 + 2*0.15; FIN 0.1; POL 0.1; AUT 0.1 + 0.3 + 0.2 + 2*0.15;
    # SVN 0.1 + 1*0.15; VAT 0.1
    assert derived_stigma(records, commitment) == pytest.approx([0.9, 0.1, 0.1, 0.9, 0.25, 0.1])
    pipeline = PipelineParameters(parliament_months=2.0, parliament_second_chamber=0.5)
    # bicameral: 2.0 * (1 + 0.5); unicameral and missing (VAT): 2.0
    assert derived_parliament_months(records, pipeline) == pytest.approx(
        [2.0, 2.0, 3.0, 3.0, 3.0, 2.0]
    )


def test_zero_coefficients_keep_the_scalar_defaults() -> None:
    """Defaults (all weights 0) reproduce the old scenario-wide values for every state."""
    records = list(load_dataset("europe_2025").states.values())
    assert np.all(derived_stigma(records, CommitmentParameters(stigma=0.2)) == 0.2)
    assert np.all(derived_parliament_months(records, PipelineParameters()) == 2.5)


def test_founding_world_uses_the_formula_and_explicit_overrides_still_win() -> None:
    world = build_world(ts.load("ottawa_2025").model)
    stigma = dict(zip(world.ids, world.stigma, strict=True))
    months = dict(zip(world.ids, world.parliament_months, strict=True))
    # the founding scenario sets the priors' medians 0.3, 0.3, 0.15 and 0.4
    assert stigma["NOR"] == pytest.approx(0.3 + 0.3 + 2 * 0.15)
    assert stigma["FIN"] == 0.0 and stigma["EST"] == 0.0
    assert months["POL"] == pytest.approx(2.5 * 1.4) and months["FIN"] == 2.5
    old = build_world(
        ts.load(
            "ottawa_2025",
            {"states.overrides.NOR.stigma": 0.8, "states.overrides.POL.parliament_months": 4.0},
        ).model
    )
    assert old.stigma[old.index("NOR")] == 0.8
    assert old.parliament_months[old.index("POL")] == 4.0
    assert old.stigma[old.index("AUT")] == pytest.approx(stigma["AUT"])  # others still derived


def test_ccm_lithuania_and_baltic_simple_take_per_state_numbers_from_the_formula() -> None:
    """No bundled scenario sets Norway's stigma or Poland's parliament time from the outcome,
    except baltic_simple's Norway, a teaching assumption that says so and is tagged observed."""
    founding = build_world(ts.load("ottawa_2025").model)
    ccm = ts.load("ccm_lithuania").model
    world = build_world(ccm)
    for state in ("NOR", "POL", "FIN", "AUT"):
        assert world.stigma[world.index(state)] == founding.stigma[founding.index(state)]
        months = world.parliament_months[world.index(state)]
        assert months == founding.parliament_months[founding.index(state)]
    assert world.stigma[world.index("NOR")] == pytest.approx(0.9)
    assert world.parliament_months[world.index("POL")] == pytest.approx(2.5 * 1.4)
    assert not {"NOR", "POL"} & set(ccm.states.overrides)
    assert not [
        k for k in ccm.provenance if k.startswith(("states.overrides.NOR", "states.overrides.POL"))
    ]
    baltic = ts.load("teaching/baltic_simple").model
    small = build_world(baltic)
    assert small.parliament_months[small.index("POL")] == pytest.approx(2.5 * 1.4)
    assert "POL" not in baltic.states.overrides
    tag = baltic.provenance["states.overrides.NOR.stigma"]
    assert tag.kind == "observed" and tag.source.startswith("teaching assumption")
    assert "teaching assumption" in " ".join((baltic.description or "").split())


def test_the_formula_priors_are_calibratable_and_the_founding_values_are_their_medians() -> None:
    """Each weight is a scenario key a calibration file can put a prior on, accepted at both ends
    of its prior; the founding scenario sets the prior's median."""
    founding = ts.load("ottawa_2025").model.parameters
    document = {
        "schema_version": 1, "name": "formula", "base": "ottawa_2025", "treaty": "ottawa",
        "priors": {
            path: {"distribution": "uniform", "low": low, "high": high}
            for path, (low, high) in FORMULA_PRIORS.items()
        },
        "targets": [{"kind": "mover_count", "name": "movers",
                     "window": {"start": "2025-01-01", "end": "2025-12-31"}}],
    }  # fmt: skip
    assert calibration_problems(document) == []
    for path, (low, high) in FORMULA_PRIORS.items():
        group, name = path.split(".")[1:]
        assert getattr(getattr(founding, group), name) == pytest.approx((low + high) / 2)
        top = build_world(ts.load("ottawa_2025", {path: high}).model)
        base = build_world(ts.load("ottawa_2025", {path: low}).model)
        if group == "commitment":  # Norway scores 1, 1 and 2 on the three attributes
            weight = 2 * high if name == "stigma_presidency" else high
            gap = top.stigma[top.index("NOR")] - base.stigma[base.index("NOR")]
            assert gap == pytest.approx(weight)
            assert top.stigma[top.index("FIN")] == base.stigma[base.index("FIN")] == 0.0
        else:  # Poland has two chambers, Finland one
            assert top.parliament_months[top.index("POL")] == pytest.approx(2.5 * (1 + high))
            assert top.parliament_months[top.index("FIN")] == 2.5


def _bad_table(tmp_path: Path) -> Path:
    lines = STATES.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    out = [lines[0]]
    for line in lines[1:]:
        fields = line.split(",")
        if fields[0] == "NOR":
            fields[header.index("apmbc_core_group")] = "yes"
        if fields[0] == "POL":
            fields[header.index("parliament_chambers")] = "3"
        out.append(",".join(fields))
    path = tmp_path / "states.csv"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def test_loader_rejects_malformed_values_with_positions(tmp_path: Path) -> None:
    path = _bad_table(tmp_path)
    header = STATES.read_text(encoding="utf-8").splitlines()[0].split(",")
    lines = STATES.read_text(encoding="utf-8").splitlines()
    nor = next(i for i, x in enumerate(lines) if x.startswith("NOR,")) + 1
    pol = next(i for i, x in enumerate(lines) if x.startswith("POL,")) + 1
    with pytest.raises(DatasetError) as info:
        load_dataset(str(path))
    problems = str(info.value).splitlines()
    assert problems == [
        f"states.csv:{nor}:{header.index('apmbc_core_group') + 1}: NOR.apmbc_core_group: 'yes' "
        "is not a whole number from 0 to 1 (Ottawa-process core group member (0 or 1)) or NA",
        f"states.csv:{pol}:{header.index('parliament_chambers') + 1}: POL.parliament_chambers: "
        "'3' is not a whole number from 1 to 2 (chambers of the national parliament) or NA",
    ]


def test_cli_reports_each_malformed_value_on_its_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _bad_table(tmp_path)
    scenario = tmp_path / "case.yaml"
    text = BALTIC.read_text(encoding="utf-8").replace("dataset: europe_2025", "dataset: states.csv")
    scenario.write_text(text, encoding="utf-8")
    code = main(["validate", str(scenario)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    assert re.search(r"states\.dataset: states\.csv:\d+:\d+: NOR\.apmbc_core_group", lines[0])
    assert re.search(r"states\.dataset: states\.csv:\d+:\d+: POL\.parliament_chambers", lines[1])
