"""The council export: a workspace's 地域資源マップ, whole town or one area, as one offline HTML file.

Reads the workspace (areas, resources, population, street network, rivers/rails) and hands
finished frames to :func:`scgeo.maps.resource_map`; the page works with no network at all
(Leaflet and plugins inlined, the street network drawn as the default basemap). Public by
default: no individual needs. ``internal=True`` adds them under a red 「内部資料」 banner.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd

from scgeo._errors import InputError
from scgeo.analysis.basis import data_notes, population_basis
from scgeo.crs import to_metric
from scgeo.maps.offline import save_offline
from scgeo.maps.resource_map import VECTOR_BASEMAP, resource_map
from scgeo.schema import AREA_LEVEL_LABELS

__all__ = ["AreaView", "area_view", "council_map", "export_council_map", "select_area"]

SELECTABLE_LEVELS = ("living_area", "jhs_district")
_MARGIN_M = 400.0  # streets drawn around a selected area, in metres


def select_area(areas: gpd.GeoDataFrame, key: str) -> gpd.GeoDataFrame:
    """The one 日常生活圏域 (or 中学校区) whose name or ``area_id`` is ``key``.

    Raises
    ------
    InputError
        No such area; the message lists the valid names.
    """
    candidates = areas[areas["level"].isin(SELECTABLE_LEVELS)]
    for level in SELECTABLE_LEVELS:  # a living area wins over a school district of the same name
        level_rows = candidates[candidates["level"] == level]
        hit = level_rows[(level_rows["name"] == key) | (level_rows["area_id"].astype(str) == key)]
        if len(hit):
            return hit.iloc[[0]]
    names = {AREA_LEVEL_LABELS[lv]: list(candidates.loc[candidates["level"] == lv, "name"]) for lv in SELECTABLE_LEVELS}
    listing = " / ".join(f"{label}: {'、'.join(n)}" for label, n in names.items() if n) or "(区域がありません)"
    raise InputError(f"区域「{key}」はありません。指定できる区域 — {listing}")


class AreaView:
    """A workspace's layers, optionally restricted to one area (all in the workspace CRS).

    Attributes
    ----------
    name
        The area's name, or ``None`` for the whole municipality.
    area
        The selected area (one row) or ``None``.
    areas, resources, venues, streets, lines, needs, town_blocks
        The layers, filtered: points inside the area, areas whose representative point lies in
        it, streets and lines within ``_MARGIN_M`` metres of it.
    notes
        What the workspace's analyses stand on, said on every map and page
        (:func:`scgeo.analysis.data_notes`: no walking network, 65+ unknown or estimated).
    population_basis
        ``age``, ``estimated`` or ``total`` (:func:`scgeo.analysis.population_basis`).
    """

    def __init__(self, ws, area: str | None = None, *, internal: bool = False) -> None:
        info = ws.info()
        self.muni_name = info["muni_name"]
        self.muni_code = info["muni_code"]
        areas = ws.areas()
        self.area = select_area(areas, area) if area else None
        self.name = None if self.area is None else str(self.area["name"].iloc[0])
        self.resources = ws.read("resources")
        self.venues = ws.read("venues")
        self.streets = ws.read("network_edges")
        self.lines = ws.read("basemap_lines")
        self.needs = ws.read("needs") if internal else None
        blocks = ws.town_blocks()
        self.town_blocks = blocks
        meta = ws.meta()
        self.population_basis = population_basis(blocks, meta)[0]
        self.notes = data_notes(blocks, meta, has_network=ws.count("network_edges") > 0)
        self.areas = areas[areas["level"].isin(("living_area", "jhs_district", "town_block"))]
        if self.area is None:
            return
        shape = self.area.geometry.iloc[0]
        self.resources = self.resources[self.resources.geometry.covered_by(shape)]
        self.venues = self.venues[self.venues.geometry.covered_by(shape)]
        if self.needs is not None:
            self.needs = self.needs[self.needs.geometry.covered_by(shape)]
        inside = self.areas.geometry.representative_point().covered_by(shape)
        self.areas = self.areas[inside | (self.areas["area_id"] == self.area["area_id"].iloc[0])]
        self.town_blocks = blocks[blocks.geometry.representative_point().covered_by(shape)]
        metric = to_metric(self.area, muni_code=self.muni_code)
        near = gpd.GeoDataFrame(geometry=metric.buffer(_MARGIN_M), crs=metric.crs).to_crs(self.area.crs)
        zone = near.geometry.iloc[0]
        self.streets = self.streets[self.streets.geometry.intersects(zone)]
        self.lines = gpd.clip(self.lines, zone) if len(self.lines) else self.lines

    @property
    def title(self) -> str:
        """「さくら市 第2圏域 地域資源マップ」."""
        parts = [self.muni_name, self.name or "", "地域資源マップ"]
        return " ".join(p for p in parts if p)


def area_view(ws, area: str | None = None, *, internal: bool = False) -> AreaView:
    """:class:`AreaView` of ``ws`` (whole town when ``area`` is ``None``)."""
    return AreaView(ws, area, internal=internal)


def council_map(ws, *, area: str | None = None, internal: bool = False, today: dt.date | None = None,
                title: str | None = None, **options):
    """The council map of workspace ``ws`` (a ``folium.Map``), drawn on the built-in street map.

    Parameters
    ----------
    ws
        An open :class:`scgeo.Workspace`.
    area
        A 日常生活圏域 or 中学校区 name or id: only what lies in it is drawn, and the map zooms to it.
    internal
        Draw individual needs and the 「内部資料 — 個人情報を含む」 banner.
    today
        The map's date (default: today).
    title
        Title (default: 「<市町村> <区域> 地域資源マップ」).
    **options
        Passed on to :func:`scgeo.maps.resource_map` (``catchments``, ``blank_zones``,
        ``need_counts``, ``indicator`` …).
    """
    view = AreaView(ws, area, internal=internal)
    blocks = view.town_blocks
    if "indicator" not in options and len(blocks) and blocks["pop_total"].notna().any():
        column, label = {"total": ("pop_total", "総人口(町丁目、65歳以上人口が不明)"),
                         "estimated": ("pop_65plus", "65歳以上人口(町丁目、推計)")}.get(
            view.population_basis, ("pop_65plus", "65歳以上人口(町丁目)"))
        if blocks[column].notna().any():
            options.update(indicator=blocks[["area_id", "name", column, "geometry"]], indicator_column=column,
                           indicator_label=label, indicator_show=False)
    extra = list(options.pop("extra_notes", ()))
    options["notes"] = [*options.get("notes", view.notes), *extra]
    sources = "地域資源: ワークスペースの社会資源 / 区域・人口: ワークスペース"
    return resource_map(
        view.areas, view.resources, title=(title or view.title) + ("(内部資料)" if internal else ""),
        basemap=VECTOR_BASEMAP, streets=view.streets, basemap_lines=view.lines, today=today,
        review_flags=ws.review_flags(),
        sources=sources, needs=view.needs if internal else None, internal=internal,
        focus=view.area, venues=options.pop("venues", view.venues), **options)


def export_council_map(ws, path: str | Path, *, area: str | None = None, internal: bool = False,
                       today: dt.date | None = None, **options) -> Path:
    """Write :func:`council_map` as one self-contained offline HTML file; returns the path."""
    return save_offline(council_map(ws, area=area, internal=internal, today=today, **options), path)


