"""``scgeo recipe`` + ``scgeo build --recipe`` on files shaped like a city's own (generated here).

A made-up city in 長野県 (code 20202, plane zone VIII): 中学校区 in a Shapefile with generic
headers ``item1 … item5`` in EPSG:2450 (cp932, no .cpg), 小学校区 as GeoJSON, an e-Stat-style
attribute table for the whole prefecture (total population only), a 要配慮者利用施設 list mixing
elderly, children's, disability and school facilities (cp932, multi-line cells, several types in
one cell) and a 公民館 list. No 日常生活圏域.
"""

import json
import tomllib

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from scgeo import Workspace
from scgeo.builder import build
from scgeo.cli import main
from scgeo.io.categories import categorise_frame, read_review, review_path
from scgeo.io.recipe import make_recipe, parse_recipe, read_recipe, recipe_toml

CODE = "20202"
X0, Y0 = 137.90, 36.20  # lon/lat of the south-west corner
STEP = 0.05  # degrees per school-district column / row


def _grid(nx: int, ny: int, step: float) -> list[shapely.Polygon]:
    return [shapely.box(X0 + i * step, Y0 + j * step, X0 + (i + 1) * step, Y0 + (j + 1) * step)
            for j in range(ny) for i in range(nx)]


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """The city's folder of files, and the expected numbers."""
    root = tmp_path_factory.mktemp("city")
    data = root / "opendata"
    data.mkdir()
    # 中学校区: 2 × 2 squares, generic headers, plane zone VIII (EPSG:2450), cp932, no .cpg
    jhs = gpd.GeoDataFrame({"item1": [1, 2, 3, 4], "item2": ["20202"] * 4,
                            "item3": ["東中学校", "西中学校", "南中学校", "北中学校"],
                            "item4": ["市立"] * 4, "item5": ["備考なし"] * 4},
                           geometry=_grid(2, 2, STEP), crs=6668).to_crs(2450)
    jhs.to_file(data / "tyugakkouku.shp", encoding="cp932")
    (data / "tyugakkouku.cpg").unlink(missing_ok=True)
    # 小学校区: 4 × 4 squares, GeoJSON, names in column 名称 ending in 小学校区
    es = gpd.GeoDataFrame({"no": range(1, 17), "名称": [f"第{i}小学校区" for i in range(1, 17)]},
                          geometry=_grid(4, 4, STEP / 2), crs=6668)
    es.to_file(data / "shogakkoku.geojson", driver="GeoJSON")
    # e-Stat-style table for the prefecture: KEY_CODE, JINKO, X_CODE/Y_CODE (no ages)
    rng = np.random.default_rng(3)
    xs = X0 + STEP * 2 * rng.random(40)
    ys = Y0 + STEP * 2 * rng.random(40)
    keys = [f"{CODE}{i:04d}00" for i in range(40)]
    jinko = rng.integers(50, 900, 40)
    other = pd.DataFrame({"KEY_CODE": [f"20201{i:04d}00" for i in range(5)], "KEN": "20", "CITY": "201",
                          "MOJI": [f"他町{i}" for i in range(5)], "HCODE": "8101", "JINKO": 100,
                          "X_CODE": 138.2, "Y_CODE": 36.6})
    table = pd.DataFrame({"KEY_CODE": keys, "KEN": "20", "CITY": "202",
                          "MOJI": [f"本町{i}丁目" for i in range(40)], "HCODE": "8101", "JINKO": jinko,
                          "X_CODE": xs.round(5), "Y_CODE": ys.round(5)})
    pd.concat([table, other]).to_csv(data / "h27ka20.csv", index=False, encoding="cp932")
    # 要配慮者利用施設: the city's own classification columns, cp932, a multi-line cell
    facilities = pd.DataFrame({
        "施設名称": ["さくらデイサービス", "ひまわり放課後等デイサービス", "あおぞら保育園", "東小学校",
                 "(※休止)もみじの家", "地域包括支援センター東", "障害者支援施設つばさ", "みどり診療所",
                 "ケアハウスゆうゆう", "グループホームこもれび"],
        "区分": ["高齢者施設", "児童施設", "児童施設", "学校", "高齢者施設", "高齢者施設", "障害者施設",
               "医療施設", "高齢者施設", "障害者施設"],
        "地域防災計画分類": ["通所介護、短期入所生活介護", "放課後等デイサービス", "保育所", "小学校",
                     "通所介護", "相談\n窓口", "生活介護", "診療所", "軽費老人ホーム", "共同生活援助"],
        "所在地": ["本町1丁目"] * 10,
        "緯度": (Y0 + 0.01 * np.arange(1, 11)).round(5), "経度": (X0 + 0.008 * np.arange(1, 11)).round(5),
    })
    facilities.to_csv(data / "youhairyo.csv", index=False, encoding="cp932")
    # 公民館の一覧
    venues = pd.DataFrame({"名称": ["中央公民館", "東町集会所", "西部地域交流センター", "福祉会館"],
                           "住所": ["本町"] * 4, "収容人数": [120, 30, 80, 60],
                           "緯度": [36.21, 36.22, 36.23, 36.24], "経度": [137.91, 137.92, 137.93, 137.94]})
    venues.to_excel(data / "kouminkan.xlsx", index=False)
    (data / "readme.txt").write_text("このフォルダは市のオープンデータです\n", encoding="utf-8")
    return {"root": root, "data": data, "jinko": int(jinko.sum()), "blocks": 40}


