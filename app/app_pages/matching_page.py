"""マッチング: nearest suitable resources of each open need, the capacity-aware assignment, and status updates.

Needs appear by their pseudonymous ID only (no coordinates, no town block): this page is internal.
"""

import datetime as dt

import pandas as pd
import streamlit as st
from app_state import editor_name, open_workspace, require, taxonomy, workspace, written

import scgeo
from scgeo.report import match_report
from scgeo.schema import NEED_STATUS_LABELS, WEEKDAYS

ANY_DAY = "指定なし"
TIME_WINDOWS = ["午前", "午後", "9:00-12:00", "10:00-12:00", "13:00-15:00", "13:00-17:00"]
SELECT = "選択"
HEADERS = {"need_id": "ニーズID", "category_label": "種別", "assigned": "割り当て"}
ROW_HEIGHT_PX = 76  # three lines: the grid wraps a cell's text only in rows taller than 64 px


@st.cache_data(max_entries=8, show_spinner="ニーズと資源をつないでいます…")
def proposals(path: str, stamp: int, k: int, max_minutes: float, assign: bool, weekday: str | None,
              provider_types: tuple[str, ...], time_window: str | None = None) -> pd.DataFrame:
    """``match_report``'s one-row-per-need summary (no coordinates), cached per file state and choice."""
    _nearest, _assigned, summary = match_report(scgeo.Workspace.open(path), k=k, max_minutes=max_minutes,
                                                assign=assign, weekday=weekday, time_window=time_window,
                                                provider_types=list(provider_types) or None)
    return summary


def _failed_referral(resources: pd.DataFrame) -> None:
    """A referral that did not work out (closed, moved, no answer): the resource turns 要確認."""
    with st.expander("紹介がうまくいかなかった資源を知らせる(要確認にする)"):
        names = dict(zip(resources["resource_id"], resources["name"], strict=True))
        c = st.columns([3, 3, 1])
        rid = c[0].selectbox("資源", sorted(names, key=names.get), format_func=names.get, index=None,
                             placeholder="名前で選ぶ", key="matching_failed")
        what = c[1].selectbox("何があったか", ["活動していなかった", "連絡がつかなかった", "内容が違っていた",
                                               "受け入れてもらえなかった"], key="matching_failed_what")
        if c[2].button("要確認にする", disabled=rid is None):
            added = workspace().flag_resources([rid], reason="failed_referral", source=f"マッチング: {what}",
                                               user=editor_name())
            st.session_state["matching_flash"] = (
                f"{names[rid]} を要確認にしました" if added else f"{names[rid]} はすでに要確認です", [])
            written()


@st.cache_data(max_entries=8, show_spinner=False)
def need_statuses(path: str, stamp: int) -> pd.DataFrame:
    """Status and status date of every need (no coordinates, no town blocks)."""
    needs = scgeo.Workspace.open(path).read("needs")
    return pd.DataFrame(needs[["need_id", "status", "status_date"]])


def _named(ids: object, minutes: object, names: dict, visiting: set) -> list[str]:
    """``"R1;R2"`` and ``"3.5;8"`` → ``["サロンA(徒歩3.5分)", "配食B(訪問・区域内)"]``."""
    if not isinstance(ids, str) or not ids:
        return []
    mins = minutes.split(";") if isinstance(minutes, str) else []
    parts = []
    for i, rid in enumerate(ids.split(";")):
        name = names.get(rid, rid)
        if rid in visiting:
            parts.append(f"{name}(訪問・区域内)")
        else:
            parts.append(f"{name}(徒歩{mins[i]}分)" if i < len(mins) and mins[i] else name)
    return parts


