"""Scenario inheritance: ``extends: BASE`` plus only what changes.

A scenario file may name a base scenario with ``extends``: a path relative to the file (tried
first) or a bundled name (``ottawa_2025``). The base is read (and its own ``extends`` resolved,
so chains work; a cycle is a problem), then the file is merged onto it:

- mappings merge key by key, recursively;
- the ``events`` list merges by event ``id``: an event whose id the base has updates the base's
  event key by key (when it gives another ``type`` it replaces the event whole); ``{id: X,
  remove: true}`` drops the base's event X; events with a new id, or none, are added. The
  file's events come first, in its order, then the base's events it does not name;
- any other value (a list, a number, a date) replaces the base's;
- the base's provenance tags of the inputs the file sets are dropped unless the file tags them
  itself (the base's tag described the base's value), as are those of events it removes or
  replaces whole.

The merged document remembers which file each key and value came from, so a problem in a value
the base holds points into the base file, and a problem in the child's keys into the child.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from treatysim.scenario.bundled import scenario_root
from treatysim.scenario.dataset import input_files
from treatysim.scenario.errors import Problem, ValidationError, format_path
from treatysim.scenario.retag import input_paths, is_input, located
from treatysim.scenario.yamlio import Document, Loaded, Location, load_yaml_file, printable

#: The key that names a base scenario.
EXTENDS = "extends"
#: The event key that drops the base's event of the same id.
REMOVE = "remove"
#: How long a chain of bases may be (a guard; real chains have one or two links).
MAX_DEPTH = 16


class Pos(tuple[int, int]):
    """A (line, column) position that also knows its file."""

    file: str

    def __new__(cls, line: int, column: int, file: str) -> Pos:
        """A position in ``file``."""
        pos = super().__new__(cls, (line, column))
        pos.file = file
        return pos

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle (and copy) with the file."""
        return (Pos, (self[0], self[1], self.file))


@dataclass
class MergedDocument(Document):
    """A document merged from several files; each position carries the file it came from.

    Attributes:
        event_index: Merged event index -> file -> the event's index in that file (the merge
            reorders events, so a problem names the event as the file that holds it numbers it).
        bases: The base files merged in, nearest first.
    """

    event_index: dict[int, dict[str, int]] = field(default_factory=dict)
    #: The base files merged in, nearest first (their sha256 goes into manifests).
    bases: tuple[Path, ...] = ()

    def problem(self, loc: Location, path: str, message: str, *, key: bool = False) -> Problem:
        """A problem placed, and named, in the file that holds the key or value at ``loc``."""
        pos = self.position(loc, key=key)
        file = pos.file if isinstance(pos, Pos) else self.file
        index = self.event_index
        if len(loc) >= 2 and loc[0] == "events" and isinstance(loc[1], int):
            merged = f"events[{loc[1]}]"
            own = index.get(loc[1], {}).get(file)
            if own is not None and path.startswith(merged):
                path = f"events[{own}]{path[len(merged) :]}"
        return Problem(file, pos[0], pos[1], printable(path), printable(message))


def has_extends(doc: Document) -> bool:
    """Whether a parsed file names a base scenario."""
    return isinstance(doc.data, dict) and EXTENDS in doc.data


def find_base(name: Any, path: Path | None) -> Path | None:
    """The file a base name stands for: relative to the file first, then a bundled scenario."""
    if not isinstance(name, str) or not name.strip():
        return None
    folder = path.parent if path is not None else Path.cwd()
    candidates = [folder / name, folder / f"{name}.yaml"]
    candidates += [scenario_root() / name, scenario_root() / f"{name}.yaml"]
    return next((c for c in candidates if c.is_file()), None)


def resolve_extends(doc: Document, path: Path | None) -> Document:
    """The document with its base (and the base's bases) merged in; itself when it has none.

    Args:
        doc: The parsed file.
        path: The file's path (relative base names resolve against its folder).

    Raises:
        ValidationError: The base is missing, not a scenario, unreadable, or the chain of bases
            has a cycle; problems in the base file point into it.
    """
    if not has_extends(doc):
        return doc
    return _resolve(doc, path, ())


