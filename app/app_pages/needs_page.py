"""ニーズ: needs as aggregated, suppressed counts by area or mesh (public); individual rows only in internal mode.

Needs are 要配慮個人情報. By default this page shows nothing of a single need: no ID, no point.
The individual table appears only after the internal mode is switched on *and* confirmed, under
the red mark 「内部資料 — 個人情報を含む」, and there is no download of individual rows here.
"""

import datetime as dt
import json
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
from app_state import download_data, open_workspace, require, sandboxed, taxonomy

import scgeo
from scgeo.maps import offline_html, resource_map
from scgeo.privacy import INTERNAL_MARK, SUPPRESSED_TEXT, TOTAL, publish_needs, write_aggregate
from scgeo.schema import NEED_STATUS_LABELS

UNITS = {  # label → aggregate_needs keywords
    "町丁目": {"level": "town_block"},
    "小学校区": {"level": "es_district"},
    "中学校区": {"level": "jhs_district"},
    "日常生活圏域": {"level": "living_area"},
}  # mesh tables list every cell of the town and take minutes to audit: `scgeo needs --mesh 250`
STATUS_CHOICES = {"未対応のみ": ("open",), "すべての状態": None}
TOTAL_LABEL = "合計"
PAGE_ROWS = 50  # individual needs per page in the internal mode


@st.cache_data(max_entries=16, show_spinner="ニーズを集計し、これまでの公開と合わせて監査しています…")
def aggregate(path: str, stamp: int, unit: str, statuses: tuple[str, ...] | None) -> scgeo.privacy.AggregateResult:
    """The audited, suppressed aggregate (nothing individual leaves this function).

    Audited against the workspace's ledger (shown on screen, not yet recorded): a download records
    it there (:func:`record`), so that later tables are audited against it too.
    """
    ws = scgeo.Workspace.open(path)
    result = publish_needs(ws, statuses=statuses, record=False, **UNITS[unit])
    result.audit = None  # internal (true values): not kept in the cache
    return result


def record(path: str, stamp: int, unit: str, statuses: tuple[str, ...] | None) -> None:
    """Record the downloaded table in the workspace's ledger (a re-release is not added twice)."""
    from scgeo.privacy import record_release, release_of

    result = aggregate(path, stamp, unit, statuses)
    record_release(scgeo.Workspace.open(path), release_of(result, purpose=f"アプリ ニーズのページ({unit})"))


@st.cache_data(max_entries=16, show_spinner=False)
def public_files(path: str, stamp: int, unit: str, statuses: tuple[str, ...] | None) -> tuple[bytes, bytes]:
    """The public CSV and its manifest JSON, as written by the library."""
    result = aggregate(path, stamp, unit, statuses)
    with tempfile.TemporaryDirectory(prefix="scgeo_needs_") as folder:
        csv = write_aggregate(result, Path(folder) / "needs_by_area.csv")
        return csv.read_bytes(), csv.with_name(csv.name + ".manifest.json").read_bytes()


@st.cache_data(max_entries=8, show_spinner="地図を描いています…")
def map_html(path: str, stamp: int, unit: str, statuses: tuple[str, ...] | None, title: str,
             _areas, _resources) -> str:
    """The map of need totals per unit (hidden ones as 「秘匿」), self-contained HTML."""
    counts = aggregate(path, stamp, unit, statuses).geometry.rename(columns={"unit_name": "name"})
    return offline_html(resource_map(_areas, _resources, title=title, need_counts=counts, today=dt.date.today(),
                                     sources="ニーズ: 個別相談・アセスメント(集計・秘匿済み) / 区域: 市町村資料"))


def _wide(result) -> pd.DataFrame:
    """Units × categories of display strings, with Japanese names (秘匿 where suppressed)."""
    tax = taxonomy()
    wide = result.wide()
    names = dict(zip(result.table["unit_id"], result.table["unit_name"], strict=False)) | {TOTAL: TOTAL_LABEL}
    wide.columns = [TOTAL_LABEL if c == TOTAL else tax.label(c) for c in wide.columns]
    wide.insert(0, "集計単位", [names.get(u, u) for u in wide.index])
    wide.index = [TOTAL_LABEL if u == TOTAL else u for u in wide.index]
    wide.index.name = "単位ID"
    return wide.reset_index()


