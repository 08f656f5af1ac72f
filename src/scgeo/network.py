"""The walking network and travel times on it.

A :class:`WalkNetwork` is an undirected graph of street segments in a metric CRS, held as a
``scipy.sparse`` CSR matrix of lengths in metres. Points (resources, needs, population) are
snapped to the nearest street segment (:meth:`WalkNetwork.snap`), recording how far they were
moved; travel times from a whole set of sources come from ONE multi-source Dijkstra
(:meth:`WalkNetwork.distance_to_nearest`): a virtual source node is joined to both ends of each
source's segment with the partial lengths, so no loop over source–target pairs is ever made.

Walking speed is :attr:`Settings.walk_speed_m_per_min` (60 m/min for older walkers by default).
When no network is available, :func:`straight_line_m` gives distances with a detour factor and
every analysis says which method it used.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra

from scgeo._errors import CRSError, InputError
from scgeo.crs import WORKSPACE_CRS, metric_crs

__all__ = [
    "DEFAULT_DETOUR_FACTOR",
    "DEFAULT_MAX_SNAP_M",
    "Snap",
    "WalkNetwork",
    "pairs_within",
    "straight_line_m",
]

DEFAULT_MAX_SNAP_M = 300.0
# Ratio of network to straight-line distance in built-up Japanese areas is typically 1.2–1.4;
# 1.3 is the middle value used when no network is available (the output says so).
DEFAULT_DETOUR_FACTOR = 1.3
_EPS_M = 1e-6  # csgraph treats explicit zeros as missing edges: zero lengths become tiny


@dataclass(frozen=True)
class Snap:
    """Points snapped to street segments (one row per input point, in input order).

    ``edge`` is the segment's index, ``along_m`` the position on it from its ``u`` end,
    ``snap_m`` the straight distance the point was moved, ``too_far`` whether that exceeded the
    threshold (such points are not used: their distances are ``inf``).
    """

    edge: np.ndarray
    along_m: np.ndarray
    snap_m: np.ndarray
    too_far: np.ndarray

    def __len__(self) -> int:
        return len(self.edge)

    def subset(self, mask: np.ndarray) -> Snap:
        """The snaps of the points selected by a boolean mask or index array."""
        return Snap(self.edge[mask], self.along_m[mask], self.snap_m[mask], self.too_far[mask])


@dataclass(frozen=True)
class WalkNetwork:
    """An undirected walking network in a metric CRS.

    Build it with :meth:`from_frames` (workspace layers), :meth:`from_osm` or
    :meth:`from_graphml`.
    """

    node_ids: np.ndarray
    node_xy: np.ndarray
    edges: gpd.GeoDataFrame  # metric CRS; columns u_idx, v_idx, length_m, highway, name, geometry
    graph: sparse.csr_matrix

    @property
    def crs(self) -> CRS:
        """The metric CRS of the network."""
        return self.edges.crs

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    # ------------------------------------------------------------ building

    @classmethod
    def from_frames(cls, nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, *,
                    crs: CRS | str | None = None) -> WalkNetwork:
        """Build from node and edge frames (the workspace's ``network_*`` layers).

        ``edges`` needs ``u``, ``v`` (node ids) and LineString geometry; ``length_m`` is
        recomputed in the metric CRS. ``crs`` defaults to :func:`scgeo.crs.metric_crs`.
        """
        if not len(edges):
            raise InputError("歩行ネットワークがありません。OpenStreetMap ファイルから作成してください。")
        if edges.crs is None or nodes.crs is None:
            raise CRSError("歩行ネットワークの座標系が分かりません。")
        target = CRS.from_user_input(crs) if crs else metric_crs(edges)
        edges = edges.to_crs(target)
        nodes = nodes.to_crs(target)
        node_ids = nodes["node_id"].to_numpy(dtype=np.int64)
        order = np.argsort(node_ids)
        node_ids = node_ids[order]
        xy = shapely.get_coordinates(nodes.geometry.to_numpy()[order])
        u_idx = np.searchsorted(node_ids, edges["u"].to_numpy(dtype=np.int64))
        v_idx = np.searchsorted(node_ids, edges["v"].to_numpy(dtype=np.int64))
        if (node_ids[np.minimum(u_idx, len(node_ids) - 1)] != edges["u"].to_numpy()).any() or \
                (node_ids[np.minimum(v_idx, len(node_ids) - 1)] != edges["v"].to_numpy()).any():
            raise InputError("歩行ネットワークの道が、存在しない交点を参照しています。")
        frame = gpd.GeoDataFrame(
            {"u_idx": u_idx, "v_idx": v_idx, "length_m": edges.geometry.length.to_numpy(),
             "highway": edges.get("highway"), "name": edges.get("name")},
            geometry=edges.geometry.to_numpy(), crs=target)
        return cls(node_ids, xy, frame, _adjacency(u_idx, v_idx, frame["length_m"].to_numpy(), len(node_ids)))

    @classmethod
    def from_workspace(cls, ws, *, crs: CRS | str | None = None) -> WalkNetwork:
        """Build from a workspace's ``network_nodes`` and ``network_edges`` layers.

        The metric CRS is the plane-rectangular zone of the workspace's municipality when known.
        """
        if crs is None:
            from scgeo.crs import plane_zone_epsg

            crs = plane_zone_epsg(ws.meta().get("muni_code"))
        return cls.from_frames(ws.read("network_nodes"), ws.read("network_edges"), crs=crs)

    @classmethod
    def from_osm(cls, path: str | Path, *, crs: CRS | str | None = None,
                 muni_code: str | None = None) -> WalkNetwork:
        """Build from an ``.osm`` / ``.osm.pbf`` file (see :func:`scgeo.io.osm.read_osm`).

        ``crs`` defaults to the plane-rectangular zone of ``muni_code``, else the data's UTM zone.
        """
        from scgeo.crs import plane_zone_epsg
        from scgeo.io.osm import read_osm

        data = read_osm(path, muni_code=muni_code)
        return cls.from_frames(data.nodes, data.edges, crs=crs or plane_zone_epsg(muni_code))

    @classmethod
    def from_graphml(cls, path: str | Path, *, crs: CRS | str | None = None) -> WalkNetwork:
        """Build from a GraphML file written by osmnx (``osmnx.save_graphml``)."""
        import osmnx as ox

        graph = ox.load_graphml(path)
        nodes, edges = ox.graph_to_gdfs(graph)
        nodes = nodes.reset_index().rename(columns={"osmid": "node_id"})
        edges = edges.reset_index()[["u", "v", "highway", "name", "geometry"]]
        for col in ("highway", "name"):  # osmnx keeps lists where merged ways disagreed
            edges[col] = edges[col].map(lambda v: v[0] if isinstance(v, list) else v)
        return cls.from_frames(nodes, edges, crs=crs)

    # ------------------------------------------------------------ inspection

    def component_share(self) -> float:
        """Share of nodes in the largest connected component (1.0 for a connected network)."""
        _, labels = connected_components(self.graph, directed=False)
        return float(np.bincount(labels).max() / self.n_nodes)

    def to_frames(self) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """Node and edge frames in the workspace CRS, for ``network_nodes`` / ``network_edges``."""
        nodes = gpd.GeoDataFrame({"node_id": self.node_ids}, geometry=shapely.points(self.node_xy),
                                 crs=self.crs).to_crs(WORKSPACE_CRS)
        edges = pd.DataFrame({
            "edge_id": np.arange(1, len(self.edges) + 1),
            "u": self.node_ids[self.edges["u_idx"].to_numpy()],
            "v": self.node_ids[self.edges["v_idx"].to_numpy()],
            "length_m": self.edges["length_m"].to_numpy(),
            "highway": self.edges["highway"], "name": self.edges["name"],
        })
        edges = gpd.GeoDataFrame(edges, geometry=self.edges.geometry.to_numpy(), crs=self.crs)
        return nodes, edges.to_crs(WORKSPACE_CRS)

    # ------------------------------------------------------------ snapping

    @cached_property
    def node_grid(self):
        """The nodes by cells of the plane (:class:`scgeo._local_search.NodeGrid`), built once."""
        from scgeo._local_search import NodeGrid

        return NodeGrid(self.node_xy)

    @cached_property
    def _segments(self):
        """Index of the street segments' pieces (:class:`scgeo._snapping.SegmentIndex`), built once."""
        from scgeo._snapping import SegmentIndex

        return SegmentIndex(self.edges.geometry.to_numpy())

    def snap(self, points: gpd.GeoSeries | gpd.GeoDataFrame, *,
             max_snap_m: float = DEFAULT_MAX_SNAP_M) -> Snap:
        """Snap points to their nearest street segment.

        Points farther than ``max_snap_m`` (or empty) are flagged ``too_far`` and not used.
        """
        geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
        if geoms.crs is None:
            raise CRSError("点の座標系が分かりません。")
        geoms = geoms.to_crs(self.crs).to_numpy()
        empty = shapely.is_empty(geoms) | shapely.is_missing(geoms)
        edge = np.zeros(len(geoms), dtype=np.int64)
        snap_m = np.full(len(geoms), np.inf)
        along = np.zeros(len(geoms))
        point = ~empty & (shapely.get_type_id(geoms) == 0)
        rows = np.flatnonzero(point)
        if len(rows):
            xy = shapely.get_coordinates(geoms[rows])
            edge[rows], along[rows], snap_m[rows] = self._segments.nearest(xy)
            along[rows] = np.clip(along[rows], 0.0, self.edges["length_m"].to_numpy()[edge[rows]])  # rounding
        rows = np.flatnonzero(~empty & ~point)  # other shapes: their nearest point, by the R-tree
        if len(rows):
            edge[rows], along[rows], snap_m[rows] = self._segments.nearest_geoms(geoms[rows])
        return Snap(edge, along, snap_m, empty | (snap_m > max_snap_m))

    # ------------------------------------------------------------ travel

    def node_distance(self, sources: Snap, *, limit_m: float = np.inf) -> np.ndarray:
        """Network distance (m) from every node to its nearest source (one Dijkstra run)."""
        usable = sources.subset(~sources.too_far)
        n = self.n_nodes
        if not len(usable):
            return np.full(n, np.inf)
        u = self.edges["u_idx"].to_numpy()[usable.edge]
        v = self.edges["v_idx"].to_numpy()[usable.edge]
        length = self.edges["length_m"].to_numpy()[usable.edge]
        w_u = usable.snap_m + usable.along_m
        w_v = usable.snap_m + (length - usable.along_m)
        node, w = np.concatenate([u, v]), np.concatenate([w_u, w_v])
        order = np.lexsort((w, node))
        node, w = node[order], w[order]
        first = np.concatenate([[True], node[1:] != node[:-1]])  # one link per node: the shortest
        node, w = node[first], w[first]
        # the graph plus one row for the virtual source, appended without re-sorting the matrix
        base = self.graph
        data = np.concatenate([base.data, np.maximum(w, _EPS_M)])
        indices = np.concatenate([base.indices, node.astype(base.indices.dtype)])
        indptr = np.concatenate([base.indptr, [base.indptr[-1] + len(node)]]).astype(base.indptr.dtype)
        graph = sparse.csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))
        return dijkstra(graph, directed=True, indices=n, limit=limit_m)[:n]

    def point_distance(self, node_dist: np.ndarray, targets: Snap, *,
                       sources: Snap | None = None) -> np.ndarray:
        """Network distance (m) of snapped targets, from per-node distances.

        With ``sources``, a target on the same segment as a source can also reach it directly
        along the segment.
        """
        u = self.edges["u_idx"].to_numpy()[targets.edge]
        v = self.edges["v_idx"].to_numpy()[targets.edge]
        length = self.edges["length_m"].to_numpy()[targets.edge]
        best = np.minimum(node_dist[u] + targets.along_m, node_dist[v] + (length - targets.along_m))
        if sources is not None:
            best = np.minimum(best, _same_edge_distance(targets, sources.subset(~sources.too_far)))
        best = best + targets.snap_m
        return np.where(targets.too_far, np.inf, best)

    def distance_to_nearest(self, sources: Snap, targets: Snap, *,
                            limit_m: float = np.inf) -> np.ndarray:
        """Network distance (m) from each target to its nearest source (``inf``: unreachable)."""
        node_dist = self.node_distance(sources, limit_m=limit_m)
        dist = self.point_distance(node_dist, targets, sources=sources)
        return np.where(dist <= limit_m, dist, np.inf)


