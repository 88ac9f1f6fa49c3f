"""``treatysim validate`` on the bundled scenarios, and ``treatysim schema``'s JSON Schema."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from treatysim.cli import main
from treatysim.scenario.calibration_load import is_calibration_document
from treatysim.scenario.load import is_sweep_document
from treatysim.scenario.yamlio import load_yaml_file

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
BUNDLED = sorted(SCENARIOS.rglob("*.yaml"))
FOUNDING = SCENARIOS / "ottawa_2025.yaml"
VALID = Path(__file__).resolve().parent / "data" / "valid"
MALFORMED = Path(__file__).resolve().parent / "data" / "malformed"


def plain(data: Any) -> Any:
    """YAML data as JSON data: dates become ISO strings (the schema's "format": "date")."""
    if isinstance(data, dict):
        return {str(k): plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [plain(v) for v in data]
    if isinstance(data, dt.date):
        return data.isoformat()
    return data


def schema_from_cli(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["schema", *args]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return json.loads(captured.out)


# --------------------------------------------------------------------------------------------
# validate


def test_bundled_scenarios_are_found() -> None:
    names = {p.name for p in BUNDLED}
    assert {"ottawa_2025.yaml", "ceasefire_2025.yaml"} <= names


def test_validate_all_bundled_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(p) for p in BUNDLED]
    code = main(["validate", *files])
    captured = capsys.readouterr()
    assert captured.err == ""
    assert code == 0
    lines = captured.out.splitlines()
    assert len(lines) == len(files)
    for file, line in zip(files, lines, strict=True):
        kinds = ("scenario", "sweep", "calibration")
        assert line in [f"{file}: ok ({kind})" for kind in kinds]


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_validate_each_bundled_scenario(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err


def test_validate_console_script() -> None:
    """The installed ``treatysim`` entry point, in a fresh process, from the repository root."""
    script = Path(sys.executable).parent / "treatysim"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "treatysim"]
    files = [str(p.relative_to(ROOT)) for p in BUNDLED]
    result = subprocess.run(
        [*command, "validate", *files], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(files)
    for file, line in zip(files, lines, strict=True):
        kinds = ("scenario", "sweep", "calibration")
        assert line in [f"{file}: ok ({kind})" for kind in kinds]
    bad = subprocess.run(
        [*command, "validate", str(MALFORMED / "bad_step.yaml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.startswith(f"{MALFORMED / 'bad_step.yaml'}:8:9: calendar.step: ")
    assert "Traceback" not in bad.stderr


def test_validate_without_files_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 2  # argparse's exit is returned as the code, in one line
    err = capsys.readouterr().err
    assert "FILE" in err and len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------------------------
# schema


@pytest.mark.parametrize("kind", ["all", "scenario", "sweep", "calibration"])
def test_schema_is_a_valid_json_schema(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = [] if kind == "all" else ["--kind", kind]
    schema = schema_from_cli(capsys, *args)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("specific", [False, True], ids=["all", "own_kind"])
@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_bundled_files_validate_against_the_schema(
    path: Path, specific: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    document = load_yaml_file(path)
    kind = "sweep" if is_sweep_document(document) else "scenario"
    if is_calibration_document(document.data):
        kind = "calibration"
    args = ["--kind", kind] if specific else []
    validator = Draft202012Validator(schema_from_cli(capsys, *args))
    data = plain(document.data)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []


def test_founding_scenario_validates_against_the_schema(
    capsys: pytest.CaptureFixture[str],
) -> None:
    schema = schema_from_cli(capsys)
    data = plain(load_yaml_file(FOUNDING).data)
    assert isinstance(data["calendar"]["start"], str)
    Draft202012Validator(schema).validate(data)


def test_sweep_validates_against_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    data = plain(load_yaml_file(VALID / "sweep_minimal.yaml").data)
    Draft202012Validator(schema_from_cli(capsys)).validate(data)
    Draft202012Validator(schema_from_cli(capsys, "--kind", "sweep")).validate(data)
    assert not Draft202012Validator(schema_from_cli(capsys, "--kind", "scenario")).is_valid(data)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["calendar"].update(step="fortnight"), ["calendar", "step"]),
        (lambda d: d["parameters"].update(threat={"sensitivty": 2.0}), ["parameters", "threat"]),
        (lambda d: d["treaties"]["ottawa"].update(notice_months=-6), ["treaties", "ottawa"]),
        (lambda d: d["events"][0].update(type="excercise"), ["events", 0]),
        (lambda d: d.update(netwrok={}), []),
        (lambda d: d.pop("calendar"), []),
    ],
)
def test_schema_rejects_broken_scenarios(
    change: Any, where: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """The schema has teeth: the same breaks the loader reports also fail the schema."""
    validator = Draft202012Validator(schema_from_cli(capsys, "--kind", "scenario"))
    data = plain(load_yaml_file(FOUNDING).data)
    change(data)
    errors = list(validator.iter_errors(data))
    assert errors
    assert any(list(e.absolute_path)[: len(where)] == where for e in errors)


def test_schema_output_is_stable(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    """Nothing in the schema changes from day to day (it used to embed today's date)."""
    import datetime

    first = json.dumps(schema_from_cli(capsys))

    class Tomorrow(datetime.date):
        @classmethod
        def today(cls) -> datetime.date:
            return datetime.date(2099, 1, 2)

    monkeypatch.setattr(datetime, "date", Tomorrow)
    assert json.dumps(schema_from_cli(capsys)) == first
    assert "2099" not in first and dt.date.today().isoformat() not in first


def test_schema_survives_a_closed_pipe() -> None:
    """`treatysim schema | head -1`: no BrokenPipeError traceback, head's line comes out."""
    script = Path(sys.executable).parent / "treatysim"
    command = str(script) if script.exists() else f"{sys.executable} -m treatysim"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"{command} schema | head -1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout == "{\n"
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr
    assert result.returncode == 0
    # deterministic: read one byte and close while the writer is still blocked on a full pipe
    process = subprocess.Popen(
        [*command.split(), "schema"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(1) == b"{"
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0
    assert "Traceback" not in err, err


def test_validate_takes_bundled_names_of_every_kind(capsys) -> None:
    """``validate`` resolves bundled names as ``run``, ``sweep`` and ``calibrate`` do."""
    from treatysim.cli import main

    names = ["ottawa_2025", "sweeps/reassurance_levers", "calibration/ottawa_full"]
    assert main(["validate", *names]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "ottawa_2025: ok (scenario)",
        "sweeps/reassurance_levers: ok (sweep)",
        "calibration/ottawa_full: ok (calibration)",
    ]
