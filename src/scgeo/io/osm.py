"""OpenStreetMap files (.osm XML and .osm.pbf) to a walking network and basemap lines.

Both formats are read with pyosmium (libosmium), one code path. Walkable ways follow the
osmnx ``walk`` filter: any ``highway`` except abandoned, bus_guideway, construction, cycleway,
motor(way), no, planned, platform, proposed, raceway, razed; not ``area=yes``, ``access=private``,
``foot=no`` or ``service=private``. Ways are split at junctions (nodes shared by ways) and
at their ends, so that an edge runs from junction to junction with its full geometry. A way
cut by the extract's edge (some of its nodes absent) keeps its parts inside the extract, and
the reader counts such ways (``OsmData.cut_ways``) instead of dropping them silently.
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
_KEYS = ("highway", "name", "area", "access", "foot", "service", "waterway", "railway")  # the tags read


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
    railways for the basemap (``feature_id``, ``kind``, ``name``); ``cut_ways``: walkable ways
    cut by the extract's edge, of which the parts inside were kept.
    """

    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    lines: gpd.GeoDataFrame
    cut_ways: int = 0


def _ways(path: Path):
    """``(way id, tags, parts, cut)`` of every way; ``parts`` are its runs of located nodes.

    A way cut by the extract's edge has nodes without a location (they lie outside); it keeps
    each run of consecutive nodes that are present, and ``cut`` is true.
    """
    import osmium

    try:
        # nodes only feed the location store; ways without a key we keep are dropped in libosmium
        processor = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
                     .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
                     .with_filter(osmium.filter.KeyFilter("highway", "waterway", "railway")))
        for way in processor:
            parts, refs, coords, cut = [], [], [], False
            for node in way.nodes:
                loc = node.location
                if loc.valid():
                    refs.append(node.ref)
                    coords.append((loc.lon, loc.lat))
                    continue
                cut = True
                if refs:
                    parts.append((refs, coords))
                refs, coords = [], []
            if refs:
                parts.append((refs, coords))
            tags = way.tags
            yield way.id, {k: v for k in _KEYS if (v := tags.get(k)) is not None}, parts, cut
    except RuntimeError as exc:
        raise InputError(f"OpenStreetMap ファイル {path} を読めません: {exc}") from exc


def read_osm(path: str | Path, *, muni_code: str | None = None) -> OsmData:
    """Read a walking network and basemap lines from an ``.osm`` or ``.osm.pbf`` file.

    A way that crosses the edge of the extract keeps its parts inside it (the nodes present);
    ``OsmData.cut_ways`` counts such walkable ways. Lengths are measured in
    :func:`scgeo.crs.metric_crs` of the data (the plane-rectangular zone of ``muni_code`` when
    given, else the UTM zone of the data's longitude). Raises ``InputError`` when the file is
    missing, unreadable or has no walkable way.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"OpenStreetMap ファイル {path} が見つかりません。")
    walk_ways, lines, cut_ways = [], [], 0
    for way_id, tags, parts, cut in _ways(path):
        parts = [(refs, coords) for refs, coords in parts if len(refs) >= 2]
        if not parts:
            continue
        if is_walkable(tags):
            cut_ways += cut
            walk_ways += [(tags.get("highway"), tags.get("name"), refs, coords) for refs, coords in parts]
        elif tags.get("waterway") in _WATERWAYS or tags.get("railway") in _RAILWAYS:
            kind = _WATERWAYS.get(tags.get("waterway", ""), "rail")
            lines += [(f"w{way_id}" if k == 0 else f"w{way_id}-{k}", kind, tags.get("name"),
                       shapely.LineString(coords)) for k, (_, coords) in enumerate(parts)]
    if not walk_ways:
        raise InputError(f"{path} に歩行できる道(highway)がありません。")
    nodes, edges = _split_at_junctions(walk_ways, muni_code=muni_code)
    line_frame = gpd.GeoDataFrame(
        pd.DataFrame(lines, columns=["feature_id", "kind", "name", "geometry"]) if lines
        else pd.DataFrame(columns=["feature_id", "kind", "name", "geometry"]),
        geometry="geometry", crs=WORKSPACE_CRS)
    return OsmData(nodes, edges, line_frame, cut_ways=cut_ways)


def _split_at_junctions(ways: list, *, muni_code: str | None = None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    all_refs = np.concatenate([np.asarray(r, dtype=np.int64) for _, _, r, _ in ways])
    ids, counts = np.unique(all_refs, return_counts=True)
    junction = set(ids[counts > 1].tolist())
    location: dict[int, tuple[float, float]] = {}
    rows, pieces = [], []
    for highway, name, refs, coords in ways:
        location.update(zip(refs, coords, strict=True))
        cut = [0, *(i for i in range(1, len(refs) - 1) if refs[i] in junction), len(refs) - 1]
        for a, b in itertools.pairwise(cut):
            if refs[a] == refs[b] and b - a < 3:
                continue  # a degenerate loop of one point
            rows.append((refs[a], refs[b], highway, name))
            pieces.append(coords[a:b + 1])
    counts = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
    geometry = shapely.linestrings(np.array(list(itertools.chain.from_iterable(pieces)), dtype=float).reshape(-1, 2),
                                   indices=np.repeat(np.arange(len(pieces)), counts))  # all at once
    edges = gpd.GeoDataFrame(pd.DataFrame(rows, columns=["u", "v", "highway", "name"]), geometry=geometry,
                             crs=WORKSPACE_CRS)
    edges.insert(0, "edge_id", np.arange(1, len(edges) + 1))
    edges.insert(3, "length_m", edges.to_crs(metric_crs(edges, muni_code=muni_code)).length.to_numpy())
    used = np.unique(np.concatenate([edges["u"].to_numpy(), edges["v"].to_numpy()]))
    xy = np.array([location[i] for i in used.tolist()])
    nodes = gpd.GeoDataFrame({"node_id": used}, geometry=shapely.points(xy), crs=WORKSPACE_CRS)
    return nodes, edges
