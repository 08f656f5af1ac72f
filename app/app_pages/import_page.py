"""データ取込: upload a file, find positions from addresses, check match levels, duplicates and the
map before writing once; then place the 位置未確定 rows by clicking the map or picking a 町丁目."""

import datetime as dt
import hashlib
import re
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
from app_state import (
    allowed,
    download_data,
    editor_name,
    map_view,
    open_workspace,
    plain,
    require,
    sandboxed,
    workspace,
    workspace_path,
    written,
)

import scgeo
from scgeo import io
from scgeo.commands import rejected_for_people
from scgeo.geocode import default_source, geocoder_from_source, workspace_cache
from scgeo.io.duplicates import DUPLICATE_CHOICES, DUPLICATE_KINDS, apply_duplicate_choices, find_duplicates
from scgeo.location import Expected
from scgeo.maps import offline_html, placement_map
from scgeo.schema import AREA_LEVEL_LABELS, AREAS, LAYERS, MATCH_LEVEL_LABELS, NEEDS, RESOURCES, TOWN_BLOCKS
from scgeo.sheets import csv_bytes

KINDS = {
    "社会資源": ("resources", RESOURCES),
    "ニーズ": ("needs", NEEDS),  # only for the 内部 role and up (see below)
    **({"会場(公民館・集会所など)": ("venues", LAYERS["venues"])} if "venues" in LAYERS else {}),
    "区域(日常生活圏域・中学校区・小学校区など)": ("areas", AREAS),
    "町丁目(人口付き)": ("town_blocks", TOWN_BLOCKS),
}
POINTS = tuple(layer for layer, _ in KINDS.values() if LAYERS[layer].geometry == "Point")
TABLE_TYPES = ["csv", "tsv", "txt", "xlsx", "xlsm"]
VECTOR_TYPES = ["geojson", "json", "zip", "gpkg"]
NONE = "(対応なし)"
LEVEL_FROM_FILE = "ファイルの列から判定する"
GEO_FILE, GEO_JAGEO, GEO_GSI, GEO_OFF = "gazetteer:", "jageocoder:", "gsi", "off"
GEO_LABELS = {"town-blocks": "このワークスペースの町丁目の代表点 (town-blocks)",
              GEO_FILE: "地名辞書ファイル (位置参照情報・Geolonia・scgeo gazetteer)",
              GEO_JAGEO: "jageocoder (辞書のフォルダ または サーバーの URL)",
              GEO_GSI: "国土地理院の住所検索 (インターネットに住所を送る)",
              GEO_OFF: "住所から位置を求めない"}
CHOICE_LABELS = {v: k for k, v in DUPLICATE_CHOICES.items()}


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _safe_name(filename: str) -> str:
    """The user's own file name (so that messages name it), stripped of anything path-like."""
    name = Path(filename.replace("\\", "/")).name
    stem = re.sub(r"[^\w\-.()（）　 ]", "_", Path(name).stem).strip(". ")[:80] or "upload"
    return stem + Path(name).suffix.lower()


def _saved(data: bytes, filename: str) -> tuple[tempfile.TemporaryDirectory, Path]:
    """The upload written to a fresh temporary folder under the user's (sanitised) file name."""
    folder = tempfile.TemporaryDirectory(prefix="scgeo_upload_")
    path = Path(folder.name) / _safe_name(filename)
    path.write_bytes(data)
    return folder, path


@st.cache_data(max_entries=4, show_spinner="ファイルを読んでいます…")
def _headers(digest: str, filename: str, _data: bytes) -> tuple[list[str], pd.DataFrame]:
    folder, path = _saved(_data, filename)
    with folder:
        table = io.read_preview(path, rows=5)
    return [str(h) for h in table.columns], table


@st.cache_resource(max_entries=4, show_spinner="地名辞書を準備しています…")
def _geocoder(source: str, location: str, stamp: int):
    return geocoder_from_source(source, workspace=scgeo.Workspace.open(location))


@st.cache_data(max_entries=4, show_spinner="取り込む内容を確認しています(住所から位置を求めています)…")
def _parse(digest: str, filename: str, _data: bytes, layer: str, level: str | None, mapping: tuple,
           existing: frozenset, source: str | None, as_of: dt.date | None, stamp: int, mode: str,
           _expect) -> scgeo.ImportResult:
    folder, path = _saved(_data, filename)
    with folder:
        common = {"mapping": dict(mapping) or None}
        if layer in POINTS:
            ws = workspace()
            geo = {"geocoder": _geocoder(source, workspace_path(), stamp), "geocode_cache": workspace_cache(ws)} \
                if source else {}
            if layer != "needs":
                geo["as_of"] = as_of
            return getattr(io, f"read_{layer}")(path, existing_ids=set(existing) or None, **geo, **common)
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


