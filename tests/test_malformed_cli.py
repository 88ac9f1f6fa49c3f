"""The malformed-input corpus for CLI arguments and external files (issue 14).

Every case runs ``treatysim.cli.main`` in-process and must exit 2 with one line on stderr per
problem and no traceback: bad ``--seed``/``--replications``/``--workers``/``--port`` values,
unusable ``--out`` folders, datasets, edge lists and design tables that cannot be read, networks
that cannot be built, files that are not regular (``/dev/zero``, a FIFO), and folders that are not
what ``compare`` or ``report`` need.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from treatysim.cli import main

ROOT = Path(__file__).resolve().parent.parent
RIOT = ROOT / "scenarios" / "teaching" / "granovetter_riot.yaml"
WATTS = ROOT / "scenarios" / "teaching" / "watts_cascade.yaml"
BALTIC = ROOT / "scenarios" / "teaching" / "baltic_simple.yaml"
STATES = ROOT / "sim" / "data" / "europe_states.csv"


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one in-process command (argparse exits are caught)."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def synthetic(tmp: Path, network: str, size: int = 100) -> Path:
    """The riot scenario with another network and size (thresholds drawn, so any size fits)."""
    text = RIOT.read_text(encoding="utf-8")
    start = text.index("  synthetic:")
    end = text.index("parameters:")
    population = (
        f"  synthetic:\n    size: {size}\n    id_prefix: P\n    network: {network}\n"
        "    thresholds: {distribution: uniform, low: 0, high: 5, counted_in: agents}\n"
    )
    path = tmp / "net.yaml"
    path.write_text(text[:start] + population + text[end:], encoding="utf-8")
    return path


def edge_list(tmp: Path, content: bytes) -> Path:
    (tmp / "edges.csv").write_bytes(content)
    return synthetic(tmp, "{type: edge_list, file: edges.csv}", size=4)


def dataset(
    tmp: Path, edit: Callable[[list[str]], list[str]] | None = None, raw: bytes = b""
) -> Path:
    """baltic_simple on a copy of the state table, edited line by line (or given as bytes)."""
    lines = STATES.read_text(encoding="utf-8").splitlines()
    data = raw or ("\n".join(edit(lines) if edit else lines) + "\n").encode()
    (tmp / "states.csv").write_bytes(data)
    text = BALTIC.read_text(encoding="utf-8")
    path = tmp / "case.yaml"
    path.write_text(text.replace("dataset: europe_2025", "dataset: states.csv"), encoding="utf-8")
    assert "states.csv" in path.read_text(encoding="utf-8")
    return path


def edit_row(iso3: str, column: int, value: str) -> Callable[[list[str]], list[str]]:
    def edit(lines: list[str]) -> list[str]:
        out = []
        for line in lines:
            if line.startswith(iso3 + ","):
                fields = line.split(",")
                fields[column] = value
                line = ",".join(fields)
            out.append(line)
        return out

    return edit


def run_folder(tmp: Path) -> Path:
    """A stored run folder (written once per test module, copied per case)."""
    cache = Path(os.environ.get("H9_RUN_CACHE", tmp.parent / "h9-run-cache"))
    if not (cache / "manifest.json").is_file():
        shutil.rmtree(cache, ignore_errors=True)
        assert main(["run", str(RIOT), "-n", "2", "--out", str(cache), "-q", "--no-report"]) == 0
    copy = tmp / "run"
    shutil.copytree(cache, copy)
    return copy


def _fifo(tmp: Path) -> list[str]:
    os.mkfifo(tmp / "fifo.yaml")
    return ["validate", str(tmp / "fifo.yaml")]


def _sweep_on(tmp: Path, base: str) -> list[str]:
    (tmp / "sweep.yaml").write_text(
        f"schema_version: 1\nname: s\nbase: {base}\nfactors:\n"
        "  - {name: x, path: run.seed, values: [1, 2]}\ndesign: {type: grid}\nreplications: 2\n"
        "outcomes: [cascade_size]\nseed: 1\n",
        encoding="utf-8",
    )
    return ["sweep", str(tmp / "sweep.yaml"), "--dry-run"]


def _design_table(tmp: Path, content: bytes) -> list[str]:
    shutil.copyfile(RIOT, tmp / "base.yaml")
    (tmp / "design.csv").write_bytes(content)
    (tmp / "sweep.yaml").write_text(
        "schema_version: 1\nname: s\nbase: base.yaml\nfactors:\n"
        "  - {name: x, path: run.seed}\ndesign: {type: table, file: design.csv}\n"
        "replications: 2\noutcomes: [cascade_size]\nseed: 1\n",
        encoding="utf-8",
    )
    return ["sweep", str(tmp / "sweep.yaml"), "--dry-run"]


def _file(tmp: Path) -> Path:
    (tmp / "afile").write_text("x", encoding="utf-8")
    return tmp / "afile"


def _manifest_list(tmp: Path) -> list[str]:
    folder = run_folder(tmp)
    (folder / "manifest.json").write_text("[1, 2]", encoding="utf-8")
    return ["report", str(folder)]


def _compare_sweep(tmp: Path) -> list[str]:
    folder = run_folder(tmp)
    sweep = tmp / "sweepdir"
    shutil.copytree(folder, sweep)
    manifest = json.loads((sweep / "manifest.json").read_text(encoding="utf-8"))
    (sweep / "manifest.json").write_text(json.dumps({**manifest, "kind": "sweep"}))
    return ["compare", str(folder), str(sweep)]


# name -> argv builder; each case is one problem, so one line on stderr
CASES: dict[str, Callable[[Path], list[str]]] = {
    # -- arguments -----------------------------------------------------------------------------
    "seed_negative": lambda t: ["run", str(RIOT), "--seed", "-1", "--out", str(t / "o")],
    "seed_2_70": lambda t: ["run", str(RIOT), "--seed", str(2**70), "--out", str(t / "o")],
    "seed_word": lambda t: ["run", str(RIOT), "--seed", "ten", "--out", str(t / "o")],
    "replications_huge": lambda t: ["run", str(RIOT), "-n", str(10**9), "--out", str(t / "o")],
    "replications_zero": lambda t: ["run", str(RIOT), "-n", "0", "--out", str(t / "o")],
    "workers_zero": lambda t: ["run", str(RIOT), "-w", "0", "--out", str(t / "o")],
    "sweep_workers_negative": lambda t: ["sweep", "sweeps/ceasefire_timing", "-w", "-3"],
    "port_zero": lambda t: ["demo", "--port", "0"],
    "port_huge": lambda t: ["demo", "--port", "70000"],
    "set_malformed": lambda t: ["run", str(RIOT), "--set", "nonsense", "--out", str(t / "o")],
    "unknown_option": lambda t: ["run", str(RIOT), "--frobnicate"],
    # -- output folders ------------------------------------------------------------------------
    "out_is_a_file": lambda t: ["run", str(RIOT), "--out", str(_file(t))],
    "out_dev_null": lambda t: ["run", str(RIOT), "--out", "/dev/null"],
    "out_below_a_file": lambda t: ["run", str(RIOT), "--out", str(_file(t) / "sub" / "dir")],
    "sweep_out_is_a_file": lambda t: [*_sweep_on(t, str(RIOT))[:2], "--out", str(_file(t))],
    "compare_out_is_a_file": lambda t: ["compare", str(t), str(t), "--out", str(_file(t))],
    "export_out_is_a_file": lambda t: ["export", str(t), "--out", str(_file(t))],
    # -- files that are not regular -------------------------------------------------------------
    "validate_dev_zero": lambda t: ["validate", "/dev/zero"],
    "validate_fifo": _fifo,
    "sweep_base_dev_zero": lambda t: _sweep_on(t, "/dev/zero"),
    # -- networks that cannot be built ---------------------------------------------------------
    "edges_unknown_agent": lambda t: ["validate", str(edge_list(t, b"source,target\nP0,P9\n"))],
    "edges_short_row": lambda t: ["validate", str(edge_list(t, b"source,target\nP0\n"))],
    "edges_missing_columns": lambda t: ["validate", str(edge_list(t, b"from,to\nP0,P1\n"))],
    "edges_not_utf8": lambda t: ["validate", str(edge_list(t, b"source,target\nP0,\xff\n"))],
    "edges_missing_file": lambda t: [
        "validate",
        str(synthetic(t, "{type: edge_list, file: nowhere.csv}", size=4)),
    ],
    "lattice_not_square": lambda t: ["validate", str(synthetic(t, "{type: lattice}", size=10))],
    "watts_neighbours_above_size": lambda t: [
        "validate",
        str(synthetic(t, "{type: watts_strogatz, neighbours: 12, rewiring: 0.1}", size=10)),
    ],
    "barabasi_attachments_at_size": lambda t: [
        "validate",
        str(synthetic(t, "{type: barabasi_albert, attachments: 10}", size=10)),
    ],
    # -- datasets ------------------------------------------------------------------------------
    "dataset_not_utf8": lambda t: [
        "validate",
        str(dataset(t, raw=STATES.read_bytes().replace(b"Albania", b"Alb\xe4nia"))),
    ],
    "dataset_short_row": lambda t: ["validate", str(dataset(t, lambda ls: [*ls, "XXX,Nowhere"]))],
    "dataset_capital_inf": lambda t: ["validate", str(dataset(t, edit_row("EST", 3, "inf")))],
    "dataset_capital_nan": lambda t: ["validate", str(dataset(t, edit_row("EST", 4, "nan")))],
    "dataset_capital_word": lambda t: ["validate", str(dataset(t, edit_row("EST", 4, "east")))],
    "dataset_duplicate_iso3": lambda t: [
        "validate",
        str(dataset(t, lambda ls: [*ls, next(x for x in ls if x.startswith("EST,"))])),
    ],
    "dataset_binary": lambda t: ["validate", str(dataset(t, raw=b"iso3,name\n\x00\x00\n"))],
    # -- design tables -------------------------------------------------------------------------
    "design_not_utf8": lambda t: _design_table(t, b"x\n1\n\xff\n"),
    "design_dev_zero_like_empty": lambda t: _design_table(t, b""),
    "design_unknown_column": lambda t: _design_table(t, b"y\n1\n"),
    # -- folders -------------------------------------------------------------------------------
    "report_manifest_not_an_object": _manifest_list,
    "compare_run_with_sweep": _compare_sweep,
    "report_missing_folder": lambda t: ["report", str(t / "nothing")],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_argument_or_file_exits_2_with_one_line(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exit 2, exactly one line on stderr, no traceback, and no folder left behind."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("H9_RUN_CACHE", str(tmp_path.parent.parent / "h9-run-cache"))
    argv = CASES[name](tmp_path)
    code, _, err = run_cli(argv, capsys)
    assert "Traceback" not in err, err
    assert code == 2, (code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert not (tmp_path / "o").exists(), "a refused run left a folder behind"


def test_the_corpus_is_large(capsys: pytest.CaptureFixture[str]) -> None:
    """The corpus covers arguments, folders, devices, networks, datasets and designs."""
    assert len(CASES) >= 35


def test_a_full_disk_is_exit_1_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while writing tables: one line, exit 1 (a runtime failure)."""
    import errno

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "o" / "runs"))

    monkeypatch.setattr("treatysim.run.runner.write_table", full)
    code, _, err = run_cli(
        ["run", str(RIOT), "-n", "1", "-q", "--out", str(tmp_path / "o")], capsys
    )
    assert code == 1 and "Traceback" not in err
    assert err.strip().splitlines() == [
        f"error: {tmp_path / 'o' / 'runs'}: No space left on device"
    ]
