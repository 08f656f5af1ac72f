"""Geocoders that need a dictionary or a network: jageocoder and the 国土地理院 address search.

Neither is used unless the user creates it. The online one sends addresses to a public
service: use it only for addresses that are not personal data (resources, not needs), and
mind its terms (one request per ``min_interval_s``).
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Sequence

import pandas as pd

from scgeo._errors import InputError
from scgeo.geocode.base import empty_result
from scgeo.geocode.normalise import normalise_address

__all__ = ["GSI_URL", "GsiGeocoder", "JageocoderGeocoder", "jageocoder_level"]

GSI_URL = "https://msearch.gsi.go.jp/address-search/AddressSearch"
_USER_AGENT = "scgeo (community resource maps for life-support coordinators)"  # ASCII only


def jageocoder_level(level: int) -> str:
    """Our match level for a jageocoder ``AddressLevel`` (1 都道府県 … 7 街区, 8 住居番号)."""
    if level >= 8:
        return "番地"
    if level == 7:
        return "街区"
    if level == 6:
        return "町丁目"
    if level == 5:
        return "大字"
    if level >= 3:
        return "市区町村"
    return "失敗"


class JageocoderGeocoder:
    """`jageocoder <https://t-sagara.github.io/jageocoder/>`_ as a backend.

    Parameters
    ----------
    db_dir
        A jageocoder dictionary installed on this machine (``jageocoder install-dictionary``).
    url
        Or a jageocoder server (``https://…/jsonrpc``); the JSON-RPC call is the one
        jageocoder's own ``RemoteTree`` makes (method ``jageocoder.searchNode``).
    timeout_s
        Seconds to wait for the server.
    """

    name = "jageocoder"

    def __init__(self, *, db_dir: str | None = None, url: str | None = None,
                 timeout_s: float = 30.0) -> None:
        if (db_dir is None) == (url is None):
            raise InputError("jageocoder には辞書のフォルダ (db_dir) かサーバーの URL (url) の"
                             "どちらか一方を指定してください。")
        self.db_dir, self.url, self.timeout_s = db_dir, url, timeout_s
        self._ready = False

    def _search_local(self, query: str) -> list[dict]:
        try:
            import jageocoder
        except ImportError as exc:
            raise InputError("jageocoder が入っていません。`pip install scgeo[geocode]` で"
                             "入れてください。") from exc
        if not self._ready:
            jageocoder.init(db_dir=self.db_dir, mode="r")
            self._ready = True
        result = jageocoder.search(query)
        if not result.get("candidates"):
            return []
        return [{"node": result["candidates"][0], "matched": result["matched"]}]

    def _search_remote(self, query: str) -> list[dict]:
        payload = {"jsonrpc": "2.0", "method": "jageocoder.searchNode",
                   "params": {"query": query, "config": {}}, "id": str(uuid.uuid4())}
        request = urllib.request.Request(self.url, data=json.dumps(payload).encode(),
                                         headers={"Content-Type": "application/json",
                                                  "User-Agent": _USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                body = json.loads(response.read().decode("utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"jageocoder サーバー {self.url} に接続できません。({exc})") from exc
        if "error" in body:
            raise InputError(f"jageocoder サーバーがエラーを返しました: {body['error']}")
        return body.get("result") or []

    def geocode(self, addresses: Sequence[str]) -> pd.DataFrame:
        """Geocode with jageocoder; one row per address, failures kept."""
        out = empty_result(addresses)
        search = self._search_remote if self.url else self._search_local
        for pos, address in enumerate(out["address"]):
            if not address.strip():
                continue
            hits = search(address)
            if not hits:
                continue
            node = hits[0]["node"]
            level = jageocoder_level(int(node.get("level", 0)))
            if level == "失敗":
                continue
            out.loc[pos, ["lat", "lon", "level", "matched"]] = [
                float(node["y"]), float(node["x"]), level, hits[0].get("matched")]
        return out


class GsiGeocoder:
    """The 国土地理院 address search API (online; off unless you create it).

    ``GET {url}?q=ADDRESS`` returns ``[{"geometry": {"coordinates": [lon, lat]},
    "properties": {"title": …}}]``. The service gives no match level: it is inferred from
    the returned title (a 丁目 or a house number in it → 町丁目 / 街区).

    Parameters
    ----------
    url
        The endpoint (change it to test against a local server).
    min_interval_s
        Minimum seconds between two requests (rate limit).
    """

    name = "gsi"

    def __init__(self, *, url: str = GSI_URL, min_interval_s: float = 1.0,
                 timeout_s: float = 30.0) -> None:
        self.url, self.min_interval_s, self.timeout_s = url, min_interval_s, timeout_s
        self._last = 0.0

    def _get(self, address: str) -> list:
        wait = self._last + self.min_interval_s - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        query = urllib.parse.urlencode({"q": address})
        request = urllib.request.Request(f"{self.url}?{query}", headers={"User-Agent": _USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read().decode("utf-8")) or []
        except (OSError, ValueError) as exc:
            raise InputError(f"国土地理院の住所検索 ({self.url}) に接続できません。({exc})") from exc
        finally:
            self._last = time.monotonic()

    def geocode(self, addresses: Sequence[str]) -> pd.DataFrame:
        """Geocode online, one request per address, rate-limited."""
        out = empty_result(addresses)
        for pos, address in enumerate(out["address"]):
            if not address.strip():
                continue
            hits = self._get(address)
            if not hits:
                continue
            lon, lat = hits[0]["geometry"]["coordinates"][:2]
            title = hits[0].get("properties", {}).get("title", "")
            key = normalise_address(title)
            level = ("街区" if any(c.isdigit() for c in key.split("丁目")[-1]) else
                     "町丁目" if "丁目" in key else "大字")
            out.loc[pos, ["lat", "lon", "level", "matched"]] = [float(lat), float(lon), level, title]
        return out