@pytest.fixture(scope="module")
def recipe_file(city):
    out = city["root"] / "recipe.toml"
    assert main(["recipe", str(city["data"]), "--muni-code", CODE, "--name", "テスト市", "--out", str(out)]) == 0
    return out


def _inputs(recipe):
    return {item.path.name: item for item in recipe.inputs}


def test_recipe_guesses_every_file_with_reasons(recipe_file, capsys):
    recipe = read_recipe(recipe_file)
    inputs = _inputs(recipe)
    assert recipe.muni_code == CODE and recipe.name == "テスト市"
    jhs = inputs["tyugakkouku.shp"]
    assert (jhs.role, jhs.options["level"], jhs.options["name_column"]) == ("boundary", "jhs_district", "item3")
    assert jhs.options["crs"] == "EPSG:2450" and jhs.options["encoding"] == "cp932"
    es = inputs["shogakkoku.geojson"]
    assert (es.role, es.options["level"], es.options["name_column"]) == ("boundary", "es_district", "名称")
    table = inputs["h27ka20.csv"]
    assert (table.role, table.options["format"]) == ("population", "estat_points")
    assert table.options["filter"] == {"column": "KEY_CODE", "kind": "prefix", "value": CODE}
    assert inputs["youhairyo.csv"].role == "resources"
    assert inputs["kouminkan.xlsx"].role == "venues"
    assert inputs["readme.txt"].role == "unknown"  # listed, never skipped silently
    text = recipe_file.read_text(encoding="utf-8")
    assert "# 理由: 列 item3 の値の 100% が「中学校区」らしい名前で終わります" in text
    assert "JGD2000" in text or "2450" in text
    tomllib.loads(text)  # valid TOML


