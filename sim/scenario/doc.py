"""Documentation generated from the languages: ODD's parameter table and the JSON Schema.

``python -m treatysim.scenario.doc`` rewrites the table between the markers in docs/ODD.md, so
the table and the schema never disagree; a test checks that the committed table equals the
generated one. :func:`json_schema` is what ``treatysim schema`` prints.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from treatysim.scenario import schema as sc
from treatysim.scenario.calibration import Calibration, calibration_json_schema
from treatysim.scenario.sweep import Sweep

START = "<!-- parameter-table:start -->"
END = "<!-- parameter-table:end -->"

#: The scenario sections whose numeric fields are model parameters, with their key-path prefix.
SECTIONS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("parameters.threat", sc.ThreatParameters),
    ("parameters.commitment", sc.CommitmentParameters),
    ("parameters.pipeline", sc.PipelineParameters),
    ("parameters.threshold", sc.ThresholdParameters),
    ("threat_sources.<id>", sc.ThreatSource),
    ("network.ties", sc.NetworkTies),
    ("treaties.<id>", sc.Treaty),
    ("groups.<name>", sc.Group),
    ("events[ceasefire]", sc.Ceasefire),
)


def _bounds(field: Any) -> tuple[Any, Any]:
    low = high = None
    for item in field.metadata:
        low = getattr(item, "ge", low)
        high = getattr(item, "le", high)
    return low, high


def parameter_rows() -> list[dict[str, str]]:
    """One row per documented parameter: key path, default, unit, range, source, meaning."""
    rows = []
    for prefix, model in SECTIONS:
        for name, field in model.model_fields.items():
            extra = field.json_schema_extra
            if not isinstance(extra, dict) or "unit" not in extra:
                continue
            low, high = _bounds(field)
            description = (field.description or "").split(" Unit:")[0]
            rows.append(
                {
                    "name": f"{prefix}.{name}",
                    "default": f"{field.default:g}",
                    "unit": str(extra["unit"]),
                    "range": f"{low:g} – {high:g}",
                    "source": str(extra.get("source", "")),
                    "meaning": description,
                }
            )
    return rows


def parameter_table() -> str:
    """The parameter table as Markdown."""
    lines = [
        "| parameter | default | unit | range | source | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for row in parameter_rows():
        lines.append(
            f"| `{row['name']}` | {row['default']} | {row['unit']} | {row['range']} | "
            f"{row['source']} | {row['meaning']} |"
        )
    return "\n".join(lines)


def replace_table(text: str) -> str:
    """Put the generated table between the markers of a document."""
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{parameter_table()}\n{END}{tail}"


#: The ``extends`` key of scenario files, resolved before the schema (scenario.inherit).
EXTENDS_SCHEMA: dict[str, Any] = {
    "type": "string",
    "title": "Extends",
    "description": (
        "A base scenario this file builds on: a bundled name (ottawa_2025) or a path relative "
        "to this file. Mappings merge by key; events merge by id (an event with `remove: true` "
        "drops the base's event of that id); any other value replaces the base's."
    ),
}


#: An event of a file that extends a base may only drop the base's event of that id.
REMOVE_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "RemoveEvent",
    "description": "In a file that extends a base: drop the base's event with this id.",
    "properties": {"id": {"type": "string"}, "remove": {"const": True}},
    "required": ["id", "remove"],
    "additionalProperties": False,
}


def json_schema(kind: str = "all") -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of scenario, sweep or calibration files, or any of them.

    The output depends only on the models: no date or other changing value, so the schema can
    be committed and compared.
    """
    scenario = sc.Scenario.model_json_schema()
    scenario["properties"] = {"extends": EXTENDS_SCHEMA, **scenario["properties"]}
    events = scenario["properties"].get("events")
    if isinstance(events, dict) and "items" in events:
        events["items"] = {"anyOf": [events["items"], REMOVE_EVENT_SCHEMA]}
    required = scenario.pop("required", [])
    if required:  # a file that extends a base gets the required keys from it
        scenario["if"] = {"required": ["extends"]}
        scenario["else"] = {"required": required}
    sweep = Sweep.model_json_schema()
    header = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
    if kind == "scenario":
        return {**header, "title": "treatysim scenario", **scenario}
    if kind == "sweep":
        return {**header, "title": "treatysim sweep", **sweep}
    if kind == "calibration":
        return calibration_json_schema()
    # the calibration's definitions are prefixed: their names (Uniform, Window, …) may repeat
    calibration = Calibration.model_json_schema(ref_template="#/$defs/Calibration.{model}")
    calibration_defs = {f"Calibration.{k}": v for k, v in calibration.pop("$defs", {}).items()}
    defs = {**scenario.pop("$defs", {}), **sweep.pop("$defs", {}), **calibration_defs}
    defs["Scenario"] = scenario
    defs["Sweep"] = sweep
    defs["Calibration"] = calibration
    return {
        **header,
        "title": "treatysim scenario, sweep or calibration file",
        "description": "Generated from treatysim's pydantic models.",
        "anyOf": [
            {"$ref": "#/$defs/Scenario"},
            {"$ref": "#/$defs/Sweep"},
            {"$ref": "#/$defs/Calibration"},
        ],
        "$defs": defs,
    }


def main(argv: list[str] | None = None) -> int:
    """Rewrite docs/ODD.md's parameter table in place."""
    args = sys.argv[1:] if argv is None else argv
    # sim/scenario/doc.py in a checkout: the repository root is three levels up
    path = Path(args[0]) if args else Path(__file__).resolve().parents[2] / "docs" / "ODD.md"
    if not path.is_file():
        print(f"{path}: not found; give the path of docs/ODD.md", file=sys.stderr)
        return 2
    text = path.read_text(encoding="utf-8")
    if START not in text or END not in text:
        print(f"{path}: no parameter-table markers", file=sys.stderr)
        return 2
    path.write_text(replace_table(text), encoding="utf-8")
    print(f"{path}: parameter table updated ({len(parameter_rows())} parameters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
