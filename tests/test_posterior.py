"""Posterior ensembles: each replication's parameters drawn from a calibration's posterior.

The calibration folders are written with the store's own writers (no calibration is run), with
particles chosen so that the effect of a draw is unmistakable: a threat sensitivity of 0 means
no state ever feels pressure to leave, 10 means every exposed state does.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import treatysim as ts
from treatysim.calibration.ensemble import posterior_ensemble, posterior_seed
from treatysim.calibration.generation import Generation
from treatysim.calibration.store import save_generation, write_json
from treatysim.cli import main
from treatysim.report.compare import Side, compare_runs
from treatysim.scenario.errors import ValidationError

SCENARIO = "teaching/baltic_simple"
SENS = "parameters.threat.sensitivity"
BASE = "parameters.commitment.baseline"


def write_calibration(
    folder: Path, theta: list[list[float]], weights: list[float], names: tuple[str, ...]
) -> Path:
    """A one-generation calibration folder, written by the store's writers."""
    folder.mkdir(parents=True, exist_ok=True)
    w = np.asarray(weights, dtype=float)
    write_json(folder / "manifest.json", {"kind": "treatysim calibration", "parameters": names})
    gen = Generation(
        0, np.asarray(theta, dtype=float), w / w.sum(), np.zeros(len(w)), 1.0, len(w), len(w)
    )
    save_generation(folder, [gen], names)
    return folder


