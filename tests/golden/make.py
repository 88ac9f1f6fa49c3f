"""Regenerate the golden tables (run only in a commit that says why the numbers changed).

Usage: python tests/golden/make.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from test_golden import CASES, GOLDEN, golden_tables


def main() -> None:
    """Write ``<case>.runs.csv`` and ``<case>.events.csv`` for every golden case."""
    with tempfile.TemporaryDirectory() as tmp:
        for name in CASES:
            runs, events = golden_tables(name, Path(tmp) / name.replace("/", "_"))
            stem = name.replace("/", "_")
            runs.to_csv(GOLDEN / f"{stem}.runs.csv", index=False)
            events.to_csv(GOLDEN / f"{stem}.events.csv", index=False)
            print(f"{name}: {len(runs)} runs, {len(events)} events")


if __name__ == "__main__":
    main()
