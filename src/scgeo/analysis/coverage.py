"""Coverage by area × category: who lives within walking reach of each kind of resource.

One multi-source shortest-path run per category (all active resources of the category as
sources, :meth:`scgeo.network.WalkNetwork.node_distance`) gives every street node its walking
distance to the nearest resource; population points, needs and catchments all reuse it.

Rules that the numbers rest on:
- only ``active`` resources count; paused and closed ones do not, planned ones (計画中(案)) only
  with ``include_planned=True``;
- a resource with a ``served_area_id`` comes to people: it covers every town block of that
  area, whatever the distance; any other resource covers what lies within the walking time;
- a resource whose ``last_confirmed`` is missing or older than ``settings.stale_months`` counts,
  but coverage that rests only on such resources is reported in ``covered_65plus_unconfirmed``;
- without a walking network, distances are straight lines × a detour factor (``method`` says so);
- effective coverage weighs each resource (``weights``, 0–1: confirmation state × weekly-available
  share, :func:`scgeo.analysis.freshness.supply_weights`): an older resident counts for the
  largest weight among the resources that cover them, so ``coverage_effective_pct`` never exceeds
  ``coverage_pct`` and equals it when every weight is 1 (see docs/coverage.md).
- a category with no resource registered at all (any status) is 「データなし」, not a gap: the
  data are missing, not the resources; blank zones are built only for categories with data;
- when 65+ is unknown (``population_basis="total"``) the analysis runs on the total population,
  and the ``basis`` column says so (:mod:`scgeo.analysis.basis`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from scgeo.analysis.basis import apply_population_basis, method_note, population_basis_note
from scgeo.analysis.population import area_membership, population_points
from scgeo.network import DEFAULT_DETOUR_FACTOR, Snap, WalkNetwork, straight_line_m
from scgeo.schema import AREA_LEVELS, COARSE_MATCH_LEVELS, Taxonomy, load_taxonomy
from scgeo.settings import get_settings

__all__ = [
    "Coverage",
    "CoverageRules",
    "analyse_coverage",
    "coverage_table",
    "travel_minutes",
]

STATUS_SUFFICIENT, STATUS_SHORT, STATUS_BLANK, STATUS_NONE = "充足", "不足", "空白", "対象者なし"
STATUS_NO_DATA = "データなし"  # no resource of the category registered anywhere: unknown, not a gap


@dataclass(frozen=True)
class CoverageRules:
    """How a coverage percentage becomes a status.

    ``充足`` at or above ``sufficient_pct``; ``空白`` below ``blank_pct``; ``不足`` between;
    ``対象者なし`` where no one aged 65+ lives. ``basis`` says which percentage decides:
    ``plain`` (``coverage_pct``) or ``effective`` (``coverage_effective_pct``).
    """

    sufficient_pct: float = 80.0
    blank_pct: float = 20.0
    basis: str = "plain"

    def status(self, pct: pd.Series) -> pd.Series:
        """Statuses for coverage percentages (NaN: no older residents)."""
        out = np.where(pct >= self.sufficient_pct, STATUS_SUFFICIENT,
                       np.where(pct < self.blank_pct, STATUS_BLANK, STATUS_SHORT))
        return pd.Series(np.where(pct.isna(), STATUS_NONE, out), index=pct.index)


def travel_minutes(network: WalkNetwork | None, sources: gpd.GeoDataFrame, targets: gpd.GeoDataFrame, *,
                   speed_m_per_min: float | None = None, limit_min: float | None = None) -> np.ndarray:
    """Walking minutes from each target to its nearest source (``inf``: none reachable).

    With ``network=None`` the distance is a straight line × :data:`DEFAULT_DETOUR_FACTOR`.
    """
    speed = speed_m_per_min or get_settings().walk_speed_m_per_min
    if network is None:
        return straight_line_m(sources.geometry, targets.geometry) / speed
    limit = np.inf if limit_min is None else limit_min * speed
    return network.distance_to_nearest(network.snap(sources), network.snap(targets), limit_m=limit) / speed


@dataclass
class Coverage:
    """The result of :func:`analyse_coverage`, reused by the table, catchments and blank zones."""

    minutes: float
    method: str
    points: gpd.GeoDataFrame           # population points with per-category coverage columns
    membership: pd.DataFrame            # block_id, level, area_id
    areas: gpd.GeoDataFrame
    resources: gpd.GeoDataFrame         # active resources with `stale` and `blocks` columns
    needs: gpd.GeoDataFrame | None
    categories: list[str]
    taxonomy: Taxonomy
    network: WalkNetwork | None
    speed_m_per_min: float
    rules: CoverageRules = field(default_factory=CoverageRules)
    node_distance: dict[str, np.ndarray] = field(default_factory=dict)
    weights_label: str = "なし(すべて1)"
    population_basis: str = "age"       # age / estimated / total (scgeo.analysis.basis)
    aging_rate: float | None = None
    no_data: tuple[str, ...] = ()       # categories with no resource registered at all
    known_75plus: bool = True           # False: no block tells its 75+ (shown as unknown, not 0)

    @property
    def tells_75plus(self) -> bool:
        """Whether the population tells 75+: not with the total only, nor when no block has it (an
        aging-rate estimate of 65+); else 75+ is shown as unknown, not as 0.
        """
        return self.population_basis != "total" and self.known_75plus

    @property
    def basis_note(self) -> str:
        """How 65+ was counted, in Japanese (the ``basis`` column)."""
        return population_basis_note(self.population_basis, self.aging_rate) or "65歳以上人口(年齢別)"

    @property
    def method_note(self) -> str:
        """How distances were measured, in Japanese (the ``method_note`` column)."""
        return method_note(self.method)

    def table(self, levels: list[str] | None = None) -> pd.DataFrame:
        """The tidy coverage table: one row per area × category (see :func:`coverage_table`)."""
        levels = levels or [lv for lv in AREA_LEVELS if lv in set(self.membership["level"])]
        frames = [self._level_table(level) for level in levels]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def _level_table(self, level: str) -> pd.DataFrame:
        member = self.membership[self.membership["level"] == level][["block_id", "area_id"]]
        pts = self.points.merge(member, on="block_id")
        cats = self.categories
        sums = {}
        for name, weight, prefix in (("covered_65plus", "pop_65plus", "cov"), ("covered_75plus", "pop_75plus", "cov"),
                                     ("covered_65plus_confirmed", "pop_65plus", "conf"),
                                     ("covered_65plus_effective", "pop_65plus", "eff")):
            values = pts[[f"{prefix}_{c}" for c in cats]].to_numpy() * pts[[weight]].to_numpy()
            sums[name] = pd.DataFrame(values, columns=cats).groupby(pts["area_id"].to_numpy()).sum().stack()
        pops = pts.groupby("area_id")[["pop_65plus", "pop_75plus"]].sum()
        areas = self.areas[self.areas["level"] == level][["area_id", "name"]]
        grid = pd.MultiIndex.from_product([areas["area_id"], cats], names=["area_id", "category"])
        table = pd.DataFrame(sums).reindex(grid, fill_value=0.0)
        table = table.join(pops, on="area_id").fillna({"pop_65plus": 0.0, "pop_75plus": 0.0})
        table = table.join(self._resources_in(member)).join(self._needs_in(member))
        counts = ["n_resources", "n_resources_unconfirmed", "n_resources_town_point", "needs_open",
                  "needs_uncovered"]
        table[counts] = table[counts].fillna(0).astype(int)
        table = table.reset_index().merge(areas.rename(columns={"name": "area_name"}), on="area_id")
        table.insert(0, "level", level)
        return self._finish(table)

    def _finish(self, table: pd.DataFrame) -> pd.DataFrame:
        pct = (100 * table["covered_65plus"] / table["pop_65plus"]).where(table["pop_65plus"] > 0)
        table["coverage_pct"] = pct.round(1)
        # never above plain coverage, also after floating-point sums
        effective = np.minimum(table["covered_65plus_effective"], table["covered_65plus"])
        table["covered_65plus_effective"] = effective
        eff_pct = (100 * effective / table["pop_65plus"]).where(table["pop_65plus"] > 0)
        table["coverage_effective_pct"] = eff_pct.round(1)
        table["weights"] = self.weights_label
        table["covered_65plus_unconfirmed"] = table["covered_65plus"] - table["covered_65plus_confirmed"]
        table["resources_per_1000_65plus"] = (1000 * table["n_resources"] / table["pop_65plus"]).where(
            table["pop_65plus"] > 0).round(2)
        table["status"] = self.rules.status(eff_pct if self.rules.basis == "effective" else pct)
        no_data = table["category"].isin(self.no_data)
        if no_data.any():  # nothing registered: coverage unknown, not 0 %
            unknown = ["covered_65plus", "coverage_pct", "covered_65plus_unconfirmed", "covered_75plus",
                       "resources_per_1000_65plus", "covered_65plus_effective", "coverage_effective_pct"]
            table.loc[no_data, unknown] = np.nan
            table.loc[no_data, "status"] = STATUS_NO_DATA
        if not self.tells_75plus:
            table[["pop_75plus", "covered_75plus"]] = np.nan
        table["category_label"] = table["category"].map(self.taxonomy.label)
        table["minutes"] = self.minutes
        table["method"] = self.method
        table["method_note"] = self.method_note
        table["basis"] = self.basis_note
        for col in ("pop_65plus", "pop_75plus", "covered_65plus", "covered_75plus",
                    "covered_65plus_unconfirmed", "covered_65plus_effective"):
            table[col] = table[col].round(1)
        return table[TABLE_COLUMNS]

    def _resources_in(self, member: pd.DataFrame) -> pd.DataFrame:
        """Active resources located in or serving each area, by category (and the stale ones)."""
        res = self.resources[["resource_id", "category", "stale", "blocks"]].copy()
        level = self.resources["match_level"] if "match_level" in self.resources else None
        res["town_point"] = level.isin(COARSE_MATCH_LEVELS).to_numpy() if level is not None else False
        touched = res.explode("blocks").rename(columns={"blocks": "block_id"}).merge(member, on="block_id")
        touched = touched.drop_duplicates(["resource_id", "area_id"])
        keys = ["area_id", "category"]
        return pd.DataFrame({"n_resources": touched.groupby(keys).size(),
                             "n_resources_unconfirmed": touched[touched["stale"]].groupby(keys).size(),
                             "n_resources_town_point": touched[touched["town_point"]].groupby(keys).size()})

    def _needs_in(self, member: pd.DataFrame) -> pd.DataFrame:
        """Open needs per area and category, and how many of them no resource covers."""
        empty = pd.DataFrame({"needs_open": [], "needs_uncovered": []}, dtype=int,
                             index=pd.MultiIndex.from_arrays([[], []], names=["area_id", "category"]))
        if self.needs is None or not len(self.needs):
            return empty
        needs = self.needs[(self.needs["status"] == "open") & self.needs["category"].isin(self.categories)]
        needs = needs.merge(member, on="block_id")
        if not len(needs):
            return empty
        covered = np.zeros(len(needs), dtype=bool)
        for code in self.categories:
            mine = (needs["category"] == code).to_numpy()
            covered[mine] = needs.loc[mine, f"cov_{code}"].to_numpy(dtype=bool)
        needs = needs.assign(uncovered=~covered)
        grouped = needs.groupby(["area_id", "category"])
        return pd.DataFrame({"needs_open": grouped.size(), "needs_uncovered": grouped["uncovered"].sum()})


TABLE_COLUMNS = [
    "level", "area_id", "area_name", "category", "category_label", "minutes", "method",
    "pop_65plus", "covered_65plus", "coverage_pct", "covered_65plus_effective", "coverage_effective_pct",
    "weights", "covered_65plus_unconfirmed", "pop_75plus",
    "covered_75plus", "n_resources", "n_resources_unconfirmed", "n_resources_town_point",
    "resources_per_1000_65plus",
    "needs_open", "needs_uncovered", "status", "basis", "method_note",
]


def _served_blocks(resources: gpd.GeoDataFrame, blocks: gpd.GeoDataFrame, membership: pd.DataFrame) -> pd.Series:
    """The town blocks each resource reaches: its served area's blocks, or the block it stands in."""
    served = membership.groupby("area_id")["block_id"].agg(list)
    located = gpd.sjoin(resources[["resource_id", "geometry"]], blocks[["area_id", "geometry"]], predicate="within",
                        how="left").drop_duplicates("resource_id").set_index("resource_id")["area_id"]
    out = []
    for rid, area in zip(resources["resource_id"], resources["served_area_id"], strict=True):
        if isinstance(area, str) and area in served.index:
            out.append(served[area])
        else:
            block = located.get(rid)
            out.append([block] if isinstance(block, str) else [])
    return pd.Series(out, index=resources.index)


