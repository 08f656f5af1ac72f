"""ギャップ分析: coverage by area × category (充足/不足/空白), blank zones and catchments, with downloads."""

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
from app_state import NO_WORKSPACE_HELP, download_data, formatted_table, open_workspace, require, sandboxed, taxonomy

import scgeo
from scgeo.analysis import analysis_notes, catchments
from scgeo.maps import offline_html, resource_map
from scgeo.report import gap_report, write_gap_table

LEVELS = {"日常生活圏域": "living_area", "中学校区": "jhs_district", "小学校区": "es_district", "町丁目": "town_block"}
METHODS = {"network": "歩行ネットワーク", "straight_line×1.3": "直線距離×1.3"}
COLUMNS = {  # table column → Japanese header (docs/coverage.md), the verdict first
    "area_id": "区域ID", "area_name": "区域", "category_label": "種別", "status": "判定", "coverage_pct": "カバー率(%)",
    "pop_65plus": "65歳以上人口", "covered_65plus": "うち時間内に資源あり",
    "covered_65plus_unconfirmed": "うち確認が古い資源のみ", "pop_75plus": "75歳以上人口",
    "covered_75plus": "75歳以上 時間内に資源あり", "n_resources": "資源数", "n_resources_unconfirmed": "うち確認が古い",
    "n_resources_town_point": "うち町丁目の代表点",
    "resources_per_1000_65plus": "65歳以上千人あたり資源数",
}
# The library's table also counts open needs per area, unsuppressed (1, 2 … in a 町丁目): this page
# does not show them (COLUMNS leaves them out) and write_gap_table leaves them out of the files;
# suppressed need counts are on the ニーズ page.
STATUS_STYLE = {"充足": "background-color: #c8e6c9; color: #1b5e20",   # green
                "不足": "background-color: #ffe0b2; color: #8a4b00",   # amber
                "空白": "background-color: #ffcdd2; color: #b71c1c",   # red
                "データなし": "background-color: #eeeeee; color: #555555"}  # grey: unknown, not a gap
ZONE_COLUMNS = {"category_label": "種別", "area_name": "中学校区",  # no zone ids: internal codes
                "pop_65plus": "65歳以上人口", "pop_75plus": "75歳以上人口", "area_ha": "面積(ha)"}
PCT_BREAKS = (0, 20, 40, 60, 80, 100)  # 20 % and 80 % are the 空白 / 充足 limits


@st.cache_resource(max_entries=4, show_spinner="空白地帯を計算しています(歩行ネットワーク)…")
def report(path: str, stamp: int, categories: tuple[str, ...], minutes: float):
    """``gap_report`` of the workspace, cached per (file state, categories, minutes). Read-only: do not mutate."""
    return gap_report(scgeo.Workspace.open(path), categories=list(categories) or None, minutes=minutes)


@st.cache_data(max_entries=16, show_spinner="徒歩圏を描いています…")
def walk_catchments(path: str, stamp: int, categories: tuple[str, ...], minutes: float, category: str):
    """Walking catchment of one category at the chosen minutes (None without a network)."""
    coverage = report(path, stamp, categories, minutes)[2]
    if coverage.network is None:
        return None
    return catchments(coverage, categories=[category], thresholds_min=(minutes,))


@st.cache_data(max_entries=16, show_spinner="地図を描いています…")
def map_html(path: str, stamp: int, key: tuple, title: str, label: str, _areas, _resources, _indicator,
             _catchments, _zones) -> str:
    """The coverage map as self-contained HTML (Leaflet inlined: works offline)."""
    m = resource_map(_areas, _resources, title=title, indicator=_indicator, indicator_column="coverage_pct",
                     indicator_label=label, indicator_breaks=PCT_BREAKS, catchments=_catchments,
                     blank_zones=_zones, today=dt.date.today())
    return offline_html(m)


