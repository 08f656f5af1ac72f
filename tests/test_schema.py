import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from scgeo import InputError, load_taxonomy, validate
from scgeo.schema import AREAS, LAYERS, NEEDS, RESOURCES, empty_frame

DOMAIN_CATEGORIES = [
    "居場所・サロン", "通いの場(体操・運動)", "会食・食事会", "配食", "見守り・安否確認",
    "買い物支援(移動販売を含む)", "移動・外出支援", "家事援助", "ゴミ出し支援", "認知症カフェ",
    "相談窓口", "介護保険サービス事業所", "医療機関",
]
DOMAIN_PROVIDERS = ["住民主体", "NPO", "社会福祉協議会", "社会福祉法人", "民間企業", "協同組合", "医療法人", "行政"]


def _points(frame, coords=None):
    coords = coords or [(141.0, 35.0)] * len(frame)
    return gpd.GeoDataFrame(frame, geometry=[shapely.Point(c) if c else None for c in coords], crs=6668)


def test_taxonomy_has_the_domain_categories_and_provider_types():
    tax = load_taxonomy()
    assert [c.label for c in tax.categories.values()] == DOMAIN_CATEGORIES
    assert [p.label for p in tax.provider_types.values()] == DOMAIN_PROVIDERS
    assert set(tax.area_served()) == {"meal_delivery", "watching", "mobility", "housework", "garbage"}
    assert tax.resolve_category("いきいき百歳体操") == "kayoi_no_ba"
    assert tax.resolve_category("ｻﾛﾝ") == "salon"  # half-width katakana folds by NFKC
    assert tax.resolve_category("宇宙旅行") is None
    assert tax.resolve_provider("社協") == "shakyo"
    assert set(tax.resource_categories_for_need("shopping")) == {"shopping", "mobility"}


def test_a_city_extends_the_taxonomy(tmp_path):
    extra = tmp_path / "city.toml"
    extra.write_text(
        '[categories.farm_work]\nlabel = "農作業の手伝い"\nmode = "area"\naliases = ["畑仕事"]\n'
        '[categories.salon]\naliases = ["茶話会"]\n', encoding="utf-8")
    tax = load_taxonomy(extra)
    assert tax.resolve_category("畑仕事") == "farm_work"
    assert tax.categories["farm_work"].serves_needs == ("farm_work",)
    assert tax.resolve_category("茶話会") == "salon" and tax.resolve_category("サロン") == "salon"
    assert tax.categories["salon"].label == "居場所・サロン"
    bad = tmp_path / "bad.toml"
    bad.write_text("[categories.x]\nmode = 'place'\n", encoding="utf-8")
    with pytest.raises(InputError, match="label"):
        load_taxonomy(bad)


def test_layers_define_the_issue_columns():
    assert AREAS.names == ["area_id", "name", "level", "parent_id"]
    assert {"pop_total", "pop_65plus", "pop_75plus", "pop_65plus_alone"} <= set(LAYERS["population"].names)
    assert {"served_area_id", "status", "last_confirmed", "days_of_week", "capacity"} <= set(RESOURCES.names)
    assert not {"name", "address", "氏名"} & set(NEEDS.names)  # needs never carry a name
    frame = empty_frame(RESOURCES, crs="EPSG:6668")
    assert list(frame.columns) == [*RESOURCES.names, "geometry"] and frame["capacity"].dtype == "Int64"


def test_validate_normalises_and_coerces():
    frame = _points(pd.DataFrame({
        "resource_id": ["R1"], "name": ["  本町\nふれあい　サロン "], "category": ["サロン"],
        "provider_type": ["自治会"], "capacity": ["２０人"], "last_confirmed": ["令和7年4月1日"],
        "days_of_week": ["毎週 月・水曜"], "status": ["休止中"],
    }))
    accepted, rejected = validate(frame, "resources")
    assert rejected.empty
    row = accepted.iloc[0]
    assert row["name"] == "本町 ふれあい サロン"
    assert (row["category"], row["provider_type"], row["status"]) == ("salon", "resident", "paused")
    assert row["capacity"] == 20 and row["days_of_week"] == "月,水"
    assert row["last_confirmed"] == pd.Timestamp("2025-04-01")