def analyse_coverage(
    areas: gpd.GeoDataFrame,
    blocks: gpd.GeoDataFrame,
    resources: gpd.GeoDataFrame,
    needs: gpd.GeoDataFrame | None = None,
    *,
    network: WalkNetwork | None = None,
    minutes: float = 15.0,
    categories: list[str] | None = None,
    rules: CoverageRules | None = None,
    today: dt.date | None = None,
    taxonomy: Taxonomy | None = None,
    speed_m_per_min: float | None = None,
    weights: pd.Series | None = None,
    weights_label: str | None = None,
    population_basis: str = "age",
    aging_rate: float | None = None,
    include_planned: bool = False,
) -> Coverage:
    """Compute who is covered, per category, once; see :class:`Coverage` for what it gives.

    Parameters
    ----------
    areas
        Areas of every level (``Workspace.areas()``).
    blocks
        Town blocks with population (``Workspace.town_blocks()``).
    resources, needs
        The workspace layers; needs are optional.
    network
        The walking network; ``None`` uses straight lines × a detour factor.
    minutes
        The walking-time threshold.
    categories
        Category codes to analyse (default: every category of the taxonomy).
    rules
        Status rules (default :class:`CoverageRules`).
    today
        Reference date for stale resources.
    weights
        Supply weight (0–1) of each resource, indexed by ``resource_id``, for effective
        coverage (missing: 1); ``None``: every weight 1, effective equals plain coverage.
    weights_label
        What the weights rest on, shown in the table's ``weights`` column.
    population_basis, aging_rate
        ``age`` (default), ``estimated`` (``pop_65plus`` = total × ``aging_rate``, already in the
        blocks) or ``total`` (65+ unknown: the total population is counted instead); see
        :func:`scgeo.analysis.basis.population_basis`.
    include_planned
        Count ``planned`` resources (計画中(案), e.g. from a 資源開発 scenario) as if active.
    """
    settings = get_settings()
    taxonomy = taxonomy or load_taxonomy()
    speed = speed_m_per_min or settings.walk_speed_m_per_min
    categories = categories or list(taxonomy.categories)
    today = today or dt.date.today()
    stale_before = pd.Timestamp(today) - pd.DateOffset(months=settings.stale_months)
    metric_crs = network.crs if network is not None else None

    registered = set(resources["category"].dropna())
    no_data = tuple(c for c in categories if c not in registered)
    blocks = apply_population_basis(blocks, population_basis)
    points = population_points(blocks, network)
    metric_crs = points.crs
    membership = area_membership(blocks.to_crs(metric_crs), areas)
    statuses = ["active", "planned"] if include_planned else ["active"]
    active = resources[resources["status"].isin(statuses)].to_crs(metric_crs).reset_index(drop=True)
    active["stale"] = (active["last_confirmed"].isna() | (active["last_confirmed"] < stale_before)).to_numpy()
    active["blocks"] = _served_blocks(active, blocks.to_crs(metric_crs), membership)
    given = pd.Series(1.0, index=active.index) if weights is None else active["resource_id"].map(weights)
    active["weight"] = np.clip(given.astype(float).fillna(1.0).to_numpy(), 0.0, 1.0)
    by_area = active["served_area_id"].notna() & active["served_area_id"].isin(membership["area_id"])

    needs_m = None
    if needs is not None and len(needs):
        needs_m = needs.to_crs(metric_crs).copy()
        located = gpd.sjoin(needs_m[["need_id", "geometry"]], blocks[["area_id", "geometry"]].to_crs(metric_crs),
                            predicate="within", how="left").drop_duplicates("need_id")
        needs_m["block_id"] = needs_m["town_block_id"].fillna(pd.Series(located["area_id"].to_numpy(),
                                                                        index=needs_m.index))
    point_snap = _snap_of(points) if network is not None else None
    need_snap = network.snap(needs_m) if network is not None and needs_m is not None else None
    limit = minutes * speed
    cov = Coverage(minutes, "network" if network is not None else f"straight_line×{DEFAULT_DETOUR_FACTOR}",
                   points, membership, areas, active, needs_m, categories, taxonomy, network, speed,
                   rules or CoverageRules(), population_basis=population_basis, aging_rate=aging_rate,
                   no_data=no_data, known_75plus="pop_75plus" in blocks and bool(blocks["pop_75plus"].notna().any()))
    if weights is not None:
        cov.weights_label = weights_label or "資源ごとの重み"
    in_blocks = _BlockLookup(points["block_id"], needs_m["block_id"] if needs_m is not None else None)
    reach = _Reach(network, active, points, point_snap, needs_m, need_snap, limit, in_blocks)
    for code in categories:
        mine = active[active["category"] == code]
        for prefix, subset in (("cov", mine), ("conf", mine[~mine["stale"]])):
            walk = subset[~by_area.loc[subset.index]]
            served = set(subset[by_area.loc[subset.index]]["blocks"].explode().dropna())
            d_points, d_needs, node_dist = reach.distances(walk)
            if node_dist is not None:
                cov.node_distance[f"{prefix}_{code}"] = node_dist
            points[f"{prefix}_{code}"] = (d_points <= limit) | in_blocks.points(served)
            if prefix == "cov":
                points[f"min_{code}"] = d_points / speed
            if needs_m is not None and prefix == "cov":
                needs_m[f"cov_{code}"] = (d_needs <= limit) | in_blocks.needs(served)

        def reached(subset):
            walk = subset[~by_area.loc[subset.index]]
            served = set(subset[by_area.loc[subset.index]]["blocks"].explode().dropna())
            return (reach.distances(walk)[0] <= limit) | in_blocks.points(served)

        points[f"eff_{code}"] = _effective(mine, points[f"cov_{code}"].to_numpy(), reached)
    return cov


