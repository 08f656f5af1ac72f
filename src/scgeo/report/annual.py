"""年次報告書: the year's summary (成果と課題を含む総括) as a PDF.

Per goal of the annual plan: target, result (computed from the snapshots and the log, or typed for a
manual indicator) and the coordinator's 成果 and 課題; charts of the indicators by month; coverage maps
at the start and at the end of the year (from the stored snapshots); tables by 日常生活圏域; the
network (organisations and ties added in the year, 協議体 met) from :mod:`scgeo.report.network`.
Need figures appear only as the year's counts per 圏域, suppressed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from scgeo._errors import InputError
from scgeo.analysis.activities import area_ids_within, fiscal_months, in_period, month_range
from scgeo.analysis.plans import indicator_series
from scgeo.schema import ACTIVITY_FUNCTION_LABELS, load_taxonomy

__all__ = ["AnnualReport", "annual_report", "annual_values", "write_annual_pdf"]


@dataclasses.dataclass
class AnnualReport:
    """The figures of one fiscal year's report."""

    fy: int
    through: str
    muni_name: str
    goals: pd.DataFrame
    series: dict[str, pd.DataFrame]
    functions: pd.DataFrame
    by_area: pd.DataFrame
    needs: pd.DataFrame
    network: dict
    councils: pd.DataFrame
    start_snapshot: str | None
    end_snapshot: str | None
    coverage_category: str
    notes: list[str]

    @property
    def title(self) -> str:
        """``2026年度 生活支援体制整備事業 年次報告書``."""
        return f"{self.fy}年度 生活支援体制整備事業 年次報告書"


def _live_count(figures, sid, level, area_id, category=None) -> float:
    if sid is None:
        return np.nan
    rows = figures[(figures["snapshot_id"] == sid) & (figures["table"] == "resource") & (figures["level"] == level)
                   & (figures["area_id"] == area_id) & figures["metric"].isin(["status:active", "status:paused"])]
    if category is not None:
        rows = rows[rows["key2"] == category]
    return float(len(rows))


def _coverage(figures, sid, level, category) -> pd.Series:
    if sid is None:
        return pd.Series(dtype=float)
    rows = figures[(figures["snapshot_id"] == sid) & (figures["table"] == "coverage") & (figures["level"] == level)
                   & (figures["key"] == category) & (figures["metric"] == "coverage_pct")]
    return pd.Series(rows["value"].to_numpy(), index=rows["area_id"].to_numpy())