@st.cache_data(max_entries=8, show_spinner=False)
def table_file(path: str, stamp: int, categories: tuple[str, ...], minutes: float, suffix: str, _table) -> bytes:
    """The coverage table written by the library (CSV with BOM or Excel, Japanese headers), as bytes."""
    with tempfile.TemporaryDirectory(prefix="scgeo_gaps_") as folder:
        return write_gap_table(_table, Path(folder) / f"gaps{suffix}", headers="ja").read_bytes()


NUMBER_FORMATS = {
    **{COLUMNS[c]: "{:,.0f}" for c in ("pop_65plus", "covered_65plus", "covered_65plus_unconfirmed", "pop_75plus",
                                       "covered_75plus")},
    COLUMNS["coverage_pct"]: "{:.1f}", COLUMNS["resources_per_1000_65plus"]: "{:.2f}",
}


def _styled(table: pd.DataFrame) -> tuple:
    """The table and its column settings: 「—」 where a value is missing (データなし, 75+ unknown)."""
    styler, config = formatted_table(table[[c for c in COLUMNS if c in table]].rename(columns=COLUMNS), NUMBER_FORMATS)
    return styler.map(lambda v: STATUS_STYLE.get(v, ""), subset=[COLUMNS["status"]]), config


require("read")  # checked here too, not only by the navigation
layers = open_workspace()
st.title("ギャップ分析(空白地帯)")
if layers is not None:
    info = layers["info"]
    if not info["layers"].get("population") or not info["area_levels"].get("town_block"):
        st.info("ギャップ分析には町丁目(人口付き)と社会資源が必要です。「データ取込」のページ"
                "(または `scgeo import … --layer town_blocks`)で取り込んでください。\n\n" + NO_WORKSPACE_HELP)
        st.stop()
    tax = taxonomy()
    by_label = {tax.label(c): c for c in tax.categories}
    c = st.columns([4, 2, 2])
    chosen = c[0].multiselect("種別", list(by_label), key="gaps_categories", placeholder="すべての種別")
    minutes = c[1].slider("徒歩の時間(分)", min_value=5, max_value=30, value=15, step=1, key="gaps_minutes")
    level_label = c[2].selectbox("区域の単位", list(LEVELS), index=1, key="gaps_level")
    categories = tuple(by_label[x] for x in chosen)
    try:
        table, zones, coverage = report(info["path"], layers["stamp"], categories, float(minutes))
    except scgeo.ScgeoError as exc:
        st.warning(f"{exc}")
        st.stop()
    if not len(table):
        st.info("分析できる区域がありません。区域と町丁目を取り込んでください。")
        st.stop()

    method = METHODS.get(str(table["method"].iloc[0]), str(table["method"].iloc[0]))
    speed = scgeo.get_settings().walk_speed_m_per_min
    if coverage.population_basis != "age":
        st.warning(f"人口: **{coverage.basis_note}**。"
                   + ("カバー率・空白地帯の人数は総人口で数えています(75歳以上は不明)。"
                      if coverage.population_basis == "total" else ""))
    if coverage.network is None:
        st.warning(f"計算方法: **{coverage.method_note}**(道路網が取り込まれていません)。")
    else:
        st.caption(f"計算方法: **{method}**(高齢者の歩行速度 {speed:g} m/分)。徒歩 {minutes} 分以内に"
                   "資源がある65歳以上の割合がカバー率です。80% 以上 充足、20% 未満 空白、その間 不足。")

    level = LEVELS[level_label]
    shown = table[table["level"] == level]  # library order: taxonomy order, then area
    counts = shown["status"].value_counts()
    m = st.columns(5)
    m[0].metric(f"{level_label}×種別", len(shown))
    m[1].metric("充足", int(counts.get("充足", 0)))
    m[2].metric("不足", int(counts.get("不足", 0)))
    m[3].metric("空白", int(counts.get("空白", 0)))
    m[4].metric("データなし", int(counts.get("データなし", 0)))
    if coverage.no_data:
        st.info("**データなし**: " + "、".join(tax.label(c) for c in coverage.no_data)
                + " は資源が1件も登録されていないため判定していません(空白地帯ではなく、資源の情報がない状態です)。")
    st.subheader(f"{level_label}ごとのカバー率(徒歩{minutes}分)")
    styled, config = _styled(shown)
    st.dataframe(styled, column_config=config, hide_index=True, width="stretch", height=380, key="gaps_table")

    st.subheader("地図")
    present = [code for code in dict.fromkeys(shown["category"])]
    map_category = st.selectbox("地図に表示する種別", present, format_func=tax.label, key="gaps_map_category")
    if map_category is not None:
        areas = layers["areas"]
        indicator = areas[areas["level"] == level][["area_id", "name", "geometry"]].merge(
            shown.loc[shown["category"] == map_category, ["area_id", "coverage_pct"]], on="area_id")
        resources = layers["resources"]
        resources = resources[(resources["category"] == map_category) & (resources["status"] == "active")]
        catch = walk_catchments(info["path"], layers["stamp"], categories, float(minutes), map_category)
        cat_zones = zones[zones["category"] == map_category]
        label = f"カバー率(%) 徒歩{minutes}分"
        html = map_html(info["path"], layers["stamp"], (categories, minutes, level, map_category, dt.date.today()),
                        f"{info['muni_name']} {tax.label(map_category)} の空白地帯", label, areas, resources,
                        indicator, catch, cat_zones)
        st.iframe(sandboxed(html), height=600)
        st.caption(f"{level_label}の塗り分けはカバー率、赤い斜線の区域は空白地帯、薄い色は徒歩{minutes}分圏"
                   "(右上のレイヤで切り替え)。" + "".join(f" {n}。" for n in analysis_notes(
                       basis=coverage.population_basis, aging_rate=coverage.aging_rate,
                       has_network=coverage.network is not None)))
        if map_category in coverage.no_data:
            st.caption(f"{tax.label(map_category)}: データなし(資源が登録されていません)。灰色は判定なし。")

    st.subheader("空白地帯(65歳以上人口の多い順)")
    if len(zones):
        listing = pd.DataFrame(zones.drop(columns="geometry")).assign(area_ha=zones["area_m2"] / 10_000)
        listing = listing.sort_values("pop_65plus", ascending=False)
        styled, config = formatted_table(listing[list(ZONE_COLUMNS)].rename(columns=ZONE_COLUMNS),
                                         {"65歳以上人口": "{:,.0f}", "75歳以上人口": "{:,.0f}", "面積(ha)": "{:.1f}"})
        st.dataframe(styled, column_config=config, hide_index=True, width="stretch")
    else:
        st.success(f"徒歩{minutes}分で資源に届かない高齢者の住む区域(空白地帯)はありません。")

    st.subheader("ダウンロード")
    stem = f"{info['muni_code']}_gaps_{minutes}min"
    d = st.columns(2)
    d[0].download_button("カバー率の表(CSV)", download_data(table_file(info["path"], layers["stamp"], categories,
                                                                       float(minutes), ".csv", table)),
                         file_name=f"{stem}.csv", mime="text/csv", type="primary")
    d[1].download_button("カバー率の表(Excel)", download_data(table_file(info["path"], layers["stamp"], categories,
                                                                          float(minutes), ".xlsx", table)),
                         file_name=f"{stem}.xlsx",
                         mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    st.caption("すべての区域の単位(市・圏域・中学校区・小学校区・町丁目)を含みます。"
               "列は docs/coverage.md の `gaps.csv` と同じ(見出しは日本語、人数は整数)ですが、"
               "ニーズの件数(秘匿前)の2列は含めません。"
               "ニーズの件数は「ニーズ」のページで、少ない件数を秘匿した集計を使ってください。")
