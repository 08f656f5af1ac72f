"""Cutting a regional OpenStreetMap extract (``.osm.pbf``) to a municipality plus a buffer.

A Geofabrik region is hundreds of MB; the municipality needs a few MB of it. The file is
streamed three times with pyosmium, keeping only what the area needs, so memory grows with the
municipality, not with the region:

1. nodes: the ids and locations of the nodes inside the area's bounding box, then (vectorised,
   in batches) which of them lie inside the area;
2. ways (only those with ``highway``, ``waterway`` or ``railway``, filtered in libosmium):
   walkable ways and basemap lines with at least one node inside; the ids of their nodes
   outside the box are noted;
3. nodes again: the locations of those outside nodes, so that a way crossing the edge is cut
   exactly at the boundary (its inside part is kept up to the crossing point, which becomes a
   dead end of the network).

A segment whose two ends both lie outside the area (a long straight way clipping a corner)
is left out. Progress (bytes read, when the platform tells it) goes to ``progress``.

:func:`split_osm` cuts the region for many municipalities at once (``scgeo batch``): the same
three passes, once for all of them, each writing a small ``.osm.pbf`` that holds exactly what
:func:`extract_osm` reads for its area (the walkable ways and water and rail lines with a node
inside it, their nodes, the tags the reader uses). :func:`extract_osm` on that file gives the
same network as on the region, so a batch streams the region three times instead of three
times per municipality. Memory: ids and locations of the nodes in the areas' boxes in numpy
(24 bytes each) and the kept ways; areas are cut in groups of 64 (one bit each).
"""

from __future__ import annotations

import os
import time
from array import array
from collections.abc import Callable, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from scgeo._errors import InputError
from scgeo.crs import WORKSPACE_CRS, to_metric
from scgeo.io.osm import _KEYS, _RAILWAYS, _WATERWAYS, OsmData, _split_at_junctions, is_walkable

__all__ = ["areas_outline", "extract_osm", "municipality_area", "split_osm"]

_BATCH = 200_000
_STAGES = ("ノード", "道・川・鉄道", "境界の外のノード")


def municipality_area(ws, *, buffer_m: float = 1000.0):
    """The municipality's outline (or the union of its areas) plus ``buffer_m`` metres, in EPSG:6668.

    Raises ``InputError`` when the workspace has no areas to cut the extract to.
    """
    return areas_outline(ws.areas(), muni_code=ws.meta().get("muni_code"), buffer_m=buffer_m)


def areas_outline(areas, *, muni_code: str | None, buffer_m: float = 1000.0):
    """:func:`municipality_area` from the areas themselves (a workspace still being built)."""
    if not len(areas):
        raise InputError("ワークスペースに区域がありません。歩行ネットワークを切り出す範囲として、先に市町村・"
                         "中学校区などの区域を取り込んでください。")
    muni = areas[areas["level"] == "municipality"]
    shapes = muni if len(muni) else areas
    outline = gpd.GeoDataFrame(geometry=[shapely.make_valid(shapes.union_all())], crs=shapes.crs)
    metric = to_metric(outline, muni_code=muni_code)
    return metric.buffer(max(buffer_m, 0.0)).to_crs(outline.crs).iloc[0]


def _position(path: Path) -> int | None:
    """How far libosmium has read ``path`` (Linux ``/proc``; ``None`` elsewhere)."""
    try:
        for fd in os.listdir("/proc/self/fd"):
            if os.path.realpath(f"/proc/self/fd/{fd}") == str(path):
                with open(f"/proc/self/fdinfo/{fd}") as info:
                    return int(info.readline().split()[1])
    except OSError:
        return None
    return None


class _Progress:
    """Calls ``report(stage, share)`` about twice a second while a pass streams the file."""

    def __init__(self, path: Path, report: Callable[[str, float | None], None] | None) -> None:
        self.path, self.report = path.resolve(), report
        self.size = max(path.stat().st_size, 1)
        self.last = 0.0

    def tick(self, stage: int, count: int) -> None:
        if self.report is None or count % 50_000:
            return
        now = time.monotonic()
        if now - self.last < 0.5:
            return
        self.last = now
        pos = _position(self.path)
        share = None if pos is None else min(pos / self.size, 1.0)
        self.report(f"{stage + 1}/3 {_STAGES[stage]}", share)

    def done(self, stage: int) -> None:
        if self.report is not None:
            self.report(f"{stage + 1}/3 {_STAGES[stage]}", 1.0)


def _processor(path: Path, entities, *keys: str):
    import osmium

    processor = osmium.FileProcessor(str(path), entities)
    return processor.with_filter(osmium.filter.KeyFilter(*keys)) if keys else processor