def _mapping_ui(headers: list[str], schema, points: bool, digest: str, by_address: bool) -> dict[str, str]:
    detected = io.detect_columns(headers, schema)  # the readers' own recognition; they do the real work
    targets = [(c.name, c.label + (" *" if c.required else "")) for c in schema.columns
               if c.name not in ("match_level", "matched_address")]
    if points:
        star = "" if by_address else " *"
        targets += [("lat", f"緯度{star}"), ("lon", f"経度{star}")]
    with st.expander(f"列の対応(自動認識 {len(detected)} 列)— 違っていれば選び直してください", expanded=False):
        st.caption("* は必須。ここで選んだ見出しが自動認識より優先されます(コマンドでは --mapping name=施設名)。")
        cols = st.columns(3)
        chosen: dict[str, str] = {}
        for i, (name, label) in enumerate(targets):
            options = [NONE, *headers]
            index = options.index(detected[name]) if name in detected else 0
            value = cols[i % 3].selectbox(f"{label} ({name})", options, index=index, key=f"map_{digest[:8]}_{name}")
            if value != NONE:
                chosen[name] = value
    return chosen


def _source_ui(layer: str, has_blocks: bool) -> tuple[str | None, bool]:
    """The geocoding source chosen (None: off) and whether to keep it as the workspace default."""
    stored = default_source(workspace())
    options = list(dict.fromkeys([*([stored] if stored else []), *(["town-blocks"] if has_blocks else []),
                                  GEO_FILE, GEO_JAGEO, *([] if layer == "needs" else [GEO_GSI]), GEO_OFF]))
    label = {**GEO_LABELS, **({stored: f"{GEO_LABELS.get(stored, stored)}(ワークスペースの既定)"} if stored else {})}
    c = st.columns([3, 3])
    kind = c[0].selectbox("住所から位置を求める方法", options, format_func=lambda o: label.get(o, o),
                          key="import_geocode")
    source = kind
    if kind in (GEO_FILE, GEO_JAGEO):
        hint = "例: /data/37000-16.0b.csv,/data/37000-21.0a.csv" if kind == GEO_FILE else "例: /data/jageocoder_db2 か http://…/jsonrpc"
        arg = c[1].text_input("ファイル・フォルダ・URL", key=f"import_geocode_{kind}", placeholder=hint).strip()
        source = f"{kind}{arg}" if arg else None
    elif kind == GEO_OFF:
        source = None
    if kind == GEO_GSI:
        st.warning("国土地理院の住所検索を使うと、住所がインターネットに送られます(1件ずつ、1秒に1件)。"
                   "個人の住所を含む一覧には使わないでください。")
    keep = bool(source) and source != stored and c[1].checkbox(
        "この方法をワークスペースの既定にする", key="import_geocode_keep",
        help="次からの取込(アプリとコマンド)で、座標のない行にこの方法を使います。")
    return source, keep


def _levels_caption(accepted: pd.DataFrame, unplaced: pd.DataFrame | None) -> None:
    if "match_level" not in accepted:
        return
    counts = accepted["match_level"].map(MATCH_LEVEL_LABELS).value_counts()
    parts = [f"{k} {v} 件" for k, v in counts.items()]
    if unplaced is not None and len(unplaced):
        parts.append(f"位置未確定 {len(unplaced)} 件")
    if parts:
        st.markdown("**位置の精度**: " + "、".join(parts))
    coarse = int(accepted["match_level"].isin(["chome", "oaza"]).sum())
    if coarse:
        st.info(f"{coarse} 件は番地まで分からず、町丁目・大字の代表点に置きます。地図では白抜きで表示し、"
                "吹き出しに「位置は町丁目の代表点」と出ます。分析でもその件数を示します。")