def _table(summary: pd.DataFrame, resources: pd.DataFrame, k: int) -> pd.DataFrame:
    """One row per need: the assignment, then one column per candidate; why, where there is none.

    A need without a candidate says why in 「候補1」 (「候補なし(20分以内に資源がありません)」), one with
    candidates but no place in 「割り当て」 (「割り当てなし(近くの資源は定員に達しています)」).
    """
    names = dict(zip(resources["resource_id"], resources["name"], strict=True))
    visiting = set(resources.loc[resources["served_area_id"].notna(), "resource_id"])
    out = pd.DataFrame({SELECT: False, "need_id": summary["need_id"], "category_label": summary["category_label"]})
    found = [_named(i, m, names, visiting) for i, m in zip(summary["resource_ids"], summary["minutes"], strict=True)]
    why = [f"({r})" if r else "" for r in summary["reason"].fillna("")]
    if "assigned_resource_id" in summary:
        assigned = []
        for rid, minutes, candidates, reason in zip(summary["assigned_resource_id"], summary["assigned_minutes"],
                                                    found, why, strict=True):
            if pd.notna(rid):
                assigned.append("、".join(_named(rid, f"{minutes:g}", names, visiting)))
            else:  # the reason once: in 候補1 when there is no candidate either
                assigned.append(f"割り当てなし{reason if candidates else ''}")
        out["assigned"] = assigned
    for rank in range(k):
        out[f"候補{rank + 1}"] = [c[rank] if rank < len(c) else (f"候補なし{w}" if rank == 0 else "")
                                 for c, w in zip(found, why, strict=True)]
    return out.rename(columns=HEADERS).reset_index(drop=True)


def _mark(ids: list[str], status: str) -> None:
    ws, errors, today = workspace(), [], pd.Timestamp(dt.date.today())
    for need_id in ids:
        try:
            ws.update_feature("needs", need_id, {"status": status, "status_date": today}, user=editor_name())
        except scgeo.InputError as exc:
            errors.append(f"{need_id}: {exc}")
    st.session_state["matching_flash"] = (
        f"{len(ids) - len(errors)} 件を「{NEED_STATUS_LABELS[status]}」にしました({today:%Y-%m-%d})", errors)
    st.session_state["matching_version"] = st.session_state.get("matching_version", 0) + 1
    need_statuses.clear()
    written()


def _status_counts(path: str, stamp: int) -> None:
    statuses = need_statuses(path, stamp)
    counts = statuses["status"].value_counts()
    cols = st.columns(len(NEED_STATUS_LABELS))
    for col, (code, label) in zip(cols, NEED_STATUS_LABELS.items(), strict=True):
        col.metric(label, int(counts.get(code, 0)))
    done = statuses[statuses["status"].isin(["matched", "resolved"]) & statuses["status_date"].notna()]
    if len(done):
        monthly = pd.crosstab(done["status_date"].dt.strftime("%Y-%m"), done["status"].map(NEED_STATUS_LABELS))
        monthly.index.name, monthly.columns.name = "月(状態更新日)", None
        with st.expander("月ごとの件数(月次報告用)"):
            st.dataframe(monthly.sort_index(ascending=False), width="stretch")