def _box_nodes(path: Path, boxes: np.ndarray, progress: _Progress) -> tuple[np.ndarray, np.ndarray]:
    """Pass 1: ids (sorted) and locations of the nodes inside the union of ``boxes``."""
    import osmium

    xmin, ymin = boxes[:, 0].min(), boxes[:, 1].min()
    xmax, ymax = boxes[:, 2].max(), boxes[:, 3].max()
    ids, xs, ys = array("q"), array("d"), array("d")
    for count, node in enumerate(_processor(path, osmium.osm.NODE), 1):
        loc = node.location
        if loc.valid():
            lon, lat = loc.lon, loc.lat
            if xmin <= lon <= xmax and ymin <= lat <= ymax:
                ids.append(node.id)
                xs.append(lon)
                ys.append(lat)
        progress.tick(0, count)
    progress.done(0)
    node_ids = np.frombuffer(ids, dtype=np.int64)
    xy = np.empty((len(node_ids), 2))
    xy[:, 0], xy[:, 1] = np.frombuffer(xs), np.frombuffer(ys)
    del xs, ys
    if len(node_ids) > 1 and not (np.diff(node_ids) > 0).all():  # files are sorted by id as a rule
        order = np.argsort(node_ids, kind="stable")
        return node_ids[order], xy[order]
    return node_ids, xy


