"""Need-to-resource matching (ニーズと取組のマッチング): nearest suitable resources and assignment.

A need of category *c* can be answered by the resource categories whose taxonomy entry lists *c*
in ``serves_needs``. Candidates come from ONE bounded search from all the resources to all the
open needs (:func:`scgeo.network.pairs_within`: bounded Dijkstra from the resources, grouped),
kept where the resource's category answers the need's; never a loop of pairwise shortest
paths. Area-served resources (``served_area_id``) answer the needs inside their served area, at
0 minutes (they come to the person).

Schedules count: a weekday / time window asked for the whole run (``weekday``, ``time_window``)
or by a need (``wanted_days``, ``wanted_time``) keeps only the resources whose schedule text
(:func:`scgeo.analysis.schedule.parse_schedule`) says they are open then; a need whose nearby
resources are all closed then gets the reason 「…に開いている資源が…分以内にありません」.

The capacity-aware assignment is a transportation problem solved exactly: a need whose
candidates could all take every need listing them takes its cheapest; the rest is a linear
program solved by HiGHS (totally unimodular, so the optimum is integral). Every need
is assigned to at most one resource, no resource beyond its ``capacity`` (no capacity:
unlimited), and the total walking time is minimal; leaving a need unassigned costs more than any
feasible assignment, so as many needs as possible are assigned.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse
from scipy.optimize import linprog

from scgeo.analysis.population import area_membership
from scgeo.analysis.schedule import parse_time_window, schedule_table
from scgeo.network import DEFAULT_DETOUR_FACTOR, WalkNetwork, pairs_within
from scgeo.schema import Taxonomy, load_taxonomy
from scgeo.settings import get_settings

__all__ = [
    "REASONS",
    "assign_needs",
    "candidate_pairs",
    "match_summary",
    "nearest_resources",
]

REASONS = {
    "no_resource": "該当する種別の資源がありません",
    "none_within": "{minutes:g}分以内に資源がありません",
    "closed_then": "{when}に開いている資源が{minutes:g}分以内にありません",
    "all_full": "近くの資源は定員に達しています",
    "too_far_from_street": "道から遠く、位置を道に合わせられません",
}
_RESOURCE_COLUMNS = ["resource_id", "name", "category", "provider_type", "schedule", "days_of_week",
                     "capacity", "last_confirmed", "served_area_id"]


def _column(frame: pd.DataFrame, name: str, rows: np.ndarray) -> list:
    """The values of an optional column at ``rows`` (``None`` where the column is absent)."""
    return frame[name].to_numpy(dtype=object)[rows].tolist() if name in frame else [None] * len(rows)


def _member(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """``values.isin(pool)`` by one Arrow hash lookup (``isin`` on Arrow strings converts ``pool`` row by row)."""
    values, pool = values.to_numpy(dtype=object), pool.to_numpy(dtype=object)
    try:
        found = pc.is_in(pa.array(values), value_set=pa.array(pool))
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # ids of mixed types: a pandas hash lookup
        return pd.Index(pd.unique(pool)).get_indexer(values) >= 0
    return found.to_numpy(zero_copy_only=False).astype(bool)


def _eligible_resources(resources, *, provider_types):
    res = resources[resources["status"] == "active"]
    if provider_types:
        res = res[res["provider_type"].isin(provider_types)]
    return res


def _window(text: str | None) -> tuple[int | None, int | None]:
    if text is None or (not isinstance(text, str) and pd.isna(text)) or not str(text).strip():
        return None, None
    try:
        return parse_time_window(text)
    except ValueError:
        return None, None


def _when(days: str | None, time: str | None) -> str:
    """「水・金曜 10:00-12:00」: the wish as said in a reason."""
    parts = []
    if isinstance(days, str) and days.strip():
        parts.append("・".join(d for d in days.split(",") if d) + "曜")
    if isinstance(time, str) and time.strip():
        parts.append(str(time).strip())
    return " ".join(parts)


def _open_then(pairs: pd.DataFrame, needs: pd.DataFrame, resources: pd.DataFrame, *, weekday: str | None,
               time_window: str | None) -> np.ndarray:
    """Whether each (need, resource) pair's resource is open when the run or the need asks."""
    wish = needs.set_index("need_id")
    days = pairs["need_id"].map(wish["wanted_days"]) if "wanted_days" in wish else pd.Series(None, index=pairs.index)
    times = pairs["need_id"].map(wish["wanted_time"]) if "wanted_time" in wish else pd.Series(None, index=pairs.index)
    if weekday:
        days = pd.Series(weekday, index=pairs.index)
    if time_window:
        times = pd.Series(time_window, index=pairs.index)
    asks = days.notna() | times.notna()
    if not asks.any():
        return np.ones(len(pairs), dtype=bool)
    schedules = schedule_table(resources.drop_duplicates("resource_id")).set_index(
        resources.drop_duplicates("resource_id")["resource_id"].to_numpy())["schedule"]
    keys = pd.DataFrame({"rid": pairs["resource_id"], "days": days.fillna("").astype(str),
                         "time": times.fillna("").astype(str)})[asks.to_numpy()]
    combos = keys.drop_duplicates().reset_index(drop=True)
    ok = []
    for rid, want_days, want_time in combos.itertuples(index=False):  # once per distinct resource × wish
        start, end = _window(want_time)
        wanted = [d for d in want_days.split(",") if d] or [None]
        ok.append(any(schedules[rid].is_open(d, start, end) for d in wanted))
    combos["ok"] = ok
    out = np.ones(len(pairs), dtype=bool)
    out[asks.to_numpy()] = keys.merge(combos, on=["rid", "days", "time"], how="left")["ok"].to_numpy(dtype=bool)
    return out


