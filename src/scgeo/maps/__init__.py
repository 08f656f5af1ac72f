"""Rendering: the 地域資源マップ as folium HTML (online or self-contained offline)."""

from scgeo.maps.offline import offline_html, save_offline
from scgeo.maps.resource_map import resource_map

__all__ = ["offline_html", "resource_map", "save_offline"]
