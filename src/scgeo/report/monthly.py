"""月次報告: a month of a coordinator's work (or the whole city's), as xlsx and PDF.

The figures come from the activity log (activities by function and type, with hours) and from the
stored snapshots (resources created, closed and confirmed: the month's snapshot against the one
before; coverage), never from the edit history. Need figures appear only as counts per 日常生活圏域
published through the ledger (:func:`need_table`, :func:`scgeo.privacy.publish_needs`): audited
against every table published before, counted as the needs stand when the report is made.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd

from scgeo._errors import InputError
from scgeo.analysis.activities import activity_summary, area_ids_within, fiscal_year_of, in_period, month_range
from scgeo.io.activities import load_activity_types
from scgeo.schema import ACTIVITY_FUNCTION_LABELS, RESOURCE_STATUS_LABELS, load_taxonomy

__all__ = ["MonthlyReport", "monthly_report", "need_table", "resource_changes", "write_monthly_pdf",
           "write_monthly_xlsx"]

_NEED_METRICS = {"opened": "受付", "matched": "つなぎ", "resolved": "解決"}


@dataclasses.dataclass
class MonthlyReport:
    """The figures of one month's report (tables with Japanese headers, ready to write)."""

    month: str
    muni_name: str
    sc: str | None
    area_id: str | None
    area_name: str | None
    snapshot_id: str | None
    previous_snapshot_id: str | None
    summary: dict
    activities: pd.DataFrame
    entries: pd.DataFrame
    new_resources: pd.DataFrame
    closed_resources: pd.DataFrame
    confirmed: pd.DataFrame
    needs: pd.DataFrame
    plan: pd.DataFrame | None
    notes: list[str]

    @property
    def title(self) -> str:
        """``月次報告 2026年11月(第2層SC(第1圏域))`` …"""
        start = month_range(self.month)[0]
        who = self.sc or self.area_name or self.muni_name
        return f"月次報告 {start:%Y年%-m月}({who})"


def _live(figures: pd.DataFrame, sid: str | None, level: str, area_id: str | None) -> pd.DataFrame:
    if sid is None:
        return pd.DataFrame(columns=["key", "key2", "metric"])
    rows = figures[(figures["snapshot_id"] == sid) & (figures["table"] == "resource") & (figures["level"] == level)]
    if area_id is not None:
        rows = rows[rows["area_id"] == area_id]
    return rows[["key", "key2", "metric"]]


def resource_changes(figures: pd.DataFrame, sid: str | None, previous: str | None, *, level: str = "municipality",
                     area_id: str | None = None) -> tuple[set[str], set[str]]:
    """Resources new and closed between two snapshots (ids).

    New: live now, absent before; closed: closed now, live before.
    """
    now, before = _live(figures, sid, level, area_id), _live(figures, previous, level, area_id)
    live = {"status:active", "status:paused"}
    now_live = set(now.loc[now["metric"].isin(live), "key"])
    before_any = set(before["key"])
    before_live = set(before.loc[before["metric"].isin(live), "key"])
    new = now_live - before_any if previous is not None else set()
    closed = set(now.loc[now["metric"] == "status:closed", "key"]) & before_live
    return new, closed


