import datetime as dt
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from scgeo import load_taxonomy, validate
from scgeo.maps import offline_html, resource_map, save_offline
from scgeo.maps.offline import OfflineAssetError
from scgeo.maps.resource_map import VECTOR_BASEMAP, MapPrivacyError, category_letters, classify


def _has(html, text):
    """``text`` appears in the page, as it is or JSON-escaped as folium writes layer names."""
    return text in html or json.dumps(text)[1:-1] in html


def _specs(html):
    """The category layers' data as the page reads it (``scgeo.points({...})``)."""
    found = re.findall(r'scgeo\.points\(JSON\.parse\(("(?:[^"\\]|\\.)*")\)\);', html)
    return {s["code"]: s for s in (json.loads(json.loads(m)) for m in found)}


def _labels(html):
    out = {}
    for data, kind in re.findall(r'^\s*(\[\[.*?\]\])\.forEach\(function \(d\) \{ scgeo\.label\(\[d\[1\], d\[0\]\], '
                                 r'd\[2\], "(\w+)"\)', html, flags=re.M):
        out.setdefault(kind, []).extend(t for _x, _y, t in json.loads(data))
    return out


@pytest.fixture
def layers():
    areas = validate(gpd.GeoDataFrame(
        {"area_id": ["LA1", "J01", "J02"], "name": ["第1圏域", "東中学校区", "西中学校区"],
         "level": ["living_area", "jhs_district", "jhs_district"]},
        geometry=[shapely.box(141.0, 35.0, 141.1, 35.1), shapely.box(141.0, 35.0, 141.05, 35.1),
                  shapely.box(141.05, 35.0, 141.1, 35.1)], crs=6668), "areas").accepted
    resources = validate(gpd.GeoDataFrame(
        {"resource_id": ["R1", "R2", "R3", "R4"],
         "name": ["本町サロン", "東体操教室", "まごころ配食", "閉じたサロン"],
         "category": ["salon", "kayoi_no_ba", "meal_delivery", "salon"],
         "provider_type": ["resident", "shakyo", "company", "resident"],
         "schedule": ["毎週水曜 10:00-12:00", None, None, None], "capacity": [20, None, 60, 10],
         "contact": ["0000-12-3456", None, None, None],
         "last_confirmed": ["2026-09-01", "2024-01-10", "2026-08-01", "2026-01-01"],
         "status": ["active", "active", "active", "closed"]},
        geometry=[shapely.Point(141.01 + i / 100, 35.05) for i in range(4)], crs=6668), "resources").accepted
    return areas, resources


@pytest.fixture
def streets():
    edges = gpd.GeoDataFrame(
        {"edge_id": [1, 2, 3], "u": [1, 2, 3], "v": [2, 3, 4], "length_m": [10.0] * 3,
         "highway": ["primary", "residential", "footway"]},
        geometry=[shapely.LineString([(141.0, 35.0 + i / 100), (141.1, 35.0 + i / 100)]) for i in range(3)],
        crs=6668)
    lines = gpd.GeoDataFrame({"feature_id": ["w1"], "kind": ["river"], "name": ["さくら川"]},
                             geometry=[shapely.LineString([(141.05, 35.0), (141.05, 35.1)])], crs=6668)
    return edges, lines


def test_map_has_a_layer_per_category_legend_and_popups(layers):
    m = resource_map(*layers, title="テスト市 地域資源マップ", today=dt.date(2026, 11, 1))
    html = m.get_root().render()
    for name in ("居場所・サロン (2)", "通いの場(体操・運動) (1)", "配食 (1)", "中学校区(境界・名称)",
                 "日常生活圏域(境界・名称)"):
        assert _has(html, name), name
    assert _has(html, "地理院タイル(淡色地図)") and "cyberjapandata.gsi.go.jp/xyz/pale" in html
    assert "OpenStreetMap\\u003c/a\\u003e contributors" in html  # attributions, JSON-escaped
    assert "maps.gsi.go.jp/development/ichiran.html" in html
    specs = _specs(html)
    assert {k: len(s["rows"]) for k, s in specs.items()} == {"salon": 2, "kayoi_no_ba": 1, "meal_delivery": 1}
    assert [f["label"] for f in specs["salon"]["fields"]] == [
        "名称", "種別", "提供主体", "曜日・時間", "定員", "費用", "連絡先", "住所", "最終確認日", "確認の状態", "位置"]
    salon = {row[4]: row for row in specs["salon"]["rows"]}
    assert salon["本町サロン"][4:9] == ["本町サロン", "居場所・サロン", "住民主体", "毎週水曜 10:00-12:00", "20"]
    assert salon["本町サロン"][10] == "0000-12-3456" and salon["本町サロン"][12] == "2026-09-01"
    assert salon["閉じたサロン(廃止)"][3] == 1  # greyed (inactive flag)
    kayoi = specs["kayoi_no_ba"]["rows"][0]
    assert kayoi[2] == 1 and kayoi[12] == "2024-01-10"  # stale flag: the popup marks it 要確認
    assert kayoi[13] == "長期未確認(期限 2025-01-10)" and salon["本町サロン"][13] == "確認済み(期限 2027-03-01)"
    assert specs["salon"]["rows"][0][2] == 0
    assert specs["salon"]["letter"] == "居" and specs["salon"]["color"] == "#e6194b"
    # the legend: one badge row per drawn category, with counts
    legend = json.loads(re.search(r'var html = ("\\u003cdiv class=\\"scgeo-box scgeo-legend.*?");', html).group(1))
    assert legend.count('class="scgeo-badge "') == 3
    for text in ("居場所・サロン</span><span class=\"n\">2", "配食</span><span class=\"n\">1", "休止中・廃止"):
        assert text in legend, text
    title = json.loads(re.search(r'var html = ("\\u003cdiv class=\\"scgeo-box scgeo-title.*?");', html).group(1))
    assert "テスト市 地域資源マップ" in title and "作成日 2026-11-01" in title


