"""The exported map in a real browser (Debian chromium via Playwright), with the network cut off."""

import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

if not CHROMIUM.exists():
    if os.environ.get("SCGEO_REQUIRE_BROWSER") == "1":  # .ci/run: the browser tests must run
        pytest.fail("SCGEO_REQUIRE_BROWSER=1 but Debian's chromium is not installed", pytrace=False)
    pytest.skip("Debian chromium is not installed (apt-get install chromium)", allow_module_level=True)

playwright = pytest.importorskip("playwright.sync_api")

STATE = """() => {
  const map = scgeo.map;
  const categories = {};
  for (const [code, group] of Object.entries(scgeo.categories))
    categories[code] = {n: group.getLayers().length, shown: map.hasLayer(group)};
  let areaPolygons = 0;
  map.eachLayer(l => { if (l instanceof L.Polygon && l.feature && l.feature.properties.area_id) areaPolygons++; });
  const base = Object.values(scgeo.overlays)[0];
  let streets = 0;  // line parts drawn (one multi-polyline per road class)
  if (base) base.getLayers()[0].eachLayer(l => {
    streets += L.LineUtil.isFlat(l.getLatLngs()) ? 1 : l.getLatLngs().length; });
  return {categories, areaPolygons, streets, baseShown: !!base && map.hasLayer(base),
          canvases: document.querySelectorAll('.leaflet-overlay-pane canvas').length,
          livingLabels: [...document.querySelectorAll('.scgeo-label-living_area span')].map(e => e.textContent),
          salonIcons: document.querySelectorAll('.scgeo-m-salon, .scgeo-c-salon').length};
}"""


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    # offline: only the file itself may load; tiles and anything else fail
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
               else route.abort())
    page.errors, page.requests = errors, requests
    yield page
    page.close()


def test_exported_map_works_offline(page, demo_outputs, sample_workspace, tmp_path, screenshot_dir):
    page.goto(demo_outputs["resource_map"].resolve().as_uri())
    page.wait_for_function("typeof L !== 'undefined' && window.scgeo && scgeo.ready", timeout=15000)
    state = page.evaluate(STATE)
    areas = sample_workspace.areas()
    resources = sample_workspace.read("resources")
    expected = resources["category"].value_counts().to_dict()
    assert {code: c["n"] for code, c in state["categories"].items()} == expected
    assert sum(c["n"] for c in state["categories"].values()) == len(resources)
    assert all(c["shown"] for c in state["categories"].values())
    assert state["areaPolygons"] == areas["level"].isin(["living_area", "jhs_district"]).sum()
    assert sorted(state["livingLabels"]) == sorted(areas.loc[areas["level"] == "living_area", "name"])
    # the vector basemap: every street and river/rail line, drawn on a canvas, shown by default
    edges, lines = sample_workspace.read("network_edges"), sample_workspace.read("basemap_lines")
    assert state["baseShown"] and state["streets"] == len(edges) + len(lines) and state["canvases"] >= 1
    page.wait_for_timeout(300)
    page.screenshot(path=str(tmp_path / "resource_map.png"))
    page.screenshot(path=str(screenshot_dir / "resource_map.png"))

    # a popup in Japanese with the fields
    popup = page.evaluate("""() => { const m = scgeo.categories.salon.getLayers()[0];
        scgeo.categories.salon.zoomToShowLayer(m, () => {}); m.openPopup();
        return document.querySelector('.leaflet-popup-content').innerText; }""")
    for field in ("名称", "種別", "提供主体", "曜日・時間", "定員", "連絡先", "最終確認日"):
        assert field in popup, field
    page.evaluate("() => { scgeo.map.closePopup(); }")
    page.evaluate("() => { scgeo.map.fitBounds(scgeo.categories.salon.getBounds()); }")
    page.wait_for_timeout(300)
    assert page.evaluate(STATE)["salonIcons"] > 0

    # toggling a category layer off in the layer control removes its markers and clusters
    page.locator(".leaflet-control-layers").first.hover()
    salons = int((resources["category"] == "salon").sum())
    label = page.locator(".leaflet-control-layers-overlays label",
                         has_text=re.compile(rf"^\s*居場所・サロン \({salons}\)"))
    assert label.count() == 1
    label.locator("input").uncheck()
    after = page.evaluate(STATE)
    assert not after["categories"]["salon"]["shown"] and after["salonIcons"] == 0
    assert after["categories"]["kayoi_no_ba"]["shown"]

    # nothing but the file was requested (tiles of the hidden tile layers are not even asked for)
    assert all(u.startswith("file:") for u in page.requests), [u for u in page.requests if not u.startswith("file:")]
    # failed tile requests are network errors, not script errors
    assert not [e for e in page.errors if "net::" not in e and "Failed to load resource" not in e]


