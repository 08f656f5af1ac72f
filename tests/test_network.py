"""Walking network: OSM reading, snapping, and travel distances against brute force (networkx)."""

import itertools
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from scgeo import InputError
from scgeo.io.osm import is_walkable, read_osm
from scgeo.network import Snap, WalkNetwork, straight_line_m

ROOT = Path(__file__).resolve().parents[1]
OSM = ROOT / "data" / "network" / "sakura.osm"
METRIC = "EPSG:6691"


def _network_from(nodes_xy, edge_pairs):
    nodes = gpd.GeoDataFrame({"node_id": np.arange(len(nodes_xy)) + 100},
                             geometry=shapely.points(nodes_xy), crs=METRIC)
    lines = [shapely.LineString([nodes_xy[a], nodes_xy[b]]) for a, b in edge_pairs]
    edges = gpd.GeoDataFrame({"u": [a + 100 for a, _ in edge_pairs], "v": [b + 100 for _, b in edge_pairs]},
                             geometry=lines, crs=METRIC)
    return WalkNetwork.from_frames(nodes, edges, crs=METRIC)


def _brute_force(net: WalkNetwork, sources: Snap, targets: Snap) -> np.ndarray:
    """Distances by networkx on a graph whose edges are split at every source and target."""
    g = nx.Graph()
    cuts: dict[int, list] = {}
    for kind, snap in (("s", sources), ("t", targets)):
        for i in range(len(snap)):
            if not snap.too_far[i]:
                cuts.setdefault(int(snap.edge[i]), []).append((float(snap.along_m[i]), (kind, i)))
    for e, row in enumerate(net.edges.itertuples()):
        chain = [(0.0, int(row.u_idx)), *sorted(cuts.get(e, [])), (float(row.length_m), int(row.v_idx))]
        for (a, na), (b, nb) in itertools.pairwise(chain):
            w = b - a
            if na == nb:
                continue
            if g.has_edge(na, nb):
                w = min(w, g[na][nb]["w"])
            g.add_edge(na, nb, w=w)
    for i in range(len(sources)):
        if not sources.too_far[i]:
            g.add_edge("SRC", ("s", i), w=float(sources.snap_m[i]))
    if "SRC" not in g:
        return np.full(len(targets), np.inf)
    dist = nx.single_source_dijkstra_path_length(g, "SRC", weight="w")
    return np.array([dist.get(("t", i), np.inf) + targets.snap_m[i] if not targets.too_far[i] else np.inf
                     for i in range(len(targets))])


@st.composite
def grid_networks(draw):
    nx_, ny_ = draw(st.integers(2, 5)), draw(st.integers(2, 5))
    spacing = draw(st.floats(40, 200))
    jitter = draw(st.lists(st.floats(-15, 15), min_size=2 * nx_ * ny_, max_size=2 * nx_ * ny_))
    xy = np.array([(500000 + i * spacing, 3870000 + j * spacing) for j in range(ny_) for i in range(nx_)], float)
    xy += np.array(jitter).reshape(-1, 2)
    pairs = [(j * nx_ + i, j * nx_ + i + 1) for j in range(ny_) for i in range(nx_ - 1)]
    pairs += [(j * nx_ + i, (j + 1) * nx_ + i) for j in range(ny_ - 1) for i in range(nx_)]
    keep = draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))
    pairs = [p for p, k in zip(pairs, keep, strict=True) if k] or pairs[:1]
    return xy, pairs


def _random_points(draw, xy, n):
    lo, hi = xy.min(axis=0) - 50, xy.max(axis=0) + 50
    fx = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    fy = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    return gpd.GeoSeries(shapely.points(lo[0] + np.array(fx) * (hi - lo)[0], lo[1] + np.array(fy) * (hi - lo)[1]),
                         crs=METRIC)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), graph=grid_networks())
