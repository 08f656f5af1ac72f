"""The outline of a set of raster cells as polygons: marching squares in numpy, boundary cells only.

The boundary runs half-way between cells in and cells out (the midpoints of the edges between
their centres), as a contour at level ½ of the 0/1 field would. A general contouring library
(contourpy) builds per-cell caches and float coordinate grids over the whole raster for every
call; here the whole raster costs a few byte operations per cell, and everything else is
proportional to the boundary:

1. each quad of four neighbouring cell centres gets its case (4 bits); only the mixed quads
   give segments, oriented with the inside on the left (a saddle keeps its inside cells apart);
2. every crossed edge midpoint starts one segment and ends one, so "the segment that starts
   where this one ends" is a permutation; one depth-first walk (``scipy.sparse.csgraph``)
   lists every cycle of it in order: the rings;
3. counter-clockwise rings are shells, clockwise ones holes; a hole belongs to the smallest
   shell around it (an STR-tree query); vertices in the middle of a straight run are dropped.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import depth_first_order

__all__ = ["nested_outlines"]

# per quad case (bits: 1 lower-left, 2 lower-right, 4 upper-right, 8 upper-left cell inside),
# its segments as (from edge, to edge) with the inside on the left; edges 0 bottom, 1 right,
# 2 top, 3 left; the saddles 5 and 10 keep their inside cells apart (as contourpy does)
_SEGMENTS = {1: [(0, 3)], 2: [(1, 0)], 3: [(1, 3)], 4: [(2, 1)], 5: [(0, 3), (2, 1)], 6: [(2, 0)],
             7: [(2, 3)], 8: [(3, 2)], 9: [(0, 2)], 10: [(1, 0), (3, 2)], 11: [(1, 2)], 12: [(3, 1)],
             13: [(0, 1)], 14: [(3, 0)]}
# per case, up to two segments: from-edge and to-edge codes (-1: no second segment)
_FROM = np.full((16, 2), -1, np.int8)
_TO = np.full((16, 2), -1, np.int8)
for _case, _segs in _SEGMENTS.items():
    for _k, (_a, _b) in enumerate(_segs):
        _FROM[_case, _k], _TO[_case, _k] = _a, _b


def nested_outlines(field: np.ndarray, n_levels: int) -> list:
    """Per level ``k < n_levels``, the polygons covering the cells whose ``field`` is at most ``k``.

    Parameters
    ----------
    field
        Integer raster (rows along y, columns along x; cell ``[i, j]`` has its centre at
        ``(j, i)``), e.g. the first threshold reaching each cell.
    n_levels
        How many levels to outline.

    Returns
    -------
    list of shapely.MultiPolygon
        One per level, in cell units; empty where no cell is in. The raster is taken as
        surrounded by cells out. The quads on any level's boundary are found in one pass over
        the raster (the smallest and largest of their four cells differ), each level then works
        on those alone.
    """
    f = np.pad(np.asarray(field, dtype=np.uint8), 1, constant_values=255)  # centres now at (j - 1, i - 1)
    rows, cols = f.shape
    a, b, c, d = f[:-1, :-1], f[:-1, 1:], f[1:, 1:], f[1:, :-1]  # lower left, lower right, upper right, upper left
    lo = np.minimum(np.minimum(a, b), np.minimum(c, d))
    hi = np.maximum(np.maximum(a, b), np.maximum(c, d))
    quad = np.flatnonzero((lo != hi) & (lo < n_levels))
    del lo, hi
    qi, qj = np.divmod(quad, cols - 1)
    base = quad + qi  # the lower left cell, in the padded raster
    flat = f.ravel()
    corners = [flat[base], flat[base + 1], flat[base + cols + 1], flat[base + cols]]
    out = []
    for k in range(n_levels):
        code = sum(((corner <= k).astype(np.uint8) << bit) for bit, corner in enumerate(corners))
        mixed = (code != 0) & (code != 15)
        out.append(_outline(qi[mixed], qj[mixed], code[mixed], rows, cols))
    return out


def _outline(qi: np.ndarray, qj: np.ndarray, code: np.ndarray, rows: int, cols: int):
    """The MultiPolygon whose boundary crosses the mixed quads ``(qi, qj)`` of cases ``code``."""
    if len(code) == 0:
        return shapely.MultiPolygon()
    two = _FROM[code, 1] >= 0
    seg_quad = np.concatenate([np.arange(len(code)), np.flatnonzero(two)])
    slot = np.concatenate([np.zeros(len(code), np.int64), np.ones(int(two.sum()), np.int64)])
    i, j, c = qi[seg_quad], qj[seg_quad], code[seg_quad]
    start = _edge_id(i, j, _FROM[c, slot], rows, cols)
    end = _edge_id(i, j, _TO[c, slot], rows, cols)
    # the next segment of each: the one starting where it ends (each crossed edge starts exactly one)
    order = np.argsort(start, kind="stable")
    nxt = order[np.searchsorted(start[order], end)]
    ring_order, first = _cycles(nxt)
    x, y = _edge_xy(start[ring_order], rows, cols)
    ring = np.repeat(np.arange(len(first)), np.diff(np.append(first, len(ring_order))))
    xy = np.column_stack([x - 1.0, y - 1.0])
    xy, ring = _drop_straight(xy, ring)
    return _polygons(xy, ring)


def _edge_id(i: np.ndarray, j: np.ndarray, edge: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """A crossed edge's id: horizontal edges (cell to the right) first, then vertical ones (cell up)."""
    horizontal = (edge == 0) | (edge == 2)
    ei = i + (edge == 2)
    ej = j + (edge == 1)
    return np.where(horizontal, ei * cols + ej, rows * cols + ei * cols + ej)


