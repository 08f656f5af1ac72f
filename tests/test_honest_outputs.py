"""Every output says what the analysis stood on: total-only or estimated 65+, no walking network,
categories without data (データなし, not 空白), legends without absent layers, per-area pages without 圏域."""

import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from scgeo.analysis import data_notes, population_basis
from scgeo.cli import main
from scgeo.privacy import publish_needs, read_ledger
from scgeo.report import gap_report, write_gap_table
from scgeo.schema import empty_frame
from scgeo.workspace import STORED_LAYERS

TOTAL = "65歳以上人口が不明なため総人口で計算"
STRAIGHT = "歩行ネットワークがないため直線距離×迂回係数1.3で計算"


def _edit(ws, **layers):
    meta = layers.pop("meta", None)
    with ws.transaction() as tx:
        for name, frame in layers.items():
            tx.write(name, frame)
        if meta:
            tx.set_meta(meta)


def _total_only(ws):
    pop = ws.read("population")
    _edit(ws, population=pop.assign(pop_65plus=pd.NA, pop_75plus=pd.NA))


def _no_network(ws, *, lines=True):
    empty = {name: empty_frame(STORED_LAYERS[name], crs="EPSG:6668") for name in ("network_nodes", "network_edges")}
    if lines:
        empty["basemap_lines"] = empty_frame(STORED_LAYERS["basemap_lines"], crs="EPSG:6668")
    _edit(ws, **empty)


