"""Conditions on an outcome (``--where``, satisficing): defined in the scenario layer.

The sweep language's ``robustness.satisficing`` is validated with the same parser, so the
definition lives in :mod:`treatysim.scenario.condition`; this module keeps the analysis
layer's name for it.
"""

from treatysim.scenario.condition import OPERATORS, Condition, parse_where

__all__ = ["OPERATORS", "Condition", "parse_where"]
