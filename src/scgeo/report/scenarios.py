"""資源開発 scenarios kept in the workspace: save, list, compare, turn into planned resources.

A scenario is one siting run: its inputs and solver figures (``siting_scenarios``), the proposed
sites (``siting_sites``) and coverage before and after per area (``siting_areas``). Saving writes
the three layers and a history row in one transaction. A scenario's sites can become resources
with status ``planned`` (計画中(案)): maps show them apart, and coverage counts them only when
asked (``include_planned``).
"""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import numpy as np
import pandas as pd

from scgeo._errors import InputError
from scgeo.analysis.siting import SitingResult
from scgeo.schema import RESOURCES, coerce, load_taxonomy
from scgeo.settings import get_settings
from scgeo.workspace import _user

__all__ = ["compare_scenarios", "delete_scenario", "plan_from_scenario", "save_scenario", "scenario_sites",
           "scenarios"]


def _next_id(existing: pd.Series) -> str:
    numbers = existing.str.extract(r"^S(\d+)$")[0].dropna().astype(int)
    return f"S{(numbers.max() + 1 if len(numbers) else 1):04d}"


def save_scenario(workspace, result: SitingResult, *, name: str, author: str | None = None,
                  note: str | None = None) -> str:
    """Store a siting result as a scenario; returns its id (``S0001`` …)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InputError("シナリオ名を 1〜100 文字で付けてください。")
    s = result.summary
    current = workspace.read("siting_scenarios")
    sid = _next_id(current["scenario_id"].astype(str))
    row = {"scenario_id": sid, "name": name, "created_at": dt.datetime.now(dt.UTC).astimezone()
           .isoformat(timespec="seconds"), "author": _user(author), "category": s["category"], "model": s["model"],
           "k_new": len(result.sites), "minutes": s["minutes"], "speed_m_per_min": s["speed_m_per_min"],
           "demand": s["demand"], "candidates": str(s.get("candidates", "")), "optimal": int(bool(s["optimal"])),
           "covered_before": s["covered_before"], "covered_after": s["covered_after"],
           "demand_total": s["demand_total"], "greedy_gap_pct": s["greedy_gap_pct"], "seconds": s["seconds"],
           "note": "; ".join(x for x in (s.get("note"), note) if x) or None,
           "params": json.dumps({k: v for k, v in s.items() if k != "sites"}, ensure_ascii=False, default=str)}
    sites = result.sites.assign(scenario_id=sid, site_id=[f"{sid}-{r}" for r in result.sites["rank"]])
    areas = result.by_area.assign(scenario_id=sid)
    with workspace.transaction() as tx:
        tx.write("siting_scenarios", _concat(current, pd.DataFrame([row])))
        tx.write("siting_sites", _concat(workspace.read("siting_sites"), sites.to_crs(get_settings().workspace_crs)))
        tx.write("siting_areas", _concat(workspace.read("siting_areas"), pd.DataFrame(areas)))
        tx.record(user=author, layer="siting_scenarios", action="insert", feature_id=sid, new=name,
                  note=f"{s['model']} {s['category']} 新規 {len(result.sites)} か所")
    return sid


def _concat(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    if not len(a):
        return b.reset_index(drop=True)
    out = pd.concat([a, b], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=a.crs) if "geometry" in out else out


def scenarios(workspace) -> pd.DataFrame:
    """The stored scenarios, newest first, with the people gained and the category label."""
    table = workspace.read("siting_scenarios")
    tax = load_taxonomy()
    table["category_label"] = table["category"].map(tax.label)
    table["gain"] = (table["covered_after"] - table["covered_before"]).round(1)
    return table.sort_values("scenario_id", ascending=False).reset_index(drop=True)


def scenario_sites(workspace, scenario_id: str) -> gpd.GeoDataFrame:
    """The proposed sites of one scenario, in rank order."""
    sites = workspace.read("siting_sites")
    mine = sites[sites["scenario_id"] == scenario_id]
    if not len(mine) and scenario_id not in set(workspace.read("siting_scenarios")["scenario_id"]):
        raise InputError(f"シナリオ {scenario_id} はありません。")
    return mine.sort_values("rank").reset_index(drop=True)


def compare_scenarios(workspace, scenario_ids: list[str], *, level: str = "jhs_district") -> pd.DataFrame:
    """Coverage per area side by side: before, and after each scenario (people and %).

    Columns: ``area_id``, ``area_name``, ``demand``, ``covered_before``, then per scenario
    ``after_<id>`` and ``gain_<id>``. The scenarios must count the same people (category,
    demand, minutes may differ: the column names say which scenario).
    """
    if not scenario_ids:
        raise InputError("比べるシナリオを選んでください。")
    areas = workspace.read("siting_areas")
    known = set(workspace.read("siting_scenarios")["scenario_id"])
    missing = [s for s in scenario_ids if s not in known]
    if missing:
        raise InputError(f"シナリオ {', '.join(missing)} はありません。")
    mine = areas[(areas["level"] == level) & areas["scenario_id"].isin(scenario_ids)]
    first = mine[mine["scenario_id"] == scenario_ids[0]][["area_id", "area_name", "demand", "covered_before"]]
    out = first.reset_index(drop=True)
    for sid in scenario_ids:
        part = mine[mine["scenario_id"] == sid][["area_id", "covered_after", "gain"]]
        out = out.merge(part.rename(columns={"covered_after": f"after_{sid}", "gain": f"gain_{sid}"}),
                        on="area_id", how="outer")
    out["pct_before"] = (100 * out["covered_before"] / out["demand"]).where(out["demand"] > 0).round(1)
    for sid in scenario_ids:
        out[f"pct_{sid}"] = (100 * out[f"after_{sid}"] / out["demand"]).where(out["demand"] > 0).round(1)
    return out.sort_values("area_id").reset_index(drop=True)


def plan_from_scenario(workspace, scenario_id: str, *, user: str | None = None) -> int:
    """Add a scenario's sites to the resources as ``planned`` (計画中(案)); returns how many.

    Sites already turned into planned resources (same id ``P-<scenario>-<rank>``) are skipped.
    """
    meta = workspace.read("siting_scenarios")
    row = meta[meta["scenario_id"] == scenario_id]
    if not len(row):
        raise InputError(f"シナリオ {scenario_id} はありません。")
    sites = scenario_sites(workspace, scenario_id)
    resources = workspace.read("resources")
    ids = [f"P-{scenario_id}-{r}" for r in sites["rank"]]
    new = ~pd.Series(ids).isin(resources["resource_id"]).to_numpy()
    if not new.any():
        return 0
    name = row["name"].iloc[0]
    frame = gpd.GeoDataFrame({
        "resource_id": np.array(ids)[new], "name": sites["name"].to_numpy()[new],
        "category": row["category"].iloc[0], "address": sites["address"].to_numpy()[new],
        "capacity": sites["capacity"].to_numpy()[new], "status": "planned",
        "source": f"資源開発シナリオ {scenario_id}「{name}」",
    }, geometry=sites.geometry.to_numpy()[new], crs=sites.crs)
    frame["notes"] = np.array([f"候補地 {c}(第{r}位、新たに徒歩圏 {g:g} 人)" for c, r, g in
                               zip(sites["candidate_id"], sites["rank"], sites["gain_demand"], strict=True)])[new]
    frame = coerce(frame, RESOURCES)
    with workspace.transaction() as tx:
        tx.write("resources", _concat(resources, frame))
        tx.record(user=user, layer="resources", action="insert", feature_id=scenario_id, new=int(new.sum()),
                  note=f"資源開発シナリオ {scenario_id} の候補地を計画中(案)として追加")
    return int(new.sum())


def delete_scenario(workspace, scenario_id: str, *, user: str | None = None) -> None:
    """Remove a scenario (its sites and area rows too); planned resources made from it stay."""
    meta = workspace.read("siting_scenarios")
    if scenario_id not in set(meta["scenario_id"]):
        raise InputError(f"シナリオ {scenario_id} はありません。")
    with workspace.transaction() as tx:
        tx.write("siting_scenarios", meta[meta["scenario_id"] != scenario_id])
        sites = workspace.read("siting_sites")
        tx.write("siting_sites", sites[sites["scenario_id"] != scenario_id])
        areas = workspace.read("siting_areas")
        tx.write("siting_areas", areas[areas["scenario_id"] != scenario_id])
        tx.record(user=user, layer="siting_scenarios", action="delete", feature_id=scenario_id)

