"""Byte-stable writers: GeoJSON (one feature per line), CSV and OSM XML.

Every coordinate is written in lon/lat on the :data:`~scgeo.sample._geom.GRID_DEG` grid and
every row in a fixed order, so that the same town always gives the same bytes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd
import shapely

from scgeo.sample._geom import LONLAT_CRS

__all__ = ["write_csv", "write_geojson", "write_osm"]

_CRS_MEMBER = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::" + LONLAT_CRS.split(":")[1]}}


def _ring(coords: np.ndarray) -> list[list[float]]:
    return [[round(float(x), 7), round(float(y), 7)] for x, y in coords]


def _multipolygon(geom: shapely.Geometry) -> dict:
    polygons = shapely.get_parts(shapely.orient_polygons(geom))
    return {"type": "MultiPolygon", "coordinates": [
        [_ring(shapely.get_coordinates(p.exterior)),
         *(_ring(shapely.get_coordinates(r)) for r in p.interiors)] for p in polygons]}


def _plain(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


def write_geojson(path: Path, name: str, properties: pd.DataFrame, geometries: np.ndarray) -> Path:
    """A FeatureCollection in EPSG:6668, one feature per line, in the order given."""
    lines = []
    for (_, row), geom in zip(properties.iterrows(), geometries, strict=True):
        feature = {"type": "Feature", "properties": {k: _plain(v) for k, v in row.items()},
                   "geometry": _multipolygon(geom)}
        lines.append(json.dumps(feature, ensure_ascii=False))
    head = json.dumps({"type": "FeatureCollection", "name": name, "crs": _CRS_MEMBER}, ensure_ascii=False)
    text = head[:-1] + ', "features": [\n' + ",\n".join(lines) + "\n]}\n"
    path.write_text(text, encoding="utf-8", newline="\n")
    return path


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    """UTF-8 CSV (no BOM), Unix line ends, empty cells for missing values."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(frame.columns)
        for row in frame.itertuples(index=False):
            writer.writerow(["" if _plain(v) is None else v for v in row])
    return path


def _tag_lines(tags: tuple[tuple[str, str], ...], indent: str) -> list[str]:
    return [f"{indent}<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags]


def write_osm(path: Path, lonlat: np.ndarray, node_tags: dict[int, tuple], ways: list[tuple[list[int], tuple]]) -> Path:
    """OSM XML 0.6: nodes numbered 1… from south-west to north-east, then ways numbered 1….

    ``upload="never"`` keeps JOSM from ever uploading the fictional town to OpenStreetMap.
    """
    lonlat = np.round(lonlat, 7)
    order = np.lexsort((lonlat[:, 0], lonlat[:, 1]))
    node_id = np.empty(len(lonlat), dtype=int)
    node_id[order] = np.arange(1, len(lonlat) + 1)
    lo, hi = lonlat.min(0), lonlat.max(0)
    out = ["<?xml version='1.0' encoding='UTF-8'?>",
           '<osm version="0.6" generator="scgeo.sample" upload="never">',
           f'  <bounds minlat="{lo[1]:.7f}" minlon="{lo[0]:.7f}" maxlat="{hi[1]:.7f}" maxlon="{hi[0]:.7f}"/>']
    for i in order:
        head = f'  <node id="{node_id[i]}" version="1" lat="{lonlat[i, 1]:.7f}" lon="{lonlat[i, 0]:.7f}"'
        if i in node_tags:
            out += [head + ">", *_tag_lines(node_tags[i], "    "), "  </node>"]
        else:
            out.append(head + "/>")
    for w, (nodes, tags) in enumerate(ways, start=1):
        out.append(f'  <way id="{w}" version="1">')
        out += [f'    <nd ref="{node_id[n]}"/>' for n in nodes]
        out += _tag_lines(tags, "    ")
        out.append("  </way>")
    out.append("</osm>")
    path.write_text("\n".join(out) + "\n", encoding="utf-8", newline="\n")
    return path
