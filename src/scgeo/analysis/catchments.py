"""Walk-time catchments: the streets reachable within a walking time, widened by a buffer.

A catchment is the set of places within ``buffer_m`` of a street point that a resource of the
category reaches within the threshold. It is computed on a raster of square cells, not as a
union of buffered street pieces (which costs about 100 µs a piece in GEOS: 2 minutes for
3 × 12 catchments at 100k nodes):

1. the streets are sampled every half cell, once per network, and a street's consecutive
   samples in one cell kept as one run; one multi-source Dijkstra per category gives each run
   its walking distance (through either end of its street, or along the street of a resource
   standing on it), hence the first threshold that reaches it;
2. each cell keeps the smallest threshold among its runs, and a minimum filter over the
   disc of radius ``buffer_m`` (cell centres, as a union of a few rectangles, each separable)
   gives every cell the first threshold whose reached streets lie within the buffer: the
   thresholds nest, so ONE field gives all of them (5 → 10 → 15 minutes, built incrementally);
3. each threshold's cells become polygons by marching squares over the quads on a boundary
   only (:func:`scgeo.analysis._outline.nested_outlines`), the boundary half-way between cells
   in and cells out.

With ``buffer_m`` = (k + ½) cells (``cell_m`` defaults to ``buffer_m / 3.5``) the discs' edges
fall half-way between cell centres on average, so areas match the exact union of buffered
streets to about 1 %; every boundary point lies within 1.5 cells of it (the tests compare
both). Categories run in parallel in a process pool when the rasters are large.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from scgeo.analysis._outline import nested_outlines
from scgeo.settings import get_settings

if TYPE_CHECKING:
    from scgeo.analysis.coverage import Coverage
    from scgeo.network import WalkNetwork

__all__ = ["catchments", "street_buffers"]

_CHUNK_EDGES = 200_000  # streets sampled at a time
_POOL_MIN_CELLS = 4_000_000  # below this many raster cells in all, one process is faster than a pool


def catchments(coverage: Coverage, *, thresholds_min: tuple[float, ...] | None = None,
               buffer_m: float = 50.0, categories: list[str] | None = None, cell_m: float | None = None,
               workers: int | None = None) -> gpd.GeoDataFrame:
    """Walk-time catchment polygons per category and threshold, from the reachable streets.

    Parameters
    ----------
    coverage
        The result of :func:`scgeo.analysis.coverage.analyse_coverage` (needs a network).
    thresholds_min
        Walking times in minutes (default ``settings.walk_thresholds_min``).
    buffer_m
        How far from a reachable street a place still belongs to the catchment.
    categories
        Category codes (default: those analysed). Area-served resources have no walking
        catchment; a category without walking resources has no rows.
    cell_m
        Raster cell size (default ``buffer_m / 3.5``); the boundary lies within 1.5 cells of
        the exact union of buffered streets.
    workers
        Processes for the categories (default: up to the CPU count when the rasters are
        large, else 1). Only a process without other threads forks workers; others run serially.

    Returns
    -------
    geopandas.GeoDataFrame
        ``category``, ``category_label``, ``minutes``, geometry (MultiPolygon) in the network's
        CRS; a longer walk's catchment contains the shorter one's.
    """
    if coverage.network is None:
        raise ValueError("catchments need a walking network")
    thresholds = sorted(thresholds_min or get_settings().walk_thresholds_min)
    reaches = np.asarray(thresholds, dtype=float) * coverage.speed_m_per_min
    net = coverage.network
    cell = float(cell_m or buffer_m / 3.5)
    samples = _StreetSamples(net, cell, pad_m=buffer_m + 2 * cell)
    walkers = coverage.resources[~_area_served(coverage)]
    codes, dists, snaps = [], [], []
    for code in categories or coverage.categories:
        src = walkers[walkers["category"] == code]
        if len(src):  # one Dijkstra per category, here; the rasters in the workers
            snap = net.snap(src)
            codes.append(code)
            snaps.append(snap.subset(~snap.too_far))
            dists.append(net.node_distance(snap, limit_m=reaches[-1]))
    shapes = _run(samples, dists, snaps, reaches, buffer_m / cell, workers)
    rows = [{"category": code, "category_label": coverage.taxonomy.label(code), "minutes": minutes,
             "geometry": polygon}
            for code, polygons in zip(codes, shapes, strict=True) if polygons is not None
            for minutes, polygon in zip(thresholds, polygons, strict=True)]
    columns = ["category", "category_label", "minutes", "geometry"]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry="geometry", crs=net.crs)


def street_buffers(net: WalkNetwork, selections: list[np.ndarray], *, buffer_m: float,
                   cell_m: float | None = None) -> list:
    """Per selection of streets (edge positions), the union of those streets buffered by ``buffer_m``.

    Drawn on the catchments' raster (streets sampled once for all selections, a minimum over the
    disc, outlines by marching squares), not as a GEOS union of buffered streets (about 3 s per
    30,000 streets): areas within about 1 % of the exact union, every boundary point within 1.5
    cells of it (``cell_m`` defaults to ``buffer_m / 3.5``). An empty selection gives an empty
    MultiPolygon.
    """
    cell = float(cell_m or buffer_m / 3.5)
    samples = _StreetSamples(net, cell, pad_m=buffer_m + 2 * cell)
    run_edge = np.repeat(np.arange(len(net.edges)), np.diff(samples.start))
    shapes = []
    for edges in selections:
        chosen = np.zeros(len(net.edges), dtype=bool)
        chosen[np.asarray(edges, dtype=np.int64)] = True
        level = (~chosen[run_edge]).astype(np.uint8)  # 0 on a chosen street, 1 elsewhere
        shapes.append(_polygons(samples.raster(level, 1), buffer_m / cell, 1)[0] if chosen.any()
                      else shapely.MultiPolygon())
    return shapes


class _StreetSamples:
    """Runs of street samples per raster cell, with their walking offsets (built once a call).

    The streets are sampled every half cell; consecutive samples of one street in one cell make
    a run, kept as its first sample's distance from the street's u end and its last sample's
    distance to the v end. Walking distance along a street rises from one end and falls towards
    the other, so the smallest over the run's samples is at one of these two: a run gives its
    cell exactly the level its samples would, at a third to a half of their number.
    """

    def __init__(self, net: WalkNetwork, cell: float, *, pad_m: float) -> None:
        lines = net.edges.geometry.to_numpy()
        self.length = net.edges["length_m"].to_numpy()
        count = np.ceil(self.length / (cell / 2)).astype(np.int64) + 1  # both ends included
        start = np.concatenate([[0], np.cumsum(count)[:-1]])
        bounds = shapely.total_bounds(lines)
        lo, hi = bounds[:2] - pad_m, bounds[2:] + pad_m
        self.cell, self.origin = cell, lo
        self.margin = int(np.ceil(pad_m / cell))  # room for the buffer around the reached cells
        self.shape = tuple(np.ceil((hi - lo) / cell).astype(int)[::-1])  # rows (y), columns (x)
        flat_dtype = np.int32 if self.shape[0] * self.shape[1] < 2**31 else np.int64
        u, v = net.edges["u_idx"].to_numpy(), net.edges["v_idx"].to_numpy()
        # a chunk of streets at a time so that the samples' float64 temporaries stay small; per
        # run float32 / int32 (a million nodes give some 10M runs)
        parts = []
        for first in range(0, len(lines), _CHUNK_EDGES):
            part = slice(first, min(first + _CHUNK_EDGES, len(lines)))
            total = int(start[part.stop - 1] + count[part.stop - 1] - start[first])
            edge = np.repeat(np.arange(part.start, part.stop), count[part])
            frac = (np.arange(total) + start[first] - start[edge]) / np.maximum(count[edge] - 1, 1)
            ij = np.floor((_along(lines[part], edge - part.start, frac) - lo) / cell).astype(np.int64)
            flat = ij[:, 1] * self.shape[1] + ij[:, 0]
            head = np.flatnonzero(np.r_[True, (flat[1:] != flat[:-1]) | (edge[1:] != edge[:-1])])
            tail = np.r_[head[1:], total] - 1
            along = frac * self.length[edge]
            parts.append((along[head].astype(np.float32), (self.length[edge] - along)[tail].astype(np.float32),
                          edge[head].astype(np.int32), flat[head].astype(flat_dtype)))
        self.s, self.rest, run_edge, self.flat = (np.concatenate(c) for c in zip(*parts, strict=True))
        self.su, self.sv = u[run_edge].astype(np.int32), v[run_edge].astype(np.int32)
        self.start = np.searchsorted(run_edge, np.arange(len(lines) + 1))  # each street's runs

    def levels(self, node_dist: np.ndarray, snap, reaches: np.ndarray) -> np.ndarray:
        """Per run, the index of the first threshold that reaches it (``len(reaches)``: none).

        ``snap``: the category's resources on the network (none too far).
        """
        nd = node_dist.astype(np.float32)
        dist = np.minimum(nd[self.su] + self.s, nd[self.sv] + self.rest)
        if len(snap):  # along the street a resource stands on, without passing a street end
            count = (self.start[1:] - self.start[:-1])[snap.edge]
            owner = np.repeat(np.arange(len(snap)), count)
            rows = np.repeat(self.start[snap.edge], count) + np.arange(count.sum()) - np.repeat(
                np.cumsum(count) - count, count)
            s_hi = self.length[snap.edge[owner]] - self.rest[rows]
            gap = np.maximum(np.maximum(self.s[rows] - snap.along_m[owner], snap.along_m[owner] - s_hi), 0.0)
            np.minimum.at(dist, rows, (snap.snap_m[owner] + gap).astype(np.float32))
        level = np.zeros(len(dist), np.uint8)
        for reach in reaches.astype(np.float32):  # how many thresholds fall short of it
            level += dist > reach
        return level

    def raster(self, level: np.ndarray, n_levels: int) -> dict:
        """The cells' smallest level, cropped to the reached cells (with room for the buffer)."""
        grid = np.full(self.shape[0] * self.shape[1], n_levels, dtype=np.uint8)
        for k in range(n_levels - 1, -1, -1):  # the smallest level written last wins
            grid[self.flat[level == k]] = k
        grid = grid.reshape(self.shape)
        rows = np.flatnonzero((grid < n_levels).any(axis=1))
        cols = np.flatnonzero((grid < n_levels).any(axis=0))
        r0, r1 = max(rows[0] - self.margin, 0), min(rows[-1] + 1 + self.margin, self.shape[0])
        c0, c1 = max(cols[0] - self.margin, 0), min(cols[-1] + 1 + self.margin, self.shape[1])
        return {"grid": np.ascontiguousarray(grid[r0:r1, c0:c1]), "cell": self.cell,
                "x0": self.origin[0] + (c0 + 0.5) * self.cell, "y0": self.origin[1] + (r0 + 0.5) * self.cell}


