"""The app in a real (headless) browser with every request off this computer aborted.

Starts ``streamlit run app/streamlit_app.py`` on a free loopback port, visits every page, checks
that the map's iframe drew every resource with Leaflet inlined in the page (no CDN), applies a
filter, and saves the screenshots in docs/img/app_<page>.png.
"""

import getpass
import os
import re
import shutil
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# url path: (title, heading, an element that shows the page has finished drawing)
PAGES = {
    "resources": ("社会資源", "社会資源の一覧と更新", "[data-testid='stDataFrameResizable']"),
    "import": ("データ取込", "データ取込", "[data-testid='stFileUploaderDropzone']"),
    "export": ("出力", "出力(協議体・関係機関向け)", "[data-testid='stDownloadButton'] >> nth=0"),
}

if not Path(CHROMIUM).exists():
    if os.environ.get("SCGEO_REQUIRE_BROWSER") == "1":  # .ci/run: the browser tests must run
        pytest.fail(f"{CHROMIUM} is required (SCGEO_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk)", allow_module_level=True)
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
playwright_error = pytest.importorskip("playwright.sync_api").Error


@pytest.fixture(scope="module")
def server(sample_workspace, tmp_path_factory, serve_app):
    """The app served on 127.0.0.1 from a copy of the sample workspace."""
    copy = tmp_path_factory.mktemp("browser") / "sample.gpkg"
    shutil.copyfile(sample_workspace.path, copy)
    with serve_app(copy, copy.parent / "streamlit.log") as url:
        yield {"url": url, "workspace": copy}


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


# Streamlit's own state on its root element: the script has finished and nothing drawn is left stale
IDLE = ("() => document.querySelector('[data-testid=stApp]')?.dataset.testScriptState === 'notRunning' && "
        "!document.querySelector('[data-stale=\"true\"]') && "
        "!document.querySelector('[data-testid=\"stStatusWidget\"] button')")


# The page drawn twice in a row, half a second apart, the same: a widget's code is fetched when it is
# first drawn, and its place stays empty until then (after the script has finished)
SETTLED = """() => {
    const now = document.querySelectorAll('[data-testid]').length + ':' + document.body.innerText.length;
    const before = window.scgeoSettled;
    window.scgeoSettled = now;
    return before === now;
}"""


def _wait_idle(page):
    page.wait_for_timeout(100)  # a rerun the last action asked for has been requested
    page.wait_for_function(IDLE, timeout=60_000)
    page.evaluate("() => { delete window.scgeoSettled; }")
    page.wait_for_function(SETTLED, polling=500, timeout=60_000)


def _page_shot(page, path) -> None:
    """A screenshot of the whole page: Streamlit scrolls inside its main block (not the document), so
    the window is made as tall as that block for the picture (at most 3,000 px), then put back."""
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]')?.scrollHeight || 0")
    if height > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": min(height + 20, 3000)})
        page.wait_for_timeout(400)  # the layout follows the window
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size(size)


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
    _page_shot(page, IMG / "app_map_filtered.png")

    for path, (title, heading, ready) in PAGES.items():
        page.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()
        page.wait_for_url(f"**/{path}", timeout=30_000)
        page.wait_for_selector(f"h1:has-text('{heading}')", timeout=30_000)
        page.wait_for_selector(ready, state="visible", timeout=30_000)
        _wait_idle(page)
        assert page.title().startswith(title)
        assert not page.locator("[data-testid='stException']").count()
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


# ------------------------------------------------------------------ every page: words and map furniture