@pytest.fixture(scope="module")
def two_point(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two particles: sensitivity 0 (nobody moves) and 10 (the exposed states move)."""
    folder = tmp_path_factory.mktemp("cal") / "two_point"
    return write_calibration(folder, [[0.0, 0.6], [10.0, 0.6]], [0.5, 0.5], (SENS, BASE))


@pytest.fixture(scope="module")
def spread(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Forty particles of sensitivity spread over 0 to 5, unequal weights."""
    rng = np.random.default_rng(7)
    theta = [[float(s), 0.6] for s in np.linspace(0.0, 5.0, 40)]
    folder = tmp_path_factory.mktemp("cal") / "spread"
    return write_calibration(folder, theta, list(rng.uniform(0.2, 1.0, 40)), (SENS, BASE))


def announced_runs(result: ts.Result) -> set[str]:
    ev = result.events
    return set(ev.loc[ev["stage"] == "announced", "run_id"].astype(str))


def stable(frame: pd.DataFrame) -> pd.DataFrame:
    """A table without its wall-time column."""
    return frame.drop(columns=[c for c in ("seconds",) if c in frame.columns])


def test_each_replication_runs_its_drawn_parameters(two_point: Path) -> None:
    result = ts.simulate(SCENARIO, replications=24, seed=5, posterior=two_point)
    ens = result.simulation.ensemble
    assert ens is not None
    assert set(ens.keys) == {0, 1}  # 24 draws of two equally weighted particles: both drawn
    moved = announced_runs(result)
    ids = result.runs["run_id"].astype(str).tolist()
    for run_id, key, over in zip(ids, ens.keys, ens.overrides, strict=True):
        assert over[SENS] == (0.0 if key == 0 else 10.0)
        # sensitivity 0: no pressure, no announcement; 10: the Baltic states always go
        assert (run_id in moved) == (key == 1), (run_id, key)


def test_draws_are_seeded_from_the_root_seed(spread: Path) -> None:
    a = posterior_ensemble(spread, 30, root=11)
    b = posterior_ensemble(spread, 30, root=11)
    c = posterior_ensemble(spread, 30, root=12)
    assert a.keys == b.keys and a.overrides == b.overrides
    assert a.keys != c.keys
    assert a.record["seed"] == posterior_seed(11) != posterior_seed(12)
    # a prefix property would tie runs of different sizes together: not promised, not tested;
    # the weights matter: the heaviest particles are drawn more often over many draws
    many = posterior_ensemble(spread, 4000, root=1)
    frame = pd.read_parquet(spread / "particles" / "gen_000.parquet")
    counts = np.bincount(np.asarray(many.keys), minlength=40) / 4000
    assert np.corrcoef(counts, frame["weight"])[0, 1] > 0.8


def test_engines_and_workers_give_identical_tables(spread: Path) -> None:
    mesa = ts.simulate(SCENARIO, replications=16, seed=3, posterior=spread, engine="mesa")
    batched = ts.simulate(SCENARIO, replications=16, seed=3, posterior=spread, engine="batched")
    two = ts.simulate(
        SCENARIO, replications=16, seed=3, posterior=spread, engine="batched", workers=2
    )
    assert mesa.simulation.ensemble is not None and batched.simulation.ensemble is not None
    assert mesa.simulation.ensemble.keys == batched.simulation.ensemble.keys
    assert len(set(batched.simulation.ensemble.keys)) > 5
    for other in (batched, two):
        pd.testing.assert_frame_equal(stable(mesa.runs), stable(other.runs))
        pd.testing.assert_frame_equal(mesa.events, other.events)
    fixed = ts.simulate(SCENARIO, replications=16, seed=3)
    assert not fixed.events.equals(batched.events)  # the draws changed the runs
    assert set(fixed.runs["run_id"]).isdisjoint(batched.runs["run_id"])  # and their ids


def test_manifest_and_report_record_the_posterior(spread: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    code = main(
        ["run", SCENARIO, "-n", "8", "--seed", "4", "--posterior", str(spread), "--out", str(out),
         "--quiet", "--no-report"]
    )  # fmt: skip
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    post = manifest["posterior"]
    assert post["folder"] == str(spread.resolve())
    assert len(post["sha256"]) == 64 and post["seed"] == posterior_seed(4)
    assert post["parameters"] == [SENS, BASE] and post["draws"] == 8
    assert len(manifest["parameter_sets"]) == 8 and len(manifest["seeds"]) == 8
    assert "parameter and seed uncertainty" in manifest["uncertainty"]
    flagged = {f["key"] for f in manifest["provenance"]["outcome_derived"]}
    assert "groups.baltic.deposit_together" in flagged
    assert main(["report", str(out), "--quiet"]) == 0
    md = (out / "summary.md").read_text()
    assert "Intervals cover parameter and seed uncertainty together" in md
    assert "## Inputs derived from the outcome" in md and "baltic.deposit_together" in md


@pytest.mark.parametrize("kind", ["missing", "empty", "no_generations"])
def test_bad_calibration_folder_is_one_line_exit_2(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "cal"
    if kind != "missing":
        folder.mkdir()
    if kind == "no_generations":
        write_json(folder / "manifest.json", {"kind": "treatysim calibration"})
    code = main(["run", SCENARIO, "-n", "2", "--posterior", str(folder), "--out",
                 str(tmp_path / "out"), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith(f"{folder}:0:0: --posterior: ")
    assert "Traceback" not in "".join(err)


def test_a_parameter_the_scenario_rejects_is_reported(tmp_path: Path) -> None:
    folder = write_calibration(tmp_path / "cal", [[-1.0]], [1.0], (SENS,))
    with pytest.raises(ValidationError) as exc:
        ts.simulate(SCENARIO, replications=2, seed=1, posterior=folder)
    (problem,) = exc.value.problems
    assert problem.file == str(folder) and problem.path == SENS
    assert "parameter set 0" in problem.message


def test_compare_interval_widens_with_a_posterior(spread: Path, tmp_path: Path) -> None:
    """Fixed parameters: the cascade's size barely varies; drawn sensitivities make it vary."""
    widths = {}
    for label, posterior in (("fixed", None), ("posterior", spread)):
        sides = []
        for name, sets in (("a", {}), ("b", {"events.ceasefire.date": "2025-04-01"})):
            loaded = ts.load(SCENARIO, overrides=sets)
            result = ts.simulate(loaded, replications=40, seed=9, posterior=posterior)
            folder = result.save(tmp_path / f"{label}_{name}", report=False)
            sides.append(Side.load(folder))
        diff = compare_runs(sides[0], sides[1])["cascade_size"]["difference"]
        widths[label] = diff["hi"] - diff["lo"]
    # measured: fixed 0 (every cascade is the five exposed states), posterior 1.62
    assert widths["posterior"] > 0.5 and widths["posterior"] > 3 * widths["fixed"], widths


def write_sweep(folder: Path, factor: str = "events.ceasefire.date") -> Path:
    values = "[2025-04-01, 2025-10-01]" if factor == "events.ceasefire.date" else "[1.0, 3.0]"
    path = folder / "sweep.yaml"
    baltic = ts.load(SCENARIO).path
    path.write_text(
        "schema_version: 1\nname: post_sweep\n"
        f"base: {baltic}\n"
        f"factors:\n  - {{name: f, path: {factor}, values: {values}}}\n"
        "design: {type: grid}\nreplications: 6\nseed: 17\ntimeseries: none\n",
        encoding="utf-8",
    )
    return path


def test_a_sweep_draws_one_parameter_set_per_replication(two_point: Path, tmp_path: Path) -> None:
    tables = {}
    for engine in ("batched", "mesa"):
        out = tmp_path / engine
        code = main(["sweep", str(write_sweep(tmp_path)), "--posterior", str(two_point),
                     "--out", str(out), "--workers", "1", "--engine", engine,
                     "--quiet"])  # fmt: skip
        assert code == 0
        manifest = json.loads((out / "manifest.json").read_text())
        post = manifest["posterior"]
        assert post["sha256"] and post["seed"] == posterior_seed(17)
        keys = manifest["parameter_sets"]
        assert len(keys) == 6 and set(keys) == {0, 1}
        runs = pd.read_parquet(out / "runs.parquet")
        events = pd.read_parquet(out / "events.parquet")
        moved = set(events.loc[events["stage"] == "announced", "run_id"])
        assert runs["point"].nunique() == 2
        for _, row in runs.iterrows():  # draw r at every point: sensitivity 0 never moves
            assert (row["run_id"] in moved) == (keys[int(row["replication"])] == 1)
        tables[engine] = (stable(runs), events)
    pd.testing.assert_frame_equal(tables["batched"][0], tables["mesa"][0])
    pd.testing.assert_frame_equal(tables["batched"][1], tables["mesa"][1])


def test_a_posterior_may_not_set_a_sweep_factor(
    two_point: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sweep", str(write_sweep(tmp_path, SENS)), "--posterior", str(two_point),
                 "--out", str(tmp_path / "o"), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    clash = f"the posterior sets {SENS}, a factor of the sweep"
    assert err == [f"{two_point}:0:0: --posterior: {clash}"]


def test_every_drawn_world_is_the_world_set_would_build(spread: Path) -> None:
    """Later parameter sets skip the cross-checks; their worlds equal revalidate's."""
    from treatysim.model.world import build_world
    from treatysim.run.ensemble import ensemble_worlds
    from treatysim.scenario.load import revalidate

    loaded = ts.load(SCENARIO)
    ens = posterior_ensemble(spread, 12, root=2)
    worlds = ensemble_worlds(loaded, ens)
    assert len({id(w) for w in worlds}) == len(set(ens.keys)) > 3
    for world, over in list(zip(worlds, ens.overrides, strict=True))[:6]:
        # a draw's tags are the manifest's (fitted, from the record), not the world's
        ref = revalidate(loaded, list(over.items()), origin=None)
        expected = build_world(ref.model, ref.base_dir)
        assert world.scenario == expected.scenario
        np.testing.assert_array_equal(world.sensitivity, expected.sensitivity)
        np.testing.assert_array_equal(world.commitment, expected.commitment)
