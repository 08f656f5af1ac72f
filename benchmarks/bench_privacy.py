"""Disclosure audit: what the attack recovers before and after the ledger, and how long the audit takes.

Run: ``.venv/bin/python benchmarks/bench_privacy.py [--skip-sample] [--skip-city] [--exact] [--before-grids]
[--izumo]``

1. The sample town (さくら市): every table the CLI can publish (5 area levels, 250/500 m mesh,
   300 m hexagons, open and all statuses).
   - *before*: each table suppressed on its own as earlier versions did (zeros shown, mesh and
     hexagon tables listing occupied cells only, the manifest labelling each hidden cell primary —
     so 1..4 — or complementary — so >= 5); the attack over the area tables (and, with
     ``--before-grids``, over all of them: slow, since nearly every cell is pinned).
   - *after*: the same tables published one after the other through ``publish_needs`` (ledger +
     audit); the attack over the ledger.
2. A synthetic city of 200 町丁目 × 13 categories (40 小学校区, 10 中学校区, 5 圏域, 3,000 needs):
   the time to audit-and-publish each area table, open and all statuses, side by side with the
   floor (the exact min and max of every hidden cell, two solves per cell) for the last table.
3. With ``--izumo``: a real city, 出雲市, built as a coordinator would from ``../shared/data`` (A27 小学校区,
   A32 中学校区, e-Stat 小地域 points, an aging rate) with 600 needs placed from 町丁目 addresses (Geolonia
   points): the area tables, then every mesh and hexagon table, each published with the audit
   (about 20 minutes on 2 cores; skipped when ``../shared/data`` is absent).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from scgeo.privacy import (  # noqa: E402
    TOTAL,
    Release,
    aggregate_needs,
    audit_releases,
    publish_needs,
    read_ledger,
    suppression_plan,
)
from scgeo.privacy._audit import build_model  # noqa: E402
from scgeo.workspace import Workspace  # noqa: E402

SURFACE = ([{"level": lv} for lv in ("jhs_district", "es_district", "town_block", "living_area", "municipality")]
           + [{"mesh": 250}, {"mesh": 500}, {"hex_size_m": 300.0}])
STATUSES = (("open",), None)


def publish_in_order(ws: Workspace, surface: list[dict]) -> list[float]:
    """Publish every table of ``surface`` (open needs, then all statuses) through the audit; the seconds of each."""
    timings = []
    for options in surface:
        for statuses in STATUSES:
            start = time.perf_counter()
            result = publish_needs(ws, statuses=statuses, **options)
            timings.append(time.perf_counter() - start)
            manifest = result.manifest
            print(f"  publish {manifest['level']:<13} {'open' if statuses else 'all':<4}: "
                  f"{manifest['suppressed']['cells']:>6} / {manifest['suppressed']['of']:>6} hidden, "
                  f"{result.audit.n_solves:>4} solves, determined before {manifest['audit']['determined_before']}, "
                  f"{timings[-1]:.1f} s", flush=True)
    return timings


def legacy_release(needs, areas, blocks, options, statuses) -> Release:
    """A table as earlier versions published it: zeros shown, occupied grid cells, primary labels."""
    full = aggregate_needs(needs, areas, blocks=blocks, statuses=statuses, threshold=1, **options)
    table = full.table
    inner = table[(table["unit_id"] != TOTAL) & (table["category"] != TOTAL)]
    counts = inner.pivot(index="unit_id", columns="category", values="count").astype(int)
    counts = counts.loc[full.geometry["unit_id"], full.manifest["categories"]]
    if "level" not in options:  # only occupied cells were listed
        counts = counts[counts.sum(axis=1) > 0]
    plan = suppression_plan(counts, 5, hide_zeros=False)
    long = plan.table.stack()
    hidden = plan.mask.stack().to_numpy()
    kinds = plan.reasons.set_index(["row", "column"])["kind"]
    kind = [kinds.get((u, c), "") for u, c in long.index]
    cells = pd.DataFrame({"unit_id": [str(u) for u, _ in long.index], "category": [str(c) for _, c in long.index],
                          "value": pd.array(np.where(hidden, pd.NA, long.to_numpy()), dtype="Int64")})
    cells["lo"] = np.where(np.array(kind) == "primary", 1, np.where(np.array(kind) == "complementary", 5, 0))
    cells["hi"] = np.where(np.array(kind) == "primary", 4, np.inf)
    return Release(unit_system=full.manifest["level"], categories=tuple(full.manifest["categories"]),
                   statuses=tuple(full.manifest["statuses"]), threshold=5, cells=cells)


def sample_town(exact: bool, before_grids: bool = False) -> None:
    from scgeo.demo import build_sample_workspace, find_sample_data

    folder = Path(tempfile.mkdtemp(prefix="scgeo_bench_privacy_"))
    ws = build_sample_workspace(folder / "sample.gpkg", find_sample_data(folder))
    needs, areas, blocks = ws.read("needs"), ws.areas(), ws.town_blocks()
    print("## さくら市 (sample town): every table the CLI can publish")
    legacy = [legacy_release(needs, areas, blocks, o, s) for o in SURFACE for s in STATUSES]
    areas_only = [r for r in legacy if not r.unit_system.startswith(("mesh", "hex"))]
    befores = [("area tables", areas_only)] + ([("area + mesh + hexagon tables", legacy)] if before_grids else [])
    for label, releases in befores:
        start = time.perf_counter()
        audit = audit_releases(releases, needs, areas, blocks, exact=exact)
        cells = audit.cells
        small_pin = cells[(cells["status"] == "pinned") & cells["value"].between(1, 4)]
        print(f"before, {label}: {len(releases)} tables, {len(cells)} distinct hidden cells, "
              f"pinned {int((cells['status'] == 'pinned').sum())} (of them = 1..4: {len(small_pin)}, "
              f"= 1: {int((small_pin['value'] == 1).sum())}), shown in 1..4 {int((cells['status'] == 'small').sum())} "
              f"[{time.perf_counter() - start:.1f} s]")
    timings = publish_in_order(ws, SURFACE)
    start = time.perf_counter()
    audit = audit_releases(read_ledger(ws), needs, areas, blocks, exact=exact)
    s = audit.summary()
    print(f"after: {s['releases']} releases, {s['hidden_cells']} distinct hidden cells, pinned {s['pinned']}, "
          f"shown in 1..4 {s['small']} [{time.perf_counter() - start:.1f} s to re-audit; "
          f"publishing all {len(timings)} tables {sum(timings):.1f} s, slowest {max(timings):.1f} s]")
    shutil.rmtree(folder, ignore_errors=True)


def synthetic_city(folder: Path, *, n_x: int = 20, n_y: int = 10, n_needs: int = 3000, seed: int = 7) -> Workspace:
    """200 square 町丁目 (300 m) in 40 小学校区, 10 中学校区, 5 圏域; 13 categories of needs."""
    from scgeo.schema import load_taxonomy

    rng = np.random.default_rng(seed)
    lon0, lat0, dx, dy = 141.0, 35.0, 300 / 91_000, 300 / 111_000
    rows = []
    for j in range(n_y):
        for i in range(n_x):
            box = shapely.box(lon0 + i * dx, lat0 + j * dy, lon0 + (i + 1) * dx, lat0 + (j + 1) * dy)
            rows.append({"block": f"T{j:02d}{i:02d}", "geometry": box, "i": i, "j": j})
    blocks = gpd.GeoDataFrame(rows, crs=6668)
    blocks["es"] = "E" + (blocks["i"] // 5).astype(str) + "_" + blocks["j"].astype(str).str.zfill(2)  # 5 blocks each
    blocks["jhs"] = "J" + ((blocks["i"] // 10) + 2 * (blocks["j"] // 2)).astype(str).str.zfill(2)
    blocks["la"] = "L" + (blocks["j"] // 2).astype(str)
    levels = []
    for level, column in (("es_district", "es"), ("jhs_district", "jhs"), ("living_area", "la")):
        shapes = blocks.dissolve(column).reset_index()
        levels.append(gpd.GeoDataFrame({"area_id": shapes[column], "name": shapes[column] + "区域", "level": level,
                                        "parent_id": None}, geometry=shapes.geometry, crs=6668))
    muni = gpd.GeoDataFrame({"area_id": ["99999"], "name": ["試験市"], "level": ["municipality"], "parent_id": [None]},
                            geometry=[blocks.union_all()], crs=6668)
    town = gpd.GeoDataFrame({"area_id": blocks["block"], "name": blocks["block"] + "町", "level": "town_block",
                             "parent_id": blocks["es"]}, geometry=blocks.geometry, crs=6668)
    areas = pd.concat([muni, *levels, town], ignore_index=True)
    population = pd.DataFrame({"area_id": town["area_id"], "pop_total": 500, "pop_65plus": 150, "pop_75plus": 80})
    categories = list(load_taxonomy().categories)[:13]
    weights = rng.dirichlet(np.ones(len(blocks)) * 0.7)
    where = rng.choice(len(blocks), size=n_needs, p=weights)
    minx, miny = blocks.bounds["minx"].to_numpy()[where], blocks.bounds["miny"].to_numpy()[where]
    points = shapely.points(minx + rng.random(n_needs) * dx * 0.98 + dx * 0.01,
                            miny + rng.random(n_needs) * dy * 0.98 + dy * 0.01)
    needs = gpd.GeoDataFrame({
        "need_id": [f"N{k:05d}" for k in range(n_needs)],
        "category": rng.choice(categories, size=n_needs, p=rng.dirichlet(np.ones(len(categories)) * 2)),
        "recorded_date": pd.Timestamp("2026-04-01") + pd.to_timedelta(rng.integers(0, 300, n_needs), unit="D"),
        "status": rng.choice(["open", "matched", "resolved"], size=n_needs, p=[0.6, 0.25, 0.15]),
        "status_date": pd.NaT, "town_block_id": blocks["block"].to_numpy()[where],
    }, geometry=points, crs=6668)
    ws = Workspace.create(folder / "city.gpkg", muni_code="99999", muni_name="試験市", overwrite=True)
    with ws.transaction() as tx:
        tx.write("areas", areas)
        tx.write("population", population)
        tx.write("needs", needs)
    return ws


def city(exact: bool) -> None:
    folder = Path(tempfile.mkdtemp(prefix="scgeo_bench_city_"))
    ws = synthetic_city(folder)
    print("## synthetic city: 200 町丁目 × 13 categories, 40 小学校区, 10 中学校区, 5 圏域, 3,000 needs")
    total = 0.0
    for level in ("jhs_district", "es_district", "town_block", "living_area", "municipality"):
        for statuses in STATUSES:
            start = time.perf_counter()
            result = publish_needs(ws, level=level, statuses=statuses)
            took = time.perf_counter() - start
            total += took
            print(f"  publish {level:<13} {'open' if statuses else 'all':<4}: "
                  f"{result.manifest['suppressed']['cells']:>5} / {result.manifest['suppressed']['of']:>5} hidden, "
                  f"{result.audit.n_solves:>3} solves, {result.audit.n_variables} variables, {took:.1f} s")
    print(f"all 10 area tables published with the audit: {total:.1f} s")
    if exact:
        ledger = read_ledger(ws)
        needs, areas, blocks = ws.read("needs"), ws.areas(), ws.town_blocks()
        model = build_model(ledger, needs, areas, blocks)
        start = time.perf_counter()
        attack = model.attack(model.rows["shown"].to_numpy(), exact=True)
        print(f"floor: exact min and max of all {len(attack)} hidden cells over the ledger: "
              f"{model.n_solves} solves, {time.perf_counter() - start:.1f} s; "
              f"pinned {int((attack['status'] == 'pinned').sum())}, small {int((attack['status'] == 'small').sum())}")
    shutil.rmtree(folder, ignore_errors=True)


def izumo() -> None:
    """出雲市 from the real files: recipe, build, needs from addresses, then every table published."""
    import json
    import random

    from scgeo.cli import main as scgeo

    data = ROOT.parent / "shared" / "data"
    if not (data / "izumo").is_dir():
        print("## 出雲市: skipped (../shared/data/izumo not found)")
        return
    folder = Path(tempfile.mkdtemp(prefix="scgeo_bench_izumo_"))
    inputs = folder / "in"
    inputs.mkdir()
    for name in ("Elementary.geojson", "MiddleSchool.geojson"):
        shutil.copy(data / "izumo" / name, inputs / name)
    shutil.copy(data / "estat_chome2015" / "subsets" / "izumo_32203.csv", inputs / "izumo_32203.csv")
    recipe = folder / "recipe.toml"
    scgeo(["recipe", str(inputs), "--muni-code", "32203", "--out", str(recipe)])
    recipe.write_text(recipe.read_text(encoding="utf-8").replace("# aging_rate = 0.30", "aging_rate = 0.33"),
                      encoding="utf-8")
    ws_path = folder / "izumo.gpkg"
    scgeo(["build", str(ws_path), "--recipe", str(recipe)])
    towns = json.loads((data / "geolonia_addresses" / "島根県_出雲市.json").read_text(encoding="utf-8"))
    names = [t["town"] for t in towns][:120]
    rng = random.Random(7)
    needs = pd.DataFrame([{"整理番号": f"N{i + 1:04d}",
                           "受付日": f"2026-{rng.randint(4, 11):02d}-{rng.randint(1, 28):02d}",
                           "種別": rng.choice(["サロン", "配食", "見守り", "移動支援", "買い物支援"]),
                           "住所": f"出雲市{rng.choice(names)}",
                           "対応状況": rng.choice(["未対応", "未対応", "対応中", "解決"])} for i in range(600)])
    needs.to_csv(folder / "needs.csv", index=False)
    gazetteer = folder / "gaz.csv"
    scgeo(["gazetteer", str(gazetteer), str(data / "geolonia_addresses" / "島根県_出雲市.json")])
    scgeo(["import", str(ws_path), str(folder / "needs.csv"), "--layer", "needs", "--geocode",
           f"gazetteer:{gazetteer}"])
    ws = Workspace.open(ws_path)
    print("## 出雲市 (real files): 14 中学校区, 36 小学校区, 218 町丁目 (Voronoi of e-Stat points), 600 needs")
    surface = [{"level": lv} for lv in ("jhs_district", "es_district", "town_block", "municipality")]
    timings = publish_in_order(ws, [*surface, {"mesh": 250}, {"mesh": 500}, {"hex_size_m": 300.0}])
    print(f"all {len(timings)} tables published with the audit: {sum(timings):.1f} s, slowest {max(timings):.1f} s")
    shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-sample", action="store_true")
    parser.add_argument("--skip-city", action="store_true")
    parser.add_argument("--exact", action="store_true", help="also the exact bounds of every hidden cell (slow)")
    parser.add_argument("--before-grids", action="store_true",
                        help="also attack the old tables with the mesh and hexagon ones (slow: most cells are "
                             "pinned and each needs its exact bounds; not finished in 14 min on a 2-core machine)")
    parser.add_argument("--izumo", action="store_true", help="also 出雲市 from ../shared/data (about 20 min)")
    args = parser.parse_args()
    if not args.skip_sample:
        sample_town(args.exact, args.before_grids)
    if not args.skip_city:
        city(args.exact)
    if args.izumo:
        izumo()


if __name__ == "__main__":
    main()
