"""Property tests: whatever the input, loading returns a scenario or raises ValidationError.

Three families of input are fed to the loader:

(a) random text and random bytes;
(b) random YAML documents built from nested dicts, lists and scalars (dates, None, huge ints,
    nan/inf floats, unicode keys), some shaped like a scenario so validation goes deep;
(c) mutations of the valid founding scenario (``scenarios/ottawa_2025.yaml``): a key deleted,
    a value replaced, a key renamed, a section duplicated, a line dropped or edited;
and, for sweeps, mutations of a valid sweep file through ``load_sweep`` and ``validate_file``.

Every run is derandomised, so a failure reproduces exactly.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import io
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from treatysim.cli import main
from treatysim.scenario.errors import Problem, ValidationError
from treatysim.scenario.load import (
    Loaded,
    load_scenario,
    load_scenario_text,
    load_sweep,
    validate_file,
)
from treatysim.scenario.schema import Scenario
from treatysim.scenario.yamlio import dump_yaml, load_yaml_file

ROOT = Path(__file__).resolve().parent.parent
FOUNDING = ROOT / "scenarios" / "ottawa_2025.yaml"
FOUNDING_TEXT = FOUNDING.read_text(encoding="utf-8")
FOUNDING_DATA: dict[str, Any] = load_yaml_file(FOUNDING).data
VALID_SWEEP = ROOT / "tests" / "data" / "valid" / "sweep_minimal.yaml"

#: Section and field names of the scenario language, so random documents reach the schema's depths.
SCENARIO_KEYS = [
    *Scenario.model_fields,
    "start",
    "end",
    "step",
    "title",
    "notice_months",
    "parties",
    "column",
    "include",
    "exclude",
    "overrides",
    "members",
    "ties",
    "groups",
    "rule",
    "threat",
    "sensitivity",
    "type",
    "date",
    "source",
    "state",
    "treaty",
    "targets",
    "replications",
    "report_dates",
    "NOR",
    "RUS",
    "ottawa",
    "baltic",
    # keys that look like pydantic's location markers
    "function-after",
    "[key]",
    "float",
    "exercise",
]

COMMON = settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def fuzz(examples: int) -> settings:
    """Reproducible settings with a fixed number of examples."""
    return settings(COMMON, max_examples=examples)


def check_outcome(load: Any) -> Loaded[Any] | None:
    """Call ``load``; it must return a Loaded or raise ValidationError with sane problems."""
    try:
        result = load()
    except ValidationError as exc:
        assert exc.problems, "a ValidationError must carry at least one problem"
        for problem in exc.problems:
            check_problem(problem)
        return None
    assert isinstance(result, Loaded)
    assert isinstance(result.model, Scenario)
    return result


def check_problem(problem: Problem) -> None:
    assert isinstance(problem, Problem)
    assert problem.line >= 1, problem
    assert problem.column >= 1, problem
    assert problem.message.strip(), problem
    assert "\n" not in problem.message, problem
    assert "\n" not in problem.path, problem
    assert "Traceback" not in problem.message, problem


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


_counter = iter(range(10**9))


def write(workdir: Path, content: str | bytes) -> Path:
    path = workdir / f"case_{next(_counter)}.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def cli_validate(path: Path, kinds: tuple[str, ...] = ("scenario",)) -> tuple[int, str]:
    """Run ``treatysim validate PATH``; returns the exit code and what went to stderr."""
    err_buffer, out_buffer = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err_buffer), contextlib.redirect_stdout(out_buffer):
        code = main(["validate", str(path)])
    err = err_buffer.getvalue()
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert err.strip(), "exit code 2 must come with at least one problem on stderr"
        for line in err.strip().splitlines():
            assert line.startswith(f"{path}:"), line
    else:
        assert err == ""
        assert out_buffer.getvalue() in [f"{path}: ok ({kind})\n" for kind in kinds]
    return code, err


# --------------------------------------------------------------------------------------------
# (a) random text and bytes

yamlish_alphabet = st.sampled_from(
    [*"abcxyz019 :-[]{},#&*!|>'\"%@`?\t\n.\\", "\x00", "\ufeff", "é", "\u2028", "\x85"]
)


@fuzz(150)
@given(st.one_of(st.text(max_size=200), st.text(alphabet=yamlish_alphabet, max_size=200)))
def test_random_text(text: str) -> None:
    check_outcome(lambda: load_scenario_text(text, "random.yaml"))


@fuzz(80)
@given(data=st.binary(max_size=300))
def test_random_bytes_as_file(workdir: Path, data: bytes) -> None:
    path = write(workdir, data)
    check_outcome(lambda: load_scenario(path))


@fuzz(40)
@given(data=st.one_of(st.binary(max_size=200), st.text(alphabet=yamlish_alphabet, max_size=200)))
def test_random_input_cli(workdir: Path, data: Any) -> None:
    path = write(workdir, data)
    code, _ = cli_validate(path)
    assert code == 2  # random noise is never a valid scenario


# --------------------------------------------------------------------------------------------
# (b) random YAML documents

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63, max_value=2**200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e308]),
    st.text(max_size=20),
    st.sampled_from(["all", "RUS", "NOR", "ottawa", "week", "exercise", "2025-13-01", "~", "yes"]),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    st.datetimes(),
)
keys = st.one_of(st.sampled_from(SCENARIO_KEYS), st.text(min_size=1, max_size=12), st.integers())
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=5),
    ),
    max_leaves=25,
)
scenario_like = st.fixed_dictionaries(
    {"schema_version": st.sampled_from([1, 1, 1, 2, "1", None])},
    optional={name: documents for name in Scenario.model_fields if name != "schema_version"},
)


@fuzz(200)
@given(st.one_of(documents, scenario_like))
def test_random_documents(data: Any) -> None:
    text = dump_yaml(data)
    check_outcome(lambda: load_scenario_text(text, "doc.yaml"))


@fuzz(40)
@given(doc=scenario_like)
def test_random_documents_as_files(workdir: Path, doc: dict[str, Any]) -> None:
    path = write(workdir, dump_yaml(doc))
    check_outcome(lambda: load_scenario(path))
    try:
        validate_file(path)
    except ValidationError as exc:
        for problem in exc.problems:
            check_problem(problem)
    cli_validate(path)


# --------------------------------------------------------------------------------------------
# (c) mutations of the founding scenario


def locations(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in the document (excluding the root)."""
    out: list[tuple[Any, ...]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            out.append((*prefix, key))
            out.extend(locations(value, (*prefix, key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out.append((*prefix, i))
            out.extend(locations(value, (*prefix, i)))
    return out


FOUNDING_LOCATIONS = locations(FOUNDING_DATA)


def parent_of(data: Any, loc: tuple[Any, ...]) -> Any:
    node = data
    for part in loc[:-1]:
        node = node[part]
    return node


@st.composite
def mutated_founding(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(FOUNDING_DATA)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        here = locations(data)
        if not here:
            break
        loc = draw(st.sampled_from(here))
        parent = parent_of(data, loc)
        last = loc[-1]
        op = draw(st.sampled_from(["delete", "replace", "rename", "duplicate"]))
        if op == "delete":
            del parent[last]
        elif op == "replace":
            parent[last] = draw(documents)
        elif op == "rename" and isinstance(parent, dict):
            new = draw(st.one_of(keys, st.just(str(last)[:-1] or "x"), st.just(f"{last}s")))
            assume(new not in parent)
            parent[new] = parent.pop(last)
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        elif op == "duplicate" and isinstance(parent, dict):
            parent[f"{last}_copy"] = copy.deepcopy(parent[last])
    return data


@fuzz(250)
@given(mutated_founding())
def test_mutated_founding(data: dict[str, Any]) -> None:
    text = dump_yaml(data)
    check_outcome(lambda: load_scenario_text(text, "ottawa_2025.yaml"))


FOUNDING_LINES = FOUNDING_TEXT.splitlines(keepends=True)
TOP_SECTIONS = [line.split(":")[0] for line in FOUNDING_LINES if line[:1].isalpha()]


@st.composite
def edited_founding_text(draw: st.DrawFn) -> str:
    """Textual edits: the kinds of slip a person makes in an editor."""
    lines = list(FOUNDING_LINES)
    op = draw(st.sampled_from(["drop", "dup_line", "dup_section", "insert", "indent", "truncate"]))
    i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
    if op == "drop":
        del lines[i]
    elif op == "dup_line":
        lines.insert(i, lines[i])
    elif op == "dup_section":
        section = draw(st.sampled_from(TOP_SECTIONS))
        start = next(n for n, line in enumerate(lines) if line.startswith(f"{section}:"))
        end = start + 1
        while end < len(lines) and not lines[end][:1].isalpha():
            end += 1
        lines.extend(lines[start:end])
    elif op == "insert":
        pos = draw(st.integers(min_value=0, max_value=len(lines[i])))
        extra = draw(st.text(alphabet=yamlish_alphabet, min_size=1, max_size=3))
        lines[i] = lines[i][:pos] + extra + lines[i][pos:]
    elif op == "indent":
        lines[i] = draw(st.sampled_from([" ", "  ", "\t", "   "])) + lines[i]
    else:
        return "".join(lines)[: draw(st.integers(min_value=0, max_value=len(FOUNDING_TEXT)))]
    return "".join(lines)


@fuzz(200)
@given(edited_founding_text())
def test_edited_founding_text(text: str) -> None:
    check_outcome(lambda: load_scenario_text(text, "ottawa_2025.yaml"))


@fuzz(40)
@given(text=st.one_of(edited_founding_text(), mutated_founding().map(dump_yaml)))
def test_mutated_founding_files_and_cli(workdir: Path, text: str) -> None:
    # the founding scenario's relative references (bundled datasets) resolve from any folder
    path = write(workdir, text)
    loaded = check_outcome(lambda: load_scenario(path))
    code, err = cli_validate(path)
    assert code == (0 if loaded is not None else 2), err


# sweeps: mutations of a valid sweep, through the sweep loader and validate_file

SWEEP_DATA: dict[str, Any] = load_yaml_file(VALID_SWEEP).data
SWEEP_DATA["base"] = str(VALID_SWEEP.parent / SWEEP_DATA["base"])  # absolute: files move to tmp


@st.composite
def mutated_sweep(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(SWEEP_DATA)
    loc = draw(st.sampled_from(locations(data)))
    parent = parent_of(data, loc)
    replacement = st.one_of(
        documents,
        st.sampled_from(["sobol", "lhs", "table", "parameters.threat.noise", "events[0].date"]),
        st.integers(min_value=-3, max_value=130),
    )
    op = draw(st.sampled_from(["delete", "replace", "replace"]))
    if op == "delete":
        del parent[loc[-1]]
    else:
        parent[loc[-1]] = draw(replacement)
    return data


def check_sweep_outcome(path: Path) -> None:
    try:
        load_sweep(path)
    except ValidationError as exc:
        assert exc.problems
        for problem in exc.problems:
            check_problem(problem)
    try:
        assert validate_file(path) in ("scenario", "sweep")
    except ValidationError as exc:
        for problem in exc.problems:
            check_problem(problem)


@fuzz(60)
@given(data=mutated_sweep())
def test_mutated_sweep(workdir: Path, data: dict[str, Any]) -> None:
    path = write(workdir, dump_yaml(data))
    check_sweep_outcome(path)
    cli_validate(path, kinds=("scenario", "sweep"))


# --------------------------------------------------------------------------------------------
# the properties above could not pass vacuously


def test_unmutated_founding_loads() -> None:
    assert check_outcome(lambda: load_scenario_text(FOUNDING_TEXT, "ottawa_2025.yaml")) is not None
    assert check_outcome(lambda: load_scenario_text(dump_yaml(FOUNDING_DATA), "x.yaml")) is not None


def test_unmutated_sweep_loads(workdir: Path) -> None:
    path = write(workdir, dump_yaml(SWEEP_DATA))
    assert load_sweep(path).model.name == "minimal_sweep"
    assert cli_validate(path, kinds=("sweep",)) == (0, "")


def test_check_outcome_rejects_other_exceptions() -> None:
    def boom() -> None:
        raise TypeError("not a validation error")

    with pytest.raises(TypeError):
        check_outcome(boom)
    with pytest.raises(AssertionError):
        check_problem(Problem("f.yaml", 0, 1, "", "line zero"))
    with pytest.raises(AssertionError):
        check_problem(Problem("f.yaml", 1, 1, "", " "))
