"""Acceptance test of ``treatysim demo`` in a real browser (Playwright driving Debian's Chromium).

The server runs as a user would start it (``python -m treatysim demo --port P --no-browser
--scenario baltic_simple.yaml``); the test moves the ceasefire slider, presses Reset, steps the
model with Step and with Play/Pause, and checks that the page shows what the same model, built in
this process through ``DemoModel``, reports after the same number of steps. It ends the server
with Ctrl-C (SIGINT), which must exit 0, and leaves a screenshot in test-artifacts/.

Without a Chromium on the machine the test is skipped with the reason, except under CI
(``CI=true``), where a missing browser fails it: CI installs Debian's chromium.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from treatysim.demo.model import DemoModel
from treatysim.demo.server import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
#: Where a Chromium may be: Debian's package first (what CI installs), then anything on PATH.
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
START_TIMEOUT = 60.0
BALTIC = (
    Path(str(importlib.resources.files("treatysim.scenarios"))) / "teaching" / "baltic_simple.yaml"
)


@dataclass
class Server:
    """A running ``treatysim demo``."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def find_chromium() -> Path | None:
    """A Chromium executable: Debian's, one on PATH, or the one Playwright installed itself."""
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return Path(found)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as playwright:
        own = Path(playwright.chromium.executable_path)
    return own if own.exists() else None


@pytest.fixture(scope="module")
def chromium() -> Path:
    """The browser to drive. Without one the test is skipped, except under CI, where it fails."""
    path = find_chromium()
    if path is None:
        reason = (
            "no Chromium found (apt-get install chromium, or `playwright install chromium`); "
            "CI installs Debian's and runs this test"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture
def server(tmp_path: Path, chromium: Path) -> Iterator[Server]:
    """``treatysim demo`` on a free port, killed (with its process group) whatever happens."""
    port = free_port()
    log = tmp_path / "demo.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "treatysim",
                "demo",
                "--port",
                str(port),
                "--no-browser",
                "--scenario",
                str(BALTIC),
            ],
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"treatysim demo exited with {process.returncode}:\n{running.output()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"treatysim demo did not answer in {START_TIMEOUT:.0f} s")
                time.sleep(0.25)
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@dataclass
class Tab:
    """A browser tab on the demo, and the requests it sent anywhere but the server."""

    page: Page
    outside: list[str]


@pytest.fixture
def tab(server: Server, chromium: Path) -> Iterator[Tab]:
    """A Chromium tab on the demo; requests that leave the server are recorded."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the browser extra is part of the dev install
        pytest.fail('Playwright is missing: pip install "treatysim[browser]"')
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            outside: list[str] = []
            page.on(
                "request",
                lambda r: (
                    None
                    if r.url.startswith((server.url, "blob:", "data:"))
                    else outside.append(r.url)
                ),
            )
            page.goto(server.url)
            yield Tab(page, outside)
        finally:
            browser.close()


def _status(page: Page) -> dict[str, str]:
    """The page's status card as a dict: Date, Step, Announced, Notified, Withdrawn, ..."""
    text = page.inner_text(".demo-status")
    return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)


def _step_number(page: Page) -> int:
    return int(_status(page)["Step"].split(" of ")[0])


def _wait_for_step(page: Page, k: int) -> None:
    page.wait_for_selector(f".demo-status:has-text('Step: {k} of')", timeout=30_000)


def _expected(ceasefire: dt.date, seed: int, steps: int) -> DemoModel:
    model = DemoModel(scenario_name=str(BALTIC), ceasefire=ceasefire, seed=seed)
    for _ in range(steps):
        model.step()
    return model


def _assert_page_matches(page: Page, ceasefire: dt.date, seed: int) -> int:
    shown = _status(page)
    steps = _step_number(page)
    model = _expected(ceasefire, seed, steps)
    last = model.history[-1]
    assert shown["Date"] == model.date.isoformat()
    assert int(shown["Announced"]) == last.announced
    assert int(shown["Notified"]) == last.notified
    assert int(shown["Withdrawn"]) == last.withdrawn
    return steps


