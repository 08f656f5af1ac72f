"""Geocoding addresses: one interface, several backends, a cache, match levels.

Backends: :class:`Gazetteer` (offline, from 位置参照情報-style town points),
:class:`JageocoderGeocoder` (a jageocoder dictionary or server) and :class:`GsiGeocoder`
(国土地理院 address search, online, off by default), named by a source string
(:func:`geocoder_from_source`: ``gazetteer:FILE``, ``jageocoder:DIR``, ``gsi``, ``town-blocks``).
:func:`geocode` drives any of them with
a cache and a progress callback; every result row has a match level (街区 / 町丁目 / 大字 /
市区町村 / 失敗) and ``coarse`` marks points placed at a town's centre or worse.

Examples
--------
>>> import pandas as pd
>>> gaz = Gazetteer(pd.DataFrame({"town": ["朝山町"], "lat": [35.33], "lon": [132.78]}))
>>> geocode(["出雲市朝山町978", "どこか"], gaz)["level"].tolist()
['大字', '失敗']
"""

from scgeo.geocode.base import (
    COARSE_LEVELS,
    LEVEL_CODES,
    LEVELS,
    GeocodeCache,
    Geocoder,
    MemoryCache,
    geocode,
    workspace_cache,
)
from scgeo.geocode.gazetteer import Gazetteer, write_gazetteer
from scgeo.geocode.normalise import normalise_address, normalise_addresses
from scgeo.geocode.remote import GsiGeocoder, JageocoderGeocoder
from scgeo.geocode.sources import default_source, geocoder_from_source, is_online, town_block_gazetteer

__all__ = [
    "COARSE_LEVELS",
    "LEVELS",
    "LEVEL_CODES",
    "Gazetteer",
    "GeocodeCache",
    "Geocoder",
    "GsiGeocoder",
    "JageocoderGeocoder",
    "MemoryCache",
    "default_source",
    "geocode",
    "geocoder_from_source",
    "is_online",
    "normalise_address",
    "normalise_addresses",
    "town_block_gazetteer",
    "workspace_cache",
    "write_gazetteer",
]
