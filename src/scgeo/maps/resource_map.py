"""The 地域資源マップ: areas and resources on a folium map with a Japanese legend.

Takes finished GeoDataFrames (no analysis here) and returns a ``folium.Map``. Reprojection to
EPSG:4326 happens here, at the rendering boundary, and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import html

import folium
import geopandas as gpd
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from scgeo.schema import AREA_LEVEL_LABELS, Taxonomy, load_taxonomy
from scgeo.settings import get_settings

__all__ = ["BASEMAPS", "resource_map"]

GSI_ATTRIBUTION = '<a href="https://maps.gsi.go.jp/development/ichiran.html">地理院タイル</a>'
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
BASEMAPS = {
    "地理院タイル(淡色地図)": ("https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png", GSI_ATTRIBUTION),
    "地理院タイル(標準地図)": ("https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png", GSI_ATTRIBUTION),
    "OpenStreetMap": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", OSM_ATTRIBUTION),
}
_AREA_STYLE = {
    "living_area": {"color": "#1b3a5c", "weight": 4, "fill": False},
    "jhs_district": {"color": "#1b3a5c", "weight": 2, "dashArray": "6 4", "fill": False},
    "town_block": {"color": "#7a8a99", "weight": 1, "fillOpacity": 0.03},
}
_POPUP_FIELDS = {
    "name": "名称",
    "category_label": "種別",
    "provider_label": "提供主体",
    "schedule": "曜日・時間",
    "capacity": "定員",
    "fee": "費用",
    "contact": "連絡先",
    "address": "住所",
    "confirmed": "最終確認日",
}
_STATUS_LABELS = {"active": "活動中", "paused": "休止中", "closed": "廃止"}


def _popup_frame(resources: gpd.GeoDataFrame, taxonomy: Taxonomy, stale_before: pd.Timestamp):
    out = resources.copy()
    out["category_label"] = out["category"].map(taxonomy.label)
    out["provider_label"] = out["provider_type"].map(taxonomy.label, na_action="ignore")
    stale = out["last_confirmed"].isna() | (out["last_confirmed"] < stale_before)
    confirmed = out["last_confirmed"].dt.strftime("%Y-%m-%d").fillna("未確認")
    out["confirmed"] = confirmed.where(~stale, confirmed + " ⚠ 要確認")
    status = out["status"].map(_STATUS_LABELS)
    out["name"] = out["name"].where(out["status"] == "active", out["name"] + "(" + status + ")")
    out["capacity"] = out["capacity"].astype("string").fillna("—")
    for col in _POPUP_FIELDS:  # popups are HTML: text from imported files is escaped
        out[col] = out[col].astype(object).where(out[col].notna(), "—").map(lambda v: html.escape(str(v)))
    return out[[*_POPUP_FIELDS, "category", "status", "geometry"]]


def _legend(entries: list[tuple[str, str, int]], title: str) -> str:
    rows = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;border-radius:6px;'
        f'background:{color};border:1px solid #333;margin-right:6px"></span>'
        f"{html.escape(label)} ({count})</div>"
        for label, color, count in entries
    )
    return (
        '<div class="scgeo-legend" style="position:fixed;bottom:28px;left:12px;z-index:9999;'
        "background:rgba(255,255,255,.93);padding:8px 10px;border-radius:6px;font-size:12px;"
        'line-height:1.6;box-shadow:0 1px 4px rgba(0,0,0,.3);max-height:60vh;overflow:auto">'
        f"<b>{html.escape(title)}</b>{rows}</div>"
    )


def _title_box(title: str, subtitle: str) -> str:
    return (
        '<div class="scgeo-title" style="position:fixed;top:10px;left:56px;z-index:9999;'
        "background:rgba(255,255,255,.93);padding:6px 12px;border-radius:6px;"
        'box-shadow:0 1px 4px rgba(0,0,0,.3);font-family:sans-serif">'
        f'<div style="font-size:16px;font-weight:bold">{html.escape(title)}</div>'
        f'<div style="font-size:11px;color:#444">{html.escape(subtitle)}</div></div>'
    )


class _MetricScale(MacroElement):
    """A metric-only scale bar (folium's ``control_scale`` also shows feet and miles)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({metric: true, imperial: false, maxWidth: 160, position: \"bottomright\"})"
        ".addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )


def resource_map(
    areas: gpd.GeoDataFrame,
    resources: gpd.GeoDataFrame,
    *,
    title: str = "地域資源マップ",
    taxonomy: Taxonomy | None = None,
    show_inactive: bool = True,
    basemap: str = "地理院タイル(淡色地図)",
    today: dt.date | None = None,
    sources: str = "地域資源: 社会資源調査 / 区域: 市町村資料",
):
    """Build the 地域資源マップ.

    Parameters
    ----------
    areas
        Areas of any levels (``living_area`` and ``jhs_district`` are drawn as outlines,
        ``town_block`` as a layer that starts hidden).
    resources
        Resources of the schema; one toggleable layer per category.
    title
        Shown in the title box.
    taxonomy
        Category labels and colours (default: :func:`scgeo.load_taxonomy`).
    show_inactive
        Draw paused and closed resources greyed out (``False`` hides them).
    basemap
        Name of the basemap shown first (a key of :data:`BASEMAPS`).
    today
        Reference date for "stale" (not confirmed for ``settings.stale_months``).
    sources
        Data sources written on the map.

    Returns
    -------
    folium.Map
    """
    taxonomy = taxonomy or load_taxonomy()
    today = today or dt.date.today()
    stale_before = pd.Timestamp(today) - pd.DateOffset(months=get_settings().stale_months)
    areas = areas.to_crs(4326)
    resources = resources.to_crs(4326)
    if not show_inactive:
        resources = resources[resources["status"] == "active"]

    m = folium.Map(tiles=None, prefer_canvas=True, zoom_snap=0.25)
    _MetricScale().add_to(m)
    # Only Leaflet itself: the page must not depend on jQuery, Bootstrap or icon fonts from CDNs.
    m.default_js = [m.default_js[0]]
    m.default_css = [m.default_css[0]]
    for name in [basemap, *(b for b in BASEMAPS if b != basemap)]:
        url, attribution = BASEMAPS[name]
        folium.TileLayer(url, attr=attribution, name=name, max_zoom=18, overlay=False).add_to(m)

    for level in ("town_block", "jhs_district", "living_area"):
        layer = areas[areas["level"] == level]
        if not len(layer):
            continue
        style = _AREA_STYLE[level]
        folium.GeoJson(
            layer[["name", "geometry"]],
            name=f"{AREA_LEVEL_LABELS[level]}の境界",
            style_function=lambda _f, s=style: s,
            tooltip=folium.GeoJsonTooltip(["name"], aliases=[AREA_LEVEL_LABELS[level]]),
            show=level != "town_block",
        ).add_to(m)

    frame = _popup_frame(resources, taxonomy, stale_before)
    legend = []
    for code, category in taxonomy.categories.items():
        subset = frame[frame["category"] == code]
        if not len(subset):
            continue
        legend.append((category.label, category.color, len(subset)))
        group = folium.FeatureGroup(name=f"{category.label} ({len(subset)})")
        folium.GeoJson(
            subset,
            marker=folium.CircleMarker(radius=7, weight=1.5, fill=True, fill_opacity=0.9),
            style_function=lambda f, c=category.color: {
                "color": "#333333" if f["properties"]["status"] == "active" else "#999999",
                "fillColor": c if f["properties"]["status"] == "active" else "#cccccc",
            },
            popup=folium.GeoJsonPopup(list(_POPUP_FIELDS), aliases=list(_POPUP_FIELDS.values())),
            tooltip=folium.GeoJsonTooltip(["name"], labels=False),
        ).add_to(group)
        group.add_to(m)

    subtitle = f"作成日 {today:%Y-%m-%d} / {sources} / 背景: 地理院タイル・OpenStreetMap"
    m.get_root().html.add_child(folium.Element(_title_box(title, subtitle)))
    m.get_root().html.add_child(folium.Element(_legend(legend, "社会資源の種別")))
    folium.LayerControl(collapsed=True).add_to(m)
    if len(areas):
        xmin, ymin, xmax, ymax = areas.total_bounds
        m.fit_bounds([[ymin, xmin], [ymax, xmax]])
    return m
