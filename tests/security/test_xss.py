"""Stored XSS: texts from data (area, block, resource, category names, notes, contact …) stay text.

Payloads × fields × levels go into a copy of the sample workspace (and a city taxonomy whose
labels are payloads); ``scgeo export-map`` writes the public, the per-area and the internal map,
and each is opened in headless chromium with a dialog handler and a request log. Every tooltip
and popup is opened (tooltips through Leaflet on the map, popups by rendering each marker's
content as Leaflet does), and the page is hovered. No dialog may open, no request may leave the
file, and no element may carry an event-handler attribute.
"""

import os
from pathlib import Path

import pytest

from scgeo import cli, get_settings
from scgeo.settings import set_settings

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
if not CHROMIUM.exists():
    if os.environ.get("SCGEO_REQUIRE_BROWSER") == "1":  # .ci/run: the browser tests must run
        pytest.fail("CI must install Debian's chromium", pytrace=False)
    pytest.skip("Debian chromium is not installed", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")

OUTSIDE = "http://198.51.100.7"  # TEST-NET-2: nothing there; a request to it is the failure we look for
PAYLOADS = (
    '<img src=x onerror="alert(\'img\')">',
    '"><svg onload=alert("svg")>',
    "'><script>alert('script')</script>",
    "</script><script>alert('close')</script>",
    f"![画像]({OUTSIDE}/markdown.png)",
    '<a href="javascript:alert(\'link\')" id="x">リンク</a>',
    f'<iframe src="{OUTSIDE}/frame"></iframe>',
    f'<details open ontoggle=alert("toggle")><img src="{OUTSIDE}/pixel.gif">',
)
RESOURCE_FIELDS = ("name", "address", "schedule", "fee", "contact", "target", "source", "notes")

TRIGGER = """async () => {
  document.querySelectorAll('.leaflet-control-layers-overlays input[type=checkbox]').forEach(box => {
    if (!box.checked) box.click(); });  // every overlay on: hidden town blocks, choropleth …
  const sink = document.createElement('div'); document.body.appendChild(sink);
  let tooltips = 0, popups = 0;
  const render = (content, layer) => { sink.innerHTML = typeof content === 'function' ? content(layer) : content; };
  scgeo.map.eachLayer(l => {
    const t = l.getTooltip && l.getTooltip();
    if (!t) return;
    if (l.eachLayer) l.eachLayer(s => { render(t._content, s); tooltips++; });
    else { try { l.openTooltip(l.getBounds ? l.getBounds().getCenter() : l.getLatLng()); } catch (e) {}
           render(t._content, l); tooltips++; }
  });
  for (const registry of [scgeo.categories, scgeo.needs])
    for (const group of Object.values(registry)) group.getLayers().forEach(m => {
      if (m.getPopup()) { render(m.getPopup()._content, m); popups++; } });
  sink.innerHTML = '';
  await new Promise(r => setTimeout(r, 300));
  const handlers = [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on')))
    .map(e => e.outerHTML.slice(0, 80));
  return {tooltips, popups, handlers, frames: document.querySelectorAll('iframe').length,
          labels: [...document.querySelectorAll('.scgeo-label span')].map(e => e.textContent),
          control: [...document.querySelectorAll('.leaflet-control-layers label')].map(e => e.textContent.trim())};
}"""


def _hostile(ws, tmp_path) -> None:
    areas, resources = ws.areas(), ws.read("resources")
    for level in areas["level"].unique():  # every level gets every payload
        rows = areas.index[areas["level"] == level]
        areas.loc[rows, "name"] = [f"{PAYLOADS[i % len(PAYLOADS)]}{i}" for i in range(len(rows))]
    for k, field in enumerate(RESOURCE_FIELDS):
        resources[field] = [PAYLOADS[(i + k) % len(PAYLOADS)] for i in range(len(resources))]
    with ws.transaction() as tx:
        tx.write("areas", areas)
        tx.write("resources", resources)
        tx.set_meta({"muni_name": PAYLOADS[0]})


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def hostile_taxonomy(tmp_path):
    from scgeo import load_taxonomy

    base = load_taxonomy()
    lines = []
    for kind, entries in (("categories", base.categories), ("provider_types", base.provider_types)):
        for i, code in enumerate(entries):
            label = PAYLOADS[i % len(PAYLOADS)].replace("\\", "\\\\").replace('"', '\\"') + str(i)
            lines += [f"[{kind}.{code}]", f'label = "{label}"', ""]
    path = tmp_path / "city.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    set_settings(get_settings().replace(taxonomy_file=str(path)))
    yield path
    set_settings(None)


def _visit(browser, path: Path) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    dialogs, requests = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
               else route.abort())
    try:
        page.goto(path.as_uri())
        page.wait_for_function("window.scgeo && scgeo.ready", timeout=60_000)
        for x in range(100, 1200, 110):  # hover across the map: areas' tooltips
            page.mouse.move(x, 300 + (x % 300))
        state = page.evaluate(TRIGGER)
        page.mouse.move(640, 430)
        page.wait_for_timeout(200)
    finally:
        page.close()
    return {**state, "dialogs": dialogs, "outside": [u for u in requests if not u.startswith(("file:", "data:"))]}


@pytest.mark.parametrize("mode", ["public", "area", "internal"])
def test_export_map_keeps_every_text_from_data_as_text(mode, sample_copy, tmp_path, browser, hostile_taxonomy):
    _hostile(sample_copy, tmp_path)
    out = tmp_path / f"{mode}.html"
    args = ["export-map", str(sample_copy.path), "--out", str(out)]
    if mode == "area":
        living = sample_copy.areas("living_area")["area_id"].iloc[0]
        args += ["--area", str(living)]
    if mode == "internal":
        args.append("--internal")
    assert cli.main(args) == 0
    state = _visit(browser, out)
    assert state["dialogs"] == [] and state["outside"] == [] and state["handlers"] == [] and state["frames"] == 0
    assert state["tooltips"] > 10 and state["popups"] > 10
    # shown as typed (escaped once, not twice): area labels and layer names carry the payload text
    assert any(label.startswith(PAYLOADS[0]) for label in state["labels"])
    assert any(PAYLOADS[1] in name for name in state["control"])