def _edge_xy(edge: np.ndarray, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    vertical = edge >= rows * cols
    ei, ej = np.divmod(np.where(vertical, edge - rows * cols, edge), cols)
    return ej + np.where(vertical, 0.0, 0.5), ei + np.where(vertical, 0.5, 0.0)


def _cycles(nxt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every cycle of the permutation ``nxt``, each in order: (all elements, where each starts).

    One depth-first walk from an extra root linked to every element: it enters a cycle at its
    smallest element, follows it round, comes back to the root and enters the next.
    """
    n = len(nxt)
    heads = np.arange(n)
    src = np.concatenate([np.full(n, n), heads])
    dst = np.concatenate([heads, nxt])
    graph = sp.csr_matrix((np.ones(2 * n, np.int8), (src, dst)), shape=(n + 1, n + 1))
    walk, pred = depth_first_order(graph, n, directed=True, return_predecessors=True)
    walk = walk[1:]
    return walk, np.flatnonzero(pred[walk] == n)


def _drop_straight(xy: np.ndarray, ring: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop the vertices in the middle of a straight run (same shape, about a third of the vertices)."""
    first = np.flatnonzero(np.r_[True, ring[1:] != ring[:-1]])
    last = np.r_[first[1:], len(ring)] - 1
    pos = np.arange(len(ring))
    prev, after = pos - 1, pos + 1
    prev[first] = last
    after[last] = first
    d1, d2 = xy - xy[prev], xy[after] - xy
    straight = np.abs(d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]) < 1e-9
    return xy[~straight], ring[~straight]


def _polygons(xy: np.ndarray, ring: np.ndarray):
    """Shells (counter-clockwise rings) with their holes (clockwise), as one MultiPolygon."""
    first = np.flatnonzero(np.r_[True, ring[1:] != ring[:-1]])
    x, y = xy[:, 0], xy[:, 1]
    nx_, ny_ = np.empty_like(x), np.empty_like(y)
    nx_[:-1], ny_[:-1] = x[1:], y[1:]
    last = np.r_[first[1:], len(ring)] - 1
    nx_[last], ny_[last] = x[first], y[first]
    area = np.add.reduceat(x * ny_ - nx_ * y, first) / 2
    rings = shapely.linearrings(xy, indices=ring)
    shell = np.flatnonzero(area > 0)
    hole = np.flatnonzero(area < 0)
    owner = np.empty(len(area), np.int64)
    owner[shell] = np.arange(len(shell))
    if len(hole):
        filled = shapely.polygons(rings[shell])
        tree = shapely.STRtree(filled)
        h, s = tree.query(shapely.points(xy[first[hole]]), predicate="within")
        # the smallest shell around each hole (a shell in a hole lies in the outer shell too)
        pick = np.lexsort((area[shell][s], h))
        h, s = h[pick], s[pick]
        take = np.r_[True, h[1:] != h[:-1]]
        owner[hole[h[take]]] = s[take]
    keep = np.lexsort((area < 0, owner))  # per shell: the shell first, then its holes
    polygons = shapely.polygons(rings[keep], indices=owner[keep])
    return shapely.multipolygons(polygons)
