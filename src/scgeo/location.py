"""Where a layer must lie: CRS plausibility checks at the door of the workspace.

A wrong CRS is not an error GDAL can see: a plane-rectangular file declared as EPSG:6668 is
stored at latitude −136754, and the neighbouring 平面直角座標系 zone puts a town 120 km away.
After reprojection a layer must therefore

1. be possible at all: under a geographic CRS every coordinate is degrees (|lon| ≤ 180,
   |lat| ≤ 90), checked by :func:`check_degrees` for every import;
2. lie inside Japan (``settings.japan_bbox``);
3. lie near the municipality: its 役場 point (:mod:`scgeo.municipalities`) within
   :data:`NEAR_KM` of the layer's extent;
4. overlap the reference: the workspace's existing areas, or the other inputs of the same build.

:func:`check_location` raises :class:`~scgeo.CRSError` with a Japanese message that says what
was found and lists the CRSs (JGD2011 / JGD2000 plane zones I–XIX, EPSG:4326 / 6668 / 4612) under
which the same numbers would pass every check. Only a sample of the coordinates is transformed,
so the check costs milliseconds on any layer.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from scgeo._errors import CRSError
from scgeo.municipalities import lookup, plane_zone_epsg
from scgeo.settings import get_settings

__all__ = ["CANDIDATE_EPSG", "NEAR_KM", "Expected", "candidate_crs", "check_degrees", "check_location"]

NEAR_KM = 30.0
_ZONES = tuple(range(1, 20))
CANDIDATE_EPSG = (*(6668 + z for z in _ZONES), *(2442 + z for z in _ZONES), 4326, 6668, 4612)
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV",
          "XVI", "XVII", "XVIII", "XIX")
_SAMPLE = 2000
_REFERENCE_MARGIN_DEG = 0.02  # about 2 km: shared boundaries drawn by different hands


@dataclass(frozen=True)
class Expected:
    """Where a layer is expected: the municipality and, optionally, a reference geometry.

    Parameters
    ----------
    muni_code
        全国地方公共団体コード; its 役場 point must lie within :data:`NEAR_KM` of the layer.
        Codes the national table does not know (the sample town 99201) skip this check.
    reference
        A geometry in EPSG:6668 (the workspace's areas, other inputs of a build) that the layer
        must overlap, or ``None``.
    reference_label
        What the reference is, for the message (「ワークスペースの区域」).
    """

    muni_code: str | None = None
    reference: BaseGeometry | None = None
    reference_label: str = "ワークスペースの区域"

    @classmethod
    def for_workspace(cls, workspace, *, exclude_levels: tuple[str, ...] = ()) -> Expected:
        """The expectation of an open workspace: its municipality and its areas.

        ``exclude_levels``: area levels about to be replaced (they are not a reference).
        """
        areas = workspace.areas()
        areas = areas[~areas["level"].isin(list(exclude_levels))]
        reference = _union(areas.geometry.to_numpy()) if len(areas) else None
        return cls(workspace.meta().get("muni_code"), reference)

    def including(self, frame: gpd.GeoDataFrame | None) -> Expected:
        """The same expectation with ``frame`` added to the reference (a build's next input must overlap it)."""
        if frame is None or not len(frame):
            return self
        extra = _union(frame.to_crs(get_settings().workspace_crs).geometry.to_numpy())
        reference = extra if self.reference is None else shapely.union(self.reference, extra)
        return Expected(self.muni_code, reference, self.reference_label)


def _union(geoms: np.ndarray) -> BaseGeometry:
    return shapely.union_all(shapely.envelope(geoms[~shapely.is_missing(geoms)]))


def _sample(gdf: gpd.GeoDataFrame) -> np.ndarray:
    xy = shapely.get_coordinates(gdf.geometry.to_numpy())
    if len(xy) > _SAMPLE:
        xy = xy[np.linspace(0, len(xy) - 1, _SAMPLE).astype(int)]
    return xy


def _crs_name(crs: CRS) -> str:
    epsg = crs.to_epsg()
    if epsg and 6669 <= epsg <= 6687:
        return f"EPSG:{epsg} (JGD2011 平面直角座標系 {_ROMAN[epsg - 6669]}系)"
    if epsg and 2443 <= epsg <= 2461:
        return f"EPSG:{epsg} (JGD2000 平面直角座標系 {_ROMAN[epsg - 2443]}系)"
    names = {4326: "WGS84 緯度経度", 6668: "JGD2011 緯度経度", 4612: "JGD2000 緯度経度"}
    if epsg in names:
        return f"EPSG:{epsg} ({names[epsg]})"
    return f"EPSG:{epsg} ({crs.name})" if epsg else crs.name


def _degrees_ok(xy: np.ndarray) -> bool:
    return bool(len(xy) and np.isfinite(xy).all() and (np.abs(xy[:, 0]) <= 180).all()
                and (np.abs(xy[:, 1]) <= 90).all())


@functools.lru_cache(maxsize=64)
def _transformer(crs: CRS, target: str) -> Transformer:
    return Transformer.from_crs(crs, target, always_xy=True)


def _to_lonlat(xy: np.ndarray, crs: CRS) -> np.ndarray | None:
    """The sample in EPSG:6668 lon/lat, or ``None`` when the numbers cannot be in ``crs``."""
    if crs.is_geographic:
        return xy.copy() if _degrees_ok(xy) else None
    transformer = _transformer(crs, get_settings().workspace_crs)
    with np.errstate(all="ignore"):
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1], errcheck=False)
    out = np.column_stack([lon, lat])
    return out if _degrees_ok(out) else None


