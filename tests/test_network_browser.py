"""The network views in a real browser (Debian chromium via Playwright), with the network cut off."""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

if not CHROMIUM.exists():
    if os.environ.get("SCGEO_REQUIRE_BROWSER") == "1":  # .ci/run: the browser tests must run
        pytest.fail("SCGEO_REQUIRE_BROWSER=1 but Debian's chromium is not installed", pytrace=False)
    pytest.skip("Debian chromium is not installed (apt-get install chromium)", allow_module_level=True)

playwright = pytest.importorskip("playwright.sync_api")

from scgeo.maps.network_view import save_network_view  # noqa: E402
from scgeo.report.network import area_subgraph, workspace_graph  # noqa: E402


def test_ecomap_and_area_network_render_offline_and_highlight_on_hover(sample_copy, tmp_path, screenshot_dir):
    ws = sample_copy
    ws.add_feature("organisations", {"org_id": "X1", "name": "<img src=x onerror=alert(1)>", "kind": "npo"})
    graph = workspace_graph(ws, on="2026-10-01")
    eco = save_network_view(graph, tmp_path / "eco.html", title="エコマップ: 第1圏域地域包括支援センター",
                            focus="organisation:G017", depth=1)
    orgs_only = workspace_graph(ws, on="2026-10-01", with_resources=False)
    area = save_network_view(area_subgraph(orgs_only, ws.areas(), "LA1"), tmp_path / "la1.html",
                             title="第1圏域の関係者ネットワーク")
    whole = save_network_view(graph, tmp_path / "all.html", title="さくら市の関係者ネットワーク")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requests, dialogs, errors = [], [], []
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
        for path, shot in ((eco, "network_ecomap.png"), (area, "network_area.png"), (whole, None)):
            page.goto(path.resolve().as_uri())
            n_nodes = page.locator("g.node").count()
            n_ties = page.locator("line.tie").count()
            assert n_nodes > 5 and n_ties > 5
            if shot:
                page.screenshot(path=str(screenshot_dir / shot), full_page=True)
        # hovering the focus dims every tie that does not touch it
        page.goto(eco.resolve().as_uri())
        page.locator('g.node[data-key="organisation:G017"]').hover()
        dimmed = page.locator("line.tie.dim").count()
        touching = page.locator('line.tie[data-a="organisation:G017"], line.tie[data-b="organisation:G017"]').count()
        assert touching > 0 and dimmed == page.locator("line.tie").count() - touching
        page.goto(whole.resolve().as_uri())
        assert page.locator("text=<img src=x onerror=alert(1)>").count() >= 1  # shown as text, not run
        browser.close()
    assert not dialogs and not errors
    assert all(u.startswith("file:") for u in requests)
