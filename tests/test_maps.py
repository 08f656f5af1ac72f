import datetime as dt
import json
import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from scgeo import load_taxonomy, validate
from scgeo.maps import offline_html, resource_map, save_offline
from scgeo.maps.offline import OfflineAssetError


def _has(html, text):
    """``text`` appears in the page, as it is or JSON-escaped as folium writes layer names."""
    return text in html or json.dumps(text)[1:-1] in html


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


def test_map_has_a_layer_per_category_legend_and_popups(layers):
    m = resource_map(*layers, title="テスト市 地域資源マップ", today=dt.date(2026, 11, 1))
    html = m.get_root().render()
    for name in ("居場所・サロン (2)", "通いの場(体操・運動) (1)", "配食 (1)", "中学校区の境界", "日常生活圏域の境界"):
        assert _has(html, name), name
    assert _has(html, "地理院タイル(淡色地図)") and "cyberjapandata.gsi.go.jp/xyz/pale" in html
    assert "OpenStreetMap\\u003c/a\\u003e contributors" in html  # attributions, JSON-escaped
    assert "maps.gsi.go.jp/development/ichiran.html" in html
    legend = re.search(r'<div class="scgeo-legend".*?</div></div>', html, re.S).group(0)
    assert legend.count("border-radius:6px;background") == 3
    for alias in ("名称", "種別", "提供主体", "曜日・時間", "定員", "連絡先", "最終確認日"):
        assert json.dumps(alias)[1:-1] in html, alias
    assert _has(html, "2024-01-10 ⚠ 要確認")  # stale resource marked
    assert _has(html, "閉じたサロン(廃止)")
    assert "テスト市 地域資源マップ" in html and "作成日 2026-11-01" in html


def test_inactive_resources_can_be_hidden(layers):
    html = resource_map(*layers, show_inactive=False).get_root().render()
    assert _has(html, "居場所・サロン (1)") and not _has(html, "閉じたサロン")


def test_offline_html_inlines_leaflet_and_needs_no_cdn(layers, tmp_path):
    path = save_offline(resource_map(*layers), tmp_path / "map.html")
    html = path.read_text(encoding="utf-8")
    assert not re.search(r'<script src="https?://', html)
    assert not re.search(r'<link rel="stylesheet" href="https?://', html)
    assert "Leaflet" in html and "L.map(" in html
    assert "url(data:image/png;base64," in html  # leaflet.css images inlined
    assert "jquery" not in html.lower()


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


def test_popup_text_from_files_is_escaped(layers):
    areas, resources = layers
    resources = resources.copy()
    resources.loc[0, "name"] = '<img src=x onerror="alert(1)">'
    html = resource_map(areas, resources).get_root().render()
    assert "\\u003cimg" not in html  # folium writes "<" of data as \u003c: none reaches the page
    assert json.dumps("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;")[1:-1].replace("&", "\\u0026") in html
