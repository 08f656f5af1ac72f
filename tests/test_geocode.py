"""Geocoding: the offline gazetteer on real 町丁目 points, cache, progress, and the
jageocoder / 国土地理院 backends against loopback HTTP servers (never the internet)."""

import json
import re
import threading
import time
import unicodedata
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pandas as pd
import pytest

from scgeo import InputError
from scgeo.geocode import (
    COARSE_LEVELS,
    Gazetteer,
    GeocodeCache,
    Geocoder,
    GsiGeocoder,
    JageocoderGeocoder,
    geocode,
    workspace_cache,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ADDRESSES = DATA / "geolonia_addresses"
CITIES = {"福岡県_大牟田市.json": 245, "大阪府_枚方市.json": 395, "島根県_出雲市.json": 224}
_NUMERALS = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四",
             "十五", "十六", "十七", "十八", "十九", "二十"]
_ARABIC = {k: str(i) for i, k in enumerate(_NUMERALS, 1)}


def _files():
    if not ADDRESSES.is_dir():
        pytest.skip("shared data (../shared/data) is not available")
    return [ADDRESSES / name for name in CITIES]


@pytest.fixture(scope="module")
def gazetteer():
    return Gazetteer.from_files(_files())


def _variant(town: str, i: int) -> str:
    """A differently typed spelling of ``town``: arabic 丁目 (full or half width), no 大字."""
    typed = re.sub(r"([一二三四五六七八九十]+)(?=丁目)", lambda m: _ARABIC[m.group(1)], town)
    if i % 2:
        typed = unicodedata.normalize("NFKC", typed).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return typed.replace("大字", "") if i % 3 == 0 else typed


@pytest.mark.parametrize("name", list(CITIES))
def test_every_real_town_is_found_from_a_typed_variant(name):
    path = next(p for p in _files() if p.name == name)
    towns = pd.DataFrame(json.loads(path.read_text(encoding="utf-8")))
    assert len(towns) == CITIES[name]
    city = path.stem.split("_")[1]
    gaz = Gazetteer.from_file(path)
    names = set(towns["town"])
    # 「大字尊延寺」 next to 「尊延寺一丁目」 (枚方市): without 大字, 「尊延寺1-1」 is 1丁目
    keep_oaza = [t.startswith("大字") and f"{t[2:]}一丁目" in names for t in towns["town"]]
    queries = [f"{city} {t + k if keep else _variant(t + k, i)}{i % 7 + 1}-{i % 5 + 1}"
               for i, (t, k, keep) in enumerate(zip(towns["town"], towns["koaza"], keep_oaza,
                                                    strict=True))]
    result = geocode(queries, gaz)
    assert (result["matched"] == (towns["town"] + towns["koaza"])).all(), \
        result.loc[result["matched"] != towns["town"] + towns["koaza"], ["address", "matched"]]
    # the point is the gazetteer's own point for that town (an independent lookup)
    own = towns.assign(name=towns["town"] + towns["koaza"]).drop_duplicates("name")
    expected = own.set_index("name").loc[result["matched"]]
    dup = towns.duplicated(["town", "koaza"], keep=False).to_numpy()
    assert np.allclose(result.loc[~dup, "lat"], expected.loc[~dup, "lat"].to_numpy())
    assert np.allclose(result.loc[~dup, "lon"], expected.loc[~dup, "lng"].to_numpy())
    chome = towns["town"].str.contains("丁目").to_numpy()
    assert (result.loc[chome, "level"] == "町丁目").all()


def test_brief_example_both_spellings_reach_the_same_chome(gazetteer):
    result = geocode(["大牟田市 南船津町3丁目1-2", "南船津町三丁目１番２号", "南船津町３－１－２"],
                     gazetteer)
    assert set(result["matched"]) == {"南船津町三丁目"}
    assert result["lat"].nunique() == 1 and set(result["level"]) == {"町丁目"}
    assert result["coarse"].all()


def test_oaza_and_chome_of_the_same_name(gazetteer):
    """枚方市 has both 大字尊延寺 and 尊延寺一丁目: 「大字」 decides, else 1-1 means 一丁目1番."""
    result = geocode(["枚方市大字尊延寺1-1", "枚方市尊延寺1-1", "枚方市尊延寺一丁目1番"], gazetteer)
    assert list(result["matched"]) == ["大字尊延寺", "尊延寺一丁目", "尊延寺一丁目"]
    assert list(result["level"]) == ["大字", "町丁目", "町丁目"]


