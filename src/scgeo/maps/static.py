"""Print maps: the 地域資源マップ as PDF/PNG for paper handouts at a 協議体 meeting.

Drawn with matplotlib in the workspace's metric CRS (so the scale bar is true), on the
workspace's own street network (no tiles), in IPAex Gothic shipped by ``japanize-matplotlib``
(embedded as TrueType, so the PDF renders on any machine). Resources are numbered markers in
their category colour, with the numbered list of names beside the map (continued on further
pages when long). Crowded markers move to free spots with a leader line to their place
(:mod:`scgeo.maps._placement`), so every number stays readable; 町丁目 names are printed small
under them, and blank zones (空白地帯) of chosen categories can be drawn with their own legend.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib import patheffects, rc_context
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.transforms import offset_copy

from scgeo._errors import ScgeoError
from scgeo.crs import to_metric
from scgeo.maps._basemap import basemap_frame, basemap_kinds, vector_attribution
from scgeo.maps._placement import place_markers
from scgeo.maps.council import AreaView
from scgeo.schema import Taxonomy, load_taxonomy

__all__ = ["PAPER_SIZES_IN", "japanese_font", "map_figure", "nice_length_m", "print_map"]

PAPER_SIZES_IN = {"A3": (16.54, 11.69), "A4": (11.69, 8.27)}  # landscape
_LINE_STYLE = {  # kind: (colour, width pt, dashes)
    "river": ("#a9d3f0", 4.0, None), "canal": ("#a9d3f0", 2.6, None), "stream": ("#a9d3f0", 1.6, None),
    "path": ("#cdc6b8", 0.4, (1, 1.5)), "minor": ("#c9c2b4", 0.55, None), "tertiary": ("#aaa190", 0.9, None),
    "secondary": ("#e2b659", 1.6, None), "major": ("#db8f45", 2.3, None), "rail": ("#4d4d4d", 1.4, (5, 3)),
}
_HALO = [patheffects.withStroke(linewidth=3, foreground="white")]


def japanese_font() -> FontProperties:
    """IPAex Gothic from the installed ``japanize-matplotlib`` package, registered with matplotlib.

    The package is located without importing it (its import emits a DeprecationWarning).
    """
    spec = importlib.util.find_spec("japanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise ScgeoError("japanize-matplotlib がインストールされていません: pip install japanize-matplotlib")
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / "ipaexg.ttf"
    if path.name not in {Path(f.fname).name for f in fontManager.ttflist}:
        fontManager.addfont(str(path))
    return FontProperties(fname=str(path))


def nice_length_m(span_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10^k metres) close to a fifth of ``span_m``."""
    target = max(span_m / 5, 1.0)
    exp = 10 ** math.floor(math.log10(target))
    return max(f * exp for f in (1, 2, 5) if f * exp <= target)


def _fmt_m(metres: float) -> str:
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"


def _text_color(hex_color: str) -> str:
    n = int(hex_color.lstrip("#"), 16)
    return "#1a1a1a" if 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255) > 150 else "white"


def _numbered(resources: gpd.GeoDataFrame, taxonomy: Taxonomy) -> gpd.GeoDataFrame:
    order = {code: i for i, code in enumerate(taxonomy.categories)}
    out = resources.assign(_order=resources["category"].map(order).fillna(len(order)))
    out = out.sort_values(["_order", "name"], kind="stable").reset_index(drop=True)
    out["number"] = np.arange(1, len(out) + 1)
    return out


