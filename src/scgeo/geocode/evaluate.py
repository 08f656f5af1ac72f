"""How well a geocoder places addresses whose true positions are known (lists that publish both).

Examples
--------
>>> import pandas as pd
>>> found = pd.DataFrame({"lat": [35.0, None], "lon": [135.0, None], "level": ["町丁目", "失敗"]})
>>> report = evaluate(found, pd.Series([35.001, 35.0]), pd.Series([135.0, 135.0]))
>>> report["placed_share"], round(report["median_m"])
(0.5, 111)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyproj import Geod

__all__ = ["PLACED_LEVELS", "distances_m", "evaluate"]

# Levels at which an import places a row (市区町村 and 失敗 go to the 位置未確定 list).
PLACED_LEVELS = ("番地", "街区", "町丁目", "大字")
_GEOD = Geod(ellps="GRS80")


def distances_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Geodesic distances in metres on GRS80 (the JGD2011 ellipsoid), NaN where a point is missing."""
    lat1, lon1, lat2, lon2 = (np.asarray(v, dtype=float) for v in (lat1, lon1, lat2, lon2))
    ok = ~(np.isnan(lat1) | np.isnan(lon1) | np.isnan(lat2) | np.isnan(lon2))
    out = np.full(lat1.shape, np.nan)
    if ok.any():
        _, _, dist = _GEOD.inv(lon1[ok], lat1[ok], lon2[ok], lat2[ok])
        out[ok] = dist
    return out


def evaluate(found: pd.DataFrame, true_lat: pd.Series, true_lon: pd.Series) -> dict:
    """Placed share, match levels and distance to the true positions of geocoded rows.

    Parameters
    ----------
    found
        The result of :func:`scgeo.geocode.geocode` (``lat``, ``lon``, ``level``), one row per
        address.
    true_lat, true_lon
        The published positions, aligned with ``found``.

    Returns
    -------
    dict
        ``n``, ``placed`` and ``placed_share`` (rows at a level in :data:`PLACED_LEVELS`),
        ``levels`` (count per level), ``median_m`` / ``p90_m`` / ``max_m`` (distance of the
        placed rows to their true position) and ``within_500m_share`` (of the placed rows).
    """
    placed = found["level"].isin(PLACED_LEVELS).to_numpy()
    dist = distances_m(found["lat"], found["lon"], true_lat, true_lon)[placed]
    dist = dist[~np.isnan(dist)]
    stat = (lambda q: float(np.quantile(dist, q))) if len(dist) else (lambda q: float("nan"))
    return {
        "n": len(found), "placed": int(placed.sum()),
        "placed_share": float(placed.mean()) if len(found) else float("nan"),
        "levels": {k: int(v) for k, v in found["level"].value_counts().items()},
        "median_m": stat(0.5), "p90_m": stat(0.9), "max_m": stat(1.0),
        "within_500m_share": float((dist <= 500).mean()) if len(dist) else float("nan"),
    }
