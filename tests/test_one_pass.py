"""``treatysim validate`` reports every problem it can find in one pass.

A file with mistakes of every kind (YAML level, version, schema, cross-references) used to take
three rounds: the YAML level stopped the load, then the version check, then the schema.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from treatysim.cli import main

MANY = """\
schema_version: "1"
name: many_mistakes
calendar:
  start: 2025-01-01
  end: 2026-12-31
  step: week
treaties:
  ottawa:
    title: Ottawa
    notice_months: -6
    parties: {column: ottawa_party_2025}
states:
  dataset: europe_2025
  include: [EST, LVA, LTA, POL]
threat_sources:
  RUS: {capability: 1.0, tied_down_share: 0.6, offensive: 1.0}
network:
  ties: {land_border: 1.0, nato: 0.1}
  ties: {land_border: 2.0}
parameters:
  rule: threat_commitment
  threat: {sensitivty: 2.0}
events:
  - {id: a, type: excercise, date: 2025-02-01, source: RUS}
  - {id: b, type: reassurance, date: 2030-01-01, credibility: 0.4}
  - {id: c, type: reassurance, date: 2025-03-01, credibility: !!python/none x}
run: {replications: 10, seed: 1}
"""

#: (line, key path, words of the message): one per mistake, of five kinds.
EXPECTED = [
    (1, "schema_version", "without quotes"),  # version
    (10, "treaties.ottawa.notice_months", "must be >= 0"),  # schema: a bound
    (14, "states.include[2]", "unknown state or group 'LTA'"),  # cross-reference
    (19, "network.ties", "duplicate key"),  # YAML level
    (22, "parameters.threat.sensitivty", "unknown key"),  # schema: a key
    (24, "events[0].type", "unknown event type"),  # schema: a union tag
    (25, "events[1].date", "outside the calendar"),  # cross-reference
    (26, "events[2].credibility", "tag !!python/none is not allowed"),  # YAML level
]


def test_every_kind_of_mistake_comes_out_in_one_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(MANY, encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == len(EXPECTED), "\n".join(lines)
    for line, (number, key, words) in zip(lines, EXPECTED, strict=True):
        assert line.startswith(f"{path}:{number}:"), line
        assert f": {key}: " in line and words in line, line


def test_a_sweep_reports_its_own_and_its_base_problems_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "many.yaml").write_text(MANY, encoding="utf-8")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        "schema_version: 1\nname: s\nbase: many.yaml\ndesign: {type: grid}\n"
        "factors:\n  - {path: parameters.threat.sensitivity, values: [1, 2]}\n"
        "replications: -3\n",
        encoding="utf-8",
    )
    assert main(["validate", str(sweep)]) == 2
    lines = capsys.readouterr().err.splitlines()
    base_lines = [x for x in lines if x.startswith(str(tmp_path / "many.yaml"))]
    assert len(base_lines) == len(EXPECTED)
    assert f"{sweep}:3:7: base: the base scenario is not valid (8 problems)" in lines
    assert any(x.startswith(f"{sweep}:7:") and "replications" in x for x in lines)


def test_a_syntax_error_still_stops_the_load(tmp_path: Path, capsys) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\ncalendar: {}\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "invalid YAML" in line
