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

__all__ = ["OUTSIDE", "area_units", "hex_units", "mesh_units", "parse_unit_system", "study_extent",
           "unit_system_key", "unit_system_label", "units_and_membership"]

OUTSIDE = "区域外"
# mesh size in metres → JIS X 0410 level of jismesh
MESH_SIZES = {1000: 3, 500: 4, 250: 5}
# cell size of each JIS level in degrees (latitude, longitude)
MESH_DEGREES = {3: (30 / 3600, 45 / 3600), 4: (15 / 3600, 22.5 / 3600), 5: (7.5 / 3600, 11.25 / 3600)}


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
    rows = np.flatnonzero(has_point)
    # the points in the tree and the units as the (prepared) queries: each point-in-polygon test
    # against a prepared unit, not against a unit's every vertex
    tree = shapely.STRtree(needs.geometry[has_point].to_crs(WORKSPACE_CRS).to_numpy())
    at, point = tree.query(units.geometry.to_numpy(), predicate="intersects")
    order = np.lexsort((at, point))  # a point on a shared boundary counts once: in its first unit
    point, at = point[order], at[order]
    first = np.ones(len(point), dtype=bool)  # no points (no needs): no hits
    first[1:] = point[1:] != point[:-1]
    unit.iloc[rows[point[first]]] = units["unit_id"].to_numpy()[at[first]]
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


def study_extent(areas: gpd.GeoDataFrame | None) -> shapely.Geometry | None:
    """The area a grid table covers (EPSG:6668): the municipality, else the union of all areas."""
    if areas is None or not len(areas):
        return None
    muni = areas[areas["level"] == "municipality"] if "level" in areas else areas.iloc[:0]
    shapes = (muni if len(muni) else areas).to_crs(WORKSPACE_CRS).geometry
    return shapely.make_valid(shapely.union_all(shapes.to_numpy()))


def _mesh_codes(lat: np.ndarray, lon: np.ndarray, level: int) -> np.ndarray:
    import jismesh.utils as ju

    if not len(lat):
        return np.array([], dtype=np.int64)
    # jismesh calls the removed np.asscalar on arrays of one element: pad, then drop the pad
    pad = 1 if len(lat) == 1 else 0
    codes = ju.to_meshcode(np.r_[lat, lat[:pad]], np.r_[lon, lon[:pad]], level)[: len(lat)]
    return np.asarray(codes).astype(np.int64)


def _mesh_boxes(cells: np.ndarray) -> np.ndarray:
    import jismesh.utils as ju

    if not len(cells):
        return np.array([], dtype=object)
    pad_cells = np.r_[cells, cells[:1]] if len(cells) == 1 else cells
    lat0, lon0 = ju.to_meshpoint(pad_cells, 0, 0)
    lat1, lon1 = ju.to_meshpoint(pad_cells, 1, 1)
    return shapely.box(lon0, lat0, lon1, lat1)[: len(cells)]


def _inside(shapes: np.ndarray, extent: shapely.Geometry) -> np.ndarray:
    """Shapes sharing some area with ``extent`` (a common edge or corner alone does not count)."""
    return shapely.intersects(shapes, extent) & ~shapely.touches(shapes, extent)


