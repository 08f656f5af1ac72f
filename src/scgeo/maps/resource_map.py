"""The 地域資源マップ: areas, resources and finished analysis results on a folium map.

Takes finished GeoDataFrames (no analysis here) and returns a ``folium.Map``. Reprojection to
EPSG:4326 happens here, at the rendering boundary, and nowhere else. Resources are drawn as
category badges in one Leaflet.markercluster group per category, so 20,000 of them stay fast
and every category keeps its own switch in the layer control.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from folium.map import Layer

from scgeo._errors import ScgeoError
from scgeo.analysis.freshness import FreshnessRules, freshness
from scgeo.maps import _legend as lg
from scgeo.maps._basemap import STREET_STYLES, VECTOR_BASEMAP, add_vector_basemap, basemap_kinds, vector_attribution
from scgeo.maps._layers import (
    FitToFurniture,
    Furniture,
    Labels,
    MetricScale,
    PageAssets,
    PointCluster,
    Ready,
    VectorLayer,
    round_geojson,
)
from scgeo.maps._proposed import add_proposed
from scgeo.maps._ties import add_ties
from scgeo.maps.offline import leaflet_only
from scgeo.schema import (
    AREA_LEVEL_LABELS,
    COARSE_MATCH_LEVELS,
    NEED_STATUS_LABELS,
    RESOURCE_STATUS_LABELS,
    Taxonomy,
    load_taxonomy,
)
from scgeo.settings import get_settings

__all__ = ["BADGE_LIMIT", "BASEMAPS", "CLASS_COLORS", "VECTOR_BASEMAP", "MapPrivacyError", "category_letters",
           "classify", "resource_map"]

GSI_ATTRIBUTION = '<a href="https://maps.gsi.go.jp/development/ichiran.html">地理院タイル</a>'
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
BASEMAPS = {
    "地理院タイル(淡色地図)": ("https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png", GSI_ATTRIBUTION),
    "地理院タイル(標準地図)": ("https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png", GSI_ATTRIBUTION),
    "OpenStreetMap": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", OSM_ATTRIBUTION),
}
BADGE_LIMIT = 3000  # above this many resources, markers="auto" draws canvas circles
CLASS_COLORS = ("#ffffcc", "#c2e699", "#78c679", "#31a354", "#006837")  # ColorBrewer YlGn, 5 classes
_AREA_STYLE = {
    "living_area": {"color": "#14304f", "weight": 3.5, "fill": False, "opacity": 0.9},
    "jhs_district": {"color": "#3d5875", "weight": 1.8, "dashArray": "3 6", "fill": False, "opacity": 0.85},
    "town_block": {"color": "#8a96a3", "weight": 0.8, "fill": False, "opacity": 0.8},
}
_POPUP_FIELDS = {
    "name": "名称", "category_label": "種別", "provider_label": "提供主体", "schedule": "曜日・時間",
    "capacity": "定員", "fee": "費用", "contact": "連絡先", "address": "住所", "confirmed": "最終確認日",
    "freshness": "確認の状態",
    "position": "位置",
}
COARSE_NOTE = "位置は町丁目の代表点"  # the popup of a resource placed at a 町丁目 / 大字 point
# Confirmation states drawn with the red "!" (scgeo.analysis.freshness).
_STALE_STATES = ("overdue", "long_unconfirmed", "needs_review")


class MapPrivacyError(ScgeoError):
    """Individual needs were passed to a public (non-internal) map."""


def _escape(text: object) -> str:
    return html.escape(str(text))


def _escape_layer_names(m) -> None:
    """Leaflet's layer control writes layer names as HTML: names built from data are escaped."""
    for child in m._children.values():
        if isinstance(child, Layer) and child.control and not getattr(child, "_scgeo_escaped", False):
            child.layer_name = _escape(child.layer_name)
            child._scgeo_escaped = True