def pairs_within(net: WalkNetwork, sources: Snap, targets: Snap, *, limit_m: float,
                 memory_mb: float = 256.0) -> pd.DataFrame:
    """Every (target, source) pair whose network distance is within ``limit_m``.

    Bounded Dijkstra runs from the sources, grouped by cells of the plane so that each group
    searches only the streets within reach (:mod:`scgeo._local_search`); the distance rows of
    one run stay under ``memory_mb``; never a loop over pairs. Returns ``target`` and ``source``
    (positions in the inputs) and ``distance_m``. Flagged points take no part.
    """
    from scgeo._local_search import local_pairs

    if not np.isfinite(limit_m):
        raise ValueError("pairs_within needs a finite limit_m")
    src_ids = np.flatnonzero(~sources.too_far)
    tgt_ids = np.flatnonzero(~targets.too_far)
    if not len(src_ids) or not len(tgt_ids):
        return pd.DataFrame({"target": pd.Series(dtype=np.int64), "source": pd.Series(dtype=np.int64),
                             "distance_m": pd.Series(dtype=float)})
    src, tgt = sources.subset(src_ids), targets.subset(tgt_ids)
    found = local_pairs(net.graph, net.node_xy, net.node_grid, net.edges["u_idx"].to_numpy(),
                        net.edges["v_idx"].to_numpy(), net.edges["length_m"].to_numpy(),
                        (src.edge, src.along_m, src.snap_m), (tgt.edge, tgt.along_m, tgt.snap_m),
                        limit_m=limit_m, memory_mb=memory_mb)
    return pd.DataFrame({"target": tgt_ids[found["target"].to_numpy()],
                         "source": src_ids[found["source"].to_numpy()],
                         "distance_m": found["distance_m"].to_numpy()})


