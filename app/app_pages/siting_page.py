"""資源開発: where a new 通いの場 or サロン would reach the most older people; scenarios saved and compared."""

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
from app_state import (
    NO_WORKSPACE_HELP,
    allowed,
    blank_missing,
    download_data,
    editor_name,
    open_workspace,
    plain,
    require,
    sandboxed,
    taxonomy,
    workspace,
    written,
)

import scgeo
from scgeo.analysis.siting import MODELS, gain_area
from scgeo.maps import VECTOR_BASEMAP, offline_html, resource_map
from scgeo.maps.siting_print import scenario_pdf
from scgeo.network import WalkNetwork
from scgeo.report import site_report
from scgeo.report.scenarios import compare_scenarios, plan_from_scenario, save_scenario, scenarios

DEMANDS = {"65歳以上": "65plus", "75歳以上": "75plus", "65歳以上の一人暮らし": "65plus_alone", "総人口": "total"}
SITE_COLUMNS = {"rank": "順位", "name": "名称", "gain_demand": "新たに徒歩圏に入る人", "gain_65plus": "うち65歳以上",
                "gain_75plus": "うち75歳以上", "address": "住所", "candidate_id": "候補地ID", "lat": "緯度",
                "lon": "経度"}  # the people first: the ID and coordinates are for the files
AREA_COLUMNS = {"area_name": "区域", "demand": "対象の人", "covered_before": "いま徒歩圏",
                "covered_after": "候補地を足すと", "gain": "増える人"}
SCENARIO_COLUMNS = {"scenario_id": "ID", "name": "シナリオ名", "category_label": "種別", "model": "モデル",
                    "k_new": "新規", "minutes": "徒歩(分)", "covered_before": "前", "covered_after": "後",
                    "gain": "増える人", "created_at": "作成", "author": "作成者"}


@st.cache_resource(max_entries=2, show_spinner="歩行ネットワークを読み込んでいます…")
def network(path: str, stamp: int) -> WalkNetwork:
    return WalkNetwork.from_workspace(scgeo.Workspace.open(path))


@st.cache_resource(max_entries=8, show_spinner="候補地を選んでいます(厳密解)…")
def run(path: str, stamp: int, category: str, k_new: int, minutes: float, demand: str, candidates: str,
        model: str, speed: float, include_planned: bool):
    """The siting result (cached per file state and inputs). Read-only: do not mutate."""
    ws = scgeo.Workspace.open(path)
    result = site_report(ws, category=category, k_new=k_new, minutes=minutes, demand=demand, candidates=candidates,
                         model=model, speed_m_per_min=speed, include_planned=include_planned)
    return result, gain_area(result, network(path, stamp))


@st.cache_data(max_entries=8, show_spinner="地図を描いています…")
def map_html(path: str, stamp: int, key: tuple, title: str, _areas, _resources, _sites, _gain) -> str:
    """The proposed sites on the built-in street map (works offline), with the area they bring within reach."""
    ws = scgeo.Workspace.open(path)
    m = resource_map(_areas, _resources, title=title, proposed=_sites, proposed_area=_gain, today=dt.date.today(),
                     basemap=VECTOR_BASEMAP, streets=ws.read("network_edges"), basemap_lines=ws.read("basemap_lines"))
    return offline_html(m)


def _pdf(path: str, scenario_id: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="scgeo_site_") as folder:
        return scenario_pdf(scgeo.Workspace.open(path), scenario_id, Path(folder) / "scenario.pdf").read_bytes()


require("read")  # checked here too, not only by the navigation
layers = open_workspace()
st.title("資源開発(候補地の検討)")
st.caption("既存の資源はそのままに、新しい場所をどこに置けば、歩いて行ける高齢者が最も増えるかを計算します。"
           "候補地は案です。場所の確保や地域の声と合わせて検討してください。")