def test_area_names_are_permanent_labels(layers):
    html = resource_map(*layers).get_root().render()
    labels = _labels(html)
    assert labels["living_area"] == ["第1圏域"]
    assert sorted(labels["jhs_district"]) == ["東中学校区", "西中学校区"]


def test_category_letters_are_distinct_and_offline():
    letters = category_letters(load_taxonomy())
    assert len(set(letters.values())) == len(letters)
    assert letters["medical"] == "医" and letters["meal_delivery"] == "配"


def test_inactive_resources_can_be_hidden(layers):
    html = resource_map(*layers, show_inactive=False).get_root().render()
    assert _has(html, "居場所・サロン (1)") and "閉じたサロン" not in html


def test_choropleth_has_classed_legend(layers):
    areas, resources = layers
    blocks = gpd.GeoDataFrame(
        {"area_id": [f"T{i}" for i in range(10)], "name": [f"町{i}" for i in range(10)],
         "pop_65plus": [10, 20, 30, 40, 50, 60, 70, 80, 90, np.nan]},
        geometry=[shapely.box(141.0 + i / 100, 35.0, 141.01 + i / 100, 35.01) for i in range(10)], crs=6668)
    html = resource_map(areas, resources, indicator=blocks, indicator_column="pop_65plus",
                        indicator_label="65歳以上人口", indicator_breaks=[0, 25, 50, 75, 100]).get_root().render()
    assert _has(html, "65歳以上人口(塗り分け)")
    legend = re.search(r'var html = ("\\u003cdiv class=\\"scgeo-box scgeo-legend.*?");', html).group(1)
    legend = json.loads(legend)
    rows = re.findall(r"<span>(\d+ – \d+)</span>", legend)
    assert rows == ["0 – 25", "25 – 50", "50 – 75", "75 – 100"]
    assert "データなし" in legend
    assert _has(html, "町9 65歳以上人口: データなし")


def test_classify_quantiles_and_fixed_breaks():
    edges, index = classify(pd.Series([1, 2, 3, 4, 5, 6, 7, 8, 9, 10.0]), classes=5)
    assert len(edges) == 6 and edges[0] == 1 and edges[-1] == 10
    assert list(np.bincount(index)) == [2, 2, 2, 2, 2]
    edges, index = classify(pd.Series([5, 30, None]), breaks=[0, 10, 100])
    assert edges == [0, 10, 100] and list(index) == [0, 1, -1]


def test_overlays_drawn_when_given(layers):
    areas, resources = layers
    box = shapely.box(141.0, 35.0, 141.02, 35.02)
    catchments = gpd.GeoDataFrame({"category": ["salon"], "minutes": [15]}, geometry=[box], crs=6668)
    zones = gpd.GeoDataFrame({"category": ["salon", "kayoi_no_ba"], "pop_65plus": [123, 45]},
                             geometry=[box, box], crs=6668)
    counts = gpd.GeoDataFrame({"area_id": ["A", "B"], "name": ["本町", "栄町"], "count": [12, 3],
                               "suppressed": [False, True]},
                              geometry=[box, shapely.box(141.05, 35.05, 141.06, 35.06)], crs=6668)
    html = resource_map(areas, resources, catchments=catchments, blank_zones=zones,
                        need_counts=counts).get_root().render()
    for name in ("徒歩15分圏: 居場所・サロン", "空白地帯: 居場所・サロン (1)", "空白地帯: 通いの場(体操・運動) (1)",
                 "ニーズ件数(集計)", "空白地帯: 居場所・サロン / 65歳以上 約123人"):
        assert _has(html, name), name
    counts_text = _labels(html)["count"]
    assert counts_text == ["12件", "秘匿"]  # a small count reads like any hidden one
    assert "3件" not in html and _has(html, "栄町 ニーズ 秘匿")