def _resolve(doc: Document, path: Path | None, chain: tuple[Path, ...]) -> Document:
    data: dict[str, Any] = doc.data
    name = data[EXTENDS]
    base_path = find_base(name, path)
    if base_path is None:
        message = (
            f"no base scenario {name!r}: neither a file next to this one nor a bundled scenario"
            if isinstance(name, str)
            else "extends names a base scenario: a bundled name or a path relative to this file"
        )
        raise ValidationError([doc.problem((EXTENDS,), EXTENDS, message)])
    here = path.resolve() if path is not None else None
    seen = (*chain, here) if here is not None else chain
    if base_path.resolve() in seen:
        names = " -> ".join(p.name for p in (*seen, base_path.resolve()))
        message = f"extends makes a cycle ({names})"
        raise ValidationError([doc.problem((EXTENDS,), EXTENDS, message)])
    if len(seen) >= MAX_DEPTH:
        message = f"more than {MAX_DEPTH} bases in a chain of extends"
        raise ValidationError([doc.problem((EXTENDS,), EXTENDS, message)])
    base = load_yaml_file(base_path)
    if isinstance(base.data, dict) and "base" in base.data and "calendar" not in base.data:
        message = f"{name!r} is a sweep file; extends names a scenario"
        raise ValidationError([doc.problem((EXTENDS,), EXTENDS, message)])
    if has_extends(base):
        base = _resolve(base, base_path, seen)
    merged = merge_documents(base, doc)
    merged.bases = (base_path, *base_files(base))
    return merged


def base_files(doc: Document) -> tuple[Path, ...]:
    """The files a document's ``extends`` chain merged in, nearest first (none: no base)."""
    return doc.bases if isinstance(doc, MergedDocument) else ()


def scenario_inputs(loaded: Loaded[Any]) -> dict[str, Path]:
    """Every file a loaded scenario reads besides itself: its datasets, edge list and bases.

    Returns:
        Role to file: the roles of :func:`treatysim.scenario.dataset.input_files`, and
        ``extends[i]`` for the i-th base file of its ``extends`` chain (nearest first).
    """
    files = input_files(loaded.model, loaded.base_dir)
    for i, path in enumerate(base_files(loaded.document)):
        files[f"extends[{i}]"] = path
    return files


def merge_documents(base: Document, child: Document) -> MergedDocument:
    """Merge a child document (its ``extends`` key dropped) onto its resolved base.

    Raises:
        ValidationError: An event to remove that the base does not have.
    """
    out = MergedDocument(None, child.file)
    merger = _Merger(base, child, out)
    child_data = {k: v for k, v in child.data.items() if k != EXTENDS}
    out.data = merger.mapping(base.data, child_data, ())
    _drop_removed_provenance(out.data, child_data, merger.removed | merger.replaced)
    _drop_overridden_provenance(out.data, child_data)
    if merger.problems:
        raise ValidationError(merger.problems)
    return out


def _drop_removed_provenance(
    data: dict[str, Any], child: dict[str, Any], removed: set[str]
) -> None:
    """Drop the base's provenance entries (``events.<id>.…``) of events the child removed.

    Also of events it replaced whole with one of another type: the base's tags described the
    base's event, whose fields the new event does not keep.
    """
    tags = data.get("provenance")
    if not removed or not isinstance(tags, dict):
        return
    given = child.get("provenance")
    own: dict[str, Any] = given if isinstance(given, dict) else {}
    for key in list(tags):
        head, _, rest = str(key).partition(".")
        event_id = rest.partition(".")[0]
        if head == "events" and event_id in removed and key not in own:
            del tags[key]


def _drop_overridden_provenance(data: dict[str, Any], child: dict[str, Any]) -> None:
    """Drop the base's tags of inputs the child sets without tagging them itself.

    The base's tag described the base's value; the child's value has the child's tag, or none
    (:mod:`treatysim.scenario.retag` compares the key paths where they land).
    """
    tags = data.get("provenance")
    if not isinstance(tags, dict) or not tags:
        return
    given = child.get("provenance")
    own: dict[str, Any] = given if isinstance(given, dict) else {}
    paths = [p for k, v in child.items() if is_input(str(k)) for p in input_paths(v, str(k))]
    where = [located(data, p) for p in paths]
    for key in list(tags):
        if key in own:
            continue
        at = located(data, str(key))
        if any(at[: len(w)] == w for w in where):
            del tags[key]


