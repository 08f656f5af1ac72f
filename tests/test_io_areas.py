"""Boundary importers: GeoJSON, Shapefile (cp932/UTF-8, zipped), GeoPackage, CRS, repairs."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon, box

from scgeo import CRSError, InputError
from scgeo.io import read_areas, read_town_blocks

ESTAT = Path(__file__).resolve().parents[2] / "shared" / "data" / "estat_chome2015"
ESTAT_SHP = ESTAT / "31-tottori-all.shp"

NAMES = ["吉成一丁目", "湖山町①", "髙島"]  # ① and 髙 exist in cp932 but not in plain Shift_JIS


def _blocks(crs="EPSG:6668", names=NAMES) -> gpd.GeoDataFrame:
    geoms = [box(134.0 + i * 0.01, 35.5, 134.009 + i * 0.01, 35.509) for i in range(len(names))]
    return gpd.GeoDataFrame({"KEY_CODE": [f"3120100{i}" for i in range(len(names))],
                             "MOJI": names}, geometry=geoms, crs=crs)


def _write_shp(gdf, path: Path, *, encoding: str, cpg: bool) -> Path:
    pyogrio.write_dataframe(gdf, path, encoding=encoding)
    if not cpg:
        path.with_suffix(".cpg").unlink()
    return path


def test_geojson_areas_are_read_into_the_schema(tmp_path):
    path = tmp_path / "districts.geojson"
    gdf = gpd.GeoDataFrame({"区域コード": ["J1", "J2"], "校区名": ["第一中学校区", "第二中学校区"]},
                           geometry=[box(133, 35, 133.1, 35.1), box(133.1, 35, 133.2, 35.1)],
                           crs="EPSG:4326")
    gdf.to_file(path, engine="pyogrio")
    accepted, rejected = read_areas(path, level="中学校区")
    assert list(accepted.columns) == ["area_id", "name", "level", "parent_id", "geometry"]
    assert accepted["area_id"].tolist() == ["J1", "J2"]
    assert accepted["name"].tolist() == ["第一中学校区", "第二中学校区"]
    assert set(accepted["level"]) == {"jhs_district"}
    assert accepted.crs.to_epsg() == 6668
    assert set(accepted.geom_type) == {"MultiPolygon"}
    assert len(rejected) == 0


def test_level_is_required_when_the_file_has_none(tmp_path):
    path = tmp_path / "a.geojson"
    _blocks().to_file(path, engine="pyogrio")
    with pytest.raises(InputError, match="level="):
        read_areas(path)
    with pytest.raises(InputError, match="区域の種類「village」"):
        read_areas(path, level="village")


def test_level_column_in_the_file_is_used_and_labels_become_codes(tmp_path):
    path = tmp_path / "a.geojson"
    gdf = _blocks().assign(種別=["町丁目", "town_block", "圏域"])
    gdf.to_file(path, engine="pyogrio")
    accepted, _ = read_areas(path)
    assert accepted["level"].tolist() == ["town_block", "town_block", "living_area"]


@pytest.mark.parametrize("cpg", [False, True])
def test_shapefile_cp932_with_and_without_cpg(tmp_path, cpg):
    path = _write_shp(_blocks(), tmp_path / "chome.shp", encoding="cp932", cpg=cpg)
    assert path.with_suffix(".cpg").exists() is cpg
    result = read_areas(path, level="town_block")
    assert result.accepted["name"].tolist() == ["吉成一丁目", "湖山町1", "髙島"]  # ① → 1 by NFKC
    assert len(result.rejected) == 0
    assert any("cp932" in m for m in result.messages) is not cpg


def test_shapefile_utf8_with_cpg(tmp_path):
    path = _write_shp(_blocks(), tmp_path / "chome.shp", encoding="UTF-8", cpg=True)
    accepted, _ = read_areas(path, level="town_block")
    assert accepted["name"].tolist() == ["吉成一丁目", "湖山町1", "髙島"]


def test_shapefile_utf8_without_cpg_is_detected(tmp_path):
    path = _write_shp(_blocks(), tmp_path / "chome.shp", encoding="UTF-8", cpg=False)
    accepted, _ = read_areas(path, level="town_block")
    assert accepted["name"].iloc[0] == "吉成一丁目"


def test_explicit_encoding_wins_and_a_wrong_one_is_a_clear_error(tmp_path):
    path = _write_shp(_blocks(), tmp_path / "chome.shp", encoding="cp932", cpg=False)
    with pytest.raises(InputError, match="encoding"):
        read_areas(path, level="town_block", encoding="utf-8")


def test_zipped_shapefile(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    _write_shp(_blocks(), folder / "chome.shp", encoding="cp932", cpg=False)
    archive = tmp_path / "chome.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.iterdir():
            zf.write(part, f"data/{part.name}")
    accepted, rejected = read_areas(archive, level="town_block")
    assert accepted["name"].tolist() == ["吉成一丁目", "湖山町1", "髙島"]
    assert len(rejected) == 0


def test_zip_without_shapefile_is_an_input_error(tmp_path):
    archive = tmp_path / "empty.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "nothing here")
    with pytest.raises(InputError, match="Shapefile"):
        read_areas(archive, level="town_block")


def test_geopackage_layers(tmp_path):
    path = tmp_path / "areas.gpkg"
    _blocks().to_file(path, layer="chome", engine="pyogrio")
    _blocks(names=["甲", "乙", "丙"]).to_file(path, layer="other", engine="pyogrio")
    with pytest.raises(InputError, match="layer"):
        read_areas(path, level="town_block")
    accepted, _ = read_areas(path, level="town_block", layer="other")
    assert accepted["name"].tolist() == ["甲", "乙", "丙"]
    with pytest.raises(InputError, match="nope"):
        read_areas(path, level="town_block", layer="nope")


def test_missing_crs_raises_with_the_fix_and_crs_argument_sets_it(tmp_path):
    path = tmp_path / "noprj.shp"
    pyogrio.write_dataframe(_blocks(), path, encoding="UTF-8")
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match="EPSG:6668") as info:
        read_areas(path, level="town_block")
    assert "--crs" in str(info.value) and "座標参照系" in str(info.value)
    accepted, _ = read_areas(path, level="town_block", crs="EPSG:6668")
    assert accepted.crs.to_epsg() == 6668
    assert accepted.geometry.iloc[0].bounds == pytest.approx((134.0, 35.5, 134.009, 35.509))


def test_unknown_crs_text_is_a_crs_error(tmp_path):
    path = tmp_path / "a.geojson"
    _blocks().to_file(path, engine="pyogrio")
    with pytest.raises(CRSError, match="EPSG"):
        read_areas(path, level="town_block", crs="not a crs")


def test_plane_rectangular_input_is_reprojected_to_jgd2011(tmp_path):
    # JGD2000 / 平面直角座標系 VIII (EPSG:2450): metres from the zone origin (36°N, 138.5°E)
    square = box(1000.0, 2000.0, 3000.0, 5000.0)
    path = tmp_path / "plane.gpkg"
    gpd.GeoDataFrame({"area_id": ["P1"], "name": ["平面"]}, geometry=[square],
                     crs="EPSG:2450").to_file(path, engine="pyogrio")
    accepted, _ = read_areas(path, level="living_area")
    got = shapely.get_coordinates(accepted.geometry.iloc[0])
    xy = shapely.get_coordinates(square)
    lon, lat = Transformer.from_crs(2450, 6668, always_xy=True).transform(xy[:, 0], xy[:, 1])
    assert accepted.crs.to_epsg() == 6668
    assert np.allclose(np.sort(got[:, 0]), np.sort(lon), atol=1e-9)
    assert np.allclose(np.sort(got[:, 1]), np.sort(lat), atol=1e-9)
    assert 138.5 < got[:, 0].min() < 138.6 and 36.0 < got[:, 1].min() < 36.1


def test_bow_tie_polygon_is_repaired_and_reported(tmp_path):
    bow_tie = Polygon([(135.0, 35.0), (135.1, 35.1), (135.1, 35.0), (135.0, 35.1), (135.0, 35.0)])
    assert not bow_tie.is_valid
    path = tmp_path / "bad.geojson"
    gpd.GeoDataFrame({"area_id": ["A1", "A2"], "name": ["蝶", "四角"]},
                     geometry=[box(134, 35, 134.1, 35.1), bow_tie],
                     crs="EPSG:6668").to_file(path, engine="pyogrio")
    result = read_areas(path, level="living_area")
    repaired = result.accepted.set_index("area_id").geometry["A2"]
    assert repaired.is_valid and repaired.geom_type == "MultiPolygon"
    assert len(repaired.geoms) == 2
    assert repaired.area == pytest.approx(0.005)  # two triangles of 0.1 × 0.05 / 2 … × 2
    notes = [m for m in result.messages if "修復" in m]
    assert len(notes) == 1 and "2番目" in notes[0] and "A2" in notes[0]


def test_rows_without_required_values_are_rejected_with_source_row(tmp_path):
    path = tmp_path / "a.geojson"
    gdf = gpd.GeoDataFrame({"area_id": ["A1", None, "A3", "A4"], "name": ["一", "二", None, "四"]},
                           geometry=[box(134, 35, 134.1, 35.1)] * 3 + [shapely.Point(134, 35)],
                           crs="EPSG:6668")
    gdf.to_file(path, engine="pyogrio")
    accepted, rejected = read_areas(path, level="es_district")
    assert accepted["area_id"].tolist() == ["A1"]
    assert rejected["source_row"].tolist() == [2, 3, 4]
    assert "区域ID" in rejected["reason"].iloc[0]
    assert "名称" in rejected["reason"].iloc[1]
    assert "ポリゴン" in rejected["reason"].iloc[2]
    assert rejected["name"].tolist() == ["二", None, "四"]  # the file's own columns
    assert rejected["geometry"].iloc[2].startswith("POINT")


def test_town_blocks_merge_parts_and_sum_population(tmp_path):
    path = tmp_path / "tb.geojson"
    gdf = gpd.GeoDataFrame(
        {"KEY_CODE": ["T1", "T1", "T2"], "S_NAME": ["吉成", "吉成", "湖山"],
         "総人口": [100, 20, 50], "65歳以上人口": [30, 5, 10], "75歳以上人口": [10, 2, 4]},
        geometry=[box(134, 35, 134.1, 35.1), box(134.2, 35, 134.3, 35.1),
                  box(134.4, 35, 134.5, 35.1)], crs="EPSG:6668")
    gdf.to_file(path, engine="pyogrio")
    result = read_town_blocks(path)
    accepted = result.accepted.set_index("area_id")
    assert list(result.accepted.columns) == ["area_id", "name", "level", "parent_id", "pop_total",
                                             "pop_65plus", "pop_75plus", "pop_65plus_alone",
                                             "geometry"]
    assert accepted.loc["T1", "pop_total"] == 120 and accepted.loc["T1", "pop_65plus"] == 35
    assert len(accepted.geometry["T1"].geoms) == 2
    assert set(accepted["level"]) == {"town_block"}
    assert any("T1" in m and "まとめました" in m for m in result.messages)


def test_town_blocks_with_total_population_only(tmp_path):
    path = tmp_path / "tb.geojson"
    _blocks().assign(JINKO=[1, 2, 3]).to_file(path, engine="pyogrio")
    accepted, rejected = read_town_blocks(path)
    assert len(rejected) == 0
    assert accepted["pop_total"].tolist() == [1, 2, 3]
    assert accepted["pop_65plus"].isna().all() and accepted["pop_75plus"].isna().all()  # unknown, not 0


def test_town_blocks_without_any_population_is_an_input_error(tmp_path):
    path = tmp_path / "tb.geojson"
    _blocks().to_file(path, engine="pyogrio")
    with pytest.raises(InputError, match="総人口"):
        read_town_blocks(path)


def test_mapping_overrides_header_recognition(tmp_path):
    path = tmp_path / "a.geojson"
    _blocks().assign(ALT=["x", "y", "z"]).to_file(path, engine="pyogrio")
    accepted, _ = read_areas(path, level="town_block", mapping={"name": "ALT"})
    assert accepted["name"].tolist() == ["x", "y", "z"]
    with pytest.raises(InputError, match="NOPE"):
        read_areas(path, level="town_block", mapping={"name": "NOPE"})


def test_unsupported_or_missing_files(tmp_path):
    with pytest.raises(InputError, match="見つかりません"):
        read_areas(tmp_path / "none.geojson", level="town_block")
    other = tmp_path / "a.kml"
    other.write_text("<kml/>", encoding="utf-8")
    with pytest.raises(InputError, match="GeoJSON"):
        read_areas(other, level="town_block")


@pytest.mark.skipif(not ESTAT_SHP.exists(), reason="../shared/data (real e-Stat file) is absent")
def test_real_estat_tottori_cp932_without_cpg():
    result = read_areas(ESTAT_SHP, level="town_block")
    accepted = result.accepted.set_index("area_id")
    # 2,504 features, 17 of them extra parts of multi-part 小地域 → 2,487 areas
    assert len(accepted) == 2487 and len(result.rejected) == 0
    assert accepted.loc["31201068003", "name"] == "立川町3丁目"
    assert accepted.loc["312011240", "name"] == "吉成"
    assert accepted["name"].str.contains("町").sum() > 500
    assert not accepted["name"].str.contains("[\x80-\xff]", regex=True).any()  # no mojibake
    assert accepted.crs.to_epsg() == 6668 and accepted.geometry.is_valid.all()
    assert any("cp932" in m for m in result.messages)


def test_izumo_school_districts_are_recognised():
    path = ESTAT.parent / "izumo" / "MiddleSchool.geojson"
    if not path.exists():
        pytest.skip("../shared/data (real 国土数値情報 file) is absent")
    result = read_areas(path)
    assert len(result.accepted) == 14 and len(result.rejected) == 0
    assert set(result.accepted["level"]) == {"jhs_district"}
    assert "大社中学校" in set(result.accepted["name"])


def test_file_without_features_is_an_input_error(tmp_path):
    path = tmp_path / "empty.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(InputError, match="図形"):
        read_areas(path, level="town_block")
