"""The one progress display of runs and sweeps (tqdm).

On a terminal it is a bar with the rate and the time left. Elsewhere (a batch job's log) it
writes one plain line every few seconds. ``--quiet`` turns it off.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from tqdm import tqdm

#: Seconds between lines on non-terminal output.
LOG_INTERVAL = 10.0


class _Lines:
    """A stream for tqdm that turns its carriage-return redraws into whole lines."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        line = text.replace("\r", "").strip()
        if line:
            self.stream.write(line + "\n")

    def flush(self) -> None:
        self.stream.flush()


class Progress:
    """Runs done out of a total, with failures, rate and ETA.

    Args:
        total: Runs to execute.
        enabled: False draws nothing (``--quiet``).
        stream: Where to draw (default stderr).
        interval: Seconds between lines when ``stream`` is not a terminal.
    """

    def __init__(
        self,
        total: int,
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
        interval: float = LOG_INTERVAL,
    ) -> None:
        stream = stream or sys.stderr
        terminal = bool(getattr(stream, "isatty", lambda: False)())
        self.failed = 0
        self._bar: Any = tqdm(
            total=total,
            unit="runs",
            file=stream if terminal else _Lines(stream),
            disable=not enabled or total <= 0,
            mininterval=0.1 if terminal else interval,
            maxinterval=interval,
            dynamic_ncols=terminal,
            ascii=not terminal,
            leave=True,
        )

    @property
    def done(self) -> int:
        """Runs counted so far."""
        return int(self._bar.n)

    def add(self, runs: int, failed: int = 0) -> None:
        """Count finished runs (and how many of them failed)."""
        if failed:
            self.failed += failed
            self._bar.set_postfix_str(f"{self.failed} failed", refresh=False)
        self._bar.update(runs)

    def close(self) -> None:
        """Draw the final state and release the line."""
        self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
