"""The teaching demo without a browser: the model wrapper, the dropdown, the controls, serve()."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pytest

from treatysim.demo import server as demo
from treatysim.demo.layout import layout_of
from treatysim.demo.model import SCENARIO_ENV, DemoModel, scenario_choices, scenario_defaults
from treatysim.model.world import build_world
from treatysim.results.tables import Task
from treatysim.run.replicate import run_one
from treatysim.run.runner import apply_overrides
from treatysim.run.seeds import replication_seed
from treatysim.scenario.bundled import bundled_scenarios, scenario_key
from treatysim.scenario.errors import ValidationError
from treatysim.scenario.load import load_scenario

BALTIC = "teaching/baltic_simple"


def test_dropdown_lists_teaching_and_ceasefire_scenarios_only():
    keys = list(bundled_scenarios())
    assert keys[0] == BALTIC
    assert {
        "teaching/baltic_simple",
        "teaching/granovetter_normal",
        "teaching/granovetter_riot",
        "teaching/granovetter_riot_broken",
        "teaching/watts_cascade",
        "ceasefire_2025",
        "ceasefire_2026",
    } == set(keys)
    # no ceasefire event and not a teaching scenario: not in the dropdown
    assert "ottawa_2025" not in keys
    assert "ccm_lithuania" not in keys
    for path in bundled_scenarios().values():
        assert path.is_file()


@pytest.mark.parametrize("key", list(bundled_scenarios()))
def test_every_dropdown_scenario_builds_steps_and_draws(key):
    from treatysim.demo.figures import cascade_figure, decision_figure, map_figure

    model = DemoModel(scenario_name=key)
    assert model.steps == 0
    assert model.settings == scenario_defaults(key)
    assert model.overrides == []
    for _ in range(3):
        model.step()
    assert [p.step for p in model.history] == [0, 1, 2, 3]
    assert model.date == model.world.calendar.dates[3]
    for draw in (map_figure, cascade_figure, decision_figure):
        figure = draw(model)
        assert figure.axes, draw.__name__
        assert figure.legends or figure.axes[0].get_legend() is not None, draw.__name__


def test_the_ceasefire_slider_sets_the_scenario_ceasefire_event():
    default = DemoModel()
    assert default.has_ceasefire
    assert default.settings.ceasefire == dt.date(2025, 10, 1)
    moved = DemoModel(ceasefire="2025-04-01")
    events = {e.id: e for e in moved.world.scenario.events}
    assert events["ceasefire"].date == dt.date(2025, 4, 1)
    # the other events are untouched, and the override is what --set would say
    assert events["us_reassurance_drop"].date == dt.date(2025, 2, 12)
    assert moved.overrides == ["events.ceasefire.date=2025-04-01"]
    assert "--set events.ceasefire.date=2025-04-01" in moved.command
    # a date object works as well as the ISO string the page may send
    assert DemoModel(ceasefire=dt.date(2025, 4, 1)).world.scenario == moved.world.scenario


def test_an_earlier_ceasefire_frees_forces_earlier():
    early, late = DemoModel(ceasefire="2025-03-01"), DemoModel(ceasefire="2026-06-01")
    for _ in range(26):  # to 2025-07-02
        early.step()
        late.step()
    assert early.sources[0].tied_down_share < late.sources[0].tied_down_share
    assert early.sources[0].available_power > late.sources[0].available_power


def test_a_ceasefire_outside_the_calendar_is_refused():
    with pytest.raises(ValueError, match="outside the calendar"):
        DemoModel(ceasefire="2030-01-01")


def test_the_sliders_set_the_scenario_parameters():
    model = DemoModel(sensitivity=3.0, peer_weight=0.8, seed=7)
    assert model.params.threat.sensitivity == 3.0
    assert model.params.commitment.peer_erosion == 0.8
    assert np.all(model.world.sensitivity == 3.0)
    assert model.overrides == [
        "parameters.threat.sensitivity=3",
        "parameters.commitment.peer_erosion=0.8",
    ]
    # a slider's float noise is written as a person would type it
    assert "peer_erosion=0.3" in " ".join(DemoModel(peer_weight=0.1 + 0.2).overrides)


def test_stepping_moves_states_through_the_pipeline():
    model = DemoModel()
    assert set(model.stages()) == {"party"}
    assert model.history[0].announced == 0
    while model.running:
        model.step()
        last = model.history[-1]
        assert last.announced == model.count_reached("ottawa", "announced")
        assert last.withdrawn <= last.notified <= last.announced <= model.n_parties
    assert model.steps == model.n_steps == len(model.history) - 1
    assert model.history[-1].announced > 0
    # the Baltic bloc deposits together: when a member is notified, no other member is left
    # with an exit announced or approved but not deposited (members that have not announced
    # yet do not hold the bloc back, and deposit later)
    events = list(
        zip(
            model.records.event_step,
            model.records.event_state,
            model.records.event_stage,
            strict=True,
        )
    )
    baltic = {model.world.index(s) for s in ("EST", "LVA", "LTU")}
    for when, state, stage in events:
        if stage == 4 and state in baltic:  # notified
            for other in baltic - {state}:
                last = [st for step, i, st in events if i == other and step <= when]
                # 2 announced, 3 approved
                assert not last or last[-1] not in (2, 3), (when, other, last)


@pytest.mark.parametrize("ceasefire", [None, "2025-04-01"])
def test_the_page_shows_replication_0_of_the_same_run_command(ceasefire):
    model = DemoModel(ceasefire=ceasefire, seed=11)
    model.run_model()
    loaded = load_scenario(bundled_scenarios()[BALTIC])
    if ceasefire:
        loaded = apply_overrides(loaded, [f"events.ceasefire.date={ceasefire}"])
    world = build_world(loaded.model, loaded.base_dir)
    out = run_one(world, Task(0, replication_seed(11, 0), "x"), "none")
    assert out.status == "ok", out.error
    assert np.array_equal(out.final_stage, model.stage)
    assert model.command.split()[-2:] == (
        ["--set", f"events.ceasefire.date={ceasefire}"] if ceasefire else ["--seed", "11"]
    )


def test_the_same_settings_give_the_same_run_and_a_new_seed_another():
    a, b, c = DemoModel(seed=5), DemoModel(seed=5), DemoModel(seed=6)
    for model in (a, b, c):
        model.run_model()
    assert a.history == b.history
    assert a.history != c.history


def test_a_scenario_without_a_ceasefire_disables_the_slider():
    import ipyvuetify as v
    import solara
    from solara.components.slider import DateSliderWidget

    from treatysim.demo.app import Controls

    riot = DemoModel(scenario_name="teaching/granovetter_riot", ceasefire="2025-03-01")
    assert not riot.has_ceasefire
    assert riot.settings.ceasefire is None
    assert riot.overrides == []
    _, rc = solara.render(Controls(riot, riot.settings.as_kwargs(), lambda _: None))
    assert rc.find(DateSliderWidget).widget.disabled
    alerts = rc.find(v.Alert).widgets
    assert any("no ceasefire event" in str(alert.children) for alert in alerts)
    # the Baltic case has one: the slider is live
    baltic = DemoModel()
    _, rc = solara.render(Controls(baltic, baltic.settings.as_kwargs(), lambda _: None))
    assert not rc.find(DateSliderWidget).widget.disabled


def test_moving_the_slider_on_the_page_gives_the_reset_a_new_ceasefire():
    import solara
    from solara.components.slider import DateSliderWidget

    from treatysim.demo.app import Controls

    model = DemoModel()
    sent: list[dict] = []
    _, rc = solara.render(Controls(model, model.settings.as_kwargs(), sent.append))
    rc.find(DateSliderWidget).widget.value = 90  # days after the calendar start
    assert sent[-1]["ceasefire"] == dt.date(2025, 1, 1) + dt.timedelta(days=90)
    # Mesa's Reset builds DemoModel(**controls): the event moves with the slider
    rebuilt = DemoModel(**sent[-1])
    ceasefire = next(e for e in rebuilt.world.scenario.events if e.id == "ceasefire")
    assert ceasefire.date == dt.date(2025, 4, 1)


def test_choosing_another_scenario_resets_the_controls_to_its_own():
    import ipyvuetify as v
    import solara

    from treatysim.demo.app import Controls

    model = DemoModel(sensitivity=4.0)
    sent: list[dict] = []
    _, rc = solara.render(Controls(model, model.settings.as_kwargs(), sent.append))
    rc.find(v.Select).widget.v_model = "ceasefire_2026"
    assert sent[-1] == scenario_defaults("ceasefire_2026").as_kwargs()
    assert sent[-1]["ceasefire"] == dt.date(2026, 7, 1)


def test_a_scenario_file_joins_the_dropdown(tmp_path, monkeypatch):
    bundled = bundled_scenarios()[BALTIC]
    # the bundled file itself keeps its bundled key
    assert scenario_key(bundled) == BALTIC
    assert list(scenario_choices(bundled)) == list(bundled_scenarios())
    # another file is listed under its path, and builds
    copy = tmp_path / "my_case.yaml"
    shutil.copyfile(bundled, copy)
    choices = scenario_choices(copy)
    assert choices[str(copy)] == copy
    monkeypatch.setenv(SCENARIO_ENV, str(copy))  # what `treatysim demo --scenario FILE` sets
    model = DemoModel(scenario_name=str(copy), ceasefire="2025-05-01")
    assert model.has_ceasefire
    assert str(copy) in model.command or "my_case.yaml" in model.command
    with pytest.raises(FileNotFoundError):
        DemoModel(scenario_name=str(tmp_path / "missing.yaml"))


def test_a_bad_override_is_a_validation_error(tmp_path, monkeypatch):
    text = bundled_scenarios()[BALTIC].read_text().replace("calendar: {", "calendar: {", 1)
    path = tmp_path / "case.yaml"
    path.write_text(text)
    monkeypatch.setenv(SCENARIO_ENV, str(path))
    with pytest.raises(ValidationError):
        DemoModel(scenario_name=str(path), sensitivity=50.0)  # above the schema's maximum


def test_layouts():
    baltic = DemoModel().layout()
    assert baltic.geographic and baltic.edges  # capitals joined along land borders
    riot = DemoModel(scenario_name="teaching/granovetter_riot").layout()
    assert riot.complete and not riot.edges and not riot.grid
    watts = DemoModel(scenario_name="teaching/watts_cascade").layout()
    assert watts.grid and not watts.edges  # 1,000 agents: one square each
    assert len({(x, y) for x, y in zip(watts.x, watts.y, strict=True)}) == 1000


def test_small_networks_get_a_spring_layout(tmp_path, monkeypatch):
    source = bundled_scenarios()["teaching/watts_cascade"].read_text()
    path = tmp_path / "small.yaml"
    path.write_text(source.replace("size: 1000", "size: 60"))
    monkeypatch.setenv(SCENARIO_ENV, str(path))
    model = DemoModel(scenario_name=str(path))
    layout = model.layout()
    assert not layout.geographic and not layout.grid and layout.edges
    assert layout is model.layout()  # computed once per model
    ties = np.asarray(model.network.adjacency) > 0
    assert len(layout.edges) == int(np.triu(ties, 1).sum())
    assert layout_of(model.world, model.network.adjacency).edges == layout.edges


# --------------------------------------------------------------------------------------------
# serve()


def test_serve_without_solara_prints_one_line_and_exits_2(monkeypatch, capsys):
    from treatysim.cli import main

    monkeypatch.setattr(demo, "_viz_missing", lambda: "solara")
    assert main(["demo", "--no-browser"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert 'pip install "treatysim[viz]"' in err[0]


def test_serve_without_offline_assets_refuses(monkeypatch, capsys):
    monkeypatch.setattr(demo, "missing_assets", lambda: ["requirejs@2.3.6/require.js"])
    assert demo.serve(port=demo.free_port(), open_browser=False) == 2
    err = capsys.readouterr().err
    assert "requirejs@2.3.6/require.js" in err
    assert 'pip install "treatysim[viz]"' in err


def test_the_offline_assets_are_installed():
    assert demo.missing_assets() == [], "pip install solara-assets (part of the viz extra)"


def test_serve_refuses_a_busy_port_and_a_bad_scenario(tmp_path, capsys):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        assert demo.serve(port=sock.getsockname()[1], open_browser=False) == 2
    assert "not free" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nname: x\n")
    assert demo.serve(port=demo.free_port(), scenario=bad, open_browser=False) == 2
    assert "bad.yaml" in capsys.readouterr().err


def test_importing_the_demo_does_not_import_solara():
    import subprocess
    import sys

    code = "import sys, treatysim.cli, treatysim.demo.server; print('solara' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_page_module_renders():
    import ipyvuetify as v
    import solara

    from treatysim.demo.app import START, Page, Status

    assert START == BALTIC
    solara.render(Page(), handle_error=False)
    model = DemoModel()
    model.step()
    _, rc = solara.render(Status(model), handle_error=False)
    text = " ".join(str(w.children) for w in rc.find(v.Html).widgets)
    assert "Step: 1 of 105" in text
    assert "Ceasefire in this run: 2025-10-01" in text


def test_app_module_path_is_importable_by_name():
    import importlib.util

    assert importlib.util.find_spec(demo.APP_MODULE) is not None
    assert Path(importlib.util.find_spec(demo.APP_MODULE).origin).name == "app.py"


def test_the_page_cannot_open_a_file_that_is_not_listed(tmp_path, monkeypatch):
    """Issue 14 item 7: the dropdown's value is a choice, never a path to open."""
    monkeypatch.delenv(SCENARIO_ENV, raising=False)
    copy = tmp_path / "copy.yaml"
    shutil.copyfile(bundled_scenarios()[BALTIC], copy)  # a valid scenario, but not listed
    opened: list[str] = []
    monkeypatch.setattr("treatysim.demo.model.load_scenario", lambda p: opened.append(p))
    for forged in ("/etc/passwd", str(copy), "../../etc/passwd", str(tmp_path)):
        with pytest.raises(FileNotFoundError, match="not one of the demo's scenarios"):
            DemoModel(scenario_name=forged)
    assert opened == []


def test_the_served_page_has_the_product_title(tmp_path):
    """The browser tab's title, in the HTML the server sends (before any script runs)."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from treatysim.demo.app import TITLE

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "treatysim", "demo", "--port", str(port), "--no-browser"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, "treatysim demo exited"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as page:
                    html = page.read().decode("utf-8")
                break
            except OSError:
                assert time.monotonic() < deadline, "treatysim demo did not answer"
                time.sleep(0.5)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    assert f"<title>{TITLE}</title>" in html
    assert "Solara ☀️" not in html.split("</title>")[0]
