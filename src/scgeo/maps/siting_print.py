"""A one-page PDF summary of a 資源開発 scenario, for the 協議体.

A4 landscape: the map (the workspace's streets, 圏域 and 中学校区, the existing resources of the
category, the proposed sites as numbered diamonds) on the left; on the right the inputs, the
people within walking distance before and after, the sites in rank order with the people each
adds, and the 中学校区 before/after table. IPAex Gothic embedded (see :mod:`scgeo.maps.static`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import shapely
from matplotlib import rc_context
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from scgeo._errors import InputError
from scgeo.crs import to_metric
from scgeo.maps._basemap import basemap_frame
from scgeo.maps._proposed import PROPOSED_COLOR
from scgeo.maps.static import _HALO, _LINE_STYLE, _scale_and_north, japanese_font
from scgeo.schema import AREA_LEVEL_LABELS, load_taxonomy

__all__ = ["scenario_pdf"]

_MODEL_LABELS = {"mclp": "最大被覆", "pmedian": "p-メディアン", "lscp": "集合被覆"}  # no MCLP or LSCP on paper
_DEMAND_LABELS = {"65plus": "65歳以上", "75plus": "75歳以上", "65plus_alone": "65歳以上の一人暮らし",
                  "total": "総人口"}


def _clip(text: object, limit: int) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pct(value: float, total: float) -> str:
    return f"{100 * value / total:.0f}%" if total else "—"


def scenario_pdf(ws, scenario_id: str, path: str | Path, *, today: dt.date | None = None,
                 level: str = "jhs_district") -> Path:
    """Write the one-page summary of scenario ``scenario_id`` of workspace ``ws`` as PDF (or PNG)."""
    from scgeo.report.scenarios import scenario_sites

    meta = ws.read("siting_scenarios")
    row = meta[meta["scenario_id"] == scenario_id]
    if not len(row):
        raise InputError(f"シナリオ {scenario_id} はありません。")
    s = row.iloc[0]
    sites = scenario_sites(ws, scenario_id)
    areas_tab = ws.read("siting_areas")
    table = areas_tab[(areas_tab["scenario_id"] == scenario_id) & (areas_tab["level"] == level)]
    tax = load_taxonomy()
    font = japanese_font()
    info = ws.info()
    today = today or dt.date.today()
    areas = ws.areas()
    metric = to_metric(areas, muni_code=info["muni_code"]).crs
    fig = Figure(figsize=(11.69, 8.27))
    ax = fig.add_axes((0.02, 0.05, 0.56, 0.85))
    ax.set_facecolor("#f6f4ef")
    lines = basemap_frame(ws.read("network_edges"), ws.read("basemap_lines")).to_crs(metric)
    for kind, (color, width, dashes) in _LINE_STYLE.items():
        part = lines[lines["kind"] == kind]
        segs = [np.asarray(g.coords)[:, :2] for g in shapely.get_parts(part.geometry.values)
                if g.geom_type == "LineString"]
        if segs:
            coll = LineCollection(segs, colors=color, linewidths=width * 0.7, zorder=1)
            if dashes:
                coll.set_linestyle((0, dashes))
            ax.add_collection(coll)
    m_areas = areas.to_crs(metric)
    jhs, living = m_areas[m_areas["level"] == "jhs_district"], m_areas[m_areas["level"] == "living_area"]
    jhs.boundary.plot(ax=ax, color="#3d5875", linewidth=0.8, linestyle=(0, (5, 3)), zorder=2)
    living.boundary.plot(ax=ax, color="#14304f", linewidth=2.0, zorder=3)
    for point, name in zip(jhs.geometry.representative_point(), jhs["name"], strict=True):
        ax.text(point.x, point.y, name, fontproperties=font, fontsize=7, color="#3d5875", ha="center",
                va="center", path_effects=_HALO, zorder=6)
    res = ws.read("resources")
    mine = res[(res["category"] == s["category"]) & (res["status"] == "active")].to_crs(metric)
    color = tax.categories[s["category"]].color if s["category"] in tax.categories else "#777"
    ax.scatter(mine.geometry.x, mine.geometry.y, s=30, c=color, edgecolors="#222", linewidths=0.5, zorder=7,
               label=f"既存の{tax.label(s['category'])}")
    pts = sites.to_crs(metric)
    ax.scatter(pts.geometry.x, pts.geometry.y, s=260, marker="D", c="white", edgecolors=PROPOSED_COLOR,
               linewidths=2.2, linestyle="--", zorder=8, label="候補地(案)")
    for x, y, rank in zip(pts.geometry.x, pts.geometry.y, pts["rank"], strict=True):
        ax.text(x, y, str(rank), fontproperties=font, fontsize=8, color=PROPOSED_COLOR, ha="center", va="center",
                weight="bold", zorder=9)
    xmin, ymin, xmax, ymax = (living if len(living) else m_areas).total_bounds
    pad = 0.04 * max(xmax - xmin, ymax - ymin)
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    _scale_and_north(ax, font)
    ax.legend(loc="lower right", prop=font, fontsize=7, framealpha=0.9)

    fig.text(0.02, 0.95, _clip(f"{info['muni_name']} 資源開発シナリオ「{s['name']}」", 48), fontproperties=font,
             fontsize=15, weight="bold")
    fig.text(0.02, 0.918, f"{scenario_id} / 作成 {str(s['created_at'])[:10]} {_clip(s['author'], 16)} / "
             f"出力 {today:%Y-%m-%d} / 候補地は案であり、実在する資源ではありません", fontproperties=font, fontsize=8,
             color="#555")
    total = float(s["demand_total"]) or np.nan
    demand_label = _DEMAND_LABELS.get(str(s["demand"]), str(s["demand"]))
    lines_text = [
        f"種別: {tax.label(s['category'])}   モデル: {_MODEL_LABELS.get(s['model'], s['model'])}",
        f"徒歩 {s['minutes']:g} 分(歩行速度 {s['speed_m_per_min']:g} m/分)   候補地: {_clip(s['candidates'], 20)}",
        f"数えた人: {demand_label}  合計 {s['demand_total']:,.0f} 人",
        f"徒歩圏内: {s['covered_before']:,.0f} 人 ({100 * s['covered_before'] / total:.1f}%) → "
        f"{s['covered_after']:,.0f} 人 ({100 * s['covered_after'] / total:.1f}%)",
        f"新たに届く人: {s['covered_after'] - s['covered_before']:,.0f} 人   "
        f"{'最適解(計算で証明済み)' if s['optimal'] else '時間内の最良解'}、貪欲法との差 {s['greedy_gap_pct']:.2f}%",
    ]
    if isinstance(s["note"], str) and s["note"]:
        lines_text.append(f"注意: {_clip(s['note'], 60)}")
    y = 0.88
    for text in lines_text:
        fig.text(0.60, y, text, fontproperties=font, fontsize=9, color="#b71c1c" if text.startswith("注意") else "#111")
        y -= 0.03
    y -= 0.01
    fig.text(0.60, y, "候補地(順位は1か所ずつ足したときに増える人数の順)", fontproperties=font, fontsize=10,
             weight="bold")
    y -= 0.03
    for site in sites.itertuples():
        fig.text(0.60, y, f"{site.rank:>2}. {_clip(site.name, 26)}", fontproperties=font, fontsize=8.5)
        fig.text(0.97, y, f"+{site.gain_demand:,.0f} 人", fontproperties=font, fontsize=8.5, ha="right")
        y -= 0.024
        if y < 0.42:
            fig.text(0.60, y, f"ほか {len(sites) - site.rank} か所", fontproperties=font, fontsize=8)
            y -= 0.024
            break
    y -= 0.015
    fig.text(0.60, y, f"{AREA_LEVEL_LABELS.get(level, level)}ごとの徒歩圏内の人(前 → 後)", fontproperties=font,
             fontsize=10, weight="bold")
    y -= 0.03
    for area in table.itertuples():
        if y < 0.05:
            break
        fig.text(0.60, y, _clip(area.area_name, 14), fontproperties=font, fontsize=8)
        fig.text(0.97, y, f"{area.covered_before:,.0f} ({_pct(area.covered_before, area.demand)}) → "
                 f"{area.covered_after:,.0f} ({_pct(area.covered_after, area.demand)})  +{area.gain:,.0f}",
                 fontproperties=font, fontsize=8, ha="right")
        y -= 0.022
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with rc_context({"pdf.fonttype": 42}):
        fig.savefig(path, dpi=150 if path.suffix.lower() == ".png" else None)
    return path
