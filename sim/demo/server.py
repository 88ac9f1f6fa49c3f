"""The teaching demo: a Mesa model wrapper for the browser page, and the server that shows it.

``treatysim demo`` serves :mod:`treatysim.demo.app` (a Solara page built from Mesa's SolaraViz
controls) on 127.0.0.1. Everything the page computes lives here, in plain Python that tests
can drive without a browser:

* :class:`DemoModel` is a :class:`~treatysim.model.treaty_model.TreatyModel` whose constructor takes the page's
  controls as keyword arguments (scenario, ceasefire date, threat sensitivity, peer weight,
  seed), as Mesa's SolaraViz expects of a model class: its Reset button calls
  ``DemoModel(**controls)``. The controls become ``--set`` overrides of the scenario
  (:func:`treatysim.run.runner.apply_overrides`), so the page runs exactly what
  ``treatysim run SCENARIO --seed S --set ...`` runs: replication 0 of that command
  (:attr:`DemoModel.command` spells it out).
* :func:`scenario_choices` lists the scenarios in the page's dropdown: the bundled teaching
  scenarios, the bundled scenarios with a ceasefire event, and the file given with
  ``--scenario``. Bundled scenarios are found through ``importlib.resources``, so the list is
  the same from a source checkout and from an installed wheel.
* :func:`serve` starts Solara's server in this process, offline (no CDN, no telemetry, no
  version check), and blocks until Ctrl-C.

This module imports neither Solara nor ``mesa.visualization``: ``treatysim --help`` stays fast
and the model wrapper works without the ``viz`` extra.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import importlib.util
import os
import re
import shlex
import socket
import sys
import threading
import time
import warnings
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from treatysim.model.treaty_model import TreatyModel

if TYPE_CHECKING:
    from treatysim.model.world import World
    from treatysim.scenario.load import Loaded

__all__ = [
    "CascadePoint",
    "DemoModel",
    "DemoSettings",
    "Layout",
    "bundled_scenarios",
    "ceasefire_date",
    "layout_of",
    "load_choice",
    "missing_assets",
    "resolve_scenario",
    "scenario_choices",
    "scenario_defaults",
    "scenario_key",
    "serve",
    "settings_for",
]

#: Event id whose date the ceasefire slider moves (``--set events.ceasefire.date=...``).
CEASEFIRE_ID = "ceasefire"
#: Scenario the page opens with when no ``--scenario`` is given.
DEFAULT_SCENARIO = "teaching/baltic_simple"
#: Environment variable that carries ``--scenario`` from :func:`serve` to the page module.
SCENARIO_ENV = "TREATYSIM_DEMO_SCENARIO"
#: The Solara app module (an importable name, so it works from an installed package).
APP_MODULE = "treatysim.demo.app"
#: Stages the cascade curve counts (a state counts once it has reached the stage or gone past).
CURVE_STAGES = ("announced", "notified", "withdrawn")
#: Where Solara would fetch a missing asset from: a closed local port, so it never goes online.
OFFLINE_CDN = "http://127.0.0.1:9/"
INSTALL_HINT = 'pip install "treatysim[viz]"'
#: Largest population drawn as a network; larger ones are drawn as a grid of squares.
SPRING_LAYOUT_MAX = 200


# --------------------------------------------------------------------------------------------
# scenarios in the dropdown


def _scenario_root() -> Path:
    """The folder of the bundled scenarios (package ``treatysim.scenarios``), installed or not."""
    return Path(str(importlib.resources.files("treatysim.scenarios")))


@functools.lru_cache(maxsize=64)
def _load(path: str) -> Loaded[Any]:
    """A validated scenario file (cached by path; the page reloads files only on restart)."""
    from treatysim.scenario.load import load_scenario

    return load_scenario(path)


def ceasefire_date(loaded: Loaded[Any]) -> dt.date | None:
    """The date of the scenario's event with id ``ceasefire``, or None when it has none."""
    for event in loaded.model.events:
        if event.id == CEASEFIRE_ID:
            date: dt.date = event.date
            return date
    return None


@functools.lru_cache(maxsize=1)
def bundled_scenarios() -> dict[str, Path]:
    """The bundled scenarios a class can open: teaching scenarios, then those with a ceasefire.

    Returns:
        Dropdown key (path under the scenario folder, without ``.yaml``) → file.
    """
    root = _scenario_root()
    out = {f"teaching/{p.stem}": p for p in sorted((root / "teaching").glob("*.yaml"))}
    for path in sorted(root.glob("*.yaml")):
        if ceasefire_date(_load(str(path))) is not None:
            out[path.stem] = path
    return out


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


def scenario_key(path: Path | str) -> str:
    """The dropdown key of a scenario file: its bundled key, or the path itself."""
    resolved = Path(path).resolve()
    for key, bundled in bundled_scenarios().items():
        if bundled.resolve() == resolved:
            return key
    return str(path)


