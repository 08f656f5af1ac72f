"""Municipal files: 高松市 lists and age tables (clean and garbled), 介護サービス情報公表,
自治体標準オープンデータセット with geocoding."""

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from scgeo import InputError
from scgeo.geocode import Gazetteer
from scgeo.io import read_age_table, read_care_services, read_facility_list
from scgeo.io.municipal import garbled_mask

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FIX = Path(__file__).resolve().parent / "fixtures" / "public"
TAKAMATSU = DATA / "takamatsu"


def _taka(rel: str) -> Path:
    path = TAKAMATSU / rel
    if not path.is_file():
        pytest.skip("shared data (../shared/data) is not available")
    return path


def test_garbled_mask_recognises_mojibake():
    text = "特別養護老人ホーム"
    cells = pd.Series([
        text,                                              # clean
        "塩上町１丁目",                                     # clean, full-width digits
        "Sunrise 町 1-2",                                  # clean, latin
        text.encode("utf-8").decode("cp932", errors="replace"),  # UTF-8 read as cp932
        text.encode("utf-8").decode("latin-1"),            # UTF-8 read as latin-1
        "������",                                          # bytes lost
        "高松市".encode("cp932").decode("utf-8", errors="replace"),  # cp932 read as UTF-8
        None,
    ])
    assert garbled_mask(cells).tolist() == [False, False, False, True, True, True, True, False]


def test_takamatsu_comprehensive_support_centres_are_consultation():
    result = read_facility_list(_taka("regional_comprehensive_support_center/data.xlsx"))
    raw = pd.read_excel(_taka("regional_comprehensive_support_center/data.xlsx"))
    assert len(result.accepted) == len(raw) == 7 and len(result.rejected) == 0
    assert set(result.accepted["category"]) == {"consultation"}
    assert result.accepted["contact"].str.match(r"^087-").all()


@pytest.mark.parametrize("name", ["data.csv", "data.xlsx"])
def test_takamatsu_elderly_facilities_with_capacity(name):
    path = _taka(f"elderly_welfare_facility/{name}")
    result = read_facility_list(path)
    raw = pd.read_excel(_taka("elderly_welfare_facility/data.xlsx"))
    assert len(result.accepted) == len(raw) and set(result.accepted["category"]) == {"care_service"}
    acc = result.accepted.set_index("name")
    assert acc.loc["特別養護老人ホーム シオンの丘ホーム", "capacity"] == 70
    assert acc["capacity"].sum() == pd.to_numeric(raw["capacity"]).sum()
    assert acc["notes"].str.startswith("種別: ").all()


def test_single_kind_file_needs_a_category():
    path = _taka("community_center/data.xlsx")
    result = read_facility_list(path)
    assert len(result.accepted) == 0 and len(result.rejected) == 52
    assert result.rejected["reason"].str.contains("category=").all()
    named = read_facility_list(path, category="salon")
    assert len(named.accepted) == 52 and set(named.accepted["category"]) == {"salon"}


def test_care_service_open_data_fixture():
    result = read_care_services(FIX / "kaigo_kohyo_32203.csv")
    acc = result.accepted.set_index("resource_id")
    assert list(acc.index) == ["3270100011:訪問介護", "3270100029:通所介護", "3270100037:通所介護"]
    assert set(acc["category"]) == {"care_service"}
    assert acc.loc["3270100011:訪問介護", "notes"] == "種別: 訪問介護"  # service type in notes
    assert acc.loc["3270100029:通所介護", "capacity"] == 25
    assert list(acc["provider_type"]) == ["social_welfare_corp", "company", "npo"]
    assert list(result.rejected["事業所名"]) == ["居宅介護支援事業所たいしゃ"]  # no coordinates
    assert "座標" in result.rejected.loc[0, "reason"]


def test_care_service_rows_without_coordinates_are_geocoded():
    path = DATA / "geolonia_addresses" / "島根県_出雲市.json"
    if not path.is_file():
        pytest.skip("shared data (../shared/data) is not available")
    result = read_care_services(FIX / "kaigo_kohyo_32203.csv", geocoder=Gazetteer.from_file(path))
    assert len(result.accepted) == 4 and len(result.rejected) == 0
    row = result.accepted.set_index("name").loc["居宅介護支援事業所たいしゃ"]
    assert "位置: 大字レベル" in row["notes"]
    assert row.geometry.y == pytest.approx(35.39, abs=0.01)
    # rows that had coordinates keep them
    first = result.accepted.set_index("name").loc["ヘルパーステーションいずも"]
    assert (first.geometry.y, first.geometry.x) == (35.3551, 132.7551)


