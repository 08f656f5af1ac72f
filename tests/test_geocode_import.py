"""Importing tables of addresses without coordinates: sources, match levels, the 位置未確定 list,
--as-of, duplicates, messages that name the file and its Excel rows, `scgeo gazetteer`."""

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from scgeo import InputError, Workspace, io
from scgeo.cli import main
from scgeo.geocode import Gazetteer, default_source, geocoder_from_source, town_block_gazetteer
from scgeo.io.duplicates import apply_duplicate_choices, find_duplicates

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = ROOT / "data" / "boundaries" / "town_blocks.geojson"


@pytest.fixture
def ws(tmp_path):
    """A small workspace: the sample town's 53 town blocks, no resources."""
    ws = Workspace.create(tmp_path / "ws.gpkg", muni_code="99201", muni_name="さくら市")
    ws.import_result("town_blocks", io.read_town_blocks(BLOCKS))
    return ws


def _xlsx(path: Path, rows: list[dict], *, title: str | None = None) -> Path:
    frame = pd.DataFrame(rows)
    with pd.ExcelWriter(path) as writer:
        frame.to_excel(writer, index=False, startrow=2 if title else 0)
        if title:
            writer.sheets["Sheet1"].cell(row=1, column=1, value=title)
    return path


ROWS = [
    {"施設名": "本町サロン", "種別": "サロン", "住所": "さくら市本町12-3"},
    {"施設名": "中央三丁目カフェ", "種別": "認知症カフェ", "住所": "中央３丁目４番５号 中央ビル2F"},
    {"施設名": "どこかの会", "種別": "サロン", "住所": "さくら市どこにもない町1-1"},
    {"施設名": "遠くの会", "種別": "サロン", "住所": "東京都千代田区千代田1-1"},
    {"施設名": "座標つき", "種別": "サロン", "住所": "本町1", "緯度": "35.05", "経度": "141.06"},
    {"施設名": "種別なし", "種別": "宇宙旅行", "住所": "本町1"},
]


def test_town_blocks_is_the_default_source_and_levels_are_recorded(ws, tmp_path):
    assert default_source(ws) == "town-blocks"
    result = io.read_resources(_xlsx(tmp_path / "サロン一覧.xlsx", ROWS),
                               geocoder=geocoder_from_source("town-blocks", workspace=ws),
                               as_of="2025-04-01")
    acc = result.accepted.set_index("name")
    assert acc.loc["本町サロン", "match_level"] == "oaza" and acc.loc["本町サロン", "matched_address"] == "本町"
    assert acc.loc["中央三丁目カフェ", "match_level"] == "chome"
    assert acc.loc["中央三丁目カフェ", "matched_address"] == "中央三丁目"
    assert acc.loc["座標つき", "match_level"] == "source" and pd.isna(acc.loc["座標つき", "matched_address"])
    assert (acc["last_confirmed"] == pd.Timestamp("2025-04-01")).all()
    # the town block's own representative point, an independent lookup
    blocks = ws.areas("town_block").set_index("name")
    expected = blocks.loc["中央三丁目"].geometry.representative_point()
    assert acc.loc["中央三丁目カフェ"].geometry.distance(expected) < 1e-9
    # municipality-only and not found: neither accepted nor rejected, but 位置未確定
    pending = result.unplaced.set_index("name")
    assert set(pending.index) == {"どこかの会", "遠くの会"}
    assert pending.loc["どこかの会", "match_level"] == "municipality"
    assert pd.isna(pending.loc["遠くの会", "match_level"])
    assert list(pending["file_row"]) == [4, 5]  # Excel rows: the header is row 1
    assert list(result.rejected["file_row"]) == [7] and "宇宙旅行" in result.rejected.loc[0, "reason"]
    assert len(result.accepted) + len(result.unplaced) + len(result.rejected) == len(ROWS)


