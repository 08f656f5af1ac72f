"""Benchmark of the council map with 1,000 / 5,000 / 20,000 resources.

Run: ``.venv/bin/python benchmarks/bench_maps.py [--sizes 1000 5000 20000]``. Random resources
inside the sample town (random categories), drawn on the sample town's street network. For
each size: export time, HTML size, and time until the map is interactive in headless Chromium
(navigation start → ``scgeo.ready``, set after every layer is added), with the network cut
off; side by side with a plain folium ``MarkerCluster`` map of the same points (inlined the
same way so it loads offline; its "interactive" is the end of its script).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def random_resources(town, n: int, seed: int = 1) -> gpd.GeoDataFrame:
    from scgeo import load_taxonomy

    rng = np.random.default_rng(seed)
    codes = list(load_taxonomy().categories)
    xmin, ymin, xmax, ymax = town.total_bounds
    points = []
    while len(points) < n:
        cand = shapely.points(rng.uniform(xmin, xmax, 2 * n), rng.uniform(ymin, ymax, 2 * n))
        points.extend(cand[shapely.contains(town.union_all(), cand)][: n - len(points)])
    return gpd.GeoDataFrame({
        "resource_id": [f"B{i:05d}" for i in range(n)], "name": [f"資源{i}" for i in range(n)],
        "category": rng.choice(codes, n), "provider_type": "resident", "address": None,
        "schedule": "毎週水曜 10:00-12:00", "capacity": pd.array(rng.integers(5, 40, n), dtype="Int64"),
        "fee": None, "contact": "0000-00-0000", "status": rng.choice(["active", "active", "paused"], n),
        "last_confirmed": pd.Timestamp("2026-06-01"),
    }, geometry=points, crs=town.crs)


def plain_folium(resources: gpd.GeoDataFrame):
    import folium
    from folium.plugins import MarkerCluster

    from scgeo.maps.offline import leaflet_only

    pts = resources.to_crs(4326)
    m = leaflet_only(folium.Map(tiles=None))
    m.options.update(maxZoom=19)
    cluster = MarkerCluster().add_to(m)
    for name, geom in zip(pts["name"], pts.geometry, strict=True):  # the usual folium way: one Marker each
        folium.Marker([geom.y, geom.x], popup=name).add_to(cluster)
    xmin, ymin, xmax, ymax = pts.total_bounds
    m.fit_bounds([[ymin, xmin], [ymax, xmax]])
    m.get_root().script.add_child(folium.Element("window.plainReadyAt = performance.now();"))
    return m


def interactive_ms(browser, path: Path, flag: str, *, runs: int = 3) -> tuple[float, float, int]:
    """Median over ``runs`` page loads of (ms until ``flag``, ms until the next frame is painted)."""
    ready, painted, layers = [], [], 0
    for _ in range(runs):
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
        page.goto(path.resolve().as_uri(), timeout=120000)
        page.wait_for_function(f"typeof {flag} !== 'undefined'", timeout=120000)
        ready.append(page.evaluate(flag))
        painted.append(page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))"))
        layers = page.evaluate("() => window.scgeo ? Object.keys(scgeo.categories).length : 0")
        page.close()
    return float(np.median(ready)), float(np.median(painted)), int(layers)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from scgeo.demo import build_sample_workspace
    from scgeo.maps import resource_map, save_offline
    from scgeo.maps.resource_map import VECTOR_BASEMAP

    tmp = Path(tempfile.mkdtemp(prefix="bench_maps_"))
    ws = build_sample_workspace(tmp / "ws.gpkg", ROOT / "data")
    areas = ws.areas()
    town = areas[areas["level"] == "municipality"]
    streets, lines = ws.read("network_edges"), ws.read("basemap_lines")
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for n in args.sizes:
            resources = random_resources(town, n)
            t0 = time.perf_counter()
            m = resource_map(areas, resources, streets=streets, basemap_lines=lines, basemap=VECTOR_BASEMAP,
                             today=dt.date(2026, 11, 1))
            ours = save_offline(m, tmp / f"ours_{n}.html")
            t_ours = time.perf_counter() - t0
            t0 = time.perf_counter()
            plain = save_offline(plain_folium(resources), tmp / f"plain_{n}.html")
            t_plain = time.perf_counter() - t0
            ready_ours, paint_ours, n_layers = interactive_ms(browser, ours, "scgeo.readyAt")
            ready_plain, paint_plain, _ = interactive_ms(browser, plain, "window.plainReadyAt")
            rows.append((n, t_ours, ours.stat().st_size / 1e6, ready_ours / 1000, paint_ours / 1000, n_layers,
                         t_plain, plain.stat().st_size / 1e6, ready_plain / 1000, paint_plain / 1000))
        browser.close()
    print("resources | scgeo export s | MB | layers added s | painted s | category layers"
          " | folium MarkerCluster export s | MB | script done s | painted s")
    print("---:|---:|---:|---:|---:|---:|---:|---:|---:|---:")
    for r in rows:
        print(f"{r[0]:,} | {r[1]:.1f} | {r[2]:.1f} | {r[3]:.2f} | {r[4]:.2f} | {r[5]} | {r[6]:.1f} | {r[7]:.1f}"
              f" | {r[8]:.2f} | {r[9]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