def test_standard_dataset_list_geocoded_with_levels():
    path = DATA / "geolonia_addresses" / "島根県_出雲市.json"
    if not path.is_file():
        pytest.skip("shared data (../shared/data) is not available")
    result = read_facility_list(FIX / "kaigo_jigyosho_32203.csv", geocoder=Gazetteer.from_file(path))
    acc = result.accepted.set_index("name")
    assert acc.loc["地域包括支援センターいずも", "category"] == "consultation"
    assert acc.loc["さくら小規模多機能ホーム", "category"] == "care_service"
    levels = acc["notes"].str.extract(r"位置: (\S+?)レベル")[0]
    assert levels.to_dict() == {
        "地域包括支援センターいずも": "町丁目", "医大南デイサービス": "町丁目",
        "朝山ヘルパーステーション": "大字", "さくら小規模多機能ホーム": "町丁目",
        "大津新崎グループホーム": "町丁目", "駅南ショートステイ": "町丁目",
        "稲岡訪問看護ステーション": "大字"}
    assert set(acc["match_level"]) == {"chome", "oaza"}
    # found only at municipality level: 位置未確定, not on the city's centre
    assert list(result.unplaced["name"]) == ["所在不明のデイサービス"]
    assert list(result.unplaced["match_level"]) == ["municipality"]
    assert any("位置未確定" in m for m in result.messages)


# ---------------------------------------------------------------- 町丁目 × 年齢


def _blocks_from_points(path: Path) -> gpd.GeoDataFrame:
    """Town blocks named the e-Stat way (「塩上町1丁目」) around the table's own points."""
    raw = pd.read_excel(path)
    lat, lon = raw["location"].str.split(",", expand=True).astype(float).T.to_numpy()
    names = raw["regionName"].str.normalize("NFKC")
    return gpd.GeoDataFrame({"area_id": [f"T{i:04d}" for i in range(len(raw))], "name": names},
                            geometry=shapely.buffer(shapely.points(lon, lat), 0.001), crs=6668)


def test_takamatsu_age_table_clean():
    path = _taka("population/0066_202602.xlsx")
    blocks = _blocks_from_points(path)
    blocks.loc[blocks["name"] == "塩屋町", "name"] = "塩屋町"  # spelled as in the table
    result = read_age_table(path, blocks=blocks)
    raw = pd.read_excel(path)
    assert len(raw) == 235
    assert len(result.accepted) == 235 and len(result.rejected) == 0
    men = [f"man{i}" for i in range(14, 19)]
    women = [f"woman{i}" for i in range(14, 19)]
    assert result.accepted["pop_65plus"].sum() == raw[men + women].to_numpy().sum()
    assert result.accepted["pop_75plus"].sum() == raw[men[2:] + women[2:]].to_numpy().sum()
    assert result.accepted["pop_total"].sum() == raw["totalPopulation"].sum()
    row = result.accepted.set_index("name").loc["塩屋町"]
    assert (row["pop_total"], row["pop_65plus"], row["pop_75plus"]) == (402, 84, 40)


def test_age_table_joins_on_normalised_names():
    path = _taka("population/0066_202602.xlsx")
    blocks = _blocks_from_points(path)
    raw_names = set(pd.read_excel(path)["regionName"])
    assert "塩上町１丁目" in raw_names  # the file writes full-width digits
    blocks["name"] = blocks["name"].str.replace("1丁目", "一丁目").str.replace("2丁目", "二丁目")
    result = read_age_table(path, blocks=blocks)
    assert len(result.accepted) == 235
    assert "塩上町一丁目" in set(result.accepted["name"])


def test_age_table_unmatched_names_are_listed():
    path = _taka("population/0066_202602.xlsx")
    blocks = _blocks_from_points(path).iloc[:10]
    result = read_age_table(path, blocks=blocks)
    assert len(result.accepted) == 10 and len(result.rejected) == 225
    assert result.rejected["reason"].str.contains("対応する町丁目の区域がありません").all()


def test_takamatsu_garbled_age_table_is_rejected():
    clean = _taka("population/0066_202602.xlsx")
    garbled = _taka("population/0066_202304.xlsx")
    with pytest.raises(InputError, match="文字化け") as info:
        read_age_table(garbled, blocks=_blocks_from_points(clean))
    assert "235/235" in str(info.value)