def _pdf_text(path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils is not installed")
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_basis_is_read_from_meta_or_inferred():
    blocks = pd.DataFrame({"pop_total": [10, 20], "pop_65plus": [pd.NA, pd.NA]})
    assert population_basis(blocks) == ("total", None)
    assert population_basis(blocks.assign(pop_65plus=[3, 6])) == ("age", None)
    assert population_basis(blocks, {"population_basis": "estimated", "aging_rate": "31"}) == ("estimated", 0.31)
    assert population_basis(blocks, {"population_basis": "age"})[0] == "age"  # meta wins
    assert data_notes(None, has_network=True) == []
    assert data_notes(blocks, has_network=False) == [TOTAL, STRAIGHT]


def test_total_only_population_says_so_in_every_output(sample_copy, tmp_path, capsys):
    ws = sample_copy
    totals = ws.town_blocks()["pop_total"].sum()
    _total_only(ws)
    csv, xlsx, geo = tmp_path / "gaps.csv", tmp_path / "gaps.xlsx", tmp_path / "gaps.geojson"
    assert main(["gaps", str(ws.path), "--category", "サロン", "--out", str(csv)]) == 0
    printed = capsys.readouterr().out
    assert f"注意: {TOTAL}" in printed and "人口(総人口)の多い空白地帯" in printed
    table = pd.read_csv(csv, encoding="utf-8-sig")
    assert set(table["basis"]) == {TOTAL}
    assert table.loc[table["level"] == "municipality", "pop_65plus"].round().item() == totals
    assert table["pop_75plus"].isna().all()
    frame, zones, _ = gap_report(ws, categories=["salon"])
    write_gap_table(frame, xlsx)
    write_gap_table(frame, geo, areas=ws.areas())
    assert set(pd.read_excel(xlsx)["basis"]) == {TOTAL} and set(gpd.read_file(geo)["basis"]) == {TOTAL}
    assert len(zones) and set(zones["basis"]) == {TOTAL}

    html = tmp_path / "map.html"
    assert main(["export-map", str(ws.path), "--out", str(html)]) == 0
    page = html.read_text(encoding="utf-8")
    assert TOTAL in page and "総人口(町丁目、65歳以上人口が不明)" in page
    pdf = tmp_path / "map.pdf"
    assert main(["print-map", str(ws.path), "--area", "第2圏域", "--out", str(pdf)]) == 0
    assert TOTAL in _pdf_text(pdf).replace("\n", "")


def test_estimated_population_is_marked_as_an_estimate(sample_copy, capsys):
    ws = sample_copy
    pop = ws.read("population")
    estimated = (pop["pop_total"] * 0.3).round().astype("Int64")
    _edit(ws, population=pop.assign(pop_65plus=estimated, pop_75plus=pd.NA),
          meta={"population_basis": "estimated", "aging_rate": "0.3"})
    table, zones, coverage = gap_report(ws, categories=["salon"], levels=["municipality"])
    note = "65歳以上人口は総人口×高齢化率 30.0%(推計)"
    assert coverage.population_basis == "estimated" and set(table["basis"]) == {note}
    assert table["pop_65plus"].round().item() == estimated.sum()
    # no block tells its 75+ (the estimate is of 65+ only): unknown, not 0
    assert table[["pop_75plus", "covered_75plus"]].isna().all().all()
    assert len(zones) and zones["pop_75plus"].isna().all() and (zones["pop_65plus"] > 0).all()  # the zones too
    assert main(["gaps", str(ws.path), "--category", "サロン"]) == 0
    assert f"注意: {note}" in capsys.readouterr().out


def test_a_category_without_any_resource_is_no_data_not_a_gap(sample_copy, capsys):
    ws = sample_copy
    res = ws.read("resources")
    assert (res["category"] == "dementia_cafe").any()
    paused = res["category"] == "shopping"
    res.loc[paused, "status"] = "paused"  # registered but not active: a real gap, not missing data
    _edit(ws, resources=res[res["category"] != "dementia_cafe"])
    table, zones, coverage = gap_report(ws, categories=["dementia_cafe", "shopping", "salon"])
    assert coverage.no_data == ("dementia_cafe",)
    cafe = table[table["category"] == "dementia_cafe"]
    assert (cafe["status"] == "データなし").all() and cafe["coverage_pct"].isna().all()
    assert cafe["covered_65plus"].isna().all() and (cafe["pop_65plus"] > 0).any()  # the people are known
    shopping = table[(table["category"] == "shopping") & (table["level"] == "municipality")]
    assert shopping["status"].item() == "空白" and shopping["coverage_pct"].item() == 0
    assert "dementia_cafe" not in set(zones["category"]) and "shopping" in set(zones["category"])
    assert main(["gaps", str(ws.path), "--category", "認知症カフェ", "--category", "買い物支援(移動販売を含む)",
                 "--category", "サロン"]) == 0
    printed = capsys.readouterr().out
    assert "データなし(資源が1件も登録されていない種別。空白地帯ではなく、資源の情報がありません): " \
           "認知症カフェ" in printed
    assert "認知症カフェ" not in printed.split("65歳以上人口の多い空白地帯: ")[1]
    assert not [line for line in printed.splitlines() if "認知症カフェ" in line and "空白" in line.split(": ")[-1]]


def test_without_network_every_output_says_straight_lines_and_legends_drop_roads(sample_copy, tmp_path, capsys):
    ws = sample_copy
    _no_network(ws, lines=False)  # rivers and rails stay
    csv = tmp_path / "gaps.csv"
    assert main(["gaps", str(ws.path), "--category", "サロン", "--out", str(csv)]) == 0
    assert f"注意: {STRAIGHT}" in capsys.readouterr().out
    assert set(pd.read_csv(csv, encoding="utf-8-sig")["method_note"]) == {STRAIGHT}
    html = tmp_path / "map.html"
    assert main(["export-map", str(ws.path), "--out", str(html)]) == 0
    page = html.read_text(encoding="utf-8")
    assert STRAIGHT in page and "川・鉄道: OpenStreetMap" in page
    assert "道路・川・鉄道" not in page and "主要道路" not in page
    pdf = tmp_path / "map.pdf"
    assert main(["print-map", str(ws.path), "--area", "第2圏域", "--out", str(pdf)]) == 0
    text = _pdf_text(pdf).replace("\n", "")
    assert STRAIGHT in text and "川・鉄道: OpenStreetMap" in text and "主要道路" not in text

    _no_network(ws)  # and nothing else in the background
    assert main(["export-map", str(ws.path), "--out", str(html)]) == 0
    page = html.read_text(encoding="utf-8")
    assert "OpenStreetMap 形式のデータ" not in page and "鉄道" not in page and STRAIGHT in page
    assert main(["print-map", str(ws.path), "--area", "第2圏域", "--out", str(pdf)]) == 0
    text = _pdf_text(pdf).replace("\n", "")
    assert "OpenStreetMap 形式" not in text and "鉄道" not in text and STRAIGHT in text


def test_with_network_and_ages_nothing_extra_is_said(sample_workspace, tmp_path, capsys):
    table, _, _ = gap_report(sample_workspace, categories=["salon"], levels=["municipality"])
    assert set(table["method_note"]) == {"歩行ネットワークで計算"} and set(table["basis"]) == {"65歳以上人口(年齢別)"}
    assert main(["gaps", str(sample_workspace.path), "--category", "サロン"]) == 0
    assert "注意:" not in capsys.readouterr().out


def test_print_map_per_area_falls_back_to_school_districts(sample_copy, tmp_path, capsys):
    ws = sample_copy
    areas = ws.areas()
    two = areas[areas["level"] == "jhs_district"].head(2)  # two districts are enough (and fast)
    _edit(ws, areas=pd.concat([areas[~areas["level"].isin(["living_area", "jhs_district"])], two]))
    pdf = tmp_path / "per.pdf"
    code = main(["print-map", str(ws.path), "--per-area", "--out", str(pdf)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "日常生活圏域がないため、中学校区ごとのページにします" in out
    text = _pdf_text(pdf)
    assert all(f"さくら市 {name} 地域資源マップ" in text for name in two["name"])
    assert "日常生活圏域" not in text  # its line is not in the legend either
    _edit(ws, areas=areas[~areas["level"].isin(["living_area", "jhs_district"])])
    assert main(["print-map", str(ws.path), "--per-area", "--out", str(pdf)]) == 0
    assert "市町村全体で1枚" in capsys.readouterr().out
    assert "さくら市 地域資源マップ" in _pdf_text(pdf)


def test_gaps_page_states_the_fallbacks_and_no_data(sample_copy):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    ws = sample_copy
    _total_only(ws)
    _no_network(ws)
    res = ws.read("resources")
    _edit(ws, resources=res[res["category"] != "dementia_cafe"])
    app = Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py"
    at = AppTest.from_file(str(app), default_timeout=120)
    at.session_state["workspace_path"] = str(ws.path)
    at.session_state["gaps_categories"] = ["認知症カフェ", "居場所・サロン"]
    at.run()
    at.switch_page("app_pages/gaps_page.py")
    at.run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert TOTAL in warnings and STRAIGHT in warnings
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["データなし"]) == len(ws.areas("jhs_district"))
    assert any("認知症カフェ" in i.value and "データなし" in i.value for i in at.info)
    shown = at.dataframe[0].value
    assert np.all(shown.loc[shown["種別"] == "認知症カフェ", "判定"] == "データなし")


def test_council_map_counts_needs_per_the_first_district_level_there_is_and_says_so(sample_copy, tmp_path):
    """A city without 中学校区 gets its need counts per 日常生活圏域 (then 小学校区), said on the map; one
    with none of them gets a note saying why the map has no counts, not a silently missing layer.
    Releases of areas removed since are left out of the audit with a reason."""
    from scgeo.report import export_council

    ws = sample_copy
    areas = ws.read("areas")
    _edit(ws, areas=areas[areas["level"] != "jhs_district"])
    html = export_council(ws, tmp_path / "a.html").read_text(encoding="utf-8")
    assert "ニーズの件数は日常生活圏域ごとです(中学校区の区域がありません)" in html
    assert "ニーズ件数(集計)" in html
    assert read_ledger(ws)[-1].unit_system.startswith("living_area")
    # the demo's earlier 中学校区 releases are left out of the audit, with the reason, not an error
    skipped = publish_needs(ws, level="living_area", record=False).manifest["audit"]["releases_not_combined"]
    assert skipped and all("区域が今のワークスペースにありません" in item["reason"] for item in skipped)
    _edit(ws, areas=areas[~areas["level"].isin(["jhs_district", "living_area", "es_district"])])
    html = export_council(ws, tmp_path / "b.html").read_text(encoding="utf-8")
    assert "ニーズの件数は載せていません(中学校区・日常生活圏域・小学校区の区域がありません)" in html
    assert "ニーズ件数(集計)" not in html
