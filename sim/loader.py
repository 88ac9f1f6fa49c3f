"""Load scenario files: safe YAML, schema validation, cross-references, precise errors.

:func:`load_scenario` is the one way a scenario file enters the engine. It reports every
problem it finds as ``FILE:LINE:COL: key.path: message`` through
:class:`~sim.errors.ValidationError`.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
from pydantic import BaseModel

from sim.errors import Problem, ValidationError, format_path
from sim.yamlio import Document, Location, load_yaml_file, load_yaml_text


@dataclass(frozen=True)
class Loaded[M: BaseModel]:
    """A validated file: the model, the parsed document and where it came from."""

    model: M
    document: Document
    path: Path | None

    @property
    def base_dir(self) -> Path | None:
        """The folder relative paths in the file resolve against."""
        return self.path.parent if self.path is not None else None


# --------------------------------------------------------------------------------------------
# pydantic errors -> problems


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types an annotation can hold (Optional, Annotated and unions unwrapped)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_unwrap(arg))
        return out
    if isinstance(annotation, typing.TypeAliasType):
        return _unwrap(annotation.__value__)
    return [annotation]


def _model_at(root: type[BaseModel], data: Any, loc: Location) -> type[BaseModel] | None:
    """The pydantic model class that validates the value found at ``loc``."""
    candidates: list[Any] = [root]
    for part in loc:
        nxt: list[Any] = []
        for cand in candidates:
            origin = typing.get_origin(cand)
            if isinstance(cand, type) and issubclass(cand, BaseModel) and isinstance(part, str):
                field = cand.model_fields.get(part)
                if field is not None:
                    nxt.extend(_unwrap(field.annotation))
            elif origin is list and isinstance(part, int):
                nxt.extend(_unwrap(typing.get_args(cand)[0]))
            elif origin is dict:
                nxt.extend(_unwrap(typing.get_args(cand)[1]))
        data = _child(data, part)
        candidates = nxt
        models = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if len(models) > 1 and isinstance(data, dict):
            # a discriminated union: pick the member whose `type` literal matches
            tagged = [m for m in models if _type_literal(m) == data.get("type")]
            candidates = tagged or models
    models = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
    return models[0] if len(models) == 1 else None


def _type_literal(model: type[BaseModel]) -> Any:
    field = model.model_fields.get("type")
    if field is None:
        return None
    args = typing.get_args(field.annotation)
    return args[0] if args else None


def _child(data: Any, part: str | int) -> Any:
    if isinstance(data, dict):
        return data.get(part)
    if isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
        return data[part]
    return None


def _clean_loc(data: Any, loc: tuple[Any, ...]) -> Location:
    """Drop pydantic's own markers (union tags, ``[key]``) so the location matches the file."""
    out: list[str | int] = []
    cur = data
    for part in loc:
        if isinstance(part, str) and part.startswith(("function-", "[key]")):
            continue
        if isinstance(cur, dict) and part not in cur and cur.get("type") == part:
            continue  # the discriminator tag pydantic inserts for tagged unions
        if (
            isinstance(part, str)
            and isinstance(cur, dict | list)
            and not isinstance(cur, dict)
            and part in {"float", "int", "str", "bool", "none", "date", "list"}
        ):
            continue
        if not isinstance(cur, dict | list) and isinstance(part, str) and out:
            # a union member name after a scalar value (e.g. "float" in `float | None`)
            continue
        out.append(part)
        cur = _child(cur, part)
    return tuple(out)


