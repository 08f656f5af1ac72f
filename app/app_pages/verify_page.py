"""確認: the verification cycle — what is due, one-click 変わりなし, 確認依頼 sheets, returned answers."""

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
from app_state import (
    area_choices,
    blank_missing,
    download_data,
    editor_name,
    open_workspace,
    plain,
    require,
    workspace,
    written,
)

import scgeo
from scgeo.analysis.freshness import STATE_LABELS, confirmed_share_by_area, freshness
from scgeo.report.request_sheets import write_request_sheets
from scgeo.report.verification import WORK_LIST_COLUMNS, due_work_list, import_answers, write_work_list
from scgeo.schema import CONFIRMATION_METHODS

SELECT = "選択"
ALL_AREAS = "市全域"


def _months(today: dt.date) -> list[str]:
    first = pd.Timestamp(today).to_period("M")
    return [str(first + i) for i in range(0, 7)]


def _record(ids: list[str], *, found: str, method: str, on: dt.date) -> None:
    rows = [{"resource_id": rid, "confirmed_on": on, "method": method, "found": found,
             "confirmed_by": editor_name()} for rid in ids]
    try:
        workspace().record_confirmations(rows, user=editor_name(), source="アプリ「確認」ページ")
    except scgeo.InputError as exc:
        st.session_state["verify_flash"] = (None, str(exc))
    else:
        label = {"unchanged": "変わりなし", "unreachable": "連絡つかず"}[found]
        st.session_state["verify_flash"] = (f"{len(ids)} 件を「{label}」として記録しました", None)
    st.session_state["verify_version"] = st.session_state.get("verify_version", 0) + 1
    written()


