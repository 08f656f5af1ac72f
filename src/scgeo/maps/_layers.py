"""folium elements written for this package: clustered category layers, labels, vector basemap.

Each element embeds compact JSON and calls the helpers of :mod:`scgeo.maps._assets`, so a
page with 20,000 resources stays small and keeps one toggleable layer per category.
"""

from __future__ import annotations

import json
from typing import ClassVar

import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from jinja2 import Template

from scgeo.maps._assets import PAGE_CSS, PAGE_JS

__all__ = ["ClickToPlace", "FitToFurniture", "Furniture", "Labels", "MetricScale", "PageAssets", "PointCluster",
           "Ready", "VectorLayer", "js_json", "round_geojson"]

_CLUSTER_CDN = "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"


def js_json(value) -> str:
    """JSON safe to place inside a ``<script>`` element (``<``, ``>``, ``&`` escaped)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def round_geojson(frame: gpd.GeoDataFrame, columns: list[str], *, grid_deg: float = 1e-5) -> dict:
    """A FeatureCollection of ``frame`` (EPSG:4326) with coordinates snapped to ``grid_deg``."""
    geoms = shapely.set_precision(frame.geometry.values, grid_deg, mode="pointwise")  # never collapses a line
    features = [
        {"type": "Feature", "geometry": json.loads(shapely.to_geojson(g)), "properties": props}
        for g, props in zip(geoms, frame[columns].to_dict("records"), strict=True)
        if g is not None and not g.is_empty
    ]
    return {"type": "FeatureCollection", "features": features}


class PageAssets(MacroElement):
    """The package's CSS and JavaScript helpers, written once into the page header."""

    def render(self, **kwargs):
        figure = self.get_root()
        assert isinstance(figure, Figure)
        figure.header.add_child(Element(f"<style>{PAGE_CSS}</style>"), name="scgeo_css")
        figure.header.add_child(Element(f"<script>{PAGE_JS}</script>"), name="scgeo_js")
        super().render(**kwargs)


class PointCluster(JSCSSMixin, Layer):
    """One category's resources as badge markers in a Leaflet.markercluster group.

    Parameters
    ----------
    spec
        ``code``, ``color``, ``letter``, ``fields`` (popup labels), ``nameIndex`` and ``rows``
        (``[lon, lat, stale, inactive, *values]``) as read by ``scgeo.points`` in the page.
    name
        The layer's name in the layer control.
    ids
        Resource IDs (one per row): clicking a marker then posts ``{scgeoResource: id}`` to
        ``window.parent`` (for an app that shows the map in a frame), and ``scgeo.show(ids)``
        (or a ``{scgeoShow: ids}`` message from the parent) shows only some. ``None``: neither.
    """

    default_js: ClassVar = [("markerclusterjs", _CLUSTER_CDN + "leaflet.markercluster.js")]
    default_css: ClassVar = [("markerclustercss", _CLUSTER_CDN + "MarkerCluster.css"),
                   ("markerclusterdefaultcss", _CLUSTER_CDN + "MarkerCluster.Default.css")]
    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{% if this.ids_json %}"  # opt-in: a click on a marker tells the page holding the map its resource ID
        "var {{ this.get_name() }} = (function (spec, ids) { var group = scgeo.points(spec); group._scgeoIds = ids;"
        " group.on('click', function (e) { var ll = e.layer.getLatLng(), t = e.layer.options.title;"
        "  for (var i = 0; i < spec.rows.length; i++) { var r = spec.rows[i];"
        "   if (r[0] === ll.lng && r[1] === ll.lat && (t === undefined || r[4 + spec.nameIndex] === t)) {"
        "    if (window.parent !== window) window.parent.postMessage({scgeoResource: ids[i]}, '*'); return; } } });"
        " return group; })(JSON.parse({{ this.spec_string }}), {{ this.ids_json }});"
        "{% else %}"
        "var {{ this.get_name() }} = scgeo.points(JSON.parse({{ this.spec_string }}));"
        "{% endif %}"
        "{% endmacro %}"
    )

    def __init__(self, spec: dict, *, name: str, show: bool = True, ids: list[str] | None = None) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "PointCluster"
        # a JSON string parsed at run time: much faster than a large object literal in the script
        self.spec_string = json.dumps(js_json(spec), ensure_ascii=False)
        self.ids_json = None if ids is None else js_json([str(i) for i in ids])


