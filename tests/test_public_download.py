"""Downloaders against a loopback HTTP server (never the internet)."""

import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import shapely

from scgeo import InputError
from scgeo.io import read_ksj_school_districts
from scgeo.io.download import download_ksj, download_osm_network

FIX = Path(__file__).resolve().parent / "fixtures" / "public"


@pytest.fixture
def server():
    files, log = {}, []

    class Handler(BaseHTTPRequestHandler):
        def _send(self, body: bytes, status: int = 200, kind: str = "application/octet-stream"):
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            url = urlparse(self.path)
            log.append(("GET", url.path, parse_qs(url.query)))
            if url.path in files:
                body = files[url.path]
                self._send(body if isinstance(body, bytes) else json.dumps(body).encode(),
                           kind="application/json")
            else:
                self._send(b"not found", 404, "text/plain")

        def do_POST(self):
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            log.append(("POST", url.path, self.rfile.read(length)))
            self._send(json.dumps(files[url.path]).encode(), kind="application/json")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    httpd.files, httpd.log = files, log
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _zip_of(path: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(path, f"A32-23_32_GML/{path.name}")
    return buffer.getvalue()


def test_download_ksj_cached_and_readable(server, tmp_path):
    server.files["/ksj/gml/data/A32/A32-23/A32-23_32_GML.zip"] = _zip_of(FIX / "A32-23_32.geojson")
    template = server.url + "/ksj/gml/data/{dataset}/{dataset}-{year}/{dataset}-{year}_{pref:02d}_GML.zip"
    path = download_ksj("A32", 32, year=23, cache_dir=tmp_path, url_template=template)
    assert path.name == "A32-23_32_GML.zip" and zipfile.is_zipfile(path)
    again = download_ksj("A32", "32", year="23", cache_dir=tmp_path, url_template=template)
    assert again == path and len(server.log) == 1  # second call from the cache
    result = read_ksj_school_districts(path, muni_code="32203")
    assert len(result.accepted) == 2


def test_download_ksj_errors(server, tmp_path):
    template = server.url + "/{dataset}-{year}_{pref:02d}.zip"
    with pytest.raises(InputError, match="ダウンロードできません"):
        download_ksj("A27", 32, year=21, cache_dir=tmp_path, url_template=template)
    server.files["/A27-21_32.zip"] = b"<html>moved</html>"
    with pytest.raises(InputError, match="zip"):
        download_ksj("A27", 32, year=21, cache_dir=tmp_path, url_template=template)
    with pytest.raises(InputError, match="1〜47"):
        download_ksj("A27", 48, year=21, cache_dir=tmp_path, url_template=template)
    assert not list((tmp_path / "ksj").glob("*"))  # nothing half-written left behind


OVERPASS = {  # a crossroads: four dead ends around node 5
    "version": 0.6, "generator": "test", "elements": [
        {"type": "node", "id": 1, "lat": 35.3600, "lon": 132.7500},
        {"type": "node", "id": 2, "lat": 35.3600, "lon": 132.7520},
        {"type": "node", "id": 3, "lat": 35.3615, "lon": 132.7510},
        {"type": "node", "id": 4, "lat": 35.3595, "lon": 132.7510},
        {"type": "node", "id": 5, "lat": 35.3600, "lon": 132.7510},
        {"type": "way", "id": 10, "nodes": [1, 5, 2], "tags": {"highway": "residential"}},
        {"type": "way", "id": 11, "nodes": [3, 5, 4], "tags": {"highway": "footway"}},
    ]}


def test_download_osm_network_from_loopback_overpass(server, tmp_path):
    import osmnx as ox

    server.files["/api/interpreter"] = OVERPASS
    before = ox.settings.overpass_url
    polygon = shapely.box(132.749, 35.359, 132.753, 35.362)
    path = download_osm_network(polygon=polygon, cache_dir=tmp_path,
                                overpass_url=f"{server.url}/api")
    assert ox.settings.overpass_url == before  # settings restored
    graph = ox.load_graphml(path)
    assert graph.number_of_nodes() == 5 and graph.number_of_edges() == 8  # both directions
    assert [entry[1] for entry in server.log] == ["/api/interpreter"]
    assert download_osm_network(polygon=polygon, cache_dir=tmp_path,
                                overpass_url=f"{server.url}/api") == path
    assert len(server.log) == 1


def test_download_osm_network_by_place_uses_nominatim(server, tmp_path):
    server.files["/api/interpreter"] = OVERPASS
    server.files["/nominatim/search"] = [{
        "place_id": 1, "osm_type": "relation", "osm_id": 1, "lat": "35.36", "lon": "132.751",
        "display_name": "テスト町", "class": "boundary", "type": "administrative",
        "importance": 0.5, "boundingbox": ["35.359", "35.362", "132.749", "132.753"],
        "geojson": {"type": "Polygon", "coordinates": [[[132.749, 35.359], [132.753, 35.359],
                                                        [132.753, 35.362], [132.749, 35.362],
                                                        [132.749, 35.359]]]}}]
    path = download_osm_network(place="テスト町", cache_dir=tmp_path,
                                overpass_url=f"{server.url}/api",
                                nominatim_url=f"{server.url}/nominatim")
    assert path.is_file()
    assert [entry[1] for entry in server.log] == ["/nominatim/search", "/api/interpreter"]


def test_download_osm_network_needs_one_target(tmp_path):
    with pytest.raises(InputError, match="place"):
        download_osm_network(cache_dir=tmp_path)
