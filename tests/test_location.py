"""CRS plausibility: a layer must lie in Japan, near its municipality and on the workspace's areas."""

import doctest
import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from scgeo import CRSError, Workspace
from scgeo.cli import main
from scgeo.io import read_areas, read_town_blocks
from scgeo.location import Expected, candidate_crs, check_degrees, check_location
from scgeo.municipalities import lookup

NAGANO = "20201"  # 長野市: 平面直角座標系 VIII系 (JGD2000 EPSG:2450, JGD2011 EPSG:6676)


def _districts(epsg: int = 2450, *, muni: str = NAGANO, shift_m=(0.0, 0.0)) -> gpd.GeoDataFrame:
    """Four 2 km squares around the municipality's 役場, in plane coordinates of ``epsg``."""
    town = lookup(muni)
    x, y = Transformer.from_crs(6668, epsg, always_xy=True).transform(town.lon, town.lat)
    x, y = x + shift_m[0], y + shift_m[1]
    boxes = [shapely.box(x + dx, y + dy, x + dx + 2000, y + dy + 2000)
             for dx in (-2000, 0) for dy in (-2000, 0)]
    return gpd.GeoDataFrame({"item1": [f"第{i}中学校" for i in range(1, 5)], "item2": ["a", "b", "c", "d"]},
                            geometry=boxes, crs=epsg)


def _shp_without_prj(tmp_path, gdf):
    path = tmp_path / "school.shp"
    gdf.to_file(path, engine="pyogrio")
    path.with_suffix(".prj").unlink()
    return path


@pytest.fixture
def nagano(tmp_path, capsys):
    path = tmp_path / "nagano.gpkg"
    assert main(["init", str(path), "--muni-code", NAGANO]) == 0
    capsys.readouterr()
    return path


def _import(capsys, ws, file, *extra):
    code = main(["import", str(ws), str(file), "--layer", "areas", "--level", "jhs_district", "--mapping",
                 "name=item1", *map(str, extra)])
    out, err = capsys.readouterr()
    return code, out, err


def test_doctests():
    from scgeo import location

    assert doctest.testmod(location).failed == 0


def test_right_plane_zone_is_accepted_where_the_town_is(nagano, tmp_path, capsys):
    code, _, err = _import(capsys, nagano, _shp_without_prj(tmp_path, _districts()), "--crs", "EPSG:2450")
    assert code == 0, err
    areas = Workspace.open(nagano).areas()
    town = lookup(NAGANO)
    assert len(areas) == 4
    assert areas.union_all().contains(shapely.Point(town.lon, town.lat))


def test_geographic_crs_given_for_a_plane_file_is_refused(nagano, tmp_path, capsys):
    before = nagano.read_bytes()
    code, _, err = _import(capsys, nagano, _shp_without_prj(tmp_path, _districts()), "--crs", "EPSG:6668")
    assert code == 2 and "Traceback" not in err
    assert "EPSG:6668 (JGD2011 緯度経度) として読むと、緯度経度として読めない値です" in err
    assert "座標の値は X" in err  # what was found
    # the municipality's own zone comes first among the candidates
    listed = err.split("次の座標系なら")[1]
    assert listed.startswith("市町村の位置に重なります: EPSG:6676 (JGD2011 平面直角座標系 VIII系)、"
                             "EPSG:2450 (JGD2000 平面直角座標系 VIII系)。")
    assert "EPSG:2449" not in listed and "--crs" in listed
    assert nagano.read_bytes() == before and Workspace.open(nagano).count("areas") == 0


def test_neighbouring_zone_is_refused_with_distance_and_direction(nagano, tmp_path, capsys):
    code, _, err = _import(capsys, nagano, _shp_without_prj(tmp_path, _districts()), "--crs", "EPSG:2449")
    assert code == 2
    assert "EPSG:2449 (JGD2000 平面直角座標系 VII系)" in err
    assert "長野市役所から西へ約" in err
    km = float(err.split("西へ約 ")[1].split(" km")[0].replace(",", ""))
    assert 100 < km < 160  # the neighbouring zone's origin is 1°30′ of longitude away
    assert "EPSG:2450" in err.split("次の座標系なら")[1]
    assert Workspace.open(nagano).count("areas") == 0