def category_letters(taxonomy: Taxonomy) -> dict[str, str]:
    """One distinct character per category for its badge: the label's first unused character."""
    used: set[str] = set()
    letters = {}
    for code, category in taxonomy.categories.items():
        letter = next((ch for ch in category.label if ch.isalnum() and ch not in used), code[:1].upper())
        used.add(letter)
        letters[code] = letter
    return letters


def classify(values: pd.Series, *, classes: int = 5, breaks: Sequence[float] | None = None):
    """Class breaks (quantiles unless ``breaks`` is given) and each value's class (-1 for NA).

    Returns
    -------
    tuple of (list of float, numpy.ndarray)
        ``classes + 1`` ascending breaks (duplicates dropped) and the class index per value.
    """
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    valid = v[~np.isnan(v)]
    if breaks is None:
        if not len(valid):
            return [], np.full(len(v), -1)
        breaks = np.unique(np.quantile(valid, np.linspace(0, 1, classes + 1)))
    edges = [float(b) for b in breaks]
    if len(edges) < 2:
        edges = [edges[0], edges[0]]
    index = np.clip(np.searchsorted(edges[1:-1], v, side="left"), 0, len(edges) - 2)
    return edges, np.where(np.isnan(v), -1, index)


def _resource_rows(resources: gpd.GeoDataFrame, taxonomy: Taxonomy, today: dt.date,
                   review_flags: pd.DataFrame | None) -> pd.DataFrame:
    out = pd.DataFrame(index=resources.index)
    for col in _POPUP_FIELDS:
        out[col] = resources[col] if col in resources else None
    out["category_label"] = resources["category"].map(taxonomy.label)
    out["provider_label"] = resources["provider_type"].map(taxonomy.label, na_action="ignore")
    fresh = freshness(resources, today=today, rules=FreshnessRules.from_settings(taxonomy=taxonomy),
                      flags=review_flags)
    stale = fresh["state"].isin(_STALE_STATES)
    due = fresh["due_date"].dt.strftime("(期限 %Y-%m-%d)").fillna("")
    reason = fresh["review_reason"].where(fresh["review_reason"] == "", ": " + fresh["review_reason"])
    out["freshness"] = fresh["state_label"] + reason + due.where(fresh["state"] != "needs_review", "")
    out["confirmed"] = resources["last_confirmed"].dt.strftime("%Y-%m-%d").fillna("未確認")
    status = resources["status"].map(RESOURCE_STATUS_LABELS)
    active = resources["status"] == "active"
    out["name"] = resources["name"].where(active, resources["name"] + "(" + status + ")")
    out["capacity"] = resources["capacity"].astype("string")
    coarse = _coarse(resources)
    out["position"] = pd.Series(np.where(coarse, COARSE_NOTE, None), index=resources.index, dtype=object)
    out = out.astype(object).where(out.notna(), None)
    xy = np.round(resources.geometry.get_coordinates().to_numpy(), 6)
    out.insert(0, "_x", xy[:, 0])
    out.insert(1, "_y", xy[:, 1])
    out.insert(2, "_stale", stale.astype(int).to_numpy())
    out.insert(3, "_flags", (~active).astype(int).to_numpy() | (coarse.astype(int) * 2))  # 1 inactive, 2 coarse
    return out


def _coarse(resources: gpd.GeoDataFrame) -> np.ndarray:
    """Resources standing on a 町丁目 or 大字 representative point (``match_level``)."""
    if "match_level" not in resources:
        return np.zeros(len(resources), dtype=bool)
    return resources["match_level"].isin(COARSE_MATCH_LEVELS).to_numpy()


def _fields(labels: Sequence[str], stale_field: str | None = None) -> list[dict]:
    return [{"label": label, **({"stale": True} if label == stale_field else {}),
             **({"coarse": True} if label == _POPUP_FIELDS["position"] else {})} for label in labels]