def test_levels_city_fallback_failures_kept(gazetteer):
    addresses = ["出雲市朝山町978", "大牟田市どこにもない町1-1", "東京都千代田区千代田1-1", "",
                 None, "出雲市朝山町978"]
    result = geocode(addresses, gazetteer)
    assert list(result["level"]) == ["大字", "市区町村", "失敗", "失敗", "失敗", "大字"]
    assert result.loc[1, "matched"] == "大牟田市"
    assert len(result) == len(addresses)  # unresolved rows are kept, never dropped
    assert result.loc[2:4, "lat"].isna().all() and not result.loc[2:4, "coarse"].any()


def test_ambiguous_town_resolved_by_city():
    places = pd.DataFrame({"city": ["甲市", "乙市"], "town": ["本町", "本町"],
                           "lat": [35.0, 34.0], "lon": [135.0, 134.0]})
    gaz = Gazetteer(places)
    result = geocode(["乙市本町1-1", "甲市本町1-1"], gaz)
    assert list(result["lat"]) == [34.0, 35.0]


def test_block_level_from_a_position_reference_table(tmp_path):
    """位置参照情報 街区レベル CSV (cp932): 街区 matches, else the town's mean point."""
    header = ["都道府県名", "市区町村名", "大字・丁目名", "小字・通称名", "街区符号・地番",
              "座標系番号", "Ｘ座標", "Ｙ座標", "緯度", "経度", "住居表示フラグ", "代表フラグ",
              "更新前履歴フラグ", "更新後履歴フラグ"]
    rows = [["福岡県", "大牟田市", "南船津町三丁目", "", "1", "2", "0", "0", "33.0100", "130.4400",
             "1", "1", "0", "0"],
            ["福岡県", "大牟田市", "南船津町三丁目", "", "2", "2", "0", "0", "33.0120", "130.4420",
             "1", "1", "0", "0"]]
    path = tmp_path / "40202_2023.csv"
    path.write_bytes("\n".join(",".join(r) for r in [header, *rows]).encode("cp932"))
    gaz = Gazetteer.from_file(path)
    result = geocode(["大牟田市南船津町3丁目2番5号", "南船津町三丁目9-9", "南船津町３－１－２"], gaz)
    assert list(result["level"]) == ["街区", "町丁目", "街区"]
    assert result.loc[0, "lat"] == 33.012 and result.loc[0, "matched"] == "南船津町三丁目2番"
    assert result.loc[1, "lat"] == pytest.approx(33.011)  # mean of the blocks
    assert not result.loc[0, "coarse"] and result.loc[1, "coarse"]


def test_gazetteer_needs_town_and_coordinates():
    with pytest.raises(InputError, match="町名"):
        Gazetteer(pd.DataFrame({"foo": [1]}))


class _Counting:
    name = "counting"

    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def geocode(self, addresses):
        self.calls += len(addresses)
        return self.inner.geocode(addresses)


def test_cache_and_progress(gazetteer, tmp_path):
    backend = _Counting(gazetteer)
    assert isinstance(backend, Geocoder)
    cache = GeocodeCache(tmp_path / "c.sqlite")
    seen = []
    addresses = [f"出雲市朝山町{i}" for i in range(120)] + ["出雲市朝山町1", "架空"]
    first = geocode(addresses, backend, cache=cache, progress=lambda d, t: seen.append((d, t)),
                    chunk_size=50)
    assert backend.calls == 121  # duplicates geocoded once
    assert seen[0] == (0, 121) and seen[-1] == (121, 121) and len(seen) == 4
    again = geocode(addresses, backend, cache=GeocodeCache(tmp_path / "c.sqlite"))
    assert backend.calls == 121  # everything from the file cache, failures included
    pd.testing.assert_frame_equal(first, again)


def test_workspace_cache_is_a_sidecar_file(tmp_path):
    cache = workspace_cache(tmp_path / "izumo.gpkg")
    assert cache.path == tmp_path / "izumo.geocache.sqlite" and cache.path.is_file()