def test_recipe_summary_is_printed_in_japanese(city, tmp_path, capsys):
    out = tmp_path / "r.toml"
    assert main(["recipe", str(city["data"]), "--muni-code", CODE, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "役割" in printed and "区域の境界" in printed and "不明なファイル 1 件" in printed
    assert "readme.txt" in printed


def test_build_from_recipe(city, recipe_file, tmp_path, capsys):
    ws_path = tmp_path / "test.gpkg"
    assert main(["build", str(ws_path), "--recipe", str(recipe_file), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    ws = Workspace.open(ws_path)
    info = ws.info()
    assert info["area_levels"] == {"municipality": 1, "jhs_district": 4, "es_district": 16, "town_block": 40}
    assert "living_area" not in info["area_levels"]  # no 圏域: nothing invented
    for entry in report["inputs"]:
        assert entry["rows"] == entry["accepted"] + entry["rejected"], entry
        assert set(entry) >= {"path", "role", "rows", "accepted", "rejected", "warnings"}
    by_name = {e["path"].rsplit("/", 1)[-1]: e for e in report["inputs"]}
    # the plane-rectangular layer landed where the squares are (EPSG:2450 → 6668)
    jhs = ws.areas("jhs_district").set_index("name")
    assert jhs.loc["東中学校"].geometry.centroid.x == pytest.approx(X0 + STEP / 2, abs=1e-4)
    assert jhs.loc["東中学校"].geometry.centroid.y == pytest.approx(Y0 + STEP / 2, abs=1e-4)
    # municipality = union of the finest complete district layer (小学校区)
    muni = ws.areas("municipality").geometry.iloc[0]
    assert muni.area == pytest.approx((2 * STEP) ** 2, rel=1e-6)
    # total-only population: stored as given, 65+ unknown
    blocks = ws.town_blocks()
    assert blocks["pop_total"].sum() == city["jinko"]
    assert blocks["pop_65plus"].isna().all() and blocks["pop_75plus"].isna().all()
    assert ws.meta()["population_basis"] == "total" and report["population_basis"] == "total"
    assert ws.meta()["town_blocks_from"] == "voronoi"
    assert any("ボロノイ" in w for w in by_name["h27ka20.csv"]["warnings"])
    # Voronoi cells tile the municipality
    assert shapely.union_all(blocks.geometry.to_numpy()).area == pytest.approx(muni.area, rel=1e-6)
    assert by_name["h27ka20.csv"]["accepted"] == 40
    # venues are their own layer, not services
    assert ws.count("venues") == 4 and by_name["kouminkan.xlsx"]["accepted"] == 4
    assert set(ws.read("venues")["kind"]) == {"kominkan", "shukaijo", "koryu_center", "fukushi_kaikan"}
    assert ws.read("venues").set_index("name").loc["中央公民館", "capacity"] == 120
    assert set(ws.read("venues")["area_id"]) <= set(blocks["area_id"])  # the town block it lies in


def test_categories_are_specific_and_out_of_scope_is_rejected(recipe_file, tmp_path, capsys):
    ws_path = tmp_path / "cat.gpkg"
    report = build(read_recipe(recipe_file), ws_path)
    resources = Workspace.open(ws_path).read("resources").set_index("name")
    assert resources["category"].to_dict() == {
        "さくらデイサービス": "care_service", "(※休止)もみじの家": "care_service",
        "地域包括支援センター東": "consultation", "みどり診療所": "medical",
        "ケアハウスゆうゆう": "care_service"}
    assert resources.loc["(※休止)もみじの家", "status"] == "paused"
    assert resources.loc["さくらデイサービス", "status"] == "active"
    entry = next(e for e in report.inputs if e.path.endswith("youhairyo.csv"))
    assert (entry.rows, entry.accepted, entry.rejected) == (10, 5, 5)
    rejected = pd.read_csv(next(p for p in report.rejected_files if p.endswith("youhairyo.csv")))
    assert set(rejected["施設名称"]) == {"ひまわり放課後等デイサービス", "あおぞら保育園", "東小学校",
                                      "障害者支援施設つばさ", "グループホームこもれび"}
    assert rejected["reason"].str.startswith("高齢者の生活支援の対象外の種別").all()
    assert report.categories["excluded"] == 5
    # the review file lists every type text with its category and count ...
    review = read_review(review_path(ws_path))
    assert review["放課後等デイサービス"] == "対象外" and review["通所介護"] == "care_service"
    assert "# 2 件" in review_path(ws_path).read_text(encoding="utf-8")  # 通所介護 twice
    # ... and the next build reads it after the coordinator edited it
    text = review_path(ws_path).read_text(encoding="utf-8")
    review_path(ws_path).write_text(text.replace('"共同生活援助" = "対象外"', '"共同生活援助" = "相談窓口"'),
                                    encoding="utf-8")
    build(read_recipe(recipe_file), ws_path, force=True)
    again = Workspace.open(ws_path).read("resources").set_index("name")
    assert again.loc["グループホームこもれび", "category"] == "consultation"
    assert len(again) == 6


def test_dayservice_for_children_is_never_care():
    frame = pd.DataFrame({"名称": ["A", "B", "C", "D"],
                          "サービス種類": ["放課後等デイサービス", "デイサービス", "重度訪問介護", "訪問介護"]})
    guess = categorise_frame(frame, name_column="名称")
    assert guess.category.tolist() == [None, "care_service", None, "care_service"]
    assert guess.excluded.tolist() == [True, False, True, False]


def test_aging_rate_estimates_and_is_marked(recipe_file, city, tmp_path):
    recipe = read_recipe(recipe_file)
    recipe.options["aging_rate"] = 0.3
    ws_path = tmp_path / "est.gpkg"
    report = build(recipe, ws_path)
    ws = Workspace.open(ws_path)
    assert ws.meta()["population_basis"] == "estimated" and ws.meta()["aging_rate"] == "0.3"
    blocks = ws.town_blocks()
    expected = (blocks["pop_total"].astype(float) * 0.3).round()
    assert (blocks["pop_65plus"].astype(float) == expected).all()
    assert report.population["pop_65plus"] == int(expected.sum())
    assert any("推計" in n for n in report.notes)


def test_recipe_round_trip_and_errors(recipe_file):
    recipe = read_recipe(recipe_file)
    again = parse_recipe(recipe_toml(recipe))
    assert [(i.path, i.role, i.options) for i in again.inputs] == [
        (i.path, i.role, i.options) for i in recipe.inputs]
    with pytest.raises(Exception, match="role"):
        parse_recipe('[city]\nmuni_code = "20202"\n[[input]]\npath = "a.csv"\nrole = "what"\n')
    with pytest.raises(Exception, match="aging_rate"):
        parse_recipe('[city]\nmuni_code = "20202"\naging_rate = 30\n')


def test_failed_build_leaves_nothing_and_previous_file_identical(recipe_file, tmp_path, monkeypatch):
    from scgeo import workspace

    ws_path = tmp_path / "tx.gpkg"
    original = workspace.Transaction.write

    def failing(self, name, frame):
        if name == "resources":
            raise RuntimeError("disk full (simulated)")
        return original(self, name, frame)

    recipe = read_recipe(recipe_file)
    monkeypatch.setattr(workspace.Transaction, "write", failing)
    with pytest.raises(RuntimeError):
        build(recipe, ws_path)
    # no workspace, no scratch file, no rejected files (only the hidden lock folder, empty of copies)
    assert [p for p in tmp_path.iterdir() if p.name != ".tx.gpkg.scgeo"] == []
    assert not list(tmp_path.glob(".tx.gpkg.scgeo/*.tmp.gpkg"))
    monkeypatch.setattr(workspace.Transaction, "write", original)
    build(recipe, ws_path)
    before = ws_path.read_bytes()
    monkeypatch.setattr(workspace.Transaction, "write", failing)
    with pytest.raises(RuntimeError):
        build(recipe, ws_path, force=True)
    assert ws_path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".gpkg" and p != ws_path]


def test_build_refuses_to_overwrite_and_bad_input_exits_2(recipe_file, tmp_path, capsys):
    ws_path = tmp_path / "x.gpkg"
    ws_path.write_bytes(b"old")
    assert main(["build", str(ws_path), "--recipe", str(recipe_file)]) == 2
    assert "--force" in capsys.readouterr().err and ws_path.read_bytes() == b"old"
    bad = tmp_path / "bad.toml"
    bad.write_text('[city]\nmuni_code = "20202"\n[[input]]\npath = "missing.csv"\nrole = "resources"\n',
                   encoding="utf-8")
    assert main(["build", str(tmp_path / "y.gpkg"), "--recipe", str(bad)]) == 2
    assert "missing.csv" in capsys.readouterr().err and not (tmp_path / "y.gpkg").exists()


def test_plain_age_table_and_facility_config_from_the_recipe(city, recipe_file, tmp_path):
    from importlib.resources import files

    from scgeo.io._inspect import inspect_file
    from scgeo.io.recipe import classify

    # a plain table of 65+ / 75+ per 町丁目, by name (the city's own, not e-Stat)
    rng = np.random.default_rng(5)
    old = rng.integers(10, 200, 40)
    plain = pd.DataFrame({"町丁名": [f"本町{i}丁目" for i in range(40)], "65歳以上": old, "75歳以上": old // 2})
    plain.to_csv(tmp_path / "koureisha.csv", index=False, encoding="utf-8-sig")
    guess = classify(inspect_file(tmp_path / "koureisha.csv"), muni_code=CODE)
    assert (guess.role, guess.options["format"], guess.options["name_column"]) == ("population", "plain", "町丁名")
    # the city's copy of the category rules: 診療所 counted as a 居場所 (their choice)
    bundled = files("scgeo").joinpath("data/facility_categories.toml").read_text("utf-8")
    config = tmp_path / "rules.toml"
    first = '[[rules]]\nmatch = ["診療所"]\ncategory = "salon"\n\n# [[rules]]:'
    config.write_text(bundled.replace("# [[rules]]:", first, 1), encoding="utf-8")
    text = recipe_file.read_text(encoding="utf-8").replace(
        "# aging_rate = 0.30", f'facility_config = "{config}"')
    text += f'\n[[input]]\npath = "{tmp_path / "koureisha.csv"}"\nrole = "population"\n'
    text += "".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in guess.options.items()
                    if isinstance(v, str))
    recipe = parse_recipe(text, base=recipe_file.parent)
    ws_path = tmp_path / "plain.gpkg"
    report = build(recipe, ws_path)
    ws = Workspace.open(ws_path)
    blocks = ws.town_blocks()
    assert ws.meta()["population_basis"] == "age"
    assert blocks["pop_65plus"].sum() == old.sum() and blocks["pop_75plus"].sum() == (old // 2).sum()
    assert blocks["pop_total"].sum() == city["jinko"]  # the total still from the e-Stat table
    entry = next(e for e in report.inputs if e.path.endswith("koureisha.csv"))
    assert (entry.rows, entry.accepted, entry.rejected) == (40, 40, 0)
    resources = ws.read("resources").set_index("name")
    assert resources.loc["みどり診療所", "category"] == "salon"


def test_every_format_is_looked_at(city, tmp_path):
    import zipfile

    data = city["data"]
    with zipfile.ZipFile(tmp_path / "tyugakku.zip", "w") as archive:  # a zipped Shapefile
        for part in data.glob("tyugakkouku.*"):
            archive.write(part, part.name)
    groups = gpd.GeoDataFrame({"名称": ["一区自治会", "二区自治会", "三区自治会"]},
                              geometry=_grid(3, 1, STEP / 3), crs=6668)
    groups.to_file(tmp_path / "groups.gpkg", layer="jichikai", driver="GPKG")
    pd.read_csv(data / "youhairyo.csv", encoding="cp932").to_csv(tmp_path / "list.tsv", sep="\t", index=False)
    dbf = tmp_path / "table.dbf"
    dbf.write_bytes((data / "tyugakkouku.dbf").read_bytes())  # a .dbf on its own
    recipe = make_recipe([tmp_path], muni_code=CODE)
    got = {i.path.name: (i.role, i.options.get("level")) for i in recipe.inputs}
    assert got["tyugakku.zip"] == ("boundary", "jhs_district")
    assert got["groups.gpkg"] == ("boundary", "community")  # another grouping: 地区・自治会
    assert got["list.tsv"] == ("resources", None)
    assert got["table.dbf"][0] in ("reference", "unknown")  # a bare attribute table: names, no position
    zipped = next(i for i in recipe.inputs if i.path.name == "tyugakku.zip")
    assert zipped.options["crs"] == "EPSG:2450" and zipped.options["encoding"] == "cp932"
    assert recipe.name == "松本市"  # from the national code table


def test_city_own_town_blocks_with_population_columns(tmp_path):
    names = [f"栄町{i}丁目" for i in range(1, 10)]
    blocks = gpd.GeoDataFrame({"町丁名": names, "総人口": range(100, 1000, 100), "65歳以上": range(30, 300, 30)},
                              geometry=_grid(3, 3, STEP / 3), crs=6668)
    blocks.to_file(tmp_path / "chome.geojson", driver="GeoJSON")
    recipe = make_recipe([tmp_path], muni_code=CODE)
    (item,) = recipe.inputs
    assert (item.role, item.options["level"]) == ("boundary", "town_block")
    assert item.options["population"] == {"pop_total": "総人口", "pop_65plus": "65歳以上"}
    report = build(recipe, tmp_path / "own.gpkg")
    ws = Workspace.open(tmp_path / "own.gpkg")
    got = ws.town_blocks().set_index("name")
    assert got.loc["栄町3丁目", "pop_total"] == 300 and got.loc["栄町3丁目", "pop_65plus"] == 90
    assert report.population == {"pop_total": 4500, "pop_65plus": 1350, "pop_75plus": None}
    assert report.population_basis == "age"
    assert report.layers == {"municipality": 1, "town_block": 9}