require("edit")  # checked here too, not only by the navigation
layers = open_workspace()
st.title("社会資源の確認")
if layers is not None:
    flash = st.session_state.pop("verify_flash", None)
    if flash and flash[0]:
        st.success(flash[0])
    if flash and flash[1]:
        st.error(plain(flash[1]))
    ws = workspace()
    today = dt.date.today()
    resources = layers["resources"]
    active = resources[resources["status"] != "closed"]
    states = freshness(active, today=today, flags=ws.review_flags())
    counts = states["state"].value_counts()
    cols = st.columns(len(STATE_LABELS))
    for col, (code, label) in zip(cols, STATE_LABELS.items(), strict=True):
        col.metric(label, int(counts.get(code, 0)))
    st.caption("確認の間隔は種別・提供主体ごと(住民主体 6か月、事業所など 12か月。種別の定義ファイルで変えられます)。"
               "間隔を過ぎると「確認時期」、さらに2か月で「期限切れ」、間隔の2倍で「長期未確認」です。")

    c = st.columns([2, 3, 2])
    month = c[0].selectbox("いつまでに確認するか(月末)", _months(today), key="verify_month")
    areas = area_choices(layers["areas"])
    area = c[1].selectbox("圏域・中学校区", [ALL_AREAS, *areas], key="verify_area")
    by = c[2].radio("確認依頼の分け方", ["送付先ごと", "中学校区ごと"], key="verify_by", horizontal=True)
    table = due_work_list(ws, month=month, area=areas.get(area), by="provider" if by == "送付先ごと" else "area",
                          today=today)
    st.subheader(f"{table.attrs['on']:%Y年%m月%d日} までに確認する資源: {len(table)} 件")
    if not len(table):
        st.info("この条件で確認の時期になった資源はありません。")
    else:
        shown = blank_missing(table[[c for c in WORK_LIST_COLUMNS if c != "group"]].rename(columns=WORK_LIST_COLUMNS))
        shown.insert(0, SELECT, False)
        shown.attrs = {}  # the month's date is for the writers, not for the browser
        key = f"verify_editor_{st.session_state.get('verify_version', 0)}"
        edited = st.data_editor(shown, key=key, hide_index=True, width="stretch", height=380,
                                disabled=[c for c in shown.columns if c != SELECT],
                                # the box and the name stay in view while the other columns scroll
                                column_config={SELECT: st.column_config.CheckboxColumn(SELECT, pinned=True),
                                               WORK_LIST_COLUMNS["name"]: st.column_config.TextColumn(
                                                   width="large", pinned=True)})
        selected = table.loc[edited[SELECT].to_numpy(dtype=bool), "resource_id"].tolist()
        b = st.columns([2, 2, 2, 2])
        method_label = b[0].selectbox("確認方法", list(CONFIRMATION_METHODS.values())[:5], key="verify_method")
        on = b[1].date_input("確認日", value=today, key="verify_on", max_value=today)
        method = {v: k for k, v in CONFIRMATION_METHODS.items()}[method_label]
        if b[2].button(f"変わりなし({len(selected)} 件)", type="primary", disabled=not selected):
            _record(selected, found="unchanged", method=method, on=on)
        if b[3].button(f"連絡つかず({len(selected)} 件)", disabled=not selected):
            _record(selected, found="unreachable", method=method, on=on)
        st.caption("内容が変わっていたときは「社会資源」のページで直してから、ここで確認を記録してください"
                   "(または確認リストに記入して取り込みます)。")

        d = st.columns(2)
        with tempfile.TemporaryDirectory() as tmp:
            xlsx = write_work_list(table, Path(tmp) / "list.xlsx").read_bytes()
        d[0].download_button("確認リスト (Excel)", download_data(xlsx), file_name=f"確認リスト_{month}.xlsx",
                             mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        pdf_key = ("verify_pdf", layers["stamp"], month, area, by)
        if d[1].button("確認依頼(印刷用 PDF)を作る"):
            with st.spinner("確認依頼を作っています…"), tempfile.TemporaryDirectory() as tmp:
                path, pages = write_request_sheets(table, Path(tmp) / "requests.pdf",
                                                   muni_name=layers["info"]["muni_name"] or "",
                                                   return_address=scgeo.get_settings().verify_return_address)
                st.session_state["verify_pdf"] = (pdf_key, path.read_bytes(), pages)
        ready = st.session_state.get("verify_pdf")
        if ready and ready[0] == pdf_key:
            d[1].download_button(f"確認依頼をダウンロード({ready[2]} ページ)", download_data(ready[1]),
                                 file_name=f"確認依頼_{month}.pdf", mime="application/pdf")

    st.subheader("返送された回答を取り込む")
    upload = st.file_uploader("記入済みの確認リスト (xlsx/CSV)、または「確認コード 番号」を1行ずつ書いた文書 (.txt)",
                              type=["xlsx", "csv", "txt"], key="verify_upload")
    if upload is not None and st.button("回答を取り込む"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(upload.name).name
            path.write_bytes(upload.getvalue())
            try:
                result = import_answers(ws, path, user=editor_name())
            except scgeo.InputError as exc:
                st.error(plain(f"取り込めません: {exc}"))
            else:
                st.session_state["verify_flash"] = (f"回答 {len(result.accepted)} 件を記録しました"
                                                    f"(除外 {len(result.rejected)} 件)", None)
                st.session_state["verify_rejected"] = result.rejected
                written()
    rejected = st.session_state.get("verify_rejected")
    if rejected is not None and len(rejected):
        st.warning("取り込めなかった行(理由つき)")
        st.dataframe(rejected, hide_index=True, width="stretch")

    st.subheader("中学校区ごとの確認済みの割合")
    share = confirmed_share_by_area(resources, layers["areas"], today=today, flags=ws.review_flags())
    labels = {"area_name": "中学校区", "n_resources": "活動中の資源", "confirmed_share_pct": "確認済み(%)",
              **{f"n_{k}": v for k, v in STATE_LABELS.items()}}
    st.dataframe(share.drop(columns="area_id").rename(columns=labels), hide_index=True, width="stretch")
