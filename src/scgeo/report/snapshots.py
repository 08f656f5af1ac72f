"""Monthly snapshots: the figures a report needs, stored once at each month end and never changed.

A snapshot describes the workspace on ``as_of`` (the month's last day for a month-end snapshot):
resources by category, status and area (one row per resource, so that what was new or closed in a
month is the difference of two stored snapshots, not a guess over the edit history), the
confirmations of the month, coverage per area × category, needs opened / matched / resolved in
the month, and activities by function and type. It carries the scgeo version and the settings it
used, and a SHA-256 checksum of its figures: :func:`verify_snapshots` shows that none changed.

Need counts in a snapshot are internal (the workspace is internal); reports publish them only
as suppressed aggregates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json

import geopandas as gpd
import numpy as np
import pandas as pd

from scgeo._errors import InputError
from scgeo._version import __version__
from scgeo.analysis.activities import in_period, month_range
from scgeo.schema import AREA_LEVELS, SNAPSHOT_FIGURES, SNAPSHOTS, coerce
from scgeo.settings import get_settings

__all__ = [
    "COVERAGE_METRICS",
    "SNAPSHOT_LEVELS",
    "figures",
    "resources_as_of",
    "snapshots",
    "take_snapshot",
    "verify_snapshots",
]
_KIND_LABELS = {"month_end": "月末", "on_demand": "任意の時点"}  # for the history

#: Area levels a snapshot keeps resources and coverage for (those the workspace has).
SNAPSHOT_LEVELS = ("municipality", "living_area", "jhs_district")
COVERAGE_METRICS = ("coverage_pct", "covered_65plus", "pop_65plus", "n_resources")
_FIGURE_COLUMNS = ["table", "level", "area_id", "key", "key2", "metric", "value"]


def _rows(frame: pd.DataFrame, table: str, **fixed) -> pd.DataFrame:
    out = frame.assign(table=table, **fixed)
    for col in _FIGURE_COLUMNS:
        if col not in out:
            out[col] = None
    return out[_FIGURE_COLUMNS]


def _located(points: gpd.GeoDataFrame, id_col: str, areas: gpd.GeoDataFrame, levels: list[str]) -> pd.DataFrame:
    """``id``, ``level``, ``area_id`` for every point and level (area empty when outside all)."""
    parts = []
    for level in levels:
        level_areas = areas[areas["level"] == level][["area_id", "geometry"]]
        joined = gpd.sjoin(points[[id_col, "geometry"]], level_areas.to_crs(points.crs), predicate="within",
                           how="left")
        joined = joined[~joined.index.duplicated()]
        parts.append(pd.DataFrame({"id": joined[id_col].astype(str), "level": level,
                                   "area_id": joined["area_id"].astype(object)}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["id", "level", "area_id"])


def _resource_figures(resources, confirmations, areas, levels, start, end) -> pd.DataFrame:
    where = _located(resources, "resource_id", areas, levels)
    info = resources.set_index(resources["resource_id"].astype(str))
    where["key2"] = where["id"].map(info["category"])
    where["metric"] = "status:" + where["id"].map(info["status"]).astype(str)
    status = _rows(where.rename(columns={"id": "key"}).assign(value=1.0), "resource")
    month = confirmations[in_period(confirmations["confirmed_on"], start, end)
                          & confirmations["resource_id"].isin(set(info.index))]
    counted = month.groupby("resource_id").size()
    confirmed = pd.DataFrame({"key": counted.index.astype(str), "value": counted.to_numpy(dtype=float)})
    confirmed["key2"] = confirmed["key"].map(info["category"]) if len(info) else None
    return pd.concat([status, _rows(confirmed, "confirmed", metric="confirmations")], ignore_index=True)


def _coverage_figures(workspace, resources, areas, needs, levels, as_of, minutes,
                      network) -> tuple[pd.DataFrame, str]:
    from scgeo.analysis.basis import population_basis
    from scgeo.analysis.coverage import analyse_coverage
    from scgeo.network import WalkNetwork

    if not workspace.count("population") or not len(resources):
        return pd.DataFrame(columns=_FIGURE_COLUMNS), "人口か社会資源がないためカバー率は記録していません"
    if network is None and workspace.count("network_edges"):
        network = WalkNetwork.from_workspace(workspace)
    blocks = areas[areas["level"] == "town_block"].merge(workspace.read("population"), on="area_id", how="left")
    basis, rate = population_basis(blocks, workspace.meta())
    coverage = analyse_coverage(areas, blocks, resources, needs, network=network,
                                minutes=minutes, today=as_of.date(), population_basis=basis, aging_rate=rate)
    table = coverage.table(levels)
    long = table.melt(id_vars=["level", "area_id", "category"], value_vars=list(COVERAGE_METRICS),
                      var_name="metric", value_name="value").rename(columns={"category": "key"})
    note = str(table["method_note"].iloc[0]) if len(table) else ""
    return _rows(long, "coverage"), note


def _need_figures(needs, areas, levels, start, end) -> pd.DataFrame:
    if not len(needs):
        return pd.DataFrame(columns=_FIGURE_COLUMNS)
    events = {
        "opened": in_period(needs["recorded_date"], start, end),
        "matched": (needs["status"] == "matched") & in_period(needs["status_date"], start, end),
        "resolved": (needs["status"] == "resolved") & in_period(needs["status_date"], start, end),
        "open_total": (needs["status"] == "open") & (pd.to_datetime(needs["recorded_date"]) <= end),
    }
    where = _located(needs, "need_id", areas, levels)
    parts = []
    for metric, mask in events.items():
        ids = set(needs.loc[mask.to_numpy(), "need_id"].astype(str))
        chosen = where[where["id"].isin(ids)].copy()
        chosen["key"] = chosen["id"].map(dict(zip(needs["need_id"].astype(str), needs["category"], strict=True)))
        counts = chosen.groupby(["level", "area_id", "key"], dropna=False).size().rename("value").reset_index()
        parts.append(_rows(counts.assign(value=counts["value"].astype(float)), "needs", metric=metric))
    return pd.concat(parts, ignore_index=True)


def _activity_figures(activities, start, end) -> pd.DataFrame:
    rows = activities[in_period(activities["date"], start, end)]
    grouped = (rows.assign(hours=rows["hours"].fillna(0.0)).groupby(["function", "type"])
               .agg(count=("activity_id", "size"), hours=("hours", "sum")).reset_index())
    long = grouped.melt(id_vars=["function", "type"], value_vars=["count", "hours"], var_name="metric")
    return _rows(long.rename(columns={"function": "key", "type": "key2"}).assign(value=lambda f: f["value"]
                                                                                  .astype(float)), "activities")


def _network_figures(workspace, start, end) -> pd.DataFrame:
    orgs = workspace.read("organisations")
    ties = workspace.read("ties")
    meetings = workspace.read("council_meetings")
    started = pd.to_datetime(ties["started"])
    ended = pd.to_datetime(ties["ended"])
    accepted = ties["status"].fillna("accepted") == "accepted"
    in_force = accepted & (started.isna() | (started <= end)) & (ended.isna() | (ended > end))
    values = {
        "organisations": float((orgs["status"].fillna("active") == "active").sum()),
        "ties": float(in_force.sum()),
        "ties_new": float((accepted & in_period(started, start, end)).sum()),
        "ties_ended": float((accepted & in_period(ended, start, end)).sum()),
        "council_meetings": float(in_period(meetings["date"], start, end).sum()),
    }
    return _rows(pd.DataFrame({"metric": list(values), "value": list(values.values())}), "network")


def _checksum(frame: pd.DataFrame) -> str:
    text = frame[_FIGURE_COLUMNS].astype(object).where(frame[_FIGURE_COLUMNS].notna(), "").astype(str)
    payload = "\n".join("\t".join(r) for r in text.itertuples(index=False, name=None))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float).round(6)
    for col in ("table", "level", "area_id", "key", "key2", "metric"):
        frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    keys = frame[["table", "level", "area_id", "key", "key2", "metric"]].fillna("")
    order = np.lexsort([keys[c].astype(str).to_numpy() for c in reversed(keys.columns)])
    return frame.iloc[order].reset_index(drop=True)


def take_snapshot(workspace, *, month: str | None = None, as_of: object = None, user: str | None = None,
                  minutes: float = 15.0, network=None, note: str | None = None,
                  resources: pd.DataFrame | None = None) -> str:
    """Compute and store the snapshot of ``month`` (or of the day ``as_of``); returns its id.

    Parameters
    ----------
    workspace
        The :class:`scgeo.Workspace`.
    month
        ``YYYY-MM``: a month-end snapshot (id ``M2026-11``) describing the last day of the month.
        A month-end snapshot is taken once: a second one for the same month is refused.
    as_of
        Instead of ``month``: an on-demand snapshot of that day (id ``D2026-11-15-1`` …), with the
        month-to-date figures of its month. Default: today.
    user
        Who took it (recorded with the snapshot and in the history).
    minutes
        Walking minutes of the stored coverage.
    network
        A :class:`scgeo.network.WalkNetwork` already built from the workspace (saves rebuilding it).
    note
        Text kept with the snapshot (e.g. how it was made).
    resources
        The resources as they were on the snapshot's day, when it is taken afterwards from a dated
        list of changes (:func:`resources_as_of`); default: the workspace's resources as they are.
        Say so in ``note``.

    Raises
    ------
    InputError
        The month's snapshot exists already, the month has not ended yet, or ``month`` is malformed.
    """
    from scgeo.workspace import _now, _user

    existing = workspace.read("snapshots")
    if month is not None:
        start, end = month_range(month)
        sid, kind = f"M{month}", "month_end"
        if end.date() > dt.date.today():
            raise InputError(f"{month} はまだ終わっていません。"
                             "月の途中の数値は `scgeo snapshot --as-of 日付` で作れます。")
        if sid in set(existing["snapshot_id"]):
            raise InputError(f"{month} の月末スナップショットは既にあります。スナップショットは変更できません"
                             "(別の時点の数値は `scgeo snapshot --as-of 日付` で作れます)。")
    else:
        end = pd.Timestamp(as_of if as_of is not None else dt.date.today()).normalize()
        start, month = end.replace(day=1), f"{end:%Y-%m}"
        taken = existing["snapshot_id"].astype(str).str.startswith(f"D{end:%Y-%m-%d}-").sum()
        sid, kind = f"D{end:%Y-%m-%d}-{taken + 1}", "on_demand"
    areas = workspace.areas()  # each layer read once
    needs = workspace.read("needs")
    levels = [lv for lv in AREA_LEVELS if lv in SNAPSHOT_LEVELS and lv in set(areas["level"])]
    resources = workspace.read("resources") if resources is None else resources
    resources = resources[resources["status"] != "planned"]
    coverage, method = _coverage_figures(workspace, resources, areas, needs, levels, end, minutes, network)
    parts = [_resource_figures(resources, workspace.confirmations(), areas, levels, start, end), coverage,
             _need_figures(needs, areas, levels, start, end),
             _activity_figures(workspace.read("activities"), start, end), _network_figures(workspace, start, end)]
    frame = _canonical(pd.concat([p for p in parts if len(p)], ignore_index=True))
    settings = {k: v for k, v in dataclasses.asdict(get_settings()).items()
                if k in ("walk_speed_m_per_min", "suppress_below", "confirm_months", "confirm_leeway_months",
                         "confirm_long_factor", "confidence_weights", "taxonomy_file")}
    settings |= {"minutes": minutes, "levels": levels, "method": method}
    meta = {"snapshot_id": sid, "month": month, "as_of": end, "kind": kind, "taken_at": _now(),
            "taken_by": _user(user), "scgeo_version": __version__,
            "settings": json.dumps(settings, ensure_ascii=False, sort_keys=True), "checksum": _checksum(frame),
            "note": note}
    frame.insert(0, "snapshot_id", sid)
    frame.insert(0, "figure_id", [f"{sid}:{i}" for i in range(len(frame))])
    with workspace.transaction() as tx:  # the lock is held: what is read here is what is replaced
        existing = workspace.read("snapshots")
        if sid in set(existing["snapshot_id"]):
            raise InputError(f"スナップショット {sid} は既にあります(同時に作られました)。"
                             "スナップショットは変更できません。")
        tx.write("snapshots", pd.concat([existing, coerce(pd.DataFrame([meta]), SNAPSHOTS)], ignore_index=True))
        current = workspace.read("snapshot_figures")
        tx.write("snapshot_figures", pd.concat([current, coerce(frame, SNAPSHOT_FIGURES)], ignore_index=True))
        tx.record(user=user, layer="snapshots", action="insert", feature_id=sid, new=month,
                  note=f"{_KIND_LABELS.get(kind, kind)} {end.date().isoformat()} 数値 {len(frame)} 件")
    return sid


def resources_as_of(resources: pd.DataFrame, changes: pd.DataFrame, day: object) -> pd.DataFrame:
    """The resources as they were on ``day``, undoing the dated ``changes`` made after it.

    ``changes`` has ``resource_id``, ``date``, ``status_before`` (empty: the resource did not exist
    before) and ``status_after``; those dated after ``day`` are undone, latest first.
    """
    out = resources.copy()
    later = changes[pd.to_datetime(changes["date"]) > pd.Timestamp(day)]
    for change in later.sort_values("date", ascending=False).itertuples(index=False):
        before = change.status_before
        if before is None or (not isinstance(before, str) and pd.isna(before)) or not str(before).strip():
            out = out[out["resource_id"] != change.resource_id]
        else:
            out.loc[out["resource_id"] == change.resource_id, "status"] = str(before)
    return out.reset_index(drop=True)


def snapshots(workspace) -> pd.DataFrame:
    """The stored snapshots, oldest first (``as_of``, then id)."""
    return workspace.read("snapshots").sort_values(["as_of", "snapshot_id"]).reset_index(drop=True)


def figures(workspace, snapshot_ids: list[str] | None = None) -> pd.DataFrame:
    """The stored figures (all snapshots, or those of ``snapshot_ids``)."""
    table = workspace.read("snapshot_figures")
    return table if snapshot_ids is None else table[table["snapshot_id"].isin(snapshot_ids)].reset_index(drop=True)


def verify_snapshots(workspace) -> pd.DataFrame:
    """Each snapshot's stored checksum against its figures as read now: ``snapshot_id``, ``ok``."""
    table = snapshots(workspace)
    stored = figures(workspace)
    ok = [_checksum(_canonical(stored[stored["snapshot_id"] == sid].drop(columns=["figure_id", "snapshot_id"])))
          == checksum for sid, checksum in zip(table["snapshot_id"], table["checksum"], strict=True)]
    return pd.DataFrame({"snapshot_id": table["snapshot_id"], "month": table["month"], "ok": ok})
