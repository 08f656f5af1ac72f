"""The verification cycle on the sample town: work list, 確認依頼 sheets, returned answers."""

import datetime as dt
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
import shapely
from openpyxl import load_workbook

from scgeo.analysis.freshness import freshness
from scgeo.cli import main
from scgeo.demo import DEMO_USER
from scgeo.report.request_sheets import PER_PAGE, write_request_sheets
from scgeo.report.verification import (
    ANSWER_COLUMNS,
    WORK_LIST_COLUMNS,
    check_code,
    due_work_list,
    import_answers,
    month_end,
    write_work_list,
)

MONTH = "2026-12"


def test_month_end_reads_japanese_forms():
    assert month_end("2026-12") == dt.date(2026, 12, 31)
    assert month_end("令和8年2月") == dt.date(2026, 2, 28)
    assert month_end("２０２７/１") == dt.date(2027, 1, 31)
    with pytest.raises(Exception, match="年と月"):
        month_end("来月")


def test_work_list_holds_every_due_resource_with_a_code(sample_copy):
    ws = sample_copy
    table = due_work_list(ws, month=MONTH)
    resources = ws.read("resources")
    kept = resources[resources["status"] != "closed"]
    states = freshness(kept, today=dt.date(2026, 12, 31), flags=ws.review_flags())
    expected = set(kept.loc[states["state"] != "confirmed", "resource_id"])
    assert set(table["resource_id"]) == expected and len(table) == len(expected)
    assert table["code"].is_unique and (table["code"] == table["resource_id"].map(check_code)).all()
    assert set(table["state_label"]) <= {"確認時期", "期限切れ", "長期未確認", "要確認"}
    shakyo = table[table["contact"].fillna("").str.contains("社協経由")]
    assert len(shakyo) > 1 and shakyo["group"].nunique() == 1
    assert (shakyo["group_label"] == shakyo["contact"]).all()
    single = table.groupby("group").filter(lambda g: len(g) == 1)
    assert (single["group_label"] == single["name"]).all()
    north = due_work_list(ws, month=MONTH, area="北中学校区", by="area")
    assert set(north["area_name"]) == {"北中学校区"} and north["group"].nunique() == 1


def test_work_list_xlsx_neutralises_formulas(sample_copy, tmp_path):
    ws = sample_copy
    ws.add_feature("resources", {"resource_id": "X1", "name": "=HYPERLINK(\"http://x\",\"押して\")",
                                 "category": "salon", "contact": "+81-0000", "geometry": shapely.Point(141.05, 35.05)})
    table = due_work_list(ws, month=MONTH)
    path = write_work_list(table, tmp_path / "list.xlsx")
    sheet = load_workbook(path).active
    header = [c.value for c in sheet[1]]
    assert header == [*WORK_LIST_COLUMNS.values(), *ANSWER_COLUMNS]
    rows = {r[1]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["X1"][2] == "'=HYPERLINK(\"http://x\",\"押して\")" and rows["X1"][5] == "'+81-0000"
    assert len(rows) == len(table)
    lists = [v.formula1 for v in sheet.data_validations.dataValidation]
    assert '"変わりなし,内容変更,休止,廃止,連絡つかず"' in lists


def test_request_sheets_one_page_per_provider(sample_copy, tmp_path):
    table = due_work_list(sample_copy, month=MONTH)
    sizes = table.groupby("group").size()
    groups = [sizes.idxmax(), sizes[sizes == 1].index[0]]  # the 社協 office and a single provider
    subset = table[table["group"].isin(groups)]
    subset.attrs.update(table.attrs)
    path, pages = write_request_sheets(subset, tmp_path / "sheets.pdf", muni_name="さくら市",
                                       return_address="〒999-0001 さくら市中央1-1 さくら市社会福祉協議会 地域福祉係",
                                       issued=dt.date(2026, 12, 1))
    assert pages == int(np.ceil(sizes[groups[0]] / PER_PAGE)) + 1
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True).stdout.decode()
        for code in subset["code"]:
            assert code in text
        assert text.count("社会資源情報の確認のお願い") == pages and "さくら市社会福祉協議会 地域福祉係" in text
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "40", "-png", str(path), str(tmp_path / "p")],
                       check=True)
        assert list(tmp_path.glob("p*.png"))


