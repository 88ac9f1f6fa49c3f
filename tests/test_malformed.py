"""The malformed-input corpus: every broken file is reported precisely, never with a traceback.

Each file in ``tests/data/malformed/`` (scenarios) and ``tests/data/malformed/sweeps/`` (sweeps)
is a small realistic file with one thing broken (or several, for the "every problem is
reported" cases). The table below states, beside each file name, every problem that loading
must report: the line, the column (``None`` where the column is the YAML parser's guess rather
than something the user wrote), the key path and a fragment of the message. Loading must report
exactly these problems, no more and no fewer, in this order.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from treatysim.cli import main
from treatysim.scenario.errors import Problem, ValidationError
from treatysim.scenario.load import load_scenario, load_sweep, validate_file
from treatysim.scenario.yamlio import MAX_FILE_BYTES

DATA = Path(__file__).resolve().parent / "data"
MALFORMED = DATA / "malformed"
VALID = DATA / "valid"


@dataclass(frozen=True)
class Expect:
    """One problem a corpus file must produce."""

    line: int
    column: int | None
    path: str
    fragment: str


E = Expect

# fmt: off
SCENARIOS: dict[str, list[Expect]] = {
    # -- unknown keys at several depths, each with a suggestion --------------------------------
    "unknown_key_top.yaml": [E(35, 1, "netwrok", "unknown key 'netwrok'; did you mean 'network'?")],
    "unknown_key_calendar.yaml": [E(8, 3, "calendar.stpe", "did you mean 'step'?")],
    "unknown_key_parameters.yaml": [
        E(43, 5, "parameters.threat.sensitivty",
          "unknown key 'sensitivty'; did you mean 'sensitivity'?"),
    ],
    "unknown_key_override.yaml": [
        E(23, 7, "states.overrides.NOR.stigmaa", "unknown key 'stigmaa'; did you mean 'stigma'?"),
    ],
    "unknown_key_event.yaml": [
        E(48, 5, "events[0].capability_boos", "did you mean 'capability_boost'?"),
    ],
    # -- wrong types ---------------------------------------------------------------------------
    "wrong_type_replications.yaml": [
        E(51, 17, "run.replications", "should be a valid integer"),
    ],
    "wrong_type_include.yaml": [E(19, 12, "states.include", "should be a valid list (got 'all')")],
    "wrong_type_calendar.yaml": [
        E(5, 11, "calendar", "expected a mapping of keys and values (got 2025)"),
    ],
    # -- out-of-range numbers ------------------------------------------------------------------
    "negative_notice.yaml": [E(13, 20, "treaties.ottawa.notice_months", "must be >= 0.0 (got -6)")],
    "share_above_one.yaml": [
        E(32, 22, "threat_sources.RUS.tied_down_share", "must be <= 1.0 (got 1.5)"),
    ],
    "replications_zero.yaml": [E(51, 17, "run.replications", "must be >= 1 (got 0)")],
    # -- enums, dates, the calendar ------------------------------------------------------------
    "bad_step.yaml": [
        E(8, 9, "calendar.step", "'fortnight' is not allowed; expected 'day', 'week' or 'month'"),
    ],
    "bad_forced_stage.yaml": [E(53, 12, "events[1].stage", "did you mean 'withdrawn'?")],
    "bad_date.yaml": [
        E(6, 10, "calendar.start", "'2025-13-01' is not a valid date (month value is outside "
          "expected range of 1-12); write it as YYYY-MM-DD"),
    ],
    "calendar_end_before_start.yaml": [
        E(6, 3, "calendar", "calendar.end must be after calendar.start"),
    ],
    "bad_treaty_id.yaml": [
        E(11, 3, "treaties.Ottawa", "'Ottawa' is not a valid identifier here: use lower case"),
    ],
    # -- events --------------------------------------------------------------------------------
    "unknown_event_type.yaml": [
        E(45, 11, "events[0].type", "unknown event type 'excercise'; did you mean 'exercise'?"),
    ],
    "event_missing_type.yaml": [E(44, 5, "events[0].type", "missing required key 'type'")],
    "event_missing_field.yaml": [
        E(49, 5, "events[1].credibility", "missing required key 'credibility'"),
    ],
    "event_unknown_state.yaml": [
        E(51, 12, "events[1].state", "unknown state 'UKX'; did you mean 'UKR'?"),
    ],
    "event_excluded_state.yaml": [
        E(51, 12, "events[1].state", "state 'MCO' is not in the scenario"),
    ],
    "event_unknown_treaty.yaml": [
        E(51, 13, "events[1].treaty", "unknown treaty 'otawa'; did you mean 'ottawa'?"),
    ],
    "event_unknown_source.yaml": [E(47, 13, "events[0].source", "unknown threat source 'BLR'")],
    "event_date_outside_calendar.yaml": [
        E(46, 11, "events[0].date",
          "date 2027-09-12 is outside the calendar (2025-01-01 to 2026-12-31)"),
    ],
    "duplicate_event_id.yaml": [
        E(44, 9, "events[0].id", "duplicate event id 'zapad'"),
        E(49, 9, "events[1].id", "duplicate event id 'zapad'"),
    ],
    "report_date_outside_calendar.yaml": [
        E(52, 18, "run.report_dates[0]", "date 2024-12-31 is outside the calendar"),
    ],
    # -- cross-references: states, groups, treaties, rules -------------------------------------
    "unknown_iso3_include.yaml": [
        E(19, 18, "states.include[1]", "unknown state or group 'FRX'; did you mean 'FRA'?"),
    ],
    "unknown_iso3_exclude.yaml": [
        E(20, 18, "states.exclude[1]", "unknown state or group 'MCC'; did you mean 'MCO'?"),
    ],
    "unknown_iso3_override.yaml": [
        E(22, 5, "states.overrides.NRW", "unknown state 'NRW'; did you mean 'NOR'?"),
    ],
    "unknown_iso3_group_member.yaml": [
        E(27, 25, "groups.baltic.members[2]", "unknown state or group 'LTA'; did you mean 'LTU'?"),
    ],
    "unknown_network_group.yaml": [
        E(38, 7, "network.ties.groups.baltik", "unknown group 'baltik'; did you mean 'baltic'?"),
    ],
    "duplicate_include.yaml": [E(19, 28, "states.include[3]", "duplicate entry 'POL'")],
    "unknown_rule.yaml": [
        E(41, 9, "parameters.rule", "unknown decision rule 'threshold_commitment'; did you mean "
          "'threat_commitment'? (registered: count_threshold, fractional_threshold"),
    ],
    "unknown_primary_treaty.yaml": [E(52, 19, "run.primary_treaty", "did you mean 'ottawa'?")],
    "unknown_party_column.yaml": [
        E(15, 15, "treaties.ottawa.parties.column",
          "the dataset has no column 'ottawa_party_2052'; did you mean 'ottawa_party_2025'?"),
    ],
    "missing_section.yaml": [E(2, 1, "treaties", "missing required key 'treaties'")],
    "group_cycle.yaml": [
        E(27, 14, "groups.north.members", "contains itself (north -> south -> north)"),
        E(29, 14, "groups.south.members", "contains itself (south -> north -> south)"),
    ],
    # an unknown name in include must not hide the override problem, nor make the valid
    # event for UKR look like a state outside the scenario
    "unknown_include_and_override.yaml": [
        E(19, 18, "states.include[1]", "unknown state or group 'FRX'"),
        E(22, 5, "states.overrides.NRW", "unknown state 'NRW'; did you mean 'NOR'?"),
    ],
    # keys a user wrote that look like pydantic's location markers (a crash, once)
    "unknown_keys_like_markers.yaml": [
        E(
            49,
            5,
            "events[0].exercise",
            "unknown key 'exercise' (allowed: id, date, note, scheduled_since, type",
        ),
        E(51, 1, "function-after", "unknown key 'function-after' (allowed: schema_version"),
    ],
    # -- YAML itself ---------------------------------------------------------------------------
    "duplicate_yaml_key.yaml": [E(8, 3, "calendar.end", "duplicate key (first given on line 7)")],
    "syntax_unclosed_bracket.yaml": [
        E(21, None, "", "invalid YAML: expected ',' or ']'"),  # noticed on the next line ...
    ],
    "syntax_bad_indentation.yaml": [
        E(13, None, "", "mapping values are not allowed here; check the indentation"),
    ],
    "syntax_dedent.yaml": [E(8, None, "", "check the indentation")],
    "syntax_tab.yaml": [E(13, 1, "", "YAML indents with spaces, not tabs")],
    "multi_document.yaml": [E(25, None, "", "expected a single document in the stream")],
    "empty.yaml": [E(1, 1, "", "the file is empty")],
    "comment_only.yaml": [E(1, 1, "", "the file is empty")],
    "top_level_list.yaml": [E(2, 1, "", "the top level is a list: expected a mapping")],
    "top_level_scalar.yaml": [E(2, 1, "", "the top level is a single value: expected a mapping")],
    "not_utf8.yaml": [E(4, 22, "", "not UTF-8 text (byte 0xe9)")],
    "binary_nul.yaml": [E(1, 1, "", "binary file (contains NUL bytes)")],
    "python_apply_tag.yaml": [
        E(12, 12, "treaties.ottawa.title", "tag !!python/object/apply:os.system is not allowed"),
    ],
    "custom_tag.yaml": [E(18, 12, "states.dataset", "tag !foo is not allowed")],
    "merge_key.yaml": [E(25, 7, "states.overrides.SWE", "merge keys (<<) are not supported")],
    "billion_laughs.yaml": [E(1, 1, "", "the document expands to more than 200000 nodes")],
    "schema_version_2.yaml": [
        E(2, 17, "schema_version", "unsupported schema_version 2; this treatysim reads 1"),
    ],
    # true and 1.0 equal 1 in Python: the one version check refuses them in both kinds of file
    "schema_version_true.yaml": [
        E(2, 17, "schema_version",
          "unsupported schema_version True; this treatysim reads 1 (write the number 1)"),
    ],
    "schema_version_float.yaml": [
        E(2, 17, "schema_version",
          "unsupported schema_version 1.0; this treatysim reads 1 (write the whole number 1)"),
    ],
    # -- every problem is reported -------------------------------------------------------------
    "multiple_problems.yaml": [
        E(8, 9, "calendar.step", "'fortnight' is not allowed"),
        E(13, 20, "treaties.ottawa.notice_months", "must be >= 0.0 (got -1)"),
        E(23, 7, "states.overrides.NOR.stigmaa", "did you mean 'stigma'?"),
        E(45, 11, "events[0].type", "did you mean 'exercise'?"),
    ],
    "multiple_reference_problems.yaml": [
        E(20, 18, "states.exclude[1]", "unknown state or group 'MCC'"),
        E(38, 7, "network.ties.groups.baltik", "unknown group 'baltik'"),
        E(41, 9, "parameters.rule", "unknown decision rule 'majority'"),
        E(46, 11, "events[0].date", "outside the calendar"),
    ],
    # A schema problem and a cross-reference problem in one file: both are reported in one pass
    # (the failing key is set aside and the rest is still cross-checked).
    "mixed_phases.yaml": [
        E(8, 9, "calendar.step", "'weekly' is not allowed"),
        E(20, 18, "states.exclude[1]", "unknown state or group 'MCC'"),
    ],
}

SWEEPS: dict[str, list[Expect]] = {
    "sobol_not_power_of_two.yaml": [
        E(10, 3, "design", "sobol samples must be a power of two (got 100; try 64 or 128)"),
    ],
    "saltelli_not_power_of_two.yaml": [
        E(10, 3, "design", "saltelli samples must be a power of two (got 48; try 32 or 64)"),
    ],
    "bounds_wrong_way.yaml": [
        E(6, 5, "factors[0]", "bounds the wrong way round: low 5.0 >= high 4.0"),
    ],
    "unknown_factor_path.yaml": [
        E(6, 11, "factors[0].path", "unknown key 'sensitivty'; did you mean 'sensitivity'?"),
    ],
    "malformed_factor_path.yaml": [
        E(6, 11, "factors[0].path", "malformed key path 'parameters..sensitivity'"),
    ],
    "values_and_range.yaml": [E(6, 5, "factors[0]", "give either values or low/high, not both")],
    "lhs_without_range.yaml": [E(6, 11, "factors[0]", "design needs a range (low, high)")],
    "grid_range_without_levels.yaml": [
        E(6, 11, "factors[0]", "a range in a grid design needs levels"),
    ],
    "unknown_outcome.yaml": [
        E(13, 26, "outcomes[1]", "unknown outcome 'cascade_sise'; did you mean 'cascade_size'?"),
    ],
    "missing_base.yaml": [E(4, 7, "base", "no_such_scenario.yaml:1:1: (file): no such file")],
    "invalid_base.yaml": [E(4, 7, "base", "calendar.step: 'fortnight' is not allowed")],
    "table_without_file.yaml": [E(10, 3, "design", "a table design needs file")],
    "table_file_missing.yaml": [E(11, 9, "design.file", "no such file: points.csv")],
    "replications_zero.yaml": [E(12, 15, "replications", "must be >= 1 (got 0)")],
    "unknown_key.yaml": [
        E(2, 1, "design", "missing required key 'design'"),
        E(10, 1, "desing", "unknown key 'desing'; did you mean 'design'?"),
    ],
    "unsupported_schema_version.yaml": [
        E(2, 17, "schema_version", "unsupported schema_version 3; this treatysim reads 1"),
    ],
    "schema_version_true.yaml": [
        E(2, 17, "schema_version",
          "unsupported schema_version True; this treatysim reads 1 (write the number 1)"),
    ],
    "schema_version_float.yaml": [
        E(2, 17, "schema_version",
          "unsupported schema_version 1.0; this treatysim reads 1 (write the whole number 1)"),
    ],
    # one problem per value, not one per member of the union of allowed types
    "factor_value_wrong_type.yaml": [
        E(7, 14, "factors[0].values[0]",
          "expected a number, a date (YYYY-MM-DD), text or true/false (got {'x': 1})"),
        E(9, 10, "factors[1].low", "expected a number or a date (YYYY-MM-DD) (got [0.1])"),
    ],
}

#: For these files the whole line printed by ``treatysim validate`` is checked, character for
#: character (after the ``FILE:`` prefix).
CLI_EXACT: dict[str, list[str]] = {
    "unknown_key_override.yaml": [
        "23:7: states.overrides.NOR.stigmaa: unknown key 'stigmaa'; did you mean 'stigma'?",
    ],
    "unknown_event_type.yaml": [
        "45:11: events[0].type: unknown event type 'excercise'; did you mean 'exercise'?",
    ],
    "bad_step.yaml": [
        "8:9: calendar.step: 'fortnight' is not allowed; expected 'day', 'week' or 'month'",
    ],
    "empty.yaml": ["1:1: (file): the file is empty: expected a mapping"],
    "multiple_problems.yaml": [
        "8:9: calendar.step: 'fortnight' is not allowed; expected 'day', 'week' or 'month'",
        "13:20: treaties.ottawa.notice_months: must be >= 0.0 (got -1)",
        "23:7: states.overrides.NOR.stigmaa: unknown key 'stigmaa'; did you mean 'stigma'?",
        "45:11: events[0].type: unknown event type 'excercise'; did you mean 'exercise'?",
    ],
    "multiple_reference_problems.yaml": [
        "20:18: states.exclude[1]: unknown state or group 'MCC'; did you mean 'MCO'?",
        "38:7: network.ties.groups.baltik: unknown group 'baltik'; did you mean 'baltic'?",
        "41:9: parameters.rule: unknown decision rule 'majority' (registered: count_threshold, "
        "fractional_threshold, threat_commitment)",
        "46:11: events[0].date: date 2027-09-12 is outside the calendar (2025-01-01 to 2026-12-31)",
    ],
    "python_apply_tag.yaml": [
        "12:12: treaties.ottawa.title: tag !!python/object/apply:os.system is not allowed: "
        "scenario files hold plain data only",
    ],
    "sweeps/sobol_not_power_of_two.yaml": [
        "10:3: design: sobol samples must be a power of two (got 100; try 64 or 128)",
    ],
    "schema_version_true.yaml": [
        "2:17: schema_version: unsupported schema_version True; this treatysim reads 1 "
        "(write the number 1)",
    ],
    "sweeps/schema_version_float.yaml": [
        "2:17: schema_version: unsupported schema_version 1.0; this treatysim reads 1 "
        "(write the whole number 1)",
    ],
    "sweeps/unknown_outcome.yaml": [
        "13:26: outcomes[1]: unknown outcome 'cascade_sise'; did you mean 'cascade_size'?",
    ],
}
# fmt: on

CASES: dict[str, list[Expect]] = {
    **SCENARIOS,
    **{f"sweeps/{name}": expected for name, expected in SWEEPS.items()},
}


def corpus_path(name: str) -> Path:
    return MALFORMED / name


def load(path: Path) -> list[Problem]:
    """The problems from the loader for this kind of file (sweeps live in sweeps/)."""
    loader = load_sweep if path.parent.name == "sweeps" else load_scenario
    with pytest.raises(ValidationError) as info:
        loader(path)
    return info.value.problems


def assert_matches(problems: list[Problem], expected: list[Expect], file: str) -> None:
    shown = "\n".join(str(p) for p in problems)
    assert len(problems) == len(expected), f"expected {len(expected)} problems, got:\n{shown}"
    for problem, want in zip(problems, expected, strict=True):
        assert problem.file == file
        assert problem.line == want.line, shown
        if want.column is not None:
            assert problem.column == want.column, shown
        assert problem.path == want.path, shown
        assert want.fragment in problem.message, shown


def run_cli(capsys: pytest.CaptureFixture[str], *files: str) -> tuple[int, str, str]:
    code = main(["validate", *files])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --------------------------------------------------------------------------------------------
# the corpus itself


def test_corpus_size() -> None:
    scenarios = sorted(p.name for p in MALFORMED.glob("*.yaml"))
    sweeps = sorted(p.name for p in (MALFORMED / "sweeps").glob("*.yaml"))
    assert len(scenarios) >= 32
    assert len(sweeps) >= 8
    # every file in the corpus has expectations, and every expectation has a file
    assert scenarios == sorted(SCENARIOS)
    assert sweeps == sorted(SWEEPS)
    # the files are distinct
    contents = [p.read_bytes() for p in [*MALFORMED.glob("*.yaml"), *MALFORMED.glob("sweeps/*")]]
    assert len(set(contents)) == len(contents)


def test_valid_fixtures_load(capsys: pytest.CaptureFixture[str]) -> None:
    """The files the corpus was derived from are valid, so each break is what the table says."""
    code, out, err = run_cli(capsys, str(VALID / "minimal.yaml"), str(VALID / "sweep_minimal.yaml"))
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"{VALID / 'minimal.yaml'}: ok (scenario)",
        f"{VALID / 'sweep_minimal.yaml'}: ok (sweep)",
    ]


# --------------------------------------------------------------------------------------------
# one case per file


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_file(name: str) -> None:
    path = corpus_path(name)
    assert_matches(load(path), CASES[name], str(path))


@pytest.mark.parametrize("name", sorted(CASES))
def test_validate_file_agrees(name: str) -> None:
    """validate_file tells scenarios and sweeps apart and reports the same problems."""
    path = corpus_path(name)
    with pytest.raises(ValidationError) as info:
        validate_file(path)
    assert_matches(info.value.problems, CASES[name], str(path))


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_reports_each_problem_on_its_own_line(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(corpus_path(name))
    code, out, err = run_cli(capsys, path)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    expected = CASES[name]
    assert len(lines) == len(expected), err
    pattern = re.compile(rf"^{re.escape(path)}:(\d+):(\d+): (\S+): (.+)$")
    for line, want in zip(lines, expected, strict=True):
        match = pattern.match(line)
        assert match, line
        assert int(match[1]) == want.line
        if want.column is not None:
            assert int(match[2]) == want.column
        assert match[3] == (want.path or "(file)")
        assert want.fragment in match[4]


@pytest.mark.parametrize("name", sorted(CLI_EXACT))
def test_cli_exact_output(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(corpus_path(name))
    code, _, err = run_cli(capsys, path)
    assert code == 2
    assert err.splitlines() == [f"{path}:{rest}" for rest in CLI_EXACT[name]]


# --------------------------------------------------------------------------------------------
# cases generated here rather than committed


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "no_such_scenario.yaml"
    with pytest.raises(ValidationError) as info:
        load_scenario(path)
    assert_matches(info.value.problems, [E(1, 1, "", "no such file")], str(path))
    code, _, err = run_cli(capsys, str(path))
    assert code == 2
    assert err == f"{path}:1:1: (file): no such file\n"


def test_directory_instead_of_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, str(tmp_path))
    assert code == 2
    assert err == f"{tmp_path}:1:1: (file): is a directory, not a file\n"


def test_file_over_the_size_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "huge.yaml"
    valid = (VALID / "minimal.yaml").read_text(encoding="utf-8")
    padding = "# padding\n" * (MAX_FILE_BYTES // 10 + 1)
    path.write_text(valid + padding, encoding="utf-8")
    size = path.stat().st_size
    assert size > MAX_FILE_BYTES
    with pytest.raises(ValidationError) as info:
        load_scenario(path)
    message = f"file is {size} bytes; the limit is {MAX_FILE_BYTES} bytes"
    assert_matches(info.value.problems, [E(1, 1, "", message)], str(path))
    code, _, err = run_cli(capsys, str(path))
    assert code == 2
    assert err == f"{path}:1:1: (file): {message}\n"


def test_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    valid = (VALID / "minimal.yaml").read_text(encoding="utf-8")
    path.write_text(valid + "#" * (MAX_FILE_BYTES - len(valid.encode()) - 1) + "\n")
    assert path.stat().st_size == MAX_FILE_BYTES
    assert load_scenario(path).model.name == "minimal"


@pytest.mark.parametrize("opening", ["[", "{a: ", "- "])
def test_deep_nesting(tmp_path: Path, capsys: pytest.CaptureFixture[str], opening: str) -> None:
    """A few kilobytes of brackets must not exhaust Python's recursion limit with a traceback."""
    closing = {"[": "]", "{a: ": "}", "- ": ""}[opening]
    body = opening * 1500 + "1" + closing * 1500
    path = tmp_path / "deep.yaml"
    path.write_text(f"schema_version: 1\ndescription: {body}\n" if opening != "- " else body)
    with pytest.raises(ValidationError) as info:
        load_scenario(path)
    assert_matches(info.value.problems, [E(1, 1, "", "the document nests too deeply")], str(path))
    code, _, err = run_cli(capsys, str(path))
    assert code == 2
    assert "Traceback" not in err