def _add_areas(m, areas: gpd.GeoDataFrame, legend: list[str]) -> None:
    for level, show in (("town_block", False), ("jhs_district", True), ("living_area", True)):
        layer = areas[areas["level"] == level]
        if not len(layer):
            continue
        label = AREA_LEVEL_LABELS[level]
        name = f"{label}(境界・名称)"
        group = folium.FeatureGroup(name=name, show=show)
        folium.GeoJson(  # GeoJsonTooltip writes its values as HTML: they are escaped here; ~1 m precision
            round_geojson(layer.assign(name=layer["name"].map(_escape, na_action="ignore")), ["area_id", "name"]),
            style_function=lambda _f, s=_AREA_STYLE[level]: s,
            tooltip=folium.GeoJsonTooltip(["name"], aliases=[label]), smooth_factor=0.5,
        ).add_to(group)
        Labels(layer.geometry.representative_point(), layer["name"], kind=level).add_to(group)
        group.add_to(m)
        style = _AREA_STYLE[level]
        legend.append(lg.line_row(style["color"], f"{label}の境界", width=max(1, style["weight"] - 0.5),
                                  dash=style.get("dashArray"), layer=name))
        if not show:
            legend.append(lg.row('<span class="hint">☰</span>', f"{label}の境界と名前: 右上のレイヤ一覧で表示",
                                 unless=name))


_VENUE_COLOR = "#6a1b9a"


def _add_venues(m, venues: gpd.GeoDataFrame, legend: list[str]) -> None:
    """Venues as small purple rings (a layer of their own, not a resource category)."""
    from scgeo.schema import VENUE_KIND_LABELS

    venues = venues[venues.geometry.notna() & ~venues.geometry.is_empty].to_crs(4326)
    kinds = venues["kind"].map(lambda k: VENUE_KIND_LABELS.get(k, "その他"))
    details = [
        "、".join(part for part in (kind, f"定員 {int(cap)} 人" if pd.notna(cap) else "",
                                    f"利用時間 {hours}" if isinstance(hours, str) and hours else "") if part)
        for kind, cap, hours in zip(kinds, venues["capacity"], venues["opening_hours"], strict=True)]
    tips = [html.escape(f"{name}({detail})") for name, detail in zip(venues["name"], details, strict=True)]
    name = f"活動の場(会場) ({len(venues)})"
    group = folium.FeatureGroup(name=name, show=True)
    folium.GeoJson(
        venues.assign(tip=tips)[["tip", "geometry"]],
        marker=folium.CircleMarker(radius=5, color=_VENUE_COLOR, weight=2.5, fill=True, fill_color="#ffffff",
                                   fill_opacity=0.9),
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
    ).add_to(group)
    group.add_to(m)
    symbol = (f'<span style="display:inline-block;width:9px;height:9px;border-radius:50%;'
              f'border:2.5px solid {_VENUE_COLOR};background:#fff;margin:0 5px"></span>')
    legend.append(lg.row(symbol, "活動の場(会場)・社会資源には数えません", len(venues), layer=name))


