"""Scale: coverage (against its floor), catchments and matching from 10k to 1M nodes, side by side.

Run: ``.venv/bin/python benchmarks/bench_scale.py [--large] [--sizes 10000,100000] [--catchments-max N]``

Each size runs in its own process (so that the peak RSS is that size's), on the project's grid
generator (:func:`bench_coverage.grid_network`: a jittered 80 m grid, 12 % of streets missing):

| nodes | resources | needs | population points |
|---|---|---|---|
| 10k | 200 | 1k | 5k |
| 100k | 2k | 10k | 50k |
| 1M | 10k | 100k | 500k |
| 4M (``--large``) | 40k | 400k | 2M |

Per size, in one process:

- **coverage, all 12 categories**: scgeo's snap of the population points and resources, then per
  distinct source set one multi-source Dijkstra and the points' distances (15 min at 60 m/min);
- **the floor**: the points' and resources' nearest node from a KD-tree (built in the timing),
  then a bare ``scipy.sparse.csgraph.dijkstra`` multi-source run per category; the ratio
  ``coverage / floor`` is printed next to it;
- **catchments**: 5 / 10 / 15 minutes × 12 categories (:func:`scgeo.analysis.catchments.catchments`:
  a raster of 14 m cells, categories in a process pool of the CPU count), up to ``--catchments-max``
  nodes (default 1,000,000), wall and CPU seconds (the CPU of the pool's workers included);
- **matching**: candidate pairs within 20 min + 3 nearest + the capacity-aware LP assignment
  (8 place-type categories, as ``bench_matching.py``);
- the process's peak RSS (the pool's workers apart: their largest peak);
- the load average of the machine before and after (it is shared).

Then the growth exponent of each figure between consecutive sizes, ``log(t2/t1) / log(n2/n1)``
(1.0 is linear in the network's size).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

SPEED = 60.0
MINUTES = 15.0
MATCH_CATEGORIES = ["salon", "kayoi_no_ba", "shared_meal", "shopping", "dementia_cafe", "consultation",
                    "care_service", "medical"]
SIZES = {10_000: (200, 1_000, 5_000), 100_000: (2_000, 10_000, 50_000), 1_000_000: (10_000, 100_000, 500_000),
         4_000_000: (40_000, 400_000, 2_000_000)}


def _coverage(net, resources, points, categories):
    """scgeo's coverage of the points for every category; the share covered."""
    limit = MINUTES * SPEED
    targets = net.snap(points)
    snaps = net.snap(resources.geometry)
    covered = []
    for code in categories:
        src = snaps.subset((resources["category"] == code).to_numpy())
        node_dist = net.node_distance(src, limit_m=limit)
        covered.append(net.point_distance(node_dist, targets, sources=src) <= limit)
    return float(np.mean(covered))


def _floor(net, resources, points, categories):
    """KD-tree nearest node of the points and resources, then a bare Dijkstra per category."""
    tree = cKDTree(net.node_xy)
    tree.query(np.column_stack([points.x, points.y]), workers=-1)  # on every core, as scgeo's snapping
    _, nearest = tree.query(np.column_stack([resources.geometry.x, resources.geometry.y]), workers=-1)
    for code in categories:
        src = np.unique(nearest[(resources["category"] == code).to_numpy()])
        # directed: the CSR holds both directions (directed=False would symmetrise it again, slower)
        dijkstra(net.graph, directed=True, indices=src, min_only=True, limit=MINUTES * SPEED)


def _catchments(net, resources, categories):
    from scgeo.analysis.catchments import catchments
    from scgeo.analysis.coverage import Coverage
    from scgeo.schema import load_taxonomy

    res = resources.assign(served_area_id=None)
    cov = Coverage(MINUTES, "network", gpd.GeoDataFrame(geometry=[], crs=net.crs),
                   pd.DataFrame({"block_id": [], "level": [], "area_id": []}), gpd.GeoDataFrame(), res, None,
                   list(categories), load_taxonomy(), net, SPEED)
    return catchments(cov, thresholds_min=(5, 10, 15))