def candidate_pairs(
    needs: gpd.GeoDataFrame,
    resources: gpd.GeoDataFrame,
    *,
    network: WalkNetwork | None = None,
    max_minutes: float = 30.0,
    weekday: str | None = None,
    time_window: str | None = None,
    provider_types: list[str] | None = None,
    blocks: gpd.GeoDataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    taxonomy: Taxonomy | None = None,
    speed_m_per_min: float | None = None,
) -> pd.DataFrame:
    """All (need, resource) pairs that could answer each open need within ``max_minutes``.

    Parameters
    ----------
    needs, resources
        The workspace layers; only ``open`` needs and ``active`` resources take part.
    network
        Walking network; ``None``: straight line × detour factor (``method`` says so).
    max_minutes
        Walking-time limit.
    weekday
        Keep only resources held on this weekday (``月`` … ``日``), by their schedule text.
    time_window
        Keep only resources open during this window (``10:00-12:00``, ``午前`` …). A need's own
        ``wanted_days`` / ``wanted_time`` apply to it when the run asks for none.
    provider_types
        Keep only resources of these provider-type codes.
    blocks, areas
        Town blocks and areas, to match area-served resources to the needs in their area.

    Returns
    -------
    DataFrame
        ``need_id``, ``resource_id``, ``minutes``, ``distance_m`` (NaN for area-served),
        ``mode`` (``walk`` / ``area``), ``method`` (``network`` / ``straight_line×1.3``),
        ``open_then`` (the resource is open when asked; pairs with ``False`` are kept only so
        that the reason of an unmatched need can say so, and are never proposed).
    """
    taxonomy = taxonomy or load_taxonomy()
    speed = speed_m_per_min or get_settings().walk_speed_m_per_min
    open_needs = needs[needs["status"] == "open"].reset_index(drop=True)
    res = _eligible_resources(resources, provider_types=provider_types).reset_index(drop=True)
    method = "network" if network is not None else f"straight_line×{DEFAULT_DETOUR_FACTOR}"
    served_blocks = _served_blocks(res, blocks, areas)
    area_served = res["resource_id"].isin(served_blocks.index).to_numpy()
    frames = [_walk_pairs(open_needs, res[~area_served], network, max_minutes * speed, speed, taxonomy)]
    if area_served.any() and blocks is not None:
        for code in sorted(res.loc[area_served, "category"].unique()):
            mine = open_needs[open_needs["category"].isin(_answers(taxonomy, code)).to_numpy()]
            if len(mine):
                frames.append(_area_pairs(mine, res[area_served & (res["category"] == code).to_numpy()],
                                          served_blocks, blocks))
    columns = ["need_id", "resource_id", "minutes", "distance_m", "mode"]
    pairs = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    pairs = pairs.sort_values(["need_id", "minutes", "resource_id"]).drop_duplicates(["need_id", "resource_id"])
    pairs["method"] = np.where(pairs["mode"] == "walk", method, "area")
    pairs = pairs.reset_index(drop=True)
    pairs["open_then"] = _open_then(pairs, open_needs, res, weekday=weekday, time_window=time_window)
    return pairs


