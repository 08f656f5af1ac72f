"""社会資源: the resource inventory as an editable table, with confirmation, closing, deletion, history, and the
merge screen when someone else saved the same resource meanwhile."""

import datetime as dt

import pandas as pd
import streamlit as st
from app_state import STATUS_LABELS, editor_name, open_workspace, plain, require, taxonomy, workspace, written

import scgeo
from scgeo.analysis.freshness import STATE_LABELS, freshness
from scgeo.conflicts import CHOICES, field_diffs, resolve, theirs_only
from scgeo.filters import filter_resources
from scgeo.report import describe_edit, labelled_edits, labelled_resources, to_jst
from scgeo.schema import EDITS, RESOURCES, coded

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


def _save(changes: dict[str, dict], drawn: pd.DataFrame, version: int) -> None:
    """Save the edited rows, each against the ``version`` its table was drawn from (per feature).

    A row someone else changed since stops the save there (nothing overwritten): the page shows
    the merge screen (:func:`_merge_screen`) for it; rows saved before it stay saved.
    """
    ws, errors, saved = workspace(), [], 0
    drawn = drawn.set_index("resource_id")
    for rid, change in changes.items():
        change = coded(change, RESOURCES, taxonomy())  # labels as the codes stored: compared alike
        try:
            ws.update_feature("resources", rid, change, user=editor_name(), feature_version=version)
        except scgeo.WorkspaceConflictError as exc:
            st.session_state["resources_merge"] = {"rid": rid, "message": str(exc), "mine": change,
                                                   "base": {**drawn.loc[rid].to_dict(), "resource_id": rid}}
            left = list(changes)[list(changes).index(rid) + 1:]
            if left:
                errors.append(f"{', '.join(left)} の変更は保存していません(もう一度入力してください)。")
            break
        except scgeo.ScgeoError as exc:
            errors.append(f"{rid}: {exc}")
        else:
            saved += 1
    st.session_state["resources_flash"] = (f"{saved} 件の変更を保存しました" if saved else "", errors)
    st.session_state["resources_version"] = st.session_state.get("resources_version", 0) + 1
    written()


def _shown(field: str, value: object) -> str:
    """A value of the merge screen as text: labels instead of codes, a point as 緯度, 経度."""
    if value is None or (not hasattr(value, "geom_type") and pd.isna(value)):
        return "(空欄)"
    if hasattr(value, "geom_type"):
        return "(位置なし)" if value.is_empty else f"{value.y:.6f}, {value.x:.6f}"
    if field == "status":
        return STATUS_LABELS.get(value, str(value))
    if field in ("category", "provider_type"):
        return taxonomy().label(value)
    return str(value)


def _merge_screen(merge: dict) -> None:
    """Someone saved the same resource after this page was drawn: both values side by side per field.

    自分の値をすべて残す, 相手の値をすべて採る, or a choice per field; the choice is saved against
    the version read here (another change in between brings this screen back).
    """
    ws, rid = workspace(), merge["rid"]
    version = ws.version()  # read before the feature: a change after this is caught when saving
    current = ws.read("resources")
    current = current[current["resource_id"] == rid]
    st.error(plain(merge["message"]))
    if not len(current):
        st.warning(f"社会資源 {plain(rid)} は相手が削除しました。自分の変更は保存していません"
                   "(必要なら追加し直してください)。")
        if st.button("閉じる", key="merge_close"):
            st.session_state.pop("resources_merge")
            st.rerun()
        return
    theirs = current.iloc[0].to_dict()
    diffs = field_diffs(merge["base"], merge["mine"], theirs)
    st.subheader(f"同時に変更された社会資源 {rid} {theirs.get('name') or ''}")
    st.caption("項目ごとに、読み込んだときの値・自分の値・相手が保存した今の値を並べています。"
               "残す値を選んで保存するか、下のボタンでまとめて決めてください。")
    choices: dict[str, str] = {}
    head = st.columns([2, 3, 3, 3, 3])
    for col, text in zip(head, ["項目", "読み込んだとき", "自分の値", "相手の値(今)", "残す値"], strict=True):
        col.markdown(f"**{text}**")
    for diff in diffs:
        row = st.columns([2, 3, 3, 3, 3])
        row[0].write(_label(diff.field) if diff.field in RESOURCES.names else "位置")
        row[1].text(_shown(diff.field, diff.base))
        row[2].text(_shown(diff.field, diff.mine))
        row[3].text(_shown(diff.field, diff.theirs) + ("" if diff.they_changed else "(変更なし)"))
        if diff.agree:
            row[4].caption("同じ値")
            continue
        pick = row[4].radio("残す値", list(CHOICES.values()), key=f"merge_{rid}_{diff.field}", horizontal=True,
                            label_visibility="collapsed")
        choices[diff.field] = next(k for k, v in CHOICES.items() if v == pick)
    others = [f for f in theirs_only(merge["base"], merge["mine"], theirs) if f in EDITABLE or f == "geometry"]
    if others:
        st.caption("相手は他の項目も変えています(そのまま残ります): "
                   + "、".join(_label(f) if f in RESOURCES.names else "位置" for f in others))
    b = st.columns(3)
    if b[0].button("自分の値をすべて残して保存", key="merge_mine"):
        _save_merged(ws, merge, resolve(diffs, {}), version, theirs)
    if b[1].button("相手の値をすべて採る(自分の変更は保存しない)", key="merge_theirs"):
        _save_merged(ws, merge, {}, version, theirs)
    if b[2].button("選んだ値で保存", type="primary", key="merge_chosen"):
        _save_merged(ws, merge, resolve(diffs, choices), version, theirs)


