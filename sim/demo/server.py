"""Serving the demo page: ``treatysim demo`` starts Solara's server, offline, on 127.0.0.1.

:func:`serve` runs :mod:`treatysim.demo.app` (a Solara page built from Mesa's SolaraViz
controls over :class:`treatysim.demo.model.DemoModel`) in this process, offline (no CDN, no
telemetry, no version check), and blocks until Ctrl-C.

This module imports neither Solara nor ``mesa.visualization`` at import time: ``treatysim
--help`` stays fast and the model works without the ``viz`` extra.
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import sys
import threading
import time
import warnings
import webbrowser
from pathlib import Path
from typing import Any

from treatysim.demo.model import SCENARIO_ENV, load_file
from treatysim.scenario.errors import ValidationError

__all__ = ["SCENARIO_ENV", "LocalOnly", "free_port", "missing_assets", "serve"]
#: The Solara app module (an importable name, so it works from an installed package).
APP_MODULE = "treatysim.demo.app"
#: Where Solara would fetch a missing asset from: a closed local port, so it never goes online.
OFFLINE_CDN = "http://127.0.0.1:9/"
INSTALL_HINT = 'pip install "treatysim[viz]"'


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


class LocalOnly:
    """ASGI middleware: refuse requests whose Host, or websockets whose Origin, is not local.

    Solara (1.64) checks neither the Host header nor a websocket's Origin, so a page on any
    site could drive the demo through the user's browser (cross-site websocket hijacking), and
    a DNS-rebinding name could reach it. Only ``127.0.0.1:PORT`` and ``localhost:PORT`` pass;
    a websocket without an Origin header (not a browser) passes its Host check only.
    """

    def __init__(self, app: Any, port: int) -> None:
        self.app = app
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        self.origins = {f"http://{host}" for host in self.hosts}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Pass local requests on; answer others with 403 (HTTP) or close code 1008."""
        if scope.get("type") in ("http", "websocket"):
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            origin = headers.get("origin")
            local = headers.get("host") in self.hosts and (
                origin is None or origin in self.origins or scope["type"] == "http"
            )
            if not local:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                await send(
                    {
                        "type": "http.response.start",
                        "status": 403,
                        "headers": [(b"content-type", b"text/plain")],
                    }
                )
                await send(
                    {"type": "http.response.body", "body": b"forbidden: not a local request"}
                )
                return
        await self.app(scope, receive, send)


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
        path = Path(scenario)
        try:
            load_file(str(path.resolve()))
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

    # solara.server.app registers the page at import time from SOLARA_APP; importing the
    # Starlette app here (to add the middleware) comes before `solara run` sets it, so set it now
    os.environ["SOLARA_APP"] = APP_MODULE
    import solara.server.starlette as solara_app
    from solara.__main__ import run as solara_run

    solara_app.app.add_middleware(LocalOnly, port=port)

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
