"""The one figure style: resolution, atomic saving, event marks, one palette everywhere."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PIL import Image

from treatysim.plots import style


def test_save_writes_png_and_svg_at_the_one_resolution(tmp_path: Path) -> None:
    fig = style.figure(4, 3)
    fig.subplots().plot([0, 1], [0, 1])
    files = style.save(fig, tmp_path / "sub" / "line", svg=True)
    assert [f.name for f in files] == ["line.png", "line.svg"]
    with Image.open(files[0]) as image:
        assert image.info["dpi"][0] == pytest.approx(style.DPI, abs=1)
        assert image.size == (4 * style.DPI, 3 * style.DPI)
    assert files[1].read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["line.png", "line.svg"]


def test_save_replaces_a_symlink_instead_of_writing_through_it(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.png"
    elsewhere.write_bytes(b"not a picture")
    link = tmp_path / "plot.png"
    link.symlink_to(elsewhere)
    fig = style.figure(2, 2)
    fig.subplots()
    style.save(fig, tmp_path / "plot")
    assert not link.is_symlink()
    assert link.read_bytes().startswith(b"\x89PNG")
    assert elsewhere.read_bytes() == b"not a picture"


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "plot.png"
    target.write_bytes(b"old")

    class Broken:
        def savefig(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("renderer failed")

    with pytest.raises(RuntimeError):
        style.save(Broken(), tmp_path / "plot")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]


def test_mark_events_draws_a_line_per_event_and_labels_only_when_asked() -> None:
    fig = style.figure(6, 3)
    top, bottom = fig.subplots(2, 1, sharex=True)
    events = [(dt.date(2025, 7, 1), "ceasefire"), ("2025-09-12", "zapad_2025")]
    style.mark_events(top, events)
    style.mark_events(bottom, events, labels=False)
    assert len(top.get_lines()) == 2 and len(bottom.get_lines()) == 2
    assert [t.get_text().strip() for t in top.texts] == ["ceasefire", "zapad_2025"]
    assert len(bottom.texts) == 0


def test_palette_and_stage_colours_are_okabe_ito() -> None:
    assert set(style.PALETTE) == set(style.OKABE_ITO.values())
    coloured = {c for s, c in style.STAGE_COLOURS.items() if s not in ("party", "not_party")}
    assert coloured <= set(style.OKABE_ITO.values())