def _duplicates_ui(layer: str, accepted: pd.DataFrame, mode: str, digest: str):
    """Per-row choice for rows that repeat a workspace feature or an earlier row: (add, updates)."""
    schema = LAYERS[layer]
    if "name" not in schema.names or not len(accepted):
        return accepted, None
    current = workspace().read(layer) if mode == "append" else None
    dups = find_duplicates(accepted, current, id_column=schema.id_column)
    found = dups["kind"].notna().to_numpy()
    if not found.any():
        return accepted, None
    names = dict(zip(current[schema.id_column], current["name"], strict=True)) if current is not None else {}
    other = [names.get(e, e) if e is not None else
             (f"このファイルの「{accepted['name'].iloc[int(f)]}」" if f is not None else None)
             for e, f in zip(dups["existing_id"], dups["file_row"], strict=True)]
    table = pd.DataFrame({"名称": accepted["name"], "住所": accepted.get("address"), "重複の相手": other,
                          "理由": dups["kind"].map(DUPLICATE_KINDS),
                          "扱い": DUPLICATE_CHOICES["skip"]})[found]
    st.warning(f"重複の可能性がある行が {int(found.sum())} 件あります。行ごとに扱いを選んでください"
               "(「既存を更新する」はワークスペースの資源との重複だけ)。")
    edited = st.data_editor(table, hide_index=True, width="stretch", key=f"dups_{digest[:8]}", disabled=[
        "名称", "住所", "重複の相手", "理由"], column_config={"扱い": st.column_config.SelectboxColumn(
            "扱い", options=list(DUPLICATE_CHOICES.values()), required=True)})
    choices = pd.Series("add", index=range(len(accepted)), dtype=object)
    choices[found] = edited["扱い"].map(CHOICE_LABELS).to_numpy()
    return apply_duplicate_choices(accepted, dups, choices.tolist(), id_column=schema.id_column)


@st.cache_data(max_entries=4, show_spinner="地図を準備しています…")
def _preview_html(path: str, stamp: int, key: str, _accepted) -> str:
    ws = scgeo.Workspace.open(path)
    m = placement_map(ws.areas(), _accepted, streets=ws.read("network_edges"),
                      basemap_lines=ws.read("basemap_lines"), title="取り込む行の位置")
    return offline_html(m)


def _unplaced_section(layers: dict) -> None:
    ws = workspace()
    pending = ws.unplaced()
    if not len(pending):
        return
    st.divider()
    st.subheader(f"位置未確定 ({len(pending)} 件)")
    st.caption("住所から位置を決められなかった行(市区町村までしか分からない・見つからない)です。地図には載らず、"
               "分析にも入っていません。地図をクリックするか町丁目を選んで配置してください。")
    shown = pending.rename(columns={"name": "名称", "address": "住所", "matched_address": "見つかった地名",
                                    "source": "取込元", "file_row": "行", "layer": "取込先"})
    st.dataframe(shown[["名称", "住所", "見つかった地名", "取込元", "行", "取込先"]], hide_index=True, width="stretch")
    labels = {u: f"{n or f}({a or '住所なし'})" for u, n, f, a in
              zip(pending["unplaced_id"], pending["name"], pending["feature_id"], pending["address"], strict=True)}
    pick = st.selectbox("配置する行", list(labels), format_func=labels.get, key="place_pick")
    click = st.session_state.get("place_map")
    marker = (click["lat"], click["lon"]) if isinstance(click, dict) and "lat" in click else None
    left, right = st.columns([3, 1])
    with left:
        html = offline_html(placement_map(layers["areas"], layers["resources"], marker=marker,
                                          streets=ws.read("network_edges"), basemap_lines=ws.read("basemap_lines"),
                                          title="クリックして位置を決める"))
        if map_view is not None:
            map_view(html=html, height=520, key="place_map", default=None)
        else:
            st.iframe(sandboxed(html), height=520)
    with right:
        if marker is None and map_view is None:
            lat = st.number_input("緯度", value=None, format="%.6f", key="place_lat")
            lon = st.number_input("経度", value=None, format="%.6f", key="place_lon")
            marker = (lat, lon) if lat is not None and lon is not None else None
        st.markdown(f"**クリックした位置**: {marker[0]:.6f}, {marker[1]:.6f}" if marker
                    else "地図をクリックすると、その位置に印が付きます。")
        if st.button("クリックした位置に配置", type="primary", disabled=marker is None, key="place_click"):
            _place(ws, pick, lat=marker[0], lon=marker[1])
        blocks = layers["areas"][layers["areas"]["level"] == "town_block"].sort_values("name")
        if len(blocks):
            block = st.selectbox("または町丁目を選ぶ", blocks["area_id"].tolist(),
                                 format_func=dict(zip(blocks["area_id"], blocks["name"], strict=True)).get,
                                 index=None, placeholder="町丁目", key="place_block")
            if st.button("町丁目の代表点に配置", disabled=block is None, key="place_block_button"):
                _place(ws, pick, town_block=block)
        if st.button("配置せずに一覧から外す", key="place_discard"):
            ws.discard_unplaced(pick, user=editor_name())
            st.session_state["import_flash"] = f"{labels[pick]} を位置未確定の一覧から外しました。"
            written()


