"""Student's t quantile without SciPy: agrees with scipy.stats.t.ppf; reports do not load SciPy."""

from __future__ import annotations

import subprocess
import sys

import pytest

from treatysim.analysis.intervals import mean_interval, t_quantile

scipy_stats = pytest.importorskip("scipy.stats")


@pytest.mark.parametrize("df", [1, 1.5, 2, 3, 4.7, 9, 30, 99.5, 199, 1000, 1e5])
@pytest.mark.parametrize("p", [0.025, 0.1, 0.5, 0.6, 0.9, 0.95, 0.975, 0.995, 0.9995])
def test_t_quantile_matches_scipy(p: float, df: float) -> None:
    expected = float(scipy_stats.t.ppf(p, df))
    assert t_quantile(p, df) == pytest.approx(expected, rel=1e-7, abs=1e-9)


def test_mean_interval_uses_it() -> None:
    values = [1.0, 2.0, 4.0, 7.0]
    got = mean_interval(values)
    sd = float(scipy_stats.tstd(values))
    half = float(scipy_stats.t.ppf(0.975, 3)) * sd / 2.0
    assert got["hi"] == pytest.approx(3.5 + half, rel=1e-9)


def test_the_report_modules_do_not_import_scipy() -> None:
    code = (
        "import sys, treatysim.report.run_report, treatysim.analysis.point_summary;"
        "from treatysim.analysis.intervals import mean_interval; mean_interval([1, 2, 3]);"
        "print('scipy.stats' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
