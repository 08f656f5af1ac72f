"""OpenStreetMap files (.osm XML and .osm.pbf) to a walking network and basemap lines.

Both formats are read with pyosmium (libosmium), one code path. Walkable ways follow the
osmnx ``walk`` filter: any ``highway`` except abandoned, bus_guideway, construction, cycleway,
motor(way), no, planned, platform, proposed, raceway, razed; not ``area=yes``, ``access=private``,
``foot=no`` or ``service=private``. Ways are split at junctions (nodes shared by ways) and
at their ends, so that an edge runs from junction to junction with its full geometry.
Rivers, streams, canals and railways are kept separately as basemap lines; they are never
walkable.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from scgeo._errors import InputError
from scgeo.crs import WORKSPACE_CRS, metric_crs

__all__ = ["OsmData", "is_walkable", "read_osm"]

_NOT_WALKABLE = re.compile(
    r"abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|raceway|razed"
)
_WATERWAYS = {"river": "river", "stream": "stream", "canal": "canal"}
_RAILWAYS = {"rail", "light_rail", "narrow_gauge", "subway", "tram", "monorail"}


def is_walkable(tags: dict[str, str]) -> bool:
    """Whether a way with these tags belongs to the walking network (osmnx ``walk`` filter)."""
    highway = tags.get("highway")
    if not highway or _NOT_WALKABLE.search(highway):
        return False
    return not (tags.get("area") == "yes" or tags.get("access") == "private"
                or tags.get("foot") == "no" or tags.get("service") == "private")


@dataclass(frozen=True)
class OsmData:
    """What :func:`read_osm` found, in the workspace CRS (EPSG:6668).

    ``nodes``: junctions and dead ends (``node_id`` = OSM id); ``edges``: walkable street segments
    between them (``u``, ``v``, ``length_m``, ``highway``, ``name``); ``lines``: rivers and
    railways for the basemap (``feature_id``, ``kind``, ``name``).
    """

    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    lines: gpd.GeoDataFrame


def _ways(path: Path):
    import osmium

    try:
        processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
        for way in processor:
            if not way.is_way():
                continue
            tags = dict(way.tags)
            try:
                refs = [n.ref for n in way.nodes]
                coords = [(n.lon, n.lat) for n in way.nodes]
            except osmium.InvalidLocationError:
                continue  # a way cut at the extract's edge: its outside nodes have no location
            yield way.id, tags, refs, coords
    except RuntimeError as exc:
        raise InputError(f"OpenStreetMap ファイル {path} を読めません: {exc}") from exc


def read_osm(path: str | Path) -> OsmData:
    """Read a walking network and basemap lines from an ``.osm`` or ``.osm.pbf`` file.

    Raises ``InputError`` when the file is missing, unreadable or has no walkable way.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"OpenStreetMap ファイル {path} が見つかりません。")
    walk_ways, lines = [], []
    for way_id, tags, refs, coords in _ways(path):
        if len(refs) < 2:
            continue
        if is_walkable(tags):
            walk_ways.append((tags.get("highway"), tags.get("name"), refs, coords))
        elif tags.get("waterway") in _WATERWAYS or tags.get("railway") in _RAILWAYS:
            kind = _WATERWAYS.get(tags.get("waterway", ""), "rail")
            lines.append((f"w{way_id}", kind, tags.get("name"), shapely.LineString(coords)))
    if not walk_ways:
        raise InputError(f"{path} に歩行できる道(highway)がありません。")
    nodes, edges = _split_at_junctions(walk_ways)
    line_frame = gpd.GeoDataFrame(
        pd.DataFrame(lines, columns=["feature_id", "kind", "name", "geometry"]) if lines
        else pd.DataFrame(columns=["feature_id", "kind", "name", "geometry"]),
        geometry="geometry", crs=WORKSPACE_CRS)
    return OsmData(nodes, edges, line_frame)


def _split_at_junctions(ways: list) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    all_refs = np.concatenate([np.asarray(r, dtype=np.int64) for _, _, r, _ in ways])
    ids, counts = np.unique(all_refs, return_counts=True)
    junction = set(ids[counts > 1].tolist())
    location: dict[int, tuple[float, float]] = {}
    rows = []
    for highway, name, refs, coords in ways:
        location.update(zip(refs, coords, strict=True))
        cut = [0, *(i for i in range(1, len(refs) - 1) if refs[i] in junction), len(refs) - 1]
        for a, b in itertools.pairwise(cut):
            if refs[a] == refs[b] and b - a < 3:
                continue  # a degenerate loop of one point
            rows.append((refs[a], refs[b], highway, name, shapely.LineString(coords[a:b + 1])))
    edges = gpd.GeoDataFrame(pd.DataFrame(rows, columns=["u", "v", "highway", "name", "geometry"]),
                             geometry="geometry", crs=WORKSPACE_CRS)
    edges.insert(0, "edge_id", np.arange(1, len(edges) + 1))
    edges.insert(3, "length_m", edges.to_crs(metric_crs(edges)).length.to_numpy())
    used = np.unique(np.concatenate([edges["u"].to_numpy(), edges["v"].to_numpy()]))
    xy = np.array([location[i] for i in used.tolist()])
    nodes = gpd.GeoDataFrame({"node_id": used}, geometry=shapely.points(xy), crs=WORKSPACE_CRS)
    return nodes, edges
