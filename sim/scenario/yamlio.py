"""Safe YAML loading that remembers where every key and value stood.

The file is composed into YAML nodes and converted by hand. Only the YAML core schema's tags
(map, seq, str, int, float, bool, null, timestamp) are accepted: any other tag, such as
``!!python/object/apply``, is a validation problem and nothing in the file is ever constructed
as a Python object or run as code.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from treatysim.scenario.errors import Problem, ValidationError, format_path

if TYPE_CHECKING:
    from pydantic import BaseModel

#: Files larger than this are refused before parsing (a scenario is a few kilobytes).
MAX_FILE_BYTES = 2_000_000
#: Anchors and aliases can make a small file expand hugely ("billion laughs"); cap the nodes.
MAX_NODES = 200_000

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}

type Location = tuple[str | int, ...]


@dataclass
class Document:
    """A loaded YAML document: plain Python data plus the position of each part.

    Attributes:
        data: The document as dicts, lists and scalars.
        file: The file name used in messages.
        value_pos: Location tuple -> (line, column), 1-based, of each value.
        key_pos: Location tuple -> (line, column) of each mapping key.
    """

    data: Any
    file: str
    value_pos: dict[Location, tuple[int, int]] = field(default_factory=dict)
    key_pos: dict[Location, tuple[int, int]] = field(default_factory=dict)

    def position(self, loc: Location, *, key: bool = False) -> tuple[int, int]:
        """Best position for a location: the exact node, else its nearest existing parent.

        Args:
            loc: Location tuple, as in pydantic error locations.
            key: Prefer the key's position (for unknown keys) over the value's.
        """
        loc = tuple(loc)
        while loc:
            if key and loc in self.key_pos:
                return self.key_pos[loc]
            if loc in self.value_pos:
                return self.value_pos[loc]
            if loc in self.key_pos:
                return self.key_pos[loc]
            loc = loc[:-1]
        return self.value_pos.get((), (1, 1))

    def problem(self, loc: Location, path: str, message: str, *, key: bool = False) -> Problem:
        """Build a :class:`Problem` positioned at ``loc``."""
        line, col = self.position(loc, key=key)
        return Problem(self.file, line, col, printable(path), printable(message))


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


def printable(text: str) -> str:
    """Escape control characters (a key may hold a newline) so a problem stays on one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _pos(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Converter:
    """Turns composed nodes into plain data, rejecting tags outside the core schema."""

    def __init__(self, doc: Document, constructor: SafeConstructor) -> None:
        self.doc = doc
        self.constructor = constructor
        self.count = 0
        self.problems: list[Problem] = []

    def convert(self, node: Node, loc: Location) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLargeError
        self.doc.value_pos.setdefault(loc, _pos(node))
        if isinstance(node, MappingNode):
            if node.tag != f"{_CORE}map":
                return self._bad_tag(node, loc)
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode):
                    line, col = _pos(key_node)
                    self.problems.append(
                        Problem(self.doc.file, line, col, _path(loc), "keys must be plain scalars")
                    )
                    continue
                key = self.convert_scalar(key_node, loc)
                key = key if isinstance(key, str | int) else str(key)
                self.doc.key_pos[(*loc, key)] = _pos(key_node)
                out[key] = self.convert(value_node, (*loc, key))
            return out
        if isinstance(node, SequenceNode):
            if node.tag != f"{_CORE}seq":
                return self._bad_tag(node, loc)
            return [self.convert(item, (*loc, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return self.convert_scalar(node, loc)

    def convert_scalar(self, node: ScalarNode, loc: Location) -> Any:
        if node.tag not in _SCALAR_TAGS:
            return self._bad_tag(node, loc)
        try:
            return self.constructor.construct_object(node, deep=True)
        except Exception as exc:  # any scalar the core schema cannot build is a user error
            if node.tag == f"{_CORE}timestamp":
                return node.value  # let the schema report the bad date at its key

            line, col = _pos(node)
            self.problems.append(
                Problem(self.doc.file, line, col, _path(loc), f"bad scalar: {exc}".splitlines()[0])
            )
            return None

    def _bad_tag(self, node: Node, loc: Location) -> None:
        line, col = _pos(node)
        tag = str(node.tag).replace(_CORE, "!!")
        if tag == "!!merge":
            message = "merge keys (<<) are not supported: write the keys out"
            self.problems.append(Problem(self.doc.file, line, col, _path(loc), message))
            return None
        self.problems.append(
            Problem(
                self.doc.file,
                line,
                col,
                _path(loc),
                f"tag {tag} is not allowed: scenario files hold plain data only",
            )
        )
        return None


class _TooLargeError(Exception):
    pass


def _path(loc: Location) -> str:
    return printable(format_path(loc))


def load_yaml_text(text: str, file: str) -> Document:
    """Parse YAML text safely into a :class:`Document`.

    Args:
        text: The YAML source.
        file: Name used in error messages.

    Raises:
        ValidationError: On syntax errors, duplicate keys, disallowed tags, an empty document
            or a top level that is not a mapping.
    """
    doc = Document(data=None, file=file)
    yaml = YAML(typ="safe", pure=True)
    try:
        node = yaml.compose(text)
    except DuplicateKeyError as exc:
        raise ValidationError([_marked(exc, file, "duplicate key")]) from None
    except MarkedYAMLError as exc:
        raise ValidationError([_marked(exc, file, "invalid YAML")]) from None
    except YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValidationError([Problem(file, 1, 1, "", f"invalid YAML: {first}")]) from None
    except RecursionError:  # the composer recurses once per nesting level
        raise ValidationError([Problem(file, 1, 1, "", "the document nests too deeply")]) from None
    if node is None:
        raise ValidationError([Problem(file, 1, 1, "", "the file is empty: expected a mapping")])
    converter = _Converter(doc, yaml.constructor)
    try:
        doc.data = converter.convert(node, ())
    except _TooLargeError:
        raise ValidationError(
            [Problem(file, 1, 1, "", f"the document expands to more than {MAX_NODES} nodes")]
        ) from None
    except RecursionError:
        raise ValidationError([Problem(file, 1, 1, "", "the document nests too deeply")]) from None
    _check_duplicate_keys(node, file, converter.problems)
    if converter.problems:
        raise ValidationError(converter.problems)
    if not isinstance(doc.data, dict):
        kind = "a list" if isinstance(doc.data, list) else "a single value"
        line, col = _pos(node)
        raise ValidationError(
            [
                Problem(
                    file, line, col, "", f"the top level is {kind}: expected a mapping of sections"
                )
            ]
        )
    return doc


def _check_duplicate_keys(node: Node, file: str, problems: list[Problem]) -> None:
    """Composing does not reject duplicate keys; a silent overwrite would lose data."""
    stack: list[tuple[Node, Location]] = [(node, ())]
    seen_nodes: set[int] = set()
    while stack:
        current, loc = stack.pop()
        if id(current) in seen_nodes:
            continue
        seen_nodes.add(id(current))
        if isinstance(current, MappingNode):
            keys: dict[Any, Node] = {}
            for key_node, value_node in current.value:
                if isinstance(key_node, ScalarNode):
                    if key_node.value in keys:
                        line, col = _pos(key_node)
                        first = _pos(keys[key_node.value])[0]
                        problems.append(
                            Problem(
                                file,
                                line,
                                col,
                                _path((*loc, str(key_node.value))),
                                f"duplicate key (first given on line {first})",
                            )
                        )
                    keys[key_node.value] = key_node
                    stack.append((value_node, (*loc, str(key_node.value))))
                else:
                    stack.append((value_node, loc))
        elif isinstance(current, SequenceNode):
            stack.extend((item, (*loc, i)) for i, item in enumerate(current.value))


def _marked(exc: MarkedYAMLError, file: str, what: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    detail = exc.problem or exc.context or ""
    if exc.problem and exc.context:
        if exc.problem.startswith("but "):  # "expected a single document ..., but found ..."
            detail = f"{exc.context}, {exc.problem}"
        elif exc.context_mark is not None and exc.context_mark.line + 1 != line:
            # an unclosed bracket or a bad indent is noticed lines later: say where it began
            detail += f" ({exc.context} started on line {exc.context_mark.line + 1})"
    if "'\\t'" in detail:
        detail += "; YAML indents with spaces, not tabs"
    elif "<block end>" in detail:
        detail += "; check the indentation"
    elif "mapping values are not allowed" in detail:
        detail += "; check the indentation, or quote a value that contains ': '"
    return Problem(file, line, col, "", printable(f"{what}: {detail}".rstrip(": ")))


def read_limited(path: Path | str, *, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` bytes.

    The file is opened without blocking (a FIFO would wait for a writer for ever), refused
    unless it is a regular file (``/dev/zero`` has no end), and read up to ``max_bytes + 1``
    bytes, so a file that grows after the check is still refused.

    Raises:
        OSError: The file cannot be opened or read (``strerror`` says why); a file that is not
            regular, or too large, is reported with errno 0 and a message of its own.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise OSError(0, "is a directory, not a file", str(path))
        if not stat.S_ISREG(info.st_mode):
            raise OSError(0, "is not a regular file (a device, FIFO or socket)", str(path))
        if info.st_size > max_bytes:
            raise OSError(
                0, f"file is {info.st_size} bytes; the limit is {max_bytes} bytes", str(path)
            )
        chunks: list[bytes] = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > max_bytes:
        raise OSError(0, f"file is larger than the limit of {max_bytes} bytes", str(path))
    return raw


def read_text(path: Path | str, *, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Read a UTF-8 text file with clear errors for the ways it can be unusable.

    Only regular files are read (not devices or FIFOs), and at most ``max_bytes + 1`` bytes.

    Args:
        path: The file.
        max_bytes: Refuse files larger than this.

    Raises:
        ValidationError: Missing, unreadable, not a regular file, too large, binary or not UTF-8.
    """
    file = str(path)
    try:
        raw = read_limited(path, max_bytes=max_bytes)
    except FileNotFoundError:
        raise ValidationError([Problem(file, 1, 1, "", "no such file")]) from None
    except OSError as exc:
        reason = f"cannot read: {exc.strerror}" if exc.errno else str(exc.strerror)
        raise ValidationError([Problem(file, 1, 1, "", str(reason))]) from None
    if b"\x00" in raw:
        raise ValidationError([Problem(file, 1, 1, "", "binary file (contains NUL bytes)")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ValidationError(
            [Problem(file, line, col, "", f"not UTF-8 text (byte 0x{raw[exc.start]:02x})")]
        ) from None
    return text.removeprefix("\ufeff")


def load_yaml_file(path: Path | str) -> Document:
    """Read and safely parse a YAML file; see :func:`load_yaml_text`."""
    return load_yaml_text(read_text(path), str(path))


def dump_yaml(data: Any) -> str:
    """Serialise plain data (dicts, lists, scalars, dates) as block-style YAML."""
    import io

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]  # keep key order
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()