def test_control_characters_in_keys_stay_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A quoted key may hold a newline; the problem must still print as one line."""
    text = (VALID / "minimal.yaml").read_text(encoding="utf-8")
    path = tmp_path / "newline_key.yaml"
    path.write_text(text.replace("  step: week", '  "st\\nep": week'), encoding="utf-8")
    code, _, err = run_cli(capsys, str(path))
    assert code == 2
    assert err == (f"{path}:8:3: calendar.st\\nep: unknown key 'st\\nep'; did you mean 'step'?\n")


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("2025-02-30", "'2025-02-30' is not a valid date (day value is outside expected range)"),
        ("2025-1-1x", "'2025-1-1x' is not a valid date"),
        ("20250101", "expected a date written as YYYY-MM-DD, not the number 20250101"),
        ("2025-01-01T10:00:00", "2025-01-01 10:00:00 is not a valid date (a date has no time"),
        ("[2025, 1, 1]", "[2025, 1, 1] is not a valid date; write it as YYYY-MM-DD"),
    ],
)
def test_date_messages(tmp_path: Path, written: str, message: str) -> None:
    text = (VALID / "minimal.yaml").read_text(encoding="utf-8")
    path = tmp_path / "date.yaml"
    path.write_text(text.replace("    date: 2025-09-12", f"    date: {written}"), encoding="utf-8")
    problems = load(path)
    assert_matches(problems, [E(46, 11, "events[0].date", message)], str(path))


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("true", "unsupported schema_version True; this treatysim reads 1"),
        ("1.0", "unsupported schema_version 1.0; this treatysim reads 1"),
        ("'1'", "unsupported schema_version '1'; this treatysim reads 1 (write the number without"),
        ("[1]", "unsupported schema_version [1]; this treatysim reads 1"),
    ],
)
def test_schema_version_must_be_the_number_one(tmp_path: Path, written: str, message: str) -> None:
    text = (VALID / "minimal.yaml").read_text(encoding="utf-8")
    path = tmp_path / "version.yaml"
    path.write_text(text.replace("schema_version: 1", f"schema_version: {written}"), "utf-8")
    assert_matches(load(path), [E(2, 17, "schema_version", message)], str(path))


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("true", "unsupported schema_version True; this treatysim reads 1"),
        ("1.0", "unsupported schema_version 1.0; this treatysim reads 1"),
        ("'1'", "unsupported schema_version '1'; this treatysim reads 1 (write the number without"),
        ("[1]", "unsupported schema_version [1]; this treatysim reads 1"),
    ],
)
def test_sweep_schema_version_is_checked_as_a_scenario_s(
    tmp_path: Path, written: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """One version check for both kinds: a sweep refuses what a scenario refuses (exit 2)."""
    text = (VALID / "sweep_minimal.yaml").read_text(encoding="utf-8")
    shutil.copy(VALID / "minimal.yaml", tmp_path / "minimal.yaml")
    path = tmp_path / "version.yaml"
    path.write_text(text.replace("schema_version: 1", f"schema_version: {written}"), "utf-8")
    assert_matches(load_sweep_problems(path), [E(1, 17, "schema_version", message)], str(path))
    code, out, err = run_cli(capsys, str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"{path}:1:17: schema_version: {message}")


def load_sweep_problems(path: Path) -> list[Problem]:
    with pytest.raises(ValidationError) as info:
        load_sweep(path)
    return info.value.problems


def test_several_files_in_one_call(capsys: pytest.CaptureFixture[str]) -> None:
    """Every file is checked; the exit code is 2 if any is bad; good files still say ok."""
    files = [
        str(VALID / "minimal.yaml"),
        str(corpus_path("bad_step.yaml")),
        str(corpus_path("sweeps/unknown_outcome.yaml")),
    ]
    code, out, err = run_cli(capsys, *files)
    assert code == 2
    assert out == f"{files[0]}: ok (scenario)\n"
    assert [line.split(":")[0] for line in err.splitlines()] == files[1:]


def test_cross_references_are_checked_around_a_dropped_list_item(tmp_path: Path) -> None:
    """events[0] fails the schema and is set aside; events[2] names an unknown state. Both are
    reported, the second under its index in the file, not its index after events[0] was dropped."""
    original = """events:
  - id: zapad
    type: exercise
    date: 2025-09-12
    source: RUS
    capability_boost: 0.3