def _answers(taxonomy: Taxonomy, code: str) -> tuple[str, ...]:
    """The need categories a resource category answers."""
    return taxonomy.categories[code].serves_needs if code in taxonomy.categories else (code,)


def _walk_pairs(needs, resources, network, limit_m, speed, taxonomy) -> pd.DataFrame:
    """The (need, resource) pairs within walking reach whose resource answers the need's category.

    ONE bounded search from all the resources to all the needs (the network's boxes are built once,
    not once per category), then the pairs are kept by a table of which resource category answers
    which need category.
    """
    if not len(resources) or not len(needs):
        return pd.DataFrame(columns=["need_id", "resource_id", "minutes", "distance_m", "mode"])
    if network is not None:
        found = pairs_within(network, network.snap(resources), network.snap(needs), limit_m=limit_m)
    else:
        found = _straight_pairs(resources, needs, limit_m)
    res_code, res_cats = pd.factorize(resources["category"])
    need_code, need_cats = pd.factorize(needs["category"])
    answers = np.array([[n in _answers(taxonomy, r) for n in need_cats] for r in res_cats], dtype=bool)
    target, source = found["target"].to_numpy(), found["source"].to_numpy()
    answers = np.pad(answers, ((0, 1), (0, 1)))  # code -1 (no category) reads the last row / column: False
    keep = answers[res_code[source], need_code[target]]
    target, source, dist = target[keep], source[keep], found["distance_m"].to_numpy()[keep]
    return pd.DataFrame({
        "need_id": needs["need_id"].to_numpy()[target],
        "resource_id": resources["resource_id"].to_numpy()[source],
        "minutes": dist / speed,
        "distance_m": dist,
        "mode": "walk",
    })


def _straight_pairs(resources, needs, limit_m) -> pd.DataFrame:
    from scipy.spatial import cKDTree

    from scgeo.crs import metric_crs

    crs = metric_crs(needs)
    src = np.column_stack([resources.to_crs(crs).geometry.x, resources.to_crs(crs).geometry.y])
    tgt = np.column_stack([needs.to_crs(crs).geometry.x, needs.to_crs(crs).geometry.y])
    ok = np.isfinite(tgt).all(axis=1)
    matrix = cKDTree(tgt[ok]).sparse_distance_matrix(cKDTree(src), limit_m / DEFAULT_DETOUR_FACTOR,
                                                     output_type="coo_matrix")
    return pd.DataFrame({"target": np.flatnonzero(ok)[matrix.row], "source": matrix.col,
                         "distance_m": matrix.data * DEFAULT_DETOUR_FACTOR})


def _served_blocks(resources, blocks, areas) -> pd.Series:
    """Town blocks each area-served resource covers (index: resource_id)."""
    has_area = resources["served_area_id"].notna()
    if blocks is None or areas is None or not has_area.any():
        return pd.Series(dtype=object)
    member = area_membership(blocks, areas)
    by_area = member.groupby("area_id")["block_id"].agg(list)
    served = resources[has_area & resources["served_area_id"].isin(by_area.index)]
    return pd.Series(served["served_area_id"].map(by_area).to_numpy(), index=served["resource_id"].to_numpy())


