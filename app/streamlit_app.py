"""scgeo app entry: `streamlit run app/streamlit_app.py -- --workspace out/workspace.gpkg`."""

import streamlit as st
from app_state import allowed, password_gate, workspace_sidebar
from PIL import Image, ImageDraw

# The tab icon, drawn here: a page's Material icon would make the browser fetch it from Google.
ICON = Image.new("RGB", (32, 32), (27, 110, 90))
ImageDraw.Draw(ICON).rectangle((8, 8, 23, 23), fill=(255, 255, 255))

st.set_page_config(page_title="scgeo 地域資源マップ", page_icon=ICON, layout="wide")

if not password_gate():
    st.stop()

# Streamlit's file uploader has no text options: its English words are replaced here (CSS only, the
# widget itself untouched): 「ファイルを選ぶ」 and a Japanese hint; the label says types and size.
UPLOADER_JA = """<style>
[data-testid=stFileUploaderDropzone] button [data-testid=stMarkdownContainer] { display: none; }
[data-testid=stFileUploaderDropzone] button span[data-has-shortcut]::after { content: "ファイルを選ぶ"; }
[data-testid=stFileUploaderDropzoneInstructions] span { display: none; }
[data-testid=stFileUploaderDropzoneInstructions] > div::after {
  content: "ここにファイルをドラッグ&ドロップするか、「ファイルを選ぶ」を押してください"; font-size: 14px; }
</style>"""
st.html(UPLOADER_JA)

MAP = st.Page("app_pages/map_page.py", title="地図", icon=":material/map:", url_path="map")


def _home() -> None:
    """The address without a page (``/``) opens the map page at ``/map``, so ``/map`` also works directly."""
    st.switch_page(MAP)


# One line per page, with what a user's role must allow to see it (閲覧 read < 編集 edit < 内部 read_needs <
# 管理 manage_users, scgeo.users). Each page checks it again itself (app_state.require): a page left out
# of the navigation cannot be opened, and one opened anyway stops.
HOME = st.Page(_home, title="地図", url_path="home", default=True, visibility="hidden")
PAGES = [
    (HOME, "read"),
    (MAP, "read"),
    (st.Page("app_pages/resources_page.py", title="社会資源", icon=":material/table_edit:", url_path="resources"),
     "edit"),
    (st.Page("app_pages/verify_page.py", title="確認", icon=":material/fact_check:", url_path="verify"), "edit"),
    (st.Page("app_pages/gaps_page.py", title="ギャップ分析", icon=":material/explore:", url_path="gaps"), "read"),
    (st.Page("app_pages/matching_page.py", title="マッチング", icon=":material/handshake:", url_path="matching"),
     "read_needs"),
    (st.Page("app_pages/needs_page.py", title="ニーズ", icon=":material/groups:", url_path="needs"), "read_needs"),
    (st.Page("app_pages/network_page.py", title="関係者ネットワーク", icon=":material/hub:", url_path="network"),
     "read"),
    (st.Page("app_pages/siting_page.py", title="資源開発", icon=":material/add_location_alt:", url_path="siting"),
     "read"),
    (st.Page("app_pages/activity_page.py", title="活動記録", icon=":material/edit_note:", url_path="activities"),
     "edit"),
    (st.Page("app_pages/plan_page.py", title="計画・報告", icon=":material/summarize:", url_path="plan"), "edit"),
    (st.Page("app_pages/import_page.py", title="データ取込", icon=":material/upload_file:", url_path="import"), "edit"),
    (st.Page("app_pages/export_page.py", title="出力", icon=":material/download:", url_path="export"), "read"),
    (st.Page("app_pages/users_page.py", title="利用者", icon=":material/manage_accounts:", url_path="users"),
     "manage_users"),
]

page = st.navigation([p for p, capability in PAGES if allowed(capability)], expanded=True)  # every page listed
if page is HOME:  # the bare address only switches to /map: before drawing the sidebar (whose run is thrown away)
    page.run()
st.set_page_config(page_title=f"{page.title} | scgeo 地域資源マップ", page_icon=ICON)
workspace_sidebar()
page.run()
