"""docs/tutorial.md: every command runs, and every number it quotes is what the runs produce.

The commands are taken from the tutorial's ``bash`` blocks by docs/tutorial/make_figures.py (the
script that draws the tutorial's figures) and run as written, ``treatysim`` being ``python -m
sim``, in a scratch folder whose ``scenarios/`` points at the bundled scenarios. ``treatysim
demo`` blocks, so it is not run here: tests/test_browser.py starts the same command.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"
SCRIPT = ROOT / "docs" / "tutorial" / "make_figures.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tutorial_make_figures", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


tutorial = _load_script()
TEXT = TUTORIAL.read_text(encoding="utf-8")
COMMANDS = tutorial.commands(TEXT)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch folder in which every command of the tutorial has run (two at a time)."""
    folder = tmp_path_factory.mktemp("tutorial")
    ran = tutorial.run_all(COMMANDS, folder, jobs=2)
    failed = [r for r in ran if r.returncode != 0]
    assert not failed, "\n\n".join(f"$ {r.command}\n{r.output}" for r in failed)
    assert len(ran) == len(COMMANDS) - 1  # all but the demo
    return folder


@pytest.fixture(scope="module")
def values(work: Path) -> dict[str, str]:
    """The numbers the tutorial quotes, computed from the fresh runs."""
    return tutorial.numbers(work)


def test_the_commands_are_treatysim_commands_in_bash_blocks():
    assert len(COMMANDS) >= 15
    for command in COMMANDS:
        assert shlex.split(command)[0] == "treatysim", command
    # each part has its commands, in the tutorial's order
    parts = re.split(r"^## ", TEXT, flags=re.M)
    for title, needle in (
        ("Part 1", "granovetter_riot.yaml"),
        ("Part 1", "granovetter_riot_broken.yaml"),
        ("Part 2", "thresholds.sd=0.12"),
        ("Part 3", "network.mean_degree=12"),
        ("Part 4", "events.ceasefire.date=2025-04-01"),
        ("Part 4", "treatysim compare"),
        ("Part 4", "treatysim demo"),
    ):
        part = next(p for p in parts if p.startswith(title))
        assert any(needle in block for block in tutorial.bash_blocks(part)), (title, needle)
    # no command hides outside a bash block: every `treatysim ...` in code is in one
    inline = re.findall(r"`(treatysim [^`]+)`", TEXT)
    assert all(any(c in command for command in COMMANDS) for c in inline), inline


def test_the_demo_command_is_covered_by_the_browser_test():
    demos = [c for c in COMMANDS if tutorial.is_demo(c)]
    assert demos == ["treatysim demo --scenario scenarios/teaching/baltic_simple.yaml"]
    browser = (ROOT / "tests" / "test_browser.py").read_text()
    assert '"demo"' in browser and '"--scenario"' in browser
    assert '"teaching" / "baltic_simple.yaml"' in browser
    assert "def test_demo_in_a_browser" in browser


def test_every_command_runs(work: Path):
    for command in COMMANDS:
        if tutorial.is_demo(command):
            continue
        out = shlex.split(command)[shlex.split(command).index("--out") + 1]
        assert (work / out).is_dir(), command


def test_riot_numbers(work: Path):
    import pandas as pd

    riot = pd.read_parquet(work / "results" / "riot" / "runs.parquet")
    broken = pd.read_parquet(work / "results" / "riot_broken" / "runs.parquet")
    assert riot["cascade_size"].tolist() == [100]
    assert broken["cascade_size"].tolist() == [1]
    assert tutorial.says(TEXT, "all **100** people riot")
    assert tutorial.says(TEXT, "only **1** person riots")


def test_every_quoted_number_is_what_the_runs_produce(values: dict[str, str]):
    wrong = {
        key: sentence
        for key, sentence in tutorial.quotes(values).items()
        if not tutorial.says(TEXT, sentence)
    }
    assert not wrong, f"the tutorial should say (from fresh runs): {wrong}"


