"""Conditions on an outcome: the ``--where`` text of ``treatysim discover``, parsed without eval.

A condition is one comparison operator and one finite number, such as ``">= 7"`` or ``"!= 0"``.
It marks the *cases of interest* of scenario discovery (Bryant & Lempert 2010) and the
*satisficing* criterion of a robustness analysis (Starr 1962's domain criterion, as in Herman et
al. 2015). The text is matched by a regular expression against the six operators and a decimal
number; nothing in it is ever evaluated as code, so ``"__import__('os')"`` is just invalid input.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: The operators a condition may use, longest first so ``>=`` is not read as ``>``.
OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_PATTERN = re.compile(r"\s*(>=|<=|==|!=|>|<)\s*(" + _NUMBER + r")\s*")
_USAGE = 'a comparison operator (>=, >, <=, <, ==, !=) and a number, such as ">= 7"'


@dataclass(frozen=True)
class Condition:
    """``outcome <operator> value``, e.g. ``Condition(">=", 7.0)`` for "a cascade of 7 or more".

    Attributes:
        operator: One of ``>=``, ``>``, ``<=``, ``<``, ``==``, ``!=``.
        value: The finite number the outcome is compared with (same unit as the outcome).
    """

    operator: str
    value: float

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise ValueError(f"unknown operator {self.operator!r}: expected {_USAGE}")
        if not math.isfinite(self.value):
            raise ValueError(f"the number must be finite, got {self.value!r}")

    def __str__(self) -> str:
        return f"{self.operator} {self.value:g}"

    def holds(self, values: ArrayLike) -> NDArray[np.bool_]:
        """Whether each value meets the condition; a missing value (NaN) never does.

        Args:
            values: Outcome values (any shape; booleans count as 0 and 1).

        Returns:
            A boolean array of the same shape.
        """
        array = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            met = np.asarray(OPERATORS[self.operator](array, self.value), dtype=bool)
        return met & ~np.isnan(array)


def parse_where(text: str) -> Condition:
    """Parse ``--where`` text such as ``">= 7"`` into a :class:`Condition`, without eval.

    Args:
        text: An operator among ``>=``, ``>``, ``<=``, ``<``, ``==``, ``!=`` followed by a finite
            decimal number (``7``, ``-0.5``, ``1e3``); spaces around either are allowed.

    Returns:
        The condition.

    Raises:
        ValueError: With a one-line message, for any other text.
    """
    match = _PATTERN.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"invalid --where {text!r}: expected {_USAGE}")
    return Condition(match.group(1), float(match.group(2)))
