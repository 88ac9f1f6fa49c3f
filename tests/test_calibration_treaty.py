"""Calibration of the treaty model (issue 11): the block simulator, the file loader, the CLI,
and parameter recovery.

Parameter recovery. Synthetic observations come from the founding scenario (2025 only) at a
known threat sensitivity, 2.5; ABC-SMC (built-in engine, fixed seeds) then estimates the
sensitivity from a uniform prior on [1, 5] and five announcement dates plus the number of
movers. Over 10 repeats (each its own synthetic data set and seed) the 90% credible interval
must cover the truth in at least 8 and each must be narrower than the prior's 90% interval (3.6).
With exact posteriors coverage is Binomial(10, 0.9): P(< 8) = 0.07; ABC with epsilon > 0 widens
the posterior, so its coverage is at least nominal and the seeded test is decided by the model.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from treatysim.calibration.calibrate import run_abc
from treatysim.calibration.generation import weighted_quantile
from treatysim.calibration.priors import PriorSet
from treatysim.calibration.targets import WeightedDistance, simulated_statistics
from treatysim.calibration.treaty import TreatySimulator, assign
from treatysim.cli import main
from treatysim.model.treaty_model import TreatyModel
from treatysim.model.world import build_world
from treatysim.scenario.calibration import Calibration, Method, Uniform
from treatysim.scenario.keypath import set_path
from treatysim.scenario.load import load_scenario, load_scenario_text
from treatysim.scenario.schema import STAGES

from modelkit import SCENARIOS

FIVE = ("EST", "LVA", "LTU", "POL", "FIN")
WINDOW = {"start": "2025-01-01", "end": "2025-12-31"}
TARGETS = Calibration.model_validate(
    {
        "schema_version": 1,
        "name": "t",
        "base": "b",
        "treaty": "ottawa",
        "priors": {
            "parameters.threat.sensitivity": {"distribution": "uniform", "low": 1, "high": 5}
        },
        "targets": [
            *(
                {"name": s.lower(), "kind": "stage_date", "state": s, "stage": "announced",
                 "window": WINDOW, "scale": 30}
                for s in FIVE
            ),
            {"name": "movers", "kind": "mover_count", "window": WINDOW},
            {"name": "nor", "kind": "not_moved", "states": ["NOR"], "window": WINDOW},
        ],
    }
).targets  # fmt: skip
SHORT = (
    "schema_version: 1\nextends: ottawa_2025\nname: short\ncalendar: {end: 2025-12-31}\n"
    "run: {report_dates: [2025-12-31]}\n"
)


def short_base():
    return load_scenario_text(SHORT, "short.yaml", base_dir=SCENARIOS)


# --------------------------------------------------------------------------------------------
# the block simulator


def test_block_simulator_equals_the_mesa_model_per_particle() -> None:
    """Each particle's statistics equal those of the Mesa model run alone with its values."""
    base = load_scenario(SCENARIOS / "ottawa_2025.yaml")
    sim = TreatySimulator(base, TARGETS, "ottawa")
    params = [
        {"parameters.threat.sensitivity": 2.5, "parameters.commitment.baseline": 0.6},
        {"parameters.threat.sensitivity": 1.4, "parameters.commitment.baseline": 0.5},
        {"parameters.threat.sensitivity": 3.7, "parameters.commitment.baseline": 0.9},
        # changes an event: this particle compiles its own timeline
        {"parameters.threat.sensitivity": 2.0, "events.us_reassurance_drop.credibility": 0.1},
    ]
    seeds = [11, 12, 13, 14]
    got = sim(params, seeds)
    rows = []
    for i, (p, seed) in enumerate(zip(params, seeds, strict=True)):
        loaded = sim.scenario(p)
        world = build_world(loaded.model, loaded.base_dir)
        model = TreatyModel(world, rng=np.random.default_rng(seed), timeseries="none")
        model.run_model()
        r = model.records
        for state, treaty, stage, date in zip(
            r.event_state, r.event_treaty, r.event_stage, r.event_date, strict=True
        ):
            rows.append(
                {
                    "run_id": str(i),
                    "iso3": world.ids[state],
                    "treaty": world.treaties[treaty],
                    "stage": STAGES[stage],
                    "date": pd.Timestamp.fromordinal(int(date)).date(),
                }
            )
    expected = simulated_statistics(TARGETS, pd.DataFrame(rows), ["0", "1", "2", "3"], "ottawa")
    assert got == expected
    assert len({g["est"] for g in got}) > 1  # the particles differ: the test can fail
    assert sim.batches == 1


