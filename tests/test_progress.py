"""The one progress display: a bar on a terminal, plain lines in a log, nothing when quiet."""

from __future__ import annotations

import io

from treatysim.run.progress import Progress


def test_a_log_gets_whole_lines_with_counts_and_failures() -> None:
    log = io.StringIO()
    with Progress(10, stream=log, interval=0.0) as progress:
        progress.add(4)
        progress.add(6, failed=1)
    text = log.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert lines and all(line.strip() for line in lines)
    assert "10/10" in lines[-1] and "1 failed" in lines[-1]
    assert progress.done == 10 and progress.failed == 1


def test_quiet_draws_nothing() -> None:
    log = io.StringIO()
    with Progress(3, stream=log, enabled=False, interval=0.0) as progress:
        progress.add(3)
    assert log.getvalue() == ""