def _clip(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _list_entries(numbered: pd.DataFrame, taxonomy: Taxonomy) -> list[tuple[str, str, str]]:
    """``(kind, text, colour)`` lines: a heading per category, then ``number name``."""
    entries = []
    status = {"paused": "(休止中)", "closed": "(廃止)", "planned": "(計画中・案)"}
    for code, part in numbered.groupby("category", sort=False):
        color = taxonomy.categories[code].color if code in taxonomy.categories else "#777777"
        entries.append(("head", f"{taxonomy.label(code)} ({len(part)})", color))
        entries.extend(("item", _clip(f"{n:>3}  {name}{status.get(s, '')}"), color)
                       for n, name, s in zip(part["number"], part["name"], part["status"], strict=True))
    return entries


def _draw_list(fig, entries, box, *, columns: int, font: FontProperties, size: float) -> int:
    """Write ``entries`` in ``columns`` columns inside ``box`` (figure fraction); returns how many fit."""
    left, bottom, width, height = box
    line = size * 1.55 / 72 / fig.get_figheight()
    per_col = max(int(height / line), 1)
    shown = entries[: per_col * columns]
    for i, (kind, text, color) in enumerate(shown):
        x = left + (i // per_col) * width / columns
        y = bottom + height - (i % per_col + 1) * line
        if kind == "head":
            fig.text(x, y, "●", color=color, fontproperties=font, fontsize=size + 2, va="baseline",
                     path_effects=[patheffects.withStroke(linewidth=0.8, foreground="#333")])
            fig.text(x + 0.012, y, text, color="#1a1a1a", fontproperties=font, fontsize=size + 0.5, weight="bold")
        else:
            fig.text(x + 0.004, y, text, color="#222", fontproperties=font, fontsize=size)
    return len(shown)


_MARKER_PT = 10.5  # marker diameter on paper (points)
_INACTIVE = "#ffffff"  # 休止中・廃止: a white disc with a dashed dark ring (readable, not faint)


def _points_per_metre(ax) -> float:
    x0, x1 = ax.get_xlim()
    return ax.get_position().width * ax.figure.get_figwidth() * 72 / (x1 - x0)


def _inside(ax, x: float, y: float, text: str, size: float, scale: float) -> tuple[float, float]:
    """(x, y) moved so that a centred label of ``text`` at ``size`` pt stays inside the axes."""
    half_w = (len(text) * size * 0.55 + 4) / scale
    half_h = (size * 0.7 + 3) / scale
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return min(max(x, x0 + half_w), x1 - half_w), min(max(y, y0 + half_h), y1 - half_h)


def _halo_text(ax, x: float, y: float, text: str, *, zorder: float, **style) -> None:
    """Text with a white halo: the halo drawn as an outline below, the text itself as text on top
    (a text drawn with path effects becomes an outline in the PDF: not searchable, not copyable).
    """
    ax.text(x, y, text, **{**style, "color": "white"}, path_effects=_HALO, zorder=zorder)
    ax.text(x, y, text, **style, zorder=zorder + 0.01)


def _draw_basemap(ax, view: AreaView, metric_crs) -> None:
    lines = basemap_frame(view.streets, view.lines).to_crs(metric_crs)
    for kind, (color, width, dashes) in _LINE_STYLE.items():
        part = lines[lines["kind"] == kind]
        if not len(part):
            continue
        segments = [np.asarray(g.coords)[:, :2] for g in shapely.get_parts(part.geometry.values)
                    if g.geom_type == "LineString"]
        collection = LineCollection(segments, colors=color, linewidths=width, capstyle="round", zorder=1)
        if dashes:
            collection.set_linestyle((0, dashes))
        ax.add_collection(collection)


def _draw_gaps(ax, zones: gpd.GeoDataFrame | None, metric_crs, taxonomy) -> list:
    """Blank zones per category, hatched in the category's colour; returns legend handles."""
    handles = []
    if zones is None or not len(zones):
        return handles
    zones = zones.to_crs(metric_crs)
    for code, part in zones.groupby("category", sort=False):
        color = taxonomy.categories[code].color if code in taxonomy.categories else "#b71c1c"
        part.plot(ax=ax, facecolor=color, alpha=0.22, edgecolor="none", zorder=1.5)
        part.plot(ax=ax, facecolor="none", edgecolor=color, hatch="////", linewidth=0.6, zorder=1.6)
        handles.append(Rectangle((0, 0), 1, 1, facecolor=color, alpha=0.35, edgecolor=color, hatch="////",
                                 label=f"空白地帯: {taxonomy.label(code)}"))
    return handles


def _draw_map(ax, view: AreaView, numbered: gpd.GeoDataFrame, metric_crs, taxonomy, font) -> None:
    """Areas, 町丁目 names and numbered markers (after the axes limits are set)."""
    scale = _points_per_metre(ax)
    areas = view.areas.to_crs(metric_crs)
    jhs = areas[areas["level"] == "jhs_district"]
    living = areas[areas["level"] == "living_area"]
    if len(jhs):  # geopandas warns on plotting an empty layer (a town without 圏域)
        jhs.boundary.plot(ax=ax, color="#3d5875", linewidth=0.9, linestyle=(0, (5, 3)), zorder=2)
    if len(living):
        living.boundary.plot(ax=ax, color="#14304f", linewidth=2.4, zorder=3)
    blocks = view.town_blocks.to_crs(metric_crs) if len(view.town_blocks) else None
    if blocks is not None:
        blocks.boundary.plot(ax=ax, color="#9aa3ad", linewidth=0.35, zorder=1.8)
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        for point, name in zip(blocks.geometry.representative_point(), blocks["name"].astype(str), strict=True):
            if x0 < point.x < x1 and y0 < point.y < y1:
                _halo_text(ax, point.x, point.y, name, fontproperties=font, fontsize=5, color="#5f6b76",
                           ha="center", va="center", zorder=4)
    for frame, size, color in ((jhs, 8, "#3d5875"), (living, 14, "#14304f")):
        for point, name in zip(frame.geometry.representative_point(), frame["name"].astype(str), strict=True):
            x, y = _inside(ax, point.x, point.y, name, size, scale)
            _halo_text(ax, x, y, name, fontproperties=font, fontsize=size, color=color, ha="center",
                       va="center", weight="bold", zorder=6, alpha=0.9)
    pts = numbered.to_crs(metric_crs)
    if not len(pts):
        return
    colors = np.array([taxonomy.categories[c].color if c in taxonomy.categories else "#777777"
                       for c in pts["category"]])
    active = (pts["status"] == "active").to_numpy()
    true_xy = np.column_stack([pts.geometry.x, pts.geometry.y])
    page_xy = place_markers(true_xy * scale, radius=_MARKER_PT / 2 + 0.4, keep_out=true_xy * scale)
    xy = page_xy / scale
    moved = np.linalg.norm(xy - true_xy, axis=1) > 1e-6
    if moved.any():
        ax.add_collection(LineCollection(np.stack([true_xy[moved], xy[moved]], axis=1), colors="#333",
                                         linewidths=0.5, zorder=6.5))
        ax.scatter(true_xy[moved, 0], true_xy[moved, 1], s=6, c=colors[moved], edgecolors="#222", linewidths=0.3,
                   zorder=6.6)
    fill = np.where(active, colors, _INACTIVE)
    for ok, style in ((True, "solid"), (False, (0, (2, 1.2)))):
        mask = active == ok
        if mask.any():
            ax.scatter(xy[mask, 0], xy[mask, 1], s=_MARKER_PT ** 2, c=fill[mask],
                       edgecolors="#222" if ok else "#333", linewidths=0.6 if ok else 0.9, linestyles=style,
                       zorder=7)
    for (x, y), n, c, ok in zip(xy, pts["number"], fill, active, strict=True):
        ax.text(x, y, str(n), fontproperties=font, fontsize=5.6 if n < 100 else 4.6,
                color=_text_color(c) if ok else "#222", ha="center", va="center", zorder=8, weight="bold")


def _scale_and_north(ax, font) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length_m(x1 - x0)
    bx, by, h = x0 + 0.03 * (x1 - x0), y0 + 0.035 * (y1 - y0), 0.008 * (y1 - y0)
    for i in range(2):
        ax.add_patch(Rectangle(
            (bx + i * length / 2, by), length / 2, h, facecolor="#222" if i == 0 else "white",
            edgecolor="#222", linewidth=0.8, zorder=9))
    for frac in (0, 0.5, 1):
        ax.text(bx + frac * length, by + 1.8 * h, "0" if frac == 0 else _fmt_m(length * frac),
                fontproperties=font, fontsize=7, ha="center", va="bottom", path_effects=_HALO, zorder=9)
    # the north arrow hangs from the frame's top edge by a fixed distance in points (「N」 6 pt inside the
    # frame, the arrow under it), however tall the map's frame is on the page
    def below_top(points: float):
        return offset_copy(ax.transAxes, fig=ax.figure, y=-points, units="points")

    ax.text(0.96, 1, "N", transform=below_top(6), fontproperties=font, fontsize=11, ha="center", va="top",
            weight="bold", zorder=9)
    ax.annotate("", xy=(0.96, 1), xycoords=below_top(22), xytext=(0.96, 1), textcoords=below_top(50), zorder=9,
                arrowprops={"arrowstyle": "-|>,head_width=0.5,head_length=1.0", "color": "#222", "lw": 1.6})


def _line_legend(ax, view: AreaView, font, extra: list) -> None:
    """The legend of lines: only the layers that exist in the workspace (no 道路 without a network)."""
    have = basemap_kinds(view.streets, view.lines)
    levels = set(view.areas["level"])
    handles = [handle for shown, handle in (
        ("living_area" in levels, Line2D([], [], color="#14304f", lw=2.4, label="日常生活圏域")),
        ("jhs_district" in levels, Line2D([], [], color="#3d5875", lw=0.9, ls=(0, (5, 3)), label="中学校区")),
        (have["roads"], Line2D([], [], color=_LINE_STYLE["major"][0], lw=2.3, label="主要道路")),
        (have["rivers"], Line2D([], [], color=_LINE_STYLE["river"][0], lw=4, label="川")),
        (have["rails"], Line2D([], [], color=_LINE_STYLE["rail"][0], lw=1.4, ls=(0, (5, 3)), label="鉄道")),
        ((view.resources["status"] != "active").any(),
         Line2D([], [], color="#333", marker="o", markerfacecolor=_INACTIVE, lw=0, ms=7, label="休止中・廃止")),
        (True, Line2D([], [], color="#333", lw=0.5, marker="o", ms=2, markevery=[0], label="引き出し線(位置)")),
        (len(view.town_blocks) > 0, Line2D([], [], color="#9aa3ad", lw=0.6, label="町丁目")),
    ) if shown]
    handles += extra
    legend = ax.legend(handles=handles, loc="lower right", prop=font, fontsize=7, ncols=3, framealpha=0.9,
                       edgecolor="#bbb")
    legend.set_zorder(10)
    legend.set_loc(_legend_spot(ax, legend))


# where the legend of lines may sit: not over the scale bar (lower left) or the north arrow (upper right)
_LEGEND_SPOTS = ("lower right", "upper left", "lower center", "upper center")


def _legend_spot(ax, legend) -> str:
    """The spot of :data:`_LEGEND_SPOTS` whose legend box covers the fewest resource markers (the
    first such spot on a tie), so that no numbered marker hides under the legend where one can be
    avoided.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(ax.figure).get_renderer()
    points = [c.get_offset_transform().transform(c.get_offsets()) for c in ax.collections
              if len(c.get_offsets()) and c.get_zorder() >= 7]  # the numbered markers (display units)
    xy = np.concatenate(points) if points else np.empty((0, 2))
    covered = {}
    for spot in _LEGEND_SPOTS:
        legend.set_loc(spot)
        box = legend.get_window_extent(renderer)
        covered[spot] = int(((xy[:, 0] >= box.x0 - 6) & (xy[:, 0] <= box.x1 + 6)
                             & (xy[:, 1] >= box.y0 - 6) & (xy[:, 1] <= box.y1 + 6)).sum())
    return min(_LEGEND_SPOTS, key=lambda spot: covered[spot])


def _map_page(view: AreaView, taxonomy: Taxonomy, font, paper: str, today: dt.date,
              blank_zones: gpd.GeoDataFrame | None = None):
    """One map page and the list entries that did not fit beside it."""
    fig = Figure(figsize=PAPER_SIZES_IN[paper])
    metric = to_metric(view.areas if len(view.areas) else view.resources, muni_code=view.muni_code).crs
    numbered = _numbered(view.resources, taxonomy)
    ax = fig.add_axes((0.02, 0.06, 0.68, 0.84))
    ax.set_facecolor("#f6f4ef")
    _draw_basemap(ax, view, metric)
    gap_handles = _draw_gaps(ax, blank_zones, metric, taxonomy)
    focus = (view.area if view.area is not None else view.areas[view.areas["level"] == "living_area"])
    focus = focus if len(focus) else view.areas
    xmin, ymin, xmax, ymax = focus.to_crs(metric).total_bounds
    pad = 0.04 * max(xmax - xmin, ymax - ymin)
    xmin, ymin, xmax, ymax = xmin - pad, ymin - pad, xmax + pad, ymax + pad
    box_w, box_h = 0.68 * fig.get_figwidth(), 0.84 * fig.get_figheight()
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    half_w = max(xmax - xmin, (ymax - ymin) * box_w / box_h) / 2  # same metres per inch on both axes
    half_h = half_w * box_h / box_w
    ax.set_xlim(cx - half_w, cx + half_w)
    ax.set_ylim(cy - half_h, cy + half_h)
    for spine in ax.spines.values():
        spine.set_color("#888")
    ax.set_autoscale_on(False)
    _draw_map(ax, view, numbered, metric, taxonomy, font)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    _scale_and_north(ax, font)
    _line_legend(ax, view, font, gap_handles)
    fig.text(0.02, 0.955, view.title, fontproperties=font, fontsize=20, weight="bold", color="#14304f")
    fig.text(0.02, 0.925, f"作成日 {today:%Y年%m月%d日} / 社会資源 {len(numbered)} 件 / 番号は右の一覧と対応",
             fontproperties=font, fontsize=9, color="#444")
    gaps = None if blank_zones is None or not len(blank_zones) else \
        f"空白地帯: 徒歩{blank_zones['minutes'].iloc[0]:g}分で資源に届かない高齢者の住む所(ギャップ分析)"
    credits = [vector_attribution(view.streets, view.lines), f"区域・社会資源: ワークスペース ({view.muni_name})",
               "白い丸の番号は休止中・廃止", gaps]
    fig.text(0.02, 0.03, " / ".join(c for c in credits if c), fontproperties=font, fontsize=7, color="#333")
    if view.notes:
        fig.text(0.02, 0.012, "※ " + " / ".join(view.notes), fontproperties=font, fontsize=8, color="#8a4b00",
                 weight="bold")
    legend = fig.add_axes((0.72, 0.06, 0.27, 0.84))
    legend.axis("off")
    fig.text(0.72, 0.91, "番号と名称", fontproperties=font, fontsize=11, weight="bold", color="#14304f")
    entries = _list_entries(numbered, taxonomy)
    fitted = _draw_list(fig, entries, (0.72, 0.06, 0.27, 0.84), columns=2, font=font, size=6.5)
    return fig, entries[fitted:]


def _list_pages(entries, view: AreaView, font, paper: str) -> list[Figure]:
    pages = []
    while entries:
        fig = Figure(figsize=PAPER_SIZES_IN[paper])
        fig.text(0.02, 0.955, f"{view.title} — 番号と名称(続き)", fontproperties=font, fontsize=14, weight="bold",
                 color="#14304f")
        fitted = _draw_list(fig, entries, (0.03, 0.05, 0.95, 0.87), columns=5, font=font, size=6.5)
        entries = entries[fitted:]
        pages.append(fig)
    return pages


def print_map(ws, path: str | Path, *, area: str | None = None, paper: str = "A3", per_area: bool = False,
              today: dt.date | None = None, taxonomy: Taxonomy | None = None,
              blank_zones: gpd.GeoDataFrame | None = None) -> tuple[Path, int]:
    """Write a print map of workspace ``ws`` to ``path`` (``.pdf`` or ``.png``).

    Parameters
    ----------
    ws
        An open :class:`scgeo.Workspace`.
    path
        Output file; ``.png`` writes the map page only (list truncated to what fits beside it).
    area
        A 日常生活圏域 or 中学校区 name or id (default: the whole municipality).
    paper
        ``"A3"`` (default) or ``"A4"``, landscape.
    per_area
        One map page per 日常生活圏域 in one PDF (``area`` is then ignored); a municipality
        without 日常生活圏域 gets one page per 中学校区, and without either one page for the whole town.
    today
        Date printed on the map (default: today).
    taxonomy
        Category labels and colours (default: :func:`scgeo.load_taxonomy`).
    blank_zones
        Blank zones to draw (``category``, ``minutes``, geometry; from
        :func:`scgeo.analysis.blank_zones`), hatched per category with a legend entry each.

    Returns
    -------
    tuple of (pathlib.Path, int)
        The path written and the number of pages.
    """
    if paper not in PAPER_SIZES_IN:
        raise ScgeoError(f"用紙「{paper}」は使えません。使える用紙: {', '.join(PAPER_SIZES_IN)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    font = japanese_font()
    taxonomy = taxonomy or load_taxonomy()
    today = today or dt.date.today()
    if per_area:
        per = next((lv for lv in ("living_area", "jhs_district") if ws.count("areas") and len(ws.areas(lv))), None)
        keys = ws.areas(per)["area_id"].astype(str).tolist() if per else [None]
        views = [AreaView(ws, key) for key in keys]
    else:
        views = [AreaView(ws, area)]
    pages: list[Figure] = []
    for view in views:
        zones = None
        if blank_zones is not None and len(blank_zones):
            zones = blank_zones if view.area is None else \
                blank_zones[blank_zones.to_crs(view.area.crs).intersects(view.area.geometry.iloc[0])]
        fig, rest = _map_page(view, taxonomy, font, paper, today, zones)
        pages.append(fig)
        if path.suffix.lower() == ".pdf":
            pages.extend(_list_pages(rest, view, font, paper))
    if path.suffix.lower() == ".png":
        pages[0].savefig(path, dpi=150, facecolor="white")
        return path, 1
    metadata = {"Title": views[0].title if len(views) == 1 else f"{views[0].muni_name} 地域資源マップ(圏域別)",
                "Creator": "scgeo"}
    with rc_context({"pdf.fonttype": 42}), PdfPages(path, metadata=metadata) as pdf:  # TrueType, not Type 3
        for fig in pages:
            pdf.savefig(fig, facecolor="white")
    return path, len(pages)


def map_figure(ws, *, area: str | None = None, paper: str = "A4", today: dt.date | None = None,
               taxonomy: Taxonomy | None = None) -> Figure:
    """The map page of :func:`print_map` as a figure, for a report to put among its own pages.

    Arguments as :func:`print_map` (``area``: a 日常生活圏域 or 中学校区 name or id, default the whole
    municipality). The resource list beside the map is cut to what fits.
    """
    if paper not in PAPER_SIZES_IN:
        raise ScgeoError(f"用紙「{paper}」は使えません。使える用紙: {', '.join(PAPER_SIZES_IN)}")
    fig, _rest = _map_page(AreaView(ws, area), taxonomy or load_taxonomy(), japanese_font(), paper,
                           today or dt.date.today())
    return fig
