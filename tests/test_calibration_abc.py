"""Known-answer tests of the calibration core (issue 11, items 1 and 5).

The toy model is conjugate: m = 20 observations y_i ~ N(mu, sigma^2) with sigma = 1 known, the
sufficient statistic ybar observed at 0.8, and the prior mu ~ N(0, tau^2) with tau = 1. The
posterior is normal with precision 1/tau^2 + m/sigma^2 = 21, mean (m ybar / sigma^2) / 21 =
0.7619 and sd 21^-1/2 = 0.2182; its 90% interval is 0.7619 ± 1.645 · 0.2182 = [0.403, 1.121].

Tolerances. With an effective sample size of N, the Monte Carlo standard error of the posterior
mean is 0.218/sqrt(N) (0.007 at N ≈ 900; 0.013 at N ≈ 280) and that of the sd about
0.218/sqrt(2N); SMC's ancestry correlations make the real error somewhat larger. The last
epsilon (≈ 0.01-0.06 in ybar) widens the likelihood's variance 0.05 by epsilon^2/3 ≤ 0.0012, a
bias of at most 1% in the sd. So the mean must be within about 4 standard errors (0.03 for the
built-in run with 1000 particles, 0.05 for pyabc with 300), the sd within 10% (15%), and the
interval's ends within 0.05 (0.08). Seeds are fixed, so each test is deterministic.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from treatysim.calibration.calibrate import CalibrationFolderError, run_abc, run_calibration
from treatysim.calibration.priors import PriorSet
from treatysim.calibration.simulator import replicated
from treatysim.calibration.store import draw_posterior, read_generations
from treatysim.calibration.targets import (
    WeightedDistance,
    observed_statistics,
    simulated_statistics,
)
from treatysim.scenario.calibration import (
    Calibration,
    Method,
    Normal,
    Uniform,
    calibration_json_schema,
    calibration_problems,
)

pytest.importorskip("pyabc")

M, SIGMA, TAU, YBAR = 20, 1.0, 1.0, 0.8
PRECISION = 1 / TAU**2 + M / SIGMA**2
POST_MEAN = (M * YBAR / SIGMA**2) / PRECISION
POST_SD = PRECISION**-0.5
Z90 = 1.6448536269514722


class KilledError(Exception):
    """Stands for a kill in the middle of a generation."""


class ToySimulator:
    """ybar ~ N(mu, sigma^2 / m), one block per call; counts calls and simulations."""

    def __init__(self, fail_at_call: int | None = None) -> None:
        self.calls: list[int] = []
        self.fail_at_call = fail_at_call

    def __call__(self, params, seeds):
        if self.fail_at_call is not None and len(self.calls) + 1 == self.fail_at_call:
            raise KilledError
        self.calls.append(len(params))
        return [
            {"ybar": float(np.random.default_rng(s).normal(p["mu"], SIGMA / np.sqrt(M)))}
            for p, s in zip(params, seeds, strict=True)
        ]


PRIORS = PriorSet(("mu",), (Normal(distribution="normal", mean=0.0, sd=TAU),))
DISTANCE = WeightedDistance(["ybar"], {"ybar": 1.0}, {"ybar": 1.0}, p=2)


def _run(tmp_path, simulate, *, resume=False, seed=3, **method):
    return run_abc(
        PRIORS, simulate, {"ybar": YBAR}, DISTANCE, Method(**method), seed, tmp_path, resume=resume
    )


def _posterior(result) -> tuple[float, float, float, float]:
    gen = result.generations[-1]
    mu, w = gen.theta[:, 0], gen.weights
    mean = float(np.average(mu, weights=w))
    sd = float(np.sqrt(np.average((mu - mean) ** 2, weights=w)))
    order = np.argsort(mu)
    cum = np.cumsum(w[order])
    lo, hi = (float(mu[order][np.searchsorted(cum, q)]) for q in (0.05, 0.95))
    return mean, sd, lo, hi


@pytest.mark.parametrize(
    ("engine", "n", "generations", "tol_mean", "tol_sd", "tol_ci"),
    [("builtin", 1000, 6, 0.03, 0.10, 0.05), ("pyabc", 250, 4, 0.05, 0.15, 0.08)],
)
def test_abc_matches_conjugate_normal_posterior(
    tmp_path, engine, n, generations, tol_mean, tol_sd, tol_ci
):
    sim = ToySimulator()
    result = _run(tmp_path, sim, engine=engine, population_size=n, max_generations=generations)
    mean, sd, lo, hi = _posterior(result)
    eps = [g.epsilon for g in result.generations]
    print(
        f"{engine}: mean {mean:.4f} sd {sd:.4f} 90% [{lo:.3f}, {hi:.3f}]; analytic "
        f"{POST_MEAN:.4f} {POST_SD:.4f} [{POST_MEAN - Z90 * POST_SD:.3f}, "
        f"{POST_MEAN + Z90 * POST_SD:.3f}]; last epsilon {eps[-1]:.4f}"
    )
    assert len(result.generations) == generations
    assert abs(mean - POST_MEAN) < tol_mean
    assert abs(sd / POST_SD - 1) < tol_sd
    assert abs(lo - (POST_MEAN - Z90 * POST_SD)) < tol_ci
    assert abs(hi - (POST_MEAN + Z90 * POST_SD)) < tol_ci
    # epsilon falls; weights are normalised; diagnostics are written
    assert all(a > b for a, b in itertools.pairwise(eps))
    table = pq.read_table(tmp_path / "generations.parquet").to_pandas()
    assert list(table["generation"]) == list(range(generations))
    assert (table["acceptance_rate"] > 0).all() and (table["acceptance_rate"] <= 1).all()
    assert (table["ess"] > 0.5 * n).all()
    assert json.loads((tmp_path / "generations.json").read_text())[-1]["ess"] == pytest.approx(
        table["ess"].iloc[-1]
    )
    particles = pq.read_table(tmp_path / "particles" / f"gen_{generations - 1:03d}.parquet")
    assert particles.column_names == ["generation", "particle", "mu", "weight", "distance"]
    assert sum(particles.column("weight").to_pylist()) == pytest.approx(1.0)


class BinomialSimulator:
    """k ~ Binomial(20, p): the sufficient statistic of 20 Bernoulli trials."""

    def __call__(self, params, seeds):
        return [
            {"k": float(np.random.default_rng(s).binomial(20, p["p"]))}
            for p, s in zip(params, seeds, strict=True)
        ]


@pytest.mark.parametrize(("engine", "n"), [("builtin", 1000), ("pyabc", 300)])
def test_abc_matches_conjugate_beta_binomial_posterior(tmp_path, engine, n):
    """p ~ Uniform(0, 1) = Beta(1, 1), k = 7 of 20: the posterior is Beta(8, 14).

    Its mean is 8/22 = 0.3636 and its sd sqrt(8 · 14 / (22² · 23)) = 0.1003. The statistic is
    discrete, so the adaptive epsilon (the 0.3-quantile) reaches 0 (exact matches) and the run
    stops there: the last generation is a sample of the exact posterior. The prior's bounds
    must hold for every particle (the built-in engine's random walk acts on normal scores, pyabc
    redraws proposals outside [0, 1]). Tolerances: the mean within 0.025 (about 4 standard
    errors, 0.1/sqrt(ESS) with ESS > 280), the sd within 15%.
    """
    priors = PriorSet(("p",), (Uniform(distribution="uniform", low=0.0, high=1.0),))
    distance = WeightedDistance(["k"], {"k": 1.0}, {"k": 1.0}, p=1)
    method = Method(engine=engine, population_size=n, max_generations=8, epsilon_quantile=0.3)
    result = run_abc(priors, BinomialSimulator(), {"k": 7.0}, distance, method, 5, tmp_path)
    gen = result.generations[-1]
    assert gen.epsilon == 0.0 and len(result.generations) < 8
    assert ((gen.theta >= 0) & (gen.theta <= 1)).all()
    mean = float(np.average(gen.theta[:, 0], weights=gen.weights))
    sd = float(np.sqrt(np.average((gen.theta[:, 0] - mean) ** 2, weights=gen.weights)))
    print(f"{engine}: mean {mean:.4f} sd {sd:.4f}; analytic 0.3636 0.1003; ESS {gen.ess:.0f}")
    assert abs(mean - 8 / 22) < 0.025
    assert abs(sd / np.sqrt(8 * 14 / (22**2 * 23)) - 1) < 0.15


@pytest.mark.parametrize("engine", ["builtin", "pyabc"])
def test_block_sampler_calls_the_simulator_once_per_block(tmp_path, engine):
    sim = ToySimulator()
    result = _run(
        tmp_path, sim, engine=engine, population_size=40, block_size=25, max_generations=3
    )
    simulated = sum(sim.calls)
    if engine == "pyabc":
        assert set(sim.calls) == {25}  # every call is a whole block, never a single particle
        assert len(sim.calls) == simulated // 25
    else:
        # the prior's 40 particles in blocks of 25 and 15; then each ABC-MCMC step moves the
        # 20 replaced particles in one call: never a single particle
        assert sim.calls[:2] == [25, 15] and set(sim.calls[2:]) == {20}
    evaluated = sum(g.n_evaluations for g in result.generations)
    assert len(sim.calls) < evaluated / 10
    # the rest of a block after the n-th acceptance is simulated but not counted as evaluated
    assert sum(g.n_simulations for g in result.generations) <= simulated


def test_replications_are_one_call_per_block(tmp_path):
    sim = ToySimulator()
    stats = replicated(sim, 4)([{"mu": 0.0}, {"mu": 5.0}], [1, 2])
    assert sim.calls == [8]
    assert stats[0]["ybar"] < 1 < stats[1]["ybar"]


def _files(folder):
    return sorted(p.name for p in (folder / "particles").iterdir())


@pytest.mark.parametrize("engine", ["builtin", "pyabc"])
def test_resume_after_interruption_neither_loses_nor_duplicates_generations(tmp_path, engine):
    settings = {"engine": engine, "population_size": 30, "block_size": 15, "max_generations": 4}
    whole = _run(tmp_path / "whole", ToySimulator(), **settings)
    # fail at the first call of generation 2: after the calibration sample's 2 blocks and the
    # blocks of generations 0 and 1 (every block has 15 particles)
    per_gen = [g.n_simulations // 15 for g in whole.generations]
    fail_at = 2 + per_gen[0] + per_gen[1] + 1
    with pytest.raises(KilledError):
        _run(tmp_path / "cut", ToySimulator(fail_at_call=fail_at), **settings)
    done = read_generations(tmp_path / "cut", ("mu",))
    assert [g.t for g in done] == [0, 1]
    manifest = json.loads((tmp_path / "cut" / "manifest.json").read_text())
    assert manifest["status"] == "running"

    resumed = _run(tmp_path / "cut", ToySimulator(), resume=True, **settings)
    assert resumed.resumed_from == 2
    assert [g.t for g in resumed.generations] == [0, 1, 2, 3]
    assert _files(tmp_path / "cut") == [f"gen_{t:03d}.parquet" for t in range(4)]
    rows = json.loads((tmp_path / "cut" / "generations.json").read_text())
    assert [r["generation"] for r in rows] == [0, 1, 2, 3]
    manifest = json.loads((tmp_path / "cut" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["resumed"]) == 1
    assert not list((tmp_path / "cut").rglob("*.tmp"))
    if engine == "pyabc":
        import pyabc

        history = pyabc.History(f"sqlite:///{tmp_path / 'cut' / 'pyabc.db'}", _id=1)
        assert list(history.get_all_populations()["t"]) == [-1, 0, 1, 2, 3]
    # every generation's seeds and random numbers derive from its place: the resumed run
    # reproduces the uninterrupted one
    for a, b in zip(whole.generations, resumed.generations, strict=True):
        np.testing.assert_allclose(a.theta, b.theta)
        np.testing.assert_allclose(a.weights, b.weights)
    # resuming a finished calibration samples nothing more
    again = ToySimulator()
    assert len(_run(tmp_path / "cut", again, resume=True, **settings).generations) == 4
    assert again.calls == []


def test_pyabc_resume_recovers_a_generation_stored_but_not_checkpointed(tmp_path):
    """A kill between pyabc's commit of a generation and the folder's checkpoint loses nothing."""
    settings = {"engine": "pyabc", "population_size": 30, "block_size": 15, "max_generations": 3}
    whole = _run(tmp_path / "whole", ToySimulator(), **settings)
    per_gen = [g.n_simulations // 15 for g in whole.generations]
    with pytest.raises(KilledError):
        _run(tmp_path / "cut", ToySimulator(fail_at_call=2 + sum(per_gen[:2]) + 1), **settings)
    # undo generation 1's checkpoint, as if the process died right after pyabc stored it
    rows = json.loads((tmp_path / "cut" / "generations.json").read_text())
    (tmp_path / "cut" / "generations.json").write_text(json.dumps(rows[:1]))
    (tmp_path / "cut" / "particles" / "gen_001.parquet").unlink()
    resumed = _run(tmp_path / "cut", ToySimulator(), resume=True, **settings)
    assert [g.t for g in resumed.generations] == [0, 1, 2]
    for a, b in zip(whole.generations, resumed.generations, strict=True):
        np.testing.assert_allclose(a.theta, b.theta)


KILL_SCRIPT = """
import sys, time
import numpy as np
sys.path.insert(0, {tests!r})
from test_calibration_abc import DISTANCE, PRIORS, YBAR, ToySimulator
from treatysim.calibration.calibrate import run_abc
from treatysim.scenario.calibration import Method