def mesh_units(needs: gpd.GeoDataFrame, mesh: int, *,
               extent: shapely.Geometry | None = None) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """JIS X 0410 mesh cells (``mesh`` = 250, 500 or 1000 m) and the cell of each need.

    The cells are every cell sharing area with ``extent`` (the municipality), occupied or not,
    plus any cell holding a need outside it: a table listing only occupied cells would tell
    that the cells left out hold no need.
    """
    if mesh not in MESH_SIZES:
        sizes = ", ".join(map(str, MESH_SIZES))
        raise InputError(f"メッシュの大きさ mesh は {sizes} (m) のいずれかです(指定: {mesh})。")
    level = MESH_SIZES[mesh]
    unit = pd.Series(OUTSIDE, index=needs.index, dtype=object)
    has_point = _valid_points(needs)
    points = needs.geometry[has_point].to_crs(WORKSPACE_CRS)
    codes = _mesh_codes(points.y.to_numpy(), points.x.to_numpy(), level)
    unit.iloc[np.flatnonzero(has_point)] = codes.astype(str)
    cells = np.unique(codes)
    if extent is not None and not extent.is_empty:
        dlat, dlon = MESH_DEGREES[level]
        x0, y0, x1, y1 = extent.bounds
        lat, lon = np.meshgrid(np.arange(y0 - dlat, y1 + dlat, dlat / 2), np.arange(x0 - dlon, x1 + dlon, dlon / 2))
        around = np.unique(_mesh_codes(lat.ravel(), lon.ravel(), level))
        around = around[_inside(_mesh_boxes(around), extent)]
        cells = np.union1d(cells, around)
    ids = cells.astype(str)
    units = gpd.GeoDataFrame({"unit_id": ids, "unit_name": np.char.add(ids.astype(str), f" ({mesh}mメッシュ)")},
                             geometry=_mesh_boxes(cells), crs=WORKSPACE_CRS)
    return units, unit


