"""月次報告, 年次報告書 and the 協議体 pack: figures against the log and the snapshots, rendering, privacy."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.workbook.defined_name import DefinedName

from scgeo import InputError
from scgeo.report.annual import annual_report, annual_values
from scgeo.report.monthly import monthly_report, write_monthly_pdf, write_monthly_xlsx
from scgeo.report.pack import council_pack, write_pack_html
from scgeo.report.template import fill_template

ROOT = Path(__file__).resolve().parents[1]
CHANGES = pd.read_csv(ROOT / "data" / "activities" / "resource_changes.csv", dtype=str, keep_default_na=False)
needs_poppler = pytest.mark.skipif(not shutil.which("pdftoppm") or not shutil.which("pdftotext"),
                                   reason="poppler-utils (pdftoppm, pdftotext) がありません")


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _render(pdf: Path, tmp_path: Path) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    return sorted(tmp_path.glob("page-*.png"))


def test_monthly_figures_equal_the_log_and_the_sample_changes(sample_copy):
    log = sample_copy.read("activities")
    for month in ("2026-08", "2026-09"):
        report = monthly_report(sample_copy, month)
        start, end = pd.Timestamp(f"{month}-01"), pd.Timestamp(f"{month}-01") + pd.offsets.MonthEnd(0)
        rows = log[(log["date"] >= start) & (log["date"] <= end)]
        assert report.summary["activities"] == len(rows)
        assert report.summary["hours"] == pytest.approx(rows["hours"].fillna(0).sum())
        changed = CHANGES[CHANGES["date"].str.startswith(month)]
        opened = set(changed.loc[changed["status_before"] == "", "resource_id"])
        closed = set(changed.loc[changed["status_after"] == "closed", "resource_id"])
        assert set(report.new_resources["資源ID"]) == opened, month
        assert set(report.closed_resources["資源ID"]) == closed, month
        by_function = rows.groupby("function").size()
        for function, n in by_function.items():
            assert report.summary[f"activities_{function}"] == n


def test_monthly_report_of_one_coordinator(sample_copy):
    sc = "第2層SC(第3圏域)"
    report = monthly_report(sample_copy, "2026-07", sc=sc)
    log = sample_copy.read("activities")
    mine = log[(log["user"] == sc) & (log["date"] >= "2026-07-01") & (log["date"] <= "2026-07-31")]
    assert report.summary["activities"] == len(mine) and set(report.entries["user"]) == {sc}
    assert sc in report.title
    with pytest.raises(InputError, match="記録者"):
        monthly_report(sample_copy, "2026-07", sc="だれでもない")


@needs_poppler
def test_a_month_with_no_activity_says_so(sample_copy, tmp_path):
    report = monthly_report(sample_copy, "2026-11")
    assert report.summary["activities"] == 0 and report.snapshot_id is None
    path, pages = write_monthly_pdf(report, sample_copy, tmp_path / "m.pdf", with_map=False)
    text = _text(path)
    assert "この月の活動の記録はありません" in text and "スナップショットがない" in text
    assert len(_render(path, tmp_path)) == pages == 2


def test_xlsx_neutralises_formulas_and_leaves_out_need_ids(sample_copy, tmp_path):
    from scgeo.report.year import add_activity

    need = sample_copy.read("needs")["need_id"].iloc[0]
    add_activity(sample_copy, {"date": "2026-09-29", "type": "つなぎ", "need_ids": need,
                               "outcome": '=HYPERLINK("http://x.invalid","押して")'}, user="test")
    path = write_monthly_xlsx(monthly_report(sample_copy, "2026-09"), tmp_path / "m.xlsx")
    book = load_workbook(path)
    cells = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert "'=HYPERLINK(\"http://x.invalid\",\"押して\")" in cells
    assert not any(isinstance(v, str) and v.startswith("=") for v in cells)
    assert need not in " ".join(map(str, cells))


def test_template_fills_named_cells_and_mapped_cells(sample_copy, tmp_path):
    report = monthly_report(sample_copy, "2026-09")
    form = Workbook()
    sheet = form.active
    sheet.title = "月次"
    sheet["A1"] = "活動件数"
    form.defined_names["activities"] = DefinedName("activities", attr_text="'月次'!$B$1")
    form.defined_names["hours"] = DefinedName("hours", attr_text="'月次'!$B$2")
    form.save(tmp_path / "form.xlsx")
    filled = fill_template(tmp_path / "form.xlsx", report.summary, tmp_path / "named.xlsx")
    assert set(filled) == {"activities", "hours"}
    book = load_workbook(tmp_path / "named.xlsx")
    assert book["月次"]["B1"].value == report.summary["activities"] and book["月次"]["A1"].value == "活動件数"
    assert book["月次"]["B2"].value == pytest.approx(report.summary["hours"])
    fill_template(tmp_path / "form.xlsx", report.summary, tmp_path / "mapped.xlsx",
                  mapping={"resources_new": "月次!C5", "month": "C6"})
    book = load_workbook(tmp_path / "mapped.xlsx")
    assert book["月次"]["C5"].value == 1 and book["月次"]["C6"].value == "2026-09"
    with pytest.raises(InputError, match="報告にありません"):
        fill_template(tmp_path / "form.xlsx", report.summary, tmp_path / "x.xlsx", mapping={"unknown": "A1"})
    values = annual_values(annual_report(sample_copy, 2026))
    assert values["goal_P00001_result"] == 2 and values["activities"] == len(sample_copy.read("activities"))


def test_report_need_tables_are_published_releases_of_the_true_counts(sample_copy):
    """受付 / つなぎ / 解決 per 圏域: shown values are the counts recomputed from the needs (by 受付日, and
    by the date of the status), each column is a release in the ledger, and the ledger stays safe."""
    from scgeo.privacy import TOTAL, audit_releases, read_ledger

    needs, areas = sample_copy.read("needs"), sample_copy.areas()
    units = areas[areas["level"] == "living_area"].sort_values("area_id")
    where = gpd.sjoin(needs[needs.geometry.notna()], units[["area_id", "geometry"]], predicate="within")
    report = monthly_report(sample_copy, "2026-09", user="報告者")
    annual = annual_report(sample_copy, 2026, through="2026-09", user="報告者")
    for frame, (start, end) in ((report.needs, ("2026-09-01", "2026-09-30")),
                                (annual.needs, ("2026-04-01", "2026-09-30"))):
        assert frame["区域"].tolist() == [*units["name"], "市全体"]
        for label, field, status in (("受付", "recorded_date", None), ("つなぎ", "status_date", "matched"),
                                     ("解決", "status_date", "resolved")):
            chosen = where[pd.to_datetime(where[field]).between(start, end)
                           & ((where["status"] == status) if status else True)]
            expected = [*chosen.groupby("area_id").size().reindex(units["area_id"], fill_value=0), len(chosen)]
            for shown, truth in zip(frame[label], expected, strict=True):
                assert shown == "秘匿" or (shown == truth and truth >= 5), (label, shown, truth)
    assert report.summary["needs_opened"] == report.needs.iloc[-1]["受付"]
    ledger = read_ledger(sample_copy)
    made = [r for r in ledger if r.purpose.startswith(("月次報告 2026-09", "年次報告書 2026"))]  # also the demo's
    assert len(made) == 6 and {r.period_field for r in made} == {"recorded_date", "status_date"}
    assert {r.period for r in made} == {("2026-09-01", "2026-09-30"), ("2026-04-01", "2026-09-30")}
    city = {r.purpose.split(": ")[-1]: r.cells.set_index(["unit_id", "category"]).loc[(TOTAL, TOTAL), "value"]
            for r in made if r.period[0] == "2026-09-01"}
    assert str(city["ニーズの受付"]) == str(report.needs.iloc[-1]["受付"])
    audit = audit_releases(ledger, needs, areas, sample_copy.town_blocks())
    assert not audit.skipped and audit.ok
    again = monthly_report(sample_copy, "2026-09", user="報告者")  # the same tables again: no new release
    assert again.needs.equals(report.needs) and len(read_ledger(sample_copy)) == len(ledger)


def test_pack_need_table_is_the_published_release(sample_copy):
    """The pack shows need counts only as released through the ledger: the 中学校区 table (the council
    map's) and the 圏域's own row, every value equal to the release's, hidden cells 「秘匿」, never 1..4."""
    from scgeo.privacy import read_ledger
    from scgeo.schema import load_taxonomy

    pack = council_pack(sample_copy, area="LA3", date="2026-10-20")
    ledger = read_ledger(sample_copy)
    releases = {r.unit_system: r.cells.set_index(["unit_id", "category"])["value"] for r in ledger
                if r.statuses == ("open",) and r.period == (None, None)}
    areas = sample_copy.areas()
    ids = dict(zip(areas["name"], areas["area_id"], strict=False)) | {"合計": "LA3"}
    codes = {load_taxonomy().label(c): c for c in load_taxonomy().categories}
    assert pack.needs["区域"].tolist() == ["南中学校区", "西中学校区", "合計"]
    checked = 0
    for _, row in pack.needs.iterrows():
        release = releases["living_area" if row["区域"] == "合計" else "jhs_district"]
        for label, shown in row.drop("区域").items():
            value = release[(ids[row["区域"]], codes[label])]
            assert shown == ("秘匿" if pd.isna(value) else int(value))
            assert shown == "秘匿" or shown >= 5
            checked += 1
    assert checked == 3 * (len(pack.needs.columns) - 1)


@needs_poppler
def test_demo_reports_render_and_publish_no_need_ids(demo_outputs, sample_copy, tmp_path):
    need_ids = set(sample_copy.read("needs")["need_id"])
    annual = _text(demo_outputs["annual_report"])
    assert "2026年度 生活支援体制整備事業 年次報告書" in annual and "成果" in annual and "ネットワーク構築" in annual
    (tmp_path / "a").mkdir()
    assert len(_render(demo_outputs["annual_report"], tmp_path / "a")) == 5
    pack = _text(demo_outputs["council_pack"])
    assert "第3圏域 支え合い推進会議" in pack and "確認が必要な資源" in pack and "秘匿" in pack
    html = demo_outputs["council_pack_html"].read_text(encoding="utf-8")
    assert "<svg" in html and not re.search(r"""(src|href)=["']https?:""", html)
    book = load_workbook(demo_outputs["monthly_report"])
    xlsx = " ".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row)
    for text in (annual, pack, html, xlsx):
        assert not need_ids & set(re.findall(r"N-[0-9a-f]{6}", text))


