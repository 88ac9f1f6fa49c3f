"""The git commit a manifest records: the package's checkout, else the working directory's."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from treatysim.results import manifest
from treatysim.results.manifest import NO_CHECKOUT, environment_info, git_commit_and_source

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def make_repo(folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    git = ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (folder / "f.txt").write_text("x")
    subprocess.run([*git, "add", "f.txt"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    return head.stdout.strip()


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend the package lives in site-packages (outside any checkout)."""
    fake = tmp_path / "site-packages" / "treatysim" / "results" / "manifest.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("")
    monkeypatch.setattr(manifest, "__file__", str(fake))


@pytest.mark.usefixtures("installed")
def test_an_installed_package_run_inside_a_checkout_records_its_commit(tmp_path: Path) -> None:
    head = make_repo(tmp_path / "clone")
    (tmp_path / "clone" / "sub").mkdir()
    commit, source = git_commit_and_source(tmp_path / "clone" / "sub")
    assert commit == head
    assert source == f"working directory: {tmp_path / 'clone'}"


@pytest.mark.usefixtures("installed")
def test_outside_any_checkout_the_manifest_says_why(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    assert git_commit_and_source(tmp_path / "plain") == (None, NO_CHECKOUT)


def test_a_source_checkout_records_the_package_commit() -> None:
    root = Path(manifest.__file__).resolve().parent.parent.parent
    if not (root / ".git").exists():
        pytest.skip("the package is not run from a checkout")
    commit, source = git_commit_and_source(Path("/"))
    assert commit is not None and source == f"package: {root}"
    info = environment_info()
    assert info["git_commit"] == commit and info["git_source"] == source
