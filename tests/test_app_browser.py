"""The app in a real (headless) browser with every request off this computer aborted.

Starts ``streamlit run app/streamlit_app.py`` on a free loopback port, visits every page, checks
that the map's iframe drew every resource with Leaflet inlined in the page (no CDN), applies a
filter, and saves the screenshots in docs/img/app_<page>.png.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# url path: (title, heading, an element that shows the page has finished drawing)
PAGES = {
    "resources": ("社会資源", "社会資源の一覧と更新", "[data-testid='stDataFrameResizable']"),
    "import": ("データ取込", "データ取込", "[data-testid='stFileUploaderDropzone']"),
    "export": ("出力", "出力(協議体・関係機関向け)", "[data-testid='stDownloadButton'] >> nth=1"),
}

if not Path(CHROMIUM).exists():
    if os.environ.get("SCGEO_REQUIRE_BROWSER") == "1":  # .ci/run: the browser tests must run
        pytest.fail(f"{CHROMIUM} is required (SCGEO_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk)", allow_module_level=True)
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
playwright_error = pytest.importorskip("playwright.sync_api").Error


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(sample_workspace, tmp_path_factory):
    """The app served on 127.0.0.1 from a copy of the sample workspace; stopped by its PID."""
    copy = tmp_path_factory.mktemp("browser") / "sample.gpkg"
    shutil.copyfile(sample_workspace.path, copy)
    port = _free_port()
    log = (tmp_path_factory.mktemp("browser_log") / "streamlit.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "streamlit_app.py"),
         "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--", "--workspace", str(copy)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start (exit {process.poll()})")
            time.sleep(0.3)
        yield {"url": url, "workspace": copy}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser_page(server):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ja-JP")
        outside: list[str] = []

        def local_only(route):
            url = route.request.url
            if url.startswith(server["url"]) or url.startswith(("data:", "blob:")):
                route.continue_()
            else:
                outside.append(url)
                route.abort()

        context.route("**/*", local_only)
        page = context.new_page()
        page.outside = outside
        try:
            yield page
        finally:
            browser.close()


def _map_frame(page):
    """The map's frame: inside the app's own map component (scgeo_map), or inside a plain st.iframe.

    Either way the map runs in a frame sandboxed without allow-same-origin, which the page's own
    scripts cannot reach: Playwright's frame handles can.
    """
    handle = page.wait_for_selector("[data-testid='stCustomComponentV1'], [data-testid='stIFrame']", timeout=30_000)
    frame = handle.content_frame().wait_for_selector("iframe", state="attached", timeout=30_000).content_frame()
    frame.wait_for_function("() => typeof L !== 'undefined' && document.querySelector('.leaflet-container')",
                            timeout=30_000)
    return frame


# Resource markers in the map page, however scgeo.maps draws them: circle markers of GeoJSON
# features, or badge markers (class "scgeo-m") inside per-category (cluster) groups.
COUNT_MARKERS = """(w) => {
    const L = w.L, leaves = new Set(), seen = new Set();
    const badge = l => (l.options.icon && l.options.icon.options.className) || '';
    const isResource = l => (l instanceof L.CircleMarker && l.feature) ||
        (l instanceof L.Marker && /(^|\\s)scgeo-m(\\s|$)/.test(badge(l)));
    const walk = g => {
        if (seen.has(g)) return;
        seen.add(g);
        for (const l of g.getLayers()) {
            if (l instanceof L.LayerGroup) walk(l); else if (isResource(l)) leaves.add(l);
        }
    };
    const roots = [...Object.values((w.scgeo && w.scgeo.categories) || {})];
    for (const key of Object.keys(w)) {  // the sandboxed frame refuses some properties (localStorage)
        try { roots.push(w[key]); } catch (e) { /* not a layer */ }
    }
    for (const v of roots) { if (v instanceof L.LayerGroup) walk(v); }
    return leaves.size;
}"""


def _marker_count(frame) -> int:
    return frame.evaluate(f"() => ({COUNT_MARKERS})(window)")


def _metric(page, label: str) -> int:
    locator = page.locator("[data-testid='stMetric']", has_text=label).first
    return int(locator.locator("[data-testid='stMetricValue']").inner_text().strip())


def _wait_idle(page):
    page.wait_for_timeout(500)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"] button') && "
                           "!document.querySelector('[data-stale=\"true\"]')", timeout=30_000)
    page.wait_for_timeout(300)


def test_every_page_offline(server, browser_page, sample_workspace, screenshot_dir):
    page = browser_page
    resources = sample_workspace.read("resources")
    IMG = screenshot_dir

    page.goto(f"{server['url']}/")
    page.wait_for_selector("h1:has-text('地域資源マップ')", timeout=30_000)
    assert page.title().startswith("地図")
    frame = _map_frame(page)
    assert _marker_count(frame) == len(resources)
    assert _metric(page, "表示中") == len(resources)
    assert frame.evaluate("() => document.querySelectorAll('script[src], link[href]').length") == 0  # all inline
    page.screenshot(path=IMG / "app_map.png")

    # one filter: the category 居場所・サロン
    page.locator("[data-testid='stMultiSelect']", has_text="種別").first.click()
    started = time.monotonic()
    page.get_by_role("option", name="居場所・サロン").click()
    page.keyboard.press("Escape")
    salons = int((resources["category"] == "salon").sum())
    page.wait_for_function(
        "n => [...document.querySelectorAll('[data-testid=stMetric]')].some(m => m.innerText.includes('表示中') && "
        "m.querySelector('[data-testid=stMetricValue]').innerText.trim() === String(n))", arg=salons, timeout=30_000)
    counted = time.monotonic() - started
    assert _metric(page, "表示中") == salons < len(resources)
    deadline = time.monotonic() + 30
    while True:  # the map frame is redrawn: poll it through Playwright (the page cannot look inside)
        try:
            if _marker_count(_map_frame(page)) == salons:
                break
        except playwright_error:
            pass
        assert time.monotonic() < deadline, "the filtered map was not redrawn"
        page.wait_for_timeout(200)
    print(f"filter change in the browser: counts after {counted:.2f} s, map redrawn after "
          f"{time.monotonic() - started:.2f} s")
    assert _marker_count(_map_frame(page)) == salons
    page.screenshot(path=IMG / "app_map_filtered.png")

    for path, (title, heading, ready) in PAGES.items():
        page.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()
        page.wait_for_url(f"**/{path}", timeout=30_000)
        page.wait_for_selector(f"h1:has-text('{heading}')", timeout=30_000)
        page.wait_for_selector(ready, state="visible", timeout=30_000)
        _wait_idle(page)
        assert page.title().startswith(title)
        assert not page.locator("[data-testid='stException']").count()
        page.screenshot(path=IMG / f"app_{path}.png")
    assert [u for u in page.outside if not u.startswith(("https://cyberjapandata.gsi.go.jp", "https://tile."))] == []


def test_clicking_a_resource_on_the_map_shows_its_details(server, browser_page, sample_workspace, tmp_path):
    page = browser_page
    resources = sample_workspace.read("resources")
    salons = resources[(resources["category"] == "salon") & (resources["status"] == "active")]
    page.goto(f"{server['url']}/")
    page.wait_for_selector("h1:has-text('地域資源マップ')", timeout=30_000)
    frame = _map_frame(page)
    frame.wait_for_function("() => window.scgeo && scgeo.ready", timeout=30_000)
    assert not page.locator("[data-testid='stHeading']", has_text="サロン").count()
    # the whole map in view (a first click would otherwise scroll the page), then zoom in on the
    # first salon whose badge no other badge covers, and click it with the mouse like a user
    page.locator("[data-testid='stCustomComponentV1']").scroll_into_view_if_needed()
    name = frame.evaluate("""async names => {
        const group = scgeo.categories.salon, map = scgeo.map;
        for (const name of names) {
            const marker = group.getLayers().find(m => m.options.title === name);
            map.setView(marker.getLatLng(), 18, {animate: false});
            await new Promise(done => setTimeout(done, 500));
            const r = marker._icon && marker._icon.getBoundingClientRect();
            const hit = r && document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            if (hit && hit.closest('.leaflet-marker-icon') === marker._icon) return name;
        }
    }""", salons["name"].tolist())
    salon = salons[salons["name"] == name].iloc[0]
    box = frame.locator(f".scgeo-m-salon[title='{name}']").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    heading = page.locator("[data-testid='stHeading']", has_text=name).first
    heading.wait_for(timeout=30_000)
    _wait_idle(page)
    assert heading.locator("h3").inner_text().strip() == name
    assert salon["address"] in page.locator("[data-testid='stMarkdown']", has_text="住所").first.inner_text()
    picker = page.locator("[data-testid='stSelectbox']", has_text="社会資源の詳細")
    assert name in picker.inner_text() + picker.locator("input").input_value()  # the name box follows
    assert frame.locator(".leaflet-popup").count() == 1  # the map keeps its popup: not redrawn
    page.screenshot(path=tmp_path / "map_click.png")
    print(f"clicked {name}; screenshot: {tmp_path / 'map_click.png'}")
