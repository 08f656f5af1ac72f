"""地図: the 地域資源マップ of the open workspace, with filters, counts and the clicked resource."""

import datetime as dt

import pandas as pd
import streamlit as st
from app_state import (
    STATUS_LABELS,
    allowed,
    area_choices,
    basemap_layers,
    map_view,
    open_workspace,
    plain,
    require,
    sandboxed,
    taxonomy,
    workspace,
)

import scgeo
from scgeo.analysis.freshness import STATE_LABELS, freshness
from scgeo.analysis.ties import tie_lines
from scgeo.filters import areas_within, filter_resources
from scgeo.maps import offline_html, resource_map
from scgeo.report.network import workspace_graph

TILES = "地理院タイル(淡色地図)"
ALL_AREAS = "市全域"
MONTHS = {"指定なし": None, "3か月以内": 3, "6か月以内": 6, "12か月以内": 12, "24か月以内": 24}
DETAILS = {"address": "住所", "schedule": "曜日・時間", "capacity": "定員", "fee": "費用", "contact": "連絡先",
           "target": "対象", "notes": "備考", "source": "出典"}
def _filters(layers: dict) -> dict:
    tax = taxonomy()
    resources = layers["resources"]
    present = [c for c in tax.categories if c in set(resources["category"])]
    providers = [p for p in tax.provider_types if p in set(resources["provider_type"].dropna())]
    areas = area_choices(layers["areas"])
    row1 = st.columns([3, 2, 2])
    cats = row1[0].multiselect("種別", [tax.label(c) for c in present], key="map_categories",
                               placeholder="すべての種別")
    area = row1[1].selectbox("圏域・中学校区", [ALL_AREAS, *areas], key="map_area")
    provs = row1[2].multiselect("提供主体", [tax.label(p) for p in providers], key="map_providers",
                                placeholder="すべての提供主体")
    row2 = st.columns([2, 2, 2, 3])
    statuses = row2[0].multiselect("状態", list(STATUS_LABELS.values()), key="map_statuses",
                                   placeholder="すべての状態")
    months = row2[1].selectbox("最終確認", list(MONTHS), key="map_months")
    fresh = row2[2].multiselect("確認の状態", list(STATE_LABELS.values()), key="map_freshness",
                                placeholder="すべて")
    keyword = row2[3].text_input("キーワード(名称・住所・備考)", key="map_keyword")
    by_label = {tax.label(c): c for c in [*present, *providers]}
    status_codes = {v: k for k, v in STATUS_LABELS.items()}
    return {
        "categories": tuple(by_label[c] for c in cats) or None,
        "area_id": areas.get(area),
        "provider_types": tuple(by_label[p] for p in provs) or None,
        "statuses": tuple(status_codes[s] for s in statuses) or None,
        "confirmed_within_months": MONTHS[months],
        "states": tuple({v: k for k, v in STATE_LABELS.items()}[x] for x in fresh) or None,
        "keyword": keyword.strip() or None,
    }


def _details(row: pd.Series) -> None:
    tax = taxonomy()
    st.subheader(plain(row["name"]))  # texts from data are shown as typed: no Markdown images or links
    provider = tax.label(row["provider_type"]) if pd.notna(row["provider_type"]) else "提供主体 未登録"
    st.caption(plain(f"{tax.label(row['category'])} / {provider} / {STATUS_LABELS.get(row['status'], row['status'])}"))
    for col, label in DETAILS.items():
        value = row.get(col)
        if pd.notna(value) and str(value).strip():
            st.markdown(f"**{label}**: {plain(value)}")
    confirmed = row["last_confirmed"]
    text = "未確認" if pd.isna(confirmed) else f"{confirmed:%Y-%m-%d}"
    state = row.get("_state")
    if state in ("overdue", "long_unconfirmed", "needs_review"):
        st.warning(plain(f"最終確認日: {text}({row['_state_label']}{'。' + row['_reason'] if row['_reason'] else ''})"))
    else:
        st.markdown(f"**最終確認日**: {text}({row.get('_state_label', '')})")
    st.caption(f"資源ID {plain(row['resource_id'])}")


@st.cache_data(max_entries=16, show_spinner="地図を描いています…")
def map_html(path: str, stamp: int, area_id: str | None, today: dt.date, title: str, _areas, _resources,
             _streets, _lines, _flags) -> str:
    """The map of one area (or the town) with all its resources, as self-contained HTML.

    Cached per workspace state and area, shared by every session: a filter change does not
    build or send a new map, only the ids of the resources to show (``scgeo.show`` in the page).
    On 地理院タイル when they load, else on the workspace's own street map (offline).
    """
    ties, not_drawn = tie_lines(workspace_graph(scgeo.Workspace.open(path)))  # the layer starts off
    m = resource_map(_areas, _resources, title=title, today=today, click_events=True, streets=_streets,
                     basemap_lines=_lines, basemap=TILES, review_flags=_flags, ties=ties, ties_not_drawn=not_drawn)
    return offline_html(m)


