"""Geometry helpers of the sample town: local frame, smoothing, lon/lat conversion."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer

__all__ = [
    "GRID_DEG",
    "LONLAT_CRS",
    "METRIC_CRS",
    "at",
    "chaikin",
    "local_km",
    "points_near_lines",
    "to_lonlat",
]

METRIC_CRS = "EPSG:6691"  # JGD2011 / UTM zone 54N
LONLAT_CRS = "EPSG:6668"  # JGD2011 geographic
GRID_DEG = 1e-7  # lon/lat precision of every written coordinate (about 1 cm)

# Town centre (the old 本町 crossroads), about lon 141.05, lat 35.05: at sea east of 房総,
# so that the fictional town can never be mistaken for a real place.
_CENTRE_E_M = 504_560.0
_CENTRE_N_M = 3_878_590.0


def at(x_km: float | np.ndarray, y_km: float | np.ndarray) -> np.ndarray:
    """Metric (EPSG:6691) coordinates of points given in km east/north of the town centre."""
    x_km, y_km = np.broadcast_arrays(np.asarray(x_km, float), np.asarray(y_km, float))
    return np.column_stack([_CENTRE_E_M + 1000.0 * x_km.ravel(), _CENTRE_N_M + 1000.0 * y_km.ravel()])


def local_km(xy: np.ndarray) -> np.ndarray:
    """Inverse of :func:`at`: km east/north of the town centre."""
    xy = np.asarray(xy, float).reshape(-1, 2)
    return np.column_stack([(xy[:, 0] - _CENTRE_E_M) / 1000.0, (xy[:, 1] - _CENTRE_N_M) / 1000.0])


def chaikin(points: np.ndarray, iterations: int = 3, *, closed: bool = False) -> np.ndarray:
    """Smooth a polyline by Chaikin corner cutting (an open line keeps its end points)."""
    pts = np.asarray(points, float)
    for _ in range(iterations):
        nxt = np.roll(pts, -1, axis=0) if closed else pts[1:]
        cur = pts if closed else pts[:-1]
        q = 0.75 * cur + 0.25 * nxt
        r = 0.25 * cur + 0.75 * nxt
        inner = np.empty((2 * len(cur), 2))
        inner[0::2], inner[1::2] = q, r
        pts = inner if closed else np.vstack([pts[:1], inner, pts[-1:]])
    return pts


@lru_cache(maxsize=1)
def _transformer() -> Transformer:
    return Transformer.from_crs(METRIC_CRS, LONLAT_CRS, always_xy=True)


def _forward(xy: np.ndarray) -> np.ndarray:
    lon, lat = _transformer().transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def to_lonlat(geoms):
    """Metric geometries → lon/lat (EPSG:6668) snapped to the :data:`GRID_DEG` grid."""
    return shapely.set_precision(shapely.transform(geoms, _forward), GRID_DEG)


def points_near_lines(
    lines: np.ndarray,
    rng: np.random.Generator,
    n: int,
    *,
    offset_m: tuple[float, float] = (4.0, 18.0),
) -> np.ndarray:
    """``n`` points beside randomly chosen lines (chosen by length), like houses on a street.

    Each point lies on a line at a uniform position, moved sideways by a distance drawn from
    ``offset_m`` to a random side.
    """
    lengths = shapely.length(lines)
    pick = rng.choice(len(lines), size=n, p=lengths / lengths.sum())
    t = rng.uniform(0.05, 0.95, n)
    a = shapely.get_coordinates(shapely.line_interpolate_point(lines[pick], t - 0.01, normalized=True))
    b = shapely.get_coordinates(shapely.line_interpolate_point(lines[pick], t + 0.01, normalized=True))
    mid = (a + b) / 2
    direction = b - a
    norm = np.hypot(direction[:, 0], direction[:, 1])
    norm[norm == 0] = 1.0
    normal = np.column_stack([-direction[:, 1], direction[:, 0]]) / norm[:, None]
    side = rng.choice([-1.0, 1.0], n)
    dist = rng.uniform(*offset_m, n)
    return mid + normal * (side * dist)[:, None]

