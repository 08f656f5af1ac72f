"""社会資源: the resource inventory as an editable table, with confirmation, closing, deletion and history."""

import datetime as dt

import pandas as pd
import streamlit as st
from app_state import STATUS_LABELS, editor_name, open_workspace, plain, require, taxonomy, workspace, written

import scgeo
from scgeo.analysis.freshness import STATE_LABELS, freshness
from scgeo.filters import filter_resources
from scgeo.report import describe_edit, labelled_edits, labelled_resources, to_jst
from scgeo.schema import EDITS, RESOURCES

EDITABLE = ["name", "category", "provider_type", "address", "schedule", "capacity", "fee", "contact", "target",
            "status", "notes"]
SELECT = "選択"
FRESHNESS = "確認の状態"


def _label(name: str) -> str:
    return RESOURCES.column(name).label


def _table(resources: pd.DataFrame, states: pd.DataFrame) -> pd.DataFrame:
    """The resources as shown in the editor: labels instead of codes, lat/lon instead of geometry."""
    resources = resources.sort_values("resource_id")  # stable order: an edited row stays in place
    labelled = labelled_resources(resources, taxonomy=taxonomy(), digits=6)
    labelled[FRESHNESS] = states["state_label"].reindex(labelled.index)
    columns = dict.fromkeys(["resource_id", *EDITABLE, "category", "provider_type", "status", "last_confirmed",
                             FRESHNESS, "lat", "lon"])
    out = pd.DataFrame({SELECT: False}, index=labelled.index).join(labelled[list(columns)])
    # empty cells stay empty: the grid would print "None" for a missing value of any type
    out["capacity"] = out["capacity"].astype("Int64").astype("string").fillna("")
    out["last_confirmed"] = pd.to_datetime(out["last_confirmed"]).dt.strftime("%Y-%m-%d").fillna("")
    text = [c for c in out.columns if c not in (SELECT, "lat", "lon")]
    out[text] = out[text].astype(object).where(out[text].notna(), "")
    return out.reset_index(drop=True)


def _config() -> dict:
    tax = taxonomy()
    config = {
        SELECT: st.column_config.CheckboxColumn(SELECT, help="確認済み・廃止・削除の対象にする行"),
        "resource_id": st.column_config.TextColumn(_label("resource_id"), disabled=True),
        "category": st.column_config.SelectboxColumn(
            _label("category"), options=[c.label for c in tax.categories.values()], required=True),
        "provider_type": st.column_config.SelectboxColumn(
            _label("provider_type"), options=[p.label for p in tax.provider_types.values()]),
        "status": st.column_config.SelectboxColumn(_label("status"), options=list(STATUS_LABELS.values()),
                                                   required=True),
        "capacity": st.column_config.TextColumn(_label("capacity"), help="人数(空欄は不明)"),
        "last_confirmed": st.column_config.TextColumn(_label("last_confirmed"),
                                                      help="2026-11-01 のように。空欄は未確認"),
        "lat": st.column_config.NumberColumn("緯度", format="%.6f"),
        "lon": st.column_config.NumberColumn("経度", format="%.6f"),
    }
    for col in EDITABLE:
        config.setdefault(col, st.column_config.Column(_label(col)))
    return config


def _changes(table: pd.DataFrame, edited_rows: dict) -> dict[str, dict]:
    """``{resource_id: {column: value}}`` from the editor's edit state (the 選択 column left out)."""
    out: dict[str, dict] = {}
    for pos, cells in edited_rows.items():
        row = table.iloc[int(pos)]
        changes = {k: (None if v == "" else v) for k, v in cells.items() if k in EDITABLE}  # emptied: no value
        if "lat" in cells or "lon" in cells:
            from shapely.geometry import Point

            changes["geometry"] = Point(cells.get("lon", row["lon"]), cells.get("lat", row["lat"]))
        if changes:
            out[row["resource_id"]] = changes
    return out


def _apply(action, ids: list[str], done: str, info: dict) -> None:
    """Run ``action(ws, id, version)`` per id, each write based on the version this page was drawn from.

    When someone else saved in between, the write stops with a conflict (nothing overwritten):
    the page is read again and shows what changed since.
    """
    ws, errors, version, saved = workspace(), [], info["version"], 0
    for rid in ids:
        try:
            action(ws, rid, version)
        except scgeo.WorkspaceConflictError as exc:
            st.session_state["resources_conflict"] = (str(exc), info["last_edit_id"])
            break
        except scgeo.ScgeoError as exc:
            errors.append(f"{rid}: {exc}")
        else:
            version, saved = version + 1, saved + 1  # our own write moved the version on by one
    st.session_state["resources_flash"] = (f"{saved} 件{done}", errors)
    st.session_state["resources_version"] = st.session_state.get("resources_version", 0) + 1
    written()


