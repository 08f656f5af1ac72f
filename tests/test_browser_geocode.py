"""The coordinator's story in a real (headless) browser, every request off this computer aborted:
upload an xlsx of addresses without coordinates, see the match levels and the map preview,
write once, place the 位置未確定 row by clicking the map, see the markers (町丁目-level ones
hollow) on the map page, and download the council map. Screenshots: docs/img/geocode_*.png
(with ``make screenshots``)."""

import io as bytes_io
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from scgeo import Workspace

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    if os.environ.get("SCGEO_REQUIRE_BROWSER") == "1":  # .ci/run: the browser tests must run
        pytest.fail(f"{CHROMIUM} is required on CI", pytrace=False)
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")
sync_playwright, PlaywrightTimeout = playwright.sync_playwright, playwright.TimeoutError

ROWS = [
    {"施設名": "川端町ふれあいサロン", "種別": "サロン", "住所": "さくら市川端町二丁目18-1 集会所"},
    {"施設名": "本町いきいき体操", "種別": "通いの場", "住所": "さくら市本町１２－３"},
    {"施設名": "中央三丁目オレンジカフェ", "種別": "認知症カフェ", "住所": "中央３丁目４番５号"},
    {"施設名": "出張よろず相談", "種別": "相談窓口", "住所": "さくら市(市内各所)"},
]


@pytest.fixture(scope="module")
def app(sample_workspace, tmp_path_factory, serve_app):
    """The app on 127.0.0.1 over a copy of the sample town."""
    copy = tmp_path_factory.mktemp("geocode_browser") / "sample.gpkg"
    shutil.copyfile(sample_workspace.path, copy)
    with serve_app(copy, copy.parent / "streamlit.log") as url:
        yield {"url": url, "workspace": Workspace.open(copy)}


def _idle(page):
    """Streamlit's own state on its root element: the script has finished, nothing drawn is stale."""
    page.wait_for_timeout(100)  # a rerun the last action asked for has been requested
    page.wait_for_function("() => document.querySelector('[data-testid=stApp]')?.dataset.testScriptState === "
                           "'notRunning' && !document.querySelector('[data-stale=\"true\"]') && "
                           "!document.querySelector('[data-testid=\"stStatusWidget\"] button')", timeout=60_000)