class VectorLayer(Layer):
    """GeoJSON lines or polygons styled per feature by a property (``style_by``) on a canvas.

    Parameters
    ----------
    data
        A GeoJSON FeatureCollection (EPSG:4326).
    styles
        Path style per value of the ``style_by`` property (``"*"`` for the rest).
    name
        Name in the layer control.
    overlay
        ``False`` makes it a base layer (the vector basemap).
    attribution
        Written in the map's attribution while the layer is shown.
    registry
        ``scgeo.<registry>[name]`` holds the layer in the page (for tests and scripts).
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = (function () {"
        " var styles = {{ this.styles_json }}, key = {{ this.style_by_json }};"
        " var layer = L.geoJSON(JSON.parse({{ this.data_string }}), {renderer: L.canvas({padding: 0.3}),"
        "  interactive: {{ this.interactive_json }},"
        "  style: function (f) { return styles[f.properties[key]] || styles['*']; }"
        "  {% if this.tooltip %}, onEachFeature: function (f, l) { if (f.properties.tip)"
        "   l.bindTooltip(scgeo.esc(f.properties.tip), {sticky: true}); }{% endif %}});"
        " var group = L.layerGroup([layer], {attribution: {{ this.attribution_json }}});"
        " scgeo[{{ this.registry_json }}][{{ this.layer_name_json }}] = group; return group; })();"
        "{% endmacro %}"
    )

    def __init__(self, data: dict, *, styles: dict[str, dict], name: str, style_by: str = "kind",
                 overlay: bool = True, show: bool = True, attribution: str | None = None,
                 registry: str = "overlays", tooltip: bool = False) -> None:
        super().__init__(name=name, overlay=overlay, control=True, show=show)
        self._name = "VectorLayer"
        # a JSON string parsed at run time: the streets are most of a page, and JSON.parse reads them
        # much faster than the same data as an object literal in the script
        self.data_string = json.dumps(js_json(data), ensure_ascii=False)
        self.styles_json = js_json(styles)
        self.style_by_json = js_json(style_by)
        self.attribution_json = js_json(attribution)
        self.registry_json = js_json(registry)
        self.layer_name_json = js_json(name)
        self.tooltip = tooltip
        self.interactive_json = "true" if tooltip else "false"


class Labels(MacroElement):
    """Permanent text labels (area names, counts) at given points, added to the parent layer.

    Parameters
    ----------
    points
        Label positions (EPSG:4326).
    texts
        One text per point.
    kind
        CSS class suffix (``living_area``, ``jhs_district``, ``town_block``, ``count``).
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this.data_json }}.forEach(function (d) {"
        " scgeo.label([d[1], d[0]], d[2], {{ this.kind_json }}).addTo({{ this._parent.get_name() }}); });"
        "{% endmacro %}"
    )

    def __init__(self, points: gpd.GeoSeries, texts, *, kind: str) -> None:
        super().__init__()
        self._name = "Labels"
        xy = np.round(shapely.get_coordinates(points.values), 6)
        self.data_json = js_json([[float(x), float(y), str(t)] for (x, y), t in zip(xy, texts, strict=True)])
        self.kind_json = js_json(kind)


class Ready(MacroElement):
    """Sets ``scgeo.ready`` (and ``scgeo.readyAt``, ms since navigation) once every layer is added."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "scgeo.map = {{ this._parent.get_name() }}; scgeo.ready = true; scgeo.readyAt = performance.now();"
        "{% endmacro %}"
    )


class Furniture(MacroElement):
    """Wires the legend to the layer list and the tile basemap to its offline fallback (``scgeo.furniture``).

    Parameters
    ----------
    control
        The map's ``folium.LayerControl`` (added before this element).
    tiles, vector
        The tile basemap shown first and the built-in street map to switch to when no tile loads;
        ``None`` for no fallback.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "scgeo.furniture({{ this._parent.get_name() }}, {{ this.control.get_name() }},"
        " {{ this.tiles.get_name() if this.tiles else 'null' }},"
        " {{ this.vector.get_name() if this.vector else 'null' }});"
        "{% endmacro %}"
    )

    def __init__(self, control, *, tiles=None, vector=None) -> None:
        super().__init__()
        self._name = "Furniture"
        self.control, self.tiles, self.vector = control, tiles, vector


class FitToFurniture(MacroElement):
    """Fits ``bounds`` (``[[south, west], [north, east]]``) into the map less its furniture (``scgeo.fit``).

    Added after the map's boxes and controls (and :class:`Furniture`, which folds the legend of a
    narrow map), so that the space reserved is what they cover on screen.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "scgeo.fit({{ this._parent.get_name() }}, {{ this.bounds_json }});"
        "{% endmacro %}"
    )

    def __init__(self, bounds) -> None:
        super().__init__()
        self._name = "FitToFurniture"
        self.bounds_json = js_json([[float(v) for v in corner] for corner in bounds])


class MetricScale(MacroElement):
    """A metric-only scale bar (folium's ``control_scale`` also shows feet and miles)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({metric: true, imperial: false, maxWidth: 160, position: \"bottomleft\"})"
        ".addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )


class ClickToPlace(MacroElement):
    """A click on the map marks the spot and posts ``{scgeoClick: {lat, lng}}`` to ``window.parent``.

    For an app that places a 位置未確定 row where the coordinator clicks. ``marker`` (lat, lon)
    draws the point chosen so far.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function (map) { var pin = null;"
        " function mark(ll) { if (pin) map.removeLayer(pin);"
        "  pin = L.circleMarker(ll, {radius: 9, color: '#c62828', weight: 3, fillColor: '#fff', fillOpacity: 0.6})"
        "   .bindTooltip('配置する位置', {permanent: true, direction: 'top', offset: [0, -8]}).addTo(map); }"
        " {% if this.marker_json %}mark({{ this.marker_json }});{% endif %}"
        " map.getContainer().style.cursor = 'crosshair';"
        " map.on('click', function (e) { mark(e.latlng); scgeo.placed = [e.latlng.lat, e.latlng.lng];"
        "  if (window.parent !== window) window.parent.postMessage("
        "   {scgeoClick: {lat: e.latlng.lat, lng: e.latlng.lng}}, '*'); });"
        "})({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )

    def __init__(self, marker: tuple[float, float] | None = None) -> None:
        super().__init__()
        self._name = "ClickToPlace"
        self.marker_json = None if marker is None else js_json([float(marker[0]), float(marker[1])])