def test_cli_import_geocodes_keeps_unplaced_and_places_them(ws, tmp_path, capsys):
    path = _xlsx(tmp_path / "サロン一覧.xlsx", ROWS, title="令和7年度 サロン一覧")
    assert main(["import", str(ws.path), str(path), "--layer", "resources", "--as-of", "令和7年4月1日"]) == 0
    out = capsys.readouterr().out
    assert "位置未確定 2 件" in out and "除外 1 件" in out
    assert "6行目 どこかの会" in out  # a title row and a blank row above the header: Excel row 6
    assert "9行目: " in out
    assert ws.count("resources") == 3
    pending = ws.unplaced()
    assert len(pending) == 2 and set(pending["source"]) == {"サロン一覧.xlsx"}
    first, second = pending["unplaced_id"]
    assert main(["unplaced", str(ws.path), "--place", first, "--lat", "35.04", "--lon", "141.05"]) == 0
    block = ws.areas("town_block").iloc[0]
    assert main(["unplaced", str(ws.path), "--place", second, "--town-block", block["area_id"]]) == 0
    resources = ws.read("resources").set_index("name")
    assert resources.loc["どこかの会", "match_level"] == "manual"
    assert resources.loc["どこかの会"].geometry.coords[0] == pytest.approx((141.05, 35.04))
    assert resources.loc["遠くの会", "match_level"] == "chome"
    assert resources.loc["遠くの会", "matched_address"] == block["name"]
    assert resources.loc["遠くの会", "last_confirmed"] == pd.Timestamp("2025-04-01")
    assert not len(ws.unplaced())
    assert set(ws.edits()["action"]) >= {"place", "import:append"}


def test_missing_coordinates_message_names_the_file_and_cli_syntax(ws, tmp_path):
    path = _xlsx(tmp_path / "わが町の資源.xlsx", [{"施設名": "a", "種別": "サロン", "住所": "本町1"}])
    with pytest.raises(InputError) as err:
        io.read_resources(path)
    text = str(err.value)
    assert "わが町の資源.xlsx" in text and "--geocode town-blocks" in text and "{'" not in text
    path = _xlsx(tmp_path / "名前なし.xlsx", [{"何か": "a", "緯度": "35", "経度": "141"}])
    with pytest.raises(InputError, match=r"--mapping name=名称"):
        io.read_resources(path)


def test_save_geocode_makes_the_source_the_workspace_default(ws, tmp_path, capsys):
    gaz = tmp_path / "gaz.csv"
    pd.DataFrame({"city": ["さくら市"], "town": ["本町"], "lat": [35.06], "lon": [141.07]}).to_csv(gaz, index=False)
    path = _xlsx(tmp_path / "a.xlsx", ROWS[:1])
    assert main(["import", str(ws.path), str(path), "--layer", "resources", "--geocode",
                 f"gazetteer:{gaz}", "--save-geocode"]) == 0
    assert default_source(ws) == f"gazetteer:{gaz}"
    assert ws.read("resources").geometry.iloc[0].coords[0] == pytest.approx((141.07, 35.06))


def test_needs_are_geocoded_without_keeping_the_address(ws, tmp_path):
    path = _xlsx(tmp_path / "needs.xlsx", [
        {"整理番号": "N1", "種別": "配食", "相談日": "2025-05-01", "住所": "さくら市本町3-4"},
        {"整理番号": "N2", "種別": "配食", "相談日": "2025-05-01", "住所": "さくら市"}])
    result = io.read_needs(path, geocoder=town_block_gazetteer(ws))
    assert list(result.accepted["match_level"]) == ["oaza"]
    assert "address" not in result.accepted and "matched_address" not in result.accepted
    assert any("住所は位置を求めるためだけ" in m for m in result.messages)
    assert list(result.unplaced["feature_id"]) == ["N2"]
    with pytest.raises(InputError, match="個人情報"):
        io.read_needs(path, geocoder=geocoder_from_source("gsi:http://127.0.0.1:9/x"))