"""
    replacement = """events:
  - {type: ceasfire, date: 2025-03-01}
  - {type: reassurance, date: 2025-03-01, credibility: 0.5}
  - {type: armed_conflict_start, date: 2025-04-01, state: ESTX}
"""
    text = (VALID / "minimal.yaml").read_text(encoding="utf-8")
    assert original in text
    text = text.replace(original, replacement)
    path = tmp_path / "events.yaml"
    path.write_text(text, encoding="utf-8")
    problems = load(path)
    by_path = {p.path: p for p in problems}
    assert set(by_path) == {"events[0].type", "events[2].state"}, [str(p) for p in problems]
    line = text.splitlines().index(replacement.splitlines()[3]) + 1
    assert by_path["events[2].state"].line == line
    assert "unknown state 'ESTX'" in by_path["events[2].state"].message


@pytest.mark.parametrize("written", ["[]", "{a: 1}", "[fitted]"])
def test_a_tag_that_is_not_text_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], written: str
) -> None:
    """A discriminator written as a list or mapping (found by the fuzzer: it crashed the
    location cleaner with 'unhashable type') is one positioned line, exit 2."""
    from treatysim.cli import main
    from treatysim.scenario.bundled import resolve_scenario

    text = resolve_scenario("ottawa_2025").read_text()
    line = "  parameters.threat.sensitivity: {kind: fitted,"
    assert line in text
    bad = tmp_path / "ottawa_2025.yaml"
    bad.write_text(text.replace(line, f"  parameters.threat.sensitivity: {{kind: {written},"))
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert any(
        ln.startswith(f"{bad}:") and "provenance.parameters.threat.sensitivity.kind:" in ln
        for ln in err
    ), err
    assert not any("Traceback" in ln for ln in err)
