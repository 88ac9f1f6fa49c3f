"""The one did-you-mean of the package: one tie rule, used by every message that suggests."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from treatysim.agents.rules import RULES
from treatysim.scenario.explain import closest, did_you_mean
from treatysim.scenario.parameters import RULE_NAMES

PACKAGE = Path(__file__).resolve().parents[1] / "sim"


def test_the_closest_name_is_suggested():
    assert closest("sensitivty", ["sensitivity", "noise", "memory_months"]) == "sensitivity"
    assert did_you_mean("baltik", ["baltic", "nordic"]) == "; did you mean 'baltic'?"


def test_nothing_close_enough_suggests_nothing():
    assert closest("zzz", ["sensitivity", "noise"]) is None
    assert did_you_mean("zzz", ["sensitivity", "noise"]) == ""
    assert closest("x", []) is None


def test_a_tie_goes_to_the_longer_common_start():
    # LTA is as close to LTU as to MLT by difflib's ratio; LTU shares the longer start
    assert closest("LTA", ["MLT", "LTU"]) == "LTU"
    assert closest("LTA", ["LTU", "MLT"]) == "LTU"


def test_a_full_tie_goes_to_the_first_alphabetically_whatever_the_order():
    # 'abcx' is as close to 'abcy' as to 'abcz', with the same common start
    for options in (["abcz", "abcy"], ["abcy", "abcz"]):
        assert closest("abcx", options) == "abcy"


@pytest.mark.parametrize("options", [["FRA", "FIN", "FRO"], ["FRO", "FIN", "FRA"]])
def test_the_answer_does_not_depend_on_the_order_of_the_options(options):
    assert closest("FRX", options) == closest("FRX", sorted(options))


def test_only_explain_uses_difflib():
    """Every suggestion goes through scenario/explain.py (no second helper with its own ties)."""
    users = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if "difflib" in names:
                users.append(path.relative_to(PACKAGE).as_posix())
    assert users == ["scenario/explain.py"]


def test_the_rule_names_a_scenario_may_use_are_the_registered_rules():
    assert set(RULE_NAMES) == set(RULES)