# url path: (heading, an element that shows the page has drawn, a button to press first, whether it has maps);
# every page of app/streamlit_app.py
EVERY_PAGE = {
    "map": ("地域資源マップ", "[data-testid='stCustomComponentV1']", None, True),
    "resources": ("社会資源の一覧と更新", "[data-testid='stDataFrameResizable']", None, False),
    "verify": ("社会資源の確認", "[data-testid='stDataFrameResizable']", None, False),
    "gaps": ("ギャップ分析(空白地帯)", "[data-testid='stIFrame']", None, True),
    "matching": ("ニーズと資源のマッチング", "[data-testid='stDataFrameResizable']", "マッチングを実行", False),
    "needs": ("ニーズの集計", "[data-testid='stIFrame']", None, True),
    "network": ("関係者ネットワーク", "[data-testid='stIFrame']", None, False),
    "siting": ("資源開発(候補地の検討)", "[data-testid='stIFrame']", None, True),
    "activities": ("活動記録", "[data-testid='stForm']", None, False),
    "plan": ("計画・報告", "[data-testid='stDataFrameResizable']", None, False),
    "import": ("データ取込", "[data-testid='stFileUploaderDropzone']", None, False),
    "export": ("出力(協議体・関係機関向け)", "[data-testid='stDownloadButton'] >> nth=0", None, False),
    "users": ("利用者と役割", "[data-testid='stForm']", None, False),
}
# Latin words a Japanese user reads as names, not as English left behind
ALLOWED_WORDS = {"scgeo", "CSV", "Excel", "HTML", "PDF", "JSON", "GeoPackage", "GeoJSON", "Shapefile", "OpenStreetMap",
                 "Leaflet", "UTF", "Shift_JIS", "MB", "KB", "km", "ha", "ID", "SC", "QGIS", "EPSG", "xlsx", "BOM",
                 "NPO", "QR",
                 "suzuki",  # the example login name (例: suzuki.h)
                 "yyyy", "mm", "dd"}  # the empty date field's own mask (yyyy/mm/dd), read as 年/月/日
WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{2,}(?:[_:][A-Za-z]+)*")
PATHLIKE = re.compile(r"\S*[/\\]\S*|\S*\.(?:gpkg|csv|xlsx|html|pdf|json|geojson|txt)\b"
                      r"|\b[A-Za-z]{1,6}\d*(?:-[0-9a-f]*\d[0-9a-f]*)+\b")  # and ids: N-0acadb, grid200-011-009

# The text a user reads: visible text, without code samples, inputs and icon ligatures; with the
# hints of empty fields and the cells the data grids draw on canvas (their accessible copy).
VISIBLE_TEXT = """() => {
    const root = document.body;
    // visually hidden text (a screen reader's "skip to content" link, 1 px boxes) is not on screen
    for (const e of root.querySelectorAll('a, span, div')) {
        const r = e.getBoundingClientRect(), s = getComputedStyle(e);
        const tiny = r.width <= 1 && r.height <= 1 && s.overflow === 'hidden';
        if (tiny || s.clip === 'rect(0px, 0px, 0px, 0px)' || s.clipPath === 'inset(50%)')
            e.dataset.scgeoHidden = '1';
    }
    const copy = root.cloneNode(true);
    const skip = 'code, pre, input, textarea, [data-testid=stIconMaterial], script, style, [data-scgeo-hidden]';
    copy.querySelectorAll(skip).forEach(e => e.remove());
    const host = document.createElement('div');
    host.style.cssText = 'position:absolute;left:-99999px;top:0;width:1200px';
    host.appendChild(copy); document.body.appendChild(host);
    const text = host.innerText; host.remove();
    // the grey hint an empty field shows (「Choose options」 unless the page gives its own)
    const hints = [...root.querySelectorAll('input[placeholder], textarea[placeholder]')]
        .filter(e => !e.value && e.offsetParent && !e.closest('[data-scgeo-hidden]')).map(e => e.placeholder);
    const cells = [...root.querySelectorAll('[role=gridcell], [role=columnheader]')].map(c => c.textContent)
        .filter(t => t !== 'true' && t !== 'false');  // checkbox cells, drawn as boxes
    return [text, ...hints, ...cells].join('\\n');
}"""

# The grids' empty cells: Streamlit draws a missing value (None, NaN, NaT) as a grey 「None」 on the canvas,
# and leaves the accessible copy empty. The grid's own cell function says which cells those are; it is
# reached through React's fiber of the canvas (a Streamlit internal: null when it cannot be found).
GRID_MISSING = """() => [...document.querySelectorAll('[data-testid=data-grid-canvas]')].map(canvas => {
    const key = Object.keys(canvas).find(k => k.startsWith('__reactFiber'));
    let fiber = key && canvas[key];
    while (fiber && !(fiber.memoizedProps && fiber.memoizedProps.getCellContent)) fiber = fiber.return;
    if (!fiber) return null;
    const {getCellContent, columns, rows} = fiber.memoizedProps, missing = [];
    for (let r = 0; r < rows; r++)
        for (let c = 0; c < columns.length; c++)
            if (getCellContent([c, r]).isMissingValue) missing.push(`${columns[c].title || '(index)'} row ${r + 1}`);
    return missing;
})"""

