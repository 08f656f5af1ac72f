"""Coordinate reference systems: one way into the workspace CRS and one way to metres.

Geometry is stored in JGD2011 geographic (EPSG:6668). Analysis converts to a metric CRS once,
at its entry, with :func:`to_metric`: the JGD2011 平面直角座標系 zone of the prefecture when the
municipality code is known, otherwise the JGD2011 UTM zone of the data's longitude (the WGS 84
UTM zone outside Japan).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from pyproj import CRS

from scgeo._errors import CRSError
from scgeo.municipalities import plane_zone_epsg
from scgeo.settings import get_settings

__all__ = ["WORKSPACE_CRS", "check_crs", "metric_crs", "plane_zone_epsg", "to_metric", "to_workspace"]

WORKSPACE_CRS = "EPSG:6668"

# Japan's extent (lon, lat), with its remote islands; inside it the JGD2011 UTM zones 51–55 apply
_JAPAN_BOUNDS = (122.0, 20.0, 154.0, 46.0)


def metric_crs(gdf: gpd.GeoDataFrame, *, muni_code: str | None = None) -> CRS:
    """The metric CRS for ``gdf``, chosen from the data.

    The JGD2011 plane-rectangular zone of ``muni_code`` when it is a Japanese municipality;
    else, inside Japan, the JGD2011 UTM zone of the data's longitude (51–55); elsewhere the WGS 84
    UTM zone of its longitude and hemisphere (e.g. EPSG:32635 for Helsinki).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> metric_crs(gpd.GeoDataFrame(geometry=[shapely.Point(24.94, 60.17)], crs=4326)).to_epsg()
    32635
    >>> metric_crs(gpd.GeoDataFrame(geometry=[shapely.Point(132.75, 35.37)], crs=4326)).to_epsg()
    6690
    """
    epsg = plane_zone_epsg(muni_code)
    if epsg is not None:
        return CRS.from_epsg(epsg)
    check_crs(gdf)
    # the middle of the data's extent (not the centroid of a union: that grows with the streets)
    x0, y0, x1, y1 = gdf.to_crs(WORKSPACE_CRS).total_bounds if len(gdf) else (np.nan,) * 4
    lon, lat = ((x0 + x1) / 2, (y0 + y1) / 2) if np.isfinite([x0, y0, x1, y1]).all() else (139.0, 35.0)
    zone = min(max(int((lon + 180) // 6) + 1, 1), 60)
    xmin, ymin, xmax, ymax = _JAPAN_BOUNDS
    if xmin <= lon <= xmax and ymin <= lat <= ymax:
        return CRS.from_epsg(6688 + (min(max(zone, 51), 55) - 51))
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def check_crs(gdf: gpd.GeoDataFrame, *, what: str = "データ") -> CRS:
    """Return the CRS of ``gdf`` or raise ``CRSError`` telling the user how to set it."""
    if gdf.crs is None:
        raise CRSError(
            f"{what}の座標参照系(CRS)が分かりません。"
            "ファイルに .prj を添えるか、--crs EPSG:6668 (緯度経度) / EPSG:2450 (平面直角座標系) "
            "のように指定してください(Python からは crs=\"EPSG:6668\")。"
        )
    return CRS.from_user_input(gdf.crs)


def to_workspace(gdf: gpd.GeoDataFrame, *, what: str = "データ", expect=None) -> gpd.GeoDataFrame:
    """Reproject ``gdf`` to the workspace CRS (EPSG:6668), after checking where it lies.

    Every layer must have a CRS, and under a geographic CRS its coordinates must be degrees
    (:func:`scgeo.location.check_degrees`). With ``expect`` (a :class:`scgeo.location.Expected`:
    the municipality and the areas it must overlap) the layer must also lie in Japan, near the
    municipality's 役場 and on the reference (:func:`scgeo.location.check_location`). Raises
    ``CRSError`` with the candidate CRSs otherwise.
    """
    from scgeo.location import check_degrees, check_location

    check_crs(gdf, what=what)
    if expect is not None:
        check_location(gdf, expect, what=what)
    else:
        check_degrees(gdf, what=what)
    return gdf.to_crs(get_settings().workspace_crs)


def to_metric(gdf: gpd.GeoDataFrame, *, crs: CRS | str | None = None,
              muni_code: str | None = None) -> gpd.GeoDataFrame:
    """Reproject ``gdf`` to metres (``crs`` or :func:`metric_crs`); raise on a missing CRS."""
    check_crs(gdf)
    target = CRS.from_user_input(crs) if crs else metric_crs(gdf, muni_code=muni_code)
    if target.is_geographic:
        raise CRSError(f"距離の計算には投影座標系が必要です。{target.name} は緯度経度の座標系です。")
    return gdf.to_crs(target)
