"""Drawing the coordinator's network: an ecomap of one element, and the network of an area.

- **Ecomap** (radial): the focal organisation or resource in the middle, its direct ties on a
  ring around it and, with ``depth=2``, their ties on an outer ring. Lines show the strength
  (solid thick strong, solid medium, dashed weak) and are coloured by the kind of tie.
- **Network of an area** (force layout, ``networkx.spring_layout`` with a fixed seed): brokers
  (high betweenness) drawn larger with a dark ring, isolates on a row below with a red ring, so
  that who holds the area together and who is left out is seen at a glance.

Both come as SVG inside a self-contained HTML page (no script or style from the network; a few
lines of inline script highlight a node's ties on hover) and as a printable PDF/PNG through
matplotlib with the Japanese font embedded. Every text from data is escaped.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np
import pandas as pd

from scgeo.analysis.ties import TieGraph, network_metrics
from scgeo.maps._tie_style import KIND_COLORS, STRENGTH_DASH, STRENGTH_WIDTH
from scgeo.schema import NODE_TYPE_LABELS, TIE_KIND_LABELS, TIE_STRENGTH_LABELS

__all__ = ["ecomap_layout", "network_figure", "network_html", "network_layout", "save_network_view"]

_TYPE_COLORS = {"resource": "#fdae6b", "council": "#9e9ac8", "coordinator": "#636363"}


def _node_colors(nodes: pd.DataFrame) -> list[str]:
    from scgeo.io.organisations import load_organisation_kinds

    kinds = load_organisation_kinds()
    return [
        kinds[k].color if t == "organisation" and k in kinds else _TYPE_COLORS.get(t, "#17becf")
        for t, k in zip(nodes["node_type"], nodes["kind"], strict=True)
    ]


def _subgraph(graph: TieGraph, keep: set[str]) -> TieGraph:
    nodes = graph.nodes[graph.nodes["node"].isin(keep)].reset_index(drop=True)
    edges = graph.edges[graph.edges["source"].isin(keep) & graph.edges["target"].isin(keep)].reset_index(drop=True)
    return TieGraph(nodes, edges, graph.dangling, graph.on, graph.closed_ties)


def ecomap_layout(graph: TieGraph, focus: str, *, depth: int = 1) -> tuple[TieGraph, pd.DataFrame]:
    """The ecomap of node ``focus`` (a node key such as ``organisation:G001``).

    Returns the subgraph (the focus, its partners and, with ``depth=2``, theirs) and positions
    ``x``, ``y`` in [-1, 1] per node key: the focus at the centre, ring ``r`` at radius ``r /
    depth``, each ring ordered by kind so that similar partners sit together.
    """
    if focus not in set(graph.nodes["node"]):
        from scgeo._errors import InputError

        raise InputError(f"「{focus}」はネットワークにありません(団体ID・資源IDを確認してください)。")
    rings = [{focus}]
    seen = {focus}
    for _ in range(depth):
        frontier = rings[-1]
        nxt = set(graph.edges.loc[graph.edges["source"].isin(frontier), "target"]) | set(
            graph.edges.loc[graph.edges["target"].isin(frontier), "source"]
        )
        nxt -= seen
        seen |= nxt
        rings.append(nxt)
    sub = _subgraph(graph, seen)
    info = sub.nodes.set_index("node")
    rows = [(focus, 0.0, 0.0)]
    for r, ring in enumerate(rings[1:], start=1):
        ordered = sorted(
            ring, key=lambda k: (info.loc[k, "node_type"], str(info.loc[k, "kind"]), str(info.loc[k, "name"]))
        )
        offset = 0.5 if r % 2 == 0 else 0.0
        for i, key in enumerate(ordered):
            angle = 2 * math.pi * (i + offset) / max(len(ordered), 1) - math.pi / 2
            rows.append((key, r / depth * math.cos(angle), r / depth * math.sin(angle)))
    return sub, pd.DataFrame(rows, columns=["node", "x", "y"]).set_index("node")


def network_layout(graph: TieGraph) -> pd.DataFrame:
    """Positions (``x`` in [-1.15, 1.15], ``y`` in [-1.15, 1]) for the network of an area.

    The largest connected part is laid out by Kamada–Kawai (deterministic) on the left; smaller
    parts are stacked in a column on the right; isolates form rows beneath, so that the
    organisations with no tie are seen apart.
    """
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(sorted(set(graph.edges["source"]) | set(graph.edges["target"])))
    g.add_edges_from(graph.edges[["source", "target"]].itertuples(index=False, name=None))
    parts = sorted((sorted(c) for c in nx.connected_components(g)), key=lambda c: (-len(c), c[0]))
    rows: list[tuple[str, float, float]] = []
    if parts:
        main = parts[0]
        pos = (
            nx.kamada_kawai_layout(g.subgraph(main))
            if len(main) > 2
            else {k: (i - 0.5, 0.0) for i, k in enumerate(main)}
        )
        xy = np.array([pos[k] for k in main], dtype=float)
        xy -= xy.mean(axis=0)
        xy /= max(np.abs(xy).max(), 1e-9)
        right = len(parts) > 1
        for k, (x, y) in zip(main, xy, strict=True):
            rows.append((k, x * (0.8 if right else 1.05) - (0.3 if right else 0.0), y * 0.78 + 0.2))
        small = parts[1:]
        slot = 2.0 / max(len(small), 1)
        for i, part in enumerate(small):
            cy = 1.0 - slot * (i + 0.5)
            for j, k in enumerate(part):
                angle = 2 * math.pi * j / len(part)
                radius = min(0.12, slot / 3) if len(part) > 1 else 0.0
                rows.append((k, 0.92 + radius * math.cos(angle), cy * 0.8 + 0.2 + radius * math.sin(angle)))
    lonely = [k for k in graph.nodes["node"] if k not in g]
    per_row = 6
    for i, key in enumerate(lonely):
        row, col = divmod(i, per_row)
        rows.append((key, -1.05 + 2.1 * (col + 0.5) / per_row, -0.78 - 0.2 * row, 12.0 * (col % 2)))
    rows = [(*r, 0.0) if len(r) == 3 else r for r in rows]
    return pd.DataFrame(rows, columns=["node", "x", "y", "dy"]).set_index("node")


def _svg(graph: TieGraph, pos: pd.DataFrame, metrics: pd.DataFrame, *, focus: str | None, size: int = 900) -> str:
    pad = 70
    scale = (size - 2 * pad) / 2.3

    def xy(key):
        return pad + (pos.loc[key, "x"] + 1.15) * scale, pad + (pos.loc[key, "y"] * -1 + 1.15) * scale

    # the picture is cut to what is drawn, with room for the labels (up to 14 characters, centred below
    # their node): no label is cut off, however many rows of isolates, and no empty margin is kept
    drawn = pos.index.isin(graph.nodes["node"])
    left, top, right, bottom = 0.0, 0.0, float(size), float(size)
    if drawn.any():
        xs = pad + (pos.loc[drawn, "x"] + 1.15) * scale
        ys = pad + (pos.loc[drawn, "y"] * -1 + 1.15) * scale
        dys = pos.loc[drawn, "dy"] if "dy" in pos else 0.0
        left, right = float(xs.min()) - 85, float(xs.max()) + 85
        top, bottom = float(ys.min()) - 24, float((ys + dys).max()) + 16 + 13 + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{left:.0f} {top:.0f} {right - left:.0f} {bottom - top:.0f}" '
        f'preserveAspectRatio="xMidYMin meet" role="img" aria-label="関係者ネットワーク" '
        f'font-family="IPAexGothic, Noto Sans CJK JP, sans-serif">'
    ]
    for e in graph.edges.itertuples(index=False):
        if e.source not in pos.index or e.target not in pos.index:
            continue
        (x1, y1), (x2, y2) = xy(e.source), xy(e.target)
        strength = e.strength if isinstance(e.strength, str) else "medium"
        title = f"{TIE_KIND_LABELS.get(e.kind, e.kind)}(強さ: {TIE_STRENGTH_LABELS.get(strength, '中')})"
        dash = f' stroke-dasharray="{STRENGTH_DASH[strength]}"' if STRENGTH_DASH[strength] else ""
        parts.append(
            f'<line class="tie" data-a="{html.escape(e.source)}" data-b="{html.escape(e.target)}" '
            f'x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{KIND_COLORS.get(e.kind, "#999")}" '
            f'stroke-width="{STRENGTH_WIDTH[strength]}"{dash} opacity="0.75"><title>{html.escape(title)}</title></line>'
        )
    colors = dict(zip(graph.nodes["node"], _node_colors(graph.nodes), strict=True))
    for n in graph.nodes.itertuples(index=False):
        if n.node not in pos.index:
            continue
        x, y = xy(n.node)
        dy = float(pos.loc[n.node, "dy"]) if "dy" in pos else 0.0
        m = metrics.loc[n.node] if n.node in metrics.index else None
        broker = bool(m is not None and m["broker"])
        isolated = bool(m is not None and m["isolated"])
        r = 16 if n.node == focus else (11 if broker else 7 + min(int(m["degree"]) if m is not None else 0, 6) * 0.4)
        ring = (
            ' stroke="#d7301f" stroke-width="3"'
            if isolated
            else (
                ' stroke="#222" stroke-width="3"' if broker or n.node == focus else ' stroke="#fff" stroke-width="1.5"'
            )
        )
        shape = (
            f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" rx="3" '
            if n.node_type == "resource"
            else f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" '
        )
        tip = f"{n.name}({NODE_TYPE_LABELS.get(n.node_type, n.node_type)})"
        if m is not None:
            tip += f" つながり {int(m['degree'])}"
            tip += " — 橋渡し役" if broker else (" — 孤立" if isolated else "")
        parts.append(
            f'<g class="node" data-key="{html.escape(n.node)}">{shape}fill="{colors[n.node]}"{ring}>'
            f"<title>{html.escape(tip)}</title></{'rect' if n.node_type == 'resource' else 'circle'}>"
            f'<text x="{x:.1f}" y="{y + r + 13 + dy:.1f}" font-size="{13 if n.node == focus or broker else 11}" '
            f'text-anchor="middle" fill="#222" paint-order="stroke" stroke="#fff" stroke-width="3">'
            f"{html.escape(_short(n.name))}</text></g>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _short(name: object, limit: int = 14) -> str:
    text = str(name)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _legend_html() -> str:
    kinds = "".join(
        f'<span><i style="background:{c}"></i>{html.escape(TIE_KIND_LABELS[k])}</span>' for k, c in KIND_COLORS.items()
    )
    return (
        f'<div class="legend"><b>つながりの種類</b>{kinds}<br><b>強さ</b><span>━ 強</span><span>─ 中</span>'
        f"<span>┄ 弱</span><br><b>印</b><span>◎ 黒い縁: 橋渡し役(媒介中心性が高い)</span>"
        f"<span>◯ 赤い縁: 孤立(つながりなし)</span><span>□ 社会資源</span></div>"
    )


def network_html(graph: TieGraph, *, title: str, focus: str | None = None, depth: int = 1, note: str = "") -> str:
    """A self-contained HTML page with the ecomap of ``focus`` (or the whole network) as SVG."""
    if focus:
        sub, pos = ecomap_layout(graph, focus, depth=depth)
    else:
        sub, pos = graph, network_layout(graph)
    metrics = network_metrics(graph)
    svg = _svg(sub, pos, metrics, focus=focus)
    brokers = metrics[metrics["broker"] & metrics.index.isin(sub.nodes["node"])].sort_values(
        "betweenness", ascending=False
    )
    isolated = metrics[
        metrics["isolated"] & metrics.index.isin(sub.nodes["node"]) & (metrics["node_type"] == "organisation")
    ]
    listing = "".join(
        f"<li>{html.escape(str(r.name_))}(媒介 {r.betweenness:.2f}、つながり {int(r.degree)})</li>"
        for r in brokers.rename(columns={"name": "name_"}).head(10).itertuples()
    )
    lonely = "、".join(html.escape(str(v)) for v in isolated["name"].head(30)) or "なし"
    day = graph.on.date().isoformat() if graph.on is not None else ""
    return f"""<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<style>