# Map furniture boxes inside a map's window: nothing may overlap another box
FURNITURE = """() => {
    const box = s => { const e = document.querySelector(s); if (!e || !e.offsetParent) return null;
        const r = e.getBoundingClientRect(); return r.width && r.height ? r : null; };
    const hit = (a, b) => !!(a && b) &&
        !(a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top);
    const boxes = {title: box('.scgeo-title'), layers: box('.leaflet-control-layers'),
                   zoom: box('.leaflet-control-zoom'), legend: box('.scgeo-legend'),
                   scale: box('.leaflet-control-scale'),
                   attribution: box('.leaflet-control-attribution')};
    const names = Object.keys(boxes), overlaps = [];
    for (let i = 0; i < names.length; i++)
      for (let j = i + 1; j < names.length; j++)
        if (hit(boxes[names[i]], boxes[names[j]])) overlaps.push(names[i] + '/' + names[j]);
    const spans = k => [...document.querySelectorAll('.scgeo-label-' + k + ' span')]
        .filter(e => getComputedStyle(e).visibility !== 'hidden').map(e => e.getBoundingClientRect());
    const counts = spans('count'), names2 = [...spans('jhs_district'), ...spans('living_area')];
    for (const c of counts) for (const n of names2) if (hit(c, n)) overlaps.push('need count/district name');
    const map = document.querySelector('.leaflet-container').getBoundingClientRect();
    for (const [k, r] of Object.entries(boxes)) if (r && (r.right > map.right + 1 || r.bottom > map.bottom + 1))
        overlaps.push(k + ' outside the map');
    return overlaps;
}"""

# The town (what the map was fitted to) on the map as first drawn: the boxes it runs under, and how much
# of the room beside the furniture it fills, across or down (the larger): across, the room is the map's
# width less the boxes level with the town on either side; down, its height less the boxes above and below.
TOWN_FIT = """() => {
    const b = scgeo.fitBounds;
    if (!b) return null;
    const map = scgeo.map, m = map.getContainer().getBoundingClientRect();
    const nw = map.latLngToContainerPoint(b.getNorthWest()), se = map.latLngToContainerPoint(b.getSouthEast());
    const town = {left: m.left + nw.x, top: m.top + nw.y, right: m.left + se.x, bottom: m.top + se.y};
    const hit = (a, c) => !(a.right <= c.left || c.right <= a.left || a.bottom <= c.top || c.bottom <= a.top);
    const boxes = [...document.querySelectorAll('.scgeo-title, .scgeo-banner, .leaflet-control')]
        .filter(e => e.offsetParent).map(e => [e.className, e.getBoundingClientRect()])
        .filter(([, r]) => r.width && r.height);
    let left = m.left, right = m.right, top = m.top, bottom = m.bottom;
    for (const [, r] of boxes) {
        const centre = {x: (r.left + r.right) / 2, y: (r.top + r.bottom) / 2};
        if (r.bottom > town.top && r.top < town.bottom) {  // level with the town
            if (centre.x < (m.left + m.right) / 2) left = Math.max(left, r.right); else right = Math.min(right, r.left);
        }
        if (r.right > town.left && r.left < town.right) {  // above or below it
            if (centre.y < (m.top + m.bottom) / 2) top = Math.max(top, r.bottom); else bottom = Math.min(bottom, r.top);
        }
    }
    return {under: boxes.filter(([, r]) => hit(r, town)).map(([name]) => name),
            fill: Math.max((town.right - town.left) / (right - left), (town.bottom - town.top) / (bottom - top))};
}"""

