"""The council map of a workspace with its analysis layers: the one map the CLI, the app and the demo give.

:func:`council_layers` runs what the map shows besides the inventory — blank zones (空白地帯)
of the gap analysis and need counts per 中学校区 (else per 日常生活圏域 or 小学校区, said on the
map), audited against every earlier release and
recorded in the workspace's publication ledger (:func:`scgeo.privacy.publish_needs`), and the
ties between located organisations and resources (a layer that starts off) — and
:func:`export_council` writes :func:`scgeo.maps.council.export_council_map` with them, so
``scgeo export-map``, the app's 出力 page and ``make demo`` hand out the same file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from scgeo.analysis.ties import tie_lines
from scgeo.maps.council import export_council_map, select_area
from scgeo.privacy import publish_needs
from scgeo.report.gaps import gap_report
from scgeo.report.network import workspace_graph
from scgeo.schema import AREA_LEVEL_LABELS

__all__ = ["NEED_LEVELS", "council_layers", "export_council"]

# the units of the map's need counts, the first the workspace has
NEED_LEVELS = ("jhs_district", "living_area", "es_district")


def council_layers(ws, *, area: str | None = None, need_level: str | None = None) -> dict:
    """``{"blank_zones": …, "need_counts": …, "ties": …, "ties_not_drawn": n, "extra_notes": […]}``.

    Public: no individual needs. Blank zones need town-block population; need counts need needs
    and areas of ``need_level`` (default: the first of :data:`NEED_LEVELS` the workspace has; a
    note on the map says when it is not 中学校区, or why there are no counts); ties need the
    ``ties`` layer. A layer that cannot be made is ``None``. With ``area``, only the blank zones
    and ties touching that 日常生活圏域 / 中学校区 are kept.
    """
    layers: dict = {"blank_zones": None, "need_counts": None, "ties": None, "ties_not_drawn": 0, "extra_notes": []}
    areas = ws.areas()
    shape = select_area(areas, area).geometry.iloc[0] if area is not None else None
    if ws.count("population") and ws.count("resources"):
        zones = gap_report(ws)[1]
        if shape is not None and len(zones):
            zones = zones[zones.to_crs(areas.crs).geometry.intersects(shape)]
        layers["blank_zones"] = zones
    levels = set(areas["level"])
    need_level = need_level or next((lv for lv in NEED_LEVELS if lv in levels), None)
    if ws.count("needs") and need_level is None:
        layers["extra_notes"].append("ニーズの件数は載せていません(中学校区・日常生活圏域・小学校区の区域がありません)")
    elif ws.count("needs") and need_level in levels:
        if "jhs_district" not in levels:
            layers["extra_notes"].append(f"ニーズの件数は{AREA_LEVEL_LABELS[need_level]}ごとです(中学校区の区域がありません)")
        counts = publish_needs(ws, level=need_level, purpose="協議体用の地図").geometry
        if shape is not None:
            counts = counts[counts.to_crs(areas.crs).geometry.representative_point().covered_by(shape)]
        layers["need_counts"] = counts
    if ws.count("ties"):
        lines, layers["ties_not_drawn"] = tie_lines(workspace_graph(ws))
        if shape is not None:
            lines = lines[lines.to_crs(areas.crs).geometry.intersects(shape)]
        layers["ties"] = lines
    return layers


def export_council(ws, path: str | Path, *, area: str | None = None, internal: bool = False,
                   today: dt.date | None = None) -> Path:
    """Write the council map (offline HTML) with blank zones and suppressed need counts; returns the path."""
    return export_council_map(ws, path, area=area, internal=internal, today=today, **council_layers(ws, area=area))