def _map_event() -> None:
    """A resource clicked on the map becomes the one chosen beside it; a frame without a map asks for it."""
    event = st.session_state.get("map_view")
    if not isinstance(event, dict):
        return
    if event.get("need"):
        st.session_state["map_need"] = event["need"]
    elif event.get("resource_id"):
        st.session_state["map_selected"] = event["resource_id"]


def _show_map(info: dict, layers: dict, area_id: str | None, shown, today: dt.date, flags) -> None:
    areas = layers["areas"] if area_id is None else areas_within(layers["areas"], area_id)
    resources = layers["resources"] if area_id is None else filter_resources(
        layers["resources"], layers["areas"], area_id=area_id)
    streets, lines = basemap_layers(info["path"], layers["stamp"])
    title = f"{info['muni_name']} 地域資源マップ"
    key = f"{info['path']}:{layers['stamp']}:{area_id}:{today}"
    if map_view is None:  # no component: a plain frame, redrawn per filter
        st.iframe(sandboxed(map_html(info["path"], layers["stamp"],
                                     f"{area_id}:{len(shown)}:{hash(tuple(shown['resource_id']))}",
                                     today, title, areas, shown, streets, lines, flags)), height=640)
        st.caption("地図の点をクリックすると吹き出しで内容が出ます。右の欄で選ぶと全項目を表示します。")
        return
    # the page (a few MB) goes to the browser once per workspace state and area; then only the filter
    send = st.session_state.get("map_sent") != key or st.session_state.pop("map_need", None) == key
    html = map_html(info["path"], layers["stamp"], area_id, today, title, areas, resources, streets, lines, flags) \
        if send else ""
    st.session_state["map_sent"] = key
    visible = None if len(shown) == len(resources) else shown["resource_id"].astype(str).tolist()
    map_view(html=html, map_key=key, visible=visible, height=640, key="map_view", on_change=_map_event, default=None)
    st.caption("地図の点をクリックすると、吹き出しと右の欄に内容が出ます(右の欄では名前でも選べます)。")


require("read")  # checked here too, not only by the navigation
layers = open_workspace()
st.title("地域資源マップ")
if layers is not None:
    info = layers["info"]
    st.caption(plain(f"{info['muni_name']} ({info['muni_code']}) — {info['location']}"))
    counts = info["layers"]
    if counts["areas"] == 0 and counts["resources"] == 0:
        cols = st.columns(4)
        cols[0].metric("社会資源", counts["resources"])
        cols[1].metric("区域", counts["areas"])
        cols[2].metric("町丁目", info["area_levels"].get("town_block", 0))
        if allowed("read_needs"):
            cols[3].metric("ニーズ (件数のみ)", counts["needs"])
        st.info("このワークスペースにはまだデータがありません。「データ取込」のページ(または `scgeo import`)で"
                "区域や社会資源を取り込んでください。")
        st.stop()
    chosen = _filters(layers)
    today = dt.date.today()
    flags = workspace().review_flags()
    shown = filter_resources(layers["resources"], layers["areas"], today=today, review_flags=flags, **chosen)
    states = freshness(shown, today=today, flags=flags)
    area_id = chosen["area_id"]
    cols = st.columns(5)
    cols[0].metric("表示中", len(shown))
    cols[1].metric("社会資源", counts["resources"])
    late = states["state"].isin(["overdue", "long_unconfirmed", "needs_review"])
    cols[2].metric("要確認(表示中)", int(late.sum()))
    cols[3].metric("町丁目", info["area_levels"].get("town_block", 0))
    if allowed("read_needs"):  # 閲覧: no figure about needs beyond the audited tables
        cols[4].metric("ニーズ (件数のみ)", counts["needs"])

    left, right = st.columns([3, 1])
    with left:
        _show_map(info, layers, area_id, shown, today, flags)
    with right:
        ids = shown.sort_values("name")["resource_id"].tolist()
        names = dict(zip(shown["resource_id"], shown["name"], strict=True))
        if st.session_state.get("map_selected") not in names:
            st.session_state.pop("map_selected", None)
        picked = st.selectbox("社会資源の詳細", ids, format_func=names.get, key="map_selected", index=None,
                              placeholder="名前で選ぶ(表示中の資源)")
        if picked is not None:
            chosen_row = shown[shown["resource_id"] == picked].iloc[0].copy()
            state_row = states.loc[chosen_row.name]
            chosen_row["_state"], chosen_row["_state_label"] = state_row["state"], state_row["state_label"]
            chosen_row["_reason"] = state_row["review_reason"]
            _details(chosen_row)
        elif not len(shown):
            st.info("条件に合う社会資源はありません。絞り込みをゆるめてください。")
        else:
            st.caption("ここで資源を選ぶと、詳しい情報(最終確認日を含む)が出ます。")