@pytest.mark.parametrize(("column", "value", "reason"), [
    ("name", "", "必須項目「名称」が空です"),
    ("category", "宇宙旅行", "種別「宇宙旅行」はカテゴリ一覧にありません"),
    ("capacity", "たくさん", "「定員」は整数で入力してください"),
    ("last_confirmed", "きのう", "「最終確認日」は日付として読めません"),
    ("status", "不明", "状態「不明」は使えません"),
    ("provider_type", "宇宙人", "提供主体「宇宙人」は一覧にありません"),
])
def test_validate_rejects_each_bad_value_with_its_reason(column, value, reason):
    good = {"resource_id": "R1", "name": "サロン", "category": "salon"}
    frame = _points(pd.DataFrame([good, {**good, "resource_id": "R2", column: value}]))
    accepted, rejected = validate(frame, "resources")
    assert accepted["resource_id"].tolist() == ["R1"]
    assert rejected["source_row"].tolist() == [2]
    assert reason in rejected["reason"].iloc[0]
    assert rejected[column].iloc[0] == value  # the original value is kept


def test_validate_rejects_geometry_and_duplicate_problems():
    frame = _points(pd.DataFrame({"resource_id": ["R1", "R1", "R3", "R4"], "name": list("abcd"),
                                  "category": ["salon"] * 4}),
                    [(141.0, 35.0), (141.0, 35.0), (2.35, 48.85), None])
    accepted, rejected = validate(frame, "resources", existing_ids={"R3"})
    assert accepted["resource_id"].tolist() == ["R1"]
    reasons = dict(zip(rejected["source_row"], rejected["reason"], strict=True))
    assert "IDが重複しています(1行目と同じ" in reasons[2]
    assert "日本の範囲外" in reasons[3] and "既にワークスペースに登録" in reasons[3]
    assert reasons[4] == "座標(位置)がありません"


def test_validate_requires_required_columns():
    with pytest.raises(InputError, match="「名称」"):
        validate(_points(pd.DataFrame({"resource_id": ["R1"], "category": ["salon"]})), "resources")


def test_validate_areas_levels_and_polygons():
    frame = gpd.GeoDataFrame(
        {"area_id": ["A", "B", "C"], "name": ["一", "二", "三"], "level": ["jhs_district", "county", "town_block"]},
        geometry=[shapely.box(141, 35, 141.1, 35.1), shapely.box(141, 35, 141.1, 35.1), shapely.Point(141, 35)],
        crs=6668)
    accepted, rejected = validate(frame, "areas")
    assert accepted["area_id"].tolist() == ["A"]
    assert accepted.geometry.iloc[0].geom_type == "MultiPolygon"
    assert "区域の種類" in rejected["reason"].iloc[0] and "ポリゴン" in rejected["reason"].iloc[1]


def test_needs_default_to_open():
    frame = _points(pd.DataFrame({"need_id": ["N1"], "category": ["買い物"], "recorded_date": ["2025/10/3"]}))
    accepted, _ = validate(frame, "needs")
    assert accepted.iloc[0][["category", "status"]].tolist() == ["shopping", "open"]


cells = st.one_of(st.none(), st.text(max_size=6), st.integers(-5, 500).map(str),
                  st.sampled_from(["salon", "配食", "２０", "R7.1.1", "2025-01-01", "x"]))


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries({
    "resource_id": st.sampled_from(["R1", "R2", "R3", "", None]), "name": cells, "category": cells,
    "capacity": cells, "last_confirmed": cells}), min_size=1, max_size=8))
def test_validate_never_drops_a_row(rows):
    frame = _points(pd.DataFrame(rows))
    accepted, rejected = validate(frame, "resources")
    assert len(accepted) + len(rejected) == len(rows)
    assert rejected["reason"].str.len().gt(0).all()
    assert accepted["resource_id"].is_unique
    assert sorted([*accepted.index, *(rejected["source_row"] - 1)]) == list(range(len(rows)))


def test_all_good_rows_give_an_empty_rejected_frame_with_text_reasons():
    frame = _points(pd.DataFrame({"resource_id": ["R1"], "name": ["a"], "category": ["salon"]}))
    _, rejected = validate(frame, "resources")
    assert rejected.empty and rejected["reason"].str.len().sum() == 0


def test_every_status_label_the_app_shows_is_read_back():
    """A list copied from the app (or from a report) carries the app's own status words."""
    from scgeo.schema import NEED_STATUS_LABELS, NEED_STATUSES, RESOURCE_STATUS_LABELS, RESOURCE_STATUSES, _status

    for labels, choices in ((NEED_STATUS_LABELS, NEED_STATUSES), (RESOURCE_STATUS_LABELS, RESOURCE_STATUSES)):
        for code, label in labels.items():
            assert _status(label, tuple(choices)) == code, label
