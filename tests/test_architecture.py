"""The package's shape: layers along the data flow, no import cycles, modules of a readable size.

docs/ARCHITECTURE.md draws the layers. Each sub-package may import only itself and the layers
below it. Imports under ``if TYPE_CHECKING:`` are for type checkers and do not count; every other
import does, at module level or inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Bottom to top. A module in one layer may import from its own layer and the ones before it.
LAYERS = (
    "data",
    "scenario",
    "agents",
    "model",
    "results",
    "run",
    "analysis",
    "calibration",
    "plots",
    "report",
    "api",
    "demo",
    "cli",
)
#: Modules that import project modules inside functions on purpose: the CLI keeps
#: ``treatysim --help`` fast, and the package root loads its API on first use.
LAZY_IMPORTERS = {
    "treatysim",
    "treatysim.cli",
    "treatysim.cli.parser",
    "treatysim.cli.discover",
    "treatysim.cli.precision",
    "treatysim.__main__",
}
MAX_LINES = 500


def source_files() -> dict[str, Path]:
    """Every module of the package, by its import name."""
    modules = {}
    for folder, prefix in ((ROOT / "sim", "treatysim"), (ROOT / "agents", "treatysim.agents")):
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join((prefix, *parts))] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, name: str, modules: dict[str, Path]) -> list[tuple[str, bool]]:
    """The project modules a module imports, each with whether the import is inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, bool]] = []
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other, in_function)
                continue
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((alias.name, inner) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - child.level + 1])
                    base = f"{base}.{child.module}" if child.module else base
                for alias in child.names:
                    full = f"{base}.{alias.name}"
                    found.append((full if full in modules else base, inner))
            visit(child, inner)

    visit(tree, False)
    return [(target, inner) for target, inner in found if target in modules and target != name]


def graph() -> dict[str, list[tuple[str, bool]]]:
    modules = source_files()
    return {name: imports_of(path, name, modules) for name, path in modules.items()}


def layer_of(module: str) -> str:
    """The layer a module belongs to: its sub-package, or the top-level module's own name."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__main__":
        return "cli"
    return parts[1]


def test_the_import_graph_has_no_cycle() -> None:
    # a package's __init__ that re-exports its own modules is no cycle: an import of a name
    # from a package counts as an edge to the package only when the name is not a module
    edges = {name: sorted({t for t, _ in targets}) for name, targets in graph().items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in edges.get(node, []):
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target) :], target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_each_layer_imports_only_layers_below_it() -> None:
    upward = []
    for name, targets in graph().items():
        if name in LAZY_IMPORTERS:
            continue
        here = LAYERS.index(layer_of(name))
        for target, _ in targets:
            if target == "treatysim":
                continue
            if LAYERS.index(layer_of(target)) > here:
                upward.append(f"{name} -> {target}")
    assert upward == []


def test_function_level_imports_of_the_project_only_where_they_keep_startup_fast() -> None:
    lazy = [
        f"{name} -> {target}"
        for name, targets in graph().items()
        if name not in LAZY_IMPORTERS
        for target, inner in targets
        if inner
    ]
    assert lazy == []


@pytest.mark.parametrize("name", sorted(source_files()))
def test_no_module_is_over_500_lines(name: str) -> None:
    lines = len(source_files()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


def test_every_layer_is_a_package_named_in_the_list() -> None:
    layers = {layer_of(name) for name in source_files()}
    assert layers <= set(LAYERS)


def test_every_package_folder_is_installed() -> None:
    """A plain install installs only the packages pyproject.toml lists: every folder is there."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
            "packages"
        ]
    )
    packages = {name for name, path in source_files().items() if path.name == "__init__.py"}
    assert packages <= listed, f"missing from pyproject.toml: {sorted(packages - listed)}"
