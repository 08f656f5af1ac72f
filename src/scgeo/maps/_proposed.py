"""The 「候補地(案)」 layer: proposed sites of a siting run and resources planned from them.

Proposed sites are numbered diamonds with a dashed border (rank 1, 2 …); planned resources
(status ``planned``) are dashed squares with 「計」. Both sit in one layer that can be switched
off, apart from the existing resources, so nobody mistakes a proposal for a place that exists.
The area newly within walking distance is shaded under them.
"""

from __future__ import annotations

import html

import folium
import geopandas as gpd

from scgeo.maps import _legend as lg

__all__ = ["PROPOSED_COLOR", "PROPOSED_LAYER", "add_proposed"]

PROPOSED_LAYER = "候補地(案)"
PROPOSED_COLOR = "#6a1b9a"
_DIAMOND = ("width:22px;height:22px;transform:rotate(45deg);background:#fff;border:3px dashed {c};"
            "display:flex;align-items:center;justify-content:center;box-sizing:border-box")
_NUMBER = "transform:rotate(-45deg);font:700 12px sans-serif;color:{c}"
_SQUARE = ("width:20px;height:20px;background:#fff;border:3px dashed {c};box-sizing:border-box;"
           "font:700 11px sans-serif;color:{c};display:flex;align-items:center;justify-content:center")


def _diamond(rank: int) -> str:
    c = PROPOSED_COLOR
    return f'<div style="{_DIAMOND.format(c=c)}"><span style="{_NUMBER.format(c=c)}">{int(rank)}</span></div>'


def add_proposed(m, proposed: gpd.GeoDataFrame | None, planned: gpd.GeoDataFrame | None,
                 gain_area: gpd.GeoDataFrame | None, legend: list[str]) -> None:
    """Draw proposed sites, planned resources and the newly covered area in one layer."""
    group = folium.FeatureGroup(name=PROPOSED_LAYER, show=True)
    if gain_area is not None and len(gain_area):
        folium.GeoJson(gain_area.to_crs(4326)[["geometry"]], style_function=lambda _f: {
            "color": PROPOSED_COLOR, "weight": 1, "fillColor": PROPOSED_COLOR, "fillOpacity": 0.18},
            smooth_factor=0.5).add_to(group)
        legend.append(lg.row(f'<span style="display:inline-block;width:18px;height:12px;background:{PROPOSED_COLOR};'
                             'opacity:.35"></span>', "候補地で新たに徒歩圏に入る範囲(案)"))
    if proposed is not None and len(proposed):
        pts = proposed.to_crs(4326)
        for rank, name, gain, geom in zip(pts["rank"], pts["name"], pts.get("gain_demand", pts["rank"] * 0),
                                          pts.geometry, strict=True):
            tip = f"{PROPOSED_LAYER} 第{int(rank)}位: {html.escape(str(name))}(新たに徒歩圏 {float(gain):,.0f} 人)"
            folium.Marker([geom.y, geom.x], icon=folium.DivIcon(html=_diamond(rank), icon_size=(22, 22),
                                                                 icon_anchor=(11, 11)),
                          tooltip=folium.Tooltip(tip)).add_to(group)
        legend.append(lg.row(f'<span style="display:inline-block;width:12px;height:12px;transform:rotate(45deg);'
                             f'border:2px dashed {PROPOSED_COLOR};background:#fff"></span>',
                             f"{PROPOSED_LAYER}(数字は順位)", len(pts)))
    if planned is not None and len(planned):
        pts = planned.to_crs(4326)
        for name, geom in zip(pts["name"], pts.geometry, strict=True):
            tip = f"計画中(案): {html.escape(str(name))}"
            folium.Marker([geom.y, geom.x], icon=folium.DivIcon(
                html=f'<div style="{_SQUARE.format(c=PROPOSED_COLOR)}">計</div>', icon_size=(20, 20),
                icon_anchor=(10, 10)), tooltip=folium.Tooltip(tip)).add_to(group)
        legend.append(lg.row(f'<span style="display:inline-block;width:12px;height:12px;'
                             f'border:2px dashed {PROPOSED_COLOR};background:#fff"></span>',
                             "計画中(案)の資源", len(pts)))
    group.add_to(m)
