"""``treatysim backtest`` and input provenance.

The backtest scenario is the teaching scenario ``baltic_simple`` (six states, all Ottawa
parties, observed dates from ``observed_2025``) with its two 2025 events removed, cut at
2025-01-31 and scored to 2025-12-31: EST, LVA, LTU, POL and FIN moved in that window, NOR did
not.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import treatysim as ts
from treatysim.calibration.ensemble import posterior_ensemble
from treatysim.cli import main
from treatysim.report.backtest import verdicts
from treatysim.scenario.errors import ValidationError
from treatysim.scenario.inputs import flagged_inputs
from treatysim.scenario.provenance import Provenance, reason

from modelkit import write

CUTOFF, UNTIL = "2025-01-31", "2025-12-31"
#: baltic_simple's tagged inputs that a 2025-01-31 cutoff flags (the dataset's are all older).
#: (Poland's parliament time follows the ex-ante formula; Norway's stigma is a teaching
#: assumption on the scale of Norway's 2025 decision, tagged observed.)
FLAGGED = {
    "states.overrides.NOR.stigma",
    "threat_sources.RUS.tied_down_share",
    "groups.baltic.deposit_together",
}


@pytest.fixture
def quiet_baltic(tmp_path: Path) -> Path:
    """baltic_simple without its 2025 events."""
    return write(
        tmp_path / "quiet.yaml",
        """\
        schema_version: 1
        extends: teaching/baltic_simple
        name: quiet_baltic
        events:
          - {id: us_reassurance_drop, remove: true}
          - {id: ceasefire, remove: true}
        """,
    )


def test_events_after_the_cutoff_are_refused_one_line_each(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["backtest", "teaching/baltic_simple", "--cutoff", CUTOFF, "--until", UNTIL,
                 "--out", str(tmp_path / "out"), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 2
    assert (
        "events[0].date: event 'us_reassurance_drop' is dated 2025-02-12, after the cutoff"
        in err[0]
    )
    assert "events[1].date: event 'ceasefire' is dated 2025-10-01" in err[1]
    for line in err:  # FILE:LINE:COL pointing into the bundled file
        file, line_no, col, _ = line.split(":", 3)
        assert file.endswith("baltic_simple.yaml") and int(line_no) > 0 and int(col) > 0
    assert not (tmp_path / "out").exists()


def test_strict_refuses_inputs_not_known_at_the_cutoff(
    quiet_baltic: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["backtest", str(quiet_baltic), "--cutoff", CUTOFF, "--until", UNTIL,
                 "--strict", "--out", str(tmp_path / "out"), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    keys = {line.split(": ")[1].removeprefix("provenance.") for line in err}
    assert keys == FLAGGED
    assert all("not allowed in a strict backtest" in line for line in err)
    # a cutoff after every tagged date flags only what came from the outcome
    late = flagged_inputs(ts.load(quiet_baltic).model, None, dt.date(2025, 12, 31))
    assert {t.key for t in late} == FLAGGED - {"threat_sources.RUS.tied_down_share"}


def test_backtest_scores_the_window(
    quiet_baltic: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "bt"
    code = main(["backtest", str(quiet_baltic), "--cutoff", CUTOFF, "--until", UNTIL,
                 "-n", "20", "--seed", "3", "--n-boot", "500", "--out", str(out)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    warned = {line for line in captured.err.splitlines() if line.startswith("warning: ")}
    assert len(warned) == len(FLAGGED)
    for name in ("scores.json", "scores.parquet", "scores.csv", "reliability.png", "summary.md"):
        assert (out / name).is_file(), name
    doc = json.loads((out / "scores.json").read_text())
    assert (doc["cutoff"], doc["until"]) == (CUTOFF, UNTIL)
    assert doc["replications"] == 20 and len(doc["seeds"]) == 20
    assert doc["states"] == ["EST", "LVA", "LTU", "POL", "FIN", "NOR"]
    assert doc["n_observed_moved"] == 5
    assert {f["key"] for f in doc["flagged_inputs"]} == FLAGGED
    assert doc["posterior"] is None and "seed" in doc["uncertainty"]
    assert set(doc["scores"]) == {"brier", "log", "crps_days"}
    nulls = {"base_rate_in_sample", "exposure", "exposure_minus_allies"}
    for score in doc["scores"].values():
        assert nulls <= set(score["differences"])
        for d in score["differences"].values():
            assert d["lower"] <= d["mean"] <= d["upper"]
    assert len(doc["verdicts"]) == 9
    # the table's scores follow from its probabilities: Brier and log score by hand
    table = pd.read_parquet(out / "scores.parquet")
    csv = pd.read_csv(out / "scores.csv")
    assert list(csv["iso3"]) == list(table["iso3"])
    y, p = table["observed"].to_numpy(), table["p_model"].to_numpy()
    assert list(y) == [1, 1, 1, 1, 1, 0]
    brier = np.mean((p - y) ** 2)
    assert doc["scores"]["brier"]["means"]["model"]["mean"] == pytest.approx(brier)
    eps = doc["log_score_epsilon"]
    assert eps == pytest.approx(1 / 40)
    q = np.clip(p, eps, 1 - eps)
    log = np.mean(-(y * np.log(q) + (1 - y) * np.log(1 - q)))
    assert doc["scores"]["log"]["means"]["model"]["mean"] == pytest.approx(log)
    # the break-even range of p_hi: at its ends the rule's Brier equals the model's
    for name, item in doc["brier_break_even"].items():
        assert item["model_brier"] == pytest.approx(brier)
        flags = table[f"p_{name}"].to_numpy() == item["p_hi"]
        span = item["null_better_for_p_hi"]
        for p_hi in span if span is not None else []:
            rule = np.where(flags, p_hi, item["p_lo"])
            at_end = np.mean((rule - y) ** 2)
            assert at_end == pytest.approx(brier) or p_hi in (0.0, 1.0)
    md = (out / "summary.md").read_text()
    assert "## Did the model beat the null models?" in md
    assert "## How sure the exposure rules had to be" in md
    assert md.count("- Against the ") == 3
    assert "groups.baltic.deposit_together" in md


def test_backtest_with_a_posterior_records_it(
    quiet_baltic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from test_posterior import BASE, SENS, write_calibration

    cal = write_calibration(tmp_path / "cal", [[1.0, 0.6], [4.0, 0.6]], [0.3, 0.7], (SENS, BASE))
    out = tmp_path / "bt"
    code = main(["backtest", str(quiet_baltic), "--cutoff", CUTOFF, "--until", UNTIL,
                 "-n", "10", "--n-boot", "200", "--posterior", str(cal), "--out", str(out),
                 "--quiet"])  # fmt: skip
    assert code == 0
    doc = json.loads((out / "scores.json").read_text())
    assert doc["posterior"]["folder"] == str(cal.resolve())
    assert "parameter and seed uncertainty" in doc["uncertainty"]
    # the drawn parameters are tagged as fitted by the calibration (no targets: no date)
    tags = {f["key"]: f for f in doc["flagged_inputs"]}
    assert tags[SENS]["kind"] == "fitted" and tags[SENS]["reason"] == "fitted to the outcome"
    assert "posterior of the calibration" in tags[BASE]["source"]
    # a calibration whose targets end before the cutoff: its parameters are clean
    manifest = json.loads((cal / "manifest.json").read_text())
    manifest["targets"] = [{"name": "t", "window": {"start": "2024-01-01", "end": "2024-12-31"}}]
    (cal / "manifest.json").write_text(json.dumps(manifest))
    loaded = ts.load(quiet_baltic)
    record = posterior_ensemble(cal, 1, 0).record
    assert record["data_until"] == "2024-12-31"
    keys = {t.key for t in flagged_inputs(loaded.model, None, dt.date(2025, 1, 31), record)}
    assert keys == FLAGGED - {SENS, BASE}
    capsys.readouterr()  # the first backtest's warnings
    manifest["targets"][0]["window"]["end"] = "2025-06-30"
    (cal / "manifest.json").write_text(json.dumps(manifest))
    code = main(["backtest", str(quiet_baltic), "--cutoff", CUTOFF, "--until", UNTIL,
                 "--posterior", str(cal), "--strict", "--out", str(tmp_path / "s")])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        f"{cal}:0:0: {SENS}: fitted input not allowed in a strict backtest: fitted to data "
        "up to 2025-06-30"
    ) in err
    assert len(err) == len(FLAGGED) + 2


def test_a_bad_window_is_refused(quiet_baltic: Path) -> None:
    from treatysim.report.backtest import backtest

    loaded = ts.load(quiet_baltic)
    with pytest.raises(ValidationError, match="must be after the cutoff"):
        backtest(loaded, dt.date(2025, 6, 1), dt.date(2025, 5, 1))
    with pytest.raises(ValidationError, match="after the calendar's end"):
        backtest(loaded, dt.date(2025, 6, 1), dt.date(2030, 1, 1))


def test_verdicts_by_hand() -> None:
    summary = {
        "scores": {
            "brier": {
                "differences": {
                    "base_rate_in_sample": {"mean": -0.05, "lower": -0.08, "upper": -0.01},
                    "exposure": {"mean": 0.01, "lower": -0.02, "upper": 0.04},
                    "exposure_minus_allies": {"mean": 0.03, "lower": 0.01, "upper": 0.05},
                    "other": {"mean": -1.0, "lower": -2.0, "upper": -0.5},
                }
            }
        }
    }
    got = {v["null"]: (v["beat"], v["verdict"].split(" (")[0]) for v in verdicts(summary)}
    assert got == {
        "base_rate_in_sample": (True, "model better"),
        "exposure": (False, "model worse on average, not decisively"),
        "exposure_minus_allies": (False, "model worse"),
    }


# --------------------------------------------------------------------------------------------
# provenance


@pytest.mark.parametrize(
    ("entry", "cutoff", "expected"),
    [
        ({"kind": "observed"}, None, "read from the outcome"),
        ({"kind": "fitted"}, dt.date(2030, 1, 1), "fitted to the outcome"),
        ({"kind": "fitted", "date": "2024-06-01"}, dt.date(2024, 11, 30), ""),
        ({"kind": "fitted", "date": "2025-06-01"}, dt.date(2024, 11, 30), "fitted to data up to"),
        ({"kind": "ex_ante", "date": "2024-06-01"}, dt.date(2024, 11, 30), ""),
        ({"kind": "ex_ante", "date": "2025-03-30"}, dt.date(2024, 11, 30), "known only on"),
        ({"kind": "ex_ante", "date": "2025-03-30"}, None, ""),
    ],
)
def test_provenance_flags(entry: dict[str, str], cutoff: dt.date | None, expected: str) -> None:
    got = reason(Provenance.model_validate(entry), cutoff)
    assert got.startswith(expected) and bool(got) == bool(expected)


def test_bad_provenance_is_reported_with_positions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(
        tmp_path / "bad.yaml",
        """\
        schema_version: 1
        extends: teaching/baltic_simple
        name: bad
        provenance:
          parameters.threat.sensitivty: {kind: fitted}
          states.overrides: {kind: observed}
        """,
    )
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"{bad}:5:3: provenance.parameters.threat.sensitivty: not an input of this scenario: "
        "parameters.threat.sensitivty: no key 'sensitivty'",
        f"{bad}:6:3: provenance.states.overrides: 'states.overrides' is not a number of this "
        "scenario",
    ]
    write(bad, bad.read_text().replace("{kind: observed}", "{kind: ex_ante}"))
    assert main(["validate", str(bad)]) == 2
    assert "an ex_ante input needs the date it was known" in capsys.readouterr().err


def test_dataset_side_file_is_validated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from treatysim.scenario.dataset import dataset_path

    csv = tmp_path / "mine.csv"
    csv.write_bytes(dataset_path("europe_2025").read_bytes())
    write(
        tmp_path / "mine.provenance.yaml",
        "schema_version: 1\ncolumns:\n  nato_sinc: {kind: observed}\n",
    )
    scen = tmp_path / "s.yaml"
    baltic = ts.load("teaching/baltic_simple").path
    assert baltic is not None
    scen.write_text(baltic.read_text().replace("dataset: europe_2025", f"dataset: {csv}"))
    assert main(["validate", str(scen)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"{tmp_path / 'mine.provenance.yaml'}:3:3: columns.nato_sinc: mine.csv has no column "
        "'nato_sinc'; did you mean 'nato_since'?"
    )


def test_bundled_scenarios_and_dataset_are_tagged() -> None:
    counts = {}
    for name in ("ottawa_2025", "ceasefire_2025", "ceasefire_2026", "ccm_lithuania"):
        loaded = ts.load(name)
        flagged = flagged_inputs(loaded.model, loaded.base_dir, dt.date(2024, 11, 30))
        counts[name] = len(loaded.model.provenance)
        keys = {t.key for t in flagged}
        # ODD section 9's outcome-derived inputs are flagged at the out-of-sample cutoff
        assert {"parameters.threat.sensitivity", "parameters.commitment.baseline",
                "parameters.pipeline.deliberation_months"} <= keys  # fmt: skip
        # each derives Norway's stigma and Poland's parliament time from ex-ante columns
        assert not any(k.startswith(("states.overrides.NOR", "states.overrides.POL")) for k in keys)
        assert not {"NOR", "POL"} & set(loaded.model.states.overrides)
        assert any(t.where.startswith("dataset:") for t in flagged) is False
    assert counts["ccm_lithuania"] > counts["ottawa_2025"] >= 18
    assert ts.load("ceasefire_2025").model.provenance["events.ceasefire.freed_share"].kind == (
        "ex_ante"
    )
    for name in ("teaching/baltic_simple", "teaching/granovetter_riot", "teaching/watts_cascade"):
        assert ts.load(name).model.provenance


def test_provenance_and_schedules_do_not_change_run_ids() -> None:
    loaded = ts.load("teaching/baltic_simple")
    untagged = ts.load("teaching/baltic_simple", overrides={"provenance": {}})
    scheduled = ts.load(
        "teaching/baltic_simple",
        overrides={"events.us_reassurance_drop.scheduled_since": "2025-01-20"},
    )
    assert scheduled.model.events[0].scheduled_since is not None
    a = ts.simulate(loaded, replications=2, seed=1).runs["run_id"]
    b = ts.simulate(untagged, replications=2, seed=1).runs["run_id"]
    c = ts.simulate(scheduled, replications=2, seed=1).runs["run_id"]
    assert list(a) == list(b) == list(c)


def _child_of_ottawa_2025(folder: Path, events: str) -> Path:
    """A scenario file ``extends: ottawa_2025`` with only ``events`` (indented YAML lines)."""
    head = "schema_version: 1\nextends: ottawa_2025\nname: c\nevents:\n"
    return write(folder / "c.yaml", head + textwrap.dedent(events))


def test_removing_an_event_drops_its_inherited_provenance(tmp_path: Path) -> None:
    child = _child_of_ottawa_2025(tmp_path, "  - {id: us_reassurance_drop, remove: true}\n")
    tags = ts.load(child).model.provenance
    assert "events.us_reassurance_drop.credibility" not in tags
    assert "parameters.threat.sensitivity" in tags


def test_an_event_replaced_by_another_type_drops_its_inherited_provenance(
    tmp_path: Path,
) -> None:
    base = ts.load("ottawa_2025").model.provenance
    assert "events.us_reassurance_drop.credibility" in base
    child = _child_of_ottawa_2025(
        tmp_path,
        """\
          - {id: us_reassurance_drop, type: escalation, date: 2025-02-12, source: RUS,
             capability_factor: 1.1}
        """,
    )
    loaded = ts.load(child)
    assert loaded.model.events[0].type == "escalation"
    tags = loaded.model.provenance
    assert not [k for k in tags if k.startswith("events.us_reassurance_drop.")], tags
    assert "parameters.threat.sensitivity" in tags


def test_a_full_output_folder_is_refused_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    code = main(["backtest", "teaching/baltic_simple", "--cutoff", CUTOFF, "--until", UNTIL,
                 "--out", str(full)])  # fmt: skip
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        f"{full}:0:0: --out: the output folder exists and is not empty"
    )


def test_scoreboard_of_two_states_by_hand() -> None:
    """Two states, a model and a coin-flip null, every score worked out by hand."""
    from treatysim.analysis.scoreboard import score_backtest

    nan = np.nan
    out = score_backtest(
        ["AAA", "BBB"],
        [1, 0],
        {"model": [0.8, 0.1], "coin": [0.5, 0.5]},
        observed_days=[10.0, nan],
        date_ensembles={
            "model": [[5.0, 15.0], [nan, 120.0]],  # BBB: never, or after the horizon 100
            "coin": [[0.0, 100.0], [0.0, 100.0]],
        },
        horizon=100.0,
        eps=0.01,
        n_boot=200,
    )
    s = out.summary["scores"]
    # Brier: model ((0.2)² + (0.1)²)/2 = 0.025; coin (0.25 + 0.25)/2 = 0.25
    assert s["brier"]["means"]["model"]["mean"] == pytest.approx(0.025)
    assert s["brier"]["differences"]["coin"]["mean"] == pytest.approx(-0.225)
    # log: model (−ln 0.8 − ln 0.9)/2; coin ln 2
    assert s["log"]["means"]["model"]["mean"] == pytest.approx(-(np.log(0.8) + np.log(0.9)) / 2)
    assert s["log"]["means"]["coin"]["mean"] == pytest.approx(np.log(2))
    # CRPS (energy form E|X − y| − ½E|X − X'|): AAA model {5, 15} vs 10: 5 − ½·5 = 2.5;
    # BBB model {100, 100} (censored) vs 100: 0. Coin {0, 100}: AAA (10 + 90)/2 − 25 = 25;
    # BBB (100 + 0)/2 − 25 = 25
    assert s["crps_days"]["means"]["model"]["mean"] == pytest.approx((2.5 + 0.0) / 2)
    assert s["crps_days"]["means"]["coin"]["mean"] == pytest.approx(25.0)
    assert s["crps_days"]["differences"]["coin"]["mean"] == pytest.approx(1.25 - 25.0)
    assert list(out.table["crps_model"]) == pytest.approx([2.5, 0.0])


def test_brier_break_even_by_hand() -> None:
    """Six exposed states of which five moved, one state elsewhere that stayed, p_lo 0."""
    from treatysim.analysis.nulls import brier_break_even

    y = [1, 1, 1, 1, 1, 0, 0]
    exposed = [True] * 6 + [False]
    # 7 B(p) = 5 (1 − p)² + p² = 6p² − 10p + 5; below 7 × 0.13 = 0.91 where
    # 6p² − 10p + 4.09 < 0, between the roots (10 ∓ √(100 − 98.16)) / 12 = (10 ∓ √1.84) / 12
    low, high = brier_break_even(y, exposed, 0.13, p_lo=0.0)  # type: ignore[misc]
    assert low == pytest.approx((10 - np.sqrt(1.84)) / 12)
    assert high == pytest.approx((10 + np.sqrt(1.84)) / 12)
    # the rule's best p_hi is 5/6, where 7 B = 5/6: a model at or below 5/42 always wins
    assert brier_break_even(y, exposed, 5 / 42 - 1e-9, p_lo=0.0) is None
    # a poor model (7 × 0.6 = 4.2): roots (10 ∓ √80.8) / 12, the upper one past 1, clipped
    low, high = brier_break_even(y, exposed, 0.6, p_lo=0.0)  # type: ignore[misc]
    assert (low, high) == (pytest.approx((10 - np.sqrt(80.8)) / 12), 1.0)
    with pytest.raises(ValueError):
        brier_break_even(y, exposed[:-1], 0.2)


def test_an_event_scheduled_before_the_cutoff_is_kept_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An event dated after the cutoff stays when its date was known by then (and is listed)."""

    def variant(name: str, since: str) -> Path:
        return write(
            tmp_path / f"{name}.yaml",
            f"""\
            schema_version: 1
            extends: teaching/baltic_simple
            name: {name}
            events:
              - {{id: us_reassurance_drop, scheduled_since: {since}}}
              - {{id: ceasefire, remove: true}}
            """,
        )

    late = variant("late", "2025-02-01")  # scheduled after the cutoff: refused
    code = main(["backtest", str(late), "--cutoff", CUTOFF, "--until", UNTIL,
                 "--out", str(tmp_path / "late_out"), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "us_reassurance_drop' is dated 2025-02-12, after the cutoff" in err
    kept = variant("kept", "2025-01-20")
    out = tmp_path / "kept_out"
    code = main(["backtest", str(kept), "--cutoff", CUTOFF, "--until", UNTIL, "-n", "10",
                 "--n-boot", "200", "--out", str(out), "--quiet"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    doc = json.loads((out / "scores.json").read_text())
    assert doc["scheduled_events"] == [
        {"event": "us_reassurance_drop", "date": "2025-02-12", "scheduled_since": "2025-01-20",
         "note": ts.load(kept).model.events[0].note}
    ]  # fmt: skip
    assert "scheduled since 2025-01-20" in (out / "summary.md").read_text()


def test_scheduled_since_after_the_event_is_a_positioned_error(tmp_path: Path) -> None:
    bad = write(
        tmp_path / "bad.yaml",
        """\
        schema_version: 1
        extends: teaching/baltic_simple
        name: bad
        events:
          - {id: us_reassurance_drop, scheduled_since: 2025-03-01}
        """,
    )
    with pytest.raises(ValidationError) as caught:
        ts.load(bad)
    text = str(caught.value)
    assert "scheduled_since 2025-03-01 is after the event's date 2025-02-12" in text
    assert "bad.yaml:" in text
