"""What a manifest records about the machine and the inputs: versions, commit, file digests."""

from __future__ import annotations

import hashlib
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from treatysim import __version__

#: Optional and heavy packages whose versions a sweep's manifest lists.
PACKAGES = ("pandas", "pyarrow", "scipy", "SALib", "dask", "distributed")


def environment_info() -> dict[str, Any]:
    """Versions of treatysim, Python, Mesa and numpy, the platform and the git commit."""
    return {
        "treatysim": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "mesa": mesa.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def git_commit() -> str | None:
    """The commit of the source checkout the package runs from, or None (installed copy)."""
    here = Path(__file__).resolve().parent.parent.parent
    if not (here / ".git").exists():
        return None
    try:
        out = subprocess.run(  # noqa: S603 (fixed arguments, no user input)
            ["git", "-C", str(here), "rev-parse", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed versions of the named distributions (None when one is not installed)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def sha256_file(path: Path | None) -> str | None:
    """Hex sha256 of a file's bytes, or None."""
    if path is None or not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()
