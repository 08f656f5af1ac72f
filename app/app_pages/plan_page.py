"""計画・報告: the annual plan's progress, the monthly snapshots, and the reports (月次報告, 年次報告書, 協議体資料)."""

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
    require,
    workspace,
    workspace_path,
    written,
)

import scgeo
from scgeo.analysis.activities import fiscal_months, fiscal_year_of
from scgeo.report.annual import annual_report, write_annual_pdf
from scgeo.report.monthly import monthly_report, write_monthly_pdf, write_monthly_xlsx
from scgeo.report.pack import council_pack, write_pack_pdf
from scgeo.report.snapshots import snapshots, take_snapshot
from scgeo.report.year import import_plans, progress

ALL = "市全体"


def _footnoted(frame: pd.DataFrame, column: str) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` with the long texts of ``column`` replaced by ※1, ※2 … (the same text, the same mark),
    and the notes to show under the table: every column of the table then fits a 1280 px window."""
    texts = [t for t in dict.fromkeys(frame[column]) if isinstance(t, str) and t.strip()]
    marks = {t: f"※{i}" for i, t in enumerate(texts, start=1)}
    out = frame.assign(**{column: frame[column].map(lambda t: marks.get(t, ""))})
    return out, [f"{marks[t]} {t}" for t in texts]


@st.cache_data(max_entries=4, show_spinner="報告を作っています…")
def monthly_files(path: str, stamp: int, month: str, sc: str | None) -> tuple[bytes, bytes]:
    """The month's report as xlsx and PDF (cached until the workspace changes)."""
    ws = scgeo.Workspace.open(path)
    report = monthly_report(ws, month, sc=sc, user=editor_name())
    with tempfile.TemporaryDirectory(prefix="scgeo_report_") as folder:
        xlsx = write_monthly_xlsx(report, Path(folder) / "monthly.xlsx").read_bytes()
        pdf = write_monthly_pdf(report, ws, Path(folder) / "monthly.pdf")[0].read_bytes()
    return xlsx, pdf


@st.cache_data(max_entries=4, show_spinner="年次報告書を作っています…")
def annual_file(path: str, stamp: int, fy: int) -> bytes:
    """The 年次報告書 PDF."""
    ws = scgeo.Workspace.open(path)
    with tempfile.TemporaryDirectory(prefix="scgeo_report_") as folder:
        report = annual_report(ws, fy, user=editor_name())
        return write_annual_pdf(report, ws, Path(folder) / "annual.pdf")[0].read_bytes()


@st.cache_data(max_entries=4, show_spinner="協議体資料を作っています…")
def pack_file(path: str, stamp: int, area_id: str, day: str, map_url: str) -> bytes:
    """The 協議体 pack PDF."""
    ws = scgeo.Workspace.open(path)
    pack = council_pack(ws, area=area_id, date=day, map_url=map_url or None, user=editor_name())
    with tempfile.TemporaryDirectory(prefix="scgeo_report_") as folder:
        return write_pack_pdf(pack, ws, Path(folder) / "pack.pdf")[0].read_bytes()


require("edit")  # checked here too, not only by the navigation
layers = open_workspace()
st.title("計画・報告")
if layers is not None:
    flash = st.session_state.pop("plan_flash", None)
    if flash:
        (st.success if flash[0] else st.error)(flash[1])
    ws = workspace()
    path, stamp = workspace_path(), layers["stamp"]
    plans = ws.read("plans")
    years = sorted(set(plans["fy"].dropna().astype(int)) | {fiscal_year_of(dt.date.today())}, reverse=True)
    fy = st.selectbox("年度", years, format_func=lambda y: f"{y}年度 ({y}年4月〜{y + 1}年3月)")

    st.subheader("年間事業計画の進み具合")
    if len(plans[plans["fy"] == fy]):
        table = progress(ws, fy=fy)
        shown = pd.DataFrame({"目標": table["goal"], "指標": table["indicator_label"], "目標値": table["target"],
                              "実績": table["result"], "実績の月": table["result_month"],
                              "進み具合(%)": table["progress_pct"], "達成": table["achieved"], "注意": table["note"]})
        # a table that wraps its texts: in a data grid, 目標 and 注意 were cut at 1280 px (a handful of rows)
        shown = blank_missing(shown.assign(達成=shown["達成"].map({True: "◎", False: ""})))
        for name in ("目標値", "実績", "進み具合(%)"):
            shown[name] = shown[name].map(lambda v: v if isinstance(v, str) else f"{v:g}")
        st.table(shown.set_index("目標"))
        st.caption("計算できる指標(資源の数・カバー率・活動の回数・協議体・つないだニーズ)は月末スナップショットと"
                   "活動記録から計算しています。「手入力」の指標だけ実績を入力します。")
    else:
        st.info(f"{fy}年度の事業計画がありません。下から取り込めます。")
    upload = st.file_uploader("事業計画 (.xlsx / .csv、1行に1つの目標)", type=["xlsx", "csv"], key="plan_upload")
    if upload is not None and st.button("事業計画を取り込む"):
        with tempfile.TemporaryDirectory(prefix="scgeo_plan_") as folder:
            file = Path(folder) / Path(upload.name).name
            file.write_bytes(upload.getvalue())
            try:
                result = import_plans(ws, file, user=editor_name())
            except scgeo.InputError as exc:
                st.session_state["plan_flash"] = (False, str(exc))
            else:
                st.session_state["plan_flash"] = (True, result.summary())
        written()

    st.subheader("月末スナップショット")
    stored = snapshots(ws)
    last_month = f"{dt.date.today().replace(day=1) - dt.timedelta(days=1):%Y-%m}"
    taken = pd.to_datetime(stored["taken_at"], utc=True).dt.tz_convert("Asia/Tokyo").dt.strftime("%Y-%m-%d %H:%M")
    shown = pd.DataFrame({"ID": stored["snapshot_id"], "月": stored["month"], "基準日": stored["as_of"].dt.date,
                          "作成(日本時間)": taken, "scgeo の版": stored["scgeo_version"], "注意": stored["note"]})
    shown, notes = _footnoted(shown, "注意")
    st.dataframe(blank_missing(shown), hide_index=True, width="stretch", key="plan_snapshots")
    for note in notes:
        st.caption(note)
    if st.button(f"{last_month} の月末スナップショットを記録する"):
        try:
            sid = take_snapshot(ws, month=last_month, user=editor_name())
        except scgeo.InputError as exc:
            st.session_state["plan_flash"] = (False, str(exc))
        else:
            done = f"スナップショット {sid} を記録しました(あとから変更はできません)。"
            st.session_state["plan_flash"] = (True, done)
        written()

    st.subheader("月次報告")
    months = [m for m in fiscal_months(fy) if m <= f"{dt.date.today():%Y-%m}"] or fiscal_months(fy)
    left, right = st.columns(2)
    month = left.selectbox("月", months[::-1])
    users = sorted(set(ws.read("activities")["user"].dropna()))
    who = right.selectbox("コーディネーター", [ALL, *users])
    if st.button("月次報告を作る"):
        xlsx, pdf = monthly_files(path, stamp, month, None if who == ALL else who)
        c1, c2 = st.columns(2)
        c1.download_button("月次報告 (Excel)", download_data(xlsx), file_name=f"monthly_report_{month}.xlsx")
        c2.download_button("月次報告 (PDF)", download_data(pdf), file_name=f"monthly_report_{month}.pdf",
                           mime="application/pdf")

    st.subheader("年次報告書")
    if st.button("年次報告書を作る"):
        st.download_button("年次報告書 (PDF)", download_data(annual_file(path, stamp, fy)),
                           file_name=f"annual_report_{fy}.pdf", mime="application/pdf")

    st.subheader("協議体資料")
    choices = area_choices(layers["areas"], levels=("living_area",)) or area_choices(layers["areas"])
    left, right = st.columns(2)
    area = left.selectbox("協議体の区域", list(choices))
    day = right.date_input("開催日", value=dt.date.today(), key="pack_date")
    map_url = st.text_input("公開している地図のアドレス (QRコードにします)", key="pack_map_url")
    if choices and st.button("協議体資料を作る"):
        st.download_button("協議体資料 (PDF)", download_data(pack_file(path, stamp, choices[area], day.isoformat(),
                                                                            map_url)),
                           file_name=f"council_pack_{choices[area]}.pdf", mime="application/pdf")