# Tables whose columns all show at 1280 px, none scrolled away or cut: data grids that scroll sideways
# (their columns wider than the grid) and cells of static tables wider than their column or the window
TABLES_CUT = """() => [
    ...[...document.querySelectorAll('[data-testid=stDataFrameResizable] .dvn-scroller')]
        .filter(s => s.scrollWidth > s.clientWidth + 1).map(s => 'a data grid scrolls sideways'),
    ...[...document.querySelectorAll('[data-testid=stTable] th, [data-testid=stTable] td')]
        .filter(c => c.scrollWidth > c.clientWidth + 1 || c.getBoundingClientRect().right > innerWidth)
        .map(c => 'cut: ' + c.innerText.slice(0, 20))]"""
TABLES_FIT = {"plan", "siting"}  # pages whose tables were cut at 1280 px (a handful of columns each)

# The network's picture in its frame: the nodes (and their labels) drawn outside the picture, or the
# picture outside the frame's window (cut off by the frame)
PICTURE_CUT = """() => {
    const svg = document.querySelector('svg[aria-label]');
    if (!svg || !document.querySelector('g.node')) return null;
    const s = svg.getBoundingClientRect(), out = (r, b) => r.bottom > b.bottom + 0.5 || r.top < b.top - 0.5 ||
        r.right > b.right + 0.5 || r.left < b.left - 0.5;
    const window_ = {top: 0, left: 0, right: innerWidth, bottom: innerHeight};
    return [...(out(s, window_) ? ['the picture'] : []),
            ...[...document.querySelectorAll('g.node')].filter(g => out(g.getBoundingClientRect(), s))
                .map(g => g.textContent)];
}"""

LEGEND_STATE = """() => {
    const rows = [...document.querySelectorAll('.scgeo-legend .row[data-layers]')];
    const control = scgeo.layersControl, on = {};
    control._layers.forEach(o => { on[o.name] = scgeo.map.hasLayer(o.layer); });
    const wrong = rows.filter(r => (r.style.display !== 'none') !== JSON.parse(r.dataset.layers).some(n => on[n]));
    return {wrong: wrong.map(r => r.innerText), title: document.title,
            inactive: [...document.querySelectorAll('.scgeo-legend .scgeo-badge.inactive')].map(b => b.textContent)};
}"""


def _english(text: str) -> list[str]:
    words = WORD.findall(PATHLIKE.sub(" ", text))
    # the login name is data: the history and the ledger record who wrote (here, whoever runs the tests)
    return sorted({w for w in words if w not in ALLOWED_WORDS | {getpass.getuser()}})


def _map_windows(page):
    """The map documents on the page (our component's inner frame, or plain st.iframe frames)."""
    frames = []
    for handle in page.query_selector_all("[data-testid='stCustomComponentV1'], [data-testid='stIFrame']"):
        frame = handle.content_frame()
        if handle.get_attribute("data-testid") == "stCustomComponentV1":
            frame = frame.wait_for_selector("#map", state="attached", timeout=60_000).content_frame()
        else:  # st.iframe(sandboxed(...)): the map runs in a frame sandboxed to scripts, one level down
            frame = frame.wait_for_selector("iframe", state="attached", timeout=60_000).content_frame()
        frame.wait_for_function("() => window.scgeo && scgeo.ready && scgeo.layersControl", timeout=180_000)
        frames.append(frame)
    return frames


def _into_view(frame) -> None:
    """Scroll the map into the window, as a user does to see it, and wait until it has its frame's size.

    Chromium does not render a cross-origin frame out of sight (the map's frame is sandboxed to
    scripts, so it is one): its layout and ResizeObserver wait until it shows. A map whose frame
    Streamlit resized while it was below the fold is refitted only then, so measured before it
    would be stale (the fit of the old size against the boxes laid out anew).
    """
    element = frame.frame_element()
    element.scroll_into_view_if_needed()
    box = element.bounding_box()
    frame.wait_for_function("([w, h]) => { const s = scgeo.map.getSize(); "
                            "return Math.abs(s.x - w) < 2 && Math.abs(s.y - h) < 2; }",
                            arg=[box["width"], box["height"]], timeout=30_000)