def test_pack_html_escapes_data(sample_copy, tmp_path):
    sample_copy.update_feature("resources", "R0069", {"name": "<script>alert(1)</script>"})
    pack = council_pack(sample_copy, area="第3圏域", date="2026-10-20", agenda="<b>議題</b>")
    text = write_pack_html(pack, sample_copy, tmp_path / "p.html").read_text(encoding="utf-8")
    assert "<script>alert" not in text and "&lt;script&gt;" in text and "&lt;b&gt;議題" in text


def test_cli_reports_and_pack(sample_copy, tmp_path, capsys):
    from scgeo.cli import main

    ws = str(sample_copy.path)
    assert main(["report", "monthly", ws, "--month", "2026-09", "--out", str(tmp_path / "m.xlsx")]) == 0
    assert (tmp_path / "m.xlsx").is_file()
    assert main(["report", "annual", ws, "--fy", "2026", "--out", str(tmp_path / "a.txt")]) == 2
    assert "pdf" in capsys.readouterr().err
    assert main(["pack", ws, "--area", "NOWHERE", "--date", "2026-10-20", "--out", str(tmp_path / "p.pdf")]) == 2
    assert "区域" in capsys.readouterr().err


def test_reports_of_an_empty_workspace_say_what_is_missing(tmp_path):
    from scgeo import Workspace
    from scgeo.report.annual import write_annual_pdf

    ws = Workspace.create(tmp_path / "empty.gpkg", muni_code="99201", muni_name="テスト市")
    monthly = monthly_report(ws, "2026-05")
    assert "この月の活動の記録はありません。" in monthly.notes and monthly.snapshot_id is None
    write_monthly_xlsx(monthly, tmp_path / "m.xlsx")
    annual = annual_report(ws, 2026, through="2026-05")
    assert any("事業計画がありません" in n for n in annual.notes)
    assert write_annual_pdf(annual, ws, tmp_path / "a.pdf")[1] == 3
