"""What a manifest records about the machine and the inputs: versions, commit, file digests."""

from __future__ import annotations

import hashlib
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from treatysim import __version__

#: Optional and heavy packages whose versions a sweep's manifest lists.
PACKAGES = ("pandas", "pyarrow", "scipy", "SALib", "dask", "distributed")


def environment_info() -> dict[str, Any]:
    """Versions of treatysim, Python, Mesa and numpy, the platform and the git commit.

    ``git_source`` says which checkout ``git_commit`` came from (``package`` or
    ``working directory``) or why there is none.
    """
    import mesa  # here, not at the top: reading a run folder (a report) needs no Mesa

    commit, source = git_commit_and_source()
    return {
        "treatysim": __version__,
        "git_commit": commit,
        "git_source": source,
        "python": platform.python_version(),
        "mesa": mesa.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


#: What ``git_source`` says when neither the package nor the working directory is in a checkout.
NO_CHECKOUT = "not run inside a git checkout"


def git_commit_and_source(cwd: Path | None = None) -> tuple[str | None, str]:
    """The commit the run can be traced to, and where it was found.

    The package's own folder comes first (an editable install or a source checkout). A
    non-editable install (``pip install .``) lives in site-packages, outside any checkout; then
    the git repository of the working directory is used, as when the README's commands are run
    from the clone that was installed.

    Args:
        cwd: The working directory (default: the process's).

    Returns:
        ``(commit, source)``: ``source`` is ``"package: DIR"``, ``"working directory: DIR"`` or
        :data:`NO_CHECKOUT` (then ``commit`` is None).
    """
    here = Path(__file__).resolve().parent.parent.parent
    if (here / ".git").exists():
        commit = _rev_parse(here)
        if commit is not None:
            return commit, f"package: {here}"
    where = Path.cwd() if cwd is None else cwd
    top = _git(where, "rev-parse", "--show-toplevel")
    commit = _rev_parse(where) if top else None
    if commit is not None:
        return commit, f"working directory: {top}"
    return None, NO_CHECKOUT


def git_commit() -> str | None:
    """The commit of the checkout the package (or else the working directory) is in, or None."""
    return git_commit_and_source()[0]


def _rev_parse(folder: Path) -> str | None:
    return _git(folder, "rev-parse", "HEAD")


def _git(folder: Path, *args: str) -> str | None:
    """The output of a git command run in ``folder``, or None when git fails or is missing."""
    try:
        out = subprocess.run(  # noqa: S603 (fixed arguments, no user input)
            ["git", "-C", str(folder), *args],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
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