class _Merger:
    """Builds merged data and copies each part's positions from the file it comes from."""

    def __init__(self, base: Document, child: Document, out: MergedDocument) -> None:
        self.base = base
        self.child = child
        self.out = out
        self.problems: list[Problem] = []
        #: Ids of the base's events the child removed.
        self.removed: set[str] = set()
        #: Ids of the base's events the child replaced whole (by an event of another type).
        self.replaced: set[str] = set()

    def graft(self, src: Document, src_loc: Location, dst_loc: Location) -> None:
        """Copy the positions of the part at ``src_loc`` (and all under it) to ``dst_loc``."""
        n = len(src_loc)
        for source, target in (
            (src.value_pos, self.out.value_pos),
            (src.key_pos, self.out.key_pos),
        ):
            for loc, pos in source.items():
                if loc[:n] == src_loc:
                    target[(*dst_loc, *loc[n:])] = _pos(pos, src)

    def mark(self, src: Document, src_loc: Location, dst_loc: Location) -> None:
        """Copy the position of the one node at ``src_loc`` (its value and key)."""
        if src_loc in src.value_pos:
            self.out.value_pos[dst_loc] = _pos(src.value_pos[src_loc], src)
        if src_loc in src.key_pos:
            self.out.key_pos[dst_loc] = _pos(src.key_pos[src_loc], src)

    def mapping(
        self,
        base: Any,
        child: Any,
        loc: Location,
        base_loc: Location | None = None,
        child_loc: Location | None = None,
    ) -> Any:
        """Merge two values at one place: mappings by key, ``events`` by id, else the child's."""
        base_loc = loc if base_loc is None else base_loc
        child_loc = loc if child_loc is None else child_loc
        if loc == ("events",) and isinstance(base, list) and isinstance(child, list):
            self.mark(self.child, child_loc, loc)
            return self.events(base, child)
        if not (isinstance(base, dict) and isinstance(child, dict)):
            self.graft(self.child, child_loc, loc)
            return child
        self.mark(self.child, child_loc, loc)
        out: dict[Any, Any] = {}
        for key, value in base.items():
            if key in child:
                self.mark(self.child, (*child_loc, key), (*loc, key))
                out[key] = self.mapping(
                    value, child[key], (*loc, key), (*base_loc, key), (*child_loc, key)
                )
            else:
                self.graft(self.base, (*base_loc, key), (*loc, key))
                out[key] = value
        for key, value in child.items():
            if key not in base:
                self.graft(self.child, (*child_loc, key), (*loc, key))
                out[key] = value
        return out

    def _base_index(self, n: int) -> dict[str, int]:
        """The index the base's event ``n`` has in the files that hold its parts."""
        index: dict[int, dict[str, int]] | None = getattr(self.base, "event_index", None)
        return dict(index[n]) if index and n in index else {self.base.file: n}

    def events(self, base: list[Any], child: list[Any]) -> list[Any]:
        """Merge the ``events`` lists by id (see the module's docstring).

        The child's events come first, in its order, then the base's events the child does not
        name, in the base's order. (The model applies events by date; the list's order only
        matters between events of the same date.)
        """
        base_ids = {
            e["id"]: n
            for n, e in enumerate(base)
            if isinstance(e, dict) and e.get("id") is not None
        }
        out: list[Any] = []
        named: set[int] = set()
        for m, update in enumerate(child):
            event_id = update.get("id") if isinstance(update, dict) else None
            n = base_ids.get(event_id) if event_id is not None else None
            removing = isinstance(update, dict) and update.get(REMOVE) is True
            if n is None:
                if removing:
                    loc = ("events", m, REMOVE)
                    message = f"no event with id {event_id!r} in the base to remove"
                    self.problems.append(self.child.problem(loc, format_path(loc), message))
                    continue
                self.graft(self.child, ("events", m), ("events", len(out)))
                self.out.event_index[len(out)] = {self.child.file: m}
                out.append(update)
                continue
            named.add(n)
            event = base[n]
            if removing and set(update) <= {"id", REMOVE}:
                self.removed.add(str(event_id))
                continue
            where = ("events", len(out))
            self.out.event_index[len(out)] = {**self._base_index(n), self.child.file: m}
            if "type" in update and update.get("type") != event.get("type"):
                self.replaced.add(str(event_id))
                self.graft(self.child, ("events", m), where)
                out.append(update)
            else:
                out.append(self.mapping(event, update, where, ("events", n), ("events", m)))
        for n, event in enumerate(base):
            if n not in named:
                self.graft(self.base, ("events", n), ("events", len(out)))
                self.out.event_index[len(out)] = self._base_index(n)
                out.append(event)
        return out


def _pos(pos: tuple[int, int], src: Document) -> Pos:
    return pos if isinstance(pos, Pos) else Pos(pos[0], pos[1], src.file)