def _effective(resources: gpd.GeoDataFrame, covered: np.ndarray, reached) -> np.ndarray:
    """Per population point, the largest weight among the resources that cover it (0 if none).

    One reach computation per distinct weight level (descending): the points reached by the
    resources weighing at least ``w`` are worth at least ``w``. With every weight 1 this is the
    plain coverage itself, without another shortest-path run.
    """
    weight = np.round(resources["weight"].to_numpy(dtype=float), 3)
    levels = np.unique(weight[weight > 0])[::-1]
    out = np.zeros(len(covered))
    for level in levels:
        keep = weight >= level
        hit = covered if keep.all() else reached(resources[keep])
        out = np.maximum(out, np.where(hit, level, 0.0))
        if keep.all():
            break
    return np.minimum(out, covered.astype(float))


def _snap_of(points: gpd.GeoDataFrame) -> Snap:
    return Snap(points["edge"].to_numpy(dtype=np.int64), points["along_m"].to_numpy(dtype=float),
                points["snap_m"].to_numpy(dtype=float), points["too_far"].to_numpy(dtype=bool))


class _BlockLookup:
    """Which points and needs lie in a set of town blocks, by integer codes (no string ``isin``)."""

    def __init__(self, point_blocks: pd.Series, need_blocks: pd.Series | None) -> None:
        self.codes, self.names = pd.factorize(point_blocks)
        self.need_codes = None if need_blocks is None else self.names.get_indexer(need_blocks)

    def _mask(self, codes: np.ndarray, blocks: set) -> np.ndarray:
        if not blocks:
            return np.zeros(len(codes), dtype=bool)
        wanted = np.zeros(len(self.names) + 1, dtype=bool)
        found = self.names.get_indexer(list(blocks))
        wanted[found[found >= 0]] = True
        return wanted[codes]  # code -1 (a need outside every block) reads the last, False, slot

    def points(self, blocks: set) -> np.ndarray:
        return self._mask(self.codes, blocks)

    def needs(self, blocks: set) -> np.ndarray:
        return self._mask(self.need_codes, blocks)


