"""Load scenario files: safe YAML, schema validation, cross-references, precise errors.

:func:`load_scenario` is the one way a scenario file enters the engine. It reports every
problem it finds as ``FILE:LINE:COL: key.path: message`` through
:class:`~treatysim.scenario.errors.ValidationError`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
from pydantic import BaseModel

from treatysim.scenario.errors import Problem, ValidationError, format_path
from treatysim.scenario.yamlio import Document, Location, load_yaml_file, load_yaml_text


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


#: Names pydantic gives the members of a plain union (``float | date``) in error locations.
_UNION_MEMBERS = frozenset({"float", "int", "str", "bool", "none", "date", "list", "dict"})


def _clean_loc(data: Any, loc: tuple[Any, ...], *, last_is_key: bool = False) -> Location:
    """Drop pydantic's own markers (union tags, ``[key]``) so the location matches the file.

    A part that is a key actually present in the document is never dropped (a user may write a
    key called ``function-x`` or ``exercise``), nor is the last part when it names a key (the
    missing or unknown one).
    """
    out: list[str | int] = []
    cur = data
    tagged: set[int] = set()  # dicts whose union tag has been dropped already
    for n, part in enumerate(loc):
        real = (isinstance(cur, dict) and part in cur) or (last_is_key and n == len(loc) - 1)
        if isinstance(part, str) and not real:
            if part.startswith(("function-", "[key]")) or part.split("[")[0] in _UNION_MEMBERS:
                continue  # validator wrappers, the key marker of dict keys, union members
            if not isinstance(cur, dict | list) and out:
                continue  # a union member name after a scalar value
        if isinstance(cur, dict) and cur.get("type") == part and id(cur) not in tagged:
            tagged.add(id(cur))
            continue  # the discriminator tag pydantic inserts for tagged unions
        out.append(part)
        cur = _child(cur, part)
    return tuple(out)


def _suggest(word: str, options: typing.Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


#: What the identifier patterns of treatysim.scenario.schema mean, in words.
_PATTERN_HINTS = {
    "^[a-z][a-z0-9_]{0,39}$": (
        ": use lower case letters, digits and underscores, starting with a letter (at most 40)"
    ),
    "^[A-Za-z][A-Za-z0-9_-]{0,31}$": (
        ": use an ISO3 code or a name of letters, digits, '_' and '-' starting with a letter "
        "(at most 32)"
    ),
}


#: How the members of a plain union are described when a value fits none of them.
_MEMBER_WORDS = {
    "float": "a number",
    "int": "a whole number",
    "date": "a date (YYYY-MM-DD)",
    "str": "text",
    "bool": "true/false",
    "none": "null",
    "list": "a list",
    "dict": "a mapping",
}
#: Errors whose location ends in the name of a key (missing or unknown), not a value.
_KEY_ERRORS = {"missing", "extra_forbidden"}


def problems_from_pydantic(
    exc: pydantic.ValidationError, doc: Document, root: type[BaseModel]
) -> list[Problem]:
    """Translate pydantic's errors into positioned, readable problems."""
    problems: list[Problem] = []
    seen: set[tuple[Location, str]] = set()
    unions: dict[Location, tuple[Any, list[str]]] = {}  # one problem per value, not per member
    for err in exc.errors(include_url=False):
        kind = err["type"]
        raw = tuple(err["loc"])
        loc = _clean_loc(doc.data, raw, last_is_key=kind in _KEY_ERRORS)
        value = err.get("input")
        ctx = err.get("ctx") or {}
        member = str(raw[-1]).split("[")[0] if raw else ""
        if member in _MEMBER_WORDS and (not loc or loc[-1] != raw[-1]):
            unions.setdefault(loc, (value, []))[1].append(_MEMBER_WORDS[member])
            continue
        key_pos = "[key]" in err["loc"]  # the error is about a mapping key, not its value
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
            message += _PATTERN_HINTS.get(str(ctx.get("pattern")), "")
        elif kind in {"model_type", "model_attributes_type", "dict_type"}:
            message = f"expected a mapping of keys and values (got {_describe(value)})"
        elif kind.startswith("date_"):  # pydantic's wording talks of datetimes and timestamps
            timed = isinstance(value, dt.datetime)
            detail = ctx.get("error") or ("a date has no time of day" if timed else "")
            message = f"{value if timed else _describe(value)} is not a valid date"
            message += (f" ({detail})" if detail else "") + "; write it as YYYY-MM-DD"
        elif kind == "value_error":
            message = str(ctx.get("error", err["msg"])).removeprefix("Value error, ")
        else:
            message = f"{err['msg'][0].lower()}{err['msg'][1:]} (got {_describe(value)})"
        path = format_path(loc)
        if (loc, message) in seen:
            continue
        seen.add((loc, message))
        problems.append(doc.problem(loc, path, message, key=key_pos))
    for loc, (value, words) in unions.items():
        if "a number" in words and "a whole number" in words:
            words.remove("a whole number")
        expected = ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]
        message = f"expected {expected} (got {_describe(value)})"
        problems.append(doc.problem(loc, format_path(loc), message))
    return problems


# --------------------------------------------------------------------------------------------
# loading


def validate_document[M: BaseModel](doc: Document, model: type[M]) -> M:
    """Validate a parsed document against a model, raising positioned problems."""
    try:
        return model.model_validate(doc.data)
    except pydantic.ValidationError as exc:
        raise ValidationError(problems_from_pydantic(exc, doc, model)) from None


