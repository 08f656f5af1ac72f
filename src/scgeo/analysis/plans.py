"""Progress against the annual plan: indicators computed from the snapshots and the log (pure).

Each goal of the ``plans`` layer names an indicator. Those scgeo can measure are computed, never
typed: resources created or in activity (from the resource rows of the month-end snapshots),
coverage (the snapshots' coverage table), activities and their hours (the log), needs matched
(the snapshots), 協議体 meetings (the meetings layer). ``manual`` indicators take the coordinator's
``result_manual``. A month without a snapshot has no snapshot figure (NaN, said in ``note``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scgeo.analysis.activities import area_ids_within, fiscal_months, in_period, month_range
from scgeo.schema import PLAN_INDICATOR_LABELS

__all__ = ["PlanInputs", "indicator_series", "plan_progress", "snapshot_of"]

_LIVE = ("status:active", "status:paused")


def snapshot_of(snapshots: pd.DataFrame, month: str) -> str | None:
    """The id of the snapshot standing for ``month``: its month-end one, else its latest on-demand one."""
    rows = snapshots[snapshots["month"] == month]
    if not len(rows):
        return None
    ends = rows[rows["kind"] == "month_end"]
    return str((ends if len(ends) else rows).sort_values(["as_of", "taken_at"]).iloc[-1]["snapshot_id"])


class PlanInputs:
    """What the indicators are computed from (frames read from a workspace, or built by hand).

    Parameters
    ----------
    snapshots, figures
        The ``snapshots`` and ``snapshot_figures`` layers.
    activities, council_meetings, councils, areas
        The layers of the same names.
    """

    def __init__(self, *, snapshots: pd.DataFrame, figures: pd.DataFrame, activities: pd.DataFrame,
                 council_meetings: pd.DataFrame, councils: pd.DataFrame, areas: pd.DataFrame) -> None:
        self.snapshots = snapshots
        self.figures = figures
        self.activities = activities
        self.council_meetings = council_meetings
        self.councils = councils
        self.areas = areas

    def snapshot_of(self, month: str) -> str | None:
        """The snapshot standing for ``month`` (:func:`snapshot_of`)."""
        return snapshot_of(self.snapshots, month)

    def baseline_snapshot(self, fy: int) -> str | None:
        """The snapshot of the state at the start of ``fy``: March's month end, else the year's first."""
        before = self.snapshot_of(f"{fy}-03")
        if before is not None:
            return before
        months = [m for m in fiscal_months(fy) if self.snapshot_of(m) is not None]
        return self.snapshot_of(months[0]) if months else None


def _level_of(areas: pd.DataFrame, area_id) -> str:
    if area_id is None or (not isinstance(area_id, str) and pd.isna(area_id)):
        return "municipality"
    match = areas.loc[areas["area_id"] == area_id, "level"]
    return str(match.iloc[0]) if len(match) else "municipality"


def _resource_ids(inputs: PlanInputs, sid: str | None, goal) -> set[str]:
    if sid is None:
        return set()
    f = inputs.figures
    level = _level_of(inputs.areas, goal.area_id)
    rows = f[(f["snapshot_id"] == sid) & (f["table"] == "resource") & (f["level"] == level)
             & f["metric"].isin(_LIVE) & (f["key2"] == goal.category)]
    if level != "municipality":
        rows = rows[rows["area_id"] == goal.area_id]
    return set(rows["key"])


def _snapshot_value(inputs: PlanInputs, sid: str | None, goal) -> float:
    if sid is None:
        return np.nan
    f = inputs.figures
    f = f[f["snapshot_id"] == sid]
    level = _level_of(inputs.areas, goal.area_id)
    if goal.indicator == "coverage_pct":
        rows = f[(f["table"] == "coverage") & (f["level"] == level) & (f["key"] == goal.category)
                 & (f["metric"] == "coverage_pct")]
        if level != "municipality":
            rows = rows[rows["area_id"] == goal.area_id]
        return float(rows["value"].iloc[0]) if len(rows) else np.nan
    if goal.indicator == "resources_total":
        return float(len(_resource_ids(inputs, sid, goal)))
    if goal.indicator == "needs_matched":
        rows = f[(f["table"] == "needs") & (f["level"] == level) & f["metric"].isin(["matched", "resolved"])]
        if level != "municipality":
            rows = rows[rows["area_id"] == goal.area_id]
        if isinstance(goal.category, str):
            rows = rows[rows["key"] == goal.category]
        return float(rows["value"].sum())
    return np.nan


def _log_value(inputs: PlanInputs, goal, start, end) -> float:
    if goal.indicator == "council_meetings":
        meetings = inputs.council_meetings[in_period(inputs.council_meetings["date"], start, end)]
        within = area_ids_within(inputs.areas, goal.area_id)
        if within is not None:
            councils = set(inputs.councils.loc[inputs.councils["area_id"].isin(within), "council_id"])
            meetings = meetings[meetings["council_id"].isin(councils)]
        return float(len(meetings))
    rows = inputs.activities[in_period(inputs.activities["date"], start, end)]
    within = area_ids_within(inputs.areas, goal.area_id)
    if within is not None:
        rows = rows[rows["area_id"].isin(within)]
    if isinstance(goal.activity_type, str):
        rows = rows[rows["type"] == goal.activity_type]
    elif isinstance(goal.function, str):
        rows = rows[rows["function"] == goal.function]
    if goal.indicator == "activity_hours":
        return float(rows["hours"].fillna(0).sum())
    return float(len(rows))


def indicator_series(goal, inputs: PlanInputs, *, fy: int, through: str | None = None) -> pd.DataFrame:
    """The indicator of one goal for each month of ``fy`` up to ``through`` (cumulative where it counts).

    Returns ``month``, ``value`` (NaN where no snapshot stands for the month, for snapshot-based
    indicators) and ``snapshot_id``.
    """
    months = fiscal_months(fy)
    if through is not None:
        months = [m for m in months if m <= through]
    fy_start = month_range(months[0])[0] if months else None
    base = _resource_ids(inputs, inputs.baseline_snapshot(fy), goal) if goal.indicator == "resources_created" else set()
    seen: set[str] = set()
    rows = []
    for month in months:
        sid = inputs.snapshot_of(month)
        if goal.indicator == "resources_created":
            if sid is not None:
                seen |= _resource_ids(inputs, sid, goal) - base
            value = float(len(seen)) if sid is not None else np.nan
        elif goal.indicator in ("activities", "activity_hours", "council_meetings"):
            value = _log_value(inputs, goal, fy_start, month_range(month)[1])
        elif goal.indicator == "needs_matched":
            done = [inputs.snapshot_of(m) for m in months if m <= month]
            value = float(np.nansum([_snapshot_value(inputs, s, goal) for s in done if s])) if sid else np.nan
        elif goal.indicator == "manual":
            value = float(goal.result_manual) if pd.notna(goal.result_manual) else np.nan
        else:
            value = _snapshot_value(inputs, sid, goal)
        rows.append({"month": month, "value": value, "snapshot_id": sid})
    return pd.DataFrame(rows, columns=["month", "value", "snapshot_id"])


def plan_progress(plans: pd.DataFrame, inputs: PlanInputs, *, fy: int, through: str | None = None) -> pd.DataFrame:
    """Every goal of ``fy`` with its baseline, target, result up to ``through`` and the share of the way.

    Returns
    -------
    pandas.DataFrame
        The plan columns plus ``indicator_label``, ``computed`` (False for ``manual``),
        ``baseline_used`` (the typed baseline, else the start-of-year snapshot value for level
        indicators), ``result`` (latest month with a value), ``result_month``, ``progress_pct``
        (the way from baseline to target, in %), ``achieved`` and ``note``.
    """
    goals = plans[plans["fy"] == fy].reset_index(drop=True)
    out = []
    for goal in goals.itertuples(index=False):
        series = indicator_series(goal, inputs, fy=fy, through=through)
        valued = series.dropna(subset=["value"])
        result = float(valued["value"].iloc[-1]) if len(valued) else np.nan
        baseline = goal.baseline
        if pd.isna(baseline) and goal.indicator in ("coverage_pct", "resources_total"):
            baseline = _snapshot_value(inputs, inputs.baseline_snapshot(fy), goal)
        if pd.isna(baseline) and goal.indicator not in ("coverage_pct", "resources_total", "manual"):
            baseline = 0.0
        span = goal.target - (baseline if pd.notna(baseline) else 0.0)
        done = result - (baseline if pd.notna(baseline) else 0.0)
        progress = round(100.0 * done / span, 1) if pd.notna(result) and span else np.nan
        notes = []
        missing = series.loc[series["value"].isna(), "month"].tolist()
        if missing and goal.indicator != "manual":
            notes.append(f"スナップショットのない月: {', '.join(missing)}")
        if goal.indicator == "manual":
            notes.append("実績は手入力")
        if goal.indicator == "resources_created" and inputs.snapshot_of(f"{fy}-03") is None:
            notes.append("年度初め(3月末)のスナップショットがないため、年度の最初のスナップショットと比べています")
        out.append({**goal._asdict(), "indicator_label": PLAN_INDICATOR_LABELS.get(goal.indicator, goal.indicator),
                    "computed": goal.indicator != "manual", "baseline_used": baseline, "result": result,
                    "result_month": valued["month"].iloc[-1] if len(valued) else None,
                    "progress_pct": progress, "achieved": bool(pd.notna(result) and result >= goal.target),
                    "note": "; ".join(notes) or None})
    columns = [*plans.columns, "indicator_label", "computed", "baseline_used", "result", "result_month",
               "progress_pct", "achieved", "note"]
    return pd.DataFrame(out, columns=columns)