def _add_form(layers: dict) -> None:
    tax = taxonomy()
    with st.expander("社会資源を追加する"), st.form("add_resource", clear_on_submit=False):
        c = st.columns(3)
        rid = c[0].text_input(_label("resource_id"), placeholder="例: R0500")
        name = c[1].text_input(_label("name"))
        category = c[2].selectbox(_label("category"), [x.label for x in tax.categories.values()])
        c = st.columns(3)
        provider = c[0].selectbox(_label("provider_type"), [x.label for x in tax.provider_types.values()],
                                  index=None, placeholder="未登録")
        address = c[1].text_input(_label("address"))
        schedule = c[2].text_input(_label("schedule"))
        c = st.columns(3)
        lat = c[0].number_input("緯度", value=None, format="%.6f")
        lon = c[1].number_input("経度", value=None, format="%.6f")
        contact = c[2].text_input(_label("contact"))
        if st.form_submit_button("追加する"):
            from shapely.geometry import Point

            values = {"resource_id": rid, "name": name, "category": category, "provider_type": provider,
                      "address": address or None, "schedule": schedule or None, "contact": contact or None,
                      "last_confirmed": dt.date.today().isoformat(),
                      "geometry": Point(lon, lat) if lat is not None and lon is not None else None}
            try:
                workspace().add_feature("resources", values, user=editor_name(),
                                        expected_version=layers["info"]["version"])
            except scgeo.WorkspaceConflictError as exc:
                st.session_state["resources_conflict"] = (str(exc), layers["info"]["last_edit_id"])
                written()
            except scgeo.ScgeoError as exc:
                st.error(f"追加できません: {plain(exc)}")
            else:
                st.session_state["resources_flash"] = (f"{name} を追加しました", [])
                written()


def _restore(generation: int) -> None:
    try:
        workspace().restore(generation, user=editor_name())
    except scgeo.ScgeoError as exc:
        st.session_state["resources_flash"] = ("", [f"戻せませんでした: {exc}"])
        return
    st.session_state["resources_flash"] = ("以前の状態に戻しました(戻す前の状態もバックアップに残しています)", [])
    st.session_state["resources_version"] = st.session_state.get("resources_version", 0) + 1
    written()


def _backups() -> None:
    """以前の状態に戻す: the backup generations kept on every write, newest first."""
    table = workspace().backups()
    with st.expander(f"以前の状態に戻す(バックアップ {len(table)} 世代)"):
        if not len(table):
            st.caption("まだバックアップはありません。ワークスペースを書き換えるたびに、直前の状態を残します。")
            return
        labels = {int(r.generation): f"{to_jst(r.saved_at)} 保存 — 社会資源 {r.resources} 件 — 最後の編集: "
                  f"{describe_edit(r._asdict())}" for r in table.itertuples()}
        generation = st.selectbox("戻す状態(新しい順)", list(labels), format_func=labels.get, key="restore_generation")
        st.caption("戻す前の状態も1世代として残すので、戻したあとでも元に戻せます(`scgeo restore` と同じ)。")
        if st.button("この状態に戻す", key="restore_button"):
            _restore(generation)


