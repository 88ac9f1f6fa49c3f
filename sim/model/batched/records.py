"""What a batch records: stage changes (vectorised) and time series, split per replication."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from treatysim.model.pipeline import STAGES

if TYPE_CHECKING:
    from treatysim.model.batched.engine import Batch


@dataclass
class Replication:
    """What one replication returns: the fields of the runner's ``Output``.

    Attributes:
        events: Stage changes in the order they happened: ``step`` (int32), ``state`` (int32),
            ``treaty`` (int32), ``stage`` (int8), ``date`` (int64, proleptic ordinal).
        final_stage: Shape (n, k), int8.
        threat: Shape (steps + 1, n), with full time series.
        commitment: Shape (steps + 1, n, k), with full time series.
        stage: Shape (steps + 1, n, k), int8, with full time series.
        counts: Shape (steps + 1, k, stages), int32, with counts.
    """

    events: dict[str, NDArray[Any]]
    final_stage: NDArray[np.int8]
    threat: NDArray[np.float64] | None = None
    commitment: NDArray[np.float64] | None = None
    stage: NDArray[np.int8] | None = None
    counts: NDArray[np.int32] | None = None


class Log:
    """Stage changes of every replication, appended as arrays in the order they happen."""

    def __init__(self, replications: int, dirty: NDArray[np.bool_] | None = None) -> None:
        self.B = replications
        self.parts: list[tuple[NDArray[Any], ...]] = []
        self.dirty = dirty  # marked for every replication whose stages change

    def add(
        self,
        b: NDArray[Any],
        step: int,
        i: NDArray[Any],
        j: NDArray[Any],
        stage: int | NDArray[Any],
        date: NDArray[Any],
    ) -> None:
        """Replications b entered ``stage`` in (state i, treaty j) on ``date``, in this step.

        ``stage`` is one code for every change, or one code per change.
        """
        if len(b):
            if self.dirty is not None:
                self.dirty[b] = True
            # narrow types: the log of a large cascade holds millions of changes
            self.parts.append(
                (
                    b.astype(np.int16 if self.B <= 2**15 else np.int64),
                    np.full(len(b), step, dtype=np.int32),
                    i.astype(np.int32),
                    j.astype(np.int32),
                    np.full(len(b), stage, dtype=np.int8),
                    date.astype(np.int64),
                )
            )

    def split(self) -> list[dict[str, NDArray[Any]]]:
        """Each replication's changes, in the order they were added (a stable sort)."""
        if self.parts:
            columns = [np.concatenate(c) for c in zip(*self.parts, strict=True)]
        else:
            columns = [np.zeros(0, dtype=np.int64)] * 6
        order = np.argsort(columns[0], kind="stable")  # a radix sort on int16
        b, step, i, j, stage, date = (c[order] for c in columns)
        bounds = np.searchsorted(b, np.arange(self.B + 1))
        out: list[dict[str, NDArray[Any]]] = []
        for r in range(self.B):
            part = slice(bounds[r], bounds[r + 1])
            out.append(
                {
                    "step": step[part].astype(np.int32, copy=False),
                    "state": i[part].astype(np.int32, copy=False),
                    "treaty": j[part].astype(np.int32, copy=False),
                    "stage": stage[part].astype(np.int8, copy=False),
                    "date": date[part].astype(np.int64, copy=False),
                }
            )
        return out


class Records:
    """Time series of a batch, step first: (steps + 1, B, ...)."""

    def __init__(self, mode: str, steps: int, b: int, n: int, k: int) -> None:
        size = steps + 1
        self.threat = self.commitment = self.stage = self.counts = None
        if mode == "full":
            self.threat = np.zeros((size, b, n))
            self.commitment = np.zeros((size, b, n, k))
            self.stage = np.zeros((size, b, n, k), dtype=np.int8)
        elif mode == "counts":
            self.counts = np.zeros((size, b, k, len(STAGES)), dtype=np.int32)
            cell = np.arange(b)[:, None, None] * k + np.arange(k)[None, None, :]
            self._cell = np.broadcast_to(cell * len(STAGES), (b, n, k))

    def record(self, k: int, batch: Batch) -> None:
        """Record the batch's state at the end of step k."""
        if self.threat is not None and self.commitment is not None and self.stage is not None:
            self.threat[k] = batch.threat
            self.commitment[k] = batch.commitment
            self.stage[k] = batch.stage
        elif self.counts is not None:
            stage = batch.stage
            valid = stage >= 0
            flat = (self._cell + stage)[valid]
            size = self.counts[k].size
            self.counts[k] = np.bincount(flat, minlength=size).reshape(self.counts[k].shape)

    def replication(self, r: int, events: dict[str, NDArray[Any]], final: Any) -> Replication:
        """Replication r's results."""

        def own(values: NDArray[Any] | None) -> NDArray[Any] | None:
            return None if values is None else values[:, r].copy()

        return Replication(
            events=events,
            final_stage=final.astype(np.int8),
            threat=own(self.threat),
            commitment=own(self.commitment),
            stage=own(self.stage),
            counts=own(self.counts),
        )
