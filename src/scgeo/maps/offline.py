"""Self-contained HTML: Leaflet's JS, CSS and images inlined from installed packages.

A plain folium page loads Leaflet from a CDN and is blank offline ("L is not defined").
:func:`offline_html` renders the map with Leaflet taken from the ``xstatic-leaflet`` package
and refuses to produce a page that still needs the network for its scripts or styles.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from scgeo._errors import ScgeoError

__all__ = ["OfflineAssetError", "leaflet_assets", "offline_html", "save_offline"]


class OfflineAssetError(ScgeoError):
    """A map needs a script or style sheet that no installed package provides."""


def leaflet_assets() -> tuple[str, str]:
    """Leaflet's JavaScript and CSS (images as data URIs) from ``xstatic-leaflet``."""
    try:
        import xstatic.pkg.leaflet as xleaflet
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise OfflineAssetError("xstatic-leaflet がインストールされていません: pip install xstatic-leaflet") from exc
    base = Path(xleaflet.BASE_DIR)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match) -> str:
        image = base / match.group(1)
        data = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/{image.suffix.lstrip('.')};base64,{data})"

    css = re.sub(r"url\((images/[\w.-]+\.(?:png|svg))\)", inline, css)
    return js, css.replace("image/svg;", "image/svg+xml;")


_SCRIPT = re.compile(r'<script src="(https?://[^"]+)"></script>\s*')
_STYLE = re.compile(r'<link rel="stylesheet" href="(https?://[^"]+)"/>\s*')


def offline_html(folium_map) -> str:
    """Render ``folium_map`` to one HTML string that needs no network for its code.

    Every external script and style sheet is replaced by the inlined copy from an installed
    package; one that cannot be provided raises :class:`OfflineAssetError` rather than
    producing a page that is blank offline. Tiles still load from their servers when online.
    """
    html = folium_map.get_root().render()
    js, css = leaflet_assets()
    missing: list[str] = []

    def script(match: re.Match) -> str:
        url = match.group(1)
        if re.search(r"/leaflet(@[\d.]+)?/dist/leaflet\.js$", url):
            return f"<script>{js}</script>\n"
        missing.append(url)
        return match.group(0)

    def style(match: re.Match) -> str:
        url = match.group(1)
        if re.search(r"/leaflet(@[\d.]+)?/dist/leaflet\.css$", url):
            return f"<style>{css}</style>\n"
        missing.append(url)
        return match.group(0)

    html = _STYLE.sub(style, _SCRIPT.sub(script, html))
    if missing:
        raise OfflineAssetError("オフラインで使えない外部ファイルがあります: " + ", ".join(missing))
    return html


def save_offline(folium_map, path: str | Path) -> Path:
    """Write :func:`offline_html` of ``folium_map`` to ``path`` (UTF-8) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(offline_html(folium_map), encoding="utf-8")
    return path