def test_vector_basemap_styles_streets_by_class(layers, streets):
    html = resource_map(*layers, streets=streets[0], basemap_lines=streets[1],
                        basemap=VECTOR_BASEMAP).get_root().render()
    # the lines reach the page as one JSON string, parsed there (JSON.parse reads it faster than a literal)
    data = json.loads(json.loads(re.search(r'L\.geoJSON\(JSON\.parse\(("\{.*?\}")\), \{renderer', html).group(1)))
    kinds = [f["properties"]["kind"] for f in data["features"]]
    assert kinds == ["river", "path", "minor", "major"]  # drawing order: arterials on top
    assert [len(f["geometry"]["coordinates"]) for f in data["features"]] == [1, 1, 1, 1]  # one line part each
    styles = json.loads(re.search(r"var styles = (\{.*?\}\}), key", html).group(1))
    assert styles["major"]["weight"] > styles["tertiary"]["weight"] > styles["minor"]["weight"]
    assert _has(html, "道路・川: OpenStreetMap 形式のデータ")  # no railway in these lines: not credited
    assert "鉄道" not in html
    assert '"maxZoom": 19' in html


def test_needs_are_refused_on_a_public_map(layers):
    needs = gpd.GeoDataFrame({"need_id": ["N-1"], "category": ["salon"], "status": ["open"]},
                             geometry=[shapely.Point(141.02, 35.02)], crs=6668)
    with pytest.raises(MapPrivacyError, match="内部資料"):
        resource_map(*layers, needs=needs)
    html = resource_map(*layers, needs=needs, internal=True).get_root().render()
    assert "N-1" in html and _has(html, "内部資料 — 個人情報を含む")
    assert "内部資料" not in resource_map(*layers).get_root().render()


def test_offline_html_inlines_leaflet_and_cluster_and_needs_no_cdn(layers, tmp_path):
    path = save_offline(resource_map(*layers), tmp_path / "map.html")
    html = path.read_text(encoding="utf-8")
    assert not re.search(r'<script src="https?://', html)
    assert not re.search(r'<link rel="stylesheet" href="https?://', html)
    assert "Leaflet" in html and "L.map(" in html
    assert "L.MarkerClusterGroup" in html and ".marker-cluster-small" in html  # plugin JS and CSS inlined
    assert "url(data:image/png;base64," in html  # leaflet.css images inlined
    assert "jquery" not in html.lower() and "font-awesome" not in html.lower()


def test_offline_html_inlines_folium_marker_cluster(layers):
    import folium
    from folium.plugins import MarkerCluster

    from scgeo.maps.offline import leaflet_only

    m = leaflet_only(folium.Map(tiles=None))
    MarkerCluster([[35.0, 141.0]]).add_to(m)
    html = offline_html(m)
    assert "L.MarkerClusterGroup" in html and "cdnjs" not in html.split("<body>")[0]


def test_offline_html_refuses_unknown_external_code(layers):
    import folium

    m = resource_map(*layers)
    m.get_root().header.add_child(folium.JavascriptLink("https://example.org/plugin.js"))
    with pytest.raises(OfflineAssetError, match=r"example\.org/plugin\.js"):
        offline_html(m)


def test_taxonomy_colours_are_distinct():
    colours = [c.color for c in load_taxonomy().categories.values()]
    assert len(set(colours)) == len(colours)
    assert pd.Series(colours).str.fullmatch(r"#[0-9a-f]{6}").all()


def test_text_from_files_cannot_break_out_of_the_script(layers):
    areas, resources = layers
    resources = resources.copy()
    resources.loc[0, "name"] = '<img src=x onerror="alert(1)"></script>'
    html = resource_map(areas, resources).get_root().render()
    assert "<img src=x" not in html and "</script>\"" not in html
    assert "\\u003cimg src=x" in html  # the data keeps the text; the page escapes it when showing a popup
    assert "S.esc(v)" in html


def test_many_resources_are_canvas_circles_with_layers_kept(layers):
    areas, resources = layers
    many = pd.concat([resources] * 800, ignore_index=True)  # 3,200 > BADGE_LIMIT
    specs = _specs(resource_map(areas, many).get_root().render())
    assert all(s["circles"] for s in specs.values()) and len(specs) == 3
    assert sum(len(s["rows"]) for s in specs.values()) == len(many)
    assert not any(s["circles"] for s in _specs(resource_map(areas, resources).get_root().render()).values())


def test_click_events_tell_the_page_holding_the_map_which_resource_was_clicked(layers):
    plain = resource_map(*layers).get_root().render()
    assert "scgeoResource" not in plain and len(_specs(plain)) == 3  # off by default: files for others unchanged
    html = resource_map(*layers, click_events=True).get_root().render()
    assert "window.parent.postMessage({scgeoResource: ids[i]}, '*')" in html
    found = re.findall(r'\}\)\(JSON\.parse\(("(?:[^"\\]|\\.)*")\), (\[.*?\])\);', html)
    names_and_ids = {s["code"]: ([row[4] for row in s["rows"]], ids)
                     for s, ids in ((json.loads(json.loads(spec)), json.loads(ids)) for spec, ids in found)}
    assert names_and_ids == {"salon": (["本町サロン", "閉じたサロン(廃止)"], ["R1", "R4"]),
                             "kayoi_no_ba": (["東体操教室"], ["R2"]), "meal_delivery": (["まごころ配食"], ["R3"])}
