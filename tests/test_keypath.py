"""Unit tests of treatysim.scenario.keypath: the key paths of ``--set`` and of sweep factors."""

from __future__ import annotations

import copy
import datetime as dt
import math
from typing import Any

import pytest

from treatysim.scenario.keypath import KeyPathError, get_path, parse, parse_assignment, set_path

DOC: dict[str, Any] = {
    "parameters": {"threat": {"sensitivity": 3.0, "noise": 0.1}, "rule": "threat_commitment"},
    "states": {"include": ["all"], "overrides": {"NOR": {"stigma": 0.8}}},
    "events": [
        {"id": "us_reassurance_drop", "type": "reassurance", "date": dt.date(2025, 2, 12)},
        {"id": "zapad_2025", "type": "exercise", "capability_boost": 0.3},
        {"type": "escalation", "capability_factor": 1.2},
    ],
    "matrix": [[1, 2], [3, 4]],
}


# --------------------------------------------------------------------------------------------
# parse


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("name", ["name"]),
        ("parameters.threat.sensitivity", ["parameters", "threat", "sensitivity"]),
        ("events[0].date", ["events", 0, "date"]),
        ("events[12]", ["events", 12]),
        ("matrix[1][0]", ["matrix", 1, 0]),
        ("events.zapad_2025.capability_boost", ["events", "zapad_2025", "capability_boost"]),
        ("states.overrides.NOR.stigma", ["states", "overrides", "NOR", "stigma"]),
        ("a[0].b[1].c", ["a", 0, "b", 1, "c"]),
    ],
)
def test_parse(path: str, parts: list[str | int]) -> None:
    assert parse(path) == parts


@pytest.mark.parametrize(
    "path",
    [
        "",
        ".",
        ".name",
        "name.",
        "parameters..threat",
        "events[",
        "events[0",
        "events]",
        "events[]",
        "events[x]",
        "events[-1]",
        "events[1.5]",
        "[0]",  # a path starts with a key
        "events.[0]",  # an index follows its key directly
        "events[0]date",  # a key after an index needs a dot
        "events[0]]",
    ],
)
def test_parse_rejects_malformed_paths(path: str) -> None:
    with pytest.raises(KeyPathError, match="malformed key path"):
        parse(path)


def test_key_path_error_is_a_value_error() -> None:
    assert issubclass(KeyPathError, ValueError)


# --------------------------------------------------------------------------------------------
# get_path


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("parameters.threat.sensitivity", 3.0),
        ("parameters.rule", "threat_commitment"),
        ("states.include[0]", "all"),
        ("events[0].date", dt.date(2025, 2, 12)),
        ("events[2].capability_factor", 1.2),
        ("events.zapad_2025.capability_boost", 0.3),
        ("events.us_reassurance_drop.type", "reassurance"),
        ("matrix[1][0]", 3),
        ("states.overrides.NOR", {"stigma": 0.8}),
    ],
)
def test_get_path(path: str, value: Any) -> None:
    assert get_path(DOC, path) == value


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("parameters.threat.sensitivty", "parameters.threat.sensitivty: no key 'sensitivty'"),
        ("events[3].date", "events[3].date: index 3 is out of range (3 items)"),
        ("events.zapad.date", "events.zapad.date: no item with id 'zapad'"),
        ("parameters.rule.name", "cannot descend into a str"),
        ("parameters.threat.noise.x", "cannot descend into a float"),
        ("states.overrides[0]", "[0] indexes a list, but this is a mapping"),
        ("states..include", "malformed key path"),
    ],
)
def test_get_path_errors(path: str, message: str) -> None:
    with pytest.raises(KeyPathError) as info:
        get_path(DOC, path)
    assert message in str(info.value)


# --------------------------------------------------------------------------------------------
# set_path


def test_set_path_returns_a_copy_and_leaves_the_original_alone() -> None:
    before = copy.deepcopy(DOC)
    out = set_path(DOC, "parameters.threat.sensitivity", 2.5)
    assert out["parameters"]["threat"]["sensitivity"] == 2.5
    assert out["parameters"]["threat"]["noise"] == 0.1
    assert before == DOC
    # deep copy: changing the result does not reach the original
    out["states"]["include"].append("FRA")
    assert DOC["states"]["include"] == ["all"]


def test_set_path_list_index() -> None:
    out = set_path(DOC, "events[2].capability_factor", 2.0)
    assert out["events"][2]["capability_factor"] == 2.0
    out = set_path(DOC, "states.include[0]", "nato")
    assert out["states"]["include"] == ["nato"]
    out = set_path(DOC, "matrix[0][1]", 9)
    assert out["matrix"] == [[1, 9], [3, 4]]


def test_set_path_list_item_by_id() -> None:
    out = set_path(DOC, "events.zapad_2025.capability_boost", 0.5)
    assert out["events"][1]["capability_boost"] == 0.5
    assert out["events"][0] == DOC["events"][0]
    out = set_path(DOC, "events.us_reassurance_drop.date", dt.date(2025, 3, 1))
    assert out["events"][0]["date"] == dt.date(2025, 3, 1)


