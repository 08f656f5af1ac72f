"""Nearest street segment of many points at once, in numpy.

The streets are cut into short pieces (at most :data:`PIECE_M` long) whose midpoints go into a
KD-tree. For each point the :data:`CANDIDATES` nearest midpoints are the candidates; the exact
distance to each piece is a projection in numpy. The answer is exact whenever the farthest
candidate's midpoint lies beyond the best distance + half a piece (then no other piece can be
closer); the few points where that does not hold try 64 candidates, and those still unsure are
answered by shapely's ``STRtree``.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import cKDTree

__all__ = ["CANDIDATES", "PIECE_M", "SegmentIndex"]

PIECE_M = 50.0
CANDIDATES = 8
_CHUNK = 65_536  # points per numpy pass (bounds the candidates' memory)
_RETRY = 64  # candidates for the points that 8 do not settle, before shapely's R-tree


class SegmentIndex:
    """The pieces of a set of lines, for :meth:`nearest`."""

    def __init__(self, lines: np.ndarray) -> None:
        self.lines = lines
        xy, owner = shapely.get_coordinates(lines, return_index=True)
        same = owner[1:] == owner[:-1]
        a, b, line = xy[:-1][same], xy[1:][same], owner[:-1][same]
        seg_len = np.hypot(*(b - a).T)
        # along the line at the start of each segment
        cum = np.cumsum(seg_len)
        first = np.searchsorted(line, line, side="left")
        start = cum - seg_len - (cum[first] - seg_len[first])
        k = np.maximum(np.ceil(seg_len / PIECE_M).astype(np.int64), 1)
        seg = np.repeat(np.arange(len(a)), k)
        j = np.arange(len(seg)) - np.repeat(np.cumsum(k) - k, k)
        f0, f1 = j / k[seg], (j + 1) / k[seg]
        d = b[seg] - a[seg]
        self.a = a[seg] + d * f0[:, None]
        self.b = a[seg] + d * f1[:, None]
        self.line = line[seg]
        self.start = start[seg] + seg_len[seg] * f0
        self.half = float((seg_len / k).max() / 2) if len(seg_len) else 0.0
        self.tree = cKDTree((self.a + self.b) / 2)
        self._strtree: shapely.STRtree | None = None

    def nearest(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For points ``xy`` (n × 2, finite): the nearest line, the position along it, the distance."""
        if not len(xy):
            return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
        parts = [self._nearest(xy[i:i + _CHUNK]) for i in range(0, len(xy), _CHUNK)]
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))

    def _nearest(self, xy: np.ndarray, candidates: int = CANDIDATES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(xy)
        k = min(candidates, len(self.a))
        mid_d, cand = self.tree.query(xy, k=k, workers=-1)  # the KD-tree query on every core
        mid_d, cand = mid_d.reshape(n, k), cand.reshape(n, k)
        a, b = self.a[cand], self.b[cand]                        # n × k × 2
        ab = b - a
        ab2 = np.einsum("nkc,nkc->nk", ab, ab)
        t = np.einsum("nkc,nkc->nk", xy[:, None, :] - a, ab) / np.where(ab2 > 0, ab2, 1.0)
        t = np.clip(t, 0.0, 1.0)
        proj = a + ab * t[..., None]
        dist = np.hypot(*(xy[:, None, :] - proj).transpose(2, 0, 1))
        best = np.argmin(dist, axis=1)
        rows = np.arange(n)
        piece = cand[rows, best]
        out_d = dist[rows, best]
        along = self.start[piece] + t[rows, best] * np.sqrt(ab2[rows, best])
        line = self.line[piece]
        unsure = np.flatnonzero((mid_d[:, -1] <= out_d + self.half) & (k < len(self.a)))
        if len(unsure) and candidates < _RETRY:  # more candidates first: the R-tree costs seconds to build
            line[unsure], along[unsure], out_d[unsure] = self._nearest(xy[unsure], _RETRY)
        elif len(unsure):
            line[unsure], along[unsure], out_d[unsure] = self.nearest_geoms(shapely.points(xy[unsure]))
        return line, along, out_d

    def nearest_geoms(self, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As :meth:`nearest`, for any (non-empty) geometries, with shapely's ``STRtree``."""
        if self._strtree is None:
            self._strtree = shapely.STRtree(self.lines)
        (i_geom, i_line), d = self._strtree.query_nearest(geoms, return_distance=True, all_matches=False)
        line, along, dist = np.zeros(len(geoms), dtype=np.int64), np.zeros(len(geoms)), np.full(len(geoms), np.inf)
        line[i_geom], dist[i_geom] = i_line, d
        on_line = shapely.get_point(shapely.shortest_line(self.lines[i_line], geoms[i_geom]), 0)
        along[i_geom] = shapely.line_locate_point(self.lines[i_line], on_line)
        return line, along, dist
