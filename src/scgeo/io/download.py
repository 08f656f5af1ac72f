"""Downloaders for users with internet: 国土数値情報 zips and the OpenStreetMap walking network.

Nothing here runs unless called. Every download lands in a cache folder and is reused on the
next call (delete the file to fetch it again). URLs are parameters, so a city can point at a
mirror, and the tests point them at a server on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
import zipfile
from pathlib import Path

from scgeo._errors import InputError

__all__ = ["KSJ_URL_TEMPLATE", "download_ksj", "download_osm_network"]

# e.g. https://nlftp.mlit.go.jp/ksj/gml/data/A32/A32-23/A32-23_32_GML.zip
KSJ_URL_TEMPLATE = ("https://nlftp.mlit.go.jp/ksj/gml/data/{dataset}/{dataset}-{year}/"
                    "{dataset}-{year}_{pref:02d}_GML.zip")
_USER_AGENT = "scgeo (community resource maps for life-support coordinators)"


def _default_cache() -> Path:
    return Path(os.environ.get("SCGEO_CACHE", Path.home() / ".cache" / "scgeo"))


def download_ksj(dataset: str, pref_code: int | str, *, year: str | int,
                 cache_dir: str | Path | None = None, url_template: str = KSJ_URL_TEMPLATE,
                 timeout_s: float = 120.0) -> Path:
    """Download a 国土数値情報 zip for one prefecture (cached).

    Parameters
    ----------
    dataset
        ``A32`` (中学校区), ``A27`` (小学校区), ``N03`` (行政区域), ``P14``, ``P04`` …
    pref_code
        Prefecture code (1–47; ``32`` = 島根県).
    year
        The release as written in the file name (``23`` for A32-23, ``2024`` for N03 …).
    cache_dir
        Where zips are kept (default ``$SCGEO_CACHE`` or ``~/.cache/scgeo``).
    url_template
        Format string with ``{dataset}``, ``{year}``, ``{pref}`` (int) — releases differ in
        naming; check the download page of the dataset and adjust.

    Returns
    -------
    pathlib.Path
        The zip on disk (read it with :func:`scgeo.io.read_ksj_school_districts` …).
    """
    pref = int(pref_code)
    if not 1 <= pref <= 47:
        raise InputError(f"都道府県コード {pref_code} は 1〜47 で指定してください。")
    url = url_template.format(dataset=dataset, year=year, pref=pref)
    folder = Path(cache_dir or _default_cache()) / "ksj"
    target = folder / Path(url.split("?")[0]).name
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response, tmp.open("wb") as out:
            while chunk := response.read(1 << 20):
                out.write(chunk)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"国土数値情報 {url} をダウンロードできません。URL (年度・ファイル名) と"
                         f"インターネット接続を確認してください。({exc})") from exc
    if not zipfile.is_zipfile(tmp):
        tmp.unlink(missing_ok=True)
        raise InputError(f"{url} から zip ファイルではないものが届きました。URL を確認してください。")
    tmp.replace(target)
    return target


def download_osm_network(*, place: str | None = None, polygon: object = None,
                         cache_dir: str | Path | None = None, network_type: str = "walk",
                         overpass_url: str | None = None, nominatim_url: str | None = None,
                         timeout_s: float = 180.0) -> Path:
    """Download the OpenStreetMap walking network of a place or polygon as GraphML (cached).

    Parameters
    ----------
    place
        A place name for Nominatim (``"出雲市, 島根県"``), or
    polygon
        A shapely polygon in EPSG:4326/6668 (e.g. the municipality from the workspace).
    network_type
        osmnx network type (``walk`` by default).
    overpass_url, nominatim_url
        Endpoints (osmnx's defaults when omitted); osmnx's settings are restored afterwards.

    Returns
    -------
    pathlib.Path
        The GraphML file (``osm_walk_<hash>.graphml`` in the cache folder).
    """
    if (place is None) == (polygon is None):
        raise InputError("place (地名) か polygon (範囲) のどちらか一方を指定してください。")
    try:
        import osmnx as ox
    except ImportError as exc:
        raise InputError("osmnx が入っていません。`pip install osmnx` で入れてください。") from exc
    key = json.dumps({"place": place, "wkt": getattr(polygon, "wkt", None),
                      "type": network_type, "overpass": overpass_url}, ensure_ascii=False)
    folder = Path(cache_dir or _default_cache()) / "osm"
    target = folder / f"osm_{network_type}_{hashlib.sha1(key.encode()).hexdigest()[:16]}.graphml"
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    names = ("overpass_url", "nominatim_url", "cache_folder", "use_cache", "requests_timeout",
             "overpass_rate_limit", "log_console")
    saved = {name: getattr(ox.settings, name) for name in names}
    try:
        if overpass_url:
            ox.settings.overpass_url = overpass_url
        if nominatim_url:
            ox.settings.nominatim_url = nominatim_url
        ox.settings.cache_folder = str(folder / "http")
        ox.settings.use_cache = True
        ox.settings.requests_timeout = timeout_s
        ox.settings.log_console = False
        if overpass_url and overpass_url.startswith(("http://127.", "http://localhost")):
            ox.settings.overpass_rate_limit = False  # a local server has no /status slots
        if place is not None:
            graph = ox.graph_from_place(place, network_type=network_type)
        else:
            graph = ox.graph_from_polygon(polygon, network_type=network_type)
    except Exception as exc:  # osmnx raises many kinds (network, empty response, bad place)
        raise InputError(f"OpenStreetMap の道路網を取得できません({place or '指定の範囲'})。"
                         f"地名・範囲とインターネット接続を確認してください。({exc})") from exc
    finally:
        for name, value in saved.items():
            setattr(ox.settings, name, value)
    ox.save_graphml(graph, target)
    return target