def _hex_axial(x: np.ndarray, y: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Axial coordinates of the pointy-top hexagon holding each point, rounded through cube coordinates."""
    qf = (np.sqrt(3) / 3 * x - y / 3) / size
    rf = (2 / 3 * y) / size
    sf = -qf - rf
    q, r, s = np.round(qf), np.round(rf), np.round(sf)
    dq, dr, ds = np.abs(q - qf), np.abs(r - rf), np.abs(s - sf)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -r - s, q)
    r = np.where(fix_r, -q - s, r)
    return q.astype(np.int64), r.astype(np.int64)


def _hex_polygons(q: np.ndarray, r: np.ndarray, size: float) -> np.ndarray:
    cx = size * np.sqrt(3) * (q + r / 2)
    cy = size * 1.5 * r
    angles = np.deg2rad(30 + 60 * np.arange(7))
    rings = np.stack([cx[:, None] + size * np.cos(angles), cy[:, None] + size * np.sin(angles)], axis=-1)
    return shapely.polygons(rings)


def hex_units(needs: gpd.GeoDataFrame, size_m: float, *, muni_code: str | None = None,
              extent: shapely.Geometry | None = None) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Regular pointy-top hexagons of circumradius (= side) ``size_m`` metres, and the hexagon of each need.

    The grid is anchored at the origin of the metric CRS (:func:`scgeo.crs.to_metric`), so the
    same hexagons come out whatever the extent of the data. As for mesh cells, every hexagon
    sharing area with ``extent`` is listed, occupied or not.
    """
    size = float(size_m)
    if not np.isfinite(size) or size <= 0:
        raise InputError(f"六角形の大きさ hex_size_m は正のメートル数で指定してください(指定: {size_m})。")
    unit = pd.Series(OUTSIDE, index=needs.index, dtype=object)
    has_point = _valid_points(needs)
    points = needs.geometry[has_point].to_crs(WORKSPACE_CRS)
    if extent is not None and not extent.is_empty:
        probe = gpd.GeoSeries([extent.representative_point()], crs=WORKSPACE_CRS)
        crs = to_metric(gpd.GeoDataFrame(geometry=probe), muni_code=muni_code).crs
    elif len(points):
        crs = to_metric(gpd.GeoDataFrame(geometry=points), muni_code=muni_code).crs
    else:
        empty = gpd.GeoDataFrame({"unit_id": [], "unit_name": []}, geometry=[], crs=WORKSPACE_CRS)
        return empty, unit
    metric = points.to_crs(crs)
    q, r = _hex_axial(metric.x.to_numpy(), metric.y.to_numpy(), size)
    ids = "H" + pd.Series(q.astype(str), dtype=object) + "_" + pd.Series(r.astype(str), dtype=object)
    unit.iloc[np.flatnonzero(has_point)] = ids.to_numpy()
    cells = pd.DataFrame({"q": q, "r": r})
    if extent is not None and not extent.is_empty:
        shape = gpd.GeoSeries([extent], crs=WORKSPACE_CRS).to_crs(crs).iloc[0]
        x0, y0, x1, y1 = shape.bounds
        step = size / 2
        gx, gy = np.meshgrid(np.arange(x0 - size, x1 + size, step), np.arange(y0 - size, y1 + size, step))
        gq, gr = _hex_axial(gx.ravel(), gy.ravel(), size)
        around = pd.DataFrame({"q": gq, "r": gr}).drop_duplicates()
        keep = _inside(_hex_polygons(around["q"].to_numpy(), around["r"].to_numpy(), size), shape)
        cells = pd.concat([cells, around[keep]])
    cells = cells.drop_duplicates().sort_values(["q", "r"])
    unit_ids = ("H" + cells["q"].astype(str) + "_" + cells["r"].astype(str)).to_numpy()
    label = f"六角形 {size:g}m"
    units = gpd.GeoDataFrame({"unit_id": unit_ids, "unit_name": np.char.add(unit_ids.astype(str), f" ({label})")},
                             geometry=_hex_polygons(cells["q"].to_numpy(), cells["r"].to_numpy(), size),
                             crs=crs).to_crs(WORKSPACE_CRS)
    return units, unit


def unit_system_key(*, level: str = "town_block", mesh: int | None = None, hex_size_m: float | None = None) -> str:
    """The name of a unit system: ``town_block`` … ``municipality``, ``mesh_250m`` or ``hex_300m``."""
    if mesh is not None and hex_size_m is not None:
        raise InputError("mesh と hex_size_m はどちらか一方だけ指定してください。")
    if mesh is not None:
        return f"mesh_{int(mesh)}m"
    if hex_size_m is not None:
        return f"hex_{float(hex_size_m):g}m"
    return level


def unit_system_label(key: str) -> str:
    """A unit system's name in Japanese: 中学校区, 250 m メッシュ, 六角形 (一辺 300 m).

    >>> unit_system_label("mesh_250m"), unit_system_label("hex_300m")
    ('250 m メッシュ', '六角形 (一辺 300 m)')
    """
    from scgeo.schema import AREA_LEVEL_LABELS

    parsed = parse_unit_system(key)
    if parsed["mesh"] is not None:
        return f"{parsed['mesh']} m メッシュ"
    if parsed["hex_size_m"] is not None:
        return f"六角形 (一辺 {parsed['hex_size_m']:g} m)"
    return AREA_LEVEL_LABELS.get(key, key)


def parse_unit_system(key: str) -> dict:
    """The keywords of :func:`units_and_membership` for a unit system's name (inverse of :func:`unit_system_key`)."""
    if key.startswith("mesh_") and key.endswith("m"):
        return {"level": None, "mesh": int(key[5:-1]), "hex_size_m": None}
    if key.startswith("hex_") and key.endswith("m"):
        return {"level": None, "mesh": None, "hex_size_m": float(key[4:-1])}
    return {"level": key, "mesh": None, "hex_size_m": None}


def units_and_membership(system: str, needs: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None,
                         blocks: gpd.GeoDataFrame | None = None) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """The units of a unit system (by name) and the unit of each row of ``needs`` (``区域外`` if none)."""
    spec = parse_unit_system(system)
    extent = study_extent(areas)
    if spec["mesh"] is not None:
        return mesh_units(needs, spec["mesh"], extent=extent)
    if spec["hex_size_m"] is not None:
        muni = areas.loc[areas["level"] == "municipality", "area_id"] if areas is not None else pd.Series()
        return hex_units(needs, spec["hex_size_m"], muni_code=str(muni.iloc[0]) if len(muni) else None,
                         extent=extent)
    if areas is None:
        raise InputError("区域で集計するには areas (ワークスペースの区域) が必要です。")
    return area_units(needs, areas, spec["level"], blocks)
