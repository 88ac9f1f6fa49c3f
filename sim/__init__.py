"""treatysim: agent-based simulation of treaty-withdrawal cascades between states.

The Python API (:mod:`treatysim.api`)::

    import treatysim as ts

    scenario = ts.load("ottawa_2025")
    result = ts.simulate(scenario, replications=200, seed=1)
    result.runs, result.events, result.timeseries
    result.save("results/my_run")

The API is imported on first use, so ``import treatysim`` (and ``treatysim --help``) stays
quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Result", "ValidationError", "__version__", "load", "simulate"]

if TYPE_CHECKING:
    from treatysim.api import Result, load, simulate
    from treatysim.scenario.errors import ValidationError

_LAZY = {
    "Result": "treatysim.api",
    "load": "treatysim.api",
    "simulate": "treatysim.api",
    "ValidationError": "treatysim.scenario.errors",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'treatysim' has no attribute {name!r}")