def _suggest(word: str, options: typing.Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def problems_from_pydantic(
    exc: pydantic.ValidationError, doc: Document, root: type[BaseModel]
) -> list[Problem]:
    """Translate pydantic's errors into positioned, readable problems."""
    problems: list[Problem] = []
    seen: set[tuple[Location, str]] = set()
    for err in exc.errors(include_url=False):
        loc = _clean_loc(doc.data, tuple(err["loc"]))
        kind = err["type"]
        value = err.get("input")
        ctx = err.get("ctx") or {}
        key_pos = False
        if kind == "extra_forbidden":
            parent = _model_at(root, doc.data, loc[:-1])
            options = list(parent.model_fields) if parent else []
            message = f"unknown key '{loc[-1]}'" + _suggest(str(loc[-1]), options)
            if options and not _suggest(str(loc[-1]), options):
                message += f" (allowed: {', '.join(options)})"
            key_pos = True
        elif kind == "missing":
            message = f"missing required key '{loc[-1]}'"
        elif kind == "union_tag_invalid":
            tags = [t.strip("' ") for t in str(ctx.get("expected_tags", "")).split(",")]
            tag = str(ctx.get("tag"))
            message = f"unknown event type '{tag}'" + _suggest(tag, tags)
            if not _suggest(tag, tags):
                message += f" (one of: {', '.join(tags)})"
            loc = (*loc, "type")
        elif kind == "union_tag_not_found":
            message = "missing required key 'type'"
            loc = (*loc, "type")
        elif kind == "literal_error":
            expected = str(ctx.get("expected", ""))
            options = [o.strip("' ") for o in expected.replace(" or ", ",").split(",")]
            message = f"{_describe(value)} is not allowed; expected {expected}" + _suggest(
                str(value), options
            )
        elif kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
            bound = next(iter(ctx.values()), "?")
            sign = {
                "greater_than_equal": ">=",
                "greater_than": ">",
                "less_than_equal": "<=",
                "less_than": "<",
            }[kind]
            message = f"must be {sign} {bound} (got {_describe(value)})"
        elif kind == "string_pattern_mismatch":
            message = f"{_describe(value)} is not a valid identifier here"
        elif kind == "value_error":
            message = str(ctx.get("error", err["msg"])).removeprefix("Value error, ")
        else:
            message = f"{err['msg'][0].lower()}{err['msg'][1:]} (got {_describe(value)})"
        path = format_path(loc)
        if (loc, message) in seen:
            continue
        seen.add((loc, message))
        problems.append(doc.problem(loc, path, message, key=key_pos))
    return problems


# --------------------------------------------------------------------------------------------
# loading


def validate_document[M: BaseModel](doc: Document, model: type[M]) -> M:
    """Validate a parsed document against a model, raising positioned problems."""
    try:
        return model.model_validate(doc.data)
    except pydantic.ValidationError as exc:
        raise ValidationError(problems_from_pydantic(exc, doc, model)) from None


def load_scenario(path: Path | str) -> Loaded[Any]:
    """Load, validate and cross-check a scenario file.

    Args:
        path: The scenario YAML file.

    Returns:
        The validated scenario with its document and path.

    Raises:
        ValidationError: With every problem found.
    """
    from sim.checks import check_scenario
    from sim.scenario import Scenario

    doc = load_yaml_file(path)
    _check_kind(doc, "scenario")
    scenario = validate_document(doc, Scenario)
    loaded = Loaded(scenario, doc, Path(path))
    problems = check_scenario(loaded)
    if problems:
        raise ValidationError(problems)
    return loaded


def load_scenario_text(text: str, name: str = "<string>", base_dir: Path | None = None) -> Any:
    """Load a scenario from YAML text (for tests and the Python API)."""
    from sim.checks import check_scenario
    from sim.scenario import Scenario

    doc = load_yaml_text(text, name)
    _check_kind(doc, "scenario")
    scenario = validate_document(doc, Scenario)
    loaded = Loaded(scenario, doc, (base_dir / name) if base_dir else None)
    problems = check_scenario(loaded)
    if problems:
        raise ValidationError(problems)
    return loaded


def _check_kind(doc: Document, expected: str) -> None:
    data = doc.data
    version = data.get("schema_version")
    if "schema_version" in data and version != 1:
        raise ValidationError(
            [
                doc.problem(
                    ("schema_version",),
                    "schema_version",
                    f"unsupported schema_version {_describe(version)}; this treatysim reads 1",
                )
            ]
        )
    if expected == "scenario" and "base" in data and "calendar" not in data:
        raise ValidationError(
            [doc.problem(("base",), "base", "this is a sweep file; use `treatysim sweep`")]
        )


def is_sweep_document(doc: Document) -> bool:
    """Whether a parsed file looks like a sweep file (it names a base scenario)."""
    return isinstance(doc.data, dict) and "base" in doc.data and "calendar" not in doc.data