def _internal(path: str) -> None:
    """Individual needs, under the internal mark: only called after the explicit confirmation.

    Drawn with ``st.table`` (a static table), not ``st.dataframe``, whose toolbar would offer the
    individual rows as a CSV download.
    """
    st.error(f"**{INTERNAL_MARK}**  \nこの表は内部資料です。協議体・外部への提示や画面共有はしないでください。")
    tax = taxonomy()
    ws = scgeo.Workspace.open(path)
    needs = ws.read("needs").sort_values("need_id")
    c = st.columns([3, 3, 1])
    cats = c[0].multiselect("種別", [tax.label(x) for x in tax.categories if x in set(needs["category"])],
                            key="needs_internal_categories", placeholder="すべての種別")
    states = c[1].multiselect("状態", list(NEED_STATUS_LABELS.values()), key="needs_internal_statuses",
                              placeholder="すべての状態")
    if cats:
        needs = needs[needs["category"].map(tax.label).isin(cats)]
    if states:
        needs = needs[needs["status"].map(NEED_STATUS_LABELS).isin(states)]
    pages = max(1, -(-len(needs) // PAGE_ROWS))
    page = int(c[2].number_input(f"ページ(全{pages})", min_value=1, max_value=pages, value=1, step=1,
                                 key="needs_internal_page"))
    needs = needs.iloc[(page - 1) * PAGE_ROWS:page * PAGE_ROWS]
    blocks = ws.areas("town_block")
    block_names = dict(zip(blocks["area_id"], blocks["name"], strict=True))
    points = needs.geometry.to_crs(4326)
    valid = ~needs.geometry.isna() & ~needs.geometry.is_empty
    table = pd.DataFrame({
        "ニーズID": needs["need_id"], "種別": needs["category"].map(tax.label),
        "状態": needs["status"].map(NEED_STATUS_LABELS), "記録日": needs["recorded_date"].dt.strftime("%Y-%m-%d"),
        "状態更新日": needs["status_date"].dt.strftime("%Y-%m-%d").fillna(""),
        "町丁目": needs["town_block_id"].map(block_names).fillna(""),
        "緯度": points.y.where(valid).round(6), "経度": points.x.where(valid).round(6),
    })
    st.table(table.set_index("ニーズID"))
    st.caption(f"{len(table)} 件を表示(ページ {page}/{pages}、{PAGE_ROWS} 件ずつ)。個別のニーズはこのページからは"
               "ダウンロードできません(必要なときは `scgeo needs … --internal`)。")


def _suppressed_style(value: object) -> str:
    return "background-color: #eeeeee; color: #616161" if value == SUPPRESSED_TEXT else ""


require("read_needs")  # checked here too, not only by the navigation
layers = open_workspace()
st.title("ニーズの集計")
if layers is not None:
    info = layers["info"]
    path, stamp = info["path"], layers["stamp"]
    if not info["layers"]["needs"]:
        st.info("このワークスペースにはまだニーズがありません。「データ取込」のページ(または `scgeo import … "
                "--layer needs`)でニーズを取り込んでください。")
        st.stop()
    st.caption("ニーズは要配慮個人情報です。このページは区域・メッシュごとの件数だけを示し、少ない件数は「秘匿」にします"
               "(公開用・協議体資料向け)。")
    c = st.columns([2, 2])
    unit = c[0].selectbox("集計の単位", list(UNITS), index=2, key="needs_unit")
    status_label = c[1].radio("対象", list(STATUS_CHOICES), horizontal=True, key="needs_statuses")
    statuses = STATUS_CHOICES[status_label]
    try:
        result = aggregate(path, stamp, unit, statuses)
    except scgeo.ScgeoError as exc:
        st.warning(f"{exc}")
        st.info("区域で集計するには区域(町丁目・校区・圏域)が必要です。メッシュでの集計も選べます。")
        st.stop()
    manifest = result.manifest
    suppressed = manifest["suppressed"]
    m = st.columns(4)
    m[0].metric("集計したニーズ", SUPPRESSED_TEXT if manifest["n_needs"] is None else manifest["n_needs"])
    m[1].metric("集計単位", manifest["n_units"])
    m[2].metric("秘匿の基準", f"{manifest['threshold']} 件未満")
    m[3].metric("秘匿したセル", f"{suppressed['cells']} / {suppressed['of']}")
    st.caption(f"{manifest['rule']} {manifest['outside']['note']} これまでに公開した表 "
               f"{manifest['audit']['releases_combined']} 件と組み合わせても逆算できないことを確かめました"
               "(ダウンロードすると公開台帳に記録します)。")
    if manifest["audit"]["determined_before"]:
        st.caption(f"秘匿したセルのうち {manifest['audit']['determined_before']} セルは、これまでに公開した表だけで"
                   "値が決まっていました(区域の境界のずれなど)。この表では何も変わりません。")

    st.subheader(f"{unit} × 種別の件数")
    wide = _wide(result)
    categories = [col for col in wide.columns if col not in ("単位ID", "集計単位")]
    st.dataframe(wide.style.map(_suppressed_style, subset=categories), hide_index=True, width="stretch")

    st.subheader("地図(単位ごとの合計)")
    areas = layers["areas"]
    if len(areas) or "mesh" in UNITS[unit]:
        html = map_html(path, stamp, unit, statuses, f"{info['muni_name']} ニーズ件数({unit})",
                        areas, layers["resources"].iloc[:0])  # the counts only: resources are on the 地図 page
        st.iframe(sandboxed(html), height=560)
        st.caption("「秘匿」は少ない件数、または逆算を防ぐために隠した件数です。個々のニーズの位置は描いていません。")

    st.subheader("ダウンロード(公開用)")
    csv, manifest_json = public_files(path, stamp, unit, statuses)
    stem = f"{info['muni_code']}_needs_by_{manifest['level']}"
    d = st.columns(2)
    d[0].download_button("集計表(CSV)", download_data(csv, capability="read_needs"), file_name=f"{stem}.csv",
                         mime="text/csv", type="primary", on_click=record, args=(path, stamp, unit, statuses))
    d[1].download_button("マニフェスト(JSON)", download_data(manifest_json, capability="read_needs"),
                         file_name=f"{stem}.csv.manifest.json", mime="application/json", on_click=record,
                         args=(path, stamp, unit, statuses))
    with st.expander("マニフェストの内容(何を、なぜ秘匿したか)"):
        st.json(json.loads(manifest_json), expanded=1)

    st.divider()
    st.subheader("内部資料モード")
    internal = st.toggle("個別のニーズを表示する(内部資料モード)", key="needs_internal",
                         help="担当者が個別に対応するときだけ使います。既定ではオフです。")
    if internal:
        confirmed = st.checkbox("個人情報を含む内部資料であることを確認しました。協議体・外部には見せません。",
                                key="needs_internal_confirm")
        if confirmed:
            _internal(path)
        else:
            st.caption("確認にチェックを入れると、個別のニーズを表示します。")