def resolve_scenario(name: str) -> Path:
    """The file behind a dropdown key: a bundled key, or the path of a scenario file.

    Raises:
        FileNotFoundError: Neither a bundled scenario nor an existing file.
    """
    bundled = bundled_scenarios()
    if name in bundled:
        return bundled[name]
    path = Path(name)
    if path.is_file():
        return path
    known = ", ".join(bundled)
    raise FileNotFoundError(f"{name}: not a bundled scenario ({known}) nor a scenario file")


def load_choice(name: str) -> Loaded[Any]:
    """The validated scenario behind a dropdown key (as in its file, without overrides)."""
    return _load(str(resolve_scenario(name)))


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
        ceasefire=ceasefire_date(loaded),
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
    from treatysim.model.world import build_world
    from treatysim.run.runner import apply_overrides

    loaded = apply_overrides(_load(path), list(overrides))
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
        scenario_name: Bundled scenario key (see :func:`bundled_scenarios`) or file path.
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
        from treatysim.run.runner import replication_seed

        path = resolve_scenario(scenario_name)
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
        """What the decision rule compares for each state in the primary treaty, now.

        Under the threat/commitment rule the pressure is threat × sensitivity and the threshold
        is the commitment (plus the state's idiosyncratic shift); under threshold rules the
        pressure is the (share or count of) neighbours that have acted and the threshold is the
        agent's own. A party wants out when its pressure passes its threshold.
        """
        j = self.world.treaties.index(self.treaty)
        inputs = self.decision_inputs()
        shape = (self.world.n_states, len(self.world.treaties))
        pressure = np.broadcast_to(self.rule.pressure(inputs), shape)[:, j]
        threshold = np.broadcast_to(self.rule.threshold(inputs), shape)[:, j]
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


# --------------------------------------------------------------------------------------------
# positions


@dataclass(frozen=True)
class Layout:
    """Drawing positions of the states.

    Attributes:
        x: Horizontal positions (longitude for real states).
        y: Vertical positions (latitude for real states).
        edges: Pairs ``(i, j)``, ``i < j``, drawn as lines (land borders, or network ties).
        geographic: Whether x and y are longitude and latitude.
        note: What the picture leaves out, for the caption (e.g. a complete graph's edges).
        complete: Whether the network is a complete graph (everyone sees everyone).
        grid: Whether the agents sit on a grid (row ``-y``, column ``x``), one square each.
    """

    x: np.ndarray
    y: np.ndarray
    edges: tuple[tuple[int, int], ...]
    geographic: bool
    note: str = ""
    complete: bool = False
    grid: bool = False


def layout_of(world: World, adjacency: Any) -> Layout:
    """Positions for a world: capitals and land borders, or a network layout.

    Real states sit at their capitals, joined along shared land borders. A synthetic population
    of at most :data:`SPRING_LAYOUT_MAX` agents is laid out with networkx's spring layout (fixed
    seed), or on the circle its dataset provides when it is a complete graph (whose ties are not
    drawn); a larger one is drawn as a grid of squares, one per agent, without its ties.
    """
    if world.population is None:
        i, j = np.nonzero(np.triu(world.border))
        edges = tuple(zip(i.tolist(), j.tolist(), strict=True))
        return Layout(world.lon.copy(), world.lat.copy(), edges, geographic=True)
    dense = np.asarray(adjacency.todense() if hasattr(adjacency, "todense") else adjacency)
    return _network_layout(dense > 0, world.lon, world.lat)


def _network_layout(ties: np.ndarray, circle_x: np.ndarray, circle_y: np.ndarray) -> Layout:
    import networkx as nx

    n = ties.shape[0]
    i, j = np.nonzero(np.triu(ties, 1))
    n_edges = len(i)
    complete = n > 1 and n_edges == n * (n - 1) // 2
    pairs = tuple(zip(i.tolist(), j.tolist(), strict=True))
    if n > SPRING_LAYOUT_MAX:
        # too many agents for a readable network: one square per agent, row by row
        side = int(np.ceil(np.sqrt(n)))
        rows, cols = np.divmod(np.arange(n), side)
        what = "a complete graph" if complete else f"{n_edges} ties"
        note = f"{n} agents, one square each, row by row ({what}, not drawn)"
        x, y = cols.astype(float), -rows.astype(float)
        return Layout(x, y, (), geographic=False, note=note, complete=complete, grid=True)
    if complete or not n_edges:
        note = "complete graph: everyone sees everyone (ties not drawn)" if complete else ""
        x, y = circle_x.copy(), circle_y.copy()
        return Layout(x, y, (), geographic=False, note=note, complete=complete)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(pairs)
    pos = nx.spring_layout(graph, seed=0)
    x = np.array([pos[k][0] for k in range(n)])
    y = np.array([pos[k][1] for k in range(n)])
    return Layout(x, y, pairs, geographic=False, note="lines: network ties")


# --------------------------------------------------------------------------------------------
# the server


def _viz_missing() -> str | None:
    """The first missing module the page needs, or None when all are importable."""
    for module in ("solara", "solara.server", "altair"):
        try:
            if importlib.util.find_spec(module) is None:
                return module
        except ModuleNotFoundError:
            return module
    return None


def _asset_cache() -> Path:
    """Solara's asset cache (where the solara-assets package puts its files)."""
    configured = os.environ.get("SOLARA_ASSETS_PROXY_CACHE_DIR")
    return Path(configured) if configured else Path(sys.prefix) / "share" / "solara" / "cdn"


