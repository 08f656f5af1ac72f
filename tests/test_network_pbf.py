"""``scgeo network --pbf``: a regional extract cut to the municipality plus a buffer, streamed."""

import geopandas as gpd
import numpy as np
import osmium
import pytest
import shapely

from scgeo import Workspace
from scgeo.cli import main
from scgeo.crs import to_metric
from scgeo.io.osm_extract import extract_osm, municipality_area

TOWN = (141.00, 35.00, 141.02, 35.02)  # the municipality: a 1.8 km × 2.2 km box
STEP = 0.002


def _write_region(path):
    """A street grid three times wider than the town, a river across it, a motorway and a far village."""
    xs = np.round(np.arange(140.97, 141.05 + 1e-9, STEP), 6)
    ys = np.round(np.arange(34.97, 35.05 + 1e-9, STEP), 6)
    ids = {}
    with osmium.SimpleWriter(str(path)) as writer:
        for j, y in enumerate(ys):
            for i, x in enumerate(xs):
                ids[i, j] = 1 + j * len(xs) + i
                writer.add_node(osmium.osm.mutable.Node(id=ids[i, j], location=(x, y)))
        far = 10**6
        writer.add_node(osmium.osm.mutable.Node(id=far, location=(135.5, 34.7)))
        writer.add_node(osmium.osm.mutable.Node(id=far + 1, location=(135.501, 34.7)))
        way = 1
        for j in range(len(ys)):  # east–west streets crossing the whole region
            writer.add_way(osmium.osm.mutable.Way(id=way, nodes=[ids[i, j] for i in range(len(xs))],
                                                  tags={"highway": "residential", "name": f"東西{j}"}))
            way += 1
        for i in range(len(xs)):  # north–south streets
            writer.add_way(osmium.osm.mutable.Way(id=way, nodes=[ids[i, j] for j in range(len(ys))],
                                                  tags={"highway": "unclassified"}))
            way += 1
        diagonal = [ids[k, k] for k in range(min(len(xs), len(ys)))]
        writer.add_way(osmium.osm.mutable.Way(id=way, nodes=diagonal, tags={"waterway": "river", "name": "川"}))
        writer.add_way(osmium.osm.mutable.Way(id=way + 1, nodes=diagonal, tags={"highway": "motorway"}))
        writer.add_way(osmium.osm.mutable.Way(id=way + 2, nodes=[far, far + 1], tags={"highway": "residential"}))
    return xs, ys


@pytest.fixture
def town(tmp_path, capsys):
    ws_path = tmp_path / "town.gpkg"
    assert main(["init", str(ws_path), "--muni-code", "99201", "--name", "さくら市"]) == 0
    gpd.GeoDataFrame({"name": ["さくら市"]}, geometry=[shapely.box(*TOWN)], crs=6668).to_file(tmp_path / "m.geojson")
    assert main(["import", str(ws_path), str(tmp_path / "m.geojson"), "--layer", "areas",
                 "--level", "municipality"]) == 0
    pbf = tmp_path / "region.osm.pbf"
    xs, ys = _write_region(pbf)
    capsys.readouterr()
    return Workspace.open(ws_path), pbf, xs, ys


def test_cut_keeps_inside_parts_of_crossing_ways(town, capsys):
    ws, pbf, xs, ys = town
    code = main(["network", str(ws.path), "--pbf", str(pbf), "--buffer-m", "500"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "1/3 ノード" in err and "100%" in err  # the progress bar
    assert "歩行ネットワーク: 交点" in out
    area = municipality_area(ws, buffer_m=500)
    edges = ws.read("network_edges")
    nodes = ws.read("network_nodes")
    # everything lies in the town plus 500 m, and reaches beyond the town itself
    assert edges.geometry.within(area.buffer(1e-9)).all()
    assert not edges.union_all().within(shapely.box(*TOWN))
    # brute force: the walkable streets of the region intersected with the area, measured in metres
    streets = [shapely.LineString([(x, y) for x in xs]) for y in ys] + [shapely.LineString([(x, y) for y in ys])
                                                                        for x in xs]
    clipped = gpd.GeoDataFrame(geometry=[shapely.intersection(s, area) for s in streets], crs=6668)
    expected_m = to_metric(clipped).length.sum()
    assert edges["length_m"].sum() == pytest.approx(expected_m, rel=1e-3)
    # ways crossing the edge end exactly on the boundary, as dead ends
    ends = shapely.points(np.vstack([shapely.get_coordinates(g)[[0, -1]] for g in edges.geometry]))
    on_edge = shapely.distance(ends, area.boundary) < 1e-9
    assert on_edge.sum() >= 2 * (len(xs) + len(ys)) // 3
    # the motorway is not walkable, the far village is not in the area
    assert set(edges["highway"]) == {"residential", "unclassified"}
    assert nodes.geometry.x.between(140.9, 141.1).all()
    lines = ws.read("basemap_lines")
    assert set(lines["kind"]) == {"river"} and lines.geometry.within(area.buffer(1e-9)).all()


def test_zero_buffer_is_the_town_and_the_network_is_connected(town):
    ws, pbf, *_ = town
    area = municipality_area(ws, buffer_m=0)
    data = extract_osm(pbf, area)
    assert shapely.box(*data.edges.total_bounds).equals_exact(shapely.box(*TOWN), 1e-9)
    assert data.edges.geometry.within(area.buffer(1e-9)).all()
    from scgeo.network import WalkNetwork

    assert WalkNetwork.from_frames(data.nodes, data.edges).component_share() == 1.0


def test_region_without_the_town_is_an_input_error(tmp_path, capsys):
    ws_path = tmp_path / "far.gpkg"
    assert main(["init", str(ws_path), "--muni-code", "32203"]) == 0
    capsys.readouterr()
    pbf = tmp_path / "region.osm.pbf"
    _write_region(pbf)
    code = main(["network", str(ws_path), "--pbf", str(pbf)])
    assert code == 2 and "区域がありません" in capsys.readouterr().err
    gpd.GeoDataFrame({"name": ["出雲"]}, geometry=[shapely.box(132.7, 35.3, 132.8, 35.4)], crs=6668).to_file(
        tmp_path / "m.geojson")
    assert main(["import", str(ws_path), str(tmp_path / "m.geojson"), "--layer", "areas", "--level",
                 "municipality"]) == 0
    capsys.readouterr()
    code = main(["network", str(ws_path), "--pbf", str(pbf), "--quiet"])
    assert code == 2 and "歩行できる道" in capsys.readouterr().err
