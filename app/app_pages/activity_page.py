"""活動記録: quick entry of an activity (defaults from the last entry), import of an Excel log, the month's list."""

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
from app_state import area_choices, editor_name, open_workspace, require, workspace, written

import scgeo
from scgeo.analysis.activities import activity_summary, in_period, month_range
from scgeo.io.activities import load_activity_types
from scgeo.report.year import add_activity, import_activities, quick_entry_defaults
from scgeo.schema import ACTIVITY_FUNCTION_LABELS

FROM_TYPE = "種類から"
NO_AREA = "(区域なし)"

require("edit")  # checked here too, not only by the navigation
layers = open_workspace()
st.title("活動記録")
if layers is not None:
    flash = st.session_state.pop("activity_flash", None)
    if flash:
        (st.success if flash[0] else st.error)(flash[1])
    ws = workspace()
    types = load_activity_types()
    type_labels = {t.label: code for code, t in types.items()}
    log = ws.read("activities")
    defaults = quick_entry_defaults(ws, user=editor_name())
    areas = area_choices(layers["areas"])
    organisations = ws.read("organisations")
    org_labels = {f"{n} ({i})": i for i, n in zip(organisations["org_id"], organisations["name"], strict=True)}
    st.caption("住民の名前・連絡先は記録しません。ニーズはニーズIDで結びつけます(内部のみ)。")

    with st.form("quick_entry", clear_on_submit=True):
        st.subheader("1件記録する")
        left, right = st.columns(2)
        day = left.date_input("日付", value=dt.date.today())
        labels = list(type_labels)
        last_type = types[defaults["type"]].label if defaults.get("type") in types else labels[0]
        kind = left.selectbox("活動の種類", labels, index=labels.index(last_type))
        functions = [FROM_TYPE, *ACTIVITY_FUNCTION_LABELS.values()]
        function = left.selectbox("機能", functions)
        hours = right.number_input("時間", min_value=0.0, max_value=24.0, step=0.5,
                                   value=float(defaults.get("hours", 1.0)))
        tiers = ["第2層", "第1層"]
        tier = right.selectbox("層", tiers, index=tiers.index("第1層") if defaults.get("tier") == "1" else 0)
        area_labels = [NO_AREA, *areas]
        last_area = next((k for k, v in areas.items() if v == defaults.get("area_id")), NO_AREA)
        area = right.selectbox("区域", area_labels, index=area_labels.index(last_area))
        counterparts = st.multiselect("相手の団体", list(org_labels), placeholder="団体を選ぶ(いくつでも)")
        outcome = st.text_area("成果(住民の名前は書かないでください)", max_chars=500)
        if st.form_submit_button("記録する", type="primary"):
            values = {"date": day, "hours": hours, "type": type_labels[kind], "tier": tier,
                      "user": editor_name() or defaults.get("user"),
                      "area_id": areas.get(area), "counterparts": ";".join(org_labels[c] for c in counterparts),
                      "outcome": outcome.strip() or None}
            if function != FROM_TYPE:
                values["function"] = function
            try:
                row = add_activity(ws, values, user=editor_name())
            except scgeo.InputError as exc:
                st.session_state["activity_flash"] = (False, str(exc))
            else:
                st.session_state["activity_flash"] = (True, f"記録しました: {row['activity_id']} {kind}")
            written()

    st.subheader("Excel の活動記録を取り込む")
    upload = st.file_uploader("活動記録 (.xlsx / .csv)", type=["xlsx", "csv"], key="activity_upload")
    if upload is not None and st.button("取り込む", key="activity_import"):
        with tempfile.TemporaryDirectory(prefix="scgeo_log_") as folder:
            path = Path(folder) / Path(upload.name).name
            path.write_bytes(upload.getvalue())
            try:
                result = import_activities(ws, path, user=editor_name())
            except scgeo.InputError as exc:
                st.error(str(exc))
            else:
                for message in result.messages:
                    st.info(message)
                st.write(result.summary())
                if len(result.rejected):
                    st.dataframe(result.rejected.drop(columns=["need_ids"], errors="ignore"), hide_index=True)

    st.subheader("月ごとの記録")
    months = sorted({f"{d:%Y-%m}" for d in log["date"].dropna()} | {f"{dt.date.today():%Y-%m}"}, reverse=True)
    month = st.selectbox("月", months)
    start, end = month_range(month)
    rows = log[in_period(log["date"], start, end)].sort_values(["date", "activity_id"])
    summary = activity_summary(log, start=start, end=end, types=types)
    by_function = summary.groupby("function_label", sort=False)[["count", "hours"]].sum()
    cols = st.columns(len(by_function))
    for col, (label, row) in zip(cols, by_function.iterrows(), strict=True):
        col.metric(label, f"{int(row['count'])} 件", f"{row['hours']:g} 時間", delta_color="off", delta_arrow="off")
    if len(rows):
        st.dataframe(pd.DataFrame({
            "ID": rows["activity_id"], "日付": rows["date"].dt.date, "種類": rows["type"].map(
                lambda t: types[t].label if t in types else t), "機能": rows["function"].map(ACTIVITY_FUNCTION_LABELS),
            "時間": rows["hours"], "記録者": rows["user"], "区域": rows["area_id"], "相手の団体": rows["counterparts"],
            "成果": rows["outcome"]}), hide_index=True, width="stretch")
    else:
        st.info("この月の活動の記録はありません。")
