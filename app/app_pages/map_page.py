"""地図: the 地域資源マップ of the open workspace, with its counts."""

import streamlit as st
from app_state import open_workspace

from scgeo.maps import offline_html, resource_map


@st.cache_data(show_spinner="地図を描いています…")
def map_html(path: str, stamp: float, _layers: dict) -> str:
    info = _layers["info"]
    m = resource_map(_layers["areas"], _layers["resources"], title=f"{info['muni_name']} 地域資源マップ")
    return offline_html(m)


layers = open_workspace()
st.title("地域資源マップ")
if layers is not None:
    info = layers["info"]
    st.caption(f"{info['muni_name']} ({info['muni_code']}) — {info['path']}")
    counts = info["layers"]
    cols = st.columns(4)
    cols[0].metric("区域", counts["areas"])
    cols[1].metric("町丁目", info["area_levels"].get("town_block", 0))
    cols[2].metric("社会資源", counts["resources"])
    cols[3].metric("ニーズ (件数のみ)", counts["needs"])
    if counts["areas"] == 0 and counts["resources"] == 0:
        st.info("このワークスペースにはまだデータがありません。`scgeo import` で区域や社会資源を取り込んでください。")
    else:
        st.iframe(map_html(info["path"], info["last_edit"]["at"] if info["last_edit"] else "", layers),
                        height=680)
