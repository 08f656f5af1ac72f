"""Rendering: the 地域資源マップ as folium HTML (online or self-contained offline) and print maps.

``scgeo.maps.static.print_map`` (matplotlib, PDF/PNG) is imported on demand.
"""

from scgeo.maps.council import council_map, export_council_map, select_area
from scgeo.maps.offline import offline_html, save_offline
from scgeo.maps.placement import placement_map
from scgeo.maps.resource_map import VECTOR_BASEMAP, resource_map

__all__ = ["VECTOR_BASEMAP", "council_map", "export_council_map", "offline_html", "placement_map", "resource_map",
           "save_offline", "select_area"]