class _Reach:
    """Distances of the points and needs to sets of resources: one Dijkstra per distinct set.

    The resources are snapped once; confirmed and all-resource coverage of a category share
    one run when their walking resources are the same.
    """

    def __init__(self, network, resources, points, point_snap, needs, need_snap, limit, in_blocks) -> None:
        self.network, self.points, self.needs = network, points, needs
        self.point_snap, self.need_snap, self.limit = point_snap, need_snap, limit
        self.position = pd.Series(np.arange(len(resources)), index=resources.index)
        self.snap = network.snap(resources) if network is not None and len(resources) else None
        self.memo: dict[tuple, tuple] = {}

    def distances(self, sources: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Distances (m) of the points and the needs to the nearest of ``sources``, and per node."""
        key = tuple(self.position.loc[sources.index].to_numpy().tolist())
        if key not in self.memo:
            self.memo[key] = self._run(sources, np.asarray(key, dtype=np.int64))
        return self.memo[key]

    def _run(self, sources, rows):
        n_needs = 0 if self.needs is None else len(self.needs)
        if not len(sources):
            return np.full(len(self.points), np.inf), np.full(n_needs, np.inf), None
        if self.network is None:
            d_points = straight_line_m(sources.geometry, self.points.geometry)
            d_needs = straight_line_m(sources.geometry, self.needs.geometry) if n_needs else np.array([])
            return d_points, d_needs, None
        src = self.snap.subset(rows)
        node_dist = self.network.node_distance(src, limit_m=self.limit)
        d_points = self.network.point_distance(node_dist, self.point_snap, sources=src)
        d_needs = self.network.point_distance(node_dist, self.need_snap, sources=src) if n_needs else np.array([])
        return d_points, d_needs, node_dist


def coverage_table(areas, blocks, resources, needs=None, *, levels: list[str] | None = None,
                   **kwargs) -> pd.DataFrame:
    """The coverage table: one row per area × category.

    Columns: ``level``, ``area_id``, ``area_name``, ``category``, ``category_label``, ``minutes``,
    ``method`` (``network`` or ``straight_line×1.3``), ``pop_65plus``, ``covered_65plus``,
    ``coverage_pct`` (0–100, NaN without older residents), ``covered_65plus_unconfirmed`` (covered
    only by resources not confirmed within ``stale_months``), ``pop_75plus``, ``covered_75plus``,
    ``n_resources`` (active resources located in or serving the area),
    ``n_resources_unconfirmed``, ``resources_per_1000_65plus``, ``needs_open`` (open needs of the
    category), ``needs_uncovered`` (of those, with no resource within the threshold), ``status``
    (充足 / 不足 / 空白 / 対象者なし / データなし: no resource of the category registered at all),
    ``basis`` (how 65+ was counted: 「65歳以上人口が不明なため総人口で計算」 when it is unknown),
    ``method_note`` (how distances were measured, in Japanese). Keyword arguments go to
    :func:`analyse_coverage`.
    """
    return analyse_coverage(areas, blocks, resources, needs, **kwargs).table(levels)