def test_geojson_in_metres_without_crs_is_refused_even_without_a_workspace(tmp_path):
    gdf = _districts()
    data = json.loads(gdf.to_json())
    data.pop("crs", None)  # GDAL then assumes degrees (RFC 7946)
    path = tmp_path / "metres.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CRSError, match="緯度経度としてありえない値"):
        read_areas(path, level="jhs_district", mapping={"name": "item1"})
    with pytest.raises(CRSError, match="緯度経度として読めない値"):
        read_town_blocks(path, mapping={"name": "item1", "pop_total": "item2"}, expect=Expected(NAGANO))


def test_layer_must_overlap_the_workspace_areas(tmp_path, capsys):
    """The sample town's code is in no table: only Japan and the existing areas are checked."""
    ws = tmp_path / "town.gpkg"
    assert main(["init", str(ws), "--muni-code", "99201", "--name", "さくら市"]) == 0
    here = gpd.GeoDataFrame({"name": ["本町"]}, geometry=[shapely.box(141.0, 35.0, 141.1, 35.1)], crs=6668)
    there = gpd.GeoDataFrame({"name": ["遠町"]}, geometry=[shapely.box(139.7, 35.6, 139.8, 35.7)], crs=6668)
    here.to_file(tmp_path / "here.geojson")
    there.to_file(tmp_path / "there.geojson")
    assert main(["import", str(ws), str(tmp_path / "here.geojson"), "--layer", "areas", "--level", "living_area"]) == 0
    capsys.readouterr()
    code = main(["import", str(ws), str(tmp_path / "there.geojson"), "--layer", "areas", "--level", "jhs_district"])
    err = capsys.readouterr().err
    assert code == 2 and "ワークスペースの区域と重なりません" in err
    # replacing the only level there is: nothing else to overlap, so it is accepted
    code = main(["import", str(ws), str(tmp_path / "there.geojson"), "--layer", "areas", "--level", "living_area",
                 "--replace"])
    assert code == 0, capsys.readouterr().err


def test_far_from_the_town_hall_without_any_area(tmp_path):
    izumo = lookup("32203")
    gdf = gpd.GeoDataFrame(geometry=[shapely.box(izumo.lon - 0.05, izumo.lat - 0.05, izumo.lon, izumo.lat)], crs=6668)
    check_location(gdf, Expected("32203"))
    with pytest.raises(CRSError, match=r"長野市役所から西へ約 [0-9,]+ km 離れています"):
        check_location(gdf, Expected(NAGANO), what="x")
    with pytest.raises(CRSError, match="として読んでも合いません"):
        check_location(gdf, Expected(NAGANO), what="x")


def test_candidates_are_exactly_the_crss_that_put_the_layer_on_the_town():
    raw = _districts(6676).set_crs(6668, allow_override=True)  # plane numbers labelled as degrees
    found = {c.to_epsg() for c in candidate_crs(raw, Expected(NAGANO))}
    assert found == {6676, 2450}  # JGD2011 and JGD2000 zone VIII; no other zone reaches 長野市
    # brute force: every candidate, when applied, passes the check; every other one fails
    for epsg in (6676, 2450, 6675, 2449, 6677, 4326):
        relabelled = raw.set_crs(epsg, allow_override=True)
        ok = True
        try:
            check_location(relabelled, Expected(NAGANO))
        except CRSError:
            ok = False
        assert ok == (epsg in found)


def test_degrees_check_passes_real_degrees_and_empty_layers():
    check_degrees(gpd.GeoDataFrame(geometry=[shapely.Point(139.7, 35.6)], crs=4326))
    check_degrees(gpd.GeoDataFrame(geometry=[], crs=4326))
    with pytest.raises(CRSError):
        check_degrees(gpd.GeoDataFrame(geometry=[shapely.Point(np.inf, 35.6)], crs=4326))


def test_network_far_from_the_workspace_is_refused(nagano, tmp_path, capsys):
    osm = tmp_path / "far.osm"
    lon, lat = 132.75, 35.37  # 出雲市
    osm.write_text(
        "<?xml version='1.0' encoding='UTF-8'?><osm version='0.6'>"
        f"<node id='1' lat='{lat}' lon='{lon}'/><node id='2' lat='{lat + 0.001}' lon='{lon}'/>"
        "<way id='10'><nd ref='1'/><nd ref='2'/><tag k='highway' v='residential'/></way></osm>",
        encoding="utf-8")
    code = main(["import", str(nagano), str(osm), "--layer", "network"])
    err = capsys.readouterr().err
    assert code == 2 and "長野市役所から" in err and Workspace.open(nagano).count("network_edges") == 0
