"""国土数値情報 readers: A32/A27 (old and new schemas), N03, P14, P04."""

import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest

from scgeo import InputError
from scgeo.crs import to_metric
from scgeo.io import (
    read_ksj_facilities,
    read_ksj_medical,
    read_ksj_municipality,
    read_ksj_school_districts,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FIX = Path(__file__).resolve().parent / "fixtures" / "public"


def _izumo(name: str) -> Path:
    path = DATA / "izumo" / name
    if not path.is_file():
        pytest.skip("shared data (../shared/data) is not available")
    return path


def test_izumo_a32_old_schema_real_file():
    result = read_ksj_school_districts(_izumo("MiddleSchool.geojson"), muni_code="32203")
    accepted, rejected = result
    assert len(accepted) == 14 and len(rejected) == 0
    assert set(accepted["level"]) == {"jhs_district"}
    assert "J32203-大社中学校" in set(accepted["area_id"])
    assert accepted["name"].str.endswith("中学校").all()
    assert any("古い属性形式" in m and "A32_008" in m for m in result.messages)
    raw = gpd.read_file(_izumo("MiddleSchool.geojson"))
    # areas are the file's polygons: total area equal to an independent computation
    assert to_metric(accepted, muni_code="32203").area.sum() == pytest.approx(
        to_metric(raw.to_crs(6668), muni_code="32203").area.sum(), rel=1e-6)


def test_izumo_a27_old_schema_real_file():
    accepted, rejected = read_ksj_school_districts(_izumo("Elementary.geojson"))
    assert len(accepted) == 36 and len(rejected) == 0
    assert set(accepted["level"]) == {"es_district"}
    assert accepted["area_id"].str.match(r"^E32203-.+小学校$").all()


def test_a32_new_schema_with_school_code_and_filter():
    result = read_ksj_school_districts(FIX / "A32-23_32.geojson", muni_code="32203")
    assert sorted(result.accepted["area_id"]) == ["C132220300012", "C132220300021"]
    assert sorted(result.accepted["name"]) == ["第一中学校", "第二中学校"]
    assert any("新しい属性形式" in m for m in result.messages)
    assert any("ほかの 1 件" in m for m in result.messages)


def test_a32_unknown_muni_code_says_which_codes_exist():
    with pytest.raises(InputError, match="32203"):
        read_ksj_school_districts(FIX / "A32-23_32.geojson", muni_code="13101")


def _cp932_zip(tmp_path: Path, source: Path, stem: str, *, cpg: bool) -> Path:
    gdf = gpd.read_file(source)
    folder = tmp_path / stem
    folder.mkdir()
    pyogrio.write_dataframe(gdf, folder / f"{stem}.shp", encoding="cp932")
    if not cpg:
        (folder / f"{stem}.cpg").unlink(missing_ok=True)
    # the distributed zip also ships the same data as GeoJSON in newer releases
    out = tmp_path / f"{stem}.zip"
    with zipfile.ZipFile(out, "w") as archive:
        for part in folder.iterdir():
            archive.write(part, f"{stem}/{part.name}")
    shutil.rmtree(folder)
    return out


@pytest.mark.parametrize("cpg", [True, False])
def test_n03_from_cp932_zip_dissolves_and_rejects_unassigned(tmp_path, cpg):
    path = _cp932_zip(tmp_path, FIX / "N03-23_32.geojson", "N03-23_32", cpg=cpg)
    result = read_ksj_municipality(path)
    accepted = result.accepted.set_index("area_id")
    assert list(accepted.index) == ["32203", "32204"]
    assert accepted.loc["32203", "name"] == "出雲市"  # not mojibake, with or without .cpg
    assert accepted.loc["32203", "level"] == "municipality"
    assert len(accepted.loc["32203", "geometry"].geoms) == 2  # main part + island
    assert len(result.rejected) == 1 and "区域ID" in result.rejected.loc[0, "reason"]
    one = read_ksj_municipality(path, muni_code="32203")
    assert list(one.accepted["area_id"]) == ["32203"]


def test_p14_categories_capacity_and_out_of_scope():
    result = read_ksj_facilities(FIX / "P14-21_32.geojson", muni_code="32203")
    acc = result.accepted.set_index("name")
    assert acc.loc["特別養護老人ホームいずも苑", "category"] == "care_service"
    assert acc.loc["特別養護老人ホームいずも苑", "capacity"] == 80
    assert acc.loc["出雲市在宅介護支援センター", "category"] == "consultation"
    assert acc.loc["出雲市老人福祉センター", "category"] == "salon"
    assert acc.loc["特別養護老人ホームいずも苑", "target"] == "特別養護老人ホーム"
    assert len(acc) == 3
    assert list(result.rejected["P14_004"]) == ["いずもこども園"]
    assert "児童福祉施設" in result.rejected.loc[0, "reason"]


def test_p04_medical_within_polygon(tmp_path):
    muni = read_ksj_municipality(FIX / "N03-23_32.geojson", muni_code="32203").accepted
    result = read_ksj_medical(FIX / "P04-20_32.geojson", within=muni)
    assert sorted(result.accepted["name"]) == ["いずも内科クリニック", "えんや歯科", "出雲中央病院"]
    assert set(result.accepted["category"]) == {"medical"}
    assert set(result.accepted["target"]) == {"病院", "診療所", "歯科診療所"}
    assert any("範囲外の 1 件" in m for m in result.messages)


def test_ksj_folder_with_several_layers_asks_for_one(tmp_path):
    for name in ("A32-23_32.geojson", "N03-23_32.geojson"):
        shutil.copy(FIX / name, tmp_path / name)
    with pytest.raises(InputError, match="layer"):
        read_ksj_school_districts(tmp_path)
    assert len(read_ksj_school_districts(tmp_path, layer="A32").accepted) == 3