def _area_pairs(needs, resources, served_blocks, blocks) -> pd.DataFrame:
    located = gpd.sjoin(needs[["need_id", "geometry"]], blocks[["area_id", "geometry"]].to_crs(needs.crs),
                        predicate="within", how="left").drop_duplicates("need_id")
    block = needs["town_block_id"].fillna(pd.Series(located["area_id"].to_numpy(), index=needs.index))
    need_blocks = pd.DataFrame({"need_id": needs["need_id"], "block_id": block})
    res_blocks = served_blocks.loc[resources["resource_id"]].explode().rename("block_id").reset_index()
    res_blocks.columns = ["resource_id", "block_id"]
    pairs = need_blocks.merge(res_blocks, on="block_id")[["need_id", "resource_id"]]
    return pairs.assign(minutes=0.0, distance_m=np.nan, mode="area")


def _usable(pairs: pd.DataFrame) -> pd.DataFrame:
    """The pairs that may be proposed (open when asked)."""
    return pairs[pairs["open_then"].astype(bool)] if "open_then" in pairs else pairs


def _reasons(needs, resources, pairs, *, max_minutes, taxonomy, provider_types=None, weekday=None,
             time_window=None) -> pd.Series:
    """Why each open need has no candidate (empty string when it has one)."""
    res = _eligible_resources(resources, provider_types=provider_types)
    available = set(res["category"])
    answerable = {c: bool(set(taxonomy.resource_categories_for_need(c)) & available)
                  for c in needs["category"].dropna().unique()}  # once per category, not per need
    can_answer = needs["category"].map(answerable).fillna(False).to_numpy(dtype=bool)
    reason = np.where(~can_answer, REASONS["no_resource"], REASONS["none_within"].format(minutes=max_minutes))
    usable = _member(needs["need_id"], _usable(pairs)["need_id"])
    closed = _member(needs["need_id"], pairs["need_id"]) & ~usable  # candidates, none open then
    if closed.any():
        rows = np.flatnonzero(closed)
        days = [weekday] * len(rows) if weekday else _column(needs, "wanted_days", rows)
        times = [time_window] * len(rows) if time_window else _column(needs, "wanted_time", rows)
        said = [REASONS["closed_then"].format(when=_when(d, t) or "希望の時間", minutes=max_minutes)
                for d, t in zip(days, times, strict=True)]
        reason = reason.astype(object)
        reason[rows] = said
    return pd.Series(np.where(usable, "", reason), index=needs.index)


def nearest_resources(
    needs: gpd.GeoDataFrame,
    resources: gpd.GeoDataFrame,
    *,
    k: int = 3,
    max_minutes: float = 30.0,
    pairs: pd.DataFrame | None = None,
    taxonomy: Taxonomy | None = None,
    **kwargs,
) -> pd.DataFrame:
    """The ``k`` nearest suitable active resources of every open need.

    Returns one row per need and rank (``rank`` 1 … k) with the resource's ``name``,
    ``category``, ``schedule``, ``capacity``, ``last_confirmed``, ``minutes`` and ``distance_m``;
    a need with no candidate gets one row with ``rank`` 0 and a Japanese ``reason``.
    Keyword arguments go to :func:`candidate_pairs` (network, weekday, provider_types, blocks, areas).
    """
    taxonomy = taxonomy or load_taxonomy()
    if pairs is None:
        pairs = candidate_pairs(needs, resources, max_minutes=max_minutes, taxonomy=taxonomy, **kwargs)
    open_needs = needs[needs["status"] == "open"]
    ranked = _usable(pairs).sort_values(["need_id", "minutes", "resource_id"]).copy()
    ranked["rank"] = ranked.groupby("need_id").cumcount() + 1
    ranked = ranked[ranked["rank"] <= k]
    details = pd.DataFrame(resources[_RESOURCE_COLUMNS]).rename(columns={"name": "resource_name",
                                                                         "category": "resource_category"})
    ranked = ranked.merge(details, on="resource_id", how="left")
    reasons = _reasons(open_needs, resources, pairs, max_minutes=max_minutes, taxonomy=taxonomy,
                       weekday=kwargs.get("weekday"), time_window=kwargs.get("time_window"),
                       provider_types=kwargs.get("provider_types"))
    ranked = open_needs[["need_id", "category"]].assign(reason=reasons.to_numpy()).merge(ranked, on="need_id",
                                                                                         how="left")
    ranked["rank"] = ranked["rank"].fillna(0).astype(int)
    ranked["minutes"] = ranked["minutes"].round(1)
    ranked["distance_m"] = ranked["distance_m"].round(0)
    return ranked.sort_values(["need_id", "rank"]).reset_index(drop=True)


