"""Geocoding sources named as the CLI and the app name them, and a workspace's default source.

A source is written ``gazetteer:FILE[,FILE…]`` (位置参照情報 CSV, Geolonia JSON, a file made
by ``scgeo gazetteer``), ``jageocoder:DIR`` or ``jageocoder:URL``, ``gsi`` (国土地理院 address
search, online; ``gsi:URL`` for another endpoint) or ``town-blocks`` (the workspace's own
町丁目 names and representative points: zero set-up for a workspace built from e-Stat data).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scgeo._errors import InputError
from scgeo.geocode.base import Geocoder
from scgeo.geocode.gazetteer import Gazetteer
from scgeo.geocode.remote import GsiGeocoder, JageocoderGeocoder
from scgeo.settings import get_settings

__all__ = ["SOURCE_HELP", "default_source", "geocoder_from_source", "is_online",
           "town_block_gazetteer"]

SOURCE_HELP = ("gazetteer:FILE[,FILE…] (位置参照情報の CSV・Geolonia の JSON・scgeo gazetteer で作った"
               "ファイル)、jageocoder:DIR か jageocoder:URL、gsi (国土地理院の住所検索、インターネット)、"
               "town-blocks (ワークスペースの町丁目の名前と代表点)")
META_KEY = "geocode_source"


def is_online(source: str | None) -> bool:
    """True for a source that sends addresses over the network (``gsi``, a jageocoder URL)."""
    kind, _, arg = (source or "").partition(":")
    return kind == "gsi" or (kind == "jageocoder" and arg.startswith(("http://", "https://")))


def town_block_gazetteer(workspace) -> Gazetteer:
    """A gazetteer of the workspace's town blocks: name and a point inside each polygon.

    The municipality's name (workspace meta) is the city, so 「出雲市今市町…」 and
    「今市町…」 both match.
    """
    blocks = workspace.areas("town_block")
    if not len(blocks):
        raise InputError("ワークスペースに町丁目 (town_blocks) がないため、town-blocks では位置を"
                         "求められません。先に町丁目を取り込むか、gazetteer:FILE を指定してください。")
    points = blocks.geometry.representative_point()
    return Gazetteer(pd.DataFrame({"city": workspace.meta().get("muni_name") or "",
                                   "town": blocks["name"].astype(str), "lat": points.y.to_numpy(),
                                   "lon": points.x.to_numpy()}))


def geocoder_from_source(source: str, *, workspace=None) -> Geocoder:
    """The geocoder a source string names (see the module docstring).

    Raises ``InputError`` with the accepted forms when the string is not one of them.
    """
    kind, _, arg = source.strip().partition(":")
    if kind == "gazetteer" and arg:
        return Gazetteer.from_files([p for p in arg.split(",") if p])
    if kind == "jageocoder" and arg:
        if arg.startswith(("http://", "https://")):
            return JageocoderGeocoder(url=arg)
        if not Path(arg).is_dir():
            raise InputError(f"jageocoder の辞書のフォルダ {arg} が見つかりません。"
                             "`jageocoder install-dictionary` で入れたフォルダを指定してください。")
        return JageocoderGeocoder(db_dir=arg)
    if kind == "gsi":
        return GsiGeocoder(url=arg) if arg else GsiGeocoder()
    if kind == "town-blocks" and not arg:
        if workspace is None:
            raise InputError("town-blocks にはワークスペースが必要です。")
        return town_block_gazetteer(workspace)
    raise InputError(f"位置の求め方 (--geocode)「{source}」が分かりません。次のいずれかにしてください: {SOURCE_HELP}")


def default_source(workspace) -> str | None:
    """The source used when none is given: the workspace's own (meta ``geocode_source``), else
    ``geocode_source`` in ``scgeo.toml``, else ``town-blocks`` when the workspace has town
    blocks, else ``None``. An online source is never a default unless stored explicitly.
    """
    stored = workspace.meta().get(META_KEY) if workspace is not None else None
    if stored:
        return stored
    configured = get_settings().geocode_source
    if configured:
        return configured
    if workspace is not None and workspace.count("areas") and len(workspace.areas("town_block")):
        return "town-blocks"
    return None