def _check_map(frame, where: str) -> None:
    _into_view(frame)
    assert frame.evaluate(FURNITURE) == [], where
    town = frame.evaluate(TOWN_FIT)
    if town is not None:  # a map of something: the town fills the room its furniture leaves, under none of it
        assert town["under"] == [], f"{where}: the town runs under {town['under']}"
        assert town["fill"] >= 0.7, f"{where}: the town fills {town['fill']:.0%} of the free map"
    state = frame.evaluate(LEGEND_STATE)
    assert state["wrong"] == [], f"{where}: legend rows of switched-off layers"
    assert any(w in state["title"] for w in ("マップ", "地図", "ニーズ", "空白地帯", "候補地")), where
    assert all(t.strip() == "" for t in state["inactive"]), where  # no 「字」 on the 休止中・廃止 sample
    # no tile loads here (every request off this computer is aborted): where the tiles give way to the
    # street map, the title's 「背景:」 then credits what is on screen, not 地理院タイル
    frame.wait_for_function("() => !scgeo.tileFallback || scgeo.basemapFallback", timeout=15_000)
    credit = frame.evaluate("() => { const c = document.querySelector('.scgeo-background'); "
                            "return c ? c.textContent : null; }")
    if frame.evaluate("() => !!scgeo.basemapFallback"):
        assert credit and "地理院タイル" not in credit, f"{where}: 背景: {credit}"
    # the layer list opened: the legend steps aside, nothing overlaps
    frame.evaluate("() => scgeo.layersControl.expand()")
    frame.wait_for_timeout(200)
    assert frame.evaluate(FURNITURE) == [], f"{where}, layer list open"
    frame.evaluate("() => scgeo.layersControl.collapse()")
    text = frame.evaluate(VISIBLE_TEXT)
    assert _english(text) == [], f"{where}: English in the map"


def _none_shown(text: str) -> list[str]:
    """Where the page shows Python's 「None」 (an empty value printed as is): the text around each."""
    return [text[max(0, m.start() - 40):m.end() + 40] for m in re.finditer(r"(?<![A-Za-z])None(?![A-Za-z])", text)]


@pytest.mark.parametrize("path", list(EVERY_PAGE))
def test_every_page_in_japanese_without_overlaps(path, server, browser_page, screenshot_dir):
    """The page opened directly by its address: no English, no 「None」, no overlapping map furniture."""
    page = browser_page
    heading, ready, action, has_maps = EVERY_PAGE[path]
    sizes = [(1280, 800), (1920, 1080)] if has_maps else [(1280, 800)]  # pages without maps lay out the same way
    for width, height in sizes:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{server['url']}/{path}")
        page.wait_for_selector(f"h1:has-text('{heading}')", timeout=60_000)
        if action:
            page.get_by_role("button", name=action).click()
        # the first element matching may sit in a closed tab: wait for one that shows
        page.wait_for_selector(f"{ready} >> visible=true", timeout=60_000)
        _wait_idle(page)
        where = f"/{path} at {width}×{height}"
        assert not page.locator("[role=dialog]").count(), f"{where}: a dialog (page not found?)"
        assert not page.locator("[data-testid='stException']").count(), where
        if has_maps:
            for frame in _map_windows(page):
                _check_map(frame, where)
        for frame in page.frames:  # the page and every frame in it (maps, the network's picture)
            text = frame.evaluate(VISIBLE_TEXT)
            assert _none_shown(text) == [], f"{where}: 「None」 shown"
            cut = frame.evaluate(PICTURE_CUT)
            assert not cut, f"{where}: cut off in the network's picture: {cut[:5]}"
            grids = frame.evaluate(GRID_MISSING)
            assert None not in grids, f"{where}: a data grid's cells could not be read"
            assert [cell for grid in grids for cell in grid][:5] == [], f"{where}: 「None」 shown in a grid"
            left = _english(text)
            context = [text[max(0, text.find(w) - 40):text.find(w) + 40] for w in left[:3]]
            assert left == [], f"{where}: English left in the page: {context}"
        if width == 1280 and path in TABLES_FIT:
            assert page.evaluate(TABLES_CUT) == [], f"{where}: a table's columns do not all show"
        if width == 1280:
            _page_shot(page, screenshot_dir / f"app_{path}.png")
