"""The map's boxes: title, legend (categories, areas, classes, overlays) and the internal banner."""

from __future__ import annotations

import html

from branca.element import MacroElement
from jinja2 import Template

from scgeo.maps._layers import js_json

__all__ = ["MapBox", "badge_html", "class_rows", "legend_html", "line_row", "row", "swatch_row", "title_html"]


def _text_color(hex_color: str) -> str:
    n = int(hex_color.lstrip("#"), 16)
    r, g, b = n >> 16, (n >> 8) & 255, n & 255
    return "#1a1a1a" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#ffffff"


def badge_html(letter: str, color: str, cls: str = "") -> str:
    """A category badge as in the map (a coloured circle with the category's letter)."""
    return (f'<span class="scgeo-badge {cls}" style="background:{color};color:{_text_color(color)}">'
            f"{html.escape(letter)}</span>")


def row(symbol: str, label: str, count: int | None = None, *, layer: str | tuple[str, ...] | None = None,
        unless: str | None = None, code: str | None = None) -> str:
    """One legend row.

    ``layer``: shown only while that layer (or one of those) is on the map; ``unless``: shown
    only while that layer is off (a hint on how to switch it on). Names as in the layer list.
    ``code``: the category whose shown count the page may update (``scgeo.show``).
    """
    n = f'<span class="n">{count:,}</span>' if count is not None else ""
    attrs = ""
    if layer is not None:
        names = (layer,) if isinstance(layer, str) else layer
        attrs += f' data-layers="{html.escape(js_json(list(names)))}"'
    if unless is not None:
        attrs += f' data-unless="{html.escape(unless)}"'
    if code is not None:
        attrs += f' data-code="{html.escape(code)}"'
    return f'<div class="row"{attrs}>{symbol}<span>{html.escape(label)}</span>{n}</div>'


def swatch_row(fill: str, label: str, *, border: str = "#555", opacity: float = 1.0, count: int | None = None,
               layer: str | tuple[str, ...] | None = None) -> str:
    """A filled square and its label."""
    return row(f'<span class="swatch" style="background:{fill};opacity:{opacity};border-color:{border}"></span>',
               label, count, layer=layer)


def line_row(color: str, label: str, *, width: float = 3, dash: str | None = None,
             layer: str | tuple[str, ...] | None = None) -> str:
    """A line sample and its label."""
    style = "dashed" if dash else "solid"
    return row(f'<span class="line" style="border-top:{width}px {style} {color}"></span>', label, layer=layer)


def class_rows(breaks: list[float], colors: list[str], *, fmt: str = "{:,.0f}",
               layer: str | None = None) -> list[str]:
    """Legend rows of a classed choropleth: ``a – b`` per class, lowest first."""
    return [swatch_row(c, f"{fmt.format(lo)} – {fmt.format(hi)}", opacity=0.8, layer=layer)
            for lo, hi, c in zip(breaks[:-1], breaks[1:], colors, strict=True)]


def legend_html(sections: list[tuple[str, list[str]]], *, title: str = "凡例") -> str:
    """The legend box: ``(heading, rows)`` sections inside a collapsible ``<details>``."""
    body = "".join(f"<section><h4>{html.escape(h)}</h4>{''.join(rows)}</section>" for h, rows in sections if rows)
    return (f'<div class="scgeo-box scgeo-legend"><details open><summary>{html.escape(title)}</summary>'
            f"{body}</details></div>")


def title_html(title: str, subtitle: str) -> str:
    """The title box (top left, right of the zoom buttons)."""
    return (f'<div class="scgeo-box scgeo-title"><div class="t">{html.escape(title)}</div>'
            f'<div class="s">{subtitle}</div></div>')


class MapBox(MacroElement):
    """HTML placed on the map: a Leaflet control (``position``) or a box inside the map container.

    Parameters
    ----------
    html_text
        The box's HTML (already escaped).
    position
        ``topleft`` … ``bottomright`` for a control; ``None`` puts it in the map container as is
        (absolute positioning from CSS), with ``container_class`` added to the container.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function () { var html = {{ this.html_json }};"
        "{% if this.position %}"
        " var c = L.control({position: {{ this.position_json }}});"
        " c.onAdd = function () { var d = L.DomUtil.create('div'); d.innerHTML = html;"
        "  L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d); return d; };"
        " c.addTo({{ this._parent.get_name() }});"
        "{% else %}"
        " var el = {{ this._parent.get_name() }}.getContainer(); var d = document.createElement('div');"
        " d.innerHTML = html; el.appendChild(d.firstChild);"
        " {% if this.container_class %}el.classList.add({{ this.container_class_json }});{% endif %}"
        " L.DomEvent.disableClickPropagation(el.lastChild);"
        "{% endif %} })();"
        "{% endmacro %}"
    )

    def __init__(self, html_text: str, *, position: str | None = None, container_class: str | None = None) -> None:
        super().__init__()
        self._name = "MapBox"
        self.html_json = js_json(html_text)
        self.position = position
        self.position_json = js_json(position)
        self.container_class = container_class
        self.container_class_json = js_json(container_class)