def _km(lon0: float, lat0: float, lon1: float, lat1: float) -> float:
    dx = (lon1 - lon0) * 111.32 * math.cos(math.radians((lat0 + lat1) / 2))
    return math.hypot(dx, (lat1 - lat0) * 110.57)


def _direction(dlon: float, dlat: float) -> str:
    names = ("東", "北東", "北", "北西", "西", "南西", "南", "南東")
    return names[round(math.degrees(math.atan2(dlat, dlon)) / 45) % 8]


def _problem(lonlat: np.ndarray | None, expected: Expected | None) -> str | None:
    """Why a sample (EPSG:6668) is implausible, or ``None`` when it passes every check."""
    if lonlat is None:
        return "緯度経度として読めない値です"
    x0, y0, x1, y1 = get_settings().japan_bbox
    inside = (lonlat[:, 0] >= x0) & (lonlat[:, 0] <= x1) & (lonlat[:, 1] >= y0) & (lonlat[:, 1] <= y1)
    if not inside.all():
        return f"日本の範囲外です(日本の範囲に入るのは {inside.mean():.0%})"
    if expected is None:
        return None
    xmin, ymin = lonlat.min(axis=0)
    xmax, ymax = lonlat.max(axis=0)
    town = lookup(expected.muni_code) if expected.muni_code else None
    if town is not None:
        near_lon, near_lat = min(max(town.lon, xmin), xmax), min(max(town.lat, ymin), ymax)
        km = _km(town.lon, town.lat, near_lon, near_lat)
        if km > NEAR_KM:
            where = _direction((xmin + xmax) / 2 - town.lon, (ymin + ymax) / 2 - town.lat)
            return (f"{town.hall}から{where}へ約 {km:,.0f} km 離れています"
                    f"({NEAR_KM:g} km 以内にあるはずです)")
    if expected.reference is not None and not expected.reference.is_empty:
        box = shapely.box(xmin, ymin, xmax, ymax)
        if not box.intersects(expected.reference.buffer(_REFERENCE_MARGIN_DEG)):
            return f"{expected.reference_label}と重なりません"
    return None


def _describe(lonlat: np.ndarray | None, xy: np.ndarray) -> str:
    if lonlat is None:
        x0, y0 = np.nanmin(xy, axis=0)
        x1, y1 = np.nanmax(xy, axis=0)
        return f"座標の値は X {x0:,.1f}〜{x1:,.1f}、Y {y0:,.1f}〜{y1:,.1f}"
    (x0, y0), (x1, y1) = lonlat.min(axis=0), lonlat.max(axis=0)
    return f"変換後の範囲は経度 {x0:.4f}〜{x1:.4f}、緯度 {y0:.4f}〜{y1:.4f}"


