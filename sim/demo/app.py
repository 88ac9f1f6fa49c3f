"""The Solara page of ``treatysim demo`` (served by :func:`treatysim.demo.server.serve`).

The page is built from Mesa's SolaraViz parts: Mesa's ``ModelController`` gives Reset, Play
(▶/❚❚) and Step, and rebuilds the model on Reset as ``DemoModel(**controls)``; the views
subscribe to Mesa's ``update_counter`` so they redraw after every step. The controls card is
the page's own, not SolaraViz's ``model_params`` inputs, because two controls depend on the
chosen scenario: the ceasefire slider spans that scenario's calendar and is disabled when the
scenario has no ceasefire event, and the threat sliders are disabled under threshold rules.
As in SolaraViz, a changed control takes effect on Reset.

Run it with ``treatysim demo``, or ``solara run treatysim.demo.app`` (set
``TREATYSIM_DEMO_SCENARIO`` to add a scenario file to the dropdown).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Any

import solara
import solara.server.settings
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter

from treatysim.demo.figures import cascade_figure, decision_figure, map_figure
from treatysim.demo.model import (
    DEFAULT_SCENARIO,
    DemoModel,
    load_choice,
    scenario_choices,
    scenario_defaults,
)
from treatysim.demo.server import SCENARIO_ENV
from treatysim.scenario.bundled import scenario_key

_EXTRA = os.environ.get(SCENARIO_ENV) or None
#: Dropdown key → scenario file.
CHOICES = scenario_choices(_EXTRA)
#: The scenario the page opens with: the ``--scenario`` file, else the Baltic case.
START = scenario_key(_EXTRA) if _EXTRA else DEFAULT_SCENARIO

#: The page's title: the browser tab's, and the app bar's before the scenario's name.
TITLE = "treatysim demo"
# Solara's page template writes this setting into <title> before any component mounts (the
# `solara.Title` in the page sets it again once the page runs); its default is "Solara ☀️".
solara.server.settings.theme.title = TITLE

SENSITIVITY_RANGE = (0.0, 6.0, 0.1)
PEER_WEIGHT_RANGE = (0.0, 2.0, 0.05)
CAPTIONS = {
    "map": "Each state (or agent) coloured by its stage in the treaty; the legend is below.",
    "cascade": "How many states have announced, notified and withdrawn so far. Dashed green: "
    "the ceasefire; dotted: the scenario's other events; thin black: today.",
    "decision": "What each decision compares right now.",
}


@solara.component
def Page() -> None:  # noqa: N802 - Solara components are named like classes
    """The whole page: app bar, sidebar (run controls, scenario controls, status), views."""
    initial = solara.use_memo(lambda: DemoModel(scenario_name=START), [])
    model: solara.Reactive[DemoModel] = solara.use_reactive(initial)
    controls = solara.use_reactive(initial.settings.as_kwargs())
    play_interval = solara.use_reactive(150)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)
    current: DemoModel = model.value

    solara.Title(TITLE)
    with solara.AppBar():
        solara.AppBarTitle(f"{TITLE}: {current.world.scenario.name}")
    with solara.Sidebar(), solara.Column():
        with solara.Card("Run"):
            ModelController(
                model,
                model_parameters=controls,
                play_interval=play_interval,
                render_interval=render_interval,
                use_threads=use_threads,
            )
            solara.SliderInt(
                f"Play interval ({play_interval.value} ms)",
                value=play_interval,
                min=50,
                max=1000,
                step=50,
            )
            solara.SliderInt(
                f"Steps per click or frame ({render_interval.value})",
                value=render_interval,
                min=1,
                max=20,
            )
        with solara.Card("Scenario"):
            Controls(current, controls.value, controls.set)
        with solara.Card("Status"):
            Status(current)
    with solara.Columns([1, 1]):
        View("map", current, map_figure)
        View("cascade", current, cascade_figure)
    with solara.Columns([1, 1]):
        View("decision", current, decision_figure)
        About(current)


@solara.component
def Controls(  # noqa: N802 - Solara components are named like classes
    model: DemoModel, values: dict[str, Any], set_values: Callable[[dict[str, Any]], None]
) -> None:
    """The scenario's controls; a change is applied by Mesa's Reset button."""
    name = values["scenario_name"]
    chosen = scenario_defaults(name)
    loaded_calendar = _calendar(name)

    def change(**changes: Any) -> None:
        set_values({**values, **changes})

    def choose(new: str | None) -> None:
        if new is not None and new != name:
            # a new scenario starts from its own settings
            set_values(scenario_defaults(new).as_kwargs())

    solara.Select("Scenario", values=list(CHOICES), value=name, on_value=choose)
    start, end = loaded_calendar
    if chosen.ceasefire is not None:
        date = values.get("ceasefire") or chosen.ceasefire
        solara.SliderDate(
            "Ceasefire",
            value=date,
            min=start,
            max=end,
            on_value=lambda d: change(ceasefire=d),
        )
        solara.Text(f"Ceasefire: {date.isoformat()}", classes=["demo-ceasefire"])
    else:
        solara.SliderDate("Ceasefire", value=start, min=start, max=end, disabled=True)
        solara.Info(
            "This scenario has no ceasefire event, so the ceasefire slider is disabled.",
            dense=True,
            classes=["demo-no-ceasefire"],
        )
    threat_rule = _rule(name) == "threat_commitment"
    low, high, step = SENSITIVITY_RANGE
    solara.SliderFloat(
        f"Threat sensitivity ({values['sensitivity']:.1f})",
        value=values["sensitivity"],
        min=low,
        max=high,
        step=step,
        on_value=lambda v: change(sensitivity=v),
        disabled=not threat_rule,
    )
    low, high, step = PEER_WEIGHT_RANGE
    solara.SliderFloat(
        f"Peer weight ({values['peer_weight']:.2f})",
        value=values["peer_weight"],
        min=low,
        max=high,
        step=step,
        on_value=lambda v: change(peer_weight=v),
        disabled=not threat_rule,
    )
    if not threat_rule:
        solara.Text(
            "Threshold model: agents act on how many others acted, so threat sensitivity "
            "and peer weight have no effect here.",
            style={"font-size": "0.85em"},
        )
    with solara.Row():
        solara.InputInt("Seed", value=values["seed"], on_value=lambda v: change(seed=v))
        solara.Button("Next seed", on_click=lambda: change(seed=values["seed"] + 1), text=True)
    if values != model.settings.as_kwargs():
        solara.Warning("Press Reset to apply the changed settings.", dense=True)


def _calendar(name: str) -> tuple[dt.date, dt.date]:
    cal = load_choice(name).model.calendar
    return cal.start, cal.end


def _rule(name: str) -> str:
    return str(load_choice(name).model.parameters.rule)


@solara.component
def Status(  # noqa: N802 - Solara components are named like classes
    model: DemoModel,
) -> None:
    """Date, step and the cascade's counts, as plain text (the browser test reads it)."""
    update_counter.get()
    last = model.history[-1]
    with solara.Column(gap="2px", classes=["demo-status"]):
        solara.Text(f"Date: {model.date.isoformat()}")
        solara.Text(f"Step: {model.steps} of {model.n_steps}")
        solara.Text(f"Announced: {last.announced}")
        solara.Text(f"Notified: {last.notified}")
        solara.Text(f"Withdrawn: {last.withdrawn}")
        solara.Text(f"Parties at the start: {model.n_parties}")
        if model.has_ceasefire and model.settings.ceasefire is not None:
            solara.Text(f"Ceasefire in this run: {model.settings.ceasefire.isoformat()}")