def _save_merged(ws, merge: dict, changes: dict, version: int, theirs: dict) -> None:
    st.session_state.pop("resources_merge")
    rid = merge["rid"]
    if not changes:
        st.session_state["resources_flash"] = (f"{rid} は相手の値のままにしました(自分の変更は保存していません)", [])
    else:
        try:
            ws.update_feature("resources", rid, changes, user=editor_name(), feature_version=version)
        except scgeo.WorkspaceConflictError as exc:  # changed again meanwhile: compare with the newest
            st.session_state["resources_merge"] = {**merge, "message": str(exc), "mine": changes, "base": theirs}
        except scgeo.ScgeoError as exc:
            st.session_state["resources_flash"] = ("", [f"{rid}: {exc}"])
        else:
            st.session_state["resources_flash"] = (f"{rid} の変更を保存しました(相手の変更と合わせて)", [])
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
    counter = st.session_state.get("resources_version", 0)
    held = st.session_state.get("resources_held")  # (key, table, version, rows) of the editor on screen
    pending = held is not None and bool(st.session_state.get(held[0], {}).get("edited_rows"))
    merge = st.session_state.get("resources_merge")
    if merge:  # the same resource was saved by someone else: choose per field, then the rest of the page
        _merge_screen(merge)
        st.stop()
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

    if pending and held[2] != info["version"]:
        # Someone saved while this user was typing: the table they typed into stays, and the save is
        # checked per resource against the version it was drawn from (the merge screen on a clash).
        key, table, version, drawn = held
        st.info("表示した後に他の人がワークスペースを保存しました。入力中の変更はそのまま残しています。"
                "保存すると、同じ社会資源を他の人も変えていた場合だけ、両方の値を並べて確かめます。")
    else:
        table, version, drawn = _table(shown, states), info["version"], shown
        key = f"resources_editor_{counter}_{version}"  # a new workspace version: a fresh editor
        st.session_state["resources_held"] = (key, table, version, drawn)
    edited = st.data_editor(table, key=key, column_config=_config(), hide_index=True, num_rows="fixed",
                            width="stretch", height=420, disabled=["resource_id", "last_confirmed", FRESHNESS])
    state = st.session_state.get(key, {})
    changes = _changes(table, state.get("edited_rows", {}))
    selected = edited.loc[edited[SELECT], "resource_id"].tolist()

    b = st.columns(4)
    if b[0].button(f"変更を保存({len(changes)} 件)", type="primary", disabled=not changes):
        _save(changes, drawn, version)
    if b[1].button(f"確認済みにする({len(selected)} 件)", disabled=not selected):
        _apply(lambda ws, rid, v: ws.confirm_resource(rid, user=editor_name(), expected_version=v), selected,
               "を確認済みにしました", layers["info"])
    if b[2].button(f"廃止にする({len(selected)} 件)", disabled=not selected):
        _apply(lambda ws, rid, v: ws.update_feature("resources", rid, {"status": "closed"}, user=editor_name(),
                                                    feature_version=v),
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
            _apply(lambda ws, rid, v: ws.delete_feature("resources", rid, user=editor_name(), feature_version=v),
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