/* the picture fits the window (a frame in the app: its height), the lists beside it scroll;
   a narrow window or paper: one below the other */
body {{ font-family: "IPAexGothic", "Noto Sans CJK JP", sans-serif; margin: 0; padding: 12px 16px; color: #222;
  box-sizing: border-box; height: 100vh; display: flex; flex-direction: column; }}
h1 {{ font-size: 20px; margin: 0 0 4px; }} .sub {{ color: #555; font-size: 13px; margin-bottom: 8px; }}
.wrap {{ flex: 1 1 auto; min-height: 0; display: flex; gap: 16px; }}
svg {{ flex: 0 1 auto; min-width: 0; height: 100%; max-width: 900px; border: 1px solid #ddd; box-sizing: border-box; }}
.side {{ flex: 1 1 300px; min-width: 220px; max-width: 420px; overflow-y: auto; font-size: 13px; }}
.legend span {{ display: inline-block; margin: 2px 8px 2px 0; }} .legend b {{ margin-right: 8px; }}
.legend i {{ display: inline-block; width: 14px; height: 4px; margin-right: 4px; vertical-align: middle; }}
.dim {{ opacity: 0.12; }}
@media (max-width: 640px), print {{
  body {{ height: auto; display: block; }} .wrap {{ display: block; }}
  svg {{ width: 100%; height: auto; }} .side {{ max-width: none; overflow: visible; }}
}}
</style></head><body>
<h1>{html.escape(title)}</h1>
<div class="sub">{html.escape(day)} 時点 — 団体・社会資源 {len(sub.nodes)}、
つながり {len(sub.edges)}{html.escape(note)}</div>
<div class="wrap">{svg}
<div class="side">{_legend_html()}
<h2 style="font-size:15px">橋渡し役</h2><ol>{listing or "<li>なし</li>"}</ol>
<h2 style="font-size:15px">つながりのない団体</h2><p>{lonely}</p></div></div>
<script>
document.querySelectorAll('g.node').forEach(function (g) {{
  g.addEventListener('mouseenter', function () {{
    var k = g.getAttribute('data-key');
    document.querySelectorAll('line.tie').forEach(function (l) {{
      if (l.getAttribute('data-a') !== k && l.getAttribute('data-b') !== k) l.classList.add('dim');
    }});
  }});
  g.addEventListener('mouseleave', function () {{
    document.querySelectorAll('line.tie').forEach(function (l) {{ l.classList.remove('dim'); }});
  }});
}});
</script></body></html>
"""


def network_figure(graph: TieGraph, *, title: str, focus: str | None = None, depth: int = 1):
    """The same view as a matplotlib figure (A4 landscape), for PDF or PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from scgeo.maps.static import japanese_font

    font = japanese_font()
    if focus:
        sub, pos = ecomap_layout(graph, focus, depth=depth)
    else:
        sub, pos = graph, network_layout(graph)
    metrics = network_metrics(graph)
    fig, ax = plt.subplots(figsize=(11.69, 8.27))
    ax.set_axis_off()
    ax.set_aspect("equal")
    for e in sub.edges.itertuples(index=False):
        strength = e.strength if isinstance(e.strength, str) else "medium"
        (x1, y1), (x2, y2) = pos.loc[e.source, ["x", "y"]], pos.loc[e.target, ["x", "y"]]
        ax.plot(
            [x1, x2],
            [y1, y2],
            color=KIND_COLORS.get(e.kind, "#999"),
            lw=STRENGTH_WIDTH[strength] * 0.8,
            ls="--" if strength == "weak" else "-",
            alpha=0.7,
            zorder=1,
        )
    colors = dict(zip(sub.nodes["node"], _node_colors(sub.nodes), strict=True))
    for n in sub.nodes.itertuples(index=False):
        x, y = pos.loc[n.node, ["x", "y"]]
        m = metrics.loc[n.node]
        edge = "#d7301f" if m["isolated"] else ("#222" if m["broker"] or n.node == focus else "white")
        size = 260 if n.node == focus else (150 if m["broker"] else 60)
        ax.scatter(
            [x],
            [y],
            s=size,
            c=colors[n.node],
            edgecolors=edge,
            linewidths=2,
            marker="s" if n.node_type == "resource" else "o",
            zorder=2,
        )
        ax.annotate(
            _short(n.name),
            (x, y),
            xytext=(0, -11),
            textcoords="offset points",
            ha="center",
            va="top",
            fontproperties=font,
            fontsize=7 if len(sub.nodes) > 40 else 8,
            zorder=3,
        )
    day = graph.on.date().isoformat() if graph.on is not None else ""
    ax.set_title(f"{title}  ({day} 時点)", fontproperties=font, fontsize=14)
    handles = [Line2D([], [], color=c, lw=2, label=TIE_KIND_LABELS[k]) for k, c in KIND_COLORS.items()]
    handles += [
        Line2D([], [], color="#555", lw=2.5, label="強"),
        Line2D([], [], color="#555", lw=1.2, ls="--", label="弱"),
        Line2D([], [], marker="o", ls="", mfc="#ccc", mec="#222", mew=2, ms=10, label="橋渡し役"),
        Line2D([], [], marker="o", ls="", mfc="#ccc", mec="#d7301f", mew=2, ms=8, label="孤立"),
        Line2D([], [], marker="s", ls="", mfc="#fdae6b", mec="white", ms=8, label="社会資源"),
    ]
    ax.legend(handles=handles, prop=font, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def save_network_view(
    graph: TieGraph, path: str | Path, *, title: str, focus: str | None = None, depth: int = 1
) -> Path:
    """Write the view to ``.html`` (self-contained), ``.pdf`` or ``.png`` by the file's suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".html", ".htm"):
        path.write_text(network_html(graph, title=title, focus=focus, depth=depth), encoding="utf-8")
        return path
    import matplotlib.pyplot as plt

    fig = network_figure(graph, title=title, focus=focus, depth=depth)
    fig.savefig(path, dpi=150 if path.suffix.lower() == ".png" else None)
    plt.close(fig)
    return path
