"""The report's fast paths give the same numbers as the plain ones they replace."""

from __future__ import annotations

import numpy as np
import pytest

from treatysim.analysis.intervals import proportion
from treatysim.analysis.stats import _quartile_dates, proportions, quantile_dates


@pytest.mark.parametrize("seed", range(20))
def test_quartile_dates_of_every_column_at_once(seed: int) -> None:
    rng = np.random.default_rng(seed)
    days = rng.integers(20_000, 21_000, size=(rng.integers(1, 60), 30)).astype(float)
    days[rng.random(days.shape) < rng.random()] = np.nan
    days[:, 0] = np.nan  # a state that never reached the stage
    expected = [quantile_dates(days[:, j]) for j in range(days.shape[1])]
    assert _quartile_dates(days) == expected


def test_proportions_equal_one_proportion_per_count() -> None:
    counts = np.array([0, 1, 5, 99, 100, 37])
    assert proportions(counts, 100) == [proportion(int(k), 100) for k in counts]
    assert proportions(np.array([0, 0]), 0) == [proportion(0, 0), proportion(0, 0)]
