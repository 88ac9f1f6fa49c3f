"""``treatysim run --precision H`` (issue 15): blocks of seeded replications until the headline
probabilities' Wilson half-widths are at most H; the tables equal a fixed run of the final size."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from treatysim.analysis.precision import headline_judge, headline_outcomes, stopping_size
from treatysim.cli import main
from treatysim.run.precise import PrecisionRule, simulate_precise
from treatysim.run.runner import simulate_tables
from treatysim.scenario.bundled import bundled_or_path
from treatysim.scenario.load import load_scenario

SCENARIO = "ottawa_2025"
SEED, BLOCK, TARGET, CAP = 11, 10, 0.085, 200


@pytest.fixture(scope="module")
def long_run():
    """A fixed run as long as the cap: the rule replayed on it predicts where --precision stops."""
    loaded = load_scenario(bundled_or_path(SCENARIO))
    sim = simulate_tables(loaded, replications=CAP, seed=SEED)
    runs, events, _ = sim.tables.frames()
    k = sim.world.treaties.index(loaded.model.primary_treaty)
    parties = [s for i, s in enumerate(sim.world.ids) if sim.world.party[i, k]]
    flags = headline_outcomes(runs, events, parties, loaded.model.primary_treaty)
    return loaded, flags


def test_headline_outcomes_are_the_reports_probabilities(long_run) -> None:
    _, flags = long_run
    # each party's P(moves) and P(cascade >= k) from 1 to the largest cascade, one flag per run
    assert {len(v) for v in flags.values()} == {CAP}
    sizes = [n for n in flags if n.startswith("P(cascade >= ")]
    assert sizes[0] == "P(cascade >= 1)" and len(sizes) >= 5
    assert "P(EST moves)" in flags
    # P(cascade >= k) falls with k
    shares = [flags[n].mean() for n in sizes]
    assert shares == sorted(shares, reverse=True)


def test_precision_stops_where_the_rule_predicts_and_equals_a_fixed_run(long_run) -> None:
    loaded, flags = long_run
    predicted = stopping_size(flags, target=TARGET, block=BLOCK, cap=CAP)
    assert predicted.reached and BLOCK < predicted.n < CAP  # more than one block, below the cap
    rule = PrecisionRule(target=TARGET, block=BLOCK, cap=CAP)
    sim, record = simulate_precise(loaded, rule, headline_judge(TARGET), seed=SEED)
    assert record["final_n"] == predicted.n == len(sim.tasks)
    assert record["reached"] and not record["capped"]
    assert record["max_half_width"] == pytest.approx(predicted.max_half_width)
    assert record["max_half_width"] <= TARGET
    # the half-width after the block before the last was still too wide
    assert record["history"][-2]["max_half_width"] > TARGET
    fixed = simulate_tables(loaded, replications=predicted.n, seed=SEED)
    for mine, theirs in zip(sim.tables.frames()[:2], fixed.tables.frames()[:2], strict=True):
        pd.testing.assert_frame_equal(
            mine.drop(columns="seconds", errors="ignore"),
            theirs.drop(columns="seconds", errors="ignore"),
        )


def test_the_cap_is_said_plainly_and_recorded(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code = main(
        [
            "run", SCENARIO, "--precision", "0.01", "--block", "10", "--max-replications", "20",
            "--seed", str(SEED), "--out", str(out), "--quiet",
        ]
    )  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    assert "precision NOT reached" in err and "cap of 20 replications" in err
    manifest = json.loads((out / "manifest.json").read_text())
    record = manifest["precision"]
    assert record["capped"] and not record["reached"]
    assert record["final_n"] == manifest["replications"] == 20
    assert record["target"] == 0.01 and record["block"] == 10 and record["cap"] == 20
    assert len(manifest["seeds"]) == 20
    summary = (out / "summary.md").read_text()
    assert "precision NOT reached" in summary
    assert (out / "plots" / "precision.png").is_file()


def test_precision_and_replications_together_are_bad_input(tmp_path: Path, capsys) -> None:
    code = main(["run", SCENARIO, "--precision", "0.1", "-n", "10", "--out", str(tmp_path / "x")])
    assert code == 2
    assert "either --replications or --precision" in capsys.readouterr().err
    assert main(["run", SCENARIO, "--precision", "0.7"]) == 2
