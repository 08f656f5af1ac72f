"""Stored XSS in the app: the map page on a workspace full of payloads, in headless chromium.

The map runs in a frame sandboxed without ``allow-same-origin`` (an opaque origin that cannot
reach the Streamlit page), every tooltip and popup in it is opened, a resource whose every text
is a payload is shown in the details box (Markdown: no image, no link); no dialog opens and no
request goes anywhere but the app and the map tile servers.
"""

import os
import shutil
from pathlib import Path

import pytest

from scgeo import Workspace

from .test_xss import ARGS, CHROMIUM, OUTSIDE, TRIGGER, _hostile

ROOT = Path(__file__).resolve().parents[2]
if not CHROMIUM.exists():
    if os.environ.get("SCGEO_REQUIRE_BROWSER") == "1":  # .ci/run: the browser tests must run
        pytest.fail("CI must install Debian's chromium", pytrace=False)
    pytest.skip("Debian chromium is not installed", allow_module_level=True)
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
TILES = ("https://cyberjapandata.gsi.go.jp", "https://tile.openstreetmap.org")


@pytest.fixture(scope="module")
def server(sample_workspace, tmp_path_factory, serve_app):
    folder = tmp_path_factory.mktemp("xss_app")
    copy = folder / "hostile.gpkg"
    shutil.copyfile(sample_workspace.path, copy)
    _hostile(Workspace.open(copy), folder)
    with serve_app(copy, folder / "streamlit.log") as url:
        yield {"url": url, "workspace": copy}


def test_the_app_map_and_details_keep_payloads_as_text(server):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ja-JP")
        dialogs, outside = [], []

        def route(r):
            url = r.request.url
            if url.startswith((server["url"], "data:", "blob:", "about:")):
                r.continue_()
            else:
                outside.append(url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        try:
            page.goto(f"{server['url']}/")
            page.wait_for_selector("h1:has-text('地域資源マップ')", timeout=60_000)
            component = page.wait_for_selector("[data-testid='stCustomComponentV1']", timeout=60_000).content_frame()
            inner = component.wait_for_selector("iframe#map", state="attached", timeout=60_000)
            assert inner.get_attribute("sandbox") == "allow-scripts"
            frame = inner.content_frame()
            frame.wait_for_function("() => window.scgeo && scgeo.ready", timeout=60_000)
            assert frame.evaluate("() => window.origin") == "null"  # opaque: not the app's origin
            reach = frame.evaluate("() => { try { return String(window.parent.parent.document.cookie); }"
                                   " catch (e) { return 'blocked'; } }")
            assert reach == "blocked"
            state = frame.evaluate(TRIGGER)
            assert state["tooltips"] > 10 and state["popups"] > 10 and state["handlers"] == []
            # the details box beside the map: every field of this resource is a payload
            picker = page.locator("[data-testid='stSelectbox']", has_text="社会資源の詳細")
            picker.click()
            page.keyboard.type("onerror")  # filters the names: the first is a resource named '<img … onerror=…>'
            page.keyboard.press("Enter")
            page.wait_for_selector("[data-testid='stMarkdown']:has-text('住所')", timeout=60_000)
            page.wait_for_timeout(500)
            details = page.locator("[data-testid='stMain']")
            found = details.locator("[data-testid='stMarkdown'] img, [data-testid='stMarkdown'] a,"
                                    " [data-testid='stHeading'] img")
            assert found.count() == 0, [found.nth(i).evaluate("e => e.outerHTML") for i in range(found.count())]
            text = details.inner_text()
            assert "![画像]" in text and "<img src=x" in text  # shown as typed
        finally:
            browser.close()
    assert dialogs == []
    assert [u for u in outside if not u.startswith(TILES)] == [], outside
    assert not any(OUTSIDE in u for u in outside)
