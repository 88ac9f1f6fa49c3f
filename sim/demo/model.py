"""The model behind the demo page: a scenario with the page's controls applied.

* :class:`DemoModel` is a :class:`~treatysim.model.treaty_model.TreatyModel` whose constructor
  takes the page's controls as keyword arguments (scenario, ceasefire date, threat sensitivity,
  peer weight, seed), as Mesa's SolaraViz expects of a model class: its Reset button calls
  ``DemoModel(**controls)``. The controls become ``--set`` overrides of the scenario
  (:func:`treatysim.scenario.load.revalidate`), so the page runs exactly what
  ``treatysim run SCENARIO --seed S --set ...`` runs: replication 0 of that command
  (:attr:`DemoModel.command` spells it out).
* :func:`scenario_choices` lists the scenarios in the page's dropdown: the bundled teaching
  scenarios, the bundled scenarios with a ceasefire event
  (:func:`treatysim.scenario.bundled.bundled_scenarios`), and the file given with ``--scenario``.
* What each state weighs in its decision (pressure, threshold) is read from the state agents
  (:class:`treatysim.agents.state.StateAgent`).

Plain Python that tests can drive without a browser; it imports neither Solara nor
``mesa.visualization``.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from treatysim.demo.layout import Layout, layout_of
from treatysim.model.treaty_model import TreatyModel
from treatysim.model.world import build_world
from treatysim.run.runner import replication_seed
from treatysim.scenario.bundled import (
    CEASEFIRE_ID,
    bundled_scenarios,
    ceasefire_date,
    scenario_key,
)
from treatysim.scenario.load import load_scenario, revalidate

if TYPE_CHECKING:
    from treatysim.model.world import World
    from treatysim.scenario.yamlio import Loaded

#: Environment variable that carries ``--scenario`` from the server to the page module.
SCENARIO_ENV = "TREATYSIM_DEMO_SCENARIO"
#: Scenario the page opens with when no ``--scenario`` is given.
DEFAULT_SCENARIO = "teaching/baltic_simple"
#: Stages the cascade curve counts (a state counts once it has reached the stage or gone past).
CURVE_STAGES = ("announced", "notified", "withdrawn")


# --------------------------------------------------------------------------------------------
# scenarios in the dropdown


@functools.lru_cache(maxsize=64)
def load_file(path: str) -> Loaded[Any]:
    """A validated scenario file (cached by path; the page reloads files only on restart)."""
    return load_scenario(path)


def scenario_choices(extra: Path | str | None = None) -> dict[str, Path]:
    """The dropdown's entries: the bundled scenarios, plus ``extra`` (the ``--scenario`` file).

    A file that is one of the bundled scenarios keeps its bundled key; any other file is listed
    under its path as given.
    """
    choices = dict(bundled_scenarios())
    if extra is not None:
        key = scenario_key(extra)
        if key not in choices:
            choices[key] = Path(extra)
    return choices


def allowed_choices() -> dict[str, Path]:
    """The dropdown's entries in this process: bundled, plus the ``--scenario`` file if any."""
    return scenario_choices(os.environ.get(SCENARIO_ENV) or None)


def choice_path(name: str) -> Path:
    """The file behind a dropdown key; only the listed choices are accepted.

    The page sends the key as a string a client can forge, so a path that is not one of the
    choices (``/etc/passwd``, any YAML file) is refused, never opened.

    Raises:
        FileNotFoundError: The name is not one of :func:`allowed_choices`.
    """
    choices = allowed_choices()
    key = name if isinstance(name, str) and name in choices else None
    if key is None and isinstance(name, str):
        key = scenario_key(name)  # a listed file named by its path
    if key not in choices:
        raise FileNotFoundError(f"{name!r}: not one of the demo's scenarios ({', '.join(choices)})")
    return choices[key]


def load_choice(name: str) -> Loaded[Any]:
    """The validated scenario behind a dropdown key (as in its file, without overrides).

    Raises:
        FileNotFoundError: The name is not one of the listed choices.
    """
    return load_file(str(choice_path(name)))


# --------------------------------------------------------------------------------------------
# the model behind the page