# ---------------------------------------------------------------- loopback servers


@pytest.fixture
def server():
    """A loopback HTTP server; ``server.routes[path] = handler(method, query, body) -> obj``."""
    routes, log = {}, []

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, method):
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            log.append((method, self.path, body, time.monotonic()))
            payload = json.dumps(routes[url.path](method, parse_qs(url.query), body),
                                 ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self):
            self._reply("GET")

        def do_POST(self):
            self._reply("POST")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.routes, httpd.log = routes, log
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_jageocoder_json_rpc_server_double(server):
    def rpc(method, query, body):
        request = json.loads(body)
        assert request["jsonrpc"] == "2.0" and request["method"] == "jageocoder.searchNode"
        q = request["params"]["query"]
        if "朝山町" in q:
            node = {"id": 1, "name": "978番地", "x": 132.7772, "y": 35.3262, "level": 7}
            return {"jsonrpc": "2.0", "id": request["id"],
                    "result": [{"node": node, "matched": "島根県出雲市朝山町978"}]}
        if "出雲市" in q:
            node = {"id": 2, "name": "出雲市", "x": 132.75, "y": 35.36, "level": 3}
            return {"jsonrpc": "2.0", "id": request["id"],
                    "result": [{"node": node, "matched": "島根県出雲市"}]}
        return {"jsonrpc": "2.0", "id": request["id"], "result": []}

    server.routes["/jsonrpc"] = rpc
    backend = JageocoderGeocoder(url=f"{server.url}/jsonrpc")
    result = geocode(["島根県出雲市朝山町978", "出雲市どこか", "架空県"], backend)
    assert list(result["level"]) == ["街区", "市区町村", "失敗"]
    assert result.loc[0, "lat"] == 35.3262 and result.loc[0, "lon"] == 132.7772
    assert result.loc[0, "matched"] == "島根県出雲市朝山町978"
    assert list(result["coarse"]) == [False, True, False]


def test_jageocoder_needs_one_source():
    with pytest.raises(InputError, match="db_dir"):
        JageocoderGeocoder()


def test_gsi_online_backend_against_loopback_with_rate_limit(server):
    def search(method, query, body):
        q = query["q"][0]
        if "南船津町" in q:
            return [{"geometry": {"coordinates": [130.4336, 33.0069], "type": "Point"},
                     "type": "Feature", "properties": {"addressCode": "", "title": "福岡県大牟田市南船津町三丁目"}}]
        return []

    server.routes["/address-search/AddressSearch"] = search
    backend = GsiGeocoder(url=f"{server.url}/address-search/AddressSearch", min_interval_s=0.2)
    result = geocode(["大牟田市南船津町3-1-2", "架空町"], backend)
    assert list(result["level"]) == ["町丁目", "失敗"]
    assert result.loc[0, "lat"] == 33.0069 and result.loc[0, "lon"] == 130.4336
    times = [t for _, _, _, t in server.log]
    assert times[1] - times[0] >= 0.19  # rate limit between requests
    assert "q=" in server.log[0][1]
    assert set(COARSE_LEVELS) >= {result.loc[0, "level"]}


def test_jageocoder_local_dictionary_path(monkeypatch, tmp_path):
    """The installed-dictionary path, with jageocoder's module functions stubbed (no dictionary
    can be built offline); checks the calls and the level mapping of its search result."""
    import jageocoder

    calls = []
    monkeypatch.setattr(jageocoder, "init", lambda **kw: calls.append(kw))

    def search(query):
        if "南船津町" in query:
            return {"matched": "福岡県大牟田市南船津町三丁目",
                    "candidates": [{"id": 5, "name": "三丁目", "x": 130.4336, "y": 33.0069,
                                    "level": 6}]}
        return {"matched": "", "candidates": []}

    monkeypatch.setattr(jageocoder, "search", search)
    backend = JageocoderGeocoder(db_dir=str(tmp_path))
    result = geocode(["福岡県大牟田市南船津町3-1-2", "架空"], backend)
    assert calls == [{"db_dir": str(tmp_path), "mode": "r"}]
    assert list(result["level"]) == ["町丁目", "失敗"]
    assert result.loc[0, "matched"] == "福岡県大牟田市南船津町三丁目"