def need_table(workspace, start: dt.date, end: dt.date, *, purpose: str,
               user: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Needs received, matched and resolved per 日常生活圏域 (else 中学校区) from ``start`` to ``end``.

    Three tables go through :func:`scgeo.privacy.publish_needs` (audited against the whole ledger
    and recorded in it): every need by 受付日, and matched and resolved needs by the date of that
    status, as the needs stand now; each shows only the areas' totals and the city total (市全体): the columns
    受付, つなぎ and 解決; hidden cells read 「秘匿」. A table the ledger does not allow (its cells
    could be worked out from earlier releases) is left out, all 「秘匿」, with a note.
    Returns the table and its notes.
    """
    from scgeo.privacy import SUPPRESSED_TEXT, TOTAL, PrivacyError, publish_needs

    areas = workspace.areas()
    level = "living_area" if (areas["level"] == "living_area").any() else "jhs_district"
    units = areas[areas["level"] == level].sort_values("area_id")
    if not len(units) or not workspace.count("needs"):
        return pd.DataFrame(columns=["区域", *_NEED_METRICS.values()]), []
    period = (start.isoformat(), end.isoformat())
    rows = [*units["area_id"].astype(str), TOTAL]
    table = pd.DataFrame({"区域": [*units["name"], "市全体"]})
    notes = []
    for metric, label in _NEED_METRICS.items():
        statuses, field = (None, "recorded_date") if metric == "opened" else ((metric,), "status_date")
        try:
            result = publish_needs(workspace, level=level, statuses=statuses, period=period, period_field=field,
                                   by_category=False, purpose=f"{purpose}: ニーズの{label}", user=user)
        except PrivacyError:
            table[label] = SUPPRESSED_TEXT
            notes.append(f"ニーズの{label}の件数は、これまでに公開した表と合わせると小さな数が分かってしまうため載せていません。")
            continue
        totals = result.table[result.table["category"] == TOTAL].set_index("unit_id")
        shown = totals["count"].astype(object).where(~totals["suppressed"], SUPPRESSED_TEXT)
        table[label] = shown.reindex(rows).fillna(SUPPRESSED_TEXT).to_numpy()
    return table, notes


def _previous(table: pd.DataFrame, month: str) -> str | None:
    from scgeo.analysis.plans import snapshot_of

    return snapshot_of(table, f"{month_range(month)[0] - pd.Timedelta(days=1):%Y-%m}")


def monthly_report(workspace, month: str, *, sc: str | None = None, area: str | None = None,
                   user: str | None = None) -> MonthlyReport:
    """The month's report for one coordinator (``sc``: the log's ``user``) or the whole city.

    Parameters
    ----------
    workspace
        The :class:`scgeo.Workspace`.
    month
        ``YYYY-MM``.
    sc
        Only this coordinator's activities (the figures of resources and needs stay those of ``area``).
    area
        An area id or name (圏域, 中学校区): resources and activities of that area; default the whole city.
    user
        Who makes the report: its need table is recorded in the publication ledger under this name
        (default: the login name).
    """
    from scgeo.analysis.plans import PlanInputs
    from scgeo.report.year import plan_inputs, progress

    start, end = month_range(month)
    meta = workspace.meta()
    areas = workspace.areas()
    area_id = area_name = None
    level = "municipality"
    if area is not None:
        match = areas[(areas["area_id"] == area) | (areas["name"] == area)]
        if not len(match):
            raise InputError(f"区域「{area}」はワークスペースにありません。")
        area_id, area_name, level = (str(match.iloc[0][c]) for c in ("area_id", "name", "level"))
    log = workspace.read("activities")
    if sc and not (log["user"] == sc).any():
        users = "、".join(sorted(set(log["user"].dropna())))
        raise InputError(f"記録者「{sc}」の活動記録はありません。記録者: {users}")
    types = load_activity_types()
    within = area_ids_within(areas, area_id)
    activities = activity_summary(log, start=start, end=end, user=sc, area_ids=within, types=types)
    entries = log[in_period(log["date"], start, end)]
    if sc:
        entries = entries[entries["user"] == sc]
    if within is not None:
        entries = entries[entries["area_id"].isin(within)]
    entries = entries.sort_values(["date", "activity_id"])
    inputs: PlanInputs = plan_inputs(workspace)
    sid, previous = inputs.snapshot_of(month), _previous(inputs.snapshots, month)
    figures = inputs.figures
    notes = []
    if not len(entries):
        notes.append("この月の活動の記録はありません。")
    if sid is None:
        notes.append(f"{month} のスナップショットがないため、社会資源の数値はありません"
                     "(`scgeo snapshot --month` で月末に記録します)。")
    elif previous is None:
        notes.append("前の月のスナップショットがないため、新しい資源・廃止した資源は数えていません。")
    new, closed = resource_changes(figures, sid, previous, level=level, area_id=area_id)
    resources = workspace.read("resources")
    tax = load_taxonomy()

    def listing(ids: set[str]) -> pd.DataFrame:
        rows = resources[resources["resource_id"].isin(ids)].sort_values("resource_id")
        return pd.DataFrame({"資源ID": rows["resource_id"], "名称": rows["name"],
                             "種別": rows["category"].map(tax.label),
                             "状態": rows["status"].map(RESOURCE_STATUS_LABELS)}).reset_index(drop=True)

    confirmed_rows = figures[(figures["snapshot_id"] == sid) & (figures["table"] == "confirmed")] if sid else None
    if confirmed_rows is not None and area_id is not None:
        inside = set(_live(figures, sid, level, area_id)["key"]) | set(
            figures.loc[(figures["snapshot_id"] == sid) & (figures["table"] == "resource") & (figures["level"] == level)
                        & (figures["area_id"] == area_id), "key"])
        confirmed_rows = confirmed_rows[confirmed_rows["key"].isin(inside)]
    confirmed = (confirmed_rows.groupby("key2").size().rename("確認した資源").reset_index()
                 .assign(種別=lambda f: f["key2"].map(tax.label))[["種別", "確認した資源"]]
                 if confirmed_rows is not None and len(confirmed_rows)
                 else pd.DataFrame(columns=["種別", "確認した資源"]))
    needs, need_notes = need_table(workspace, start, end, purpose=f"月次報告 {month}", user=user)
    notes += need_notes
    plan = None
    fy = fiscal_year_of(start)
    plans = workspace.read("plans")
    if len(plans[plans["fy"] == fy]):
        plan = progress(workspace, fy=fy, through=month)
        if area_id is not None:
            plan = plan[plan["area_id"].isna() | plan["area_id"].isin(within or set())]
    summary = {
        "month": month, "activities": int(activities["count"].sum()), "hours": float(activities["hours"].sum()),
        "resources_new": len(new), "resources_closed": len(closed),
        "resources_confirmed": int(confirmed["確認した資源"].sum()) if len(confirmed) else 0,
        "snapshot": sid or "",
    }
    for metric, label in _NEED_METRICS.items():
        summary[f"needs_{metric}"] = needs.loc[needs["区域"] == "市全体", label].iloc[0] if len(needs) else "—"
    for function in ACTIVITY_FUNCTION_LABELS:
        part = activities[activities["function"] == function]
        summary[f"activities_{function}"] = int(part["count"].sum())
        summary[f"hours_{function}"] = float(part["hours"].sum())
    return MonthlyReport(month=month, muni_name=meta.get("muni_name", ""), sc=sc, area_id=area_id,
                         area_name=area_name, snapshot_id=sid, previous_snapshot_id=previous, summary=summary,
                         activities=activities, entries=entries, new_resources=listing(new),
                         closed_resources=listing(closed), confirmed=confirmed, needs=needs, plan=plan, notes=notes)


def _activity_table(report: MonthlyReport) -> pd.DataFrame:
    table = report.activities
    return pd.DataFrame({"機能": table["function_label"], "活動の種類": table["type_label"], "件数": table["count"],
                         "時間": table["hours"]})


def _entry_table(report: MonthlyReport) -> pd.DataFrame:
    types = load_activity_types()
    e = report.entries  # need ids are internal: never in a report
    return pd.DataFrame({"日付": e["date"].dt.strftime("%Y-%m-%d"), "種類": e["type"].map(
        lambda t: types[t].label if t in types else t), "機能": e["function"].map(ACTIVITY_FUNCTION_LABELS),
        "時間": e["hours"], "区域": e["area_id"], "記録者": e["user"], "相手の団体": e["counterparts"],
        "成果": e["outcome"]}).reset_index(drop=True)


def _plan_table(plan: pd.DataFrame | None) -> pd.DataFrame:
    if plan is None or not len(plan):
        return pd.DataFrame(columns=["目標", "指標", "目標値", "実績", "進み具合(%)", "注意"])
    return pd.DataFrame({"目標": plan["goal"], "指標": plan["indicator_label"], "目標値": plan["target"],
                         "実績": plan["result"], "進み具合(%)": plan["progress_pct"], "注意": plan["note"]})


def _summary_rows(report: MonthlyReport) -> pd.DataFrame:
    s = report.summary
    rows = [("月", report.month), ("対象", report.sc or report.area_name or f"{report.muni_name} 全体"),
            ("活動の件数", s["activities"]), ("活動の時間", s["hours"]), ("新しい社会資源", s["resources_new"]),
            ("廃止した社会資源", s["resources_closed"]), ("確認した社会資源", s["resources_confirmed"]),
            ("ニーズの受付(市全体)", s["needs_opened"]), ("ニーズのつなぎ(市全体)", s["needs_matched"]),
            ("ニーズの解決(市全体)", s["needs_resolved"]), ("スナップショット", s["snapshot"] or "なし")]
    rows += [(f"{label}の活動(件)", s[f"activities_{f}"]) for f, label in ACTIVITY_FUNCTION_LABELS.items()]
    rows += [("注意", n) for n in report.notes]
    return pd.DataFrame(rows, columns=["項目", "値"])


def write_monthly_xlsx(report: MonthlyReport, path: str | Path) -> Path:
    """Write the report in scgeo's own layout (xlsx), one sheet per table.

    Sheets 概要, 活動(機能・種類別), 活動の記録, 社会資源の変化, 確認した資源(種別), ニーズ(秘匿済み), 計画の進み具合.
    """
    from scgeo.sheets import write_workbook

    changes = pd.concat([report.new_resources.assign(変化="新規"), report.closed_resources.assign(変化="廃止")],
                        ignore_index=True)
    sheets = {"概要": _summary_rows(report), "活動(機能・種類別)": _activity_table(report),
              "活動の記録": _entry_table(report), "社会資源の変化": changes, "確認した資源(種別)": report.confirmed,
              "ニーズ(秘匿済み)": report.needs, "計画の進み具合": _plan_table(report.plan)}
    return write_workbook(sheets, path, freeze_panes="A2", fit_widths=True)


def write_monthly_pdf(report: MonthlyReport, workspace, path: str | Path, *, with_map: bool = True) -> tuple[Path, int]:
    """The report as a PDF (A4): summary and activities, plan progress, resources and needs, one map page."""
    from scgeo.maps.static import map_figure
    from scgeo.report._pages import Pages

    pages = Pages(report.title, f"{report.muni_name} {report.title}  作成 {dt.date.today():%Y-%m-%d} (scgeo)")
    fig = pages.page(report.title, subheading=f"期間 {report.month}-01 〜 {month_range(report.month)[1]:%Y-%m-%d}"
                     f"  スナップショット {report.snapshot_id or 'なし'}")
    s = report.summary
    y = pages.section(fig, 0.895, "概要")
    lines = [f"活動 {s['activities']} 件、{s['hours']:g} 時間", f"社会資源: 新規 {s['resources_new']} 件、"
             f"廃止 {s['resources_closed']} 件、確認 {s['resources_confirmed']} 件",
             f"ニーズ(市全体): 受付 {s['needs_opened']}、つなぎ {s['needs_matched']}、解決 {s['needs_resolved']}"
             "(5未満と逆算できる数は「秘匿」)"]
    y = pages.paragraph(fig, y, [*lines, *report.notes])
    y = pages.section(fig, y, "活動(機能・種類別)")
    shown = _activity_table(report)
    y = pages.table(fig, y, shown, widths=[0.26, 0.3, 0.14, 0.14], right=("件数", "時間"))
    y = pages.section(fig, y, "活動の記録(抜粋)")
    entries = _entry_table(report)[["日付", "種類", "時間", "成果"]]
    if len(entries):
        pages.table(fig, y, entries, widths=[0.12, 0.14, 0.08, 0.54], limit=44, right=("時間",),
                    max_rows=max(1, int((y - 0.06) / 0.0185) - 2))
    else:
        pages.paragraph(fig, y, ["この月の活動の記録はありません。"])
    fig = pages.page("事業計画の進み具合", subheading=f"{fiscal_year_of(month_range(report.month)[0])}年度、"
                     f"{report.month} まで。計算できる指標はスナップショットと活動記録から")
    plan = _plan_table(report.plan)
    if len(plan):
        y = pages.table(fig, 0.895, plan, widths=[0.34, 0.14, 0.08, 0.08, 0.1, 0.14], limit=26, size=7.4,
                        right=("目標値", "実績", "進み具合(%)"))
    else:
        y = pages.paragraph(fig, 0.895, ["この年度の事業計画がありません。"])
    y = pages.section(fig, y, "社会資源の変化")
    for label, frame in (("新しい資源", report.new_resources), ("廃止した資源", report.closed_resources)):
        if len(frame):
            y = pages.paragraph(fig, y, [f"{label}: {len(frame)} 件"])
            y = pages.table(fig, y, frame, widths=[0.12, 0.42, 0.22, 0.12], max_rows=10)
        else:
            y = pages.paragraph(fig, y, [f"{label}: なし"])
    if len(report.confirmed):
        y = pages.section(fig, y, "確認した社会資源(種別ごと)")
        y = pages.table(fig, y, report.confirmed, widths=[0.4, 0.2], right=("確認した資源",), max_rows=14)
    y = pages.section(fig, y, "ニーズ(区域ごと、秘匿済み)")
    if len(report.needs):
        pages.table(fig, y, report.needs, widths=[0.3, 0.14, 0.14, 0.14], right=tuple(_NEED_METRICS.values()))
    else:
        pages.paragraph(fig, y, ["ニーズの数値はありません。"])
    if with_map and workspace.count("areas"):  # a workspace without areas has no map to draw
        pages.add(map_figure(workspace, area=report.area_id, paper="A4"))  # the resources as they are today
    return pages.save(path)
