"""e-Stat 小地域: the real 鳥取県 Shapefile (no .cpg), age tables, representative points."""

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from scgeo import InputError
from scgeo.crs import to_metric
from scgeo.io import (
    read_estat_age_table,
    read_estat_points,
    read_estat_town_blocks,
    town_blocks_from_points,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FIX = Path(__file__).resolve().parent / "fixtures" / "public"
TOTTORI = DATA / "estat_chome2015" / "31-tottori-all.shp"


@pytest.fixture(scope="module")
def tottori():
    if not TOTTORI.is_file():
        pytest.skip("shared data (../shared/data) is not available")
    return read_estat_town_blocks(TOTTORI)


def test_age_table_layout_sums_and_suppression():
    ages, messages = read_estat_age_table(FIX / "estat_age_31201.csv")
    row = ages.loc["31201068003"]
    bands = [10, 12, 14, 16, 15, 14, 13, 12, 11, 10, 12, 14, 16, 20, 25, 22, 18, 12, 7, 2, 0]
    assert row["pop_total"] == sum(bands)
    assert row["pop_65plus"] == sum(bands[13:]) == 106
    assert row["pop_75plus"] == sum(bands[15:]) == 61
    assert ages.loc["31201", "pop_total"] == 2100  # the city row (HYOSYO 1) is read too
    assert bool(ages.loc["312013640", "suppressed"]) and ages.loc["312013640", "pop_total"] == 0
    assert any("312013640→312012070" in m for m in messages)


def test_age_table_rejects_other_csv(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    with pytest.raises(InputError, match="KEY_CODE"):
        read_estat_age_table(path)


def test_tottori_real_shapefile_without_cpg(tottori):
    accepted, rejected = tottori
    raw = pyogrio.read_dataframe(TOTTORI, encoding="cp932", read_geometry=False)
    assert len(raw) == 2504
    water = raw["HCODE"] == 8154
    expected_ids = raw.loc[~water, "KEY_CODE"].nunique()
    assert len(accepted) == expected_ids == 2486 and len(rejected) == 0
    assert any("HCODE 8154" in m and "2 件" in m for m in tottori.messages)
    assert any(".cpg" in m for m in tottori.messages)
    names = set(accepted["name"])
    assert {"立川町3丁目", "双六原", "河原町牛戸"} <= names  # Japanese, not mojibake
    assert not accepted["name"].str.contains("[\u00c0-\u00ff\ufffd]").any()
    assert set(accepted["level"]) == {"town_block"}
    # dissolving parts keeps the land area: compare with the raw polygons minus water
    raw_geo = gpd.read_file(TOTTORI, encoding="cp932").set_crs(4612, allow_override=True)
    land = raw_geo[raw_geo["HCODE"] != 8154].to_crs(6668)
    assert to_metric(accepted, muni_code="31201").area.sum() == pytest.approx(
        to_metric(land, muni_code="31201").area.sum(), rel=1e-4)


def test_tottori_joined_to_age_table_for_one_city():
    if not TOTTORI.is_file():
        pytest.skip("shared data (../shared/data) is not available")
    result = read_estat_town_blocks(TOTTORI, ages=FIX / "estat_age_31201.csv", muni_code="31201")
    acc = result.accepted.set_index("area_id")
    assert acc.loc["31201068003", "name"] == "立川町3丁目"
    assert acc.loc["31201068003", "pop_65plus"] == 106
    assert acc.loc["312013640", "pop_total"] == 0  # suppressed: counted in 312012070
    assert "pop_total" in acc
    # every other 鳥取市 block has no row in the small table: rejected with the reason
    raw = pyogrio.read_dataframe(TOTTORI, encoding="cp932", read_geometry=False)
    city = raw[(raw["KEY_CODE"].str[:5] == "31201") & (raw["HCODE"] != 8154)]
    assert len(result.accepted) + len(result.rejected) == city["KEY_CODE"].nunique()
    assert result.rejected["reason"].str.contains("総人口").all()


@pytest.mark.parametrize("name,code", [("izumo_32203.csv", "32203"), ("omuta_40202.csv", "40202"),
                                       ("hirakata_27210.csv", "27210")])
def test_subset_points(name, code):
    path = DATA / "estat_chome2015" / "subsets" / name
    if not path.is_file():
        pytest.skip("shared data (../shared/data) is not available")
    points, messages = read_estat_points(path, muni_code=code)
    raw = pd.read_csv(path, dtype=str)
    outside = ~raw["KEY_CODE"].str.startswith(code)  # 出雲市 has one row with KEY_CODE "32"
    assert len(points) == ((raw["HCODE"] != "8154") & ~outside).sum()
    assert any("対象外" in m for m in messages) == bool(outside.any())
    raw = raw[~outside]
    assert points["KEY_CODE"].str[:5].eq(code).all()
    assert points.geometry.y.between(33, 36).all() and points.geometry.x.between(130, 136).all()
    assert points["JINKO"].sum() == pd.to_numeric(raw.loc[raw["HCODE"] != "8154", "JINKO"]).sum()


def test_town_blocks_from_points_tile_the_municipality():
    path = DATA / "estat_chome2015" / "subsets" / "izumo_32203.csv"
    if not path.is_file():
        pytest.skip("shared data (../shared/data) is not available")
    districts = gpd.read_file(DATA / "izumo" / "MiddleSchool.geojson").to_crs(6668)
    outline = shapely.make_valid(districts.union_all())
    result = town_blocks_from_points(path, clip=outline, muni_code="32203")
    blocks = result.accepted
    raw = pd.read_csv(path, dtype=str)
    raw = raw[raw["KEY_CODE"].str.startswith("32203") & (raw["HCODE"] != "8154")]
    assert len(blocks) == raw["KEY_CODE"].nunique()
    assert any("ボロノイ" in m for m in result.messages)
    # no gaps, no overlaps: the cells cover the outline exactly once
    metric = to_metric(blocks, muni_code="32203")
    outline_m = to_metric(gpd.GeoDataFrame(geometry=[outline], crs=6668), muni_code="32203")
    assert metric.area.sum() == pytest.approx(outline_m.area.sum(), rel=1e-6)
    assert metric.union_all().area == pytest.approx(outline_m.area.sum(), rel=1e-6)


def test_voronoi_cells_contain_their_own_points():
    path = DATA / "estat_chome2015" / "subsets" / "izumo_32203.csv"
    if not path.is_file():
        pytest.skip("shared data (../shared/data) is not available")
    districts = gpd.read_file(DATA / "izumo" / "MiddleSchool.geojson").to_crs(6668)
    outline = shapely.make_valid(districts.union_all())
    blocks = town_blocks_from_points(path, clip=outline, muni_code="32203").accepted
    points, _ = read_estat_points(path, muni_code="32203")
    inside = points[points.within(outline)]
    geoms = blocks.set_index("area_id").geometry.loc[inside["KEY_CODE"]].to_numpy()
    assert shapely.covers(geoms, inside.geometry.to_numpy()).all()
    assert len(inside) >= 0.95 * len(points)  # a few coastal points lie outside the districts