def _adjacency(u: np.ndarray, v: np.ndarray, length: np.ndarray, n: int) -> sparse.csr_matrix:
    """Symmetric CSR matrix of lengths, the shortest of parallel segments kept."""
    frame = pd.DataFrame({"a": np.concatenate([u, v]), "b": np.concatenate([v, u]),
                          "w": np.maximum(np.concatenate([length, length]), _EPS_M)})
    frame = frame[frame["a"] != frame["b"]].groupby(["a", "b"], sort=False)["w"].min().reset_index()
    return sparse.csr_matrix((frame["w"], (frame["a"], frame["b"])), shape=(n, n))


def _same_edge_distance(targets: Snap, sources: Snap) -> np.ndarray:
    """For targets sharing a segment with a source: the distance along it (else ``inf``)."""
    out = np.full(len(targets), np.inf)
    if not len(sources) or not len(targets):
        return out
    order = np.argsort(sources.edge, kind="stable")
    s_edge = sources.edge[order]
    first = np.searchsorted(s_edge, targets.edge, side="left")
    count = np.searchsorted(s_edge, targets.edge, side="right") - first
    hit = np.flatnonzero(count)
    if len(hit):
        reps = count[hit]
        t_of = np.repeat(hit, reps)
        s_of = order[np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps - first[hit], reps)]
        d = np.abs(targets.along_m[t_of] - sources.along_m[s_of]) + sources.snap_m[s_of]
        out[hit] = np.minimum.reduceat(d, np.cumsum(reps) - reps)
    return out


def straight_line_m(sources: gpd.GeoSeries, targets: gpd.GeoSeries, *,
                    detour_factor: float = DEFAULT_DETOUR_FACTOR) -> np.ndarray:
    """Distance (m) from each target to its nearest source, straight line × ``detour_factor``.

    The fallback when no walking network is available; both series must share a CRS.
    """
    if sources.crs is None or targets.crs is None:
        raise CRSError("点の座標系が分かりません。")
    crs = metric_crs(gpd.GeoDataFrame(geometry=targets))
    src = shapely.get_coordinates(sources.to_crs(crs).to_numpy())
    tgt = targets.to_crs(crs).to_numpy()
    out = np.full(len(tgt), np.inf)
    valid = ~(shapely.is_empty(tgt) | shapely.is_missing(tgt))
    if len(src) and valid.any():
        from scipy.spatial import cKDTree

        dist, _ = cKDTree(src).query(shapely.get_coordinates(tgt[valid]))
        out[valid] = dist * detour_factor
    return out