def _settled_click(locator) -> None:
    """A real click once the element is scrolled into view and two frames are drawn: Playwright's own
    scroll-then-click can land on the map frame above the button while the page is still scrolling."""
    locator.scroll_into_view_if_needed()
    locator.evaluate("el => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    locator.click()


#: Where on the placement map to click: points of its frame (fractions of its size) in this order.
SPOTS = [(fx / 10, fy / 10) for fy in range(2, 9) for fx in range(2, 9)]
#: A click on these reaches a marker, a label or a control, not the map.
NOT_THE_MAP = ".leaflet-marker-pane, .leaflet-tooltip-pane, .leaflet-popup-pane, .leaflet-control-container"


def _map_spots(component, inner) -> list[tuple[float, float]]:
    """Page positions of the placement map where nothing is drawn over the map itself, first free spot first."""
    box = component.bounding_box()
    frame = component.content_frame().evaluate(
        "() => { const r = document.getElementById('map').getBoundingClientRect(); "
        "return [r.x, r.y, r.width, r.height]; }")
    free = inner.evaluate("""([spots, notMap]) => spots.filter(([fx, fy]) => {
        const el = document.elementFromPoint(fx * innerWidth, fy * innerHeight);
        return el && el.closest('.leaflet-container') && !el.closest(notMap); })""", [SPOTS, NOT_THE_MAP])
    x0, y0 = box["x"] + frame[0], box["y"] + frame[1]
    return [(x0 + frame[2] * fx, y0 + frame[3] * fy) for fx, fy in free or SPOTS]


def _metric(page, label: str) -> int:
    locator = page.locator("[data-testid='stMetric']", has_text=label).first
    return int(locator.locator("[data-testid='stMetricValue']").inner_text().strip())


def test_addresses_to_a_council_map(app, screenshot_dir, tmp_path):
    ws = app["workspace"]
    before = ws.count("resources")
    buffer = bytes_io.BytesIO()
    pd.DataFrame(ROWS).to_excel(buffer, index=False)
    upload = tmp_path / "さくら市 新しい資源一覧.xlsx"
    upload.write_bytes(buffer.getvalue())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(viewport={"width": 1400, "height": 1100}, locale="ja-JP",
                                      accept_downloads=True)
        outside: list[str] = []

        def local_only(route):
            url = route.request.url
            if url.startswith(app["url"]) or url.startswith(("data:", "blob:", "about:")):
                route.continue_()
            else:
                outside.append(url)
                route.abort()

        context.route("**/*", local_only)
        page = context.new_page()
        try:
            page.goto(f"{app['url']}/import")
            page.wait_for_selector("h1:has-text('データ取込')", timeout=60_000)
            page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(upload))
            page.wait_for_selector("[data-testid='stMetric']:has-text('位置未確定')", timeout=90_000)
            _idle(page)
            assert _metric(page, "取り込む行") == 3 and _metric(page, "位置未確定") == 1
            assert page.get_by_text("位置の精度").count()
            assert not page.locator("[data-testid='stException']").count()
            page.screenshot(path=screenshot_dir / "geocode_import.png", full_page=True)

            page.get_by_role("tab", name="地図で確認").click()
            holder = page.wait_for_selector("[data-testid='stIFrame']", timeout=60_000).content_frame()
            # the map runs in a frame sandboxed to scripts only, inside the Streamlit frame
            preview = holder.wait_for_selector("iframe", state="attached", timeout=60_000).content_frame()
            preview.wait_for_function("() => window.scgeo && window.scgeo.ready", timeout=60_000)
            assert preview.evaluate("() => document.querySelectorAll('.scgeo-badge.coarse').length") >= 1
            page.wait_for_timeout(500)
            page.screenshot(path=screenshot_dir / "geocode_preview.png", full_page=True)

            _idle(page)  # the page settled: the click is not lost in a rerun
            write = page.get_by_role("button", name="ワークスペースに書き込む")
            _settled_click(write)
            try:
                page.wait_for_selector("text=を書き込みました", timeout=30_000)
            except PlaywrightTimeout:  # a click lost in a rerun of a loaded machine: once more (the button
                if write.is_enabled():  # is disabled once written, so this cannot write twice)
                    write.click()
                page.wait_for_selector("text=を書き込みました", timeout=120_000)
            _idle(page)
            assert ws.count("resources") == before + 3 and len(ws.unplaced()) == 1

            # the 位置未確定 row: click the map, then place it there
            component = page.wait_for_selector("[data-testid='stCustomComponentV1']", timeout=60_000)
            outer = component.content_frame()
            inner = outer.wait_for_selector("#map", state="attached", timeout=60_000).content_frame()
            inner.wait_for_function("() => window.scgeo && window.scgeo.ready", timeout=60_000)
            component.scroll_into_view_if_needed()
            component.evaluate("el => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
            placed_js = ("() => document.body.innerText.includes('クリックした位置') && "
                         "/\\d+\\.\\d{6}, \\d+\\.\\d{6}/.test(document.body.innerText)")
            for x, y in _map_spots(component, inner)[:5]:
                page.mouse.click(x, y)  # a real click on the map, not on a marker or a control
                try:  # the app shows the clicked position
                    page.wait_for_function(placed_js, timeout=8_000)
                    break
                except PlaywrightTimeout:  # try another spot
                    continue
            page.wait_for_function(placed_js, timeout=30_000)
            _idle(page)
            page.screenshot(path=screenshot_dir / "geocode_place.png", full_page=True)
            page.get_by_role("button", name="クリックした位置に配置").click()
            page.wait_for_selector("text=を配置しました", timeout=60_000)
            _idle(page)
            placed = ws.read("resources").set_index("name").loc["出張よろず相談"]
            assert placed["match_level"] == "manual" and not len(ws.unplaced())
            assert ws.read("resources").geometry.total_bounds[0] > 140  # somewhere in the sample town

            # the map page: every resource drawn, the 町丁目-level ones hollow
            page.goto(f"{app['url']}/")
            page.wait_for_selector("h1:has-text('地域資源マップ')", timeout=60_000)
            component = page.wait_for_selector("[data-testid='stCustomComponentV1']", timeout=60_000)
            inner = component.content_frame().wait_for_selector("#map", state="attached").content_frame()
            inner.wait_for_function("() => window.scgeo && window.scgeo.ready", timeout=60_000)
            _idle(page)
            assert _metric(page, "社会資源") == before + 4
            page.screenshot(path=screenshot_dir / "geocode_map.png")

            # the council map, downloaded from 出力: the new resources and the coarse-position note in it
            page.goto(f"{app['url']}/export")
            page.wait_for_selector("h1:has-text('出力')", timeout=60_000)
            _idle(page)
            page.get_by_role("button", name="地図を作る").click()  # built on request (it runs the gap analysis)
            page.wait_for_selector("button:has-text('地図をダウンロード')", timeout=180_000)
            _idle(page)  # a click while the rerun that drew the button still runs can be lost
            enabled = "button:has-text('地図をダウンロード'):not([disabled])"
            for attempt in range(3):  # the deferred download is asked for on the click; ask again if it never came
                try:
                    page.wait_for_selector(enabled, timeout=60_000)
                    with page.expect_download(timeout=60_000) as download:
                        _settled_click(page.locator(enabled))
                    break
                except PlaywrightTimeout:
                    if attempt == 2:
                        raise
                    # a lost request leaves the button disabled: the page again, in a new session
                    page.reload()
                    page.wait_for_selector("h1:has-text('出力')", timeout=60_000)
                    _idle(page)
                    if page.get_by_role("button", name="地図を作る").count():
                        page.get_by_role("button", name="地図を作る").click()
                        page.wait_for_selector("button:has-text('地図をダウンロード')", timeout=180_000)
                        _idle(page)
            html = Path(download.value.path()).read_text(encoding="utf-8")
            assert "中央三丁目オレンジカフェ" in html and "位置は町丁目の代表点" in html
            assert not page.locator("[data-testid='stException']").count()
        finally:
            browser.close()
