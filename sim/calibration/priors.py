"""Prior distributions over scenario key paths, as scipy.stats distributions.

The same scipy names and arguments serve the built-in sampler (:class:`PriorSet`) and pyabc,
whose ``pyabc.RV(name, *args)`` wraps ``scipy.stats.<name>(*args)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from treatysim.scenario.calibration import LogUniform, Normal, Prior, TruncatedNormal, Uniform

FloatArray = NDArray[np.float64]
#: Where :meth:`PriorSet.to_normal` clips its standard normal scores (probability 1e-15 beyond).
Z_LIMIT = 8.0


def scipy_spec(prior: Prior) -> tuple[str, tuple[float, ...]]:
    """The scipy.stats distribution name and positional arguments of a prior.

    Args:
        prior: A prior of the calibration language.

    Returns:
        ``(name, args)`` such that ``getattr(scipy.stats, name)(*args)`` is the prior.
    """
    if isinstance(prior, Uniform):
        return "uniform", (prior.low, prior.high - prior.low)
    if isinstance(prior, LogUniform):
        return "loguniform", (prior.low, prior.high)
    if isinstance(prior, Normal):
        return "norm", (prior.mean, prior.sd)
    if isinstance(prior, TruncatedNormal):
        a = -np.inf if prior.low is None else (prior.low - prior.mean) / prior.sd
        b = np.inf if prior.high is None else (prior.high - prior.mean) / prior.sd
        return "truncnorm", (float(a), float(b), prior.mean, prior.sd)
    raise TypeError(f"not a prior: {prior!r}")


def frozen(prior: Prior) -> Any:
    """The prior as a frozen scipy.stats distribution."""
    name, args = scipy_spec(prior)
    return getattr(stats, name)(*args)


@dataclass(frozen=True)
class PriorSet:
    """Independent priors over named parameters, in a fixed order.

    Attributes:
        names: Parameter names (scenario key paths), the columns of every particle array.
        priors: The priors, in the same order.
    """

    names: tuple[str, ...]
    priors: tuple[Prior, ...]

    @classmethod
    def from_mapping(cls, priors: Mapping[str, Prior]) -> PriorSet:
        """From a calibration file's ``priors`` (key path → prior), in the file's order."""
        return cls(tuple(priors), tuple(priors.values()))

    @property
    def dim(self) -> int:
        """Number of parameters."""
        return len(self.names)

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` independent draws, shape (n, dim)."""
        cols = [frozen(p).rvs(size=n, random_state=rng) for p in self.priors]
        return np.column_stack(cols).astype(float) if cols else np.empty((n, 0))

    def logpdf(self, theta: FloatArray) -> FloatArray:
        """Log prior density of each row of ``theta`` (shape (n, dim)); -inf outside support."""
        theta = np.atleast_2d(theta)
        out = np.zeros(len(theta))
        for j, p in enumerate(self.priors):
            out += frozen(p).logpdf(theta[:, j])
        return out

    def to_normal(self, theta: FloatArray) -> FloatArray:
        """Each column mapped through its prior's CDF to a standard normal: z = Phi^-1(F(theta)).

        Under the prior, ``z`` is standard normal in every column; the map is a bijection from
        the prior's support onto the real line, so a Gaussian kernel on ``z`` never leaves the
        support. Tails are clipped at |z| = :data:`Z_LIMIT`.
        """
        theta = np.atleast_2d(theta)
        cols = []
        for j, p in enumerate(self.priors):
            dist = frozen(p)
            # the upper half through the survival function, for precision near 1
            low = stats.norm.ppf(dist.cdf(theta[:, j]))
            high = -stats.norm.ppf(dist.sf(theta[:, j]))
            cols.append(np.where(theta[:, j] <= dist.median(), low, high))
        z = np.column_stack(cols) if cols else np.empty((len(theta), 0))
        return np.clip(z, -Z_LIMIT, Z_LIMIT)

    def from_normal(self, z: FloatArray) -> FloatArray:
        """The inverse of :meth:`to_normal`: theta = F^-1(Phi(z)), inside the support."""
        z = np.atleast_2d(z)
        cols = []
        for j, p in enumerate(self.priors):
            dist = frozen(p)
            zj = np.clip(z[:, j], -Z_LIMIT, Z_LIMIT)
            low = dist.ppf(stats.norm.cdf(zj))
            high = dist.isf(stats.norm.sf(zj))
            cols.append(np.where(zj <= 0, low, high))
        return np.column_stack(cols).astype(float) if cols else np.empty((len(z), 0))

    def as_dicts(self, theta: FloatArray) -> list[dict[str, float]]:
        """Rows of ``theta`` as ``{name: value}`` mappings."""
        return [dict(zip(self.names, map(float, row), strict=True)) for row in theta]

    def as_array(self, params: Sequence[Mapping[str, float]]) -> FloatArray:
        """``{name: value}`` mappings as an array of shape (n, dim)."""
        return np.array([[float(p[k]) for k in self.names] for p in params], dtype=float)

    def describe(self) -> dict[str, dict[str, Any]]:
        """Name → the prior as plain data (for the manifest)."""
        return {n: p.model_dump(mode="json") for n, p in zip(self.names, self.priors, strict=True)}