if layers is not None:
    info = layers["info"]
    if not info["layers"].get("network_edges") or not info["layers"].get("population"):
        st.info("候補地の検討には歩行ネットワークと町丁目別人口が必要です。「データ取込」のページで取り込んでください。\n\n"
                + NO_WORKSPACE_HELP)
        st.stop()
    tax = taxonomy()
    places = {tax.label(c): c for c, cat in tax.categories.items() if cat.mode == "place"}
    c = st.columns([3, 1, 2, 2])
    labels = list(places)
    category_label = c[0].selectbox("種別", labels, index=labels.index(tax.label("kayoi_no_ba"))
                                    if tax.label("kayoi_no_ba") in labels else 0, key="site_category")
    k_new = c[1].number_input("新しく置く数", min_value=1, max_value=20, value=3, step=1, key="site_k")
    minutes = c[2].slider("徒歩の時間(分)", min_value=5, max_value=30, value=15, step=1, key="site_minutes")
    demand_label = c[3].selectbox("数える人", list(DEMANDS), key="site_demand")
    c = st.columns([2, 2, 2, 2])
    venues_ok = bool(info["layers"].get("venues"))
    sources = (["会場の一覧(公民館・集会所など)"] if venues_ok else []) + ["道路上の格子の地点"]
    source = c[0].radio("候補地", sources, key="site_source")
    spacing = c[1].select_slider("格子の間隔(m)", options=[100, 150, 200, 300, 400, 500], value=200, key="site_grid",
                                 disabled=source != "道路上の格子の地点")
    model = c[2].radio("モデル", list(MODELS), format_func=MODELS.get, key="site_model")
    speed = c[3].select_slider("歩行速度(m/分)", options=[40, 50, 60, 70, 80],
                               value=int(scgeo.get_settings().walk_speed_m_per_min), key="site_speed")
    include_planned = st.checkbox("計画中(案)の資源も既存として数える", key="site_planned")
    candidates = "venues" if source.startswith("会場") else f"grid:{spacing}"
    category = places[category_label]
    try:
        result, gain = run(info["path"], layers["stamp"], category, int(k_new), float(minutes), DEMANDS[demand_label],
                           candidates, model, float(speed), include_planned)
    except scgeo.ScgeoError as exc:
        st.warning(plain(str(exc)))
        st.stop()
    s = result.summary
    if s["note"]:
        st.warning(plain(f"注意: {s['note']}"))
    total = s["demand_total"] or float("nan")
    m = st.columns(4)
    m[0].metric(f"{s['demand_label']}(合計)", f"{s['demand_total']:,.0f} 人")
    m[1].metric("いま徒歩圏", f"{s['covered_before']:,.0f} 人", f"{100 * s['covered_before'] / total:.1f}%",
                delta_color="off", delta_arrow="off")
    m[2].metric("候補地を足すと", f"{s['covered_after']:,.0f} 人",
                f"+{s['covered_after'] - s['covered_before']:,.0f} 人")
    m[3].metric("候補地の数", f"{len(result.sites)} か所", f"候補 {s['n_candidates']} 中", delta_color="off",
                delta_arrow="off")
    how = "最適解(計算で証明済み)" if s["optimal"] else "時間内の最良解(最適とは証明されていません)"
    st.caption(f"{MODELS[s['model']]}・徒歩 {minutes} 分・歩行速度 {speed} m/分・既存 {s['n_existing']} か所。{how}。"
               f"1か所ずつ良いものを足す方法(貪欲法)との差 {s['greedy_gap_pct']:.2f}%。計算 {s['seconds']:.1f} 秒。")

    resources = layers["resources"]
    shown = resources[(resources["category"] == category) & resources["status"].isin(["active", "planned"])]
    key = (category, k_new, minutes, demand_label, candidates, model, speed, include_planned)
    html = map_html(info["path"], layers["stamp"], key, f"{info['muni_name']} {category_label} の候補地(案)",
                    layers["areas"], shown, result.sites, gain)
    st.iframe(sandboxed(html), height=620)
    st.caption("番号付きのひし形が候補地(案)(番号は順位)、紫の範囲は候補地で新たに徒歩圏に入る道路沿い、"
               "点線の四角は計画中(案)の資源。右上のレイヤで切り替えられます。")
    # one table under the other: side by side, the counts were cut off at 1280 px
    st.subheader("候補地(増える人の多い順)")
    table = pd.DataFrame(result.sites.drop(columns="geometry"))
    st.dataframe(blank_missing(table[[c for c in SITE_COLUMNS if c in table]].rename(columns=SITE_COLUMNS)),
                 hide_index=True, width="stretch", key="site_table",
                 column_config={v: st.column_config.NumberColumn(format="%.0f")
                                for k, v in SITE_COLUMNS.items() if k.startswith("gain")})
    st.subheader("区域ごとの前後")
    levels = {"日常生活圏域": "living_area", "中学校区": "jhs_district"}
    level = st.radio("区域", list(levels), horizontal=True, key="site_level", label_visibility="collapsed")
    by_area = result.by_area[result.by_area["level"] == levels[level]]
    counts = {v: st.column_config.NumberColumn(format="%.0f") for v in list(AREA_COLUMNS.values())[1:]}
    st.dataframe(by_area[list(AREA_COLUMNS)].rename(columns=AREA_COLUMNS), hide_index=True, width="stretch",
                 column_config=counts)

    if allowed("edit"):  # saving and planning: 編集 and up
        st.subheader("シナリオとして保存")
        with st.form("site_save_form"):
            name = st.text_input("シナリオ名", placeholder=f"例: {category_label} {k_new}か所 徒歩{minutes}分",
                                 key="site_scenario_name")
            if st.form_submit_button("保存", type="primary", key="site_save"):
                try:
                    sid = save_scenario(workspace(), result, name=name, author=editor_name())
                except scgeo.ScgeoError as exc:
                    st.error(plain(str(exc)))
                else:
                    st.success(f"シナリオ {sid} を保存しました。")
                    written()

    ws = workspace()
    saved = scenarios(ws)
    st.subheader("保存したシナリオ")
    if not len(saved):
        st.info("まだシナリオがありません。上で計算した結果を保存すると、ここで比べられます。")
    else:
        people = {SCENARIO_COLUMNS[c]: st.column_config.NumberColumn(format="%.0f")
                  for c in ("covered_before", "covered_after", "gain")}
        st.dataframe(saved[list(SCENARIO_COLUMNS)].rename(columns=SCENARIO_COLUMNS), hide_index=True, width="stretch",
                     key="site_scenarios", column_config=people)
        ids = st.multiselect("比べるシナリオ", list(saved["scenario_id"]), default=list(saved["scenario_id"][:2]),
                             format_func=lambda i: f"{i} {saved.set_index('scenario_id').loc[i, 'name']}",
                             key="site_compare", placeholder="シナリオを選ぶ")
        if ids:
            compared = compare_scenarios(ws, ids)
            st.dataframe(compared, hide_index=True, width="stretch", key="site_compared")
        one = st.selectbox("シナリオを選ぶ", list(saved["scenario_id"]),
                           format_func=lambda i: f"{i} {saved.set_index('scenario_id').loc[i, 'name']}", key="site_one")
        b = st.columns(2)
        b[0].download_button("1枚の概要(PDF)", download_data(_pdf(info["path"], one)),
                             file_name=f"{info['muni_code']}_{one}.pdf", mime="application/pdf")
        if allowed("edit") and b[1].button("候補地を「計画中(案)」の資源として追加", key="site_plan"):
            added = plan_from_scenario(ws, one, user=editor_name())
            st.success(f"{added} か所を計画中(案)として追加しました(地図では点線の四角で表示)。")
            written()
