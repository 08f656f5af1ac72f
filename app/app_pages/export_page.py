"""出力: the offline council map (HTML) and the resource table (Excel), for the town or one 日常生活圏域."""

import tempfile
from pathlib import Path

import streamlit as st
from app_state import area_choices, download_data, open_workspace, require, taxonomy, workspace_stamp

import scgeo
from scgeo.filters import areas_within, filter_resources
from scgeo.maps.static import print_map
from scgeo.report import export_council, labelled_resources
from scgeo.schema import RESOURCES
from scgeo.sheets import xlsx_bytes

WHOLE = "市全域"


@st.cache_data(max_entries=8, show_spinner=False)
def council_html(path: str, stamp: int, area_id: str | None) -> str:
    """The council map, as `scgeo export-map` writes it: self-contained HTML on the built-in street
    map, with blank zones and need counts (suppressed), for the town or one area."""
    with tempfile.TemporaryDirectory(prefix="scgeo_export_") as folder:
        return export_council(scgeo.Workspace.open(path), Path(folder) / "map.html",
                              area=area_id).read_text(encoding="utf-8")


@st.cache_data(max_entries=8, show_spinner=False)
def print_pdf(path: str, stamp: int, area_id: str | None) -> tuple[bytes, int]:
    """The print map (A3 PDF; one page per 日常生活圏域 for the whole town) and its page count."""
    with tempfile.TemporaryDirectory(prefix="scgeo_export_") as folder:
        pdf, pages = print_map(scgeo.Workspace.open(path), Path(folder) / "map.pdf", area=area_id,
                               per_area=area_id is None)
        return pdf.read_bytes(), pages


@st.cache_data(max_entries=8, show_spinner=False)
def resources_xlsx(path: str, stamp: int, area_id: str | None, _resources) -> bytes:
    """The resources as an Excel sheet with Japanese headers and labels instead of codes."""
    table = labelled_resources(_resources, taxonomy=taxonomy(), digits=7)
    labels = {c.name: c.label for c in RESOURCES.columns} | {"lat": "緯度", "lon": "経度"}
    return xlsx_bytes(table.rename(columns=labels), sheet_name="社会資源", freeze_panes="C2", fit_widths=True)


def made_on_request(kind: str, stamp: int, area_id: str | None, button, make):
    """What was made on request for this file state and area: ``make()`` once ``button()`` is clicked,
    then the same thing on every rerun until the workspace changes.

    Making a map with need counts records a release in the workspace's ledger, so the file changes
    under the page: the state just after that write is the same state. Without this, the rerun that a
    click on 「ダウンロード」 starts would see a new file, offer 「作る」 again and drop the download.
    """
    made = st.session_state.setdefault("export_made", {})  # (kind, area) -> (file states, what was made)
    stamps, value = made.get((kind, area_id), ((), None))
    if stamp in stamps:
        return value
    if not button():
        return None
    value = make()
    made[(kind, area_id)] = ({stamp, workspace_stamp()}, value)
    return value


require("read")  # checked here too, not only by the navigation
layers = open_workspace()
st.title("出力(協議体・関係機関向け)")
if layers is not None:
    info = layers["info"]
    if not info["layers"]["resources"] and not info["layers"]["areas"]:
        st.info("このワークスペースにはまだデータがありません。「データ取込」のページで区域や社会資源を取り込んでください。")
        st.stop()
    living = area_choices(layers["areas"], levels=("living_area",))
    choice = st.selectbox("範囲", [WHOLE, *living], key="export_area")
    area_id = living.get(choice)
    areas, resources = layers["areas"], layers["resources"]
    if area_id is not None:
        areas = areas_within(areas, area_id)
        resources = filter_resources(resources, layers["areas"], area_id=area_id)
    stem = f"{info['muni_code']}_{'all' if area_id is None else area_id}"
    st.metric("対象の社会資源", len(resources))
    st.caption("個別のニーズ(個人情報)は含みません(ニーズは中学校区ごとの件数だけで、5件未満は秘匿)。"
               "地図は `scgeo export-map` と同じ1つの HTML ファイルで、空白地帯のレイヤ付き。"
               "インターネットのない会場でも道路網の簡易地図の上に開けます。")

    stamp = layers["stamp"]
    c = st.columns(3)
    with c[0]:
        st.subheader("地域資源マップ(HTML)")

        def make_map() -> str:
            with st.spinner("地図を作っています(空白地帯の分析を含みます)…"):
                return council_html(info["path"], stamp, area_id)

        html = made_on_request("map", stamp, area_id, make=make_map,
                               button=lambda: st.button("地図を作る", key="export_make_map", type="primary"))
        if html is not None:
            st.download_button("地図をダウンロード", download_data(html.encode("utf-8")), on_click="ignore",
                               file_name=f"{stem}_resource_map.html", mime="text/html", type="primary")
            st.caption(f"{len(html) / 1024:,.0f} KB。空白地帯と中学校区ごとのニーズ件数(秘匿済み)のレイヤ付き。")
        else:
            st.caption("`scgeo export-map` と同じ地図を作ります(空白地帯の分析を含むので少し時間がかかります)。")
    with c[1]:
        st.subheader("社会資源の一覧(Excel)")
        with st.spinner("Excel を作っています…"):
            xlsx = resources_xlsx(info["path"], stamp, area_id, resources)
        st.download_button("Excel をダウンロード", download_data(xlsx), file_name=f"{stem}_resources.xlsx",
                           on_click="ignore",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        st.caption("列見出しは日本語、種別・提供主体・状態は日本語の名前で出力します。")
    with c[2]:
        st.subheader("印刷用の地図(PDF)")

        def make_pdf() -> tuple[bytes, int]:
            with st.spinner("PDF を作っています…"):
                return print_pdf(info["path"], stamp, area_id)

        made = made_on_request("pdf", stamp, area_id, make=make_pdf,
                               button=lambda: st.button("PDF を作る", key="export_make_pdf"))
        if made is not None:
            pdf, pages = made
            st.download_button("PDF をダウンロード", download_data(pdf), file_name=f"{stem}_print_map.pdf",
                               mime="application/pdf", on_click="ignore")
            st.caption(f"A3 横 {pages} ページ(番号付きの資源と名称の一覧)。")
        else:
            st.caption("A3 横、日常生活圏域ごとに1ページ(番号付きの資源と名称の一覧)。")
