"""Explaining problems: pydantic's errors in the user's words, and one did-you-mean.

:func:`problems_from_pydantic` turns pydantic's validation errors into positioned
:class:`~treatysim.scenario.errors.Problem` lines that name the key path as the file writes it.
:func:`closest` is the one did-you-mean of the package: every message that suggests a name
(unknown keys, event types, states, groups, treaties, rules, outcomes) goes through it, so ties
are broken the same way everywhere.
"""

from __future__ import annotations

import datetime as dt
import difflib
import types
import typing
from collections.abc import Iterable
from typing import Any

import pydantic
from pydantic import BaseModel

from treatysim.scenario.errors import Problem, ValidationError, format_path
from treatysim.scenario.yamlio import Document, Location

#: How similar (difflib's ratio, 0 to 1) a name must be to be suggested.
SUGGEST_CUTOFF = 0.6


def closest(word: str, options: Iterable[str], cutoff: float = SUGGEST_CUTOFF) -> str | None:
    """The option most like ``word``, or None when none is close enough.

    Similarity is difflib's ratio. Ties are broken by the longer common start (``LTA``: ``LTU``
    rather than ``MLT``), then alphabetically, so the answer never depends on the order of
    ``options``.

    Args:
        word: What the user wrote.
        options: The names allowed there.
        cutoff: Lowest ratio that still counts as a suggestion.
    """
    best: tuple[float, int, str] | None = None
    for option in sorted(set(options)):
        ratio = difflib.SequenceMatcher(None, word, option).ratio()
        if ratio < cutoff:
            continue
        score = (ratio, _common_prefix(word, option), option)
        if best is None or score[:2] > best[:2]:  # sorted: the first of equals wins
            best = score
    return None if best is None else best[2]


def did_you_mean(word: str, options: Iterable[str], cutoff: float = SUGGEST_CUTOFF) -> str:
    """``"; did you mean 'X'?"`` for the :func:`closest` option, or ``""`` when there is none."""
    match = closest(word, options, cutoff)
    return f"; did you mean '{match}'?" if match is not None else ""


def _common_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def describe(value: Any) -> str:
    """A value as a message shows it: its repr, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def validate_document[M: BaseModel](doc: Document, model: type[M]) -> M:
    """Validate a parsed document against a model, raising positioned problems.

    Raises:
        ValidationError: With every schema problem, positioned in the document's file.
    """
    try:
        return model.model_validate(doc.data)
    except pydantic.ValidationError as exc:
        raise ValidationError(problems_from_pydantic(exc, doc, model)) from None


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
        data = child(data, part)
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


def child(data: Any, part: str | int) -> Any:
    """The part of ``data`` at one step of a location, or None when there is none."""
    if isinstance(data, dict):
        return data.get(part)
    if isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
        return data[part]
    return None


#: Names pydantic gives the members of a plain union (``float | date``) in error locations.
_UNION_MEMBERS = frozenset({"float", "int", "str", "bool", "none", "date", "list", "dict"})


def clean_loc(data: Any, loc: tuple[Any, ...], *, last_is_key: bool = False) -> Location:
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
        tags = ("type", "kind", "distribution")  # the discriminators of scenario, calibration
        # a tag's value may be anything the user wrote (a list, a mapping): compare, never hash
        values = [cur.get(t) for t in tags] if isinstance(cur, dict) else []
        if any(part == v for v in values if isinstance(v, str)) and id(cur) not in tagged:
            tagged.add(id(cur))
            continue  # the discriminator tag pydantic inserts for tagged unions
        out.append(part)
        cur = child(cur, part)
    return tuple(out)


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
#: Most schema problems explained for one file.
MAX_PROBLEMS = 100
#: Errors whose location ends in the name of a key (missing or unknown), not a value.
KEY_ERRORS = {"missing", "extra_forbidden"}


def problems_from_pydantic(
    exc: pydantic.ValidationError, doc: Document, root: type[BaseModel]
) -> list[Problem]:
    """Translate pydantic's errors into positioned, readable problems.

    At most :data:`MAX_PROBLEMS` are explained; a last problem counts the rest (a file with
    100,000 unknown keys is reported in a moment, not after a suggestion for each).
    """
    problems: list[Problem] = []
    seen: set[tuple[Location, str]] = set()
    unions: dict[Location, tuple[Any, list[str]]] = {}  # one problem per value, not per member
    errors = exc.errors(include_url=False)
    for n, err in enumerate(errors):
        if len(problems) >= MAX_PROBLEMS:
            rest = len(errors) - n
            problems.append(
                Problem(doc.file, 1, 1, "", f"... and {rest:,} more problems (fix these first)")
            )
            break
        kind = err["type"]
        raw = tuple(err["loc"])
        loc = clean_loc(doc.data, raw, last_is_key=kind in KEY_ERRORS)
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
            message = f"unknown key '{loc[-1]}'" + did_you_mean(str(loc[-1]), options)
            if options and not did_you_mean(str(loc[-1]), options):
                message += f" (allowed: {', '.join(options)})"
            key_pos = True
        elif kind == "missing":
            message = f"missing required key '{loc[-1]}'"
        elif kind == "union_tag_invalid":
            tags = [t.strip("' ") for t in str(ctx.get("expected_tags", "")).split(",")]
            tag = str(ctx.get("tag"))
            message = f"unknown event type '{tag}'" + did_you_mean(tag, tags)
            if not did_you_mean(tag, tags):
                message += f" (one of: {', '.join(tags)})"
            loc = (*loc, "type")
        elif kind == "union_tag_not_found":
            message = "missing required key 'type'"
            loc = (*loc, "type")
        elif kind == "literal_error":
            expected = str(ctx.get("expected", ""))
            options = [o.strip("' ") for o in expected.replace(" or ", ",").split(",")]
            message = f"{describe(value)} is not allowed; expected {expected}" + did_you_mean(
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
            message = f"must be {sign} {bound} (got {describe(value)})"
        elif kind == "string_pattern_mismatch":
            message = f"{describe(value)} is not a valid identifier here"
            message += _PATTERN_HINTS.get(str(ctx.get("pattern")), "")
        elif kind in {"model_type", "model_attributes_type", "dict_type"}:
            message = f"expected a mapping of keys and values (got {describe(value)})"
        elif kind.startswith("date_"):  # pydantic's wording talks of datetimes and timestamps
            timed = isinstance(value, dt.datetime)
            detail = ctx.get("error") or ("a date has no time of day" if timed else "")
            message = f"{value if timed else describe(value)} is not a valid date"
            message += (f" ({detail})" if detail else "") + "; write it as YYYY-MM-DD"
        elif kind == "value_error":
            message = str(ctx.get("error", err["msg"])).removeprefix("Value error, ")
        else:
            message = f"{err['msg'][0].lower()}{err['msg'][1:]} (got {describe(value)})"
        path = format_path(loc)
        if (loc, message) in seen:
            continue
        seen.add((loc, message))
        problems.append(doc.problem(loc, path, message, key=key_pos))
    for loc, (value, words) in unions.items():
        if "a number" in words and "a whole number" in words:
            words.remove("a whole number")
        expected = ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]
        message = f"expected {expected} (got {describe(value)})"
        problems.append(doc.problem(loc, format_path(loc), message))
    return problems