def _along(lines: np.ndarray, edge: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """The points at fractions ``frac`` of the length of ``lines[edge]``, in numpy."""
    xy, owner = shapely.get_coordinates(lines, return_index=True)
    step = np.hypot(*np.diff(xy, axis=0).T)
    step = np.where(owner[1:] == owner[:-1], step, 0.0)
    cum = np.concatenate([[0.0], np.cumsum(step)])  # along all lines, one after the other
    first = np.searchsorted(owner, np.arange(len(lines)), side="left")
    last = np.searchsorted(owner, np.arange(len(lines)), side="right") - 1
    total = cum[last] - cum[first]
    pos = cum[first[edge]] + frac * total[edge]
    seg = np.clip(np.searchsorted(cum, pos, side="right") - 1, first[edge], np.maximum(last[edge] - 1, first[edge]))
    nxt = np.minimum(seg + 1, last[edge])
    span = cum[nxt] - cum[seg]
    t = np.where(span > 0, (pos - cum[seg]) / np.where(span > 0, span, 1.0), 0.0)[:, None]
    return xy[seg] * (1 - t) + xy[nxt] * t


def _disc_rectangles(radius: float) -> list[tuple[int, int]]:
    """Half-sizes (rows, columns) of rectangles whose union is the disc of cell centres."""
    r = int(np.floor(radius))
    half = [int(np.floor(np.sqrt(max(radius**2 - h**2, 0.0)))) for h in range(r + 1)]
    return [(h, w) for h, w in enumerate(half) if h == r or half[h + 1] < w]


def _polygons(job: dict, radius: float, n_levels: int) -> list:
    """The catchment of every level from one category's raster (runs in a worker)."""
    grid = job["grid"]
    field = np.full_like(grid, n_levels)
    for h, w in _disc_rectangles(radius):
        box = _window_min(_window_min(grid, w, axis=1, fill=n_levels), h, axis=0, fill=n_levels)
        np.minimum(field, box, out=field)
    # each level's cells in or out: its boundary half-way between them, in cell indices (no
    # coordinate grids to build), then moved into place in one affine step
    return [shapely.transform(shape, lambda ij: ij * job["cell"] + (job["x0"], job["y0"]))
            for shape in nested_outlines(field, n_levels)]


def _window_min(a: np.ndarray, half: int, *, axis: int, fill: int) -> np.ndarray:
    """The minimum over ``[i - half, i + half]`` along ``axis`` (``fill`` beyond the edges).

    Doubling windows (min of two shifted copies, log₂ of the width steps) instead of a sliding
    filter: a few whole-array numpy operations.
    """
    if half == 0:
        return a
    width, size = 2 * half + 1, a.shape[axis]
    pad = [(0, 0)] * a.ndim
    pad[axis] = (half, half)
    m = np.pad(a, pad, constant_values=fill)

    def cut(x, start, stop):
        index = [slice(None)] * a.ndim
        index[axis] = slice(start, stop)
        return x[tuple(index)]

    span = 1  # m[i] = min of the padded array over [i, i + span)
    while 2 * span <= width:
        m = np.minimum(cut(m, 0, m.shape[axis] - span), cut(m, span, m.shape[axis]))
        span *= 2
    return np.minimum(cut(m, 0, size), cut(m, width - span, width - span + size))


def _catchment(samples: _StreetSamples, node_dist: np.ndarray, snap, reaches: np.ndarray,
               radius: float) -> list | None:
    """One category's polygons, a threshold each (``None``: it reaches no street)."""
    level = samples.levels(node_dist, snap, reaches)
    if (level == len(reaches)).all():
        return None
    return _polygons(samples.raster(level, len(reaches)), radius, len(reaches))


_WORKER: dict = {}  # a pool worker's street samples, inherited when the pool forks (never pickled)


def _install(samples: _StreetSamples, reaches: np.ndarray, radius: float) -> None:
    _WORKER.update(samples=samples, reaches=reaches, radius=radius)


def _in_worker(node_dist: np.ndarray, snap) -> list | None:
    return _catchment(_WORKER["samples"], node_dist, snap, _WORKER["reaches"], _WORKER["radius"])


def _run(samples: _StreetSamples, dists: list, snaps: list, reaches: np.ndarray, radius: float,
         workers: int | None) -> list:
    """The categories' polygons, in a process pool (forked: the samples are shared) when large."""
    if workers is None:
        cells = samples.shape[0] * samples.shape[1] * len(dists)
        workers = min(os.cpu_count() or 1, len(dists)) if cells >= _POOL_MIN_CELLS else 1
    # forked workers share the samples without copying them; a process with other threads (an app
    # server, a Dask worker) or a daemon stays serial: forking it would be unsafe
    fork = ("fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
            and not multiprocessing.current_process().daemon)
    if workers <= 1 or len(dists) <= 1 or not fork:
        return [_catchment(samples, d, s, reaches, radius) for d, s in zip(dists, snaps, strict=True)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                             initializer=_install, initargs=(samples, reaches, radius)) as pool:
        return list(pool.map(_in_worker, dists, snaps))


def _area_served(coverage: Coverage) -> pd.Series:
    res = coverage.resources
    return res["served_area_id"].notna() & res["served_area_id"].isin(coverage.membership["area_id"])