def _add_choropleth(m, areas, indicator, column, label, breaks, classes, legend_sections, *, show=True) -> None:
    frame = indicator
    if not isinstance(frame, gpd.GeoDataFrame):
        frame = areas[["area_id", "geometry"]].merge(pd.DataFrame(indicator)[["area_id", column]], on="area_id")
    frame = frame.to_crs(4326)
    edges, index = classify(frame[column], classes=classes, breaks=breaks)
    colors = list(CLASS_COLORS) if len(edges) - 1 == 5 else [
        CLASS_COLORS[round(i * 4 / max(len(edges) - 2, 1))] for i in range(len(edges) - 1)]
    fill = [colors[i] if i >= 0 else "#d0d0d0" for i in index]
    data = frame.assign(_fill=fill, _value=pd.to_numeric(frame[column], errors="coerce"))
    name = data["name"] if "name" in data else pd.Series("", index=data.index)
    tips = [_escape(f"{n} {label}: {v:,.1f}" if not np.isnan(v) else f"{n} {label}: データなし")
            for n, v in zip(name.fillna(""), data["_value"], strict=True)]  # GeoJsonTooltip writes HTML
    layer_name = f"{label}(塗り分け)"
    folium.GeoJson(
        data.assign(tip=tips)[["_fill", "tip", "geometry"]], name=layer_name, show=show,
        style_function=lambda f: {"fillColor": f["properties"]["_fill"], "fillOpacity": 0.55, "color": "#ffffff",
                                  "weight": 0.6},
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
    ).add_to(m)
    rows = lg.class_rows(edges, colors, fmt="{:,.1f}" if (np.diff(edges) < 10).any() else "{:,.0f}",
                         layer=layer_name)
    if (index < 0).any():
        rows.append(lg.swatch_row("#d0d0d0", "データなし", layer=layer_name))
    if not show:
        rows.append(lg.row('<span class="hint">☰</span>', f"{label}の塗り分け: 右上のレイヤ一覧で表示",
                           unless=layer_name))
    legend_sections.append((f"{label}(5分位)" if breaks is None else label, rows))


def _add_catchments(m, catchments, taxonomy, legend: list[str]) -> None:
    frame = catchments.to_crs(4326)
    for code, part in frame.groupby("category", sort=False):
        color = taxonomy.categories[code].color if code in taxonomy.categories else "#777777"
        minutes = ", ".join(f"{x:g}" for x in sorted(part["minutes"].unique()))
        name = f"徒歩{minutes}分圏: {taxonomy.label(code)}"
        VectorLayer(_polygons(part, [f"{name}"] * len(part)), name=name, style_by="kind",
                    styles={"*": {"color": color, "weight": 1, "fillColor": color, "fillOpacity": 0.18}},
                    show=frame["category"].nunique() == 1, tooltip=True).add_to(m)
        legend.append(lg.swatch_row(color, name, opacity=0.35, layer=name))


def _add_blank_zones(m, zones, taxonomy, legend: list[str]) -> None:
    frame = zones.to_crs(4326)
    single = frame["category"].nunique() == 1
    names = []
    for code, part in frame.groupby("category", sort=False):
        pop = pd.to_numeric(part["pop_65plus"], errors="coerce") if "pop_65plus" in part else [np.nan] * len(part)
        total = "basis" in part and part["basis"].astype(str).str.contains("総人口で計算").any()
        who = "人口(総人口)" if total else "65歳以上"  # 65+ unknown: the zones count everyone
        tips = [f"空白地帯: {taxonomy.label(code)}" + (f" / {who} 約{p:,.0f}人" if pd.notna(p) else "")
                for p in pop]
        names.append(f"空白地帯: {taxonomy.label(code)} ({len(part)})")
        VectorLayer(_polygons(part, tips), name=names[-1], style_by="kind", tooltip=True, show=single,
                    styles={"*": {"color": "#b71c1c", "weight": 1.2, "dashArray": "4 3", "fillColor": "#e53935",
                                  "fillOpacity": 0.28}}).add_to(m)
    legend.append(lg.swatch_row("#e53935", "空白地帯(徒歩圏に資源のない高齢者の住む所)", border="#b71c1c",
                                opacity=0.5, layer=tuple(names)))
    if not single:
        legend.append(lg.row('<span class="hint">☰</span>', "空白地帯: 右上のレイヤ一覧で種別ごとに表示",
                             unless=names[0]))


def _polygons(frame: gpd.GeoDataFrame, tips: Sequence[str]) -> dict:
    return round_geojson(frame.assign(tip=list(tips), kind="poly"), ["tip", "kind"])


