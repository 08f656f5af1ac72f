"""Point importers (resources, needs) and the table reader: encodings, headers, bad rows."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scgeo import InputError
from scgeo.io import detect_encoding, read_needs, read_resources, read_table
from scgeo.schema import NEEDS

TAKAMATSU = Path(__file__).resolve().parents[2] / "shared" / "data" / "takamatsu"

HEADER = "ID,名称,種別,住所,緯度,経度,定員"
GOOD = ["R1,さくらサロン,サロン,鳥取市吉成1-2,35.4912,134.2457,20",
        "R2,ひまわり体操,通いの場,鳥取市湖山町①,35.5001,134.1802,15"]


def _csv(tmp_path: Path, lines: list[str], *, encoding: str = "utf-8", name="r.csv") -> Path:
    path = tmp_path / name
    path.write_bytes("\n".join(lines).encode(encoding) + b"\n")
    return path


def test_detect_encoding():
    text = "名称,緯度\n髙島サロン①,35.1\n"
    assert detect_encoding(text.encode("utf-8-sig")) == "utf-8-sig"
    assert detect_encoding(text.encode("utf-8")) == "utf-8"
    assert detect_encoding(text.encode("cp932")) == "cp932"
    assert detect_encoding("緯度".encode()[:-1]) == "utf-8"  # a sample cut inside a character
    assert detect_encoding(b"ascii,only\n") == "utf-8"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_csv_in_each_encoding(tmp_path, encoding):
    path = _csv(tmp_path, [HEADER, *GOOD], encoding=encoding)
    accepted, rejected = read_resources(path)
    assert len(rejected) == 0
    assert accepted["name"].tolist() == ["さくらサロン", "ひまわり体操"]
    assert accepted["address"].tolist() == ["鳥取市吉成1-2", "鳥取市湖山町1"]
    assert accepted["category"].tolist() == ["salon", "kayoi_no_ba"]
    assert accepted["capacity"].tolist() == [20, 15]
    assert accepted.crs.to_epsg() == 6668
    assert accepted.geometry.iloc[0].coords[0] == pytest.approx((134.2457, 35.4912))


def test_read_table_keeps_headers_text_and_row_numbers(tmp_path):
    path = _csv(tmp_path, ["ID,名称,定員", "001,a,", "", "003,c,5"], encoding="cp932")
    table = read_table(path)
    assert list(table.columns) == ["ID", "名称", "定員"]
    assert table.index.tolist() == [1, 3]  # the blank line is row 2
    assert table.loc[1].tolist() == ["001", "a", None]


def test_undecodable_csv_with_given_encoding_is_an_input_error(tmp_path):
    path = _csv(tmp_path, [HEADER, *GOOD], encoding="cp932")
    with pytest.raises(InputError, match="encoding"):
        read_resources(path, encoding="utf-8")


def test_english_headers(tmp_path):
    path = _csv(tmp_path, ["id,name,category,address,latitude,longitude,capacity",
                           "E1,Sakura salon,salon,Tottori,35.49,134.24,12"])
    accepted, rejected = read_resources(path)
    assert accepted.loc[0, ["resource_id", "name", "category", "address"]].tolist() == [
        "E1", "Sakura salon", "salon", "Tottori"]
    assert accepted.loc[0, "capacity"] == 12 and len(rejected) == 0


def test_lng_and_x_y_headers(tmp_path):
    path = _csv(tmp_path, ["施設名,分類,Y,X", "a,配食,35.1,133.1"])
    accepted, _ = read_resources(path)
    assert accepted.geometry.iloc[0].coords[0] == pytest.approx((133.1, 35.1))


def test_mapping_overrides_recognition(tmp_path):
    path = _csv(tmp_path, ["名称,サロン名,活動,北緯度,東経度,所在地",
                           "違う,さくら,サロン,35.1,133.1,鳥取市"])
    mapping = {"name": "サロン名", "category": "活動", "lat": "北緯度", "lon": "東経度"}
    accepted, _ = read_resources(path, mapping=mapping)
    row = accepted.loc[0, ["name", "category", "address"]]
    assert row.tolist() == ["さくら", "salon", "鳥取市"]
    with pytest.raises(InputError, match="見出し「ない見出し」"):
        read_resources(path, mapping={**mapping, "name": "ない見出し"})
    with pytest.raises(InputError, match="colour"):
        read_resources(path, mapping={**mapping, "colour": "名称"})


def test_missing_coordinate_or_required_column_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"必須の列 「緯度」\(lat\)、「経度」\(lon\)"):
        read_resources(_csv(tmp_path, ["名称,種別,住所", "a,サロン,鳥取市"]))
    with pytest.raises(InputError, match="種別"):
        read_resources(_csv(tmp_path, ["名称,緯度,経度", "a,35,133"], name="b.csv"))


def test_unsupported_file_is_an_input_error(tmp_path):
    path = tmp_path / "r.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputError, match=r"\.xlsx"):
        read_resources(path)


def test_swapped_coordinates_are_fixed_with_a_message(tmp_path):
    path = _csv(tmp_path, [HEADER, GOOD[0], "R2,逆,サロン,,134.1802,35.5001,"])
    result = read_resources(path)
    assert len(result.rejected) == 0
    assert result.accepted.geometry.iloc[1].coords[0] == pytest.approx((134.1802, 35.5001))
    swaps = [m for m in result.messages if "入れ替"in m]
    assert len(swaps) == 1 and swaps[0].startswith("3行目")  # the file's row: the header is row 1


def test_bad_rows_are_rejected_with_reason_and_source_row(tmp_path):
    lines = [HEADER, GOOD[0],
             "R2,外国,サロン,,48.85,2.35,",        # 2: Paris
             "R3,座標なし,サロン,,,,",              # 3
             "R4,未知,宇宙旅行,,35.1,133.1,",       # 4
             "R1,重複,サロン,,35.2,133.2,",         # 5
             "R6,文字,サロン,,北のほう,133.2,",     # 6
             "R7,片方,サロン,,35.2,,",             # 7
             ",ID空,サロン,,35.2,133.2,"]          # 8
    accepted, rejected = read_resources(_csv(tmp_path, lines))
    assert accepted["resource_id"].tolist() == ["R1"]
    reasons = dict(zip(rejected["source_row"], rejected["reason"], strict=True))
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 8]
    assert "日本の範囲外" in reasons[2]
    assert reasons[3] == "座標(位置)がありません"
    assert "宇宙旅行" in reasons[4] and "カテゴリ" in reasons[4]
    assert "重複" in reasons[5] and "1行目" in reasons[5]
    assert reasons[6] == "緯度「北のほう」を数値として読めません"
    assert "一方" in reasons[7]
    assert "資源ID" in reasons[8]
    # the file's own headers and values are kept
    row = rejected.set_index("source_row").loc[6]
    assert row["名称"] == "文字" and row["緯度"] == "北のほう"


def test_existing_ids_are_rejected(tmp_path):
    accepted, rejected = read_resources(_csv(tmp_path, [HEADER, *GOOD]), existing_ids={"R2"})
    assert accepted["resource_id"].tolist() == ["R1"]
    assert "既に" in rejected.loc[0, "reason"] and rejected.loc[0, "source_row"] == 2


def test_line_breaks_full_width_digits_and_spaces_are_normalised(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('名称,種別,緯度,経度,定員\n"  さくら\n ふれあい　サロン ",　サロン ,'
                    "３５．１２,\u3000１３３．２５ ,２０人\n", encoding="utf-8")
    result = read_resources(path)
    row = result.accepted.iloc[0]
    assert row["name"] == "さくら ふれあい サロン"
    assert row["category"] == "salon" and row["capacity"] == 20
    assert row.geometry.coords[0] == pytest.approx((133.25, 35.12))


def test_coordinates_in_degrees_minutes_seconds(tmp_path):
    path = _csv(tmp_path, ["名称,種別,緯度,経度", "a,サロン,35°30'00\",北緯も東経もなし",
                           "b,サロン,35度30分36秒,東経133度6分"])
    accepted, rejected = read_resources(path)
    assert accepted.geometry.iloc[0].coords[0] == pytest.approx((133.1, 35.51))
    assert rejected["source_row"].tolist() == [1]


def test_ids_are_generated_when_the_file_has_none(tmp_path):
    path = _csv(tmp_path, ["名称,種別,緯度,経度", "a,サロン,35.1,133.1", "b,配食,35.2,133.2"])
    result = read_resources(path, existing_ids={"R0001", "R0002", "X9"})
    assert result.accepted["resource_id"].tolist() == ["R0003", "R0004"]
    assert any("R0001" in m for m in result.messages)


def _xlsx(path: Path, rows: list[list], *, title: str | None = None, sheet="一覧") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    if title:
        ws.append([title])
    for row in rows:
        ws.append(row)
    wb.create_sheet("メモ").append(["関係ない"])
    wb.save(path)
    return path


def test_excel_with_title_row_dates_and_numbers(tmp_path):
    path = _xlsx(tmp_path / "r.xlsx", [
        ["資源ID", "名称", "種別", "緯度", "経度", "定員", "最終確認日"],
        [101, "さくら", "サロン", 35.1, 133.1, 20, dt.datetime(2024, 4, 1)],
        [102, "ひまわり", "見守り", "３５．２", "133.2", None, "令和6年5月1日"],
        [103, "外", "サロン", 0, 0, None, None],
    ], title="令和6年度 地域資源一覧")
    table = read_table(path)
    assert list(table.columns)[:3] == ["資源ID", "名称", "種別"]
    assert table.loc[1, "資源ID"] == "101" and table.loc[1, "最終確認日"] == "2024-04-01"
    result = read_resources(path)
    accepted = result.accepted
    assert accepted["resource_id"].tolist() == ["101", "102"]
    assert accepted["last_confirmed"].tolist() == [pd.Timestamp("2024-04-01"),
                                                  pd.Timestamp("2024-05-01")]
    assert accepted.geometry.iloc[1].coords[0] == pytest.approx((133.2, 35.2))
    assert result.rejected["source_row"].tolist() == [3]
    assert read_resources(path, sheet="一覧").accepted["resource_id"].tolist() == ["101", "102"]
    with pytest.raises(InputError, match="シート"):
        read_resources(path, sheet="ない")


def test_needs_drop_personal_columns(tmp_path):
    path = _csv(tmp_path, ["整理番号,氏名,住所,電話番号,種別,相談日,緯度,経度,状況",
                           "N1,山田花子,鳥取市吉成1-2,0857-00-0000,配食,2024/4/1,35.49,134.24,対応中",
                           "N2,鈴木一郎,鳥取市湖山町,0857-11-1111,宇宙旅行,R6.4.2,35.50,134.18,"])
    result = read_needs(path)
    accepted, rejected = result
    assert list(accepted.columns) == [*NEEDS.names, "geometry"]  # the schema's columns and nothing else
    assert accepted.loc[0, ["need_id", "category", "status"]].tolist() == ["N1", "meal_delivery",
                                                                         "open"]
    assert accepted.loc[0, "recorded_date"] == pd.Timestamp("2024-04-01")
    assert not {"氏名", "住所", "電話番号"} & set(rejected.columns)
    assert "鈴木一郎" not in rejected.astype(str).to_numpy()
    assert "山田花子" not in accepted.drop(columns="geometry").astype(str).to_numpy()
    assert rejected["source_row"].tolist() == [2] and "宇宙旅行" in rejected.loc[0, "reason"]
    notes = [m for m in result.messages if "個人" in m]
    assert len(notes) == 1 and all(h in notes[0] for h in ("氏名", "住所", "電話番号"))


def test_needs_ids_are_generated(tmp_path):
    path = _csv(tmp_path, ["種別,受付日,lat,lon", "買い物,2024-04-01,35.1,133.1"])
    assert read_needs(path).accepted["need_id"].tolist() == ["N0001"]


def test_real_takamatsu_excel_with_mapping():
    path = TAKAMATSU / "community_center" / "data.xlsx"
    if not path.exists():
        pytest.skip("../shared/data (real 高松市 file) is absent")
    result = read_resources(path, mapping={"resource_id": "#property", "category": "note"})
    # the file has no category: every row is rejected with that reason, none dropped
    table = read_table(path)
    assert len(result.accepted) + len(result.rejected) == len(table) > 40
    assert result.rejected["reason"].str.contains("種別").all()


KINDS = ["good", "swapped", "no_coords", "outside", "unknown_category", "bad_number",
         "full_width", "duplicate"]


def _row(kind: str, i: int) -> str:
    rid = "R1" if kind == "duplicate" else f"R{i + 100}"
    lat, lon, cat = "35.3", "134.1", "サロン"
    if kind == "swapped":
        lat, lon = lon, lat
    elif kind == "no_coords":
        lat = lon = ""
    elif kind == "outside":
        lat, lon = "-33.9", "151.2"
    elif kind == "unknown_category":
        cat = "不明"
    elif kind == "bad_number":
        lat = "35.3.1"
    elif kind == "full_width":
        lat, lon = "３５．３", "１３４．１"
    return f"{rid},名{i},{cat},{lat},{lon}"


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(KINDS), min_size=1, max_size=25))
def test_every_row_is_accepted_or_rejected_with_a_reason(kinds):
    lines = ["ID,名称,種別,緯度,経度", "R1,最初,サロン,35,134"]
    lines += [_row(kind, i) for i, kind in enumerate(kinds)]
    with tempfile.TemporaryDirectory() as tmp:
        accepted, rejected = read_resources(_csv(Path(tmp), lines))
    assert len(accepted) + len(rejected) == len(lines) - 1
    assert rejected["reason"].map(lambda r: isinstance(r, str) and r.strip() != "").all()
    assert sorted(rejected["source_row"]) == sorted(set(rejected["source_row"]))
    good = {"good", "swapped", "full_width"}
    assert len(accepted) == 1 + sum(k in good for k in kinds)