class _PrunedDocument(Document):
    """A document with some list items removed, whose problems point at the original file.

    ``kept`` maps a list's location to the original indices of the items still in it.
    """

    def __init__(self, data: Any, base: Document, kept: dict[Location, list[int]]) -> None:
        super().__init__(data, base.file, base.value_pos, base.key_pos)
        self.kept = kept

    def original(self, loc: Location) -> Location:
        """The location in the original file of a location in the pruned data."""
        out: list[str | int] = []
        for part in loc:
            where = tuple(out)
            if isinstance(part, int) and where in self.kept and part < len(self.kept[where]):
                part = self.kept[where][part]
            out.append(part)
        return tuple(out)

    def problem(self, loc: Location, path: str, message: str, *, key: bool = False) -> Problem:
        """A problem positioned, and named, by its place in the original file."""
        original = self.original(tuple(loc))
        return super().problem(original, format_path(original), message, key=key)


def _prune(data: Any, locs: list[Location]) -> tuple[Any, dict[Location, list[int]]] | None:
    """Remove the parts of a document that failed the schema, so the rest can be cross-checked.

    A failing list item is removed whole; a failing mapping key is removed (its default
    applies). Returns None when a failure cannot be removed (a required key is missing).
    """
    import copy

    data = copy.deepcopy(data)
    drop_items: dict[Location, set[int]] = {}
    for loc in locs:
        index = next((n for n, part in enumerate(loc) if isinstance(part, int)), None)
        if index is not None:
            drop_items.setdefault(tuple(loc[:index]), set()).add(int(loc[index]))
            continue
        parent = _child_at(data, loc[:-1])
        if not isinstance(parent, dict) or loc[-1] not in parent:
            return None
        del parent[loc[-1]]
    kept: dict[Location, list[int]] = {}
    for where, dropped in drop_items.items():
        items = _child_at(data, where)
        if not isinstance(items, list):
            return None
        kept[where] = [i for i in range(len(items)) if i not in dropped]
        items[:] = [items[i] for i in kept[where]]
    return data, kept


def _child_at(data: Any, loc: Location) -> Any:
    for part in loc:
        data = _child(data, part)
    return data


def _scenario_from(doc: Document, path: Path | None) -> Loaded[Any]:
    """Validate a scenario document and cross-check it, reporting every problem found.

    When the schema fails, the failing parts are set aside and the rest is still cross-checked
    (unknown states, events outside the calendar, ...), so one pass shows all the problems.
    """
    from treatysim.scenario.checks import check_scenario
    from treatysim.scenario.schema import Scenario

    _check_kind(doc, "scenario")
    try:
        scenario = Scenario.model_validate(doc.data)
    except pydantic.ValidationError as exc:
        problems = problems_from_pydantic(exc, doc, Scenario)
        problems += _salvaged_problems(doc, exc, path, problems)
        raise ValidationError(problems) from None
    loaded = Loaded(scenario, doc, path)
    problems = check_scenario(loaded)
    if problems:
        raise ValidationError(problems)
    return loaded


def _salvaged_problems(
    doc: Document, exc: pydantic.ValidationError, path: Path | None, found: list[Problem]
) -> list[Problem]:
    """Cross-reference problems in what remains once the schema's failures are removed."""
    from treatysim.scenario.checks import check_scenario
    from treatysim.scenario.schema import Scenario

    data: Any = doc.data
    kept: dict[Location, list[int]] = {}
    for _ in range(3):  # removing one failure can expose another (e.g. a now-empty section)
        locs = [
            _clean_loc(data, tuple(err["loc"]), last_is_key=err["type"] in _KEY_ERRORS)
            for err in exc.errors(include_url=False)
        ]
        pruned = _prune(data, [loc for loc in locs if loc])
        if pruned is None:
            return []
        data, more_kept = pruned
        if kept and more_kept:
            return []  # nested re-indexing is not worth tracking; report the schema's problems
        kept = kept or more_kept
        try:
            scenario = Scenario.model_validate(data)
        except pydantic.ValidationError as again:
            exc = again
            continue
        pruned_doc = _PrunedDocument(data, doc, kept)
        try:
            extra = check_scenario(Loaded(scenario, pruned_doc, path))
        except Exception:  # a best-effort pass must never hide the real problems
            return []
        seen = {(p.line, p.column, p.message) for p in found}
        return [p for p in extra if (p.line, p.column, p.message) not in seen]
    return []


def load_scenario(path: Path | str) -> Loaded[Any]:
    """Load, validate and cross-check a scenario file.

    Args:
        path: The scenario YAML file.

    Returns:
        The validated scenario with its document and path.

    Raises:
        ValidationError: With every problem found.
    """
    return _scenario_from(load_yaml_file(path), Path(path))


def load_scenario_text(text: str, name: str = "<string>", base_dir: Path | None = None) -> Any:
    """Load a scenario from YAML text (for tests and the Python API)."""
    return _scenario_from(load_yaml_text(text, name), (base_dir / name) if base_dir else None)


def _check_kind(doc: Document, expected: str) -> None:
    data = doc.data
    version = data.get("schema_version")
    if "schema_version" in data and (type(version) is not int or version != 1):  # not True, 1.0
        hint = " (write the number without quotes)" if str(version).strip() == "1" else ""
        raise ValidationError(
            [
                doc.problem(
                    ("schema_version",),
                    "schema_version",
                    f"unsupported schema_version {_describe(version)}; this treatysim reads 1"
                    + hint,
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
