"""Synthetic populations (``states.synthetic`` in a scenario file): abstract agents for teaching.

N agents on a generated network, with thresholds, for the classic threshold models
(Granovetter 1978; Watts 2002).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from treatysim.scenario.types import Frozen, Whole


class SyntheticNetwork(Frozen):
    """The network of a synthetic population (generated with networkx)."""

    type: Literal[
        "complete", "erdos_renyi", "watts_strogatz", "barabasi_albert", "ring", "lattice",
        "edge_list",
    ] = Field(description="Graph family, or an edge list file.")  # fmt: skip
    mean_degree: float | None = Field(
        None, gt=0, le=1000, description="erdos_renyi: mean degree z (edges per node × 2 / n)."
    )
    neighbours: Whole | None = Field(
        None, ge=2, le=1000, description="watts_strogatz: each node's neighbours on the ring (k)."
    )
    rewiring: float | None = Field(
        None, ge=0, le=1, description="watts_strogatz: rewiring probability (p)."
    )
    attachments: Whole | None = Field(
        None, ge=1, le=1000, description="barabasi_albert: edges each new node attaches (m)."
    )
    file: str | None = Field(
        None,
        description="edge_list: CSV with columns source,target (agent ids or 0-based indices).",
    )
    seed: Whole | None = Field(
        None,
        ge=0,
        le=2**63 - 1,
        description=(
            "Seed of a random graph shared by every replication; omit it to draw a new graph in "
            "each replication from that replication's recorded seed. Complete graphs, rings, "
            "lattices and edge lists have no randomness and ignore it."
        ),
    )

    @model_validator(mode="after")
    def _needs(self) -> SyntheticNetwork:
        needs = {
            "erdos_renyi": ("mean_degree",),
            "watts_strogatz": ("neighbours", "rewiring"),
            "barabasi_albert": ("attachments",),
            "edge_list": ("file",),
        }.get(self.type, ())
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.type} network needs {', '.join(missing)}")
        return self


class Thresholds(Frozen):
    """Thresholds of a synthetic population (Granovetter 1978)."""

    distribution: Literal["list", "fixed", "uniform", "normal"] = Field(
        description="An explicit list, one value for all, or drawn in each replication."
    )
    values: list[Annotated[float, Field(ge=-1e6, le=1e6)]] | None = Field(
        None, description="list: one threshold per agent, in order."
    )
    value: float | None = Field(None, ge=0, le=1e6, description="fixed: the common threshold.")
    low: float | None = Field(None, ge=-1e6, le=1e6, description="uniform: lower bound.")
    high: float | None = Field(None, ge=-1e6, le=1e6, description="uniform: upper bound.")
    mean: float | None = Field(None, ge=-1e6, le=1e6, description="normal: mean.")
    sd: float | None = Field(None, ge=0, le=1e6, description="normal: standard deviation.")
    counted_in: Literal["fraction", "agents"] = Field(
        "fraction",
        description=(
            "fraction: share of neighbours (rule fractional_threshold); agents: number of "
            "neighbours (rule count_threshold)."
        ),
    )

    @model_validator(mode="after")
    def _needs(self) -> Thresholds:
        needs = {
            "list": ("values",),
            "fixed": ("value",),
            "uniform": ("low", "high"),
            "normal": ("mean", "sd"),
        }[self.distribution]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{self.distribution} thresholds need {', '.join(missing)}")
        uniform = self.distribution == "uniform" and self.low is not None and self.high is not None
        if uniform and self.low >= self.high:  # type: ignore[operator]
            raise ValueError("uniform thresholds need low < high")
        return self


class InitialActors(Frozen):
    """Who acts first."""

    kind: Literal["zero_threshold", "random"] = Field(
        "zero_threshold",
        description=(
            "zero_threshold: only agents whose threshold is met by nobody acting start it; "
            "random: `count` agents drawn in each replication act at the start."
        ),
    )
    count: Whole = Field(1, ge=0, le=1_000_000, description="random: how many initial actors.")


class SyntheticPopulation(Frozen):
    """A population of abstract agents instead of real states (teaching, theory checks)."""

    size: Whole = Field(ge=1, le=20_000, description="Number of agents.")
    id_prefix: str = Field(
        "A", pattern=r"^[A-Za-z][A-Za-z_]{0,7}$", description="Agent ids are prefix + number."
    )
    network: SyntheticNetwork
    thresholds: Thresholds
    initial_actors: InitialActors = Field(default_factory=InitialActors)

    @model_validator(mode="after")
    def _sizes(self) -> SyntheticPopulation:
        values = self.thresholds.values
        if values is not None and len(values) != self.size:
            raise ValueError(f"thresholds.values has {len(values)} entries for {self.size} agents")
        if self.initial_actors.count > self.size:
            raise ValueError("more initial actors than agents")
        return self

    def ids(self) -> list[str]:
        """The agents' ids: prefix and a zero-padded number (A000 … A099)."""
        width = len(str(self.size - 1))
        return [f"{self.id_prefix}{i:0{width}d}" for i in range(self.size)]
