"""Bounded searches from many sources, each on the small piece of network it can reach.

:func:`local_pairs` is the engine of :func:`scgeo.network.pairs_within`. Sources are grouped
by square cells of the plane (side ≥ the search radius); a path shorter than the radius never
leaves the box of the group's street ends grown by the radius (network distance ≥ straight-line
distance), so each group searches only the streets inside that box, found from a grid of
cells. The sources and targets become nodes of the local graph themselves (a source links to both ends of
its segment, a target is reached from both ends of its own, a source and a target on the same
segment are joined directly), so that one Dijkstra run per source gives its distance to every
target at once and the results come out sparse: one row per pair within the radius, nothing
padded. The work grows with the sources × the streets within reach, not with the network.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

__all__ = ["NodeGrid", "local_pairs"]

_EPS_M = 1e-6  # csgraph treats explicit zeros as missing edges
_SOURCES_PER_GROUP = 64  # grows a cell beyond the radius where sources are sparse
_MAX_CELL_RADII = 16.0   # ... but never beyond this many radii (the box's padding grows with it)


def _rows(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the entries of CSR ``rows`` and the row (0..len(rows)) of each."""
    starts = indptr[rows]
    counts = indptr[rows + 1] - starts
    total = int(counts.sum())
    first = np.cumsum(counts) - counts
    pos = np.arange(total) - np.repeat(first - starts, counts)
    return pos, np.repeat(np.arange(len(rows)), counts)