def assign_needs(
    needs: gpd.GeoDataFrame,
    resources: gpd.GeoDataFrame,
    pairs: pd.DataFrame,
    *,
    max_minutes: float = 30.0,
    taxonomy: Taxonomy | None = None,
    weekday: str | None = None,
    time_window: str | None = None,
    weights: pd.Series | None = None,
) -> pd.DataFrame:
    """Assign open needs to resources within capacity, minimising the total walking time.

    Parameters
    ----------
    needs, resources
        The workspace layers (open needs, active resources).
    pairs
        Candidates from :func:`candidate_pairs` (the same ``max_minutes``); pairs not open when
        asked (``open_then``) are not assigned.
    weekday, time_window
        As given to :func:`candidate_pairs`, for the reasons.
    weights
        Supply weight (0–1) by ``resource_id`` (:func:`scgeo.analysis.freshness.supply_weights`):
        a pair costs its minutes + (1 − weight) × ``max_minutes``, so a confirmed, weekly
        resource is preferred to a stale or monthly one unless it is much further. ``None``: the
        plain total walking time.

    Returns
    -------
    DataFrame
        One row per open need: ``need_id``, ``category``, ``resource_id`` (empty when
        unassigned), ``minutes``, ``reason`` (why unassigned: no resource of the category at all,
        none within the time, or all nearby resources full).
    """
    taxonomy = taxonomy or load_taxonomy()
    open_needs = needs[needs["status"] == "open"].reset_index(drop=True)
    usable = _usable(pairs)
    cand = usable[_member(usable["need_id"], open_needs["need_id"])].reset_index(drop=True)
    need_idx, need_ids = pd.factorize(cand["need_id"])  # only the needs with a candidate enter the LP
    res_idx, res_ids = pd.factorize(cand["resource_id"])
    capacity = resources.drop_duplicates("resource_id").set_index("resource_id")["capacity"]
    capacity = capacity.reindex(res_ids).astype("float64").fillna(len(need_ids)).to_numpy()
    cost = cand["minutes"].to_numpy(dtype=float)
    if weights is not None:  # a resource less sure to be there, or less often open, costs up to one more walk
        w = np.clip(cand["resource_id"].map(weights).astype(float).fillna(1.0).to_numpy(), 0.0, 1.0)
        cost = cost + (1.0 - w) * max_minutes
    chosen = _solve_transport(need_idx, res_idx, cost, len(need_ids), capacity, max_minutes * 2)
    taken = cand[chosen]
    out = open_needs[["need_id", "category"]].merge(taken[["need_id", "resource_id", "minutes"]], on="need_id",
                                                    how="left")
    no_candidate = _reasons(open_needs, resources, pairs, max_minutes=max_minutes, taxonomy=taxonomy,
                            weekday=weekday, time_window=time_window)
    reason = np.where(out["resource_id"].notna(), "",
                      np.where(no_candidate.to_numpy() != "", no_candidate.to_numpy(), REASONS["all_full"]))
    out["reason"] = reason
    out["minutes"] = out["minutes"].round(1)
    return out


