"""The built-in vector basemap: the workspace's own streets, rivers and railways.

Drawn from ``network_edges`` (styled by highway class: arterials thicker) and ``basemap_lines``
so the map stays readable when no tile can load (a council room without network). The same
classes are used by the print maps (:mod:`scgeo.maps.static`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from scgeo.maps._layers import VectorLayer, round_geojson

__all__ = ["STREET_CLASSES", "STREET_STYLES", "VECTOR_BASEMAP", "add_vector_basemap",
           "basemap_frame", "basemap_kinds", "street_class", "vector_attribution"]

VECTOR_BASEMAP = "簡易地図(道路網・オフライン)"
STREET_CLASSES = {
    "major": ("motorway", "trunk", "primary", "motorway_link", "trunk_link", "primary_link"),
    "secondary": ("secondary", "secondary_link"),
    "tertiary": ("tertiary", "tertiary_link"),
    "path": ("footway", "path", "steps", "pedestrian", "cycleway", "track", "bridleway", "corridor"),
}
# drawing order (first is bottom) and Leaflet path styles
STREET_STYLES = {
    "river": {"color": "#a9d3f0", "weight": 6, "opacity": 1},
    "canal": {"color": "#a9d3f0", "weight": 4, "opacity": 1},
    "stream": {"color": "#a9d3f0", "weight": 2.5, "opacity": 1},
    "path": {"color": "#cdc6b8", "weight": 1, "dashArray": "2 3", "opacity": 1},
    "minor": {"color": "#c9c2b4", "weight": 1.3, "opacity": 1},
    "tertiary": {"color": "#b0a796", "weight": 2, "opacity": 1},
    "secondary": {"color": "#e2b659", "weight": 3.2, "opacity": 1},
    "major": {"color": "#db8f45", "weight": 4.2, "opacity": 1},
    "rail": {"color": "#333333", "weight": 3, "dashArray": "14 5", "opacity": 1},
}


def basemap_kinds(streets: gpd.GeoDataFrame | None, lines: gpd.GeoDataFrame | None) -> dict[str, bool]:
    """Which background layers exist: ``roads``, ``rivers``, ``rails`` (legends list only these)."""
    kinds = set(lines["kind"].astype(str)) if lines is not None and len(lines) else set()
    return {"roads": streets is not None and len(streets) > 0,
            "rivers": bool(kinds & {"river", "stream", "canal"}), "rails": "rail" in kinds}


def vector_attribution(streets: gpd.GeoDataFrame | None, lines: gpd.GeoDataFrame | None) -> str | None:
    """The credit of the built-in basemap for the layers that exist (``None`` when there are none).

    Examples
    --------
    >>> vector_attribution(None, None) is None
    True
    """
    have = basemap_kinds(streets, lines)
    names = [label for key, label in (("roads", "道路"), ("rivers", "川"), ("rails", "鉄道")) if have[key]]
    return f"{'・'.join(names)}: OpenStreetMap 形式のデータ (ワークスペース)" if names else None


def street_class(highway: pd.Series) -> pd.Series:
    """Map OSM ``highway`` values to ``major``/``secondary``/``tertiary``/``path``/``minor``."""
    lookup = {value: cls for cls, values in STREET_CLASSES.items() for value in values}
    return highway.astype(object).map(lookup).fillna("minor").astype(str)


def basemap_frame(streets: gpd.GeoDataFrame | None, lines: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Streets and lines as one frame (EPSG:4326) with a ``kind`` column, in drawing order."""
    parts = []
    if streets is not None and len(streets):
        highway = streets["highway"] if "highway" in streets else pd.Series(None, index=streets.index)
        parts.append(gpd.GeoDataFrame({"kind": street_class(highway).to_numpy()},
                                      geometry=streets.geometry.to_crs(4326).values, crs=4326))
    if lines is not None and len(lines):
        parts.append(gpd.GeoDataFrame({"kind": lines["kind"].astype(str).to_numpy()},
                                      geometry=lines.geometry.to_crs(4326).values, crs=4326))
    if not parts:
        return gpd.GeoDataFrame({"kind": []}, geometry=[], crs=4326)
    frame = pd.concat(parts, ignore_index=True)
    order = {kind: i for i, kind in enumerate(STREET_STYLES)}
    return frame.iloc[frame["kind"].map(order).fillna(len(order)).argsort(kind="stable")]


def add_vector_basemap(m, streets: gpd.GeoDataFrame | None, lines: gpd.GeoDataFrame | None, *,
                       show: bool = True) -> VectorLayer:
    """Add the vector basemap to ``m`` as a base layer (a radio button next to the tiles)."""
    frame = basemap_frame(streets, lines)
    # one MultiLineString per class: a few canvas paths instead of thousands of layers (fast to add)
    parts = shapely.get_parts(frame.geometry.values)
    kinds = np.repeat(frame["kind"].to_numpy(), shapely.get_num_geometries(frame.geometry.values))
    merged = gpd.GeoDataFrame(
        {"kind": list(dict.fromkeys(kinds))},
        geometry=[shapely.multilinestrings(parts[kinds == k]) for k in dict.fromkeys(kinds)], crs=4326)
    layer = VectorLayer(round_geojson(merged, ["kind"]), styles={**STREET_STYLES, "*": STREET_STYLES["minor"]},
                        name=VECTOR_BASEMAP, overlay=False, show=show,
                        attribution=vector_attribution(streets, lines) or "",
                        registry="overlays")
    layer.add_to(m)
    return layer