def _matching(net, rng, n_res, n_needs):
    from bench_coverage import random_points

    from scgeo.analysis.matching import assign_needs, candidate_pairs, nearest_resources

    resources = gpd.GeoDataFrame({
        "resource_id": [f"R{i:06d}" for i in range(n_res)], "name": "資源", "status": "active",
        "category": rng.choice(MATCH_CATEGORIES, n_res), "provider_type": None, "schedule": None,
        "days_of_week": None, "capacity": pd.array(rng.integers(5, 30, n_res), dtype="Int64"),
        "last_confirmed": pd.NaT, "served_area_id": None}, geometry=random_points(net, n_res, rng).to_numpy(),
        crs=net.crs)
    needs = gpd.GeoDataFrame({
        "need_id": [f"N{i:07d}" for i in range(n_needs)], "category": rng.choice(MATCH_CATEGORIES, n_needs),
        "status": "open", "town_block_id": None}, geometry=random_points(net, n_needs, rng).to_numpy(), crs=net.crs)
    t = time.perf_counter()
    pairs = candidate_pairs(needs, resources, network=net, max_minutes=20)
    t_pairs = time.perf_counter() - t
    t = time.perf_counter()
    nearest_resources(needs, resources, k=3, max_minutes=20, pairs=pairs)
    t_knn = time.perf_counter() - t
    t = time.perf_counter()
    assign_needs(needs, resources, pairs, max_minutes=20)
    t_lp = time.perf_counter() - t
    return {"pairs_s": t_pairs, "knn_s": t_knn, "lp_s": t_lp, "n_pairs": len(pairs)}


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (the catchments' pool)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_size(nodes: int, catchments_max: int) -> dict:
    """All the figures of one size (in this process)."""
    from bench_coverage import grid_network, random_points

    from scgeo.schema import load_taxonomy

    rng = np.random.default_rng(18)
    n_res, n_needs, n_points = SIZES[nodes]
    t = time.perf_counter()
    net = grid_network(round(math.sqrt(nodes)), 80.0, rng)
    out = {"nodes": net.n_nodes, "edges": len(net.edges), "build_s": time.perf_counter() - t,
           "resources": n_res, "needs": n_needs, "points": n_points}
    categories = list(load_taxonomy().categories)[:12]
    resources = gpd.GeoDataFrame({"category": rng.choice(categories, n_res)},
                                 geometry=random_points(net, n_res, rng).to_numpy(), crs=net.crs)
    points = random_points(net, n_points, rng)
    net.snap(points.iloc[:10])  # the edge index is built once per network, not timed
    t = time.perf_counter()
    out["covered_share"] = _coverage(net, resources, points, categories)
    out["coverage_s"] = time.perf_counter() - t
    t = time.perf_counter()
    _floor(net, resources, points, categories)
    out["floor_s"] = time.perf_counter() - t
    if net.n_nodes <= catchments_max:
        t, cpu = time.perf_counter(), _cpu_seconds()
        _catchments(net, resources, categories)
        out["catchments_s"] = time.perf_counter() - t
        out["catchments_cpu_s"] = _cpu_seconds() - cpu
        out["workers_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out.update(_matching(net, rng, n_res, n_needs))
    out["matching_s"] = out["pairs_s"] + out["knn_s"] + out["lp_s"]
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _workers_rss(row: dict) -> str:
    return f" (pool workers ≤ {row['workers_peak_rss_mb']:.0f})" if row.get("workers_peak_rss_mb") else ""


def _exponent(rows, key):
    cells = []
    for a, b in itertools.pairwise(rows):
        if key in a and key in b and a[key] > 0:
            cells.append(f"{math.log(b[key] / a[key]) / math.log(b['nodes'] / a['nodes']):.2f}")
        else:
            cells.append("—")
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also 4M nodes (40k resources, 400k needs)")
    parser.add_argument("--sizes", help="comma-separated node counts (of 10000, 100000, 1000000, 4000000)")
    parser.add_argument("--catchments-max", type=int, default=1_000_000, help="largest size with catchments")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child process of one size
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_size(args.one, args.catchments_max)))
        return
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [10_000, 100_000, 1_000_000]
    if args.large and 4_000_000 not in sizes:
        sizes.append(4_000_000)
    rows, load = [], os.getloadavg()
    for nodes in sizes:
        child = subprocess.run([sys.executable, __file__, "--one", str(nodes), "--catchments-max",
                                str(args.catchments_max)], capture_output=True, text=True,
                               cwd=Path(__file__).parent, check=True)
        rows.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(f"done: {nodes:,} nodes", file=sys.stderr)
    after = os.getloadavg()
    print(f"load average (1/5/15 min): before {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}, "
          f"after {after[0]:.2f} / {after[1]:.2f} / {after[2]:.2f} on {os.cpu_count()} CPUs\n")
    print("| nodes | edges | resources / needs / points | coverage 12 cat. s | floor s | coverage / floor | "
          "catchments 3×12 s (CPU s) | matching s (pairs + kNN + LP) | pairs | peak RSS MB |")
    print("|---:|---:|---|---:|---:|---:|---:|---|---:|---:|")
    for r in rows:
        catch = f"{r['catchments_s']:.1f} ({r['catchments_cpu_s']:.1f})" if "catchments_s" in r else "—"
        print(f"| {r['nodes']:,} | {r['edges']:,} | {r['resources']:,} / {r['needs']:,} / {r['points']:,} | "
              f"{r['coverage_s']:.2f} | {r['floor_s']:.2f} | {r['coverage_s'] / r['floor_s']:.1f}× | {catch} | "
              f"{r['matching_s']:.2f} ({r['pairs_s']:.2f} + {r['knn_s']:.2f} + {r['lp_s']:.2f}) | "
              f"{r['n_pairs']:,} | {r['peak_rss_mb']:.0f}{_workers_rss(r)} |")
    if len(rows) > 1:
        spans = [f"{a['nodes']:,}→{b['nodes']:,}" for a, b in itertools.pairwise(rows)]
        print("\ngrowth exponents (1.0 = linear in the nodes)")
        print("| figure | " + " | ".join(spans) + " |")
        print("|---|" + "---:|" * len(spans))
        for key, label in (("coverage_s", "coverage"), ("floor_s", "floor"), ("catchments_s", "catchments"),
                           ("pairs_s", "matching: pairs"), ("matching_s", "matching: total"),
                           ("peak_rss_mb", "peak RSS")):
            print(f"| {label} | " + " | ".join(_exponent(rows, key)) + " |")


if __name__ == "__main__":
    main()
