"""データ取込: upload a file, check the column mapping and the rejected rows, then write on request."""

import hashlib
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
from app_state import download_data, editor_name, open_workspace, workspace, written

import scgeo
from scgeo import io
from scgeo.location import Expected
from scgeo.schema import AREA_LEVEL_LABELS, AREAS, NEEDS, RESOURCES, TOWN_BLOCKS
from scgeo.sheets import csv_bytes

LAYERS = {
    "社会資源": ("resources", RESOURCES),
    "ニーズ": ("needs", NEEDS),
    "区域(日常生活圏域・中学校区・小学校区など)": ("areas", AREAS),
    "町丁目(人口付き)": ("town_blocks", TOWN_BLOCKS),
}
TABLE_TYPES = ["csv", "tsv", "txt", "xlsx", "xlsm"]
VECTOR_TYPES = ["geojson", "json", "zip", "gpkg"]
NONE = "(対応なし)"
LEVEL_FROM_FILE = "ファイルの列から判定する"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _saved(data: bytes, filename: str) -> tuple[tempfile.TemporaryDirectory, Path]:
    """The upload written to a fresh temporary folder, under a safe name (only the suffix is kept)."""
    folder = tempfile.TemporaryDirectory(prefix="scgeo_upload_")
    path = Path(folder.name) / f"upload{Path(filename).suffix.lower()}"
    path.write_bytes(data)
    return folder, path


@st.cache_data(max_entries=4, show_spinner="ファイルを読んでいます…")
def _headers(digest: str, filename: str, _data: bytes, points: bool) -> tuple[list[str], pd.DataFrame]:
    folder, path = _saved(_data, filename)
    with folder:
        table = io.read_preview(path, rows=5)
    return [str(h) for h in table.columns], table


@st.cache_data(max_entries=4, show_spinner="取り込む内容を確認しています…")
def _parse(digest: str, filename: str, _data: bytes, layer: str, level: str | None, mapping: tuple,
           existing: frozenset, stamp: int, mode: str, _expect) -> scgeo.ImportResult:
    folder, path = _saved(_data, filename)
    with folder:
        common = {"mapping": dict(mapping) or None}
        if layer == "resources":
            return io.read_resources(path, existing_ids=set(existing) or None, **common)
        if layer == "needs":
            return io.read_needs(path, existing_ids=set(existing) or None, **common)
        if layer == "areas":
            return io.read_areas(path, level=level, expect=_expect, **common)
        return io.read_town_blocks(path, expect=_expect, **common)


def _expected(layer: str, level: str | None, mode: str) -> Expected | None:
    """Where an area layer must lie: near the municipality, on the workspace's areas (not those replaced)."""
    if layer not in ("areas", "town_blocks"):
        return None
    replaced = ()
    if mode == "replace":
        codes = {label: code for code, label in AREA_LEVEL_LABELS.items()}
        replaced = ("town_block",) if layer == "town_blocks" else (
            (codes[level],) if level else tuple(AREA_LEVEL_LABELS))
    return Expected.for_workspace(workspace(), exclude_levels=replaced)


def _mapping_ui(headers: list[str], schema, points: bool, digest: str) -> dict[str, str]:
    detected = io.detect_columns(headers, schema)  # the readers' own recognition; they do the real work
    targets = [(c.name, c.label + (" *" if c.required else "")) for c in schema.columns]
    if points:
        targets += [("lat", "緯度 *"), ("lon", "経度 *")]
    with st.expander(f"列の対応(自動認識 {len(detected)} 列)— 違っていれば選び直してください", expanded=False):
        st.caption("* は必須。ここで選んだ見出しが自動認識より優先されます。")
        cols = st.columns(3)
        chosen: dict[str, str] = {}
        for i, (name, label) in enumerate(targets):
            options = [NONE, *headers]
            index = options.index(detected[name]) if name in detected else 0
            value = cols[i % 3].selectbox(f"{label} ({name})", options, index=index, key=f"map_{digest[:8]}_{name}")
            if value != NONE:
                chosen[name] = value
    return chosen


def _rejected_csv(rejected: pd.DataFrame) -> bytes:
    return csv_bytes(rejected)