def test_a_needed_column_set_aside_as_personal_is_named_with_the_way_to_use_it(ws, tmp_path, capsys):
    """「相談内容種別」 holds 「相談内容」 (free text about a person): the column is not read, and the
    message for the missing 種別 says so and how to map it; mapped, the file imports."""
    path = _xlsx(tmp_path / "needs.xlsx", [
        {"整理番号": "N1", "相談内容種別": "配食", "受付日": "2025-05-01", "住所": "さくら市本町3-4"}])
    with pytest.raises(InputError) as err:
        io.read_needs(path, geocoder=town_block_gazetteer(ws))
    text = str(err.value)
    assert "整理番号, 相談内容種別, 受付日, 住所" in text  # every header of the file, those set aside included
    assert "うち 相談内容種別 は個人を特定できる列の名前を含むため読んでいません" in text and "--mapping" in text
    result = io.read_needs(path, geocoder=town_block_gazetteer(ws), mapping={"category": "相談内容種別"})
    assert list(result.accepted["category"]) == ["meal_delivery"]


def test_an_unknown_category_is_named_with_where_to_add_it(ws, tmp_path, capsys):
    path = _xlsx(tmp_path / "a.xlsx", [*ROWS[:1], {"施設名": "b", "種別": "体操教室", "住所": "さくら市本町1"},
                                       {"施設名": "c", "種別": "体操教室", "住所": "さくら市本町2"}])
    assert main(["import", str(ws.path), str(path), "--layer", "resources"]) == 0
    out = capsys.readouterr().out
    assert "カテゴリ一覧にない種別: 体操教室。" in out and "taxonomy_file" in out


def _points(names, xy, category="salon", address=None, level=None):
    return gpd.GeoDataFrame({"resource_id": [f"X{i}" for i in range(len(names))], "name": names,
                             "category": category, "address": address or [None] * len(names),
                             "match_level": level or ["source"] * len(names)},
                            geometry=[Point(x, y) for x, y in xy], crs="EPSG:6668")


def test_duplicates_against_workspace_and_within_file():
    old = _points(["社会福祉法人さくら会 本町サロン", "川端デイサービス"], [(141.0, 35.0), (141.01, 35.0)],
                  address=["本町1-1", "川端町2-3"])
    old["resource_id"] = ["R1", "R2"]
    new = _points(["本町サロン", "川端デイサービス", "全く別の会", "全く別の会", "本町サロンB"],
                  [(141.0002, 35.0), (141.02, 35.01), (141.05, 35.05), (141.05, 35.05), (141.0, 35.0001)],
                  address=["本町1-2", "川端町２－３", "栄町1", "栄町1", None])
    dups = find_duplicates(new, old, id_column="resource_id")
    # 本町サロン: 18 m from R1, same category, name similar once 社会福祉法人 is dropped
    assert dups.loc[0, "existing_id"] == "R1" and dups.loc[0, "kind"] == "near_similar_name"
    assert 15 < dups.loc[0, "distance_m"] < 21
    assert dups.loc[1, "existing_id"] == "R2" and dups.loc[1, "kind"] == "same_name_address"
    assert pd.isna(dups.loc[2, "kind"])
    assert dups.loc[3, "file_row"] == 2 and dups.loc[3, "existing_id"] is None
    # 11 m from R1 (「さくら会本町サロン」: not similar enough) and 19 m from row 0, which it contains
    assert dups.loc[4, "file_row"] == 0 and dups.loc[4, "existing_id"] is None
    add, update = apply_duplicate_choices(new, dups, ["update", "skip", "add", "update", "add"],
                                          id_column="resource_id")
    assert list(update["resource_id"]) == ["R1"] and list(update["name"]) == ["本町サロン"]
    assert list(add["name"]) == ["全く別の会", "本町サロンB"]  # the repeat in the file can only be skipped


def test_coarse_positions_are_not_compared_by_distance():
    new = _points(["みんなの居場所わかば", "みんなの居場所わかば2"], [(141.0, 35.0), (141.0, 35.0)],
                  level=["chome", "chome"])
    assert find_duplicates(new, None, id_column="resource_id")["kind"].isna().all()


