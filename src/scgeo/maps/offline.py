"""Self-contained HTML: Leaflet and its plugins inlined from installed Python packages.

A plain folium page loads Leaflet from a CDN and is blank offline ("L is not defined").
:func:`offline_html` renders the map with Leaflet taken from ``xstatic-leaflet`` and
Leaflet.markercluster from ``xstatic-leaflet-markercluster``, and refuses to produce a page
that still needs the network for its scripts or styles.
"""

from __future__ import annotations

import base64
import functools
import re
from pathlib import Path

from scgeo._errors import ScgeoError

__all__ = [
    "OfflineAssetError", "leaflet_assets", "leaflet_only", "markercluster_assets", "offline_html", "save_offline",
]


class OfflineAssetError(ScgeoError):
    """A map needs a script or style sheet that no installed package provides."""


def _package_dir(module: str, pip_name: str) -> Path:
    try:
        package = __import__(module, fromlist=["BASE_DIR"])
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise OfflineAssetError(f"{pip_name} がインストールされていません: pip install {pip_name}") from exc
    return Path(package.BASE_DIR)


@functools.cache
def leaflet_assets() -> tuple[str, str]:
    """Leaflet's JavaScript and CSS (images as data URIs) from ``xstatic-leaflet``."""
    base = _package_dir("xstatic.pkg.leaflet", "xstatic-leaflet")
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match) -> str:
        image = base / match.group(1)
        data = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/{image.suffix.lstrip('.')};base64,{data})"

    css = re.sub(r"url\((images/[\w.-]+\.(?:png|svg))\)", inline, css)
    return js, css.replace("image/svg;", "image/svg+xml;")


@functools.cache
def markercluster_assets() -> tuple[str, str, str]:
    """Leaflet.markercluster's JavaScript, ``MarkerCluster.css`` and ``MarkerCluster.Default.css``."""
    base = _package_dir("xstatic.pkg.leaflet_markercluster", "xstatic-leaflet-markercluster")
    js = (base / "leaflet.markercluster.js").read_text(encoding="utf-8")
    js = re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", js)  # the map file is not inlined
    return (js, (base / "MarkerCluster.css").read_text(encoding="utf-8"),
            (base / "MarkerCluster.Default.css").read_text(encoding="utf-8"))


# (pattern of a CDN URL, function giving the inlined text, kind)
_ASSETS = (
    (r"/leaflet(@[\d.]+)?/dist/leaflet\.js$", lambda: leaflet_assets()[0]),
    (r"/leaflet(@[\d.]+)?/dist/leaflet\.css$", lambda: leaflet_assets()[1]),
    (r"/leaflet\.markercluster(@[\d.]+|/[\d.]+)?(/dist)?/leaflet\.markercluster(-src)?\.js$",
     lambda: markercluster_assets()[0]),
    (r"/leaflet\.markercluster(@[\d.]+|/[\d.]+)?(/dist)?/MarkerCluster\.css$", lambda: markercluster_assets()[1]),
    (r"/leaflet\.markercluster(@[\d.]+|/[\d.]+)?(/dist)?/MarkerCluster\.Default\.css$",
     lambda: markercluster_assets()[2]),
)
_SCRIPT = re.compile(r'<script src="(https?://[^"]+)"></script>\s*')
_STYLE = re.compile(r'<link rel="stylesheet" href="(https?://[^"]+)"/>\s*')


def _inline(url: str) -> str | None:
    for pattern, text in _ASSETS:
        if re.search(pattern, url):
            return text()
    return None


def leaflet_only(folium_map):
    """Drop folium's default jQuery, Bootstrap and icon-font links (CDN-only) from ``folium_map``.

    Plain folium maps load them for awesome-markers and popups styling; pages made here need
    none of them. Returns the map.
    """
    folium_map.default_js = [(n, u) for n, u in folium_map.default_js if n == "leaflet"]
    folium_map.default_css = [(n, u) for n, u in folium_map.default_css if n == "leaflet_css"]
    return folium_map


def offline_html(folium_map) -> str:
    """Render ``folium_map`` to one HTML string that needs no network for its code.

    Every external script and style sheet is replaced by the inlined copy from an installed
    package (Leaflet, Leaflet.markercluster); one that cannot be provided raises
    :class:`OfflineAssetError` rather than producing a page that is blank offline. Tiles still
    load from their servers when online and fail quietly when not.

    Parameters
    ----------
    folium_map
        A ``folium.Map`` (for example from :func:`scgeo.maps.resource_map`).

    Returns
    -------
    str
        The whole page.
    """
    html = folium_map.get_root().render()
    missing: list[str] = []

    def script(match: re.Match) -> str:
        text = _inline(match.group(1))
        if text is None or not match.group(1).endswith(".js"):
            missing.append(match.group(1))
            return match.group(0)
        return f"<script>{text}</script>\n"

    def style(match: re.Match) -> str:
        text = _inline(match.group(1))
        if text is None or not match.group(1).endswith(".css"):
            missing.append(match.group(1))
            return match.group(0)
        return f"<style>{text}</style>\n"

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