require("read_needs")  # checked here too, not only by the navigation
layers = open_workspace()
st.title("ニーズと資源のマッチング")
if layers is not None:
    info = layers["info"]
    path, stamp = info["path"], layers["stamp"]
    flash = st.session_state.pop("matching_flash", None)
    if flash:
        st.success(flash[0])
        for error in flash[1]:
            st.error(error)
    if not info["layers"]["needs"]:
        st.info("このワークスペースにはまだニーズがありません。「データ取込」のページ(または `scgeo import … "
                "--layer needs`)でニーズを取り込んでください。")
        st.stop()
    _status_counts(path, stamp)
    if not info["layers"]["resources"]:
        st.info("社会資源がまだありません。「データ取込」のページで社会資源を取り込むと、ニーズとつなげます。")
        st.stop()
    st.caption("内部資料: ニーズはニーズIDだけで表示します(座標・町丁目は出しません)。"
               "協議体の資料には「ニーズ」ページの集計表を使ってください。")

    tax = taxonomy()
    resources = layers["resources"]
    providers = [p for p in tax.provider_types if p in set(resources["provider_type"].dropna())]
    by_label = {tax.label(p): p for p in providers}
    with st.form("matching_form"):
        c = st.columns([1, 2, 3])  # two rows: the selects keep room for 「指定なし」 at 1280 px
        k = c[0].number_input("候補の数", min_value=1, max_value=10, value=3, step=1, key="matching_k")
        max_minutes = c[1].slider("徒歩の上限(分)", min_value=5, max_value=60, value=20, step=5, key="matching_max")
        provs = c[2].multiselect("提供主体", list(by_label), key="matching_providers", placeholder="すべての提供主体")
        d = st.columns([1, 1, 2])
        weekday = d[0].selectbox("曜日", [ANY_DAY, *WEEKDAYS], key="matching_weekday")
        window = d[1].selectbox("時間帯", [ANY_DAY, *TIME_WINDOWS], key="matching_time",
                                help="この時間帯に開いている資源だけ(曜日・時間の記載から判断)")
        assign = st.checkbox("定員を考えて割り当てる", value=True, key="matching_assign",
                             help="定員の範囲で、全体の徒歩時間の合計が最小になるように1件ずつ割り当てます")
        if st.form_submit_button("マッチングを実行", type="primary"):
            st.session_state["matching_params"] = (int(k), float(max_minutes), bool(assign),
                                                   None if weekday == ANY_DAY else weekday,
                                                   tuple(by_label[p] for p in provs),
                                                   None if window == ANY_DAY else window)
    params = st.session_state.get("matching_params")
    if params is None:
        st.info("条件を選んで「マッチングを実行」を押すと、未対応のニーズごとに近い資源の候補が出ます。")
        st.stop()
    try:
        summary = proposals(path, stamp, *params)
    except scgeo.ScgeoError as exc:
        st.warning(f"{exc}")
        st.stop()
    if not len(summary):
        st.info("未対応のニーズはありません。")
        st.stop()

    table = _table(summary, resources, params[0])
    has_candidate = summary["resource_ids"].fillna("").ne("")
    m = st.columns(3)
    m[0].metric("未対応のニーズ", len(summary))
    m[1].metric("候補あり", int(has_candidate.sum()))
    if "assigned_resource_id" in summary:
        m[2].metric("割り当てあり", int(summary["assigned_resource_id"].notna().sum()))
    st.caption(f"徒歩{params[1]:g}分以内の近い順に最大{params[0]}件。行を選んで、つないだニーズを「対応済み」、"
               "解決したニーズを「解決」にしてください(今日の日付と編集者名が履歴に残ります)。")
    key = f"matching_editor_{st.session_state.get('matching_version', 0)}"
    # widths in px: at 1280 px the three candidates, the assignment and the ID all show, each text
    # wrapped on up to three lines instead of cut off
    edited = st.data_editor(table, key=key, hide_index=True, num_rows="fixed", width="stretch", height=560,
                            row_height=ROW_HEIGHT_PX, disabled=[c for c in table.columns if c != SELECT],
                            column_config={SELECT: st.column_config.CheckboxColumn(SELECT, width=60),
                                           HEADERS["need_id"]: st.column_config.TextColumn(width=80),
                                           HEADERS["category_label"]: st.column_config.TextColumn(width=110),
                                           HEADERS["assigned"]: st.column_config.TextColumn(width=150),
                                           **{f"候補{r + 1}": st.column_config.TextColumn(width=140)
                                              for r in range(params[0])}})
    selected = edited.loc[edited[SELECT], HEADERS["need_id"]].tolist()
    if not editor_name():
        st.caption("サイドバーに編集者名を入れると、編集履歴に名前が残ります。")
    b = st.columns(4)
    if b[0].button(f"対応済みにする({len(selected)} 件)", type="primary", disabled=not selected):
        _mark(selected, "matched")
    if b[1].button(f"解決にする({len(selected)} 件)", disabled=not selected):
        _mark(selected, "resolved")
    _failed_referral(resources)