layers = open_workspace()
st.title("データ取込")
if layers is not None:
    flash = st.session_state.pop("import_flash", None)
    if flash:
        st.success(flash)
    st.caption("ファイルを選ぶと、取り込まれる行と除外される行(理由付き)を先に表示します。"
               "「ワークスペースに書き込む」を押すまで、ワークスペースは変わりません。")
    c = st.columns([2, 2, 2])
    kind = c[0].radio("取り込むもの", list(LAYERS), key="import_layer")
    layer, schema = LAYERS[kind]
    points = layer in ("resources", "needs")
    level = None
    if layer == "areas":
        choice = c[1].selectbox("区域の種類", [LEVEL_FROM_FILE, *(v for k, v in AREA_LEVEL_LABELS.items()
                                                            if k != "town_block")], key="import_level")
        level = None if choice == LEVEL_FROM_FILE else choice
    mode_label = c[2].radio("書き込み方", ["追加する", "置き換える"], key="import_mode",
                            help="置き換える: 社会資源・ニーズは今の内容をすべて入れ替え、"
                                 "区域は同じ種類の区域を入れ替えます。")
    mode = "replace" if mode_label == "置き換える" else "append"
    limit_mb = scgeo.get_settings().max_upload_mb
    types = TABLE_TYPES if points else VECTOR_TYPES
    help_text = ("CSV(UTF-8 / Shift_JIS)または Excel (.xlsx)" if points
                 else "GeoJSON、Shapefile 一式の .zip、GeoPackage (.gpkg)")
    upload = st.file_uploader(f"ファイル({help_text}、{limit_mb} MB まで)", type=types,
                              key=f"import_file_{layer}", max_upload_size=limit_mb)
    if upload is not None:
        data = upload.getvalue()
        if Path(upload.name).suffix.lower().lstrip(".") not in types:
            st.error(f"{upload.name} は取り込めない種類のファイルです({', '.join(types)} のいずれか)。")
            st.stop()
        if len(data) > limit_mb * 1024 * 1024:
            st.error(f"{upload.name} は {len(data) / 1024 / 1024:.1f} MB あります。"
                     f"{limit_mb} MB 以下のファイルにしてください。")
            st.stop()
        digest = _digest(data)
        try:
            headers, head = _headers(digest, upload.name, data, points)
        except scgeo.ScgeoError as exc:
            st.error(f"{exc}")
            st.stop()
        st.markdown(f"**{upload.name}** の先頭の行")
        st.dataframe(head, width="stretch", hide_index=True)
        mapping = _mapping_ui(headers, schema, points, digest)
        existing = frozenset()
        if mode == "append" and points:
            existing = frozenset(workspace().ids(layer))
        try:
            result = _parse(digest, upload.name, data, layer, level, tuple(sorted(mapping.items())), existing,
                            layers["stamp"], mode, _expected(layer, level, mode))
        except scgeo.ScgeoError as exc:
            st.error(f"{exc}")
            st.stop()
        accepted, rejected = result
        m = st.columns(3)
        m[0].metric("取り込む行", len(accepted))
        m[1].metric("除外する行", len(rejected))
        m[2].metric("ワークスペースの現在の件数", workspace().count("areas" if layer == "town_blocks" else layer))
        for message in result.messages:
            st.warning(message)
        clash = []
        if mode == "append" and not points and len(accepted):
            clash = sorted(set(accepted["area_id"]) & workspace().ids("areas"))
            if clash:
                st.error(f"区域ID {', '.join(clash[:5])} などは既に登録されています。"
                         "「置き換える」を選ぶか、ファイルの区域IDを確認してください。")
        tabs = st.tabs([f"取り込む行 ({len(accepted)})", f"除外する行と理由 ({len(rejected)})"])
        with tabs[0]:
            shown = pd.DataFrame(accepted.drop(columns="geometry", errors="ignore"))
            st.dataframe(shown.rename(columns={c.name: c.label for c in schema.columns}), hide_index=True,
                         width="stretch", height=260)
        with tabs[1]:
            if len(rejected):
                st.dataframe(rejected[["source_row", "reason", *[c for c in rejected if c not in
                                                                   ("source_row", "reason")]]]
                             .rename(columns={"source_row": "行", "reason": "除外の理由"}),
                             hide_index=True, width="stretch", height=260)
                st.download_button("除外した行を CSV で保存", download_data(_rejected_csv(rejected)),
                                   file_name=f"{Path(upload.name).stem}_rejected.csv", mime="text/csv")
            else:
                st.caption("除外する行はありません。")
        if st.button(f"ワークスペースに書き込む({len(accepted)} 件、{mode_label})", type="primary",
                     disabled=not len(accepted) or bool(clash)):
            try:
                with st.spinner("書き込んでいます…"):
                    n = workspace().import_result(layer, result, mode=mode, user=editor_name(), source=upload.name)
            except scgeo.ScgeoError as exc:
                st.error(f"書き込めませんでした(ワークスペースは変わっていません): {exc}")
            else:
                st.session_state["import_flash"] = f"{upload.name} から {n} 件を書き込みました。"
                _parse.clear()
                written()