def _add_need_counts(m, counts, column, legend: list[str]) -> None:
    frame = counts.to_crs(4326)
    threshold = get_settings().suppress_below
    numbers = pd.to_numeric(frame[column], errors="coerce")
    # hidden counts all read 「秘匿」: a small count is not told from one hidden to protect another
    suppressed = frame["suppressed"].fillna(True).astype(bool) if "suppressed" in frame else (
        numbers.isna() | (numbers < threshold))
    texts = ["秘匿" if s else f"{int(n):,}件" for s, n in zip(suppressed, numbers.fillna(0), strict=True)]
    group = folium.FeatureGroup(name="ニーズ件数(集計)")
    names = frame["name"] if "name" in frame else pd.Series("", index=frame.index)
    tips = [f"{n} ニーズ {t}" for n, t in zip(names.fillna(""), texts, strict=True)]
    VectorLayer(_polygons(frame, tips), name="ニーズ件数の区域", style_by="kind", tooltip=True,
                styles={"*": {"color": "#6a1b9a", "weight": 0.8, "fillOpacity": 0.0, "fill": True}}).add_to(group)
    Labels(frame.geometry.representative_point(), texts, kind="count").add_to(group)
    group.add_to(m)
    legend.append(lg.row('<span class="scgeo-label-count"><span style="position:static;transform:none">'
                          "12件</span></span>", "ニーズ件数(区域ごとの集計)", layer="ニーズ件数(集計)"))
    legend.append(lg.row("", f"「秘匿」は0〜{threshold - 1}件、または逆算を防ぐために秘匿した件数",
                         layer="ニーズ件数(集計)"))


def _add_needs(m, needs, taxonomy, letters, legend: list[str]) -> None:
    frame = needs.to_crs(4326)
    xy = np.round(frame.geometry.get_coordinates().to_numpy(), 6)
    status = frame["status"].map(NEED_STATUS_LABELS).fillna("—") if "status" in frame else "—"
    rows = [[float(x), float(y), 0, 0, nid, taxonomy.label(c), st,
             taxonomy.categories[c].color if c in taxonomy.categories else "#777777", letters.get(c, "?")]
            for (x, y), nid, c, st in zip(xy, frame["need_id"], frame["category"], status, strict=True)]
    spec = {"code": "needs", "registry": "needs", "color": "#6a1b9a", "letter": "N", "perRow": True,
            "fields": _fields(["ニーズID", "種別", "状態"]), "nameIndex": 0, "rows": rows, "cluster": True,
            "clusterRadius": 30, "clusterOffAt": 16}
    name = f"ニーズ(個別・内部資料) ({len(rows)})"
    PointCluster(spec, name=name).add_to(m)
    legend.append(lg.row('<span class="scgeo-badge need" style="background:#999;color:#fff"></span>',
                          "ニーズ(個別、種別の色と文字の四角)", len(rows), layer=name))


