"""Blank zones (空白地帯): where older residents live beyond walking reach of a kind of resource.

Drawn from a :class:`scgeo.analysis.coverage.Coverage` (its uncovered population points), on the
catchments' street raster (:func:`scgeo.analysis.catchments.street_buffers`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from scgeo.analysis.catchments import street_buffers
from scgeo.analysis.coverage import Coverage

__all__ = ["blank_zones"]


def blank_zones(coverage: Coverage, *, buffer_m: float = 120.0, min_65plus: float = 1.0,
                split_level: str = "jhs_district") -> gpd.GeoDataFrame:
    """Blank zones (空白地帯) per category: where older residents live beyond the threshold.

    The uncovered population points (their street segments, or the point itself without a
    network) are buffered by ``buffer_m`` and merged (streets on the catchments' raster,
    :func:`scgeo.analysis.catchments.street_buffers` with cells of ``buffer_m / 7.5``, their
    steps simplified to straight edges: areas within about 1 % of the exact union, boundaries
    within two cells of it), cut by ``split_level`` areas (中学校区 by
    default, so that each zone belongs to one district a council can act on) and split into
    separate zones; each carries the older population living in it and its district
    (``area_id``, ``area_name``) and ``basis``. Sorted by category, then by ``pop_65plus``
    descending. Categories with no data (:attr:`Coverage.no_data`) have no blank zones.
    """
    pts = coverage.points
    districts = coverage.areas[coverage.areas["level"] == split_level].to_crs(pts.crs)
    if not len(districts):
        districts = coverage.areas[coverage.areas["level"] == "municipality"].to_crs(pts.crs)
    districts = districts[["area_id", "name", "geometry"]].rename(columns={"name": "area_name"})
    codes, outside, streets = [], [], []
    for code in coverage.categories:
        if code in coverage.no_data:
            continue
        out = pts[~pts[f"cov_{code}"] & (pts["pop_65plus"] > 0)]
        if len(out):
            codes.append(code)
            outside.append(out[["pop_65plus", "pop_75plus", "geometry"]].assign(category=code))
            streets.append(np.unique(out["edge"].to_numpy()) if "edge" in out else None)
    if coverage.network is not None and "edge" in pts:  # each street once, however many points on it
        cell = buffer_m / 7.5  # finer than the catchments': zones are drawn on print maps
        merged = shapely.simplify(street_buffers(coverage.network, streets, buffer_m=buffer_m, cell_m=cell),
                                  cell / 2)  # the cells' steps as straight edges
    else:
        merged = [shapely.union_all(shapely.buffer(out.geometry.to_numpy(), buffer_m, quad_segs=4))
                  for out in outside]
    rows = []
    if codes:
        # every category's merged shape cut by the districts in ONE overlay, its uncovered points
        # matched to its own zones in ONE spatial join (not one of each per category)
        zones = gpd.overlay(gpd.GeoDataFrame({"category": codes}, geometry=merged, crs=pts.crs), districts,
                            how="intersection", keep_geom_type=True).explode(ignore_index=True)
        points = pd.concat(outside, ignore_index=True)
        hit = gpd.sjoin(points, zones[["category", "geometry"]], predicate="within", how="inner")
        hit = hit[hit["category_left"] == hit["category_right"]]
        hit = hit[~hit.index.duplicated()]
        sums = hit.groupby("index_right")[["pop_65plus", "pop_75plus"]].sum()
        zones = zones.join(sums).fillna({"pop_65plus": 0.0, "pop_75plus": 0.0})
        zones = zones[zones["pop_65plus"] >= min_65plus]
        zones["category_label"] = zones["category"].map(coverage.taxonomy.label)
        zones["minutes"] = coverage.minutes
        zones["area_m2"] = zones.area.round(0)
        rows = [zones]
    columns = ["zone_id", "category", "category_label", "area_id", "area_name", "minutes", "pop_65plus",
               "pop_75plus", "area_m2", "basis", "geometry"]
    if not rows:
        return gpd.GeoDataFrame(pd.DataFrame(columns=columns), geometry="geometry", crs=pts.crs)
    out = pd.concat(rows, ignore_index=True)
    out[["pop_65plus", "pop_75plus"]] = out[["pop_65plus", "pop_75plus"]].round(1)
    out["basis"] = coverage.basis_note
    if not coverage.tells_75plus:
        out["pop_75plus"] = np.nan
    out = out.sort_values(["category", "pop_65plus"], ascending=[True, False]).reset_index(drop=True)
    out.insert(0, "zone_id", [f"{c}-{i + 1}" for c, i in zip(out["category"], out.groupby("category").cumcount(),
                                                              strict=True)])
    return gpd.GeoDataFrame(out[columns], geometry="geometry", crs=pts.crs)