def test_returned_answers_update_states_and_history(sample_copy, tmp_path):
    ws = sample_copy
    table = due_work_list(ws, month=MONTH)
    path = write_work_list(table, tmp_path / "list.xlsx")
    book = load_workbook(path)
    sheet = book.active
    col = {c.value: c.column for c in sheet[1]}
    picked = {}
    answers = [("変わりなし", None), ("廃止", None), ("内容変更", "毎月第3水曜 10:00-12:00"), ("変わりなし", None)]
    for row, (found, fix) in zip(range(2, 6), answers, strict=True):
        rid = sheet.cell(row, col["資源ID"]).value
        picked[rid] = found
        sheet.cell(row, col["確認結果"]).value = found
        sheet.cell(row, col["確認日"]).value = "2026-12-03"
        if fix:
            sheet.cell(row, col["訂正: 曜日・時間"]).value = fix
    bad_rid = sheet.cell(5, col["資源ID"]).value
    sheet.cell(5, col["確認コード"]).value = bad_rid + "-Q" if check_code(bad_rid)[-1] != "Q" else bad_rid + "-R"
    book.save(path)
    result = import_answers(ws, path, user="山田")
    assert len(result.accepted) == 3 and len(result.rejected) == 1
    assert "確認文字が合いません" in result.rejected["reason"].iloc[0]
    res = ws.read("resources").set_index("resource_id")
    ids = list(picked)[:3]
    assert (res.loc[ids, "last_confirmed"] == pd.Timestamp("2026-12-03")).all()
    assert res.loc[ids[1], "status"] == "closed"
    assert res.loc[ids[2], "schedule"] == "毎月第3水曜 10:00-12:00"
    states = freshness(ws.read("resources"), today=dt.date(2026, 12, 4)).set_index("resource_id")
    assert (states.loc[ids, "state"] == "confirmed").all()
    edits = ws.edits()
    confirm = edits[(edits["action"] == "confirm") & (edits["user"] != DEMO_USER)]  # not the demo's year
    assert confirm["feature_id"].tolist() == ids and set(confirm["user"]) == {"山田"}
    assert set(confirm["note"]) == {"書面 / 変わりなし", "書面 / 廃止", "書面 / 内容変更"}
    assert set(ws.confirmations().tail(3)["source"]) == {"list.xlsx"}

    # codes typed from the paper sheets
    rid = table["resource_id"].iloc[6]
    typed = tmp_path / "typed.txt"
    typed.write_text(f"{check_code(rid)} 1\n{check_code(table['resource_id'].iloc[7])} ５ 留守電\nR9999-A 1\n",
                     encoding="utf-8")
    result = import_answers(ws, typed, method="電話", on=dt.date(2026, 12, 5))
    assert result.accepted["found"].tolist() == ["unchanged", "unreachable"]
    assert "R9999" in result.rejected["reason"].iloc[0]
    assert ws.read("resources").set_index("resource_id").loc[rid, "last_confirmed"] == pd.Timestamp("2026-12-05")
    flags = ws.review_flags()
    assert flags["resource_id"].tolist()[-1] == table["resource_id"].iloc[7]


def test_verify_commands(sample_copy, tmp_path, capsys):
    out, sheets = tmp_path / "due.xlsx", tmp_path / "due.pdf"
    code = main(["verify", "due", str(sample_copy.path), "--month", MONTH, "--area", "北中学校区", "--by", "area",
                 "--out", str(out), "--sheets", str(sheets), "--return-address", "さくら市役所 高齢福祉課"])
    printed = capsys.readouterr().out
    assert code == 0 and out.is_file() and sheets.is_file() and "確認依頼(印刷用)" in printed
    first = load_workbook(out).active.cell(2, 1).value
    typed = tmp_path / "typed.txt"
    typed.write_text(f"{first} 変わりなし\n", encoding="utf-8")
    assert main(["verify", "import", str(sample_copy.path), str(typed), "--user", "佐藤"]) == 0
    assert "取込 1 件" in capsys.readouterr().out
    assert main(["verify", "due", str(sample_copy.path), "--month", "来月"]) == 2
    assert main(["verify", "import", str(sample_copy.path), str(tmp_path / "none.xlsx")]) == 2


def test_real_takamatsu_lists_go_through_the_cycle(tmp_path):
    """高松市's own facility lists: schedules read (availableDate 月火水木金), due list, sheets, answers."""
    from pathlib import Path

    from scgeo import Workspace
    from scgeo.analysis.schedule import schedule_table
    from scgeo.io import read_facility_list

    data = Path(__file__).resolve().parents[2] / "shared" / "data" / "takamatsu"
    files = [data / "regional_comprehensive_support_center" / "data.xlsx",
             data / "elderly_welfare_facility" / "data.xlsx"]
    if not all(f.is_file() for f in files):
        pytest.skip("shared data (../shared/data) is not available")
    ws = Workspace.create(tmp_path / "takamatsu.gpkg", muni_code="372013", muni_name="高松市")
    for i, path in enumerate(files):
        result = read_facility_list(path)
        result.accepted["resource_id"] = f"T{i}-" + result.accepted["resource_id"].astype(str)  # ids per list
        ws.import_result("resources", result, source=path.parent.name)
    res = ws.read("resources")
    sched = schedule_table(res)
    given = res["schedule"].notna()
    assert given.any() and (sched.loc[given, "days"] != "").all()
    assert (sched.loc[given, "weekly_share"] == 1.0).all()  # offices open every week
    table = due_work_list(ws, month=MONTH)
    assert len(table) == len(res) and set(table["state_label"]) == {"長期未確認"}  # the lists carry no dates
    one = table[table["group"] == table["group"].iloc[0]]
    one.attrs.update(table.attrs)
    _, pages = write_request_sheets(one, tmp_path / "t.pdf", muni_name="高松市")
    assert pages == int(np.ceil(len(one) / PER_PAGE))
    typed = tmp_path / "typed.txt"
    typed.write_text("\n".join(f"{c} 1" for c in table["code"].head(5)), encoding="utf-8")
    assert len(import_answers(ws, typed, method="電話", on=dt.date(2026, 12, 1)).accepted) == 5
    states = freshness(ws.read("resources"), today=dt.date(2026, 12, 2))
    assert (states["state"] == "confirmed").sum() == 5
