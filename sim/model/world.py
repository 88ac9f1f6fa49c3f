"""Resolve a validated scenario into the arrays a model runs on.

Resolution happens once per scenario, not once per replication: a :class:`World` is immutable
and shared by every replication (and pickled once per worker), so building a model is cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from treatysim.model.calendar import Calendar
from treatysim.model.dynamics import as_matrix, hazard, ou_coefficients, row_normalise
from treatysim.model.population import (
    DETERMINISTIC,
    fixed_thresholds,
    generate_graph,
)
from treatysim.model.timeline import Timeline, compile_timeline
from treatysim.scenario.checks import expand
from treatysim.scenario.commitments import derived_parliament_months, derived_stigma
from treatysim.scenario.dataset import Dataset, haversine_km, load_observed, scenario_dataset

if TYPE_CHECKING:
    from treatysim.scenario.schema import Scenario, SyntheticPopulation


@dataclass(frozen=True)
class SourceArrays:
    """Threat sources, one entry per source.

    Attributes:
        ids: Source ids (ISO3).
        capability: Capability at the start (relative power units).
        tied_down_share: Share tied down elsewhere at the start.
        offensive: Offensive capability multiplier.
        proximity: Shape (sources, states): Walt's proximity, 1 at a shared border with the
            source or its allies, else exp(-distance / decay).
        intent: Shape (sources, states): perceived intent, 0 for the source and its allies.
    """

    ids: tuple[str, ...]
    capability: NDArray[np.float64]
    tied_down_share: NDArray[np.float64]
    offensive: NDArray[np.float64]
    allies: tuple[tuple[str, ...], ...]
    proximity: NDArray[np.float64]
    intent: NDArray[np.float64]


@dataclass(frozen=True)
class NetworkViews:
    """The influence network as the model uses it.

    Attributes:
        neighbour_weights: Shape (n, n): row-normalised weights (alarm spreads along them).
        reference_weights: Per treaty, (n, n) weights towards its initial parties,
            row-normalised (a state's reference network for that treaty): one (k, n, n) array
            when dense, else a tuple of sparse matrices.
        adjacency: Shape (n, n): 1 where two states are tied at all (count rules).

    Each is a dense array, or a scipy.sparse CSR matrix for large sparse networks.
    """

    neighbour_weights: Any
    reference_weights: NDArray[np.float64] | tuple[Any, ...]
    adjacency: Any

    @classmethod
    def of(cls, weights: Any, party: NDArray[np.bool_]) -> NetworkViews:
        """Derive the views from raw weights and initial treaty membership.

        Args:
            weights: Shape (n, n): a dense array, or a sparse matrix (a synthetic graph built
                from its edges), which stays sparse unless it is small or dense.
            party: Shape (n, k).
        """
        if not isinstance(weights, np.ndarray):
            return cls._of_sparse(weights, party)
        ties: NDArray[np.float64] = np.asarray(weights, dtype=float)
        per_treaty = [
            as_matrix(row_normalise(ties * party[:, j][None, :])) for j in range(party.shape[1])
        ]
        dense = all(isinstance(m, np.ndarray) for m in per_treaty)
        reference = np.stack(per_treaty) if dense else tuple(per_treaty)
        return cls(as_matrix(row_normalise(ties)), reference, as_matrix((ties > 0).astype(float)))

    @classmethod
    def _of_sparse(cls, weights: Any, party: NDArray[np.bool_]) -> NetworkViews:
        """The views of a sparse network: the same numbers as from its dense form."""
        from scipy import sparse

        n = weights.shape[0]
        ties = sparse.csr_array(weights, dtype=float)
        ties.eliminate_zeros()
        ties.sort_indices()
        if n < 200 or ties.nnz >= 0.1 * n * n:  # as_matrix keeps these dense
            return cls.of(ties.toarray(), party)

        def normalised(matrix: Any) -> Any:
            total = np.asarray(matrix.sum(axis=1)).ravel()
            rows = np.repeat(np.arange(n), np.diff(matrix.indptr))
            out = matrix.copy()
            out.data = np.divide(
                out.data, total[rows], out=np.zeros_like(out.data), where=total[rows] > 0
            )
            return out

        per_treaty = []
        for j in range(party.shape[1]):
            masked = ties.multiply(party[:, j][None, :].astype(float)).tocsr()
            masked.eliminate_zeros()
            masked.sort_indices()
            per_treaty.append(as_matrix(normalised(masked)))
        adjacency = ties.copy()
        adjacency.data = (adjacency.data > 0).astype(float)
        return cls(normalised(ties), tuple(per_treaty), adjacency)


@dataclass(frozen=True)
class StepHazards:
    """Probability, per step and state, that an exponential waiting time ends in that step.

    Attributes:
        deliberation: Shape (steps, n): deliberation ends in an announcement.
        vote: Shape (steps, n): parliament votes.
        deposit: Shape (steps, n): the instrument is deposited.
        retraction: Shape (steps,): a state that wants to retract does so.
    """

    deliberation: NDArray[np.float64]
    vote: NDArray[np.float64]
    deposit: NDArray[np.float64]
    retraction: NDArray[np.float64]


@dataclass(frozen=True)
class StepSmoothing:
    """Per-step coefficients of the model's memory (see :func:`.dynamics.ou_coefficients`).

    Attributes:
        threat_keep: Shape (steps,): share of the gap to the threat target that survives a step.
        threat_spread: Shape (steps,): noise standard deviation per unit draw.
        commitment_keep: Shape (steps,): the same as threat_keep, for commitment.
    """

    threat_keep: NDArray[np.float64]
    threat_spread: NDArray[np.float64]
    commitment_keep: NDArray[np.float64]


@dataclass(frozen=True)
class World:
    """Everything static about a scenario, as arrays indexed by state and treaty.

    Attributes:
        scenario: The validated scenario.
        ids: State ids in model order.
        names: Display names.
        lat: Capital latitudes (degrees).
        lon: Capital longitudes (degrees).
        treaties: Treaty ids in model order.
        party: Shape (n, k): party to the treaty at the start.
        weights: Shape (n, n): influence network, zero diagonal, raw (not normalised).
        border: Shape (n, n): shared land border.
        bloc: Shape (n,): index of the deposit bloc a state belongs to, or -1.
        bloc_names: Names of the deposit blocs.
        sensitivity: Shape (n,): threat sensitivity (pressure per threat unit).
        stigma: Shape (n,): stigma (commitment units).
        commitment: Shape (n, k): baseline commitment (commitment units).
        fixed_threshold: Shape (n,): thresholds for threshold rules.
        deliberation_months: Shape (n,).
        parliament_months: Shape (n,).
        pass_probability: Shape (n,).
        deposit_months: Shape (n,).
        in_conflict: Shape (n,): engaged in armed conflict at the start.
        sources: Threat-source arrays.
        calendar: Step dates.
        observed: Observed stages (dicts with iso3, treaty, stage, date, source).
        dataset: The state table the scenario was resolved against.
        base_dir: Folder the scenario's relative paths resolve against.
    """

    scenario: Scenario
    ids: tuple[str, ...]
    names: tuple[str, ...]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    treaties: tuple[str, ...]
    party: NDArray[np.bool_]
    weights: NDArray[np.float64]
    border: NDArray[np.bool_]
    bloc: NDArray[np.int64]
    bloc_names: tuple[str, ...]
    sensitivity: NDArray[np.float64]
    stigma: NDArray[np.float64]
    commitment: NDArray[np.float64]
    fixed_threshold: NDArray[np.float64]
    deliberation_months: NDArray[np.float64]
    parliament_months: NDArray[np.float64]
    pass_probability: NDArray[np.float64]
    deposit_months: NDArray[np.float64]
    in_conflict: NDArray[np.bool_]
    sources: SourceArrays
    calendar: Calendar
    observed: tuple[dict[str, str], ...]
    dataset: Dataset
    base_dir: Path | None = None

    @property
    def population(self) -> SyntheticPopulation | None:
        """The synthetic population, when the scenario has one."""
        return self.scenario.states.synthetic

    @property
    def graph_per_replication(self) -> bool:
        """Whether each replication draws its own network (a synthetic graph without a seed)."""
        population = self.population
        if population is None:
            return False
        return population.network.seed is None and population.network.type not in DETERMINISTIC

    @property
    def n_states(self) -> int:
        """Number of states."""
        return len(self.ids)

    def index(self, state: str) -> int:
        """Row of a state."""
        return self.ids.index(state)

    @cached_property
    def network(self) -> NetworkViews:
        """The influence network in the forms the model uses (computed once per world)."""
        return NetworkViews.of(self.weights, self.party)

    @cached_property
    def hazards(self) -> StepHazards:
        """Per-step probabilities of the pipeline's waiting times ending (computed once)."""
        dt_months = self.calendar.step_months[:, None]
        pipeline = self.scenario.parameters.pipeline
        return StepHazards(
            deliberation=hazard(dt_months, self.deliberation_months[None, :]),
            vote=hazard(dt_months, self.parliament_months[None, :]),
            deposit=hazard(dt_months, self.deposit_months[None, :]),
            retraction=hazard(self.calendar.step_months, pipeline.retraction_months),
        )

    @cached_property
    def smoothing(self) -> StepSmoothing:
        """Per-step coefficients of perception and commitment memory (computed once)."""
        params = self.scenario.parameters
        keep, spread = ou_coefficients(
            self.calendar.step_months, params.threat.memory_months, params.threat.noise
        )
        commitment_keep, _ = ou_coefficients(
            self.calendar.step_months, params.commitment.memory_months, 0.0
        )
        return StepSmoothing(keep, spread, commitment_keep)

    @cached_property
    def timeline(self) -> Timeline:
        """The scenario's events compiled into per-step arrays (computed once)."""
        return compile_timeline(self)

    def rows(self, names: list[str]) -> list[int]:
        """Rows of the states named (ISO3 codes or groups) that are in the model."""
        pos = {s: i for i, s in enumerate(self.ids)}
        return [pos[s] for s in expand(names, self.scenario, self.dataset) if s in pos]


def build_world(scenario: Scenario, base_dir: Path | None = None) -> World:
    """Resolve a validated scenario against its dataset.

    Args:
        scenario: A scenario that passed :func:`treatysim.scenario.load.load_scenario`'s checks.
        base_dir: Folder that relative dataset paths resolve against.
    """
    dataset = scenario_dataset(scenario, base_dir)
    include = expand(scenario.states.include, scenario, dataset)
    exclude = set(expand(scenario.states.exclude, scenario, dataset))
    ids = tuple(s for s in include if s not in exclude)
    n = len(ids)
    pos = {s: i for i, s in enumerate(ids)}
    records = [dataset.states[s] for s in ids]
    treaties = tuple(scenario.treaties)
    params = scenario.parameters

    def members(names: list[str]) -> list[int]:
        return [pos[s] for s in expand(names, scenario, dataset) if s in pos]

    party = np.zeros((n, len(treaties)), dtype=bool)
    for k, tid in enumerate(treaties):
        spec = scenario.treaties[tid].parties
        if spec.column is None and not spec.include:
            party[:, k] = True
        if spec.column is not None:
            party[:, k] = [r.columns.get(spec.column, "0").strip() == "1" for r in records]
        party[members(spec.include), k] = True
        party[members(spec.exclude), k] = False

    border = np.zeros((n, n), dtype=bool)
    for i, r in enumerate(records):
        for b in r.land_borders:
            if b in pos:
                border[i, pos[b]] = border[pos[b], i] = True
    nato = np.array([r.nato for r in records])
    eu = np.array([r.eu for r in records])
    ties = scenario.network.ties
    weights = (
        ties.land_border * border + ties.nato * np.outer(nato, nato) + ties.eu * np.outer(eu, eu)
    )
    for group, weight in ties.groups.items():
        g = np.zeros(n, dtype=bool)
        g[members([group])] = True
        weights = weights + weight * np.outer(g, g)
    population = scenario.states.synthetic
    if population is not None:
        # a synthetic population's ties are its generated graph (shared, or drawn per run)
        network = population.network
        weights = (
            np.zeros((n, n))
            if network.seed is None and network.type not in DETERMINISTIC
            else generate_graph(network, n, network.seed or 0, base_dir, list(ids)).astype(float)
        )
    np.fill_diagonal(weights, 0.0)

    bloc = np.full(n, -1, dtype=np.int64)
    bloc_names = tuple(name for name, g in scenario.groups.items() if g.deposit_together)
    for number, name in enumerate(bloc_names):
        for i in members([name]):
            if bloc[i] < 0:
                bloc[i] = number

    def per_state(attr: str, default: float | NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.array(np.broadcast_to(np.asarray(default, dtype=float), (n,)))
        for iso3, override in scenario.states.overrides.items():
            value = getattr(override, attr)
            if value is not None and iso3 in pos:
                out[pos[iso3]] = float(value)
        return out

    pipeline = params.pipeline
    commitment = np.full((n, len(treaties)), params.commitment.baseline)
    for iso3, override in scenario.states.overrides.items():
        for tid, value in override.commitment.items():
            if iso3 in pos:
                commitment[pos[iso3], treaties.index(tid)] = value
    in_conflict = np.zeros(n, dtype=bool)
    for iso3, override in scenario.states.overrides.items():
        if override.in_armed_conflict is not None and iso3 in pos:
            in_conflict[pos[iso3]] = override.in_armed_conflict

    world = World(
        scenario=scenario,
        ids=ids,
        names=tuple(r.name for r in records),
        lat=np.array([r.lat for r in records]),
        lon=np.array([r.lon for r in records]),
        treaties=treaties,
        party=party,
        weights=weights,
        border=border,
        bloc=bloc,
        bloc_names=bloc_names,
        sensitivity=per_state("threat_sensitivity", params.threat.sensitivity),
        stigma=per_state("stigma", derived_stigma(records, params.commitment)),
        commitment=commitment,
        fixed_threshold=_thresholds(scenario, per_state("threshold", params.threshold.default)),
        deliberation_months=per_state("deliberation_months", pipeline.deliberation_months),
        parliament_months=per_state(
            "parliament_months", derived_parliament_months(records, pipeline)
        ),
        pass_probability=per_state(
            "parliament_pass_probability", pipeline.parliament_pass_probability
        ),
        deposit_months=per_state("deposit_months", pipeline.deposit_months),
        in_conflict=in_conflict,
        sources=_sources(scenario, dataset, ids, border),
        calendar=Calendar.build(
            scenario.calendar.start, scenario.calendar.end, scenario.calendar.step
        ),
        observed=_observed(scenario, base_dir),
        dataset=dataset,
        base_dir=base_dir,
    )
    return world


def _thresholds(scenario: Scenario, default: NDArray[np.float64]) -> NDArray[np.float64]:
    """Fixed thresholds: the population's list or common value, else the per-state default.

    Per-state overrides win over both. Thresholds drawn per replication are NaN here; the model
    draws them.
    """
    population = scenario.states.synthetic
    if population is None:
        return default
    fixed = fixed_thresholds(population.thresholds, population.size)
    out = fixed.copy() if fixed is not None else np.full(population.size, np.nan)
    ids = population.ids()
    for iso3, override in scenario.states.overrides.items():
        if override.threshold is not None and iso3 in ids:
            out[ids.index(iso3)] = override.threshold
    return out


def _sources(
    scenario: Scenario, dataset: Dataset, ids: tuple[str, ...], border: NDArray[np.bool_]
) -> SourceArrays:
    n = len(ids)
    threat = scenario.parameters.threat
    src_ids = tuple(scenario.threat_sources)
    proximity = np.zeros((len(src_ids), n))
    intent = np.zeros((len(src_ids), n))
    for s, sid in enumerate(src_ids):
        source = scenario.threat_sources[sid]
        territory = [sid, *source.allies]
        stance: dict[str, float] = {}
        for name, value in source.stance.items():
            for iso3 in expand([name], scenario, dataset):
                stance[iso3] = value
        for i, iso3 in enumerate(ids):
            rec = dataset.states[iso3]
            distance = min(
                haversine_km(rec.lat, rec.lon, dataset.states[t].lat, dataset.states[t].lon)
                for t in territory
            )
            shares_border = any(t in rec.land_borders for t in territory)
            near = np.exp(-distance / threat.distance_decay_km)
            proximity[s, i] = max(threat.border_proximity if shares_border else 0.0, near)
            intent[s, i] = 0.0 if iso3 in territory else stance.get(iso3, source.default_intent)
    return SourceArrays(
        ids=src_ids,
        capability=np.array([scenario.threat_sources[s].capability for s in src_ids]),
        tied_down_share=np.array([scenario.threat_sources[s].tied_down_share for s in src_ids]),
        offensive=np.array([scenario.threat_sources[s].offensive for s in src_ids]),
        allies=tuple(tuple(scenario.threat_sources[s].allies) for s in src_ids),
        proximity=proximity,
        intent=intent,
    )


def _observed(scenario: Scenario, base_dir: Path | None) -> tuple[dict[str, str], ...]:
    rows: list[dict[str, str]] = []
    if scenario.observed.dataset is not None:
        rows.extend(load_observed(scenario.observed.dataset, base_dir))
    rows.extend(
        {
            "iso3": r.iso3,
            "treaty": r.treaty,
            "stage": r.stage,
            "date": r.date.isoformat(),
            "source": r.source,
        }
        for r in scenario.observed.records
    )
    return tuple(r for r in rows if r["treaty"] in scenario.treaties)