def _members(areas: list, ids: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Bit ``k`` of a node's mask: it lies inside ``areas[k]`` (vectorised point-in-polygon, in batches)."""
    mask = np.zeros(len(ids), dtype=np.uint64)
    for k, area in enumerate(areas):
        xmin, ymin, xmax, ymax = area.bounds
        box = np.flatnonzero((xy[:, 0] >= xmin) & (xy[:, 0] <= xmax) & (xy[:, 1] >= ymin) & (xy[:, 1] <= ymax))
        shapely.prepare(area)
        for start in range(0, len(box), _BATCH):
            part = box[start:start + _BATCH]
            inside = shapely.contains_xy(area, xy[part, 0], xy[part, 1])
            mask[part[inside]] |= np.uint64(1 << k)
    return mask


def _lookup(ids: np.ndarray, refs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``refs`` in the sorted ``ids`` and whether each is there."""
    pos = np.minimum(np.searchsorted(ids, refs), max(len(ids) - 1, 0))
    found = ids[pos] == refs if len(ids) else np.zeros(len(refs), dtype=bool)
    return pos, found


def _inside_nodes(path: Path, area, progress: _Progress) -> tuple[dict[int, tuple[float, float]], set[int]]:
    """Pass 1: locations of the nodes in the area's box, and the ids of those inside the area."""
    ids, xy = _box_nodes(path, np.array([area.bounds]), progress)
    inside = _members([area], ids, xy) != 0
    node_ids = ids.tolist()
    located = dict(zip(node_ids, map(tuple, xy.tolist()), strict=True))
    return located, set(ids[inside].tolist())


def _kept_ways(path: Path, inside: set[int], progress: _Progress) -> tuple[list, list]:
    """Pass 2: walkable ways and basemap lines with at least one node inside the area."""
    import osmium

    walk, lines = [], []
    for count, way in enumerate(_processor(path, osmium.osm.WAY, "highway", "waterway", "railway"), 1):
        progress.tick(1, count)
        refs = [n.ref for n in way.nodes]
        if len(refs) < 2 or not any(r in inside for r in refs):
            continue
        tags = dict(way.tags)
        if is_walkable(tags):
            walk.append((tags.get("highway"), tags.get("name"), refs))
        elif tags.get("waterway") in _WATERWAYS or tags.get("railway") in _RAILWAYS:
            lines.append((f"w{way.id}", _WATERWAYS.get(tags.get("waterway", ""), "rail"), tags.get("name"), refs))
    progress.done(1)
    return walk, lines


def _outside_locations(path: Path, wanted: set[int], located: dict, progress: _Progress) -> None:
    """Pass 3: add the locations of ``wanted`` nodes (outside the box) to ``located``."""
    import osmium

    if not wanted:
        return
    for count, node in enumerate(_processor(path, osmium.osm.NODE), 1):
        progress.tick(2, count)
        if node.id in wanted and node.location.valid():
            located[node.id] = (node.location.lon, node.location.lat)
    progress.done(2)


def _crossing(a: tuple[float, float], b: tuple[float, float], boundary) -> tuple[float, float]:
    """Where the segment from inside point ``a`` to outside point ``b`` meets the boundary."""
    hit = shapely.intersection(shapely.LineString([a, b]), boundary)
    points = shapely.get_coordinates(hit)
    if not len(points):  # on the boundary within rounding: keep the inside end
        return a
    return tuple(points[np.argmin(np.hypot(points[:, 0] - a[0], points[:, 1] - a[1]))])


def _clip_way(refs, located, inside, boundary, new_id) -> list[tuple[list[int], list]]:
    """The parts of a way inside the area, each extended to its boundary crossings."""
    flags = [r in inside for r in refs]
    parts, i, n = [], 0, len(refs)
    while i < n:
        if not flags[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and flags[j + 1]:
            j += 1
        ids, coords = list(refs[i:j + 1]), [located[r] for r in refs[i:j + 1]]
        if i > 0 and refs[i - 1] in located:
            ids.insert(0, new_id())
            coords.insert(0, _crossing(coords[0], located[refs[i - 1]], boundary))
        if j < n - 1 and refs[j + 1] in located:
            ids.append(new_id())
            coords.append(_crossing(coords[-1], located[refs[j + 1]], boundary))
        if len(ids) >= 2:
            parts.append((ids, coords))
        i = j + 1
    return parts


def extract_osm(path: str | Path, area, *, progress: Callable[[str, float | None], None] | None = None
                ) -> OsmData:
    """The walking network and basemap lines of ``area`` from a regional ``.osm.pbf`` extract.

    Parameters
    ----------
    path
        An ``.osm.pbf`` (or ``.osm``) file, e.g. a Geofabrik region.
    area
        A shapely polygon in EPSG:4326 / 6668 (the municipality plus a buffer).
    progress
        ``progress(stage, share)`` is called while the file streams (``share`` 0–1, or ``None``
        when the read position is unknown).

    Returns
    -------
    OsmData
        As :func:`scgeo.io.osm.read_osm`, cut to ``area``: ways crossing its edge keep their
        inside part up to the crossing point.

    Raises
    ------
    InputError
        Missing or unreadable file, or no walkable way inside the area.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"OpenStreetMap ファイル {path} が見つかりません。")
    ticker = _Progress(path, progress)
    try:
        located, inside = _inside_nodes(path, area, ticker)
        walk, lines = _kept_ways(path, inside, ticker)
        wanted = {r for way in (*walk, *lines) for r in way[-1] if r not in located}
        _outside_locations(path, wanted, located, ticker)
    except RuntimeError as exc:
        raise InputError(f"OpenStreetMap ファイル {path} を読めません: {exc}") from exc
    boundary = area.boundary
    counter = iter(range(-1, -10**12, -1))

    def new_id() -> int:
        return next(counter)

    walk_ways = []
    for highway, name, refs in walk:
        for ids, coords in _clip_way(refs, located, inside, boundary, new_id):
            walk_ways.append((highway, name, ids, coords))
    if not walk_ways:
        raise InputError(f"{path.name} の市町村の範囲に歩行できる道(highway)がありません。"
                         "地域のファイル(都道府県・地方)が市町村を含んでいるか確かめてください。")
    nodes, edges = _split_at_junctions(walk_ways)
    rows = []
    for feature_id, kind, name, refs in lines:
        coords = [located[r] for r in refs if r in located]
        if len(coords) >= 2:
            clipped = shapely.intersection(shapely.LineString(coords), area)
            merged = shapely.line_merge(clipped) if clipped.geom_type == "MultiLineString" else clipped
            parts = [p for p in shapely.get_parts(merged) if p.geom_type == "LineString" and not p.is_empty]
            rows += [(feature_id if k == 0 else f"{feature_id}-{k}", kind, name, part)
                     for k, part in enumerate(parts)]
    frame = pd.DataFrame(rows, columns=["feature_id", "kind", "name", "geometry"])
    line_frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=WORKSPACE_CRS)
    return OsmData(nodes, edges, line_frame)


# ------------------------------------------------------------------ many areas at once

_GROUP = 64  # areas per group: one bit of a uint64 each
_WRITE_BATCH = 20_000  # nodes turned into Python objects at a time while an extract is written


def _candidate_ways(path: Path, progress: _Progress):
    """Pass 2: the ways :func:`_kept_ways` would keep for some area, before the area test."""
    import osmium

    way_ids, starts, refs, tags = array("q"), array("q"), array("q"), []
    for count, way in enumerate(_processor(path, osmium.osm.WAY, "highway", "waterway", "railway"), 1):
        progress.tick(1, count)
        nodes = way.nodes
        if len(nodes) < 2:
            continue
        kept = {k: v for k, v in way.tags if k in _KEYS}
        if not (is_walkable(kept) or kept.get("waterway") in _WATERWAYS or kept.get("railway") in _RAILWAYS):
            continue
        way_ids.append(way.id)
        starts.append(len(refs))
        refs.extend(n.ref for n in nodes)
        tags.append(kept)
    progress.done(1)
    return (np.frombuffer(way_ids, dtype=np.int64), np.frombuffer(starts, dtype=np.int64),
            np.frombuffer(refs, dtype=np.int64), tags)


def _of_ways(ways: np.ndarray, starts: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """Which of the flat ``refs`` belong to the ways marked in ``ways`` (booleans over ways)."""
    return np.repeat(ways, np.diff(np.append(starts, len(refs))))


def _write_extract(target: Path, ids, xy, way_ids, starts, refs, tags, keep: np.ndarray) -> None:
    """The ways ``keep`` (indices, ascending ids) and every node they use, as one ``.osm.pbf``."""
    import osmium

    ends = np.append(starts[1:], len(refs))
    marked = np.zeros(len(starts), dtype=bool)
    marked[keep] = True
    used = np.unique(refs[_of_ways(marked, starts, refs)])
    pos, found = _lookup(ids, used)
    used, pos = used[found], pos[found]
    scratch = target.with_name(f".{target.name}")  # the suffix tells pyosmium the format
    scratch.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(scratch))
    try:
        for start in range(0, len(used), _WRITE_BATCH):
            part = slice(start, start + _WRITE_BATCH)
            for node_id, (lon, lat) in zip(used[part].tolist(), xy[pos[part]].tolist(), strict=True):
                writer.add_node(osmium.osm.mutable.Node(id=node_id, version=1, location=(lon, lat)))
        for w in keep.tolist():
            writer.add_way(osmium.osm.mutable.Way(id=int(way_ids[w]), version=1,
                                                  nodes=refs[starts[w]:ends[w]].tolist(), tags=tags[w]))
    finally:
        writer.close()
    os.replace(scratch, target)


def split_osm(path: str | Path, areas: Mapping[str, object], out_dir: str | Path, *,
              progress: Callable[[str, float | None], None] | None = None) -> dict[str, Path]:
    """Cut a regional ``.osm.pbf`` for many areas in one go: ``OUT_DIR/<key>.osm.pbf`` each.

    Parameters
    ----------
    path
        The regional ``.osm.pbf`` (or ``.osm``).
    areas
        key (e.g. a municipality code) → a shapely polygon in EPSG:4326 / 6668, as for
        :func:`extract_osm`.
    out_dir
        Where the extracts go (each written to a hidden file first, then renamed).
    progress
        As for :func:`extract_osm`, per group of up to 64 areas.

    Returns
    -------
    dict
        key → the extract. ``extract_osm(extract, area)`` equals ``extract_osm(path, area)``.
    """
    path, out = Path(path), Path(out_dir)
    if not path.is_file():
        raise InputError(f"OpenStreetMap ファイル {path} が見つかりません。")
    out.mkdir(parents=True, exist_ok=True)
    keys = list(areas)
    written: dict[str, Path] = {}
    for first in range(0, len(keys), _GROUP):
        group = keys[first:first + _GROUP]
        shapes = [areas[k] for k in group]
        ticker = _Progress(path, progress)
        try:
            ids, xy = _box_nodes(path, np.array([s.bounds for s in shapes]), ticker)
            member = _members(shapes, ids, xy)
            way_ids, starts, refs, tags = _candidate_ways(path, ticker)
            pos, found = _lookup(ids, refs)
            ref_member = np.where(found, member[pos], np.uint64(0))
            del member, pos
            way_member = np.bitwise_or.reduceat(ref_member, starts) if len(starts) else ref_member[:0]
            kept = np.flatnonzero(way_member)
            # the nodes of kept ways outside every box: their locations come from pass 3
            in_kept = _of_ways(way_member != 0, starts, refs)
            wanted = set(np.unique(refs[in_kept & ~found]).tolist())
            del ref_member, found, in_kept
            located: dict[int, tuple[float, float]] = {}
            _outside_locations(path, wanted, located, ticker)
        except RuntimeError as exc:
            raise InputError(f"OpenStreetMap ファイル {path} を読めません: {exc}") from exc
        if located:  # the outside nodes join the box nodes
            extra = np.fromiter(located, dtype=np.int64, count=len(located))
            ids = np.concatenate([ids, extra])
            xy = np.concatenate([xy, np.array(list(located.values()), dtype=float).reshape(-1, 2)])
            order = np.argsort(ids, kind="stable")
            ids, xy = ids[order], xy[order]
        for k, key in enumerate(group):
            keep = kept[(way_member[kept] & np.uint64(1 << k)) != 0]
            written[key] = out / f"{key}.osm.pbf"
            _write_extract(written[key], ids, xy, way_ids, starts, refs, tags, keep)
    return written