def candidate_crs(gdf: gpd.GeoDataFrame, expected: Expected | None = None) -> list[CRS]:
    """The CRSs of :data:`CANDIDATE_EPSG` under which the raw coordinates of ``gdf`` are plausible.

    The prefecture's own plane zone (JGD2011, then JGD2000) comes first when the municipality is
    known; geographic CRSs last.
    """
    xy = _sample(gdf)
    found = []
    for epsg in CANDIDATE_EPSG:
        crs = CRS.from_epsg(epsg)
        if _problem(_to_lonlat(xy, crs), expected) is None:
            found.append(crs)
    if expected and expected.muni_code:
        own = plane_zone_epsg(expected.muni_code)
        if own:
            first = {own, own - 6668 + 2442}
            found.sort(key=lambda c: c.to_epsg() not in first)
    return found


def _refuse(gdf: gpd.GeoDataFrame, what: str, problem: str, lonlat, xy, expected: Expected | None):
    declared = CRS.from_user_input(gdf.crs)
    candidates = candidate_crs(gdf, expected)
    message = (f"{what} を座標系 {_crs_name(declared)} として読むと、{problem}。"
               f"{_describe(lonlat, xy)}。")
    if candidates:
        target = "市町村の位置に重なります" if expected else "日本の範囲に入ります"
        message += (f"次の座標系なら{target}: " + "、".join(_crs_name(c) for c in candidates[:6])
                    + ("、…" if len(candidates) > 6 else "")
                    + "。ファイルの座標系が正しいか確かめ、--crs EPSG:… で指定し直してください。")
    else:
        message += ("平面直角座標系 I〜XIX系・緯度経度のどれとして読んでも合いません。"
                    "別の市町村のファイルではないか、座標の列が正しいかを確かめてください。")
    message += "取り込みは行っていません。"
    raise CRSError(message)


def check_degrees(gdf: gpd.GeoDataFrame, *, what: str = "データ") -> None:
    """Refuse coordinates that cannot be degrees under a geographic CRS (e.g. metres in GeoJSON).

    Raises
    ------
    CRSError
        Some coordinate has |lon| > 180, |lat| > 90 or is not finite, though ``gdf.crs`` is
        geographic; the message lists the CRSs under which the numbers would lie in Japan.
    """
    if gdf.crs is None or not CRS.from_user_input(gdf.crs).is_geographic or not len(gdf):
        return
    xy = shapely.get_coordinates(gdf.geometry.to_numpy())
    if not len(xy) or _degrees_ok(xy):
        return
    sample = _sample(gdf)
    _refuse(gdf, what, "緯度経度としてありえない値になります", None, sample, None)


def check_location(gdf: gpd.GeoDataFrame, expected: Expected | None = None, *, what: str = "データ") -> None:
    """Refuse a layer that, in its declared CRS, does not lie where it must.

    Parameters
    ----------
    gdf
        The layer in the CRS it was read with (before reprojection), so that the raw numbers can
        be tried under other CRSs. A layer already in EPSG:6668 works too.
    expected
        The municipality and the reference geometry (:class:`Expected`); ``None`` checks only
        that the layer is inside Japan.
    what
        The file's name, for the message.

    Raises
    ------
    CRSError
        Coordinates that cannot be degrees, outside Japan, far from the municipality's 役場, or
        not overlapping the reference; the Japanese message lists candidate CRSs.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> plane = gpd.GeoDataFrame(geometry=[shapely.box(30000, -136754, 31000, -135754)], crs=6668)
    >>> check_location(plane, Expected("32203"), what="a.geojson")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    scgeo._errors.CRSError: a.geojson を座標系 EPSG:6668 (JGD2011 緯度経度) として読むと、緯度経度として読めない値...
    """
    if gdf.crs is None or not len(gdf):
        return
    xy = _sample(gdf)
    if not len(xy):
        return
    lonlat = _to_lonlat(xy, CRS.from_user_input(gdf.crs))
    problem = _problem(lonlat, expected)
    if problem is not None:
        _refuse(gdf, what, problem, lonlat, xy, expected)