def _solve_transport(need_idx, res_idx, cost, n_needs, capacity, max_minutes) -> np.ndarray:
    """Exact min-cost assignment with capacities; returns the chosen pairs mask.

    A resource that every need listing it could join at once (candidates ≤ capacity) constrains
    nothing: a need whose candidates are all such resources takes its cheapest one. The rest
    is solved as a linear program by HiGHS, with rows only for the resources that can fill up.
    """
    n_pairs = len(cost)
    chosen = np.zeros(n_pairs, dtype=bool)
    if not n_pairs:
        return chosen
    binding = np.bincount(res_idx, minlength=len(capacity)) > capacity
    bound = np.zeros(n_needs, dtype=bool)
    bound[need_idx[binding[res_idx]]] = True
    free = np.flatnonzero(~bound[need_idx])
    order = free[np.lexsort((cost[free], need_idx[free]))]
    first = np.concatenate([[True], need_idx[order][1:] != need_idx[order][:-1]]) if len(order) else order
    chosen[order[first.astype(bool)]] = True
    rest = np.flatnonzero(bound[need_idx])
    if len(rest):
        chosen[rest] = _lp(need_idx[rest], res_idx[rest], cost[rest], capacity, binding, max_minutes)
    return chosen


def _lp(need_idx, res_idx, cost, capacity, binding, max_minutes) -> np.ndarray:
    """The transportation LP over some pairs (HiGHS; totally unimodular, so the optimum is integral)."""
    n_pairs = len(cost)
    need_idx = np.unique(need_idx, return_inverse=True)[1]
    n_needs = int(need_idx.max()) + 1
    penalty = 10.0 * (max_minutes + 1.0) * max(n_needs, 1)  # leaving a need out costs more than any route
    c = np.concatenate([cost, np.full(n_needs, penalty)])
    rows = np.concatenate([need_idx, np.arange(n_needs)])
    cols = np.arange(n_pairs + n_needs)
    a_eq = sparse.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(n_needs, n_pairs + n_needs))
    tight = np.flatnonzero(binding)
    row_of = np.full(len(capacity), -1)
    row_of[tight] = np.arange(len(tight))
    on = np.flatnonzero(row_of[res_idx] >= 0)
    a_ub = sparse.csr_matrix((np.ones(len(on)), (row_of[res_idx[on]], on)), shape=(len(tight), n_pairs + n_needs))
    result = linprog(c, A_ub=a_ub, b_ub=capacity[tight], A_eq=a_eq, b_eq=np.ones(n_needs), bounds=(0, 1),
                     method="highs")
    if result.status != 0:  # pragma: no cover - the problem is always feasible (the slack columns)
        raise RuntimeError(f"assignment LP failed: {result.message}")
    return result.x[:n_pairs] > 0.5


def match_summary(nearest: pd.DataFrame, assigned: pd.DataFrame | None = None, *,
                  taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """One row per need for ``matches.csv``: candidates, minutes, assignment and reason.

    Columns: ``need_id``, ``category``, ``category_label``, ``resource_ids`` and ``minutes``
    (the k nearest, ``;``-separated, nearest first), ``assigned_resource_id``,
    ``assigned_minutes``, ``reason``. Coordinates and town blocks are never included.
    """
    taxonomy = taxonomy or load_taxonomy()
    found = nearest[nearest["rank"] > 0]
    joined = found.groupby("need_id").agg(
        resource_ids=("resource_id", ";".join),
        minutes=("minutes", lambda m: ";".join(f"{v:g}" for v in m)))
    base = nearest.drop_duplicates("need_id")[["need_id", "category", "reason"]].set_index("need_id")
    out = base.join(joined).reset_index()
    out.insert(2, "category_label", out["category"].map(taxonomy.label))
    if assigned is not None:
        a = assigned.set_index("need_id")
        out["assigned_resource_id"] = out["need_id"].map(a["resource_id"])
        out["assigned_minutes"] = out["need_id"].map(a["minutes"])
        out["reason"] = out["need_id"].map(a["reason"]).where(lambda r: r != "", out["reason"])
    out["reason"] = out["reason"].fillna("")
    cols = ["need_id", "category", "category_label", "resource_ids", "minutes", "assigned_resource_id",
            "assigned_minutes", "reason"]
    return out[[c for c in cols if c in out]]
