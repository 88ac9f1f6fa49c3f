"""Validation problems and the error that carries them.

Every problem found in an input file becomes one :class:`Problem`, printed as
``FILE:LINE:COL: key.path: message``. Loading collects all problems of a file before it raises,
so a researcher fixes a scenario in one pass instead of one error per run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in an input file.

    Attributes:
        file: The file's path as the user gave it.
        line: 1-based line of the offending key or value (0 when the file has no lines).
        column: 1-based column.
        path: The dotted key path (``events[2].date``); empty for whole-file problems.
        message: What is wrong, and where possible what to write instead.
    """

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        key = self.path or "(file)"
        return f"{where}: {key}: {self.message}"


class ValidationError(Exception):
    """A file failed to load or validate; carries every problem found.

    Args:
        problems: The problems, in file order.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.column, p.path))
        super().__init__("\n".join(str(p) for p in self.problems))


def format_path(parts: tuple[str | int, ...]) -> str:
    """Render a location tuple as a key path: ``("events", 2, "date")`` -> ``events[2].date``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