require("edit")  # checked here too, not only by the navigation
layers = open_workspace()
st.title("社会資源の一覧と更新")
if layers is not None:
    info = layers["info"]
    seen = st.session_state.get("resources_seen")  # the workspace version the user last saw here
    st.session_state["resources_seen"] = (info["version"], info["last_edit_id"])
    counter = st.session_state.get("resources_version", 0)
    if seen and seen[0] != info["version"]:
        stale = st.session_state.get(f"resources_editor_{counter}_{seen[0]}", {})
        if stale.get("edited_rows"):  # edits made on a table someone else has changed since: not applied
            st.session_state["resources_conflict"] = (
                "表示していた間に他の人がワークスペースを更新したため、表を読み直しました。"
                "編集中の変更は保存していません。内容を確かめて、もう一度入力してください。", seen[1])
    conflict = st.session_state.pop("resources_conflict", None)
    if conflict:  # someone saved after this page was drawn: nothing was overwritten, here is what changed
        st.error(plain(conflict[0]))
        since = workspace().edits().query(f"edit_id > {int(conflict[1])}")
        st.caption(f"読み込んだ後に保存された変更({len(since)} 件)。最新の内容を読み直しました。")
        st.dataframe(since.rename(columns={c.name: c.label for c in EDITS.columns}), hide_index=True,
                     width="stretch")
    flash = st.session_state.pop("resources_flash", None)
    if flash:
        if flash[0]:
            st.success(flash[0])
        for error in flash[1]:
            st.error(plain(error))
    resources = layers["resources"]
    today = dt.date.today()
    flags = workspace().review_flags()
    states = freshness(resources, today=today, flags=flags)
    late = states["state"].isin(["overdue", "long_unconfirmed", "needs_review"]) & (resources["status"] != "closed")
    cols = st.columns(3)
    cols[0].metric("社会資源", len(resources))
    cols[1].metric("要確認(期限切れ・長期未確認・要確認)", int(late.sum()))
    cols[2].metric("廃止", int((resources["status"] == "closed").sum()))
    if not editor_name():
        st.caption("サイドバーに編集者名を入れると、編集履歴に名前が残ります。")

    tax = taxonomy()
    c = st.columns([2, 3, 3, 3])
    only_stale = c[0].toggle("要確認のみ", key="resources_stale",
                             help="期限切れ・長期未確認・要確認の資源だけを表示します(確認は「確認」のページで)")
    cats = c[1].multiselect("種別", [tax.label(x) for x in tax.categories], key="resources_categories",
                            placeholder="すべての種別")
    picked = c[2].multiselect(FRESHNESS, list(STATE_LABELS.values()), key="resources_states",
                              placeholder="すべての状態")
    keyword = c[3].text_input("キーワード(名称・住所・備考)", key="resources_keyword")
    by_label = {tax.label(x): x for x in tax.categories}
    by_state = {v: k for k, v in STATE_LABELS.items()}
    wanted = [by_state[x] for x in picked] or (["overdue", "long_unconfirmed", "needs_review"] if only_stale else None)
    shown = filter_resources(resources, categories=[by_label[x] for x in cats] or None, states=wanted,
                             review_flags=flags, keyword=keyword or None, today=today)
    st.caption(f"{len(shown)} 件を表示しています。セルを直接書き換えて「変更を保存」を押してください。")

    table = _table(shown, states)
    key = f"resources_editor_{counter}_{info['version']}"  # a new workspace version: a fresh editor
    edited = st.data_editor(table, key=key, column_config=_config(), hide_index=True, num_rows="fixed",
                            width="stretch", height=420, disabled=["resource_id", "last_confirmed", FRESHNESS])
    state = st.session_state.get(key, {})
    changes = _changes(table, state.get("edited_rows", {}))
    selected = edited.loc[edited[SELECT], "resource_id"].tolist()

    b = st.columns(4)
    if b[0].button(f"変更を保存({len(changes)} 件)", type="primary", disabled=not changes):
        _apply(lambda ws, rid, v: ws.update_feature("resources", rid, changes[rid], user=editor_name(),
                                                    expected_version=v),
               list(changes), "の変更を保存しました", layers["info"])
    if b[1].button(f"確認済みにする({len(selected)} 件)", disabled=not selected):
        _apply(lambda ws, rid, v: ws.confirm_resource(rid, user=editor_name(), expected_version=v), selected,
               "を確認済みにしました", layers["info"])
    if b[2].button(f"廃止にする({len(selected)} 件)", disabled=not selected):
        _apply(lambda ws, rid, v: ws.update_feature("resources", rid, {"status": "closed"}, user=editor_name(),
                                                    expected_version=v),
               selected, "を廃止にしました", layers["info"])
    if b[3].button(f"削除…({len(selected)} 件)", disabled=not selected):
        st.session_state["resources_delete"] = selected
    pending = st.session_state.get("resources_delete")
    if pending:
        names = resources.set_index("resource_id").reindex(pending)["name"].fillna("")
        st.warning("次の社会資源を削除します(編集履歴に残ります)。活動をやめた資源は「廃止にする」"
                   "を使うと地図に灰色で残せます(削除しても、下の「以前の状態に戻す」で戻せます)。\n\n"
                   + "\n".join(f"- {plain(i)} {plain(n)}" for i, n in names.items()))
        d = st.columns(4)
        if d[0].button("削除する", type="primary"):
            st.session_state.pop("resources_delete")
            _apply(lambda ws, rid, v: ws.delete_feature("resources", rid, user=editor_name(), expected_version=v),
                   pending, "を削除しました", layers["info"])
        if d[1].button("やめる"):
            st.session_state.pop("resources_delete")
            st.rerun()

    _add_form(layers)

    st.subheader("最近の編集履歴")
    history = workspace().edits().tail(30).iloc[::-1]
    if len(history):
        st.dataframe(labelled_edits(history, taxonomy=tax).drop(columns="編集番号"), hide_index=True, width="stretch")
    else:
        st.caption("まだ編集履歴はありません。")
    _backups()