def test_copy_on_write_assignment_equals_set_path_and_leaves_the_base_alone() -> None:
    data = load_scenario(SCENARIOS / "ottawa_2025.yaml").document.data
    before = json.dumps(data, default=str, sort_keys=True)
    for path, value in [
        ("parameters.threat.sensitivity", 3.0),
        ("states.overrides.NOR.stigma", 1.5),
        ("events.us_reassurance_drop.credibility", 0.2),
        ("threat_sources.RUS.tied_down_share", 0.4),
    ]:
        assert assign(data, path, value) == set_path(data, path, value)
    assert json.dumps(data, default=str, sort_keys=True) == before


# --------------------------------------------------------------------------------------------
# the file, the CLI

GOOD = """\
schema_version: 1
name: tiny
base: {base}
treaty: ottawa
priors:
  parameters.threat.sensitivity: {{distribution: uniform, low: 1.5, high: 4.0}}
targets:
  - {{name: est, kind: stage_date, state: EST, stage: announced, scale: 30,
     window: {{start: 2025-01-01, end: 2025-12-31}}}}
  - {{name: movers, kind: mover_count, window: {{start: 2025-01-01, end: 2025-12-31}}}}
method: {{engine: builtin, population_size: 20, max_generations: 2, max_simulations: 200}}
seed: 5
"""


def write_short(folder: Path) -> None:
    (folder / "short.yaml").write_text(
        SHORT.replace("extends: ottawa_2025", f"extends: {SCENARIOS / 'ottawa_2025.yaml'}")
    )