def test_internal_area_export_in_browser(page, sample_workspace, tmp_path):
    from scgeo.maps.council import export_council_map

    path = export_council_map(sample_workspace, tmp_path / "internal.html", area="第2圏域", internal=True)
    page.goto(path.resolve().as_uri())
    page.wait_for_function("window.scgeo && scgeo.ready", timeout=15000)
    banner = page.locator(".scgeo-banner").inner_text()
    assert banner == "内部資料 — 個人情報を含む"
    shape = sample_workspace.areas("living_area").set_index("name").geometry["第2圏域"]
    needs = sample_workspace.read("needs")
    inside = int(needs.geometry.covered_by(shape).sum())
    assert 0 < inside < len(needs)
    assert page.evaluate("() => scgeo.needs.needs.getLayers().length") == inside
    resources = sample_workspace.read("resources")
    drawn = page.evaluate("() => Object.values(scgeo.categories).reduce((n, g) => n + g.getLayers().length, 0)")
    assert drawn == int(resources.geometry.covered_by(shape).sum())
    # zoomed to the area: the view contains the area's bounds and is much smaller than the town's
    xmin, ymin, xmax, ymax = shape.bounds
    view = page.evaluate("() => { const b = scgeo.map.getBounds(); return [b.getWest(), b.getSouth(), "
                         "b.getEast(), b.getNorth()]; }")
    assert view[0] <= xmin and view[1] <= ymin and view[2] >= xmax and view[3] >= ymax
    town = sample_workspace.areas("municipality").total_bounds
    assert (view[2] - view[0]) < 1.5 * (town[2] - town[0])
    assert not [e for e in page.errors if "net::" not in e and "Failed to load resource" not in e]


# The fitted town's rectangle on screen against each box over the map: the boxes it runs under
TOWN_UNDER = """() => {
  const map = scgeo.map, m = map.getContainer().getBoundingClientRect();
  const nw = map.latLngToContainerPoint(scgeo.fitBounds.getNorthWest());
  const se = map.latLngToContainerPoint(scgeo.fitBounds.getSouthEast());
  const t = {left: m.left + nw.x, top: m.top + nw.y, right: m.left + se.x, bottom: m.top + se.y};
  return [...document.querySelectorAll('.scgeo-title, .leaflet-control')].filter(e => e.offsetParent)
    .map(e => [e.className, e.getBoundingClientRect()])
    .filter(([, r]) => r.width && !(r.right <= t.left || t.right <= r.left || r.bottom <= t.top || t.bottom <= r.top))
    .map(([name]) => name);
}"""


def test_the_town_is_fitted_again_when_a_box_over_the_map_grows(page, demo_outputs):
    """The title grows after the first fit (its 「背景:」 follows the basemap, a font arrives late): the
    town is fitted again to the room left, not left under the title; once the user has moved the map, not."""
    page.goto(demo_outputs["resource_map"].resolve().as_uri())
    page.wait_for_function("window.scgeo && scgeo.ready", timeout=15000)
    page.wait_for_timeout(300)
    assert page.evaluate(TOWN_UNDER) == []
    grow = """() => { const s = document.createElement('div'); s.textContent = '長い副題の行';
        s.style.height = '120px'; document.querySelector('.scgeo-title').appendChild(s); }"""
    page.evaluate(grow)
    page.wait_for_timeout(300)
    assert page.evaluate(TOWN_UNDER) == []
    # the user drags the map: from then on the map stays where they put it
    centre = page.evaluate("() => scgeo.map.getCenter()")
    page.mouse.move(640, 600)
    page.mouse.down()
    page.mouse.move(500, 500)
    page.mouse.up()
    moved = page.evaluate("() => scgeo.map.getCenter()")
    page.evaluate(grow)
    page.wait_for_timeout(300)
    assert page.evaluate("() => scgeo.map.getCenter()") == moved != centre
