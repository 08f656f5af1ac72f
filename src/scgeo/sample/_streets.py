"""The sample town's walking network, as OpenStreetMap-like nodes and ways.

Streets are drawn as lines (arterials, a street grid per built-up block, roads along block
edges, sparse winding roads and hamlets in the rural fringe, cul-de-sacs, footpaths), cut back
from the river and the railway except where a bridge or a level crossing is planned, noded at
every crossing, trimmed of stubs and reduced to one connected network.

The river and the railway share no node with any street: loaders that keep every way of an
.osm file (``osmnx.graph_from_xml``) then find them as separate pieces and drop them, instead
of walking along the tracks. Level crossings are street nodes tagged
``railway=level_crossing`` that lie on the railway line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely import LineString, Polygon

from scgeo.sample._areas import URBAN_REMOTENESS, Town
from scgeo.sample._geom import at, chaikin

__all__ = ["Network", "make_network"]

RIVER_GAP_M = 14.0  # streets stop this far from the river centre line
RAIL_GAP_M = 10.0  # and from the railway
BRIDGE_HALF_M = 25.0  # a bridge spans this far either side of the river centre line
RIVERSIDE_OFFSET_M = 30.0  # the riverside footpaths
TRIM_M = 20.0  # dangling stubs shorter than this are removed
NODE_SNAP_M = 0.5  # vertices closer than this become one node
INSIDE_M = 5.0  # a block "has a street" when one passes this far inside it
URBAN_SPACING_M = (75.0, 165.0)  # street grid spacing at the centre and at the town's edge
RURAL_SPACING_M = 430.0

Tags = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Piece:
    geom: LineString
    tags: Tags
    key: str
    crossing: bool = False  # planned to cross the river or the railway


@dataclass
class Network:
    """Nodes and ways in metres (EPSG:6691), ready to be written as OSM XML.

    Attributes
    ----------
    node_xy
        (n, 2) coordinates of every node.
    node_tags
        Tags of the nodes that have some, by node index.
    ways
        (node indices, tags) of every way: walkable streets first, then river and railway.
    walk_lines
        Every walkable street segment between two nodes (for placing points beside streets).
    """

    node_xy: np.ndarray
    node_tags: dict[int, Tags] = field(default_factory=dict)
    ways: list[tuple[list[int], Tags]] = field(default_factory=list)
    walk_lines: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))


# ---------------------------------------------------------------- designed roads

# (highway, name, control points in km from the centre, planned crossings)
_ARTERIALS = (
    ("primary", "県道さくら港線",
     ((-6.5, 0.55), (-4.0, 0.45), (-2.2, 0.35), (-1.0, 0.3), (0.0, 0.25), (1.0, 0.28), (1.8, 0.4),
      (2.8, 0.6), (4.0, 0.85), (6.5, 1.3)), True),
    ("secondary", "県道さくら停車場線", ((0.0, 0.25), (0.02, -0.1), (0.05, -0.33)), False),
    ("secondary", "県道南台線",
     ((0.35, 0.25), (0.4, -0.4), (0.25, -1.2), (0.0, -2.2), (-0.5, -3.3), (-0.9, -6.0)), True),
    ("tertiary", "県道北山線", ((-0.1, 0.25), (-0.25, 1.2), (-0.1, 2.4), (0.2, 3.5), (0.5, 6.0)), False),
    ("tertiary", "県道西浦線", ((-1.0, 0.3), (-2.3, -0.05), (-3.6, -0.2), (-6.0, -0.25)), False),
    ("tertiary", "県道東原線", ((1.9, 0.42), (2.6, 1.4), (3.4, 2.4), (4.6, 4.5)), False),
    ("tertiary", "市道大原線", ((2.06, -1.19), (3.3, -2.0), (5.5, -3.3)), False),
    ("tertiary", "市道入野線", ((-1.46, -1.19), (-2.8, -2.0), (-5.0, -3.3)), False),
    ("tertiary", "市道高根線", ((-0.25, 1.2), (-1.8, 1.9), (-3.3, 2.6), (-5.0, 3.5)), False),
)
_RING = ("tertiary", "市道環状線", (0.3, -0.1), (2.3, 1.7))  # centre and semi-axes, km
_BRIDGE_NAMES = {"県道さくら港線": "さくら大橋", "市道環状線": ("北さくら橋", "南さくら橋")}
_FOOTBRIDGE = ("ふれあい橋", -1.0, 0.12)  # name, y (km) where it crosses, half length (km)


def _tags(**values: str) -> Tags:
    return tuple(sorted(values.items()))


def _designed(town: Town, rng: np.random.Generator) -> list[_Piece]:
    pieces = []
    for highway, name, points, crossing in _ARTERIALS:
        geom = LineString(at(*chaikin(np.array(points), 3).T))
        pieces.append(_Piece(geom, _tags(highway=highway, name=name), name, crossing))
    highway, name, (cx, cy), (a, b) = _RING
    theta = np.linspace(0.0, 2 * np.pi, 241)
    phase = rng.uniform(0.0, 2 * np.pi, 2)
    wobble = 1.0 + 0.04 * np.sin(3 * theta + phase[0]) + 0.025 * np.sin(5 * theta + phase[1])
    ring = at(cx + a * wobble * np.cos(theta), cy + b * wobble * np.sin(theta))
    pieces.append(_Piece(LineString(ring), _tags(highway=highway, name=name), name, True))
    name, y_km, half_km = _FOOTBRIDGE
    river_x = _river_x_at(town, y_km)
    foot = LineString(at([river_x - half_km, river_x + half_km], [y_km, y_km + 0.01]))
    pieces.append(_Piece(foot, _tags(highway="footway", name=name), name, True))
    return pieces


def _river_x_at(town: Town, y_km: float) -> float:
    probe = LineString(at([-10.0, 10.0], [y_km, y_km]))
    hit = shapely.intersection(town.river, probe)
    return float((shapely.get_coordinates(hit)[0, 0] - at(0.0, 0.0)[0, 0]) / 1000.0)


def _with_vertex(line: LineString, point: np.ndarray) -> LineString:
    coords = shapely.get_coordinates(line)
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])
    position = np.searchsorted(along, line.project(shapely.points(point)))
    return LineString(np.vstack([coords[:position], point, coords[position:]]))


def _bridge_name(name: str, index: int) -> str:
    names = _BRIDGE_NAMES.get(name, name)
    return names[index % len(names)] if isinstance(names, tuple) else names


def _crossings(pieces: list[_Piece], town: Town) -> tuple[list[_Piece], np.ndarray]:
    """Cut planned crossings into bridge and street parts; put a node on each level crossing."""
    bridge_zone = town.river.buffer(BRIDGE_HALF_M)
    out, level_crossings = [], []
    for piece in pieces:
        if not piece.crossing:
            out.append(piece)
            continue
        geom = piece.geom
        hits = shapely.get_coordinates(shapely.intersection(geom, town.rail))
        for point in hits:
            geom = _with_vertex(geom, point)
        level_crossings.extend(hits)
        spans = shapely.get_parts(shapely.line_merge(shapely.intersection(geom, bridge_zone)))
        spans = sorted(spans, key=lambda g: -g.centroid.y)  # north first: 北 before 南
        for k, span in enumerate(spans):
            tags = dict(piece.tags) | {"bridge": "yes", "layer": "1"}
            if tags["highway"] != "footway":
                tags["bridge:name"] = _bridge_name(piece.key, k)
            out.append(_Piece(span, _tags(**tags), f"{piece.key}/bridge{k}", True))
        rest = shapely.get_parts(shapely.line_merge(shapely.difference(geom, bridge_zone)))
        out.extend(_Piece(g, piece.tags, f"{piece.key}/{k}", True) for k, g in enumerate(rest))
    return out, np.array(level_crossings).reshape(-1, 2)


# ---------------------------------------------------------------- generated streets


def _polyline_runs(points: np.ndarray, keep: np.ndarray) -> list[np.ndarray]:
    """Runs of consecutive points joined by kept segments (``keep[k]``: segment k to k+1)."""
    runs, start = [], 0
    for k, kept in enumerate([*keep, False]):
        if not kept:
            if k > start:
                runs.append(points[start:k + 1])
            start = k + 1
    return runs


def _lattice(centre: np.ndarray, spacing_m: float, angle: float, half_count: int,
             jitter: float, rng: np.random.Generator) -> np.ndarray:
    """(2n+1, 2n+1, 2) jittered grid points around ``centre``, rotated by ``angle``."""
    steps = np.arange(-half_count, half_count + 1) * spacing_m
    u, v = np.meshgrid(steps, steps, indexing="ij")
    u = u + rng.normal(0.0, jitter * spacing_m, u.shape)
    v = v + rng.normal(0.0, jitter * spacing_m, v.shape)
    cos, sin = np.cos(angle), np.sin(angle)
    return np.stack([centre[0] + cos * u - sin * v, centre[1] + sin * u + cos * v], axis=-1)


def _grid_pieces(grid: np.ndarray, drop: float, tags: Tags, key: str,
                 rng: np.random.Generator) -> list[_Piece]:
    pieces = []
    for axis, label in ((0, "x"), (1, "y")):
        lines = grid if axis == 0 else grid.transpose(1, 0, 2)
        for j, points in enumerate(lines):
            keep = rng.random(len(points) - 1) >= drop
            for k, run in enumerate(_polyline_runs(points, keep)):
                pieces.append(_Piece(LineString(run), tags, f"{key}/{label}{j}.{k}"))
    return pieces


def _spurs(grid: np.ndarray, spacing_m: float, count: int, key: str,
           rng: np.random.Generator) -> list[_Piece]:
    """Cul-de-sacs: dead ends leaving a grid street half-way between two cross streets."""
    n = grid.shape[0]
    pieces = []
    for k in range(count):
        i, j = rng.integers(0, n - 1, 2)
        a, b = grid[i, j], grid[i + 1, j]
        start = a + (b - a) * rng.uniform(0.35, 0.65)
        direction = (b - a) / np.hypot(*(b - a))
        normal = np.array([-direction[1], direction[0]]) * rng.choice([-1.0, 1.0])
        length = spacing_m * rng.uniform(0.3, 0.45)
        geom = LineString([start - 2.0 * normal, start + length * normal])
        pieces.append(_Piece(geom, _tags(highway="residential", noexit="yes"), f"{key}/s{k}"))
    return pieces


def _footpaths(grid: np.ndarray, count: int, key: str, rng: np.random.Generator) -> list[_Piece]:
    """Paths through parks: diagonals from one grid corner to the opposite one."""
    n = grid.shape[0]
    pieces = []
    for k in range(count):
        i, j = rng.integers(0, n - 1, 2)
        geom = LineString([grid[i, j], grid[i + 1, j + 1]])
        pieces.append(_Piece(geom, _tags(highway="footway"), f"{key}/f{k}"))
    return pieces


def _block_streets(town: Town, rng: np.random.Generator, density: float) -> list[_Piece]:
    """A street grid in every built-up block, with cul-de-sacs and park paths (spacing / ``density``)."""
    pieces = []
    rail_angle = np.arctan2(*np.diff(shapely.get_coordinates(town.rail)[[0, -1]], axis=0)[0][::-1])
    for _, block in town.blocks[town.blocks["urban"]].iterrows():
        geom = block.geometry
        rho = block["remoteness"]
        spacing = URBAN_SPACING_M[0] + (URBAN_SPACING_M[1] - URBAN_SPACING_M[0]) * rho / URBAN_REMOTENESS
        spacing = spacing / density
        angle = rail_angle if rho < 0.25 else rng.uniform(0.0, np.pi / 2)
        centre = shapely.get_coordinates(geom.centroid)[0]
        reach = np.hypot(*(shapely.get_coordinates(geom) - centre).T).max()
        grid = _lattice(centre, spacing, angle, int(np.ceil(reach / spacing)) + 1, 0.08, rng)
        key = f"b{block['area_id']}"
        local = [*_grid_pieces(grid, 0.1, _tags(highway="residential"), key, rng)]
        n_spurs = round(3 * geom.area / (5 * spacing**2))
        local += _spurs(grid, spacing, n_spurs, key, rng)
        local += _footpaths(grid, int(rng.integers(0, 3)) * 3, key, rng)
        pieces += _clip(local, geom.buffer(4.0), inside=geom)
    return pieces


def _clip(pieces: list[_Piece], zone: Polygon, *, inside: Polygon | None = None) -> list[_Piece]:
    """Pieces cut to ``zone``; with ``inside``, only parts that start or end inside it.

    Pieces lying wholly inside ``zone`` (most of them) are kept as they are; only the others are
    cut (the same parts as cutting every piece: GEOS returns a line inside a polygon unchanged).
    """
    if not pieces:
        return []
    geoms = np.array([p.geom for p in pieces], dtype=object)
    shapely.prepare(zone)
    whole = shapely.contains_properly(zone, geoms)
    clipped = geoms.copy()
    clipped[~whole] = shapely.intersection(geoms[~whole], zone)
    parts, owner = shapely.get_parts(clipped, return_index=True)
    first = np.searchsorted(owner, owner)  # index of each piece's first part
    ok = (shapely.get_type_id(parts) == shapely.GeometryType.LINESTRING) & (shapely.length(parts) >= 1.0)
    if inside is not None:
        shapely.prepare(inside)
        ok[ok] = shapely.intersects(inside, parts[ok])
    return [_Piece(parts[i], pieces[owner[i]].tags, f"{pieces[owner[i]].key}:{i - first[i]}",
                   pieces[owner[i]].crossing) for i in np.flatnonzero(ok)]


def _edge_roads(town: Town) -> list[_Piece]:
    """Roads along the edges between built-up blocks (and between town and country)."""
    blocks = town.blocks
    geoms = blocks.geometry.to_numpy()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = (left < right) & (blocks["urban"].to_numpy()[left] | blocks["urban"].to_numpy()[right])
    pieces = []
    for i, j in zip(left[keep], right[keep], strict=True):
        common = shapely.line_merge(shapely.intersection(geoms[i].boundary, geoms[j].boundary))
        for k, part in enumerate(shapely.get_parts(common)):
            if part.geom_type == "LineString" and part.length > 1.0:
                highway = "unclassified" if part.length > 600 else "residential"
                key = f"e{blocks['area_id'][i]}-{blocks['area_id'][j]}.{k}"
                pieces.append(_Piece(part, _tags(highway=highway), key))
    return pieces


def _wiggle(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, amplitude_m: float) -> np.ndarray:
    t = np.linspace(0.0, 1.0, 5)[:, None]
    points = a + (b - a) * t
    direction = (b - a) / max(np.hypot(*(b - a)), 1.0)
    normal = np.array([-direction[1], direction[0]])
    offset = np.concatenate([[0.0], rng.normal(0.0, amplitude_m, 3), [0.0]])
    return chaikin(points + offset[:, None] * normal, 2)


def _rural_roads(town: Town, rng: np.random.Generator, density: float) -> list[_Piece]:
    """Winding country roads on a loose grid (spacing / ``density``), hamlets on them, a few dead-end paths."""
    blocks = town.blocks
    countryside = shapely.union_all(blocks.geometry[~blocks["urban"]].to_numpy())
    centre = shapely.get_coordinates(town.outline.centroid)[0]
    spacing = RURAL_SPACING_M / density
    half = int(np.ceil(6000.0 / spacing))
    grid = _lattice(centre, spacing, np.deg2rad(17.0), half, 0.22, rng)
    pieces = []
    for axis, label in ((0, "x"), (1, "y")):
        lines = grid if axis == 0 else grid.transpose(1, 0, 2)
        for j, points in enumerate(lines):
            keep = rng.random(len(points) - 1) >= 0.3
            for k in np.flatnonzero(keep):
                geom = LineString(_wiggle(points[k], points[k + 1], rng, 25.0 / density))
                pieces.append(_Piece(geom, _tags(highway="unclassified"), f"r/{label}{j}.{k}"))
    pieces = _clip(pieces, countryside.buffer(4.0), inside=countryside)
    return pieces + _hamlets(town, pieces, rng)


def _hamlets(town: Town, roads: list[_Piece], rng: np.random.Generator) -> list[_Piece]:
    """集落: a few short lanes around a point of a country road, and a path into the hills."""
    pieces = []
    road_geoms = np.array([p.geom for p in roads], dtype=object)
    rural = town.blocks[~town.blocks["urban"]]
    for _, block in rural.iterrows():
        inner = block.geometry.buffer(-80.0)
        on_block = road_geoms[shapely.intersects(road_geoms, inner)]
        if not len(on_block):
            continue
        for h in range(int(rng.integers(1, 3))):
            road = on_block[rng.integers(len(on_block))]
            centre = shapely.get_coordinates(road.interpolate(rng.uniform(0.2, 0.8), normalized=True))[0]
            grid = _lattice(centre, 65.0, rng.uniform(0.0, np.pi / 2), 1, 0.15, rng)
            key = f"h{block['area_id']}.{h}"
            local = _grid_pieces(grid, 0.25, _tags(highway="residential"), key, rng)
            if rng.random() < 0.4:
                end = centre + rng.normal(0.0, 250.0, 2)
                local.append(_Piece(LineString(_wiggle(grid[1, 1], end, rng, 20.0)),
                                    _tags(highway="path"), f"{key}/p"))
            pieces += _clip(local, block.geometry)
    return pieces


def _riverside(town: Town) -> list[_Piece]:
    """Footpaths along both banks (さくら川緑道) through the built-up part of the town."""
    pieces = []
    built_up = shapely.union_all(town.blocks.geometry[town.blocks["remoteness"] < 0.75].to_numpy())
    for side, offset in (("w", RIVERSIDE_OFFSET_M), ("e", -RIVERSIDE_OFFSET_M)):
        bank = shapely.offset_curve(town.river, offset)
        for k, part in enumerate(shapely.get_parts(shapely.intersection(bank, built_up))):
            if part.geom_type == "LineString":
                pieces.append(_Piece(part, _tags(highway="footway", name="さくら川緑道"), f"g{side}{k}"))
    return pieces


def _cut_barriers(pieces: list[_Piece], town: Town) -> list[_Piece]:
    """Streets not planned to cross stop short of the river and the railway."""
    zone = shapely.union(town.river.buffer(RIVER_GAP_M), town.rail.buffer(RAIL_GAP_M))
    shapely.prepare(zone)
    geoms = np.array([p.geom for p in pieces], dtype=object)
    crossing = np.array([p.crossing for p in pieces], dtype=bool)
    touched = ~crossing & shapely.intersects(zone, geoms)
    cut = np.empty(len(pieces), dtype=object)
    cut[touched] = shapely.line_merge(shapely.difference(geoms[touched], zone))
    out = []
    for i, piece in enumerate(pieces):
        if crossing[i]:
            out.append(piece)
        elif not touched[i]:  # away from both: the piece as it is, as the cut would give it
            if piece.geom.length >= 1.0:
                out.append(_Piece(piece.geom, piece.tags, f"{piece.key}|0"))
        else:
            for k, part in enumerate(shapely.get_parts(cut[i])):
                if part.geom_type == "LineString" and part.length >= 1.0:
                    out.append(_Piece(part, piece.tags, f"{piece.key}|{k}"))
    return out


# ---------------------------------------------------------------- noding and ways


def _node(pieces: list[_Piece]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """Node the pieces at every crossing.

    Returns node coordinates, each segment's piece, each segment's length and each segment's
    node indices (vertices closer than NODE_SNAP_M are one node).
    """
    geoms = np.array([p.geom for p in pieces], dtype=object)
    segments = shapely.get_parts(shapely.node(shapely.multilinestrings(geoms)))
    middle = shapely.line_interpolate_point(segments, 0.5, normalized=True)
    seg_idx, piece_idx = shapely.STRtree(geoms).query(middle, predicate="dwithin", distance=1e-3)
    owner = np.full(len(segments), len(pieces))
    np.minimum.at(owner, seg_idx, piece_idx)
    coords, seg_of = shapely.get_coordinates(segments, return_index=True)
    pairs = cKDTree(coords).query_pairs(NODE_SNAP_M, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(coords),) * 2)
    _, label = connected_components(graph, directed=False)
    first = np.full(label.max() + 1, len(coords))
    np.minimum.at(first, label, np.arange(len(coords)))
    node_xy = coords[first]
    bounds = np.searchsorted(seg_of, np.arange(len(segments) + 1))
    chains = []
    for s in range(len(segments)):
        chain = label[bounds[s]:bounds[s + 1]]
        chains.append(chain[np.concatenate([[True], chain[1:] != chain[:-1]])])
    return node_xy, owner, shapely.length(segments), chains


def _prune(chains: list[np.ndarray], lengths: np.ndarray, n_nodes: int) -> np.ndarray:
    """Mask of the segments kept: short stubs trimmed, then the largest connected network."""
    ok = np.array([len(c) >= 2 for c in chains])
    ends = np.array([[c[0], c[-1]] if len(c) >= 2 else [0, 0] for c in chains])
    for _ in range(2):
        degree = np.bincount(ends[ok].ravel(), minlength=n_nodes)
        dangling = (degree[ends[:, 0]] == 1) | (degree[ends[:, 1]] == 1)
        ok &= ~(dangling & (lengths < TRIM_M))
    graph = coo_matrix((np.ones(ok.sum()), (ends[ok, 0], ends[ok, 1])), shape=(n_nodes, n_nodes))
    _, label = connected_components(graph, directed=False)
    used = np.bincount(label[ends[ok].ravel()], minlength=label.max() + 1)
    return ok & (label[ends[:, 0]] == np.argmax(used))


def _chain_ways(pieces: list[_Piece], owner: np.ndarray, chains: list[np.ndarray],
                keep: np.ndarray, node_xy: np.ndarray) -> list[tuple[list[int], Tags]]:
    ways = []
    for p in np.unique(owner[keep]):
        members = np.flatnonzero(keep & (owner == p))
        middles = shapely.points(np.array([node_xy[chains[s]].mean(0) for s in members]))
        members = members[np.argsort(shapely.line_locate_point(pieces[p].geom, middles), kind="stable")]
        current: list[int] = []
        for s in members:
            chain = [int(n) for n in chains[s]]
            if current and chain[-1] == current[-1]:
                chain = chain[::-1]
            if current and chain[0] == current[-1]:
                current += chain[1:]
                continue
            if current:
                ways.append((current, pieces[p].tags))
            current = chain
        ways.append((current, pieces[p].tags))
    return ways


def _access_lanes(town: Town, node_xy: np.ndarray, chains: list[np.ndarray],
                  keep: np.ndarray) -> list[_Piece]:
    """A lane into each block that has no street, from the nearest node not across a barrier."""
    kept = [LineString(node_xy[c]) for c, k in zip(chains, keep, strict=True) if k]
    nodes = np.unique(np.concatenate([c[[0, -1]] for c, k in zip(chains, keep, strict=True) if k]))
    interiors = town.blocks.geometry.buffer(-INSIDE_M).to_numpy()
    has_street = np.zeros(len(interiors), dtype=bool)
    has_street[shapely.STRtree(kept).query(interiors, predicate="intersects")[0]] = True
    barriers = shapely.union(town.river.buffer(RIVER_GAP_M), town.rail.buffer(RAIL_GAP_M))
    tree = cKDTree(node_xy[nodes])
    lanes = []
    for b in np.flatnonzero(~has_street):
        start = shapely.get_coordinates(shapely.point_on_surface(interiors[b]))[0]
        _, nearest = tree.query(start, k=min(30, len(nodes)))
        for n in nodes[np.atleast_1d(nearest)]:
            lane = LineString([start, node_xy[n]])
            if not lane.intersects(barriers):
                key = f"lane{town.blocks['area_id'][b]}"
                lanes.append(_Piece(lane, _tags(highway="unclassified"), key))
                break
    return lanes


def make_network(town: Town, rng: np.random.Generator, *, density: float = 1.0) -> Network:
    """Build the walking network and the river and railway ways of ``town``.

    ``density`` divides the spacing of the generated streets (the built-up blocks' grids and the
    country roads): about ``density²`` times the junctions on the same land. The designed roads,
    the roads along block edges, the hamlets and the riverside paths are the same at any density.
    """
    designed, level_xy = _crossings(_designed(town, rng), town)
    pieces = designed + _block_streets(town, rng, density) + _edge_roads(town) + _rural_roads(town, rng, density)
    pieces += _riverside(town)
    pieces = _clip(_cut_barriers(pieces, town), town.outline)
    node_xy, owner, lengths, chains = _node(pieces)
    keep = _prune(chains, lengths, len(node_xy))
    lanes = _access_lanes(town, node_xy, chains, keep)
    if lanes:  # some block was left without a street: give it a lane and node again
        pieces += lanes
        node_xy, owner, lengths, chains = _node(pieces)
        keep = _prune(chains, lengths, len(node_xy))
    ways = _chain_ways(pieces, owner, chains, keep, node_xy)
    used = np.unique(np.concatenate([np.asarray(w, dtype=int) for w, _ in ways]))
    remap = np.full(len(node_xy), -1)
    remap[used] = np.arange(len(used))
    ways = [([int(remap[n]) for n in nodes], tags) for nodes, tags in ways]
    node_xy = node_xy[used]
    walk_lines = np.array([LineString(node_xy[remap[c]]) for c, k in zip(chains, keep, strict=True) if k],
                          dtype=object)

    node_tags: dict[int, Tags] = {}
    distance, nearest = cKDTree(node_xy).query(level_xy)
    if len(level_xy) and distance.max() > NODE_SNAP_M:
        raise RuntimeError("a level crossing lost its node")
    for n in nearest:
        node_tags[int(n)] = _tags(railway="level_crossing")

    extra = [node_xy]
    for line, tags in ((town.river, _tags(waterway="river", name="さくら川")),
                       (town.rail, _tags(railway="rail", name="さくら線"))):
        inside = shapely.get_coordinates(shapely.intersection(line, town.outline))
        start = sum(len(e) for e in extra)
        extra.append(inside)
        ways.append((list(range(start, start + len(inside))), tags))
    station = sum(len(e) for e in extra)
    extra.append(shapely.get_coordinates(town.station))
    node_tags[station] = _tags(railway="station", public_transport="station", name="さくら駅")
    return Network(np.vstack(extra), node_tags, ways, walk_lines)
