"""The 「関係者のつながり」 layer: ties between located organisations and resources, on the map.

Straight lines from one end to the other, coloured by the kind of tie (the colours of the
network views) and drawn by strength (thick strong, medium, dashed weak); a tooltip names both
ends. Ties with an end that has no location are counted in the legend, not silently left out.
The layer starts switched off: the resource map stays readable, the coordinator turns it on.
"""

from __future__ import annotations

import geopandas as gpd

from scgeo.maps import _legend as lg
from scgeo.maps._layers import VectorLayer, round_geojson
from scgeo.maps._tie_style import KIND_COLORS, STRENGTH_DASH, STRENGTH_WIDTH
from scgeo.schema import TIE_KIND_LABELS, TIE_STRENGTH_LABELS

__all__ = ["TIES_LAYER", "add_ties"]

TIES_LAYER = "関係者のつながり"


def add_ties(m, lines: gpd.GeoDataFrame, not_drawn: int, legend: list[str]) -> None:
    """Draw ``lines`` (:func:`scgeo.analysis.ties.tie_lines`) as one switchable layer."""
    frame = lines.to_crs(4326)
    kind = frame["kind"].fillna("").astype(str)
    strength = frame["strength"].fillna("medium").astype(str)
    tips = [f"{a} ― {b}({TIE_KIND_LABELS.get(k, 'つながり')}・{TIE_STRENGTH_LABELS.get(s, '')})"
            for a, b, k, s in zip(frame["source_name"], frame["target_name"], kind, strength, strict=True)]
    data = round_geojson(frame.assign(tip=tips, style=kind + "|" + strength), ["tip", "style"])
    styles = {f"{k}|{s}": {"color": color, "weight": STRENGTH_WIDTH[s], "opacity": 0.85,
                           **({"dashArray": STRENGTH_DASH[s]} if STRENGTH_DASH[s] else {})}
              for k, color in KIND_COLORS.items() for s in STRENGTH_WIDTH}
    styles["*"] = {"color": "#555555", "weight": 1.8, "opacity": 0.85}
    VectorLayer(data, styles=styles, name=TIES_LAYER, style_by="style", show=False, tooltip=True).add_to(m)
    for k in dict.fromkeys(kind):
        legend.append(lg.line_row(KIND_COLORS.get(k, "#555555"), f"つながり: {TIE_KIND_LABELS.get(k, 'その他')}",
                                  width=2.5, layer=TIES_LAYER))
    legend.append(lg.line_row("#555555", "弱いつながり(点線)", width=1.5, dash="6 4", layer=TIES_LAYER))
    if not_drawn:
        legend.append(lg.row("", f"※ 位置のない相手とのつながり {not_drawn:,}本は描いていません", layer=TIES_LAYER))
    legend.append(lg.row('<span class="hint">☰</span>', f"{TIES_LAYER}: 右上のレイヤ一覧で表示", unless=TIES_LAYER))