def annual_report(workspace, fy: int, *, through: str | None = None, user: str | None = None) -> AnnualReport:
    """The year's figures: goals with results, monthly series, activities by function, tables by 圏域.

    ``through`` (``YYYY-MM``) ends the year early (a report mid-year says so); default: the last month
    of the year that has a snapshot, else March. The need table is published through the ledger
    (:func:`scgeo.report.monthly.need_table`) under ``user`` (default: the login name).
    """
    from scgeo.report.monthly import need_table
    from scgeo.report.network import network_summary
    from scgeo.report.year import plan_inputs, progress

    months = fiscal_months(fy)
    inputs = plan_inputs(workspace)
    with_snapshot = [m for m in months if inputs.snapshot_of(m) is not None]
    through = through or (with_snapshot[-1] if with_snapshot else months[-1])
    if through not in months:
        raise InputError(f"{through} は {fy}年度 ({months[0]} 〜 {months[-1]}) の月ではありません。")
    months = [m for m in months if m <= through]
    start, end = month_range(months[0])[0], month_range(through)[1]
    notes = []
    if through != fiscal_months(fy)[-1]:
        notes.append(f"年度の途中({through} まで)の数値です。")
    plans = workspace.read("plans")
    goals = progress(workspace, fy=fy, through=through) if len(plans[plans["fy"] == fy]) else pd.DataFrame()
    if not len(goals):
        notes.append(f"{fy}年度の事業計画がありません。")
    series = {g.goal_id: indicator_series(g, inputs, fy=fy, through=through) for g in goals.itertuples()}
    log = workspace.read("activities")
    year = log[in_period(log["date"], start, end)]
    functions = (year.assign(hours=year["hours"].fillna(0)).groupby("function").agg(件数=("activity_id", "size"),
                                                                                     時間=("hours", "sum"))
                 .reindex(list(ACTIVITY_FUNCTION_LABELS)).fillna(0).reset_index())
    functions.insert(0, "機能", functions.pop("function").map(ACTIVITY_FUNCTION_LABELS))
    functions["件数"] = functions["件数"].astype(int)
    start_sid, end_sid = inputs.baseline_snapshot(fy), inputs.snapshot_of(through)
    if start_sid is None or end_sid is None:
        notes.append("年度初めか終わりのスナップショットがないため、資源数とカバー率の変化は一部ありません。")
    areas = workspace.areas()
    coverage_goal = goals[goals["indicator"] == "coverage_pct"] if len(goals) else goals
    category = str(coverage_goal["category"].iloc[0]) if len(coverage_goal) else "salon"
    level = "living_area" if len(areas[areas["level"] == "living_area"]) else "jhs_district"
    units = areas[areas["level"] == level].sort_values("area_id")
    before, after = _coverage(inputs.figures, start_sid, level, category), _coverage(inputs.figures, end_sid, level,
                                                                                      category)
    rows = []
    for unit in units.itertuples():
        within = area_ids_within(areas, unit.area_id)
        mine = year[year["area_id"].isin(within)]
        rows.append({"区域": unit.name, "活動(件)": len(mine), "活動(時間)": float(mine["hours"].fillna(0).sum()),
                     "資源(年度初め)": _live_count(inputs.figures, start_sid, level, unit.area_id),
                     "資源(年度末)": _live_count(inputs.figures, end_sid, level, unit.area_id),
                     "カバー率(初め)": before.get(unit.area_id, np.nan),
                     "カバー率(末)": after.get(unit.area_id, np.nan)})
    by_area = pd.DataFrame(rows, columns=["区域", "活動(件)", "活動(時間)", "資源(年度初め)", "資源(年度末)",
                                          "カバー率(初め)", "カバー率(末)"])
    needs, need_notes = need_table(workspace, start, end, purpose=f"年次報告書 {fy}年度({through} まで)", user=user)
    notes += need_notes
    network = network_summary(workspace, on=end, since=start - pd.Timedelta(days=1), level=level)
    councils = workspace.read("councils")
    meetings = workspace.read("council_meetings")
    met = meetings[in_period(meetings["date"], start, end)].groupby("council_id").size()
    councils = pd.DataFrame({"協議体": councils["name"], "層": councils["tier"].map({"1": "第1層", "2": "第2層"}),
                             "開催(回)": councils["council_id"].map(met).fillna(0).astype(int)})
    # organisations carry no date: the change over the year is that of the stored snapshots
    f = inputs.figures
    counted = f[(f["table"] == "network") & (f["metric"] == "organisations")].set_index("snapshot_id")["value"]
    network["organisations_start"] = counted.get(start_sid) if start_sid else None
    network["organisations_end"] = counted.get(end_sid) if end_sid else None
    return AnnualReport(fy=fy, through=through, muni_name=workspace.meta().get("muni_name", ""), goals=goals,
                        series=series, functions=functions, by_area=by_area, needs=needs, network=network,
                        councils=councils, start_snapshot=start_sid, end_snapshot=end_sid,
                        coverage_category=category, notes=notes)


def annual_values(report: AnnualReport) -> dict:
    """The report's figures by name, for a municipality's form (:func:`scgeo.report.template.fill_template`).

    ``fy``, ``through``, ``activities``, ``hours``, ``activities_<function>``, ``hours_<function>``,
    ``goal_<goal_id>_target`` / ``_result`` / ``_achievements`` / ``_issues``, ``organisations``,
    ``ties``, ``new_ties``, ``council_meetings``.
    """
    functions = report.functions.assign(code=list(ACTIVITY_FUNCTION_LABELS))
    values: dict = {"fy": report.fy, "through": report.through, "activities": int(functions["件数"].sum()),
                    "hours": float(functions["時間"].sum())}
    for row in functions.itertuples(index=False):
        values[f"activities_{row.code}"] = int(row.件数)
        values[f"hours_{row.code}"] = float(row.時間)
    for goal in report.goals.itertuples():
        for key in ("target", "result", "achievements", "issues"):
            value = getattr(goal, key)
            values[f"goal_{goal.goal_id}_{key}"] = None if not isinstance(value, str) and pd.isna(value) else value
    values |= {"organisations": report.network["organisations"], "ties": report.network["ties"],
               "new_ties": report.network["new_ties"], "council_meetings": int(report.councils["開催(回)"].sum())}
    return values


