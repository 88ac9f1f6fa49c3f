"""The model's calendar: step dates, step lengths in months, and date arithmetic.

Rates in the model are per calendar month (a mean month of 30.4375 days), never per step, so a
scenario gives the same dynamics whether it steps by day, week or month.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

DAYS_PER_MONTH = 365.25 / 12


def add_months(date: dt.date, months: float) -> dt.date:
    """Add calendar months: whole months move the month (clamping the day), fractions add days.

    Args:
        date: The start date.
        months: Months to add; 6 takes 2025-06-27 to 2025-12-27.
    """
    whole = int(np.floor(months))
    frac = months - whole
    month_index = date.month - 1 + whole
    year = date.year + month_index // 12
    month = month_index % 12 + 1
    day = min(date.day, _calendar.monthrange(year, month)[1])
    out = dt.date(year, month, day)
    if frac:
        out += dt.timedelta(days=round(frac * DAYS_PER_MONTH))
    return out


@dataclass(frozen=True)
class Calendar:
    """Step dates of a scenario.

    Attributes:
        start: First day simulated.
        end: Last day simulated.
        dates: ``dates[0]`` is the start; ``dates[k]`` is the date on which step k ends.
        months: Months elapsed since the start at each ``dates[k]``.
        step_months: Length of each step in months (``len(dates) - 1`` entries).
    """

    start: dt.date
    end: dt.date
    dates: tuple[dt.date, ...]
    months: NDArray[np.float64]
    step_months: NDArray[np.float64]

    @classmethod
    def build(cls, start: dt.date, end: dt.date, step: str) -> Calendar:
        """Lay out the steps from start to ``end``; the last step may be shorter than the rest.

        Calendars are immutable (read-only arrays), so worlds with the same dates share one.
        """
        return _build(start, end, step)

    @functools.cached_property
    def ordinals(self) -> NDArray[np.int64]:
        """Proleptic ordinal of each of ``dates`` (read-only)."""
        out = np.array([d.toordinal() for d in self.dates], dtype=np.int64)
        out.setflags(write=False)
        return out

    @property
    def n_steps(self) -> int:
        """Number of steps."""
        return len(self.dates) - 1

    def months_at(self, date: dt.date) -> float:
        """Months from the start to a date."""
        return (date - self.start).days / DAYS_PER_MONTH

    def step_of(self, date: dt.date) -> int:
        """The step (1-based) whose period ``(dates[k-1], dates[k]]`` holds the date."""
        k = int(np.searchsorted(self.ordinals, date.toordinal(), side="left"))
        return min(max(k, 1), self.n_steps)


@functools.lru_cache(maxsize=64)
def _build(start: dt.date, end: dt.date, step: str) -> Calendar:
    """Lay out a calendar's steps (cached: see :meth:`Calendar.build`)."""
    dates = [start]
    k = 0
    while dates[-1] < end:
        k += 1
        if step == "day":
            dates.append(start + dt.timedelta(days=k))
        elif step == "week":
            dates.append(start + dt.timedelta(weeks=k))
        elif step == "month":
            dates.append(add_months(start, k))
        else:
            raise ValueError(f"unknown step length {step!r}")
    # the last step is cut short so that the calendar ends on its end date
    dates[-1] = min(dates[-1], end)
    days = np.array([(d - start).days for d in dates], dtype=float)
    months = days / DAYS_PER_MONTH
    months.setflags(write=False)
    step_months = np.diff(months)
    step_months.setflags(write=False)
    return Calendar(start, end, tuple(dates), months, step_months)