def _place(ws, unplaced_id: str, **where) -> None:
    try:
        row = ws.place_unplaced(unplaced_id, user=editor_name(), **where)
    except scgeo.ScgeoError as exc:
        st.error(plain(f"配置できませんでした: {exc}"))
        return
    st.session_state.pop("place_map", None)
    st.session_state["import_flash"] = (f"{row.get('name', row.iloc[0])} を配置しました"
                                        f"({MATCH_LEVEL_LABELS[row['match_level']]})。")
    written()


require("edit")  # checked here too, not only by the navigation
layers = open_workspace()
st.title("データ取込")
if layers is not None:
    flash = st.session_state.pop("import_flash", None)
    if flash:
        st.success(plain(flash))
    st.caption("ファイルを選ぶと、取り込まれる行・位置未確定の行・除外される行(理由付き)と地図を先に表示します。"
               "「ワークスペースに書き込む」を押すまで、ワークスペースは変わりません。")
    c = st.columns([2, 2, 2])
    kinds = [k for k, (name, _) in KINDS.items() if name != "needs" or allowed("read_needs")]
    kind = c[0].radio("取り込むもの", kinds, key="import_layer")
    layer, schema = KINDS[kind]
    points = layer in POINTS
    level = None
    if layer == "areas":
        choice = c[1].selectbox("区域の種類", [LEVEL_FROM_FILE, *(v for k, v in AREA_LEVEL_LABELS.items()
                                                            if k != "town_block")], key="import_level")
        level = None if choice == LEVEL_FROM_FILE else choice
    as_of = None
    if points and "last_confirmed" in schema.names:
        as_of = c[1].date_input("一覧の時点(確認日のない行の最終確認日になります)", value=None, key="import_as_of",
                                help="市の公表日など。新しい一覧なら「要確認」になりません。空欄なら未確認のまま。")
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
            st.error(plain(f"{upload.name} は取り込めない種類のファイルです({', '.join(types)} のいずれか)。"))
            st.stop()
        if len(data) > limit_mb * 1024 * 1024:
            st.error(plain(f"{upload.name} は {len(data) / 1024 / 1024:.1f} MB あります。"
                           f"{limit_mb} MB 以下のファイルにしてください。"))
            st.stop()
        digest = _digest(data)
        try:
            headers, head = _headers(digest, upload.name, data)
        except scgeo.ScgeoError as exc:
            st.error(plain(f"{exc}"))
            st.stop()
        st.markdown(plain(f"**{upload.name}** の先頭の行"))
        st.dataframe(head, width="stretch", hide_index=True)
        source, keep = None, False
        found = io.detect_columns(headers, RESOURCES) if points else {}
        has_xy = {"lat", "lon"} <= set(io.detect_columns(headers, schema)) if points else True
        if points and "address" in found:
            if not has_xy:
                st.info(plain(f"このファイルには緯度・経度の列がありません。住所の列「{found['address']}」から位置を求めます。"))
            source, keep = _source_ui(layer, bool(layers["info"]["area_levels"].get("town_block")))
        mapping = _mapping_ui(headers, schema, points, digest, by_address=source is not None)
        existing = frozenset(workspace().ids(layer)) if mode == "append" and points else frozenset()
        try:
            result = _parse(digest, upload.name, data, layer, level, tuple(sorted(mapping.items())), existing,
                            source, as_of, layers["stamp"], mode, _expected(layer, level, mode))
        except scgeo.ScgeoError as exc:
            st.error(plain(f"{exc}"))
            st.stop()
        accepted, rejected = result
        unplaced = result.unplaced
        m = st.columns(4)
        m[0].metric("取り込む行", len(accepted))
        m[1].metric("位置未確定", 0 if unplaced is None else len(unplaced))
        m[2].metric("除外する行", len(rejected))
        m[3].metric("ワークスペースの現在の件数", workspace().count("areas" if layer == "town_blocks" else layer))
        for message in result.messages:
            st.warning(plain(message))
        _levels_caption(accepted, unplaced)
        clash = []
        if mode == "append" and not points and len(accepted):
            clash = sorted(set(accepted["area_id"]) & workspace().ids("areas"))
            if clash:
                st.error(plain(f"区域ID {', '.join(clash[:5])} などは既に登録されています。"
                               "「置き換える」を選ぶか、ファイルの区域IDを確認してください。"))
        add, updates = _duplicates_ui(layer, accepted, mode, digest) if points else (accepted, None)
        counts = [len(accepted), 0 if unplaced is None else len(unplaced), len(rejected)]
        names = [f"{n} ({k})" for n, k in zip(["取り込む行", "位置未確定", "除外する行と理由"], counts, strict=True)]
        names += ["地図で確認"] if layer != "needs" and points else []
        tabs = st.tabs(names)
        with tabs[0]:
            shown = pd.DataFrame(accepted.drop(columns="geometry", errors="ignore"))
            if "match_level" in shown:
                shown["match_level"] = shown["match_level"].map(MATCH_LEVEL_LABELS)
            st.dataframe(shown.rename(columns={c.name: c.label for c in schema.columns}), hide_index=True,
                         width="stretch", height=260)
        with tabs[1]:
            if unplaced is not None and len(unplaced):
                st.caption("書き込むと「位置未確定」の一覧に入り、このページの下で地図をクリックして配置できます。")
                st.dataframe(unplaced[["file_row", "name", "address", "matched_address"]].rename(columns={
                    "file_row": "行", "name": "名称", "address": "住所", "matched_address": "見つかった地名"}),
                    hide_index=True, width="stretch")
            else:
                st.caption("位置未確定の行はありません。")
        with tabs[2]:
            if len(rejected):
                row_col = "file_row" if "file_row" in rejected else "source_row"
                st.dataframe(rejected[[row_col, "reason", *[c for c in rejected if c not in
                                                            ("source_row", "file_row", "reason")]]]
                             .rename(columns={row_col: "行", "reason": "除外の理由"}),
                             hide_index=True, width="stretch", height=260)
                st.download_button("除外した行を CSV で保存", download_data(csv_bytes(rejected_for_people(rejected))),
                                   file_name=f"{Path(_safe_name(upload.name)).stem}_rejected.csv", mime="text/csv")
            else:
                st.caption("除外する行はありません。")
        if len(names) > 3:
            with tabs[3]:
                if len(accepted):
                    key = f"{digest}:{layer}:{mapping}:{source}:{as_of}:{len(accepted)}"
                    st.iframe(sandboxed(_preview_html(workspace_path(), layers["stamp"], key, accepted)),
                              height=480)
                    st.caption("白抜きの印は町丁目・大字の代表点に置く行です。")
        done = st.session_state.setdefault("import_done", {})
        done_key = f"{digest}:{layer}"
        n_write = len(add) + (0 if updates is None else len(updates))
        if done_key in done:
            st.info(plain(f"{upload.name} は書き込み済みです({done[done_key]})。"
                          "二重に取り込まないよう、ボタンは押せません。"))
        if st.button(f"ワークスペースに書き込む({n_write} 件、{mode_label})", type="primary",
                     disabled=done_key in done or not (n_write or (unplaced is not None and len(unplaced)))
                     or bool(clash)):
            result.accepted = add
            try:
                with st.spinner("書き込んでいます…"):
                    n = workspace().import_result(layer, result, mode=mode, user=editor_name(),
                                                  source=upload.name, updates=updates)
                    if keep and source:
                        workspace().set_meta({"geocode_source": source}, user=editor_name())
            except scgeo.ScgeoError as exc:
                st.error(plain(f"書き込めませんでした(ワークスペースは変わっていません): {exc}"))
            else:
                pending = 0 if unplaced is None else len(unplaced)
                done[done_key] = f"{n} 件、位置未確定 {pending} 件"
                later = f"(位置未確定 {pending} 件は下の一覧で配置できます)" if pending else ""
                st.session_state["import_flash"] = f"{upload.name} から {n} 件を書き込みました{later}。"
                _parse.clear()
                written()
    _unplaced_section(layers)