def resource_map(
    areas: gpd.GeoDataFrame,
    resources: gpd.GeoDataFrame,
    *,
    title: str = "地域資源マップ",
    taxonomy: Taxonomy | None = None,
    show_inactive: bool = True,
    basemap: str = "地理院タイル(淡色地図)",
    today: dt.date | None = None,
    review_flags: pd.DataFrame | None = None,
    sources: str = "地域資源: 社会資源調査 / 区域: 市町村資料",
    streets: gpd.GeoDataFrame | None = None,
    basemap_lines: gpd.GeoDataFrame | None = None,
    indicator: pd.DataFrame | None = None,
    indicator_column: str | None = None,
    indicator_label: str | None = None,
    indicator_breaks: Sequence[float] | None = None,
    indicator_classes: int = 5,
    indicator_show: bool = True,
    catchments: gpd.GeoDataFrame | None = None,
    blank_zones: gpd.GeoDataFrame | None = None,
    need_counts: gpd.GeoDataFrame | None = None,
    need_count_column: str = "count",
    needs: gpd.GeoDataFrame | None = None,
    internal: bool = False,
    cluster: bool = True,
    markers: str = "auto",
    focus: gpd.GeoDataFrame | None = None,
    click_events: bool = False,
    proposed: gpd.GeoDataFrame | None = None,
    proposed_area: gpd.GeoDataFrame | None = None,
    venues: gpd.GeoDataFrame | None = None,
    ties: gpd.GeoDataFrame | None = None,
    ties_not_drawn: int = 0,
    notes: Sequence[str] = (),
):
    """Build the 地域資源マップ.

    Parameters
    ----------
    areas
        Areas of any levels: ``living_area`` and ``jhs_district`` drawn as outlines with name
        labels, ``town_block`` as a layer that starts hidden.
    resources
        Resources of the schema; one toggleable, clustered layer per category.
    title
        Shown in the title box.
    taxonomy
        Category labels and colours (default: :func:`scgeo.load_taxonomy`).
    show_inactive
        Draw paused and closed resources greyed out (``False`` hides them).
    basemap
        The basemap shown first: a key of :data:`BASEMAPS`, or :data:`VECTOR_BASEMAP` (needs
        ``streets``) for the built-in street map that works offline. With ``streets``, a tile
        basemap whose tiles cannot load (no internet) gives way to the built-in street map.
    today
        Reference date of the confirmation states (確認済み / 確認時期 / 期限切れ / 長期未確認 / 要確認,
        :func:`scgeo.analysis.freshness.freshness`; the last three get a red "!") and the map's date.
    review_flags
        The workspace's ``review_flags`` layer: open ones show as 要確認 with their reason.
    sources
        Data sources written on the map.
    streets, basemap_lines
        The workspace's ``network_edges`` and ``basemap_lines``: drawn as the vector basemap.
    indicator, indicator_column, indicator_label
        A choropleth: a (Geo)DataFrame with ``area_id`` (joined to ``areas``) or its own geometry,
        the column to classify and its Japanese label (e.g. 「65歳以上人口」).
    indicator_breaks, indicator_classes
        Fixed class breaks, or the number of quantile classes (default 5).
    indicator_show
        Show the choropleth when the map opens (else it is a switch in the layer control).
    catchments
        Walking catchments (``category``, ``minutes``, geometry): one layer per category.
    blank_zones
        Blank zones (``category``, ``pop_65plus``, geometry).
    need_counts, need_count_column
        Aggregated needs per area (count column and a ``suppressed`` flag): suppressed counts are
        shown as 「<5」 and their values never reach the page.
    needs
        Individual needs (points); only with ``internal=True``.
    internal
        An internal map: a red banner 「内部資料 — 個人情報を含む」 and ``needs`` may be drawn.
    cluster
        Cluster dense badge markers (Leaflet.markercluster, one group per category).
    markers
        ``"badge"`` (a coloured circle with the category's letter, clustered), ``"circle"``
        (plain coloured circles on one canvas: fast for tens of thousands), or ``"auto"``: badges
        up to :data:`BADGE_LIMIT` resources, circles beyond.
    focus
        Zoom to these geometries (default: all areas).
    notes
        What the analysis stood on, in Japanese (「歩行ネットワークがないため直線距離×迂回係数1.3で計算」,
        「65歳以上人口が不明なため総人口で計算」): written under the title and in the legend.
    proposed, proposed_area
        Proposed sites of a 資源開発 run (``rank``, ``name``, ``gain_demand``) and the area they
        bring within walking distance: the layer 「候補地(案)」, with planned resources
        (status ``planned``) drawn there too, apart from the existing ones.
    click_events
        Clicking a resource also posts ``{scgeoResource: resource_id}`` to ``window.parent``, for
        an app that shows the map in a frame (off: files for others stay as they are).
    venues
        The workspace's ``venues`` (公民館, 集会所 …): one layer of small rings with name, kind,
        capacity and opening hours; places for an activity, not services (not in the counts).
    ties, ties_not_drawn
        Ties between located organisations and resources (:func:`scgeo.analysis.ties.tie_lines`)
        and the number left out for want of a location: the layer 「関係者のつながり」, off when
        the map opens, lines coloured by kind and dashed when weak.

    Returns
    -------
    folium.Map

    Raises
    ------
    MapPrivacyError
        ``needs`` given without ``internal=True``.
    """
    if needs is not None and not internal:
        raise MapPrivacyError("個別のニーズは内部資料(internal=True)の地図にだけ描けます。"
                              "公開用の地図には集計した件数(need_counts)を使ってください。")
    if basemap != VECTOR_BASEMAP and basemap not in BASEMAPS:
        raise ScgeoError(f"背景地図「{basemap}」はありません。使える背景: {', '.join([VECTOR_BASEMAP, *BASEMAPS])}")
    if basemap == VECTOR_BASEMAP and streets is None:
        raise ScgeoError("内蔵の簡易地図には道路網(streets)が必要です。")
    taxonomy = taxonomy or load_taxonomy()
    today = today or dt.date.today()
    areas = areas.to_crs(4326)
    resources = resources.to_crs(4326)
    planned = resources[resources["status"] == "planned"]
    resources = resources[resources["status"] != "planned"]
    if not show_inactive:
        resources = resources[resources["status"] == "active"]

    m = folium.Map(tiles=None, prefer_canvas=False, zoom_snap=0.25, control_scale=False)
    m.options.update(minZoom=8, maxZoom=19)  # the vector basemap has no zoom range of its own
    leaflet_only(m)  # no jQuery, Bootstrap or icon fonts from CDNs
    PageAssets().add_to(m)
    vector = add_vector_basemap(m, streets, basemap_lines, show=basemap == VECTOR_BASEMAP) \
        if streets is not None else None
    tiles = {}
    for name, (url, attribution) in BASEMAPS.items():
        tiles[name] = folium.TileLayer(url, attr=attribution, name=name, max_zoom=18, overlay=False,
                                       show=name == basemap).add_to(m)

    sections: list[tuple[str, list[str]]] = []
    if indicator is not None:
        if indicator_column is None:
            raise ScgeoError("塗り分けには indicator_column(列名)が必要です。")
        _add_choropleth(m, areas, indicator, indicator_column, indicator_label or indicator_column,
                        indicator_breaks, indicator_classes, sections, show=indicator_show)
    analysis: list[str] = []
    if catchments is not None and len(catchments):
        _add_catchments(m, catchments, taxonomy, analysis)
    if blank_zones is not None and len(blank_zones):
        _add_blank_zones(m, blank_zones, taxonomy, analysis)
    area_rows: list[str] = []
    _add_areas(m, areas, area_rows)
    if venues is not None and len(venues):
        _add_venues(m, venues, area_rows)
    if need_counts is not None and len(need_counts):
        _add_need_counts(m, need_counts, need_count_column, analysis)
    if (proposed is not None and len(proposed)) or len(planned):
        add_proposed(m, proposed, planned, proposed_area, analysis)

    if markers not in ("auto", "badge", "circle"):
        raise ScgeoError(f"markers は auto / badge / circle のどれかです(指定: {markers})。")
    circles = markers == "circle" or (markers == "auto" and len(resources) > BADGE_LIMIT)
    letters = category_letters(taxonomy)
    rows = _resource_rows(resources, taxonomy, today, review_flags)
    labels = list(_POPUP_FIELDS.values())
    category_rows, category_names = [], []
    for code, category in taxonomy.categories.items():
        subset = rows[resources["category"].to_numpy() == code]
        if not len(subset):
            continue
        spec = {"code": code, "color": category.color, "letter": letters[code],
                "fields": _fields(labels, stale_field="最終確認日"), "nameIndex": 0,
                "rows": subset.to_numpy().tolist(), "cluster": cluster, "circles": circles,
                "clusterRadius": 28, "clusterOffAt": 16}
        ids = resources["resource_id"][resources["category"].to_numpy() == code].tolist() if click_events else None
        name = f"{category.label} ({len(subset)})"
        PointCluster(spec, name=name, ids=ids).add_to(m)
        category_names.append(name)
        symbol = lg.badge_html("" if circles else letters[code], category.color)
        category_rows.append(lg.row(symbol, category.label, len(subset), layer=name, code=code))
    n_coarse = int(_coarse(resources).sum())
    if n_coarse:
        hollow = '<div class="scgeo-badge coarse" style="color:#555">字</div>'
        category_rows.append(lg.row(hollow, f"{COARSE_NOTE}(住所から、番地まで分からない)", n_coarse,
                                    layer=tuple(category_names)))
    if show_inactive and (resources["status"] != "active").any():
        category_rows.append(lg.row(lg.badge_html("", "#d9d9d9", "inactive"), "休止中・廃止(灰色・点線の枠)",
                                    layer=tuple(category_names)))
    if not circles:
        category_rows.append(lg.row('<span style="color:#c62828;font-weight:700;width:18px;text-align:center">!</span>',
                                     "期限切れ・長期未確認・要確認", layer=tuple(category_names)))
    if needs is not None and len(needs):
        _add_needs(m, needs, taxonomy, letters, analysis)

    have = basemap_kinds(streets, basemap_lines)  # only layers that exist are in the legend
    st = STREET_STYLES
    area_rows += [row for key, row in (
        ("roads", lg.line_row(st["major"]["color"], "主要道路", width=3, layer=VECTOR_BASEMAP)),
        ("rivers", lg.line_row(st["river"]["color"], "川", width=4, layer=VECTOR_BASEMAP)),
        ("rails", lg.line_row(st["rail"]["color"], "鉄道", width=3, dash="14 5", layer=VECTOR_BASEMAP))) if have[key]]
    tie_rows: list[str] = []
    if ties is not None and len(ties):
        add_ties(m, ties, ties_not_drawn, tie_rows)
    note_rows = [lg.row("", f"※ {note}") for note in notes]
    sections = [("社会資源の種別", category_rows), *sections, ("分析結果", analysis), ("関係者のつながり", tie_rows),
                ("計算の前提", note_rows), ("区域・背景", area_rows)]
    vector_text = vector_attribution(streets, basemap_lines) or "なし(ワークスペースに背景の線がありません)"
    tiles_text = "地理院タイル・OpenStreetMap"
    # the attribution follows the basemap on screen: tiles, or the street map they give way to offline
    background = (f'<span class="scgeo-background" data-tiles="{html.escape(tiles_text)}" '
                  f'data-vector="{html.escape(vector_text)}">'
                  f'{html.escape(vector_text if basemap == VECTOR_BASEMAP else tiles_text)}</span>')
    subtitle = (f"作成日 {today:%Y-%m-%d} / {html.escape(sources)} / 背景: {background}"
                f" / 社会資源 {len(resources):,}件"
                + "".join(f"<br>※ {html.escape(note)}" for note in notes))
    lg.MapBox(lg.title_html(title, subtitle)).add_to(m)
    if internal:
        banner = '<div class="scgeo-banner">内部資料 — 個人情報を含む</div>'
        lg.MapBox(banner, container_class="scgeo-internal").add_to(m)
    lg.MapBox(lg.legend_html(sections), position="bottomright").add_to(m)
    MetricScale().add_to(m)
    _escape_layer_names(m)
    control = folium.LayerControl(collapsed=True, position="topright").add_to(m)
    Furniture(control, tiles=tiles.get(basemap) if vector is not None else None, vector=vector).add_to(m)
    m.get_root().title = html.escape(title)
    target = (focus.to_crs(4326) if focus is not None else areas) if len(areas) else resources
    if len(target):
        xmin, ymin, xmax, ymax = target.total_bounds
        FitToFurniture([[ymin, xmin], [ymax, xmax]]).add_to(m)  # the room the title, legend and buttons leave
    Ready().add_to(m)
    return m
