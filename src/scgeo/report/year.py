"""The coordinator's year in a workspace: the activity log, the annual plan and its progress.

These read and write the workspace and call the pure functions of :mod:`scgeo.analysis.activities`
and :mod:`scgeo.analysis.plans`; the CLI (``scgeo log``, ``scgeo plan``), the app pages
(活動記録, 計画・報告) and the notebook use them, so the three show the same figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from scgeo._errors import InputError
from scgeo.analysis.activities import activity_meetings, last_entry_defaults
from scgeo.analysis.plans import PlanInputs, plan_progress
from scgeo.io.activities import load_activity_types, read_activities, read_plans
from scgeo.schema import ImportResult

__all__ = ["add_activity", "import_activities", "import_plans", "known_ids", "meetings_for_proposals",
           "plan_inputs", "progress", "quick_entry_defaults"]


def known_ids(workspace) -> dict[str, set[str]]:
    """The ids an activity may refer to: resources, needs, scenarios, 協議体 meetings, areas."""
    return {"resource_ids": workspace.ids("resources"), "need_ids": workspace.ids("needs"),
            "scenario_ids": workspace.ids("siting_scenarios"), "meeting_id": workspace.ids("council_meetings"),
            "area_id": workspace.ids("areas")}


def import_activities(workspace, source: str | Path | pd.DataFrame, *, user: str | None = None,
                      mapping: Mapping[str, str] | None = None, sheet: str | int | None = None) -> ImportResult:
    """Read an activity log (an Excel log, a CSV or a frame) and append its accepted rows.

    Counterparts are matched to the workspace's organisations (by id or by name); references to
    resources, needs, scenarios, meetings and areas must exist. Nothing is written when no row is
    accepted. Returns the importer's result (the rejected rows with reasons, the messages).
    """
    result = read_activities(source, mapping=mapping, sheet=sheet, existing_ids=workspace.ids("activities"),
                             organisations=workspace.read("organisations"), known_ids=known_ids(workspace))
    if len(result.accepted):
        name = "入力" if isinstance(source, pd.DataFrame) else Path(source).name
        workspace.import_result("activities", result, user=user, source=name)
    return result


def add_activity(workspace, values: Mapping[str, object], *, user: str | None = None) -> pd.Series:
    """Add one activity (the app's quick entry, ``scgeo log add``); returns the row written.

    ``values`` uses the layer's column names (``date``, ``hours``, ``type`` …, Japanese words
    allowed); a missing ``activity_id`` is numbered after the log. With a ``meeting_id`` (the
    minutes of a 協議体 meeting), the meeting gives what the entry leaves out: its date, its
    attendees as counterparts, the council's area, type 協議体. Raises ``InputError`` with the
    reason when the entry is not valid (nothing is written then).
    """
    values = {k: v for k, v in values.items() if v is not None}
    if values.get("meeting_id"):
        values = _from_meeting(workspace, values)
    result = read_activities(pd.DataFrame([dict(values)]), existing_ids=workspace.ids("activities"),
                             organisations=workspace.read("organisations"), known_ids=known_ids(workspace))
    if len(result.rejected):
        raise InputError(str(result.rejected["reason"].iloc[0]))
    workspace.import_result("activities", result, user=user, source="活動記録の入力")
    return result.accepted.iloc[0]


def _from_meeting(workspace, values: dict) -> dict:
    meetings = workspace.read("council_meetings")
    match = meetings[meetings["meeting_id"] == values["meeting_id"]]
    if not len(match):
        raise InputError(f"協議体の開催 {values['meeting_id']} は記録にありません(`scgeo org import --layer "
                         "council_meetings` で記録します)。")
    meeting = match.iloc[0]
    councils = workspace.read("councils")
    area = councils.loc[councils["council_id"] == meeting["council_id"], "area_id"]
    tier = councils.loc[councils["council_id"] == meeting["council_id"], "tier"]
    found = {"date": meeting["date"], "counterparts": meeting["attendees"], "type": "council", "function": "council",
             "area_id": area.iloc[0] if len(area) and isinstance(area.iloc[0], str) else None,
             "tier": tier.iloc[0] if len(tier) else None}
    return {k: v for k, v in found.items() if v is not None and not (not isinstance(v, str) and pd.isna(v))} | values


def quick_entry_defaults(workspace, *, user: str | None = None) -> dict:
    """Defaults for the next entry: those of the last one (of ``user`` when given)."""
    return last_entry_defaults(workspace.read("activities"), user=user)


def import_plans(workspace, source: str | Path | pd.DataFrame, *, user: str | None = None, replace: bool = False,
                 mapping: Mapping[str, str] | None = None, sheet: str | int | None = None) -> ImportResult:
    """Read the annual plan (one goal a row) and store it (``replace``: instead of the current goals)."""
    existing = set() if replace else workspace.ids("plans")
    result = read_plans(source, mapping=mapping, sheet=sheet, existing_ids=existing)
    if len(result.accepted):
        name = "入力" if isinstance(source, pd.DataFrame) else Path(source).name
        workspace.import_result("plans", result, mode="replace" if replace else "append", user=user, source=name)
    return result


def plan_inputs(workspace) -> PlanInputs:
    """Everything the plan's indicators are computed from, read from ``workspace``."""
    return PlanInputs(snapshots=workspace.read("snapshots"), figures=workspace.read("snapshot_figures"),
                      activities=workspace.read("activities"), council_meetings=workspace.read("council_meetings"),
                      councils=workspace.read("councils"), areas=workspace.areas())


def progress(workspace, *, fy: int, through: str | None = None) -> pd.DataFrame:
    """The plan's goals of ``fy`` with their computed results (:func:`scgeo.analysis.plans.plan_progress`)."""
    plans = workspace.read("plans")
    if not len(plans[plans["fy"] == fy]):
        raise InputError(f"{fy}年度の事業計画がありません。`scgeo plan import` で取り込んでください。")
    table = plan_progress(plans, plan_inputs(workspace), fy=fy, through=through)
    types = load_activity_types()
    table["activity_type_label"] = table["activity_type"].map(lambda t: types[t].label if t in types else None)
    return table


def meetings_for_proposals(workspace) -> pd.DataFrame:
    """協議体 meetings and the log's activities with two or more counterparts, for proposing ties."""
    meetings = workspace.read("council_meetings")
    extra = activity_meetings(workspace.read("activities"), meetings)
    return pd.concat([meetings[["meeting_id", "date", "attendees"]], extra], ignore_index=True)
