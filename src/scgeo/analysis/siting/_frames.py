"""From workspace frames to a siting problem and back: demand, candidates, results.

Demand is a town-block population column spread onto the street network
(:func:`scgeo.analysis.population.population_points`); the pairs within the threshold come
from ONE bounded search from all facilities (:func:`scgeo.network.pairs_within`), so the
problem is as sparse as the walking distances are short.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from scgeo._errors import InputError
from scgeo.analysis.population import area_membership, population_points
from scgeo.analysis.siting._problem import SitingProblem
from scgeo.analysis.siting._solve import Solution, marginal_order, solve_lscp, solve_mclp, solve_pmedian
from scgeo.network import WalkNetwork, pairs_within
from scgeo.settings import get_settings

__all__ = [
    "CANDIDATE_COLUMNS",
    "DEMANDS",
    "MODELS",
    "SITE_COLUMNS",
    "Demand",
    "SitingResult",
    "build_problem",
    "demand_points",
    "gain_area",
    "grid_candidates",
    "plan_sites",
    "speed_sensitivity",
]

DEMANDS = {"65plus": ("pop_65plus", "65歳以上"), "75plus": ("pop_75plus", "75歳以上"),
           "65plus_alone": ("pop_65plus_alone", "65歳以上の一人暮らし"), "total": ("pop_total", "総人口")}
MODELS = {"mclp": "最大被覆(決めた数で徒歩圏の人を最大に)", "pmedian": "p-メディアン(歩く時間の合計を最小)",
          "lscp": "集合被覆(目標の割合に必要な最少の数)"}  # for users (app, CLI): no MCLP or LSCP
CANDIDATE_COLUMNS = ["candidate_id", "name", "kind", "address", "capacity", "source", "geometry"]
SITE_COLUMNS = ["rank", "candidate_id", "name", "lat", "lon", "gain_65plus", "gain_75plus", "gain_demand",
                "address", "kind", "capacity", "source"]


# Smaller batches of sources search smaller boxes of streets: on a 100,000-node network 48 MB
# (≈ 28 sources a batch) is 3.5× faster than the default 256 MB (64 a batch); small towns are unaffected.
PAIRS_MEMORY_MB = 48.0


@dataclass(frozen=True)
class Demand:
    """Demand points on the streets and what they count.

    ``points`` has ``block_id``, ``demand`` (people counted), ``pop_65plus``, ``pop_75plus``,
    ``pop_total`` and the snap columns; ``basis`` is the key of :data:`DEMANDS` actually used,
    ``label`` its Japanese name and ``note`` a sentence for every output when a fallback was used.
    """

    points: gpd.GeoDataFrame
    basis: str
    label: str
    note: str | None = None


def demand_points(blocks: gpd.GeoDataFrame, network: WalkNetwork, *, demand: str = "65plus") -> Demand:
    """Spread a town-block population column onto the network as demand points.

    ``demand`` is ``65plus``, ``75plus``, ``65plus_alone`` or ``total``. When the workspace has
    no value of that column at all (a total-only population table), the total population is used
    and :attr:`Demand.note` says so; blocks missing the value while others have it count 0 and
    the note gives their number.
    """
    if demand not in DEMANDS:
        raise InputError(f"対象人口「{demand}」は使えません。使えるもの: {', '.join(DEMANDS)}")
    column, label = DEMANDS[demand]
    blocks = blocks.assign(**{c: pd.to_numeric(blocks[c], errors="coerce").astype(float)
                              for c in ("pop_total", "pop_65plus", "pop_75plus", "pop_65plus_alone") if c in blocks})
    values = pd.to_numeric(blocks[column], errors="coerce") if column in blocks else pd.Series(np.nan, blocks.index)
    basis, note = demand, None
    if values.isna().all() and demand != "total":
        basis, column = "total", "pop_total"
        note = f"{label}人口のデータがないため、総人口で計算しています(高齢者に限った数ではありません)。"
        label = "総人口"
        values = pd.to_numeric(blocks["pop_total"], errors="coerce")
    elif values.isna().any():
        note = f"{int(values.isna().sum())} の町丁目は{label}人口がなく、0 人として計算しています。"
    points = population_points(blocks, network)
    if column in ("pop_total", "pop_65plus", "pop_75plus"):
        points["demand"] = points[column].to_numpy()
    else:  # another column: spread it with the same street-length weights
        points["demand"] = population_points(blocks.assign(pop_total=values.fillna(0.0)), network)["pop_total"]
    for col in ("pop_65plus", "pop_75plus"):
        if blocks[col].isna().all():
            points[col] = np.nan
    return Demand(points, basis, label, note)


def grid_candidates(network: WalkNetwork, *, spacing_m: float = 200.0,
                    blocks: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """One candidate street point per ``spacing_m`` grid cell: the street junction nearest its centre.

    Only cells with a junction get a candidate, so every candidate stands on the network. With
    ``blocks`` (town blocks with ``name``), each is named after the 町丁目 it stands in
    (「さくら町3丁目付近の道路」); the address stays empty (a street point is not an address).
    """
    if not 20 <= spacing_m <= 5000:
        raise InputError(f"格子の間隔は 20〜5000 m で指定してください(指定: {spacing_m:g} m)。")
    xy = network.node_xy
    origin = xy.min(axis=0)
    cell = np.floor((xy - origin) / spacing_m).astype(np.int64)
    centre = origin + (cell + 0.5) * spacing_m
    frame = pd.DataFrame({"cx": cell[:, 0], "cy": cell[:, 1], "d": np.hypot(*(xy - centre).T),
                          "node": np.arange(len(xy))})
    best = frame.sort_values(["cx", "cy", "d", "node"]).drop_duplicates(["cx", "cy"])
    ids = [f"grid{spacing_m:g}-{x:03d}-{y:03d}" for x, y in zip(best["cx"], best["cy"], strict=True)]
    points = shapely.points(xy[best["node"].to_numpy()])
    names = [f"道路上の地点 {i}" for i in ids]
    if blocks is not None and len(blocks):
        where = gpd.sjoin(gpd.GeoDataFrame(geometry=points, crs=network.crs),
                          blocks[["name", "geometry"]].to_crs(network.crs), predicate="within", how="left")
        where = where[~where.index.duplicated()]["name"]
        names = [f"{b}付近の道路" if isinstance(b, str) else n
                 for b, i, n in zip(where, ids, names, strict=True)]
    out = gpd.GeoDataFrame({"candidate_id": ids, "name": names, "kind": "grid",
                            "address": None, "capacity": pd.array([pd.NA] * len(ids), dtype="Int64"),
                            "source": f"grid:{spacing_m:g}"}, geometry=points, crs=network.crs)
    return out.sort_values("candidate_id").reset_index(drop=True)


def _existing(resources: gpd.GeoDataFrame, category: str, *, include_planned: bool) -> gpd.GeoDataFrame:
    statuses = ["active", "planned"] if include_planned else ["active"]
    mine = resources[(resources["category"] == category) & resources["status"].isin(statuses)]
    return mine.sort_values("resource_id").reset_index(drop=True)


def build_problem(network: WalkNetwork, demand: Demand, existing: gpd.GeoDataFrame,
                  candidates: gpd.GeoDataFrame, *, minutes: float, speed_m_per_min: float | None = None,
                  blocks: gpd.GeoDataFrame | None = None, areas: gpd.GeoDataFrame | None = None) -> SitingProblem:
    """The pairs within ``minutes`` walking between demand points and existing + candidate sites.

    Existing resources with a ``served_area_id`` come to people: the demand points of that
    area's blocks are covered whatever is built (needs ``blocks`` and ``areas``). Capacities
    come from the ``capacity`` columns (missing: unlimited).
    """
    speed = speed_m_per_min or get_settings().walk_speed_m_per_min
    served = existing["served_area_id"].notna() if "served_area_id" in existing else \
        pd.Series(False, index=existing.index)
    walkers = existing[~served]
    facilities = pd.concat([walkers.geometry.to_crs(network.crs), candidates.geometry.to_crs(network.crs)],
                           ignore_index=True)
    fac_snap = network.snap(gpd.GeoSeries(facilities.to_numpy(), crs=network.crs))
    pts = demand.points
    from scgeo.analysis.coverage import _snap_of

    pairs = pairs_within(network, fac_snap, _snap_of(pts), limit_m=minutes * speed, memory_mb=PAIRS_MEMORY_MB)
    capacity = np.concatenate([_capacity(walkers), _capacity(candidates)])
    fixed = None
    if served.any() and blocks is not None and areas is not None:
        member = area_membership(blocks.to_crs(network.crs), areas)
        served_blocks = member[member["area_id"].isin(existing.loc[served, "served_area_id"])]["block_id"]
        fixed = pts["block_id"].isin(set(served_blocks)).to_numpy()
    return SitingProblem(pairs["target"].to_numpy(np.int64), pairs["source"].to_numpy(np.int64),
                         pairs["distance_m"].to_numpy(float) / speed, pts["demand"].to_numpy(float),
                         len(walkers), len(facilities), float(minutes),
                         capacity if np.isfinite(capacity).any() else None, fixed)


def _capacity(frame: pd.DataFrame) -> np.ndarray:
    if "capacity" not in frame or not len(frame):
        return np.full(len(frame), np.inf)
    values = pd.to_numeric(frame["capacity"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isfinite(values) & (values >= 0), values, np.inf)


@dataclass
class SitingResult:
    """Proposed sites and what they change.

    ``sites`` (EPSG:4326 points, :data:`SITE_COLUMNS`, in marginal-gain order), ``summary``
    (the figures of ``scgeo site --json``), ``by_area`` (demand, covered before and after per
    area of each level), ``solution`` (the solver's), ``demand`` and ``problem``.
    """

    sites: gpd.GeoDataFrame
    summary: dict
    by_area: pd.DataFrame
    solution: Solution
    demand: Demand
    problem: SitingProblem
    covered_before: np.ndarray = field(repr=False, default=None)
    covered_after: np.ndarray = field(repr=False, default=None)
    candidates_rejected: pd.DataFrame | None = field(repr=False, default=None)


def plan_sites(network: WalkNetwork, blocks: gpd.GeoDataFrame, resources: gpd.GeoDataFrame,
               candidates: gpd.GeoDataFrame, *, category: str, k_new: int = 3, minutes: float = 15.0,
               demand: str = "65plus", model: str = "mclp", target_pct: float = 80.0,
               speed_m_per_min: float | None = None, areas: gpd.GeoDataFrame | None = None,
               include_planned: bool = False, use_capacity: bool = False,
               pmedian_limit_min: float | None = None, demand_points_: Demand | None = None) -> SitingResult:
    """Where ``k_new`` new resources of ``category`` would reach the most people.

    Parameters
    ----------
    network
        The walking network.
    blocks
        Town blocks with population (``Workspace.town_blocks()``).
    resources
        The resources layer; the ``active`` ones of ``category`` stay open (``planned`` ones
        too with ``include_planned``).
    candidates
        Candidate sites (:data:`CANDIDATE_COLUMNS`; :func:`grid_candidates`, venues, a file).
    category
        The category code (``kayoi_no_ba``, ``salon`` …).
    k_new
        New sites (for ``lscp``: the most that may be opened).
    minutes
        Walking threshold.
    demand
        ``65plus``, ``75plus``, ``65plus_alone`` or ``total`` (see :func:`demand_points`).
    model
        ``mclp``, ``pmedian`` or ``lscp``.
    target_pct
        LSCP target share of the demand within the threshold.
    speed_m_per_min
        Walking speed (default: settings, 60 m/min for older walkers).
    areas
        Areas of every level, for the per-area table and area-served resources.
    include_planned
        Count ``planned`` resources as existing.
    use_capacity
        Respect ``capacity`` of existing sites and candidates (MCLP only): the people counted
        are then those who fit within the capacities, not all who live within the threshold.
    pmedian_limit_min
        p-median search limit (default 2 × ``minutes``): a person farther than it from every
        site counts the limit.
    demand_points_
        Demand already spread (:func:`demand_points`), to reuse across runs.
    """
    t0 = time.perf_counter()
    if model not in MODELS:
        raise InputError(f"モデル「{model}」は使えません。使えるもの: {', '.join(MODELS)}")
    if k_new < 1 or k_new > 200:
        raise InputError(f"新しい場所の数は 1〜200 で指定してください(指定: {k_new})。")
    if not 1 <= minutes <= 120:
        raise InputError(f"徒歩の時間は 1〜120 分で指定してください(指定: {minutes:g})。")
    if not len(candidates):
        raise InputError("候補地がありません。会場の一覧、候補地のファイル、または grid:200 を指定してください。")
    dem = demand_points_ or demand_points(blocks, network, demand=demand)
    existing = _existing(resources, category, include_planned=include_planned)
    candidates = candidates.sort_values("candidate_id").reset_index(drop=True)
    if not use_capacity or model != "mclp":
        existing = existing.assign(capacity=pd.NA)
        candidates = candidates.assign(capacity=pd.NA)
    search = minutes if model != "pmedian" else (pmedian_limit_min or 2 * minutes)
    problem = build_problem(network, dem, existing, candidates, minutes=search, speed_m_per_min=speed_m_per_min,
                            blocks=blocks, areas=areas)
    if model == "mclp":
        solution = solve_mclp(problem, k_new)
    elif model == "pmedian":
        solution = solve_pmedian(problem, k_new)
    else:
        solution = solve_lscp(problem, target_pct / 100.0)  # the fewest needed, whatever k_new
    return _result(problem, solution, dem, candidates, blocks, areas, model=model, minutes=minutes, t0=t0,
                   speed=speed_m_per_min or get_settings().walk_speed_m_per_min, category=category,
                   n_existing=len(existing))


def _covered(problem: SitingProblem, chosen: np.ndarray) -> np.ndarray:
    """Share (0–1) of each demand point's people covered with ``chosen`` open."""
    from scgeo.analysis.siting._solve import evaluate

    base = problem.with_weights(np.ones(problem.n_demand)) if not problem.capacitated else problem
    _, covered = evaluate(base, chosen)
    if problem.capacitated:
        return np.divide(covered, problem.weights, out=np.zeros(problem.n_demand), where=problem.weights > 0)
    return covered


def _result(problem, solution, dem, candidates, blocks, areas, *, model, minutes, t0, speed, category,
            n_existing) -> SitingResult:
    cover_problem = problem.within(minutes)
    order, _ = marginal_order(cover_problem, solution.chosen, model="mclp")
    pts = dem.points
    shares = [_covered(cover_problem, order[:i]) for i in range(len(order) + 1)]
    people = {col: pts[col].to_numpy(dtype=float, na_value=np.nan) for col in ("demand", "pop_65plus", "pop_75plus")}
    gains = {col: np.diff([float(np.nansum(s * v)) if not np.isnan(v).all() else np.nan for s in shares])
             for col, v in people.items()}
    chosen = candidates.iloc[order].to_crs(4326)
    sites = gpd.GeoDataFrame({
        "rank": np.arange(1, len(order) + 1), "candidate_id": chosen["candidate_id"].to_numpy(),
        "name": chosen["name"].to_numpy(), "lat": chosen.geometry.y.round(7).to_numpy(),
        "lon": chosen.geometry.x.round(7).to_numpy(),
        "gain_65plus": np.round(gains["pop_65plus"], 1), "gain_75plus": np.round(gains["pop_75plus"], 1),
        "gain_demand": np.round(gains["demand"], 1),
        "address": chosen.get("address", pd.Series(None, index=chosen.index)).to_numpy(),
        "kind": chosen.get("kind", pd.Series(None, index=chosen.index)).to_numpy(),
        "capacity": pd.array(chosen.get("capacity", pd.Series(pd.NA, index=chosen.index)), dtype="Int64"),
        "source": chosen.get("source", pd.Series(None, index=chosen.index)).to_numpy(),
    }, geometry=chosen.geometry.to_numpy(), crs=4326)
    before = float(np.sum(shares[0] * people["demand"]))
    after = float(np.sum(shares[-1] * people["demand"]))
    total = float(people["demand"].sum())
    summary = {
        "sites": sites.drop(columns="geometry").astype(object).where(sites.drop(columns="geometry").notna(), None)
        .to_dict("records"),
        "covered_before": round(before, 1), "covered_after": round(after, 1), "demand_total": round(total, 1),
        "model": model, "optimal": bool(solution.optimal), "seconds": round(time.perf_counter() - t0, 3),
        "solve_seconds": round(solution.seconds, 3), "objective": round(solution.objective, 3),
        "greedy_objective": round(solution.greedy_objective, 3), "greedy_gap_pct": round(solution.gap_pct, 3),
        "category": category, "minutes": minutes, "speed_m_per_min": speed, "demand": dem.basis,
        "demand_label": dem.label, "note": dem.note, "n_existing": n_existing, "n_candidates": len(candidates),
        "n_demand_points": problem.n_demand, "n_merged_rows": solution.n_merged, "status": solution.status,
        "capacitated": problem.capacitated,
    }
    if model == "pmedian":
        summary["mean_minutes_before"] = round(float(_mean_minutes(problem, np.array([], dtype=np.int64))), 2)
        summary["mean_minutes_after"] = round(float(_mean_minutes(problem, solution.chosen)), 2)
        summary["pmedian_limit_min"] = problem.max_minutes
    by_area = _by_area(pts, shares[0], shares[-1], blocks, areas)
    return SitingResult(sites, summary, by_area, solution, dem, problem, shares[0], shares[-1])


def _mean_minutes(problem: SitingProblem, chosen: np.ndarray) -> float:
    from scgeo.analysis.siting._solve import evaluate

    total, _ = evaluate(problem, chosen, model="pmedian")
    weight = problem.weights.sum()
    return total / weight if weight > 0 else float("nan")


def _by_area(pts, before, after, blocks, areas) -> pd.DataFrame:
    columns = ["level", "area_id", "area_name", "demand", "covered_before", "covered_after", "gain",
               "pop_65plus", "gain_65plus"]
    if areas is None or blocks is None:
        return pd.DataFrame(columns=columns)
    member = area_membership(blocks.to_crs(pts.crs), areas)
    member = member[member["level"] != "town_block"]
    frame = pd.DataFrame({"block_id": pts["block_id"].to_numpy(), "demand": pts["demand"].to_numpy(),
                          "covered_before": before * pts["demand"].to_numpy(),
                          "covered_after": after * pts["demand"].to_numpy(),
                          "pop_65plus": pts["pop_65plus"].to_numpy(dtype=float, na_value=np.nan),
                          "gain_65plus": (after - before) * pts["pop_65plus"].to_numpy(dtype=float, na_value=np.nan)})
    table = frame.merge(member, on="block_id").groupby(["level", "area_id"], sort=False)[
        ["demand", "covered_before", "covered_after", "pop_65plus", "gain_65plus"]].sum(min_count=1).reset_index()
    table["gain"] = table["covered_after"] - table["covered_before"]
    names = areas[["area_id", "name"]].rename(columns={"name": "area_name"})
    table = table.merge(names, on="area_id", how="left")
    order = {lv: i for i, lv in enumerate(("municipality", "living_area", "jhs_district", "es_district"))}
    table = table.sort_values(["level", "area_id"], key=lambda s: s.map(order) if s.name == "level" else s)
    num = ["demand", "covered_before", "covered_after", "gain", "pop_65plus", "gain_65plus"]
    table[num] = table[num].round(1)
    return table[columns].reset_index(drop=True)


def speed_sensitivity(network: WalkNetwork, blocks: gpd.GeoDataFrame, resources: gpd.GeoDataFrame,
                      candidates: gpd.GeoDataFrame, *, speeds: tuple[float, ...] = (40.0, 50.0, 60.0, 70.0),
                      **kwargs) -> pd.DataFrame:
    """The same siting run at several walking speeds (m/min): one row per speed.

    Columns ``speed_m_per_min``, ``covered_before``, ``covered_after``, ``gain``, ``demand_total``,
    ``sites`` (candidate ids in order), ``same_as_default`` (same sites as at the settings' speed).
    """
    default = get_settings().walk_speed_m_per_min
    demand = demand_points(blocks, network, demand=kwargs.pop("demand", "65plus"))
    rows = []
    for speed in speeds:
        res = plan_sites(network, blocks, resources, candidates, speed_m_per_min=speed, demand_points_=demand,
                         **kwargs)
        s = res.summary
        rows.append({"speed_m_per_min": speed, "covered_before": s["covered_before"],
                     "covered_after": s["covered_after"], "gain": round(s["covered_after"] - s["covered_before"], 1),
                     "demand_total": s["demand_total"], "sites": list(res.sites["candidate_id"])})
    table = pd.DataFrame(rows)
    ref = table.loc[table["speed_m_per_min"] == default, "sites"]
    ref_sites = set(ref.iloc[0]) if len(ref) else None
    table["same_as_default"] = table["sites"].map(lambda s: ref_sites is not None and set(s) == ref_sites)
    return table


def gain_area(result: SitingResult, network: WalkNetwork, *, buffer_m: float = 100.0) -> gpd.GeoDataFrame:
    """The streets whose people the proposed sites bring within walking distance, as one shaded area.

    The street segments of the demand points that gained coverage, buffered by ``buffer_m`` and
    merged (in the network's CRS); empty when nobody gains.
    """
    gained = (result.covered_after - result.covered_before) > 1e-9
    edges = np.unique(result.demand.points["edge"].to_numpy()[gained])
    if not len(edges):
        return gpd.GeoDataFrame({"people": []}, geometry=[], crs=network.crs)
    shape = shapely.union_all(shapely.buffer(network.edges.geometry.to_numpy()[edges], buffer_m, quad_segs=4))
    people = float(np.sum((result.covered_after - result.covered_before) * result.demand.points["demand"].to_numpy()))
    return gpd.GeoDataFrame({"people": [round(people, 1)]}, geometry=[shape], crs=network.crs)
