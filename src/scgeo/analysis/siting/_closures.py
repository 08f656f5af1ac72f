"""What if a resource closes: the people who lose their walk, and the best replacement."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from scgeo._errors import InputError
from scgeo.analysis.siting._frames import _existing, build_problem, demand_points
from scgeo.analysis.siting._solve import solve_mclp
from scgeo.network import WalkNetwork

__all__ = ["closure_impact"]


def closure_impact(network: WalkNetwork, blocks: gpd.GeoDataFrame, resources: gpd.GeoDataFrame,
                   candidates: gpd.GeoDataFrame, *, category: str, close: list[str], minutes: float = 15.0,
                   demand: str = "65plus", speed_m_per_min: float | None = None,
                   areas: gpd.GeoDataFrame | None = None) -> dict:
    """The loss when the resources ``close`` (ids) close, and the one candidate that best replaces them.

    Returns a dict: ``closed`` (ids), ``covered_before`` (all open), ``covered_after_closure``,
    ``loss`` (people no longer within ``minutes``), ``replacement`` (candidate id, name, lat,
    lon, ``recovered`` people; ``None`` when no candidate helps), ``covered_with_replacement``,
    ``demand_total``, ``demand_label``, ``note`` (fallback used, if any). Capacities are not
    used here: the question is who can still walk to one.
    """
    existing = _existing(resources, category, include_planned=False)
    unknown = sorted(set(close) - set(existing["resource_id"]))
    if unknown:
        raise InputError(f"ID {', '.join(unknown)} は活動中の{category}の資源にありません。")
    dem = demand_points(blocks, network, demand=demand)
    existing = existing.assign(capacity=pd.NA)
    cands = candidates.sort_values("candidate_id").reset_index(drop=True).assign(capacity=pd.NA)
    problem = build_problem(network, dem, existing, cands, minutes=minutes, speed_m_per_min=speed_m_per_min,
                            blocks=blocks, areas=areas)
    walkers = existing[existing["served_area_id"].isna()].reset_index(drop=True)
    closed = np.flatnonzero(walkers["resource_id"].isin(close).to_numpy())
    w = problem.weights
    before = float((problem.covered_by_existing() * w).sum())
    reduced = problem.dropping(closed)
    after = float((reduced.covered_by_existing() * w).sum())
    replacement, with_replacement = None, after
    if after < before:
        sol = solve_mclp(reduced, 1)
        if len(sol.chosen):
            row = cands.iloc[int(sol.chosen[0])]
            point = gpd.GeoSeries([row.geometry], crs=cands.crs).to_crs(4326).iloc[0]
            with_replacement = sol.objective
            replacement = {"candidate_id": row["candidate_id"], "name": row["name"], "lat": round(point.y, 7),
                           "lon": round(point.x, 7), "recovered": round(sol.objective - after, 1)}
    return {"closed": sorted(close), "covered_before": round(before, 1), "covered_after_closure": round(after, 1),
            "loss": round(before - after, 1), "replacement": replacement,
            "covered_with_replacement": round(with_replacement, 1), "demand_total": round(float(w.sum()), 1),
            "demand_label": dem.label, "note": dem.note}