def _incidence(nodes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR row pointer over ``n`` nodes for entries sorted by node, and the sort order."""
    order = np.argsort(nodes, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(nodes, minlength=n))])
    return indptr, order


class NodeGrid:
    """The nodes sorted by square cells of the plane, to list those in a box without a scan.

    About four nodes per cell (and at least 50 m a side), so that a box takes its nodes from a
    few contiguous runs (one per row of cells) and brings in at most one cell of extra margin.
    """

    def __init__(self, node_xy: np.ndarray) -> None:
        self.lo = node_xy.min(axis=0)
        span = np.maximum(node_xy.max(axis=0) - self.lo, 1.0)
        self.side = max(50.0, float(np.sqrt(span[0] * span[1] * 4 / max(len(node_xy), 1))))
        cell = np.floor((node_xy - self.lo) / self.side).astype(np.int64)
        self.shape = (int(cell[:, 1].max()) + 1, int(cell[:, 0].max()) + 1)  # rows (y), columns (x)
        key = cell[:, 1] * self.shape[1] + cell[:, 0]
        self.order = np.argsort(key, kind="stable")
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(key, minlength=self.shape[0] * self.shape[1]))])

    def in_box(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """The nodes in the cells that meet the box ``lo``–``hi`` (all nodes inside it, and a margin)."""
        c0 = np.clip(np.floor((lo - self.lo) / self.side).astype(np.int64), 0, None)
        c1 = np.minimum(np.floor((hi - self.lo) / self.side).astype(np.int64), [self.shape[1] - 1, self.shape[0] - 1])
        if (c1 < c0).any():
            return np.zeros(0, dtype=np.int64)
        rows = np.arange(c0[1], c1[1] + 1) * self.shape[1]
        starts, stops = self.indptr[rows + c0[0]], self.indptr[rows + c1[0] + 1]
        counts = stops - starts
        pos = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts - starts, counts)
        return self.order[pos]


class _Targets:
    """The targets hung on the network: which node reaches which target, at what extra length."""

    def __init__(self, eu, ev, length, edge, along, snap, n_nodes):
        k = len(edge)
        loop = eu[edge] == ev[edge]  # a loop segment: one link from its node, the shorter way
        w_u = np.where(loop, np.minimum(along, length[edge] - along), along) + snap
        self.node = np.concatenate([eu[edge], ev[edge][~loop]])
        self.tid = np.concatenate([np.arange(k), np.flatnonzero(~loop)])
        self.w = np.concatenate([w_u, (length[edge] - along + snap)[~loop]])
        self.indptr, order = _incidence(self.node, n_nodes)
        self.node, self.tid, self.w = self.node[order], self.tid[order], self.w[order]
        self.edge_indptr, self.by_edge = _incidence(edge, len(length))
        self.edge, self.along, self.snap = edge, along, snap


def local_pairs(graph: sparse.csr_matrix, node_xy: np.ndarray, grid: NodeGrid, eu: np.ndarray, ev: np.ndarray,
                length: np.ndarray, src: tuple[np.ndarray, np.ndarray, np.ndarray],
                tgt: tuple[np.ndarray, np.ndarray, np.ndarray], *, limit_m: float,
                memory_mb: float) -> pd.DataFrame:
    """Every (target, source) pair within ``limit_m`` on the network.

    ``src`` and ``tgt`` are ``(edge, along_m, snap_m)`` arrays of usable snaps; ``grid`` is the
    :class:`NodeGrid` of ``node_xy``. Returns ``target``, ``source`` (positions in ``tgt`` /
    ``src``) and ``distance_m``; the Dijkstra rows of one run stay under ``memory_mb``.
    """
    s_edge, s_along, s_snap = src
    n = graph.shape[0]
    targets = _Targets(eu, ev, length, *tgt, n)
    # group the sources by cells of the plane, at least the radius wide
    xy = node_xy[eu[s_edge]]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    area = max(float(np.prod(np.maximum(hi - lo, limit_m))), 1.0)
    side = min(max(limit_m, np.sqrt(area * _SOURCES_PER_GROUP / len(s_edge))), _MAX_CELL_RADII * limit_m)
    cell = np.floor((xy - lo) / max(side, 1.0)).astype(np.int64)
    key = cell[:, 0] * (int(cell[:, 1].max()) + 1) + cell[:, 1]
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    local = np.full(n, -1, dtype=np.int64)
    found = [_group_pairs(graph, node_xy, grid, eu, ev, length, (s_edge, s_along, s_snap), group, targets, local,
                          limit_m, memory_mb)
             for group in np.split(order, bounds)]
    return pd.DataFrame({name: np.concatenate([f[i] for f in found]) for i, name in
                         enumerate(("target", "source", "distance_m"))})


def _group_pairs(graph, node_xy, grid, eu, ev, length, src, group, targets: _Targets, local, limit_m,
                 memory_mb) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of one group of nearby sources, on the streets of its box."""
    s_edge, s_along, s_snap = (a[group] for a in src)
    ends = np.concatenate([eu[s_edge], ev[s_edge]])
    lo = node_xy[ends].min(axis=0) - limit_m
    hi = node_xy[ends].max(axis=0) + limit_m
    inside = grid.in_box(lo, hi)
    local[inside] = np.arange(len(inside))
    try:
        graph_local, n_in, tids = _local_graph(graph, inside, local, eu, ev, length, s_edge, s_along, s_snap,
                                               targets)
    finally:
        local[inside] = -1
    n_src, base_t = len(group), n_in + len(group)
    per_run = max(1, int(memory_mb * 2**20 / (8 * graph_local.shape[0])))
    out = []
    for start in range(0, n_src, per_run):
        run = np.arange(start, min(start + per_run, n_src))
        dist = dijkstra(graph_local, directed=True, indices=n_in + run, limit=limit_m)[:, base_t:]
        s_idx, t_idx = np.nonzero(dist <= limit_m)
        out.append((tids[t_idx], group[run[s_idx]], dist[s_idx, t_idx]))
    return tuple(np.concatenate([o[i] for o in out]) for i in range(3))


def _local_graph(graph, inside, local, eu, ev, length, s_edge, s_along, s_snap, targets: _Targets):
    """The CSR graph of the box: its nodes, then the sources, then the targets reached.

    Rows of the box's nodes hold their streets inside the box, then their links to targets;
    a source's row holds its links to the ends of its segment and to the targets on it.
    Returns the graph, the number of box nodes and the targets' positions (in column order).
    """
    n_in, n_src = len(inside), len(s_edge)
    pos, row = _rows(graph.indptr, inside)
    col = local[graph.indices[pos]]
    keep = col >= 0
    pos, row, col = pos[keep], row[keep], col[keep]
    t_pos, t_row = _rows(targets.indptr, inside)
    tids, t_col = np.unique(targets.tid[t_pos], return_inverse=True)
    base_t = n_in + n_src
    # each source: both ends of its segment (one link for a loop) and the targets on its segment
    loop = eu[s_edge] == ev[s_edge]
    e_pos, e_row = _rows(targets.edge_indptr, s_edge)
    same = targets.by_edge[e_pos]
    s_rows = np.concatenate([np.arange(n_src), np.flatnonzero(~loop), e_row])
    s_cols = np.concatenate([local[eu[s_edge]], local[ev[s_edge]][~loop], base_t + np.searchsorted(tids, same)])
    far_v = length[s_edge] - s_along
    s_w = np.concatenate([s_snap + np.where(loop, np.minimum(s_along, far_v), s_along), (s_snap + far_v)[~loop],
                          np.abs(s_along[e_row] - targets.along[same]) + s_snap[e_row] + targets.snap[same]])
    s_order = np.argsort(s_rows, kind="stable")
    # box rows: streets first, then target links; both come grouped by row already
    n_base, n_t = np.bincount(row, minlength=n_in), np.bincount(t_row, minlength=n_in)
    counts = np.concatenate([n_base + n_t, np.bincount(s_rows, minlength=n_src), np.zeros(len(tids), np.int64)])
    indptr = np.concatenate([[0], np.cumsum(counts)])
    size = indptr[-1]
    indices, data = np.empty(size, dtype=np.int64), np.empty(size)
    b_slot = indptr[row] + np.arange(len(row)) - (np.cumsum(n_base) - n_base)[row]
    t_slot = indptr[t_row] + n_base[t_row] + np.arange(len(t_row)) - (np.cumsum(n_t) - n_t)[t_row]
    s_slot = indptr[n_in] + np.arange(len(s_rows))
    indices[b_slot], data[b_slot] = col, graph.data[pos]
    indices[t_slot], data[t_slot] = base_t + t_col, targets.w[t_pos]
    indices[s_slot], data[s_slot] = s_cols[s_order], s_w[s_order]
    n = base_t + len(tids)
    return sparse.csr_matrix((np.maximum(data, _EPS_M), indices, indptr), shape=(n, n)), n_in, tids
