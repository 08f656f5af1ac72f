"""The coordinator's network (ネットワーク構築) as a graph: who is tied to whom, brokers, isolates.

Pure functions over the workspace's ``organisations``, ``resources``, ``councils`` and ``ties``
frames. A tie counts on a day when it is accepted (not a proposal), started on or before the day
and did not end by it. Metrics are computed on the undirected simple graph (several ties between
the same two ends count once; their strongest strength is the edge's weight):

- **degree**: number of distinct partners;
- **betweenness**: the share of shortest paths between other pairs that pass through the node
  (Brandes' accumulation done for all sources at once on dense matrices, normalised as
  networkx's ``betweenness_centrality(normalized=True)``): high values are the brokers;
- **components** (connected parts) and **isolates** (no tie at all);
- **communities**: Louvain modularity communities with a fixed seed (so that a rerun agrees).

Examples
--------
>>> orgs = pd.DataFrame({"org_id": ["A", "B", "C", "D"], "name": ["東町内会", "社協", "NPO", "銀行"],
...                      "kind": ["jichikai", "shakyo", "npo", "bank"], "area_id": [None] * 4})
>>> ties = pd.DataFrame({"tie_id": ["t1", "t2"], "kind": ["partner", "partner"],
...     "source_type": ["organisation"] * 2, "source_id": ["A", "B"],
...     "target_type": ["organisation"] * 2, "target_id": ["B", "C"], "strength": ["strong", "weak"],
...     "started": pd.to_datetime(["2025-04-01", "2026-06-01"]), "ended": pd.NaT, "status": "accepted"})
>>> m = network_metrics(tie_graph(ties, organisations=orgs))
>>> b = m.loc["organisation:B"]
>>> int(b["degree"]), round(b["betweenness"], 3), bool(m.loc["organisation:D", "isolated"])
(2, 0.333, True)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

__all__ = [
    "STRENGTH_WEIGHTS",
    "TieGraph",
    "betweenness",
    "network_metrics",
    "node_areas",
    "propose_ties",
    "tie_changes",
    "tie_graph",
    "tie_lines",
    "ties_by_area",
]

STRENGTH_WEIGHTS = {"weak": 1.0, "medium": 2.0, "strong": 3.0}
_NODE_COLUMNS = ["node", "node_type", "node_id", "name", "kind", "area_id", "lat", "lon"]


@dataclass(frozen=True)
class TieGraph:
    """Nodes and ties of the network on one day.

    Attributes
    ----------
    nodes
        One row per node: ``node`` (key ``"<type>:<id>"``), ``node_type`` (organisation, resource,
        council, coordinator), ``node_id``, ``name``, ``kind`` (organisation kind or resource
        category), ``area_id``, ``lat``, ``lon``.
    edges
        The ties in force: ``tie_id``, ``source``, ``target`` (node keys), ``kind``, ``strength``,
        ``weight`` (1 weak, 2 medium, 3 strong; 2 when not given), ``started``.
    dangling
        Ties in force whose end is not a known node (a deleted organisation, a typo): reported,
        not silently dropped.
    on
        The day the network describes.
    closed_ties
        Ties left out because one end is closed (廃止) on that day.
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    dangling: pd.DataFrame = field(default_factory=pd.DataFrame)
    on: pd.Timestamp | None = None
    closed_ties: int = 0

    def adjacency(self) -> sparse.csr_matrix:
        """Symmetric adjacency (CSR) of the simple graph, the strongest weight per pair."""
        n = len(self.nodes)
        pos = pd.Series(np.arange(n), index=self.nodes["node"])
        keep = self.edges["source"] != self.edges["target"]
        u = pos[self.edges.loc[keep, "source"]].to_numpy()
        v = pos[self.edges.loc[keep, "target"]].to_numpy()
        w = self.edges.loc[keep, "weight"].to_numpy(dtype=float)
        a = sparse.coo_matrix((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(n, n)).tocsr()
        a.sum_duplicates()
        # the strongest tie between two ends, not the sum of their ties
        strongest = pd.DataFrame({"u": np.r_[u, v], "v": np.r_[v, u], "w": np.r_[w, w]})
        strongest = strongest.groupby(["u", "v"], sort=True)["w"].max()
        idx = strongest.index
        return sparse.csr_matrix(
            (strongest.to_numpy(), (idx.get_level_values(0), idx.get_level_values(1))), shape=(n, n)
        )


def _on(day: object) -> pd.Timestamp:
    return pd.Timestamp(day if day is not None else dt.date.today()).normalize()


def _in_force(ties: pd.DataFrame, on: pd.Timestamp, *, include_proposed: bool) -> pd.Series:
    started = pd.to_datetime(ties["started"]) if "started" in ties else pd.Series(pd.NaT, index=ties.index)
    ended = pd.to_datetime(ties["ended"]) if "ended" in ties else pd.Series(pd.NaT, index=ties.index)
    status = ties["status"].fillna("accepted") if "status" in ties else pd.Series("accepted", index=ties.index)
    ok = (started.isna() | (started <= on)) & (ended.isna() | (ended > on))
    return ok & (include_proposed | (status == "accepted"))


def _nodes(organisations, resources, councils, coordinator: bool) -> pd.DataFrame:
    parts = []
    if organisations is not None and len(organisations):
        o = pd.DataFrame(
            {
                "node_type": "organisation",
                "node_id": organisations["org_id"].astype(str),
                "name": organisations["name"],
                "kind": organisations.get("kind"),
                "area_id": organisations.get("area_id"),
                "lat": organisations.get("lat"),
                "lon": organisations.get("lon"),
            }
        )
        parts.append(o)
    if resources is not None and len(resources):
        r = pd.DataFrame(
            {
                "node_type": "resource",
                "node_id": resources["resource_id"].astype(str),
                "name": resources["name"],
                "kind": resources.get("category"),
                "area_id": None,
                "lat": None,
                "lon": None,
            }
        )
        if isinstance(resources, gpd.GeoDataFrame) and len(resources):
            pts = resources.geometry.to_crs(4326) if resources.crs else resources.geometry
            r["lat"], r["lon"] = pts.y.to_numpy(), pts.x.to_numpy()
        parts.append(r)
    if councils is not None and len(councils):
        parts.append(
            pd.DataFrame(
                {
                    "node_type": "council",
                    "node_id": councils["council_id"].astype(str),
                    "name": councils["name"],
                    "kind": "council_tier" + councils["tier"].astype(str),
                    "area_id": councils.get("area_id"),
                    "lat": None,
                    "lon": None,
                }
            )
        )
    if coordinator:
        parts.append(
            pd.DataFrame(
                {
                    "node_type": ["coordinator"],
                    "node_id": ["sc"],
                    "name": ["生活支援コーディネーター"],
                    "kind": ["coordinator"],
                    "area_id": [None],
                    "lat": [None],
                    "lon": [None],
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=_NODE_COLUMNS)
    nodes = pd.concat([p.astype(object) for p in parts], ignore_index=True)
    nodes["lat"] = pd.to_numeric(nodes["lat"], errors="coerce")
    nodes["lon"] = pd.to_numeric(nodes["lon"], errors="coerce")
    nodes.insert(0, "node", nodes["node_type"] + ":" + nodes["node_id"])
    return nodes.drop_duplicates("node").reset_index(drop=True)[_NODE_COLUMNS]


def tie_graph(
    ties: pd.DataFrame,
    *,
    organisations: pd.DataFrame | None = None,
    resources: pd.DataFrame | None = None,
    councils: pd.DataFrame | None = None,
    on: object = None,
    include_proposed: bool = False,
    include_closed: bool = False,
) -> TieGraph:
    """The network in force on day ``on`` (default: today).

    Parameters
    ----------
    ties
        The ``ties`` layer.
    organisations, resources, councils
        The layers whose rows are nodes. Every organisation is a node (so isolates show);
        resources and councils likewise when given. Closed ones are left out unless
        ``include_closed``.
    on
        The day (a tie counts from ``started`` up to the day before ``ended``).
    include_proposed
        Count ties proposed (e.g. from meetings) but not yet accepted by the coordinator.
    """
    day = _on(on)

    in_force = ties[_in_force(ties, day, include_proposed=include_proposed)] if len(ties) else ties
    coordinator = (
        bool(len(in_force))
        and ((in_force["source_type"] == "coordinator") | (in_force["target_type"] == "coordinator")).any()
    )
    nodes = _nodes(organisations, resources, councils, coordinator)
    closed = set()
    if not include_closed:
        for frame, kind, id_col in ((organisations, "organisation", "org_id"), (resources, "resource", "resource_id")):
            if frame is not None and "status" in frame:
                closed |= {f"{kind}:{i}" for i in frame.loc[frame["status"] == "closed", id_col]}
        nodes = nodes[~nodes["node"].isin(closed)].reset_index(drop=True)
    edges = pd.DataFrame(
        {
            "tie_id": in_force["tie_id"].astype(str) if len(in_force) else pd.Series(dtype=str),
            "source": (in_force["source_type"] + ":" + in_force["source_id"].astype(str)) if len(in_force) else None,
            "target": (in_force["target_type"] + ":" + in_force["target_id"].astype(str)) if len(in_force) else None,
            "kind": in_force.get("kind"),
            "strength": in_force.get("strength"),
            "started": in_force.get("started"),
        }
    )
    edges["weight"] = edges["strength"].map(STRENGTH_WEIGHTS).fillna(2.0).astype(float)
    to_closed = edges["source"].isin(closed) | edges["target"].isin(closed)
    known = set(nodes["node"])
    ok = edges["source"].isin(known) & edges["target"].isin(known)
    return TieGraph(
        nodes,
        edges[ok].reset_index(drop=True),
        edges[~ok & ~to_closed].reset_index(drop=True),
        day,
        int(to_closed.sum()),
    )


def betweenness(adjacency: sparse.spmatrix, *, normalized: bool = True) -> np.ndarray:
    """Betweenness centrality of every node of an undirected graph (hop counts).

    Brandes' algorithm run for all sources at once: the shortest-path counts ``sigma`` and the
    dependencies ``delta`` are filled layer by layer of BFS distance with matrix products, so the
    cost is a few dense products per distance layer instead of a Python loop over sources.
    Equals ``networkx.betweenness_centrality(G, normalized=normalized)``.
    """
    a = (sparse.csr_matrix(adjacency) != 0).astype(float)
    n = a.shape[0]
    if n < 3:
        return np.zeros(n)
    dist = csgraph.shortest_path(a, unweighted=True, directed=False)
    finite = np.isfinite(dist)
    depth = int(dist[finite].max()) if finite.any() else 0
    hop = np.where(finite, dist, -1).astype(int)
    sigma = np.eye(n)
    for k in range(1, depth + 1):
        sigma += (a.T @ (sigma * (hop == k - 1)).T).T * (hop == k)
    delta = np.zeros((n, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_base = np.where(sigma > 0, 1.0 / sigma, 0.0)
    for k in range(depth - 1, 0, -1):
        nxt = (hop == k + 1) * (1.0 + delta) * ratio_base
        delta += sigma * (hop == k) * (a @ nxt.T).T
    scores = delta.sum(axis=0)
    # every unordered pair was counted from both of its ends
    if normalized:
        return scores / ((n - 1) * (n - 2))
    return scores / 2.0


def network_metrics(graph: TieGraph, *, seed: int = 0) -> pd.DataFrame:
    """Degree, weighted degree, betweenness, component, isolates, community and brokers per node.

    Returns
    -------
    pandas.DataFrame
        Indexed by node key, with ``node_type``, ``node_id``, ``name``, ``kind``, ``degree``,
        ``weighted_degree``, ``betweenness``, ``component`` (0 = the largest), ``component_size``,
        ``isolated``, ``community`` (0 = the largest) and ``broker`` (betweenness above zero and
        in the top tenth, at least one node).
    """
    import networkx as nx

    nodes = graph.nodes.set_index("node")
    n = len(nodes)
    out = nodes[["node_type", "node_id", "name", "kind"]].copy()
    if n == 0:
        empty = {"degree": "int64", "weighted_degree": "float64", "betweenness": "float64", "component": "int64",
                 "component_size": "int64", "isolated": "bool", "community": "int64", "broker": "bool"}
        return out.assign(**{k: pd.Series(dtype=v, index=out.index) for k, v in empty.items()})
    a = graph.adjacency()
    out["degree"] = np.asarray((a != 0).sum(axis=1)).ravel().astype(int)
    out["weighted_degree"] = np.asarray(a.sum(axis=1)).ravel()
    out["betweenness"] = betweenness(a)
    _, labels = csgraph.connected_components(a, directed=False)
    sizes = np.bincount(labels)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    out["component"] = rank[labels]
    out["component_size"] = sizes[labels]
    out["isolated"] = out["degree"] == 0
    g = nx.from_scipy_sparse_array(a)
    groups = sorted(nx.community.louvain_communities(g, weight="weight", seed=seed), key=lambda c: (-len(c), min(c)))
    community = np.empty(n, dtype=int)
    for i, members in enumerate(groups):
        community[list(members)] = i
    out["community"] = community
    top = max(1, int(np.ceil(0.1 * n)))
    threshold = np.sort(out["betweenness"].to_numpy())[::-1][min(top, n) - 1]
    out["broker"] = (out["betweenness"] > 0) & (out["betweenness"] >= threshold)
    return out


def node_areas(graph: TieGraph, areas: gpd.GeoDataFrame, *, level: str) -> pd.Series:
    """The area of ``level`` each node belongs to (``None`` when it cannot be told).

    An organisation's or council's ``area_id`` is followed up the areas' ``parent_id`` chain to
    the level; a node with a location (resources, located organisations) and no usable area is
    placed by the polygon it lies in.
    """
    level_areas = areas[areas["level"] == level]
    parent = dict(zip(areas["area_id"], areas["parent_id"], strict=True))
    wanted = set(level_areas["area_id"])

    def climb(area_id):
        seen = 0
        while isinstance(area_id, str) and area_id not in wanted and seen < 10:
            area_id, seen = parent.get(area_id), seen + 1
        return area_id if area_id in wanted else None

    result = graph.nodes["area_id"].map(climb)
    located = result.isna() & graph.nodes["lat"].notna() & graph.nodes["lon"].notna()
    if located.any() and len(level_areas):
        pts = gpd.GeoDataFrame(
            geometry=gpd.points_from_xy(graph.nodes.loc[located, "lon"], graph.nodes.loc[located, "lat"]),
            index=graph.nodes.index[located],
            crs=4326,
        ).to_crs(level_areas.crs)
        joined = gpd.sjoin(pts, level_areas[["area_id", "geometry"]], predicate="within", how="left")
        joined = joined[~joined.index.duplicated()]
        result.loc[located] = joined["area_id"].to_numpy()
    return pd.Series(result.to_numpy(), index=graph.nodes["node"], name=f"{level}_id")


def ties_by_area(graph: TieGraph, areas: gpd.GeoDataFrame, *, level: str = "living_area") -> pd.DataFrame:
    """Ties within each area and between each pair of areas of ``level``.

    Returns
    -------
    pandas.DataFrame
        ``area_a``, ``area_b`` (equal for ties inside an area; ``None`` for an end whose area is
        unknown), ``name_a``, ``name_b``, ``ties``, sorted by area.
    """
    where = node_areas(graph, areas, level=level)
    a = graph.edges["source"].map(where)
    b = graph.edges["target"].map(where)
    pair = pd.DataFrame(
        {"area_a": a.where(a.fillna("") <= b.fillna(""), b), "area_b": b.where(a.fillna("") <= b.fillna(""), a)}
    )
    table = pair.fillna({"area_a": "", "area_b": ""}).value_counts().rename("ties").reset_index()
    table = table.replace({"area_a": {"": None}, "area_b": {"": None}})
    names = dict(zip(areas["area_id"], areas["name"], strict=True))
    table["name_a"] = table["area_a"].map(names)
    table["name_b"] = table["area_b"].map(names)
    table["within"] = table["area_a"] == table["area_b"]
    return table.sort_values(["area_a", "area_b"], na_position="last").reset_index(drop=True)[
        ["area_a", "name_a", "area_b", "name_b", "within", "ties"]
    ]


def tie_lines(graph: TieGraph) -> tuple[gpd.GeoDataFrame, int]:
    """The ties in force whose two ends have a location, as straight lines (EPSG:4326) for a map.

    Returns
    -------
    (lines, not_drawn)
        ``lines``: one row per tie, ``tie_id``, ``kind``, ``strength``, ``source_name``,
        ``target_name``, ``geometry`` (LineString from source to target); ``not_drawn``: the ties
        in force left out because an end has no location (a council, a resource without a
        point, an organisation without an address) — said on the map, not hidden.
    """
    place = graph.nodes.set_index("node")[["lon", "lat", "name"]]
    e = graph.edges[graph.edges["source"] != graph.edges["target"]]
    a = place.reindex(e["source"]).to_numpy()
    b = place.reindex(e["target"]).to_numpy()
    xy = np.stack([a[:, :2], b[:, :2]], axis=1).astype(float)  # (ties, 2 ends, lon/lat)
    located = np.isfinite(xy).all(axis=(1, 2)) & (xy[:, 0] != xy[:, 1]).any(axis=1)
    lines = gpd.GeoDataFrame(
        {
            "tie_id": e["tie_id"].to_numpy()[located],
            "kind": e["kind"].to_numpy()[located],
            "strength": e["strength"].to_numpy()[located],
            "source_name": a[located, 2],
            "target_name": b[located, 2],
        },
        geometry=shapely.linestrings(xy[located]) if located.any() else [],
        crs=4326,
    )
    return lines, int((~located).sum())


def tie_changes(ties: pd.DataFrame, start: object, end: object) -> dict[str, pd.DataFrame]:
    """Ties gained and lost between two days (the evidence of ネットワーク構築 in a report).

    A tie is **new** when it is accepted and in force on ``end`` but was not on ``start``, and
    **lost** when it was in force on ``start`` and is not on ``end``. Returns ``{"new": …,
    "lost": …}`` (rows of ``ties``).
    """
    s, e = _on(start), _on(end)
    before = _in_force(ties, s, include_proposed=False)
    after = _in_force(ties, e, include_proposed=False)
    return {"new": ties[after & ~before].reset_index(drop=True), "lost": ties[before & ~after].reset_index(drop=True)}


def propose_ties(
    meetings: pd.DataFrame, ties: pd.DataFrame, *, min_meetings: int = 1, on: object = None
) -> pd.DataFrame:
    """連携 ties proposed from meetings: two organisations that attended the same meeting.

    Pairs that already have any tie between them (in force on ``on``, proposals included) are
    not proposed again. The result has the ``ties`` columns with ``status = "proposed"``,
    ``strength = "weak"``, ``started`` = their first shared meeting and ``origin`` naming the
    meetings, for the coordinator to accept or discard.
    """
    rows = []
    for meeting in meetings.itertuples(index=False):
        ids = sorted(
            {
                x.strip()
                for x in str(meeting.attendees or "").replace("、", ";").replace(",", ";").split(";")
                if x.strip()
            }
        )
        rows.extend((a, b, meeting.meeting_id, meeting.date) for i, a in enumerate(ids) for b in ids[i + 1 :])
    columns = [
        "tie_id",
        "kind",
        "source_type",
        "source_id",
        "target_type",
        "target_id",
        "strength",
        "started",
        "ended",
        "status",
        "origin",
        "notes",
    ]
    if not rows:
        return pd.DataFrame(columns=columns)
    pairs = pd.DataFrame(rows, columns=["a", "b", "meeting_id", "date"])
    grouped = (
        pairs.groupby(["a", "b"], sort=True)
        .agg(
            meetings=("meeting_id", lambda s: ",".join(sorted(set(s)))),
            n=("meeting_id", "nunique"),
            first=("date", "min"),
        )
        .reset_index()
    )
    grouped = grouped[grouped["n"] >= min_meetings]
    existing = set()
    if len(ties):
        org = ties[
            (ties["source_type"] == "organisation")
            & (ties["target_type"] == "organisation")
            & _in_force(ties, _on(on), include_proposed=True)
        ]
        existing = {tuple(sorted(p)) for p in zip(org["source_id"], org["target_id"], strict=True)}
    keep = [tuple(p) not in existing for p in zip(grouped["a"], grouped["b"], strict=True)]
    grouped = grouped[keep].reset_index(drop=True)
    return pd.DataFrame(
        {
            "tie_id": [f"P{i:04d}" for i in range(1, len(grouped) + 1)],
            "kind": "partner",
            "source_type": "organisation",
            "source_id": grouped["a"],
            "target_type": "organisation",
            "target_id": grouped["b"],
            "strength": "weak",
            "started": pd.to_datetime(grouped["first"]),
            "ended": None,
            "status": "proposed",
            "origin": "協議体: " + grouped["meetings"],
            "notes": grouped["n"].map(lambda k: f"同じ会議に{k}回出席"),
        },
        columns=columns,
    )
