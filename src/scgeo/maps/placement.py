"""A map to check geocoded positions before writing and to place 位置未確定 rows by clicking."""

from __future__ import annotations

import geopandas as gpd

from scgeo.maps._layers import ClickToPlace
from scgeo.maps.resource_map import VECTOR_BASEMAP, resource_map

__all__ = ["placement_map"]


def placement_map(areas: gpd.GeoDataFrame, resources: gpd.GeoDataFrame, *, marker: tuple[float, float] | None = None,
                  focus: gpd.GeoDataFrame | None = None, streets: gpd.GeoDataFrame | None = None,
                  basemap_lines: gpd.GeoDataFrame | None = None, title: str = "位置の確認"):
    """The 地域資源マップ of ``resources`` (e.g. rows about to be imported) where a click marks a spot.

    Rows placed at a 町丁目 / 大字 representative point are drawn hollow, as on every map. A click
    draws a pin and posts ``{scgeoClick: {lat, lng}}`` to the page holding the map (the app's
    データ取込 places the chosen 位置未確定 row there); ``marker`` (lat, lon) is the pin so far.

    Returns
    -------
    folium.Map
    """
    basemap = VECTOR_BASEMAP if streets is not None and len(streets) else "地理院タイル(淡色地図)"
    m = resource_map(areas, resources, title=title, focus=focus, basemap=basemap,
                     streets=streets if streets is not None and len(streets) else None,
                     basemap_lines=basemap_lines)
    ClickToPlace(marker).add_to(m)
    return m
