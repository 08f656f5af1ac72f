"""``scgeo build``: a working 出雲市 (32203) workspace from the shared public files."""

import csv
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scgeo import Workspace
from scgeo.cli import main
from scgeo.commands.build import build_workspace

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FIX = Path(__file__).resolve().parent / "fixtures" / "public"
IZUMO = DATA / "izumo"
SUBSET = DATA / "estat_chome2015" / "subsets" / "izumo_32203.csv"
GAZETTEER = DATA / "geolonia_addresses" / "島根県_出雲市.json"


def write_age_table(subset: Path, out: Path, *, seed: int = 32203) -> pd.DataFrame:
    """An e-Stat 年齢（5歳階級）別人口 CSV for the subset's KEY_CODEs (cp932, 2 header rows).

    Each area's 総数 equals its JINKO (summed over parts); the 21 bands are a fixed random split.
    Returns the expected (pop_total, pop_65plus, pop_75plus) by KEY_CODE.
    """
    raw = pd.read_csv(subset, dtype=str)
    raw = raw[raw["KEY_CODE"].str.startswith("32203") & (raw["HCODE"] != "8154")]
    totals = pd.to_numeric(raw["JINKO"]).groupby(raw["KEY_CODE"], sort=False).sum()
    rng = np.random.default_rng(seed)
    weights = np.r_[np.linspace(1, 1.4, 13), np.linspace(1.5, 0.05, 8)]
    bands = [f"{a}～{a + 4}歳" for a in range(0, 100, 5)] + ["100歳以上"]
    labels = ["総数、年齢「不詳」含む", *bands]
    header = ["KEY_CODE", "HYOSYO", "CITYNAME", "NAME", "HTKSYORI", "HTKSAKI", "GASSAN",
              *[f"T000849{i:03d}" for i in range(1, len(labels) + 1)]]
    rows, expected = [header, [""] * 7 + labels], {}
    for key, total in totals.items():
        counts = rng.multinomial(int(total), weights / weights.sum())
        rows.append([key, "2", "出雲市", "", "0", "", "", int(total), *counts.tolist()])
        expected[key] = (int(total), int(counts[13:].sum()), int(counts[15:].sum()))
    with out.open("w", encoding="cp932", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return pd.DataFrame.from_dict(expected, orient="index",
                                  columns=["pop_total", "pop_65plus", "pop_75plus"])


@pytest.fixture
def izumo_inputs(tmp_path):
    for path in (IZUMO / "MiddleSchool.geojson", SUBSET, GAZETTEER):
        if not path.is_file():
            pytest.skip("shared data (../shared/data) is not available")
    ages = tmp_path / "tblT000849H32203.csv"
    expected = write_age_table(SUBSET, ages)
    return {"ages": ages, "expected": expected}


def test_build_izumo_from_public_files(izumo_inputs, tmp_path, capsys):
    out = tmp_path / "izumo.gpkg"
    started = time.perf_counter()
    code = main(["build", str(out), "--muni-code", "32203", "--name", "出雲市",
                 "--districts", str(IZUMO / "MiddleSchool.geojson"),
                 "--districts", str(IZUMO / "Elementary.geojson"),
                 "--blocks", str(SUBSET), "--ages", str(izumo_inputs["ages"]),
                 "--resources", str(FIX / "kaigo_kohyo_32203.csv"),
                 "--resources", str(FIX / "kaigo_jigyosho_32203.csv"),
                 "--resources", str(FIX / "P14-21_32.geojson"),
                 "--resources", str(FIX / "P04-20_32.geojson"),
                 "--geocode", f"gazetteer:{GAZETTEER}"])
    seconds = time.perf_counter() - started
    printed = capsys.readouterr().out
    assert code == 0, printed
    ws = Workspace.open(out)
    info = ws.info()
    assert info["muni_code"] == "32203" and info["muni_name"] == "出雲市"
    assert info["area_levels"] == {"municipality": 1, "jhs_district": 14, "es_district": 36,
                                   "town_block": 218}
    blocks = ws.town_blocks()
    expected = izumo_inputs["expected"]
    assert len(blocks) == len(expected) == 218
    got = blocks.set_index("area_id")[["pop_total", "pop_65plus", "pop_75plus"]].astype(int)
    pd.testing.assert_frame_equal(got.sort_index(), expected.sort_index(), check_names=False)
    raw = pd.read_csv(SUBSET, dtype=str)
    land = raw["KEY_CODE"].str.startswith("32203") & (raw["HCODE"] != "8154")
    assert blocks["pop_total"].sum() == pd.to_numeric(raw.loc[land, "JINKO"]).sum()
    resources = ws.read("resources")
    # 介護サービス情報公表 4 (1 geocoded) + 標準データセット 8 (7 geocoded, 1 位置未確定) + P14 3 + P04 3
    assert len(resources) == 17 and len(ws.unplaced()) == 1
    assert resources["category"].value_counts().to_dict() == {
        "care_service": 11, "medical": 3, "consultation": 2, "salon": 1}
    assert resources["notes"].fillna("").str.contains("位置: ").sum() == 8
    assert "位置未確定 1 件" in printed
    assert "町丁目" in printed and "住所から求めた位置" in printed and "完了" in printed
    rejected = sorted(p.name for p in (tmp_path / "rejected").glob("izumo_rejected_*.csv"))
    assert rejected == ["izumo_rejected_P14-21_32.csv"]  # こども園: outside the taxonomy
    print(f"\nBUILD {seconds:.2f}s {info['layers']} {info['area_levels']}")

    # gap analysis runs on the built city (no street network here: straight lines × 1.3, said so)
    from scgeo.report import gap_report

    table, zones, _ = gap_report(ws, categories=["care_service", "medical"], levels=["municipality", "jhs_district"])
    assert set(table["method"]) == {"straight_line×1.3"}
    muni = table[table["level"] == "municipality"].set_index("category")
    assert muni["pop_65plus"].round().eq(blocks["pop_65plus"].sum()).all()
    assert muni.loc["care_service", "n_resources"] == 11
    jhs = table[table["level"] == "jhs_district"]
    assert len(jhs) == 14 * 2 and jhs["coverage_pct"].dropna().between(0, 100).all()
    assert jhs.groupby("category")["pop_65plus"].sum().round().eq(blocks["pop_65plus"].sum()).all()
    assert len(zones) > 0
    assert set(table["method_note"]) == {"歩行ネットワークがないため直線距離×迂回係数1.3で計算"}
    assert set(table["basis"]) == {"65歳以上人口(年齢別)"}

    # every category: those with no resource registered in 出雲市 are データなし, never 空白
    table, zones, coverage = gap_report(ws, levels=["municipality", "jhs_district"])
    with_data = set(resources["category"])
    no_data = set(table["category"]) - with_data
    assert no_data == {"kayoi_no_ba", "shared_meal", "meal_delivery", "watching", "shopping", "mobility",
                       "housework", "garbage", "dementia_cafe"} == set(coverage.no_data)
    missing = table[table["category"].isin(no_data)]
    assert (missing["status"] == "データなし").all() and missing["coverage_pct"].isna().all()
    assert not table.loc[table["category"].isin(with_data), "status"].eq("データなし").any()
    assert set(zones["category"]) <= with_data and len(zones)
    code = main(["gaps", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "データなし(資源が1件も登録されていない種別" in printed
    assert "注意: 歩行ネットワークがないため直線距離×迂回係数1.3で計算" in printed
    headline = printed.split("65歳以上人口の多い空白地帯: ")[1]
    assert not any(coverage.taxonomy.label(c) in headline for c in no_data)


def test_build_izumo_total_population_only(tmp_path, capsys):
    """The e-Stat attribute table alone: 総人口 (JINKO) only, so the analysis runs on it and says so."""
    for path in (IZUMO / "MiddleSchool.geojson", SUBSET):
        if not path.is_file():
            pytest.skip("shared data (../shared/data) is not available")
    out = tmp_path / "izumo_total.gpkg"
    code = main(["build", str(out), "--muni-code", "32203", "--districts", str(IZUMO / "MiddleSchool.geojson"),
                 "--blocks", str(SUBSET), "--resources", str(FIX / "P04-20_32.geojson")])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "65歳以上・75歳以上は不明" in printed
    ws = Workspace.open(out)
    assert ws.meta()["muni_name"] == "出雲市"  # from the national code table
    blocks = ws.town_blocks()
    raw = pd.read_csv(SUBSET, dtype=str)
    land = raw["KEY_CODE"].str.startswith("32203") & (raw["HCODE"] != "8154")
    assert blocks["pop_total"].sum() == pd.to_numeric(raw.loc[land, "JINKO"]).sum()
    assert blocks["pop_65plus"].isna().all() and blocks["pop_75plus"].isna().all()
    from scgeo.report import gap_report

    table, zones, coverage = gap_report(ws, levels=["municipality"])
    assert coverage.population_basis == "total"
    assert set(table["basis"]) == {"65歳以上人口が不明なため総人口で計算"}
    assert table["pop_65plus"].round().eq(blocks["pop_total"].sum()).all() and table["pop_75plus"].isna().all()
    assert set(table.loc[table["category"] != "medical", "status"]) == {"データなし"}
    assert set(zones["basis"]) <= {"65歳以上人口が不明なため総人口で計算"}
    assert main(["gaps", str(out)]) == 0
    assert "注意: 65歳以上人口が不明なため総人口で計算" in capsys.readouterr().out


def test_build_function_reports_geocode_levels(izumo_inputs, tmp_path):
    lines = []
    summary = build_workspace(
        tmp_path / "w.gpkg", muni_code="32203", name="出雲市",
        districts=[str(IZUMO / "MiddleSchool.geojson")],
        resources=[str(FIX / "kaigo_jigyosho_32203.csv")], geocode=f"gazetteer:{GAZETTEER}",
        log=lines.append)
    assert summary["geocode"] == {"町丁目": 5, "大字": 2} and summary["unplaced"] == 1
    assert summary["layers"] == {"municipality": 1, "jhs_district": 14, "resources": 7}
    assert any("取込 7 件、位置未確定 1 件" in line for line in lines)


def test_build_rejects_bad_geocode_spec(tmp_path, capsys):
    code = main(["build", str(tmp_path / "x.gpkg"), "--muni-code", "32203", "--geocode", "what"])
    assert code == 2 and "--geocode" in capsys.readouterr().err


def test_build_izumo_mesh_route(tmp_path):
    """Town blocks from e-Stat points, population from a 1 km mesh table (area-weighted)."""
    for path in (IZUMO / "MiddleSchool.geojson", SUBSET):
        if not path.is_file():
            pytest.skip("shared data (../shared/data) is not available")
    import geopandas as gpd
    import jismesh.utils as ju

    from scgeo.crs import to_metric
    from scgeo.io.mesh import mesh_polygons

    districts = gpd.read_file(IZUMO / "MiddleSchool.geojson").to_crs(6668)
    x0, y0, x1, y1 = districts.total_bounds
    lats, lons = np.meshgrid(np.arange(y0, y1, 30 / 3600), np.arange(x0, x1, 45 / 3600))
    codes = sorted({str(c) for c in ju.to_meshcode(lats.ravel(), lons.ravel(), 3)})
    rng = np.random.default_rng(7)
    pop = rng.integers(0, 400, len(codes))
    old = (pop * rng.uniform(0.2, 0.45, len(codes))).astype(int)
    table = pd.DataFrame({"KEY_CODE": codes, "人口（総数）": pop, "65歳以上人口 総数": old,
                          "75歳以上人口 総数": old // 2})
    mesh_csv = tmp_path / "mesh.csv"
    table.to_csv(mesh_csv, index=False, encoding="utf-8-sig")
    out = tmp_path / "izumo_mesh.gpkg"
    summary = build_workspace(out, muni_code="32203", name="出雲市",
                              districts=[str(IZUMO / "MiddleSchool.geojson")],
                              blocks=str(SUBSET), mesh=str(mesh_csv))
    blocks = Workspace.open(out).town_blocks()
    assert len(blocks) == 218
    # independent: each mesh's population times the share of its surface inside the city
    meshes = gpd.GeoDataFrame(table, geometry=mesh_polygons(codes).values, crs=6668)
    outline = gpd.GeoDataFrame(geometry=[districts.union_all()], crs=6668)
    m = to_metric(meshes, muni_code="32203")
    inside = gpd.overlay(m, to_metric(outline, muni_code="32203"), how="intersection")
    expected = (inside["人口（総数）"] * inside.area / m.set_index("KEY_CODE").loc[
        inside["KEY_CODE"]].area.to_numpy()).sum()
    assert blocks["pop_total"].sum() == pytest.approx(expected, abs=2)
    assert summary["population"]["pop_total"] == blocks["pop_total"].sum()
    assert (blocks["pop_75plus"] <= blocks["pop_65plus"] + 1).all()
