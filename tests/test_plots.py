"""Plots: a real run's figures are written, large enough for 150 dpi, and not blank."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg
from PIL import Image

from treatysim.plots import map as map_plots
from treatysim.plots import run as plots
from treatysim.report.run_report import build_report
from treatysim.run.runner import run_scenario
from treatysim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parent.parent
#: Minimum pixel sizes (width, height): each figure's inches × 150 dpi, with some slack.
MIN_SIZE = {
    "cascade": (1200, 650),
    "timeline": (1400, 400),
    "cascade_size": (1100, 600),
    "map": (1300, 1000),
}


def assert_not_blank(path: Path, min_colours: int = 30) -> None:
    pixels = mpimg.imread(path)[..., :3]
    rgb = (pixels.reshape(-1, 3) * 255).round().astype(np.uint32)
    colours = np.unique(rgb[:, 0] << 16 | rgb[:, 1] << 8 | rgb[:, 2])
    assert len(colours) > min_colours, f"{path.name}: only {len(colours)} colours"
    assert pixels.std() > 0.05, f"{path.name}: nearly uniform"


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plots") / "r"
    run_scenario(
        load_scenario(ROOT / "scenarios" / "ottawa_2025.yaml"),
        replications=8,
        out=folder,
        quiet=True,
    )
    build_report(folder)
    return folder


def test_run_writes_every_plot_at_150_dpi_and_not_blank(run_folder: Path) -> None:
    for name, (min_w, min_h) in MIN_SIZE.items():
        path = run_folder / "plots" / f"{name}.png"
        assert path.is_file(), name
        height, width = mpimg.imread(path).shape[:2]
        assert width >= min_w and height >= min_h, (name, width, height)
        with Image.open(path) as img:
            assert img.info["dpi"][0] == pytest.approx(150, abs=1), name
        assert_not_blank(path)
    assert not list((run_folder / "plots").glob("*.svg"))  # SVG only when asked


def test_plotting_leaves_no_pyplot_figures_open(run_folder: Path) -> None:
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []


def test_cascade_size_plot_writes_svg_too(tmp_path: Path) -> None:
    size = {
        "n": 10,
        "distribution": {"0": 2, "1": 3, "2": 5},
        "mean": {"mean": 1.3, "lo": 0.7, "hi": 1.9},
    }
    files = plots.cascade_size_plot(size, tmp_path / "size", observed=2, title="t", svg=True)
    assert [f.name for f in files] == ["size.png", "size.svg"]
    assert (tmp_path / "size.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert_not_blank(tmp_path / "size.png", min_colours=10)


def test_every_dataset_state_has_a_bundled_outline() -> None:
    from treatysim.scenario.dataset import load_dataset

    ids = list(load_dataset("europe_2025").states)
    outlines = map_plots.country_outlines([*ids, "X01"])
    assert set(outlines) == set(ids)
    ring = np.concatenate(outlines["EST"])
    assert 21 < ring[:, 0].mean() < 29 and 57 < ring[:, 1].mean() < 60  # Estonia, lon/lat
    # the states the old outlines lacked, and Kosovo drawn as land so the map has no hole
    assert {"HUN", "SRB", "MNE"} <= set(outlines)
    assert map_plots.land_in_box((20.0, 21.5, 42.0, 43.5), skip=ids)


def test_labels_never_overlap_and_crowded_ones_are_named() -> None:
    anchors = {f"S{i}": (10.0 + 0.01 * i, 50.0) for i in range(30)}
    placed, left_out = map_plots.place_labels(
        anchors, sorted(anchors), (1.0, 0.5), (0.0, 20.0, 40.0, 60.0)
    )
    assert set(placed) | set(left_out) == set(anchors) and left_out
    spots = list(placed.values())
    for a in range(len(spots)):
        for b in range(a + 1, len(spots)):
            (xa, ya), (xb, yb) = spots[a], spots[b]
            assert abs(xa - xb) >= 1.0 or abs(ya - yb) >= 0.5


def test_map_draws_dots_for_states_without_outline(tmp_path: Path) -> None:
    ids = ["EST", "LVA", "X01", "X02"]
    lat = np.array([59.4, 56.9, 55.0, 54.0])
    lon = np.array([24.7, 24.1, 10.0, 12.0])
    party = np.array([True, True, True, False])
    files, dots = map_plots.map_plot(
        ids,
        lat,
        lon,
        party,
        np.array([0.9, 0.5, 0.1, 0.0]),
        np.array([0.0, 0.8, 0.0, 0.0]),
        tmp_path / "map",
    )
    assert dots == ["X01", "X02"]
    assert_not_blank(files[0])


def test_a_long_flat_tail_is_cut_off_the_time_axis_and_said() -> None:
    import matplotlib.dates as mdates

    from treatysim.plots import style

    x = style.as_dates([f"2025-{m:02d}-01" for m in range(1, 13)] + ["2026-12-01"])
    moving = [0, 1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]  # last change on 2025-04-01
    fig = style.figure(6, 3)
    ax = fig.subplots()
    ax.plot(x, moving)
    assert style.trim_flat_tail([ax], x, [moving]) == dt.date(2025, 4, 1)
    right = mdates.num2date(ax.get_xlim()[1]).date()
    assert dt.date(2025, 4, 1) < right < dt.date(2025, 6, 1)
    assert any("no change after 2025-04-01" in t.get_text() for t in ax.texts)
    # a curve that moves until the end keeps the whole calendar
    fig = style.figure(6, 3)
    ax = fig.subplots()
    late = [0] * 12 + [1]
    assert style.trim_flat_tail([ax], x, [moving, late]) is None
    assert not ax.texts