class Slow(ToySimulator):
    def __call__(self, params, seeds):
        time.sleep(0.05)
        return super().__call__(params, seeds)

run_abc(PRIORS, Slow(), {{"ybar": YBAR}}, DISTANCE, Method(**{settings!r}), 3, {out!r})
"""


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["builtin", "pyabc"])
def test_resume_after_kill_9(tmp_path, engine):
    settings = {"engine": engine, "population_size": 30, "block_size": 15, "max_generations": 5}
    whole = _run(tmp_path / "whole", ToySimulator(), **settings)
    out = tmp_path / "killed"
    script = KILL_SCRIPT.format(tests=str(Path(__file__).parent), settings=settings, out=str(out))
    child = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and child.poll() is None:
            rows = out / "generations.json"
            if rows.exists() and len(json.loads(rows.read_text() or "[]")) >= 2:
                break
            time.sleep(0.02)
        assert child.poll() is None, "the calibration ended before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    resumed = _run(out, ToySimulator(), resume=True, **settings)
    assert 2 <= resumed.resumed_from < 5
    assert [g.t for g in resumed.generations] == [0, 1, 2, 3, 4]
    assert _files(out) == [f"gen_{t:03d}.parquet" for t in range(5)]
    for a, b in zip(whole.generations, resumed.generations, strict=True):
        np.testing.assert_allclose(a.theta, b.theta)


def test_draw_posterior_resamples_by_weight(tmp_path):
    result = _run(tmp_path, ToySimulator(), engine="builtin", population_size=50,
                  max_generations=2)  # fmt: skip
    draws = draw_posterior(tmp_path, 200, seed=5)
    assert len(draws) == 200 and list(draws.columns) == ["particle", "mu"]
    assert draws.equals(draw_posterior(tmp_path, 200, seed=5))
    theta = result.generations[-1].theta[:, 0]
    np.testing.assert_allclose(draws["mu"], theta[draws["particle"]])


def test_folder_guards(tmp_path):
    settings = {"engine": "builtin", "population_size": 20, "max_generations": 1}
    _run(tmp_path, ToySimulator(), **settings)
    with pytest.raises(CalibrationFolderError, match="already holds"):
        _run(tmp_path, ToySimulator(), **settings)
    with pytest.raises(CalibrationFolderError, match="seed"):
        _run(tmp_path, ToySimulator(), resume=True, seed=4, **settings)


# --------------------------------------------------------------------------------------------
# the calibration file language

GOOD = {
    "schema_version": 1,
    "name": "ottawa_quiet",
    "base": "ottawa_2025",
    "treaty": "ottawa",
    "priors": {
        "parameters.threat.sensitivity": {"distribution": "log_uniform", "low": 0.5, "high": 5},
        "parameters.commitment.erosion": {"distribution": "normal", "mean": 0.3, "sd": 0.1},
        "events[0].freed_share": {
            "distribution": "truncated_normal", "mean": 0.5, "sd": 0.2, "low": 0, "high": 1,
        },
        "states.overrides.NOR.stigma": {"distribution": "uniform", "low": 0, "high": 1},
    },
    "targets": [
        {"kind": "stage_date", "name": "est_announced", "state": "EST", "stage": "announced",
         "window": {"start": "2025-01-01", "end": "2025-12-31"}},
        {"kind": "not_moved", "name": "nordics_stay", "states": ["NOR", "SWE", "DNK"],
         "window": {"start": "2022-03-01", "end": "2025-12-31"}},
        {"kind": "quiet_window", "name": "quiet_2022_24",
         "window": {"start": "2022-03-01", "end": "2024-12-31"}, "weight": 2},
        {"kind": "mover_count", "name": "movers_2025",
         "window": {"start": "2025-01-01", "end": "2025-12-31"}},
        {"kind": "stage_date", "name": "ukr_moved", "state": "UKR", "stage": "moved",
         "window": {"start": "2025-01-01", "end": "2025-12-31"}},
    ],
    "method": {"population_size": 100, "max_generations": 5, "engine": "builtin"},
    "seed": 11,
}  # fmt: skip


def _with(**changes):
    doc = json.loads(json.dumps(GOOD))
    for path, value in changes.items():
        node = doc
        *head, last = path.split("/")
        for key in head:
            node = node[int(key)] if key.isdigit() else node[key]
        node[last] = value
    return doc


def test_a_good_calibration_file_validates_and_has_a_json_schema():
    cal = Calibration.model_validate(GOOD)
    assert cal.method.engine == "builtin" and cal.distance.p == 2
    assert calibration_problems(GOOD) == []
    schema = calibration_json_schema()
    assert schema["title"] == "treatysim calibration"
    assert {"Uniform", "LogUniform", "Normal", "TruncatedNormal", "StageDate"} <= set(
        schema["$defs"]
    )
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(GOOD, schema)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({**GOOD, "colour": "red"}, "Extra inputs are not permitted"),
        (_with(**{"method/populaton_size": 5}), "Extra inputs are not permitted"),
        (_with(**{"priors/parameters.threat.sensitivity": {"distribution": "gamma", "a": 2}}),
         "does not match any of the expected tags"),
        (_with(**{"priors/states.overrides.NOR.stigma": {"distribution": "uniform", "low": 1,
                                                          "high": 0}}),
         "bounds the wrong way round"),
        (_with(**{"priors/parameters.threat.sensitivity": {"distribution": "log_uniform",
                                                            "low": 0, "high": 5}}),
         "greater than 0"),
        (_with(**{"priors/events[0].freed_share": {"distribution": "truncated_normal",
                                                    "mean": 0, "sd": 1}}),
         "needs low, high or both"),
        (_with(**{"priors/parameters.commitment.erosion": {"distribution": "normal", "mean": 0,
                                                            "sd": -1}}),
         "greater than 0"),
        (_with(**{"targets/0/window": {"start": "2025-12-31", "end": "2025-01-01"}}),
         "window ends"),
        (_with(**{"targets/1/name": "est_announced"}), "target names must be unique"),
        (_with(**{"targets/0/kind": "dated"}), "does not match any of the expected tags"),
        ({**GOOD, "priors": {"parameters..x": {"distribution": "normal", "mean": 0, "sd": 1}}},
         "malformed key path"),
        (_with(**{"method/epsilon_quantile": 1.5}), "less than 1"),
    ],
)  # fmt: skip
def test_bad_calibration_files_raise_pydantic_errors(doc, message):
    with pytest.raises(ValidationError, match=message):
        Calibration.model_validate(doc)
    assert calibration_problems(doc)


# --------------------------------------------------------------------------------------------
# targets


def test_observed_statistics_of_the_bundled_dataset():
    cal = Calibration.model_validate(GOOD)
    obs = observed_statistics(cal.targets, "ottawa")
    assert obs["est_announced"] == 76  # 2025-01-01 → 2025-03-18
    assert obs["nordics_stay"] == 0.0
    assert obs["quiet_2022_24"] == 0.0
    assert obs["movers_2025"] == 6  # EST, LVA, LTU, POL, FIN announced; UKR suspended
    assert obs["ukr_moved"] == 198  # suspended 2025-07-18


def test_simulated_statistics_censor_at_the_window_end():
    import pandas as pd

    cal = Calibration.model_validate(GOOD)
    events = pd.DataFrame(
        [
            ("0", "EST", "ottawa", "announced", "2025-02-01"),
            ("0", "NOR", "ottawa", "announced", "2023-06-01"),
            ("1", "EST", "ottawa", "announced", "2026-02-01"),
            ("1", "EST", "ccm", "announced", "2025-02-01"),
        ],
        columns=["run_id", "iso3", "treaty", "stage", "date"],
    )
    runs = simulated_statistics(cal.targets, events, ["0", "1", "2"], "ottawa")
    assert runs[0] == {"est_announced": 31, "nordics_stay": 1 / 3, "quiet_2022_24": 1.0,
                       "movers_2025": 1.0, "ukr_moved": 364.0}  # fmt: skip
    assert runs[1]["est_announced"] == 364 and runs[1]["movers_2025"] == 0
    assert runs[2]["quiet_2022_24"] == 0.0


def test_stage_span_measures_a_joint_announcement():
    """stage_span: days between the first and last of the states; censored if one is missing."""
    import pandas as pd

    from treatysim.calibration.targets import default_scale
    from treatysim.scenario.calibration import StageSpan

    window = {"start": "2025-01-01", "end": "2025-12-31"}
    span = StageSpan.model_validate(
        {"name": "joint", "kind": "stage_span", "states": ["EST", "LVA", "POL"], "window": window}
    )
    assert observed_statistics([span], "ottawa") == {"joint": 0.0}  # all on 2025-03-18
    events = pd.DataFrame(
        [
            ("0", "EST", "ottawa", "announced", "2025-03-18"),
            ("0", "LVA", "ottawa", "announced", "2025-03-25"),
            ("0", "POL", "ottawa", "announced", "2025-04-08"),
            ("1", "EST", "ottawa", "announced", "2025-03-18"),
            ("1", "LVA", "ottawa", "announced", "2025-03-18"),
            ("1", "POL", "ottawa", "announced", "2026-01-05"),  # after the window
        ],
        columns=["run_id", "iso3", "treaty", "stage", "date"],
    )
    runs = simulated_statistics([span], events, ["0", "1"], "ottawa")
    assert runs == [{"joint": 21.0}, {"joint": 364.0}]
    assert default_scale(span, 0.0) == 364.0
    with pytest.raises(ValidationError):
        StageSpan.model_validate(
            {"name": "j", "kind": "stage_span", "states": ["EST"], "window": window}
        )


def test_run_calibration_from_a_file_model(tmp_path):
    """The whole path from a calibration model, with a stand-in simulator of the targets."""
    cal = Calibration.model_validate(
        _with(**{"method/population_size": 20, "method/max_generations": 2})
    )
    calls = []

    def simulate(params, seeds):
        calls.append(len(params))
        rng = np.random.default_rng(seeds[0])
        return [
            {"est_announced": 76 + 100 * (p["parameters.threat.sensitivity"] - 1) +
             rng.normal(0, 5), "nordics_stay": 0.0, "quiet_2022_24": 0.0, "movers_2025": 6.0,
             "ukr_moved": 198.0}
            for p in params
        ]  # fmt: skip

    result = run_calibration(cal, simulate, tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["observed"]["movers_2025"] == 6
    assert manifest["distance"]["scales"]["est_announced"] == 364
    assert manifest["distance"]["scales"]["movers_2025"] == 6
    assert manifest["targets"][0]["name"] == "est_announced"
    assert manifest["calibration"]["base"] == "ottawa_2025"
    assert set(manifest["versions"]) >= {"python", "numpy", "treatysim"}
    assert list(result.posterior.columns[2:6]) == list(cal.priors)


def test_handoff_blocks_keep_candidate_order_and_release_workers_on_failure():
    from treatysim.calibration.handoff import BlockHandoff

    class Particle:
        def __init__(self, value):
            self.value, self.accepted = value, value > 0

    sim = ToySimulator()
    handoff = BlockHandoff(lambda ps, ss: sim(ps, ss), block_size=8, seed=1)
    draws = iter(np.linspace(-1, 1, 1000))

    def simulate_one():
        mu = float(next(draws))
        return Particle(handoff.ask({"mu": mu})["ybar"] * 0 + mu)

    out = []
    evaluated = handoff.fill(out.append, 5, simulate_one, t=0)
    assert [p.value for p in out] == sorted(p.value for p in out)  # candidate order
    assert sum(p.accepted for p in out) == 5 and evaluated == len(out)
    assert sim.calls and set(sim.calls) == {8}
    failing = BlockHandoff(ToySimulator(fail_at_call=1), block_size=4, seed=1)
    with pytest.raises(KilledError):
        failing.fill(out.append, 1, lambda: failing.ask({"mu": 0.0}), t=0)
    failing.close()  # every worker was released: close() returns
    handoff.close()