@solara.component
def View(  # noqa: N802 - Solara components are named like classes
    kind: str, model: DemoModel, draw: Callable[[DemoModel], Any]
) -> None:
    """One matplotlib view, redrawn after each step (Mesa's update counter)."""
    update_counter.get()
    figure = solara.use_memo(lambda: draw(model), [model, model.steps])
    with solara.Card(margin=1, classes=[f"demo-{kind}"]):
        solara.FigureMatplotlib(figure, dependencies=[model, model.steps], format="png")
        solara.Text(CAPTIONS[kind], style={"font-size": "0.9em"})


@solara.component
def About(  # noqa: N802 - Solara components are named like classes
    model: DemoModel,
) -> None:
    """What the scenario is, how to read the views, and the command that reproduces the run.

    Plain text and HTML only: Solara's Markdown would load a maths renderer from a CDN.
    """
    scenario = model.world.scenario
    with solara.Card(f"About {scenario.name}", margin=1):
        solara.Text(scenario.description or "(no description)")
        with solara.v.Html(tag="p", style_="margin-top: 1em"):
            solara.v.Html(tag="b", children=["Reading the decision view. "])
            solara.Text(
                "Treaty scenarios: a state wants out when its red bar (threat × sensitivity) "
                "passes its blue bar (commitment). Granovetter: if x people act, F(x) have a "
                "threshold at or below x and act next round; the run stops where the curve "
                "meets the diagonal. Watts: agents with few neighbours are vulnerable, since "
                "one active neighbour tips them."
            )
        solara.v.Html(
            tag="b",
            children=["The same run on the command line (this page shows its replication 0):"],
        )
        solara.v.Html(
            tag="pre",
            children=[model.command],
            class_="demo-command",
            style_="white-space: pre-wrap; background: #f4f4f4; padding: 0.5em; margin-top: 0.5em",
        )