def test_the_jump_is_between_012_and_013(values: dict[str, str]):
    assert values["normal_sd012"].endswith("| 0 of 5")
    assert not values["normal_sd013"].endswith("| 0 of 5")
    assert 0.12 < float(values["critical_sd"]) < 0.13


def test_the_figures_are_embedded_and_drawn_from_the_runs(work: Path, tmp_path: Path):
    embedded = re.findall(r"!\[[^\]]*\]\((tutorial/[^)]+\.png)\)", TEXT)
    committed = sorted(p.name for p in (ROOT / "docs" / "tutorial").glob("*.png"))
    assert sorted(Path(e).name for e in embedded) == committed
    drawn = tutorial.draw(work, tmp_path)
    assert sorted(p.name for p in drawn) == committed
    for path in drawn:
        assert path.stat().st_size > 10_000, path


#: Part 4's quoted numbers, each with how far the text may be from a fresh run: the runs are
#: seeded, so they should match exactly; the tolerances say what would change the story.
PART4_TOLERANCES: dict[str, float] = {
    "baltic_exits": 0.05,  # mean states withdrawn
    "early_exits": 0.05,
    "late_exits": 0.05,
    "early_long_exits": 0.05,
    "late_long_exits": 0.05,
    "baltic_nor": 2,  # runs out of 100
    "early_nor": 2,  # percentage points
    "late_nor": 2,
    "early_nor_announced": 2,
    "late_nor_announced": 2,
    "early_long_nor": 2,
    "late_long_nor": 2,
    "early_nor_median": 14,  # days
    "late_nor_median": 14,
}


def _number(value: str) -> float:
    """A quoted value as a number: ``93%`` → 93, ``5.58`` → 5.58, a date → its ordinal day."""
    import datetime as dt

    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return float(dt.date.fromisoformat(value).toordinal())
    return float(value.rstrip("%"))


def _quoted_in_text(key: str) -> str:
    """The value the tutorial's text quotes for ``key``, read from the text with the key's
    sentence (its other numbers matched loosely)."""
    template = tutorial.QUOTES[key]
    parts = re.split(r"\{(\w+)\}", template)
    pattern = ""
    for n, part in enumerate(parts):
        if n % 2 == 0:
            pattern += r"\s+".join(map(re.escape, part.split()))
            if part[-1:].isspace():
                pattern += r"\s+"
        else:
            pattern += f"(?P<{part}>[0-9][0-9.%-]*)" if part == key else r"[0-9][0-9.%-]*"
    flat = " ".join(TEXT.split())
    match = re.search(pattern, flat)
    assert match, f"the tutorial no longer has the sentence for {key}: {template}"
    return match.group(key)


def test_part4_claims_match_the_runs_within_tolerance(values: dict[str, str]):
    """The numbers part 4 quotes, parsed from its text, are those of fresh runs (within the
    stated tolerances), and the runs bear out its story: the ceasefire's date moves Norway's
    exit in time (right-censored by the calendar's end), not its announcement."""
    for key, tolerance in PART4_TOLERANCES.items():
        text_value = _number(_quoted_in_text(key))
        run_value = _number(values[key])
        assert abs(text_value - run_value) <= tolerance, (key, text_value, run_value)
    pct = {k: _number(values[k]) for k in PART4_TOLERANCES if k.endswith(("nor", "announced"))}
    # the gap in "withdrawn by the end" is large on the two-year calendar ...
    assert pct["early_nor"] - pct["late_nor"] >= 30
    # ... while Norway announces in nearly every run either way ...
    assert min(pct["early_nor_announced"], pct["late_nor_announced"]) >= 90
    assert abs(pct["early_nor_announced"] - pct["late_nor_announced"]) <= 10
    # ... a year later, as the late ceasefire moves the announcement past mid-2026 ...
    late = _number(values["late_nor_median"]) - _number(values["early_nor_median"])
    assert late >= 180
    # ... and with a calendar a year longer the gap closes
    assert abs(pct["early_long_nor"] - pct["late_long_nor"]) <= 5
    assert pct["late_long_nor"] - pct["late_nor"] >= 30