def test_travel_distance_equals_brute_force_dijkstra(data, graph):
    xy, pairs = graph
    net = _network_from(xy, pairs)
    sources = net.snap(_random_points(data.draw, xy, data.draw(st.integers(1, 4))), max_snap_m=80)
    targets = net.snap(_random_points(data.draw, xy, data.draw(st.integers(1, 8))), max_snap_m=80)
    got = net.distance_to_nearest(sources, targets)
    expected = _brute_force(net, sources, targets)
    assert np.array_equal(np.isinf(got), np.isinf(expected))
    finite = np.isfinite(got)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-9, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), graph=grid_networks(), limit=st.floats(30, 600))
def test_limit_only_cuts_what_lies_beyond(data, graph, limit):
    xy, pairs = graph
    net = _network_from(xy, pairs)
    sources = net.snap(_random_points(data.draw, xy, 2), max_snap_m=1e9)
    targets = net.snap(_random_points(data.draw, xy, 6), max_snap_m=1e9)
    full = net.distance_to_nearest(sources, targets)
    cut = net.distance_to_nearest(sources, targets, limit_m=limit)
    assert np.array_equal(cut, np.where(full <= limit, full, np.inf))


def test_snap_records_distance_and_flags_far_points():
    net = _network_from(np.array([[0.0, 0.0], [100.0, 0.0]]), [(0, 1)])
    snap = net.snap(gpd.GeoSeries(shapely.points([[30, 10], [50, 400], [100, -3]]), crs=METRIC), max_snap_m=300)
    np.testing.assert_allclose(snap.along_m, [30, 50, 100])
    np.testing.assert_allclose(snap.snap_m, [10, 400, 3])
    assert snap.too_far.tolist() == [False, True, False]
    src = net.snap(gpd.GeoSeries(shapely.points([[0, 0]]), crs=METRIC))
    np.testing.assert_allclose(net.distance_to_nearest(src, snap), [40, np.inf, 103])


def test_walkable_filter_follows_osmnx_walk():
    assert is_walkable({"highway": "residential"}) and is_walkable({"highway": "footway"})
    for tags in ({"highway": "motorway"}, {"highway": "cycleway"}, {"highway": "residential", "foot": "no"},
                 {"highway": "service", "service": "private"}, {"waterway": "river"}, {"railway": "rail"},
                 {"highway": "pedestrian", "area": "yes"}, {"highway": "construction"}):
        assert not is_walkable(tags), tags


@pytest.fixture(scope="module")
def sample_net():
    return WalkNetwork.from_osm(OSM)


def test_sample_osm_reads_streets_rivers_and_rails(sample_net):
    data = read_osm(OSM)
    assert len(data.nodes) == sample_net.n_nodes >= 2500
    assert set(data.lines["kind"]) == {"river", "rail"}
    assert data.edges["highway"].notna().all()
    # rivers and rails never become walkable edges
    assert not data.edges.geometry.intersects(data.lines.union_all()).all()
    assert sample_net.component_share() == 1.0
    assert abs(sample_net.edges["length_m"].sum() - data.edges.to_crs(sample_net.crs).length.sum()) < 1e-3


def test_sample_distances_match_networkx_for_sampled_nodes(sample_net):
    g = nx.Graph()
    for r in sample_net.edges.itertuples():
        if not g.has_edge(r.u_idx, r.v_idx) or g[r.u_idx][r.v_idx]["w"] > r.length_m:
            g.add_edge(r.u_idx, r.v_idx, w=r.length_m)
    rng = np.random.default_rng(7)
    for start in rng.choice(sample_net.n_nodes, 5, replace=False):
        xy = sample_net.node_xy[start]
        src = sample_net.snap(gpd.GeoSeries(shapely.points([xy]), crs=sample_net.crs))
        ours = sample_net.node_distance(src)
        ref = nx.single_source_dijkstra_path_length(g, int(start), weight="w")
        nodes = np.array(list(ref))
        np.testing.assert_allclose(ours[nodes], [ref[n] for n in nodes], atol=1e-3)