def _image(page: Page, kind: str) -> str:
    return page.locator(f".demo-{kind} img").first.get_attribute("src")


def test_demo_in_a_browser(server: Server, tab: Tab) -> None:
    p = tab.page
    p.wait_for_selector(".demo-status:has-text('Step: 0 of 105')", timeout=60_000)
    first = _status(p)
    assert first["Announced"] == "0"
    assert first["Ceasefire in this run"] == "2025-10-01"
    seed = int(p.get_by_label("Seed").input_value())
    assert seed == 2025  # the scenario's run.seed
    map_before, curve_before = _image(p, "map"), _image(p, "cascade")
    assert map_before and curve_before

    # move the ceasefire slider to about a fifth of the calendar, then Reset
    track = p.locator(".v-input:has(label:text-is('Ceasefire')) .v-slider")
    box = track.bounding_box()
    track.click(position={"x": box["width"] * 0.2, "y": box["height"] / 2})
    p.wait_for_selector(".demo-ceasefire:not(:has-text('2025-10-01'))", timeout=10_000)
    chosen = dt.date.fromisoformat(
        p.inner_text(".demo-ceasefire").removeprefix("Ceasefire: ").strip()
    )
    assert dt.date(2025, 2, 1) < chosen < dt.date(2025, 9, 1)
    assert p.get_by_text("Press Reset to apply").is_visible()
    p.get_by_role("button", name="Reset").click()
    p.wait_for_selector(
        f".demo-status:has-text('Ceasefire in this run: {chosen.isoformat()}')", timeout=20_000
    )
    assert (
        p.locator(".demo-command")
        .inner_text()
        .endswith(f"--set events.ceasefire.date={chosen.isoformat()}")
    )

    # fifteen Steps take the run to mid-April 2025, past the first announcements
    for k in range(1, 16):
        p.get_by_role("button", name="Step").click()
        _wait_for_step(p, k)
    assert _status(p)["Date"] == "2025-04-16"
    assert _assert_page_matches(p, chosen, seed) == 15
    assert int(_status(p)["Announced"]) > 0
    assert _image(p, "map") != map_before
    assert _image(p, "cascade") != curve_before

    # Play, then Pause: the page keeps matching the model
    p.get_by_role("button", name="▶").click()
    deadline = time.monotonic() + 90
    while _step_number(p) < 40:
        assert time.monotonic() < deadline, "Play did not advance the model"
        time.sleep(0.5)
    p.get_by_role("button", name="❚❚").click()
    steps = _step_number(p)
    while True:  # the step in flight when Pause was pressed still lands
        time.sleep(1.5)
        now = _step_number(p)
        if now == steps:
            break
        steps = now
    assert _assert_page_matches(p, chosen, seed) >= 40

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "demo.png"
    p.screenshot(path=str(shot), full_page=True)
    assert shot.is_file() and shot.stat().st_size > 20_000
    import numpy as np
    from PIL import Image

    with Image.open(shot) as image:
        pixels = np.asarray(image.convert("RGB"))
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    assert len(colours) > 200, "the screenshot is (nearly) blank"
    assert pixels.std() > 20

    # a scenario without a ceasefire: the slider is disabled, and the page says so
    p.locator(".v-select").first.click()
    p.get_by_role("option", name="teaching/granovetter_riot", exact=True).click()
    p.wait_for_selector(".demo-no-ceasefire", timeout=10_000)
    slider = p.locator(".v-input:has(label:text-is('Ceasefire'))")
    assert "v-input--is-disabled" in (slider.get_attribute("class") or "")

    # offline: the browser talked to the server only, and the server fetched nothing
    assert tab.outside == []
    assert "Could not load URL" not in server.output()

    # Ctrl-C stops the server with exit code 0
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=30) == 0, server.output()
    assert re.search(r"serving http://127\.0\.0\.1:\d+", server.output())