def missing_assets() -> list[str]:
    """Front-end files the page loads that are not in Solara's local asset cache.

    The page template names them (``{{cdn}}/package@version/file``); Solara would fetch a
    missing one from a CDN on the internet, which the demo never does.
    """
    spec = importlib.util.find_spec("solara.server")
    if spec is None or spec.origin is None:
        return []
    template = Path(spec.origin).parent / "templates" / "solara.html.j2"
    try:
        text = template.read_text(encoding="utf-8")
        import ipyvue
        import ipywidgets
    except (OSError, ImportError):
        return []
    vue3 = ipyvue.__version__.startswith("3")
    major = ipywidgets.__version__.split(".")[0]
    needed = []
    for path in re.findall(r'\{\{cdn\}\}/([^"\s]+)', text):
        if ("vuetify3" in path) != vue3 or "{%" in path:
            continue
        path = path.replace("{{ipywidget_major_version}}", major)
        if path.endswith(".js") and not path.endswith(".min.js") and "require" not in path:
            continue  # the unminified app is loaded only in development mode
        needed.append(path)
    cache = _asset_cache()
    return [p for p in needed if "{{" not in p and not (cache / p).is_file()]


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _open_when_ready(url: str, port: int, timeout: float = 60.0) -> None:
    """Open a browser tab once the server answers (runs in a daemon thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                webbrowser.open(url)
                return
        except OSError:
            time.sleep(0.2)


def serve(port: int = 8765, scenario: Path | str | None = None, open_browser: bool = True) -> int:
    """Serve the demo page on http://127.0.0.1:PORT until interrupted.

    Solara's server runs in this process (``solara run treatysim.demo.app``, by module name, so it
    works from an installed package). It is configured to stay offline: front-end files come
    from the local asset cache that the ``solara-assets`` package fills, a missing one is looked
    up on a closed local port instead of a CDN, and telemetry and the version check are off.

    Args:
        port: TCP port on 127.0.0.1.
        scenario: A scenario file to add to the dropdown and open first.
        open_browser: Open the page in the default browser once the server answers.

    Returns:
        0 after Ctrl-C, 1 when the server fails, 2 on bad input (a missing ``viz`` extra, an
        unknown scenario, a port in use).
    """
    missing = _viz_missing()
    if missing is not None:
        print(
            f"treatysim demo needs Solara ({missing} is missing): {INSTALL_HINT}", file=sys.stderr
        )
        return 2
    absent = missing_assets()
    if absent:
        hint = INSTALL_HINT + " (it brings solara-assets"
        if any("vuetify3" in path for path in absent):
            hint += ', whose files are for ipyvue < 3: pip install "ipyvue<3" "ipyvuetify<3"'
        print(
            f"treatysim demo needs Solara's offline assets ({absent[0]} is missing from "
            f"{_asset_cache()}): {hint})",
            file=sys.stderr,
        )
        return 2
    if scenario is not None:
        from treatysim.scenario.errors import ValidationError

        path = Path(scenario)
        try:
            _load(str(path.resolve()))
        except ValidationError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"{scenario}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        os.environ[SCENARIO_ENV] = str(path.resolve())
    if not 0 < port < 65536:
        print(f"--port {port}: choose a port from 1 to 65535", file=sys.stderr)
        return 2
    if not _port_free(port):
        print(f"port {port} is not free on 127.0.0.1: choose another with --port", file=sys.stderr)
        return 2

    # offline before Solara reads its settings (and again after, in case it already has)
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    os.environ["SOLARA_ASSETS_PROXY"] = "True"
    os.environ["SOLARA_ASSETS_CDN"] = OFFLINE_CDN
    os.environ.setdefault("MPLBACKEND", "Agg")
    import solara.server.settings as server_settings
    import solara.settings

    solara.settings.assets.proxy = True
    solara.settings.assets.cdn = OFFLINE_CDN
    server_settings.telemetry.mixpanel_enable = False
    import click
    from solara.__main__ import run as solara_run

    url = f"http://127.0.0.1:{port}"
    print(f"treatysim demo: serving {url} (Ctrl-C to stop)", flush=True)
    if open_browser:
        threading.Thread(target=_open_when_ready, args=(url, port), daemon=True).start()
    args = [
        APP_MODULE,
        "--host=127.0.0.1",
        f"--port={port}",
        "--production",
        "--no-open",
        "--no-check-version",
        "--log-level=warning",
        "--log-level-uvicorn=warning",
    ]
    # uvicorn warns of the session cookie's SameSite on plain http, which is what 127.0.0.1 is
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    try:
        solara_run.main(args=args, prog_name="treatysim demo", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):  # click turns Ctrl-C into Abort
        pass
    except SystemExit as exc:
        return 0 if exc.code in (None, 0) else 1
    except Exception as exc:
        print(f"treatysim demo: the server failed: {exc}", file=sys.stderr)
        return 1
    print("treatysim demo: stopped", file=sys.stderr)
    return 0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (for tests and scripts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