def test_crossing_the_river_is_a_detour(sample_net):
    data = read_osm(OSM)
    river = data.lines[data.lines["kind"] == "river"].to_crs(sample_net.crs).union_all()
    side = shapely.buffer(river, 150).difference(shapely.buffer(river, 60))
    pts = shapely.get_parts(side)
    assert len(pts) >= 1
    nodes = gpd.GeoSeries(shapely.points(sample_net.node_xy), crs=sample_net.crs)
    near = nodes[nodes.distance(river) < 150]
    a = near.iloc[0]
    # the node across the river nearest to a
    across = near[[shapely.intersects(shapely.LineString([a, b]), river) for b in near]]
    b = across.iloc[across.distance(a).argmin()]
    walk = sample_net.distance_to_nearest(sample_net.snap(gpd.GeoSeries([a], crs=sample_net.crs)),
                                          sample_net.snap(gpd.GeoSeries([b], crs=sample_net.crs)))[0]
    assert walk > 1.5 * a.distance(b)


def test_graphml_round_trip(tmp_path, sample_net):
    import osmnx as ox

    nodes, edges = sample_net.to_frames()
    nodes_ox = nodes.to_crs(4326).assign(x=lambda f: f.geometry.x, y=lambda f: f.geometry.y).set_index("node_id")
    nodes_ox.index.name = "osmid"
    keys = edges.groupby(["u", "v"]).cumcount()  # parallel streets between the same junctions
    edges_ox = edges.to_crs(4326).assign(key=keys, length=edges["length_m"]).set_index(["u", "v", "key"])
    graph = ox.graph_from_gdfs(nodes_ox, edges_ox[["length", "highway", "name", "geometry"]])
    ox.save_graphml(graph, tmp_path / "sakura.graphml")
    again = WalkNetwork.from_graphml(tmp_path / "sakura.graphml", crs=sample_net.crs)
    assert again.n_nodes == sample_net.n_nodes
    assert again.edges["length_m"].sum() == pytest.approx(sample_net.edges["length_m"].sum(), rel=1e-6)


def test_missing_and_empty_osm_files(tmp_path):
    with pytest.raises(InputError, match="見つかりません"):
        read_osm(tmp_path / "none.osm")
    empty = tmp_path / "empty.osm"
    empty.write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="35" lon="141"/></osm>')
    with pytest.raises(InputError, match="歩行できる道"):
        read_osm(empty)


def test_straight_line_fallback_uses_the_detour_factor():
    src = gpd.GeoSeries(shapely.points([[141.0, 35.0]]), crs=4326)
    tgt = gpd.GeoSeries(shapely.points([[141.01, 35.0], [141.0, 35.01]]), crs=4326)
    metric = tgt.to_crs(METRIC)
    expected = metric.distance(src.to_crs(METRIC).iloc[0]).to_numpy() * 1.3
    np.testing.assert_allclose(straight_line_m(src, tgt), expected, rtol=1e-9)
    np.testing.assert_allclose(straight_line_m(src, tgt, detour_factor=1.0), expected / 1.3, rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), graph=grid_networks(), limit=st.floats(50, 900))
def test_pairs_within_equals_brute_force(data, graph, limit):
    from scgeo.network import pairs_within

    xy, pairs = graph
    net = _network_from(xy, pairs)
    sources = net.snap(_random_points(data.draw, xy, data.draw(st.integers(1, 5))), max_snap_m=80)
    targets = net.snap(_random_points(data.draw, xy, data.draw(st.integers(1, 6))), max_snap_m=80)
    found = pairs_within(net, sources, targets, limit_m=limit, memory_mb=1e-4)  # tiny batches: one source each
    got = {(int(t), int(s)): d for t, s, d in found.itertuples(index=False)}
    expected = {}
    for s in range(len(sources)):
        dist = _brute_force(net, sources.subset(np.array([s])), targets)
        expected.update({(t, s): dist[t] for t in range(len(targets)) if dist[t] <= limit})
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-6)