@dataclass(frozen=True)
class DemoSettings:
    """The page's controls, with the scenario's own values filled in where left unset.

    Attributes:
        scenario_name: Dropdown key (bundled scenario) or scenario file path.
        ceasefire: Date of the ``ceasefire`` event, or None when the scenario has none.
        sensitivity: ``parameters.threat.sensitivity`` (pressure per threat unit).
        peer_weight: ``parameters.commitment.peer_erosion`` (commitment lost per unit share of
            peers that have moved).
        seed: Root seed; the page shows replication 0 of ``treatysim run --seed SEED``.
    """

    scenario_name: str
    ceasefire: dt.date | None
    sensitivity: float
    peer_weight: float
    seed: int

    def overrides(self, defaults: DemoSettings) -> list[str]:
        """The ``--set`` assignments that turn the scenario file into these settings."""
        out = []
        if self.ceasefire is not None and self.ceasefire != defaults.ceasefire:
            out.append(f"events.{CEASEFIRE_ID}.date={self.ceasefire.isoformat()}")
        if self.sensitivity != defaults.sensitivity:
            out.append(f"parameters.threat.sensitivity={_number(self.sensitivity)}")
        if self.peer_weight != defaults.peer_weight:
            out.append(f"parameters.commitment.peer_erosion={_number(self.peer_weight)}")
        return out

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :class:`DemoModel` (what the page's Reset passes)."""
        return {
            "scenario_name": self.scenario_name,
            "ceasefire": self.ceasefire,
            "sensitivity": self.sensitivity,
            "peer_weight": self.peer_weight,
            "seed": self.seed,
        }


def _number(value: float) -> str:
    """A slider value as the short decimal a person would type (0.30000000000000004 → 0.3)."""
    return f"{value:.6g}"


def _as_date(value: dt.date | str | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def scenario_defaults(scenario_name: str) -> DemoSettings:
    """The settings a scenario file has by itself (its ceasefire date, parameters and seed)."""
    loaded = load_choice(scenario_name)
    params = loaded.model.parameters
    return DemoSettings(
        scenario_name=scenario_name,
        ceasefire=ceasefire_date(loaded.model),
        sensitivity=float(params.threat.sensitivity),
        peer_weight=float(params.commitment.peer_erosion),
        seed=int(loaded.model.run.seed),
    )


def settings_for(
    scenario_name: str,
    ceasefire: dt.date | str | None = None,
    sensitivity: float | None = None,
    peer_weight: float | None = None,
    seed: int | None = None,
) -> DemoSettings:
    """Fill unset controls from the scenario and check the rest.

    A ceasefire date is ignored for a scenario without a ceasefire event (the page disables its
    slider there).

    Raises:
        ValueError: A ceasefire date outside the scenario's calendar.
    """
    defaults = scenario_defaults(scenario_name)
    date = _as_date(ceasefire)
    if defaults.ceasefire is None:
        date = None
    elif date is None:
        date = defaults.ceasefire
    else:
        cal = load_choice(scenario_name).model.calendar
        if not cal.start <= date <= cal.end:
            raise ValueError(
                f"ceasefire date {date} is outside the calendar ({cal.start} to {cal.end})"
            )
    return DemoSettings(
        scenario_name=scenario_name,
        ceasefire=date,
        sensitivity=defaults.sensitivity if sensitivity is None else float(sensitivity),
        peer_weight=defaults.peer_weight if peer_weight is None else float(peer_weight),
        seed=defaults.seed if seed is None else int(seed),
    )


@functools.lru_cache(maxsize=16)
def _resolved(path: str, overrides: tuple[str, ...]) -> tuple[Loaded[Any], World]:
    """The scenario with the page's overrides applied, and its world (shared, immutable)."""
    loaded = revalidate(load_file(path), overrides)
    return loaded, build_world(loaded.model, loaded.base_dir)


@dataclass(frozen=True)
class CascadePoint:
    """The cascade at the end of one step.

    Attributes:
        step: Step number (0 is the start of the calendar).
        date: Calendar date at the end of the step.
        announced: States that have announced an exit (or gone further) in the primary treaty.
        notified: States that have deposited their notification (or gone further).
        withdrawn: States whose withdrawal has taken effect.
    """

    step: int
    date: dt.date
    announced: int
    notified: int
    withdrawn: int


class DemoModel(TreatyModel):
    """The model the demo page runs: a scenario with the page's controls applied.

    Mesa's SolaraViz controller rebuilds the model with ``DemoModel(**controls)`` on Reset, so
    every control is a keyword argument with a default. Unset controls take the scenario's own
    values. The run is replication 0 of ``treatysim run SCENARIO --seed SEED --set ...`` with
    the same overrides: the same seed gives the same run, on the page and on the command line.

    Args:
        scenario_name: Bundled scenario key (see
            :func:`~treatysim.scenario.bundled.bundled_scenarios`) or file path.
        ceasefire: Date of the scenario's ``ceasefire`` event (ISO string or date); ignored
            when the scenario has no such event.
        sensitivity: ``parameters.threat.sensitivity`` (pressure per threat unit).
        peer_weight: ``parameters.commitment.peer_erosion`` (commitment lost per unit share of
            the reference network that has announced or left).
        seed: Root seed (default: the scenario's ``run.seed``).

    Raises:
        FileNotFoundError: Unknown scenario.
        ValueError: A ceasefire date outside the calendar.
        treatysim.scenario.errors.ValidationError: The scenario rejects a value.
    """

    # the name `scenario` is Mesa's (a mesa.experimental Scenario): this class never takes it
    def __init__(
        self,
        scenario_name: str = DEFAULT_SCENARIO,
        ceasefire: dt.date | str | None = None,
        sensitivity: float | None = None,
        peer_weight: float | None = None,
        seed: int | None = None,
    ) -> None:
        path = choice_path(scenario_name)
        self.defaults = scenario_defaults(scenario_name)
        self.settings = settings_for(scenario_name, ceasefire, sensitivity, peer_weight, seed)
        self.overrides = self.settings.overrides(self.defaults)
        self.scenario_path = path
        self.loaded, world = _resolved(str(path), tuple(self.overrides))
        # a Generator, as the runner passes (Mesa draws from it, but not from an int seed)
        rng = np.random.default_rng(replication_seed(self.settings.seed, 0))
        super().__init__(world, rng=rng, timeseries="counts")
        self.treaty = world.scenario.primary_treaty
        self._layout: Layout | None = None
        self.history: list[CascadePoint] = [self._point()]

    def step(self) -> None:
        """One calendar period of the treaty model, then a point on the cascade curve."""
        super().step()
        self.history.append(self._point())

    def _point(self) -> CascadePoint:
        counts = {stage: self.count_reached(self.treaty, stage) for stage in CURVE_STAGES}
        return CascadePoint(self.steps, self.date, **counts)

    # ----------------------------------------------------------------------------------------
    # what the page shows

    @property
    def date(self) -> dt.date:
        """Calendar date reached (the start date before the first step)."""
        return self.world.calendar.dates[self.steps]

    @property
    def n_steps(self) -> int:
        """Steps in the scenario's calendar."""
        return self.world.calendar.n_steps

    @property
    def has_ceasefire(self) -> bool:
        """Whether the scenario has an event with id ``ceasefire`` (the slider's target)."""
        return self.settings.ceasefire is not None

    @property
    def synthetic(self) -> bool:
        """Whether the agents are a synthetic population (a network, not a map)."""
        return self.world.population is not None

    @property
    def uses_threat(self) -> bool:
        """Whether the decision rule weighs threat against commitment (the sliders matter)."""
        return bool(self.params.rule == "threat_commitment")

    @property
    def n_parties(self) -> int:
        """States party to the primary treaty at the start."""
        return int(self.world.party[:, self.world.treaties.index(self.treaty)].sum())

    @property
    def command(self) -> str:
        """The command line that runs this model as its replication 0."""
        parts = ["treatysim", "run", _display_path(self.scenario_path)]
        parts += ["--seed", str(self.settings.seed)]
        for assignment in self.overrides:
            parts += ["--set", assignment]
        return shlex.join(parts)

    def stages(self) -> list[str]:
        """Each state's stage in the primary treaty (``not_party`` for non-parties)."""
        j = self.world.treaties.index(self.treaty)
        return [self.stage_name(i, j) for i in range(self.world.n_states)]

    def pressure_and_threshold(self) -> tuple[np.ndarray, np.ndarray]:
        """What each state weighs in its decision on the primary treaty, now, read from the agents.

        Each :class:`~treatysim.agents.state.StateAgent` shows the pressure and threshold its
        decision rule compares: threat × sensitivity against commitment under the
        threat/commitment rule, the share (or count) of neighbours that have acted against the
        agent's own threshold under threshold rules. A party wants out when its pressure passes
        its threshold (:attr:`StateAgent.wants_exit`).

        Returns:
            ``(pressure, threshold)``, one value per state in the model's order.
        """
        pressure = [agent.pressure[self.treaty] for agent in self.states]
        threshold = [agent.threshold[self.treaty] for agent in self.states]
        return np.asarray(pressure, dtype=float), np.asarray(threshold, dtype=float)

    def layout(self) -> Layout:
        """Where each state is drawn, and which edges join them (see :func:`layout_of`)."""
        if self._layout is None:
            self._layout = layout_of(self.world, self.network.adjacency)
        return self._layout


def _display_path(path: Path) -> str:
    """A scenario path as a user can type it: relative to the working directory if inside it."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(resolved)