def _chart_page(pages, report: AnnualReport):
    from matplotlib.ticker import MaxNLocator

    goals = report.goals[report.goals["computed"]] if len(report.goals) else report.goals
    fig = pages.page("指標の推移(月ごと)", subheading="点線は目標値。スナップショットのない月は空けています")
    n = max(len(goals), 1)
    cols = 2
    rows = int(np.ceil(n / cols))
    grid = fig.add_gridspec(rows, cols, left=0.09, right=0.95, top=0.88, bottom=0.07, hspace=0.75, wspace=0.3)
    for i, goal in enumerate(goals.itertuples()):
        ax = fig.add_subplot(grid[i // cols, i % cols])
        s = report.series[goal.goal_id]
        labels = [f"{int(m[5:])}月" for m in s["month"]]
        ax.plot(range(len(s)), s["value"], marker="o", color="#1f77b4", lw=1.6)
        ax.axhline(goal.target, color="#d62728", ls=":", lw=1.2)
        ax.set_xticks(range(len(s)), labels, fontproperties=pages.font, fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        ax.yaxis.set_major_locator(MaxNLocator(integer=goal.indicator != "coverage_pct", nbins=5))
        ax.set_title(goal.goal if len(goal.goal) <= 24 else goal.goal[:23] + "…", fontproperties=pages.font,
                     fontsize=8.5)
        ax.set_ylabel(goal.unit or "", fontproperties=pages.font, fontsize=7)
        ax.grid(alpha=0.3)
    return fig


def _coverage_page(pages, report: AnnualReport, workspace):
    import matplotlib as mpl

    from scgeo.crs import to_metric
    from scgeo.report.year import plan_inputs
    from scgeo.schema import AREA_LEVEL_LABELS

    areas = workspace.areas()
    present = set(areas["level"])
    level = next((lv for lv in ("jhs_district", "living_area", "es_district", "municipality") if lv in present), None)
    label = load_taxonomy().label(report.coverage_category)
    fig = pages.page(f"カバー率の地図 — {label}(徒歩15分、{AREA_LEVEL_LABELS.get(level, '区域')})",
                     subheading="年度初めと年度末のスナップショットから。濃いほど歩いて行ける高齢者が多い")
    if level is None:
        pages.paragraph(fig, 0.895, ["ワークスペースに区域がないため、地図は描けません。"])
        return fig
    districts = to_metric(areas[areas["level"] == level].reset_index(drop=True))
    figures = plan_inputs(workspace).figures
    cmap = mpl.colormaps["YlGnBu"]
    for k, (title, sid) in enumerate((("年度初め", report.start_snapshot), ("年度末", report.end_snapshot))):
        ax = fig.add_axes((0.05 + 0.46 * k, 0.3, 0.44, 0.58))
        values = _coverage(figures, sid, level, report.coverage_category)
        shares = [values.get(a, np.nan) for a in districts["area_id"]]
        districts.plot(ax=ax, color=[cmap(v / 100) if pd.notna(v) else "#eeeeee" for v in shares],
                       edgecolor="#333", linewidth=0.6)
        for geom, name, v in zip(districts.geometry, districts["name"], shares, strict=True):
            p = geom.representative_point()
            ax.text(p.x, p.y, f"{name}\n{'—' if pd.isna(v) else f'{v:.0f}%'}", fontproperties=pages.font,
                    fontsize=6.5, ha="center", va="center")
        ax.set_axis_off()
        ax.set_title(f"{title}({sid or 'スナップショットなし'})", fontproperties=pages.font, fontsize=9)
    bar = fig.add_axes((0.25, 0.26, 0.5, 0.012))
    mpl.colorbar.ColorbarBase(bar, cmap=cmap, norm=mpl.colors.Normalize(0, 100), orientation="horizontal")
    bar.tick_params(labelsize=7)
    pages.text(fig, 0.76, 0.257, "%", size=7)
    return fig


def _network_line(net: dict) -> str:
    start, end = net.get("organisations_start"), net.get("organisations_end")
    known = start is not None and end is not None
    orgs = (f"関係団体 {end:.0f}(年度初め {start:.0f}、増減 {end - start:+.0f})" if known
            else f"関係団体 {net['organisations']}")
    return f"{orgs}、つながり {net['ties']}(この期間に新しく {net['new_ties']}、終了 {net['lost_ties']})。"


def write_annual_pdf(report: AnnualReport, workspace, path: str | Path) -> tuple[Path, int]:
    """The 年次報告書 as a PDF (A4): summary, goals with 成果と課題, charts, coverage maps, 圏域 tables, network."""
    from scgeo.report._pages import Pages

    pages = Pages(report.title, f"{report.muni_name} {report.title}  作成 {dt.date.today():%Y-%m-%d} (scgeo)")
    fig = pages.page(report.title, subheading=f"{report.muni_name}  期間 {report.fy}-04 〜 {report.through}")
    y = pages.section(fig, 0.895, "1. 総括")
    total = report.functions["件数"].sum()
    y = pages.paragraph(fig, y, [f"活動 {int(total)} 件、{report.functions['時間'].sum():g} 時間。",
                                 _network_line(report.network),
                                 *report.notes])
    y = pages.section(fig, y, "2. 機能ごとの活動")
    y = pages.table(fig, y, report.functions, widths=[0.3, 0.14, 0.14], right=("件数", "時間"))
    y = pages.section(fig, y, "3. 目標ごとの成果と課題")
    if len(report.goals):
        g = report.goals
        table = pd.DataFrame({"目標": g["goal"], "指標": g["indicator_label"], "目標値": g["target"],
                              "実績": g["result"], "達成": g["achieved"].map({True: "達成", False: "未達"})})
        y = pages.table(fig, y, table, widths=[0.4, 0.2, 0.09, 0.09, 0.08], limit=30, size=7.6,
                        right=("目標値", "実績"))
        for goal in g.itertuples():
            if y < 0.08:
                fig = pages.page("3. 目標ごとの成果と課題(続き)")
                y = 0.895
            done = goal.achievements if isinstance(goal.achievements, str) else "(未記入)"
            texts = [f"■ {goal.goal}", f"  成果: {done}",
                     f"  課題: {goal.issues if isinstance(goal.issues, str) else '(未記入)'}"]
            if isinstance(goal.note, str):
                texts.append(f"  注意: {goal.note}")
            y = pages.paragraph(fig, y, texts, size=8, step=0.017)
    else:
        pages.paragraph(fig, y, ["事業計画がありません。"])
    if len(report.goals):
        _chart_page(pages, report)
    _coverage_page(pages, report, workspace)
    fig = pages.page("4. 圏域ごとの表")
    if len(report.by_area):
        y = pages.table(fig, 0.895, report.by_area, widths=[0.16, 0.1, 0.12, 0.14, 0.14, 0.14, 0.12],
                        right=tuple(report.by_area.columns[1:]), size=7.8)
    else:
        y = pages.paragraph(fig, 0.895, ["日常生活圏域・中学校区がないため、区域ごとの表はありません。"])
    y = pages.section(fig, y, "ニーズ(この期間の合計、秘匿済み)")
    if len(report.needs):
        y = pages.table(fig, y, report.needs, widths=[0.3, 0.14, 0.14, 0.14], right=("受付", "つなぎ", "解決"))
    y = pages.section(fig, y, "5. ネットワーク構築")
    net = report.network
    y = pages.paragraph(fig, y, [_network_line(net), f"まとまり {net['components']}、つながりのない団体 "
                                 f"{len(net['isolated'])}", "橋渡し役(媒介中心性の高い順): " + "、".join(
                                     b["name"] for b in net["brokers"][:3])])
    y = pages.table(fig, y, report.councils, widths=[0.5, 0.1, 0.12], right=("開催(回)",))
    if net["by_area"]:
        y = pages.section(fig, y, "圏域の内と間のつながり")
        by_area = pd.DataFrame(net["by_area"])
        by_area = pd.DataFrame({"区域": by_area["name_a"].fillna("(区域外・市全体)"), "相手の区域": by_area["name_b"],
                                "つながり": by_area["ties"]})
        pages.table(fig, y, by_area, widths=[0.3, 0.3, 0.12], right=("つながり",), size=7.6)
    return pages.save(path)
