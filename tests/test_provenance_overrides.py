"""Effective provenance: ``--set``, sweep factors and posterior draws retag what they override.

The scenarios extend ``teaching/baltic_simple`` and tag inputs themselves (``observed``), so
the tests do not depend on how the bundled files tag theirs.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import treatysim as ts
from treatysim.cli import main
from treatysim.run.plan import prepare
from treatysim.run.runner import apply_overrides
from treatysim.scenario.inputs import flagged_inputs, provenance_record
from treatysim.scenario.load import load_scenario
from treatysim.scenario.provenance import Provenance, reason
from treatysim.scenario.retag import located, retag

from modelkit import write

SENS = "parameters.threat.sensitivity"
STIGMA = "states.overrides.NOR.stigma"


@pytest.fixture
def tagged(tmp_path: Path) -> Path:
    """baltic_simple without its 2025 events, with two inputs tagged ``observed``."""
    return write(
        tmp_path / "tagged.yaml",
        f"""\
        schema_version: 1
        extends: teaching/baltic_simple
        name: tagged
        events:
          - {{id: us_reassurance_drop, remove: true}}
          - {{id: ceasefire, remove: true}}
        states:
          overrides:
            NOR: {{stigma: 0.8}}
        provenance:
          {SENS}: {{kind: observed, source: read from the 2025 cascade}}
          {STIGMA}: {{kind: observed, date: 2025-04-04, source: Norway's decision}}
        """,
    )


def test_set_on_an_observed_input_tags_it_override(tagged: Path) -> None:
    loaded = load_scenario(tagged)
    assert {SENS, STIGMA} <= {t.key for t in flagged_inputs(loaded.model, loaded.base_dir)}
    over = apply_overrides(loaded, [f"{STIGMA}=0.3"])
    tag = over.model.provenance[STIGMA]
    assert (tag.kind, tag.date, tag.source) == ("override", None, f"--set {STIGMA}=0.3")
    keys = {t.key for t in flagged_inputs(over.model, over.base_dir)}
    assert STIGMA not in keys and SENS in keys  # only the overridden input leaves the list
    assert over.model.provenance[SENS] == loaded.model.provenance[SENS]
    # a mapping set over the input replaces its tag too; a run setting gets no tag
    whole = apply_overrides(loaded, ["states.overrides.NOR={stigma: 0.5}", "run.replications=3"])
    assert whole.model.provenance[STIGMA].source == "--set states.overrides.NOR={stigma: 0.5}"
    assert not any(k.startswith(("run.", "calendar.")) for k in whole.model.provenance)
    # an ex_ante input that is overridden is not left ex_ante
    ex = apply_overrides(loaded, ["threat_sources.RUS.tied_down_share=0.1"])
    assert ex.model.provenance["threat_sources.RUS.tied_down_share"].kind == "override"
    assert loaded.model.provenance["threat_sources.RUS.tied_down_share"].kind == "ex_ante"


def test_strict_backtest_no_longer_refuses_an_overridden_input(
    tagged: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def refused(*sets: str) -> set[str]:
        args = ["backtest", str(tagged), "--cutoff", "2025-01-31", "--until", "2025-12-31",
                "--strict", "--out", str(tmp_path / "out"), "--quiet"]  # fmt: skip
        for item in sets:
            args += ["--set", item]
        assert main(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        return {line.split(": ")[1].removeprefix("provenance.") for line in err}

    before = refused()
    assert {SENS, STIGMA} <= before
    assert refused(f"{STIGMA}=0.3") == before - {STIGMA}


def test_the_run_manifest_and_report_show_the_override(tagged: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    code = main(["run", str(tagged), "--set", f"{STIGMA}=0.3", "-n", "2", "--seed", "1",
                 "--out", str(out), "--quiet"])  # fmt: skip
    assert code == 0
    record = json.loads((out / "manifest.json").read_text())["provenance"]
    assert record["by_kind"]["override"] == 1
    assert [(t["key"], t["kind"], t["source"]) for t in record["set_for_run"]] == [
        (STIGMA, "override", f"--set {STIGMA}=0.3")
    ]
    derived = {t["key"] for t in record["outcome_derived"]}
    assert STIGMA not in derived and SENS in derived
    report = (out / "summary.md").read_text()
    assert f"- `{STIGMA}` (override): --set {STIGMA}=0.3" in report
    # the stored scenario carries the effective tag and validates
    assert main(["validate", str(out / "scenario.yaml")]) == 0
    assert load_scenario(out / "scenario.yaml").model.provenance[STIGMA].kind == "override"


def test_overrides_keep_run_ids() -> None:
    base = ts.load("teaching/baltic_simple")
    value = base.model.parameters.threat.sensitivity
    same = ts.load("teaching/baltic_simple", overrides={SENS: value})
    assert same.model.provenance[SENS].kind == "override"
    assert same.model.provenance[SENS].source.startswith("overrides ")
    a = ts.simulate(base, replications=2, seed=1).runs["run_id"]
    b = ts.simulate(same, replications=2, seed=1).runs["run_id"]
    assert list(a) == list(b)


def test_a_sweep_point_tags_its_factors(tagged: Path, tmp_path: Path) -> None:
    sweep = write(
        tmp_path / "sw.yaml",
        f"""\
        schema_version: 1
        name: sw
        base: {tagged.name}
        factors:
          - {{name: nor_stigma, path: {STIGMA}, values: [0.2, 0.9]}}
          - {{path: threat_sources.RUS.tied_down_share, values: [0.1]}}
        design: {{type: grid}}
        replications: 2
        outcomes: [cascade_size]
        seed: 1
        timeseries: none
        """,
    )
    plan = prepare(sweep)
    for point in range(plan.n_points):
        tags = plan.point_scenario(point)[0].model.provenance
        assert tags[STIGMA].kind == "swept"
        assert tags[STIGMA].source == f"sweep factor 'nor_stigma' ({STIGMA}) of {sweep}"
        assert tags[SENS].kind == "observed"  # not a factor: the file's tag stands
    record = plan.provenance()
    assert {t["key"]: t["kind"] for t in record["set_for_run"]} == {
        STIGMA: "swept",
        "threat_sources.RUS.tied_down_share": "swept",
    }
    assert STIGMA not in {t["key"] for t in record["outcome_derived"]}
    out = tmp_path / "out"
    assert main(["sweep", str(sweep), "--out", str(out), "--quiet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["provenance"] == json.loads(json.dumps(record))


def test_inherited_tags_follow_overrides_and_the_childs_own_values(
    tagged: Path, tmp_path: Path
) -> None:
    # a grandchild that sets the base's observed stigma without a tag drops the stale tag;
    # an input it tags itself keeps the child's tag
    child = write(
        tmp_path / "child.yaml",
        f"""\
        schema_version: 1
        extends: {tagged.name}
        name: child
        states:
          overrides:
            NOR: {{stigma: 0.4}}
        parameters:
          threat: {{sensitivity: 3.0}}
        provenance:
          {SENS}: {{kind: ex_ante, date: 2024-01-01, source: a survey}}
        """,
    )
    tags = load_scenario(child).model.provenance
    assert STIGMA not in tags
    assert (tags[SENS].kind, tags[SENS].source) == ("ex_ante", "a survey")
    assert tags["threat_sources.RUS.tied_down_share"].kind == "ex_ante"  # from baltic_simple
    # an override on the inherited scenario retags it
    loaded = load_scenario(tmp_path / "tagged.yaml")
    over = apply_overrides(loaded, [f"{SENS}=2.5"])
    assert over.model.provenance[SENS].kind == "override"


def test_event_keys_compare_by_where_they_land() -> None:
    data = {"events": [{"id": "a", "size": 1}, {"id": "b", "size": 2}]}
    assert located(data, "events.b.size") == ("events", 1, "size")
    assert located(data, "events[1].size") == ("events", 1, "size")
    tags = {"events.b.size": "old", "events.a.size": "keep"}
    got = retag(tags, data, "events[1]", "new")
    assert got == {"events.a.size": "keep", "events[1].size": "new"}
    assert retag(tags, data, "events.b.size", "new") == {**tags, "events.b.size": "new"}
    assert retag(tags, data, "events", "new") == {"events.a.size": "new", "events.b.size": "new"}


def test_a_posterior_draw_is_fitted_whatever_set_it_before(tagged: Path) -> None:
    loaded = apply_overrides(load_scenario(tagged), [f"{SENS}=2.0"])
    record = {"parameters": [SENS], "folder": "cal/x", "data_until": "2024-11-30"}
    got = provenance_record(loaded.model, loaded.base_dir, posterior=record)
    assert got["by_kind"]["fitted"] >= 1 and got["set_for_run"] == []
    late = provenance_record(loaded.model, loaded.base_dir, dt.date(2024, 6, 1), posterior=record)
    (item,) = [t for t in late["outcome_derived"] if t["key"] == SENS]
    assert (item["kind"], item["date"]) == ("fitted", "2024-11-30")
    assert item["source"] == "posterior of the calibration in cal/x"


@pytest.mark.parametrize("kind", ["override", "swept"])
def test_set_for_run_values_are_not_outcome_derived(kind: str) -> None:
    entry = Provenance.model_validate({"kind": kind, "source": "x"})
    assert reason(entry, None) == "" and reason(entry, dt.date(2000, 1, 1)) == ""