def test_bad_calibration_file_gets_positioned_errors(tmp_path, capsys) -> None:
    write_short(tmp_path)
    text = GOOD.format(base="short.yaml")
    typo = "  parameters.threat.sensitivty: {distribution: uniform, low: 1, high: 2}"
    wide = "sensitivity: {distribution: uniform, low: 1.5, high: 40}"
    text = text.replace("sensitivity: {distribution: uniform, low: 1.5, high: 4.0}",
                        f"{wide}\n{typo}")  # fmt: skip
    text = text.replace("start: 2025-01-01, end: 2025-12-31}}\n  - {name: movers",
                        "start: 2024-01-01, end: 2025-12-31}}\n  - {name: movers")  # fmt: skip
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{path}:6:3: priors.parameters.threat.sensitivity: 'parameters.threat.sensitivity' does"
        " not fit the base scenario at 40: parameters.threat.sensitivity: must be <= 10.0 (got "
        "40.0)",
        f"{path}:7:3: priors.parameters.threat.sensitivty: 'parameters.threat.sensitivty' does "
        "not fit the base scenario at 1: parameters.threat.sensitivty: unknown key "
        "'sensitivty'; did you mean 'sensitivity'?",
        f"{path}:10:14: targets[0].window: window 2024-01-01 to 2025-12-31 is not within the "
        "base scenario's calendar (2025-01-01 to 2025-12-31); use a base scenario that covers it",
    ]
    # the same problems from `calibrate`, with exit code 2 and nothing written
    assert main(["calibrate", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 3
    assert not (tmp_path / "out").exists()


def test_schema_kinds_include_calibration(capsys) -> None:
    assert main(["schema", "--kind", "calibration"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert one["title"] == "treatysim calibration"
    assert main(["schema"]) == 0
    first = capsys.readouterr().out
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == first  # stable
    assert {"$ref": "#/$defs/Calibration"} in json.loads(first)["anyOf"]


def test_pyabc_missing_says_how_to_install(tmp_path, capsys, monkeypatch) -> None:
    write_short(tmp_path)
    path = tmp_path / "c.yaml"
    path.write_text(GOOD.format(base="short.yaml"))
    monkeypatch.setitem(sys.modules, "pyabc", None)  # import pyabc raises ImportError
    code = main(["calibrate", str(path), "--out", str(tmp_path / "o"), "--method", "pyabc"])
    assert code == 2
    assert "pip install 'treatysim[calibrate]'" in capsys.readouterr().err


def test_calibrate_cli_writes_the_folder_and_resumes(tmp_path, capsys) -> None:
    write_short(tmp_path)
    path = tmp_path / "c.yaml"
    path.write_text(GOOD.format(base="short.yaml"))
    out = tmp_path / "cal"
    args = ["calibrate", str(path), "--out", str(out), "--ppc-draws", "20"]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("generation 0: epsilon ")
    # equally weighted particles: every generation counts distinct particles, none an ESS
    progress = [line for line in lines if line.startswith("generation ")]
    assert len(progress) > 1 and all("distinct particles" in line for line in progress)
    assert not any("ESS" in line for line in progress)
    for name in ["manifest.json", "generations.parquet", "particles/gen_001.parquet", "ppc.parquet",
                 "plots/marginals.png", "plots/ppc.png", "plots/diagnostics.png"]:  # fmt: skip
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    prov = manifest["provenance"]
    assert len(prov["calibration_file"]["sha256"]) == 64
    assert len(prov["base_scenario"]["resolved_sha256"]) == 64
    assert set(prov["data_files"]) == {"europe_2025", "observed_2025"}
    assert manifest["seed"] == 5 and manifest["status"] == "complete"
    ppc = pd.read_parquet(out / "ppc.parquet")
    assert list(ppc.columns[-2:]) == ["est", "movers"] and len(ppc) == 20
    # a second start refuses the folder; --resume of a finished calibration adds nothing
    assert main([*args, "--quiet"]) == 1
    before = (out / "generations.json").read_text()
    assert main([*args, "--resume", "--quiet", "--no-plots"]) == 0
    assert (out / "generations.json").read_text() == before


def test_workers_give_the_same_posterior(tmp_path) -> None:
    from treatysim.calibration.session import calibrate_file

    write_short(tmp_path)
    path = tmp_path / "c.yaml"
    path.write_text(GOOD.format(base="short.yaml"))
    one = calibrate_file(path, tmp_path / "w1", workers=1, ppc_draws=0)
    two = calibrate_file(path, tmp_path / "w2", workers=2, ppc_draws=0)
    pd.testing.assert_frame_equal(one.posterior, two.posterior)


# --------------------------------------------------------------------------------------------
# parameter recovery

TRUTH = 2.5
PRIOR = Uniform(distribution="uniform", low=1.0, high=5.0)


def test_parameter_recovery_on_the_treaty_model(tmp_path) -> None:
    sim = TreatySimulator(short_base(), TARGETS, "ottawa")
    priors = PriorSet(("parameters.threat.sensitivity",), (PRIOR,))
    names = [t.name for t in TARGETS]
    scales = {t.name: (t.scale or 1.0) for t in TARGETS}
    distance = WeightedDistance(names, dict.fromkeys(names, 1.0), scales, p=2)
    method = Method(engine="builtin", population_size=60, max_generations=4, max_simulations=600)
    prior_width = 0.9 * (PRIOR.high - PRIOR.low)
    covered, widths = 0, []
    for repeat in range(10):
        observed = sim([{"parameters.threat.sensitivity": TRUTH}], [1000 + repeat])[0]
        result = run_abc(
            priors, sim, observed, distance, method, seed=repeat, out=tmp_path / str(repeat)
        )
        gen = result.generations[-1]
        theta = gen.theta[:, 0]
        lo, hi = (weighted_quantile(theta, gen.weights, q) for q in (0.05, 0.95))
        covered += lo <= TRUTH <= hi
        widths.append(hi - lo)
        print(f"repeat {repeat}: 90% interval [{lo:.2f}, {hi:.2f}], width {hi - lo:.2f}")
    print(f"covered {covered}/10; widths {np.round(widths, 2)}; prior 90% width {prior_width}")
    assert covered >= 8
    assert max(widths) < prior_width


# --------------------------------------------------------------------------------------------
# docs/calibration.md


def doc_block(marker: str) -> str:
    lines = (
        (Path(__file__).resolve().parent.parent / "docs" / "calibration.md")
        .read_text(encoding="utf-8")
        .splitlines()
    )
    start = next(i for i, line in enumerate(lines) if f"<!-- {marker} -->" in line)
    fence = next(i for i in range(start, len(lines)) if lines[i].startswith("```"))
    end = next(i for i in range(fence + 1, len(lines)) if lines[i].startswith("```"))
    return "\n".join(lines[fence + 1 : end])


def test_the_docs_example_runs_as_written(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "example.yaml").write_text(doc_block("calibration-example"), encoding="utf-8")
    commands = doc_block("calibration-commands").splitlines()
    assert len(commands) == 3
    for command in commands:
        words = command.split()
        assert words[0] == "treatysim"
        assert main(words[1:]) == 0, command
    assert "example.yaml: ok (calibration)" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "cal" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["resumed"]) == 1
    assert (tmp_path / "cal" / "plots" / "ppc.png").is_file()
