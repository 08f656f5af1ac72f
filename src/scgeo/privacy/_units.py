"""Units of aggregation (areas of a level, JIS mesh cells, hexagons) and which unit each need is in."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from scgeo._errors import InputError
from scgeo.analysis.population import area_membership
from scgeo.crs import WORKSPACE_CRS, to_metric
from scgeo.schema import AREA_LEVEL_LABELS, AREA_LEVELS

__all__ = ["OUTSIDE", "area_units", "hex_units", "mesh_units"]

OUTSIDE = "区域外"
# mesh size in metres → JIS X 0410 level of jismesh
MESH_SIZES = {1000: 3, 500: 4, 250: 5}


def _valid_points(needs: gpd.GeoDataFrame) -> np.ndarray:
    geom = needs.geometry
    return (~geom.isna() & ~geom.is_empty).to_numpy()


def area_units(needs: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, level: str,
               blocks: gpd.GeoDataFrame | None) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Units of ``level`` and the unit of each need (``区域外`` when it is in none).

    A need's point decides its unit; a need without a point falls back to its
    ``town_block_id`` and :func:`~scgeo.analysis.population.area_membership`.
    """
    if level not in AREA_LEVELS:
        raise InputError(f"集計単位 level は {', '.join(AREA_LEVELS)} のいずれかです(指定: {level})。")
    units = areas[areas["level"] == level].to_crs(WORKSPACE_CRS)
    if units.empty:
        raise InputError(f"{AREA_LEVEL_LABELS[level]}({level})の区域がワークスペースにありません。")
    units = gpd.GeoDataFrame({"unit_id": units["area_id"].astype(str).to_numpy(),
                              "unit_name": units["name"].astype(str).to_numpy()},
                             geometry=units.geometry.to_numpy(), crs=WORKSPACE_CRS)
    unit = pd.Series(OUTSIDE, index=needs.index, dtype=object)
    has_point = _valid_points(needs)
    points = gpd.GeoDataFrame({"row": np.flatnonzero(has_point)},
                              geometry=needs.geometry[has_point].to_crs(WORKSPACE_CRS).to_numpy(), crs=WORKSPACE_CRS)
    hits = gpd.sjoin(points, units[["unit_id", "geometry"]], predicate="intersects")
    hits = hits.drop_duplicates("row")  # a point on a shared boundary counts once
    unit.iloc[hits["row"].to_numpy()] = hits["unit_id"].to_numpy()
    if not has_point.all() and "town_block_id" in needs:
        if blocks is None:
            blocks = areas[areas["level"] == "town_block"]
        members = area_membership(blocks.to_crs(WORKSPACE_CRS), areas.to_crs(WORKSPACE_CRS))
        members = members[members["level"] == level].set_index("block_id")["area_id"].astype(str)
        members = members[~members.index.duplicated()]
        fallback = needs["town_block_id"][~has_point].map(members)
        found = fallback.notna().to_numpy()
        unit.iloc[np.flatnonzero(~has_point)[found]] = fallback[found].to_numpy()
    return units, unit


def mesh_units(needs: gpd.GeoDataFrame, mesh: int) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """JIS X 0410 mesh cells (``mesh`` = 250, 500 or 1000 m) that hold at least one need."""
    import jismesh.utils as ju

    if mesh not in MESH_SIZES:
        sizes = ", ".join(map(str, MESH_SIZES))
        raise InputError(f"メッシュの大きさ mesh は {sizes} (m) のいずれかです(指定: {mesh})。")
    unit = pd.Series(OUTSIDE, index=needs.index, dtype=object)
    has_point = _valid_points(needs)
    points = needs.geometry[has_point].to_crs(WORKSPACE_CRS)
    lat, lon = points.y.to_numpy(), points.x.to_numpy()
    if len(lat):
        # jismesh calls the removed np.asscalar on arrays of one element: pad, then drop the pad
        pad = 1 if len(lat) == 1 else 0
        codes = ju.to_meshcode(np.r_[lat, lat[:pad]], np.r_[lon, lon[:pad]], MESH_SIZES[mesh])[: len(lat)]
        unit.iloc[np.flatnonzero(has_point)] = np.asarray(codes).astype(np.int64).astype(str)
    cells = np.sort(unit[unit != OUTSIDE].unique().astype(np.int64))
    if len(cells):
        pad_cells = np.r_[cells, cells[:1]] if len(cells) == 1 else cells
        lat0, lon0 = ju.to_meshpoint(pad_cells, 0, 0)
        lat1, lon1 = ju.to_meshpoint(pad_cells, 1, 1)
        boxes = shapely.box(lon0, lat0, lon1, lat1)[: len(cells)]
    else:
        boxes = np.array([], dtype=object)
    ids = cells.astype(str)
    units = gpd.GeoDataFrame({"unit_id": ids, "unit_name": np.char.add(ids.astype(str), f" ({mesh}mメッシュ)")},
                             geometry=boxes, crs=WORKSPACE_CRS)
    return units, unit


def hex_units(needs: gpd.GeoDataFrame, size_m: float, *,
              muni_code: str | None = None) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Regular pointy-top hexagons of circumradius (= side) ``size_m`` metres holding a need.

    The grid is anchored at the origin of the metric CRS (:func:`scgeo.crs.to_metric`), so the
    same hexagons come out whatever the extent of the data.
    """
    size = float(size_m)
    if not np.isfinite(size) or size <= 0:
        raise InputError(f"六角形の大きさ hex_size_m は正のメートル数で指定してください(指定: {size_m})。")
    unit = pd.Series(OUTSIDE, index=needs.index, dtype=object)
    has_point = _valid_points(needs)
    metric = to_metric(needs[has_point], muni_code=muni_code) if has_point.any() else None
    if metric is None:
        empty = gpd.GeoDataFrame({"unit_id": [], "unit_name": []}, geometry=[], crs=WORKSPACE_CRS)
        return empty, unit
    x, y = metric.geometry.x.to_numpy(), metric.geometry.y.to_numpy()
    # axial coordinates of pointy-top hexagons, rounded through cube coordinates
    qf = (np.sqrt(3) / 3 * x - y / 3) / size
    rf = (2 / 3 * y) / size
    sf = -qf - rf
    q, r, s = np.round(qf), np.round(rf), np.round(sf)
    dq, dr, ds = np.abs(q - qf), np.abs(r - rf), np.abs(s - sf)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -r - s, q)
    r = np.where(fix_r, -q - s, r)
    q, r = q.astype(np.int64), r.astype(np.int64)
    ids = pd.Series(q.astype(str), dtype=object) + "_" + pd.Series(r.astype(str), dtype=object)
    ids = "H" + ids
    unit.iloc[np.flatnonzero(has_point)] = ids.to_numpy()
    cells = pd.DataFrame({"unit_id": ids, "q": q, "r": r}).drop_duplicates("unit_id").sort_values(["q", "r"])
    cx = size * np.sqrt(3) * (cells["q"].to_numpy() + cells["r"].to_numpy() / 2)
    cy = size * 1.5 * cells["r"].to_numpy()
    angles = np.deg2rad(30 + 60 * np.arange(7))
    rings = np.stack([cx[:, None] + size * np.cos(angles), cy[:, None] + size * np.sin(angles)], axis=-1)
    polygons = shapely.polygons(rings)
    label = f"六角形 {size:g}m"
    units = gpd.GeoDataFrame({"unit_id": cells["unit_id"].to_numpy(),
                              "unit_name": (cells["unit_id"] + f" ({label})").to_numpy()},
                             geometry=polygons, crs=metric.crs).to_crs(WORKSPACE_CRS)
    return units, unit
