"""scgeo app entry: `streamlit run app/streamlit_app.py -- --workspace out/workspace.gpkg`."""

import streamlit as st
from app_state import workspace_path

st.set_page_config(page_title="scgeo 地域資源マップ", page_icon="🗾", layout="wide")

pages = [
    st.Page("app_pages/map_page.py", title="地図", icon="🗺️", default=True),
]
with st.sidebar:
    st.caption("ワークスペース")
    st.text_input("GeoPackage ファイル", key="workspace_path", value=str(workspace_path()))

st.navigation(pages).run()
