"""The exported map in a real browser (Debian chromium via Playwright), with the network cut off."""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail("CI must install Debian's chromium (.ci/run does)", pytrace=False)
    pytest.skip("Debian chromium is not installed (apt-get install chromium)", allow_module_level=True)

playwright = pytest.importorskip("playwright.sync_api")

COUNT_LAYERS = """() => {
  const map = Object.entries(window).find(([k, v]) => k.startsWith('map_') && v instanceof L.Map)[1];
  let markers = 0, polygons = 0;
  map.eachLayer(l => {
    if (l instanceof L.CircleMarker) markers++;
    else if (l instanceof L.Polygon) polygons++;
  });
  return {markers, polygons};
}"""


@pytest.fixture(scope="module")
def page():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        # offline: only the file itself may load; tiles and anything else fail
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                   else route.abort())
        page.errors = errors
        yield page
        browser.close()


def test_exported_map_works_offline(page, demo_outputs, sample_workspace, tmp_path):
    page.goto(demo_outputs["resource_map"].resolve().as_uri())
    page.wait_for_function("typeof L !== 'undefined'", timeout=15000)
    counts = page.evaluate(COUNT_LAYERS)
    areas = sample_workspace.areas()
    resources = sample_workspace.read("resources")
    drawn_areas = areas["level"].isin(["living_area", "jhs_district"]).sum()  # town blocks start hidden
    assert counts["markers"] == len(resources)
    assert counts["polygons"] == drawn_areas
    page.screenshot(path=str(tmp_path / "resource_map.png"))
    # toggling a category layer off removes its markers
    label = page.locator(".leaflet-control-layers-overlays label", has_text="居場所・サロン").first
    page.locator(".leaflet-control-layers").first.hover()
    label.locator("input").uncheck()
    salons = int((resources["category"] == "salon").sum())
    assert page.evaluate(COUNT_LAYERS)["markers"] == len(resources) - salons
    # failed tile requests are network errors, not script errors
    assert not [e for e in page.errors if "net::" not in e and "Failed to load resource" not in e]