def _brute_force_near(new, old, radius_m=30.0, min_similarity=0.75):
    """Every pair compared: the first earlier row of the category within radius_m with a similar name."""
    from scgeo.crs import to_metric
    from scgeo.io.duplicates import _similar, normalise_name

    both = pd.concat([old, new], ignore_index=True)
    xy = to_metric(both).geometry.get_coordinates().to_numpy()
    names = normalise_name(both["name"]).to_numpy()
    found = []
    for j in range(len(old), len(both)):
        earlier = [i for i in range(j) if both["category"][i] == both["category"][j]
                   and ((xy[i] - xy[j]) ** 2).sum() ** 0.5 <= radius_m and _similar(names[i], names[j], min_similarity)]
        found.append(earlier[0] if earlier else -1)
    return found


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6),
                          st.sampled_from(["さくらサロン", "さくらサロン2", "川端食堂", "川端サロン"]),
                          st.sampled_from(["salon", "shared_meal"])), min_size=1, max_size=14))
def test_near_duplicates_equal_a_brute_force_over_every_pair(rows):
    """Few rows within 30 m of each other (the usual case): the same answer as comparing every pair."""
    xy = [(141.0 + x * 0.0001, 35.0 + y * 0.0001) for x, y, _, _ in rows]  # 0.0001° ≈ 9–11 m
    points = _points([r[2] for r in rows], xy, category=[r[3] for r in rows])
    old, new = points.iloc[: len(points) // 3], points.iloc[len(points) // 3:].reset_index(drop=True)
    dups = find_duplicates(new, old.reset_index(drop=True), id_column="resource_id")
    got = [(-1 if k is None else (int(f) + len(old) if f is not None else
                                  int(old.index[old["resource_id"] == e][0])))
           for k, f, e in zip(dups["kind"], dups["file_row"], dups["existing_id"], strict=True)]
    near = [g if k != "same_name_address" else None for g, k in zip(got, dups["kind"], strict=True)]
    expected = _brute_force_near(new, old.reset_index(drop=True))
    assert [n for n in near if n is not None] == [e for e, n in zip(expected, near, strict=True) if n is not None]


def test_thousands_of_rows_at_one_point_are_compared_with_their_earliest_neighbours():
    """20,000 rows on one 番地 (a list geocoded to one point): bounded work, the repeats still found."""
    n = 20000
    names = [f"サロン{i:05d}" for i in range(n)]
    names[3] = names[19000] = "みどり会サロン"  # a repeat far down the list of an early row
    new = _points(names, [(141.0, 35.0)] * n)
    dups = find_duplicates(new, None, id_column="resource_id")
    assert dups.loc[19000, "file_row"] == 3 and dups.loc[19000, "kind"] == "near_similar_name"
    assert (dups["file_row"].dropna().astype(int) < dups["file_row"].dropna().index).all()
    # サロン00001 … サロン00016 nearly equal サロン00000: all found
    assert (dups.loc[[1, 2, *range(4, 17)], "file_row"] == 0).all() and pd.isna(dups.loc[3, "kind"])


def test_update_existing_through_the_cli(ws, tmp_path, capsys):
    path = _xlsx(tmp_path / "a.xlsx", [{"施設名": "本町サロン", "種別": "サロン", "住所": "本町12-3",
                                        "定員": "10"}])
    assert main(["import", str(ws.path), str(path), "--layer", "resources"]) == 0
    again = _xlsx(tmp_path / "b.xlsx", [{"施設名": "本町サロン", "種別": "サロン", "住所": "本町１２－３",
                                         "定員": "20"}])
    assert main(["import", str(ws.path), str(again), "--layer", "resources"]) == 0  # default: skip
    assert ws.count("resources") == 1 and ws.read("resources")["capacity"].iloc[0] == 10
    assert main(["import", str(ws.path), str(again), "--layer", "resources", "--on-duplicate", "update"]) == 0
    assert "重複の可能性がある行 1 件" in capsys.readouterr().out
    resources = ws.read("resources")
    assert len(resources) == 1 and resources["capacity"].iloc[0] == 20
    assert ((ws.edits()["field"] == "capacity") & (ws.edits()["new_value"] == "20")).any()


MLIT_BLOCK_HEADER = ["都道府県名", "市区町村名", "大字・丁目名", "小字・通称名", "街区符号・地番", "座標系番号",
                     "Ｘ座標", "Ｙ座標", "緯度", "経度", "住居表示フラグ", "代表フラグ", "更新前履歴フラグ",
                     "更新後履歴フラグ"]
MLIT_TOWN_HEADER = ["都道府県コード", "都道府県名", "市区町村コード", "市区町村名", "大字町丁目コード",
                    "大字町丁目名", "緯度", "経度", "原典資料コード", "大字・字・丁目区分コード"]


def test_gazetteer_command_from_mlit_csv(tmp_path, capsys):
    blocks = tmp_path / "37000-21.0a_2022.csv"
    rows = [["香川県", "高松市", "番町一丁目", "", "8", "4", "0", "0", "34.3404", "134.0466", "1", "1", "0", "0"],
            ["香川県", "木田郡三木町", "大字池戸", "", "3000", "4", "0", "0", "34.2700", "134.1300", "0", "1",
             "0", "0"]]
    blocks.write_bytes("\n".join(",".join(f'"{c}"' for c in r) for r in [MLIT_BLOCK_HEADER, *rows]).encode("cp932"))
    towns = tmp_path / "37000-16.0b_2022.csv"
    rows = [["37", "香川県", "37201", "高松市", "372010001001", "番町一丁目", "34.3400", "134.0460", "1", "3"],
            ["37", "香川県", "37201", "高松市", "372010002000", "鶴市町", "34.3100", "134.0100", "1", "0"]]
    towns.write_bytes("\n".join(",".join(r) for r in [MLIT_TOWN_HEADER, *rows]).encode("cp932"))
    out = tmp_path / "kagawa.csv"
    assert main(["gazetteer", str(out), str(towns), str(blocks)]) == 0
    assert "街区・番地 2 件" in capsys.readouterr().out
    gaz = geocoder_from_source(f"gazetteer:{out}")
    found = gaz.geocode(["香川県高松市番町１丁目８番１５号 高松市役所", "高松市番町一丁目99",
                         "三木町池戸3000番地の1", "香川県木田郡三木町大字池戸3000", "高松市鶴市町2-1",
                         "高松市どこか"])
    assert list(found["level"]) == ["街区", "町丁目", "番地", "番地", "大字", "市区町村"]
    assert found.loc[0, "lat"] == 34.3404 and found.loc[0, "matched"] == "番町一丁目8番"
    assert found.loc[1, "lat"] == 34.34  # the town's own point from the 大字・町丁目 file


def test_unknown_source_is_an_input_error(ws):
    with pytest.raises(InputError, match="town-blocks"):
        geocoder_from_source("shapefile:x", workspace=ws)
    empty = Workspace.create(ws.path.with_name("e.gpkg"), muni_code="99201")
    with pytest.raises(InputError, match="町丁目"):
        geocoder_from_source("town-blocks", workspace=empty)
    assert default_source(empty) is None


def test_vectorised_matcher_equals_the_per_row_loop(ws):
    gaz = town_block_gazetteer(ws)
    names = ws.areas("town_block")["name"].tolist()
    addresses = [f"{'さくら市' if i % 2 else ''}{n}{i % 9 + 1}-{i % 4 + 1}" for i, n in enumerate(names)]
    addresses += ["", "さくら市", "架空市本町1", "本町", "大字本町5番地の2 ビル", None]
    fast, slow = gaz.geocode(addresses), gaz.geocode_each(addresses)
    pd.testing.assert_frame_equal(fast, slow)
    assert isinstance(gaz, Gazetteer)