def test_set_path_creates_missing_mapping_keys() -> None:
    out = set_path(DOC, "states.overrides.POL.parliament_months", 4.0)
    assert out["states"]["overrides"]["POL"] == {"parliament_months": 4.0}
    assert out["states"]["overrides"]["NOR"] == {"stigma": 0.8}
    out = set_path({}, "parameters.commitment.baseline", 0.7)
    assert out == {"parameters": {"commitment": {"baseline": 0.7}}}
    out = set_path(DOC, "events[1].note", "added")
    assert out["events"][1]["note"] == "added"


def test_set_path_replaces_whole_sections() -> None:
    out = set_path(DOC, "parameters.threat", {"sensitivity": 1.0})
    assert out["parameters"]["threat"] == {"sensitivity": 1.0}
    out = set_path(DOC, "states.include", ["EST", "LVA"])
    assert out["states"]["include"] == ["EST", "LVA"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("events[5].date", "index 5 is out of range (3 items)"),
        ("events[3]", "cannot set list item 3"),
        ("events.zapad", "cannot set list item 'zapad'"),
        ("events.no_such_id.date", "no item with id 'no_such_id'"),
        ("parameters.rule.name", "cannot set a key inside a str"),
        ("parameters.threat.sensitivity.x.y", "cannot descend into a float"),
        ("states.overrides[0].stigma", "[0] indexes a list, but this is a mapping"),
        ("parameters[0]", "[0] indexes a list, but this is a mapping"),
        ("parameters.", "malformed key path"),
        ("", "malformed key path"),
    ],
)
def test_set_path_errors(path: str, message: str) -> None:
    before = copy.deepcopy(DOC)
    with pytest.raises(KeyPathError) as info:
        set_path(DOC, path, 1)
    assert message in str(info.value)
    assert before == DOC


# --------------------------------------------------------------------------------------------
# parse_assignment


@pytest.mark.parametrize(
    ("text", "path", "value"),
    [
        ("parameters.threat.sensitivity=2.5", "parameters.threat.sensitivity", 2.5),
        ("run.replications=50", "run.replications", 50),
        ("run.replications=1_000", "run.replications", 1000),
        ("calendar.step=month", "calendar.step", "month"),
        ("calendar.end=2026-06-30", "calendar.end", dt.date(2026, 6, 30)),
        (
            "treaties.ottawa.armed_conflict_blocks_exit=false",
            "treaties.ottawa.armed_conflict_blocks_exit",
            False,
        ),
        (
            "states.overrides.UKR.in_armed_conflict=true",
            "states.overrides.UKR.in_armed_conflict",
            True,
        ),
        ("observed.dataset=null", "observed.dataset", None),
        ("observed.dataset=", "observed.dataset", None),
        ("states.include=[EST, LVA, LTU]", "states.include", ["EST", "LVA", "LTU"]),
        (
            "parameters.threat={sensitivity: 2, noise: 0}",
            "parameters.threat",
            {"sensitivity": 2, "noise": 0},
        ),
        ("name='012'", "name", "012"),
        ('description="a = b"', "description", "a = b"),
        ("description=x=y", "description", "x=y"),  # only the first '=' separates
        ("events[0].date=2025-03-01", "events[0].date", dt.date(2025, 3, 1)),
        ("run.seed=99999999999999999999", "run.seed", 99999999999999999999),
        ("  parameters.rule = fractional_threshold", "parameters.rule", "fractional_threshold"),
    ],
)
def test_parse_assignment(text: str, path: str, value: Any) -> None:
    got_path, got_value = parse_assignment(text)
    assert got_path == path
    assert got_value == value
    assert type(got_value) is type(value)


def test_parse_assignment_reads_special_floats() -> None:
    assert math.isnan(parse_assignment("parameters.threat.noise=.nan")[1])
    assert parse_assignment("parameters.threat.noise=-.inf")[1] == -math.inf


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("parameters.threat.sensitivity", "expected key.path=value"),
        ("=2.5", "malformed key path"),
        ("a..b=1", "malformed key path"),
        ("a=[1, 2", "cannot read value '[1, 2'"),
        ("a=: x", "cannot read value"),
        ("a=!!python/object/apply:os.system ['true']", "tag !!python/object/apply:os.system"),
        ("a=!foo x", "tag !foo is not allowed"),
        ("a=1\nb: 2", "expected a single value"),
    ],
)
def test_parse_assignment_errors(text: str, message: str) -> None:
    with pytest.raises(KeyPathError) as info:
        parse_assignment(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value).replace(repr("\n")[1:-1], "")


def test_parse_assignment_then_set_path() -> None:
    path, value = parse_assignment("events.zapad_2025.capability_boost=0.45")
    out = set_path(DOC, path, value)
    assert get_path(out, path) == 0.45
