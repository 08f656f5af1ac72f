"""Siting speed: scgeo exact MCLP and greedy against pysal spopt's MCLP (CBC and HiGHS), same instance.

Run: ``.venv/bin/python benchmarks/bench_siting.py [--skip-sample] [--skip-generated] [--spopt-limit 1800]``
(``--spopt-limit 0`` leaves spopt out.)

Two instances, 60 existing sites kept open (the sample town: its active 通いの場) and 10 new:
1. the sample town さくら市, candidates every 200 m on its streets, 65+ on the streets;
2. a generated street grid of >= 100,000 nodes with 100,000 demand points and 1,000 candidates.

Walking threshold 15 minutes at 60 m/min. End to end means: scgeo = bounded searches to the pairs
within the threshold + merged MILP; spopt = the dense demand × facility cost matrix (one Dijkstra
per facility, bounded at the threshold, as a spopt user would compute it on a network) +
``MCLP.from_cost_matrix`` + solve. Objectives are compared on the same pairs. Peak memory is
measured in a second run (tracemalloc slows allocation-heavy code, so it is not timed).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
from bench_coverage import grid_network, random_points
from scipy.sparse.csgraph import dijkstra

from scgeo.analysis.coverage import _snap_of
from scgeo.analysis.siting import Demand, build_problem, greedy_mclp, solve_mclp
from scgeo.analysis.siting._solve import evaluate

MINUTES, SPEED, K_NEW, N_EXISTING = 15.0, 60.0, 10, 60
warnings.filterwarnings("ignore", category=DeprecationWarning)  # spopt's use of PuLP


def generated_instance(rng):
    net = grid_network(330, 80.0, rng)
    pts = random_points(net, 100_000, rng)
    snap = net.snap(pts)
    weights = rng.gamma(2.0, 1.5, len(pts))  # older people per demand point
    points = gpd.GeoDataFrame({"block_id": "B", "demand": weights, "pop_65plus": weights, "pop_75plus": weights / 2,
                               "pop_total": weights * 3, "edge": snap.edge, "along_m": snap.along_m,
                               "snap_m": snap.snap_m, "too_far": snap.too_far}, geometry=pts.to_numpy(), crs=net.crs)
    facilities = random_points(net, N_EXISTING + 1000, rng)
    existing = gpd.GeoDataFrame({"resource_id": [f"E{i:03d}" for i in range(N_EXISTING)], "capacity": pd.NA},
                                geometry=facilities.iloc[:N_EXISTING].to_numpy(), crs=net.crs)
    candidates = gpd.GeoDataFrame({"candidate_id": [f"C{i:04d}" for i in range(1000)], "capacity": pd.NA},
                                  geometry=facilities.iloc[N_EXISTING:].to_numpy(), crs=net.crs)
    return net, Demand(points, "65plus", "65歳以上"), existing, candidates


def sample_instance():
    from pathlib import Path

    import scgeo
    from scgeo.analysis.siting import demand_points, grid_candidates
    from scgeo.demo import run_demo
    from scgeo.network import WalkNetwork

    out = Path("out/bench_siting")
    path = out / "workspace.gpkg"
    if not path.exists():
        run_demo(out, data_dir=Path(__file__).resolve().parents[1] / "data", serve=False, log=lambda _m: None)
    ws = scgeo.Workspace.open(path)
    net = WalkNetwork.from_workspace(ws)
    res = ws.read("resources")
    existing = res[(res["category"] == "kayoi_no_ba") & (res["status"] == "active")].assign(capacity=pd.NA)
    existing = existing[existing["served_area_id"].isna()].sort_values("resource_id").reset_index(drop=True)
    candidates = grid_candidates(net, spacing_m=200).assign(capacity=pd.NA)
    return net, demand_points(ws.town_blocks(), net), existing, candidates


def scgeo_run(net, demand, existing, candidates):
    t = time.perf_counter()
    problem = build_problem(net, demand, existing, candidates, minutes=MINUTES, speed_m_per_min=SPEED)
    t_pairs = time.perf_counter() - t
    t = time.perf_counter()
    sol = solve_mclp(problem, K_NEW)
    t_solve = time.perf_counter() - t
    t = time.perf_counter()
    greedy = greedy_mclp(problem, K_NEW)
    t_greedy = time.perf_counter() - t
    return problem, sol, greedy, t_pairs, t_solve, t_greedy


def dense_cost(net, demand, existing, candidates):
    """The demand × facility matrix in minutes (inf beyond the threshold), one bounded Dijkstra per facility."""
    fac = pd.concat([existing.geometry.to_crs(net.crs), candidates.geometry.to_crs(net.crs)], ignore_index=True)
    fsnap = net.snap(gpd.GeoSeries(fac.to_numpy(), crs=net.crs))
    tsnap = _snap_of(demand.points)
    eu, ev = net.edges["u_idx"].to_numpy(), net.edges["v_idx"].to_numpy()
    length = net.edges["length_m"].to_numpy()
    tu, tv, ta, tl = eu[tsnap.edge], ev[tsnap.edge], tsnap.along_m, length[tsnap.edge]
    cost = np.empty((len(tsnap), len(fsnap)), dtype=np.float32)
    limit = MINUTES * SPEED
    for start in range(0, len(fsnap), 64):
        idx = np.arange(start, min(start + 64, len(fsnap)))
        d_u = dijkstra(net.graph, indices=eu[fsnap.edge[idx]], limit=limit)
        d_v = dijkstra(net.graph, indices=ev[fsnap.edge[idx]], limit=limit)
        wu = (fsnap.snap_m + fsnap.along_m)[idx][:, None]
        wv = (fsnap.snap_m + length[fsnap.edge] - fsnap.along_m)[idx][:, None]
        node = np.minimum(d_u + wu, d_v + wv)  # facilities × nodes
        dist = np.minimum(node[:, tu] + ta, node[:, tv] + (tl - ta))
        same = fsnap.edge[idx][:, None] == tsnap.edge[None, :]
        direct = np.abs(fsnap.along_m[idx][:, None] - ta[None, :]) + fsnap.snap_m[idx][:, None]
        dist = np.where(same, np.minimum(dist, direct), dist) + tsnap.snap_m[None, :]
        cost[:, idx] = (dist / SPEED).T
    return cost


def spopt_run(cost, weights, n_existing, solver_name, limit_s):
    import pulp
    from spopt.locate import MCLP

    t = time.perf_counter()
    predefined = np.r_[np.ones(n_existing), np.zeros(cost.shape[1] - n_existing)].astype(int)
    model = MCLP.from_cost_matrix(cost, weights, service_radius=MINUTES, p_facilities=n_existing + K_NEW,
                                  predefined_facilities_arr=predefined, name="mclp")
    t_build = time.perf_counter() - t
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=limit_s) if solver_name == "CBC" else \
        pulp.HiGHS(msg=False, timeLimit=limit_s)
    t = time.perf_counter()
    model.solve(solver)
    t_solve = time.perf_counter() - t
    return pulp.value(model.problem.objective), pulp.LpStatus[model.problem.status], t_build, t_solve


def bench(label, net, demand, existing, candidates, spopt_limit):
    print(f"\n## {label}: {net.n_nodes:,} nodes, {len(net.edges):,} edges; {len(demand.points):,} demand points, "
          f"{len(existing)} existing + {len(candidates):,} candidates, {K_NEW} new, {MINUTES:g} min at {SPEED:g} m/min")
    problem, sol, greedy, t_pairs, t_solve, t_greedy = scgeo_run(net, demand, existing, candidates)
    greedy_value = evaluate(problem, greedy)[0]
    tracemalloc.start()
    scgeo_run(net, demand, existing, candidates)
    peak_scgeo = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print("| run | pairs/matrix s | model+solve s | end to end s | objective (people) | status | peak MB |")
    print("|---|---:|---:|---:|---:|---|---:|")
    total = t_pairs + t_solve
    print(f"| scgeo exact MCLP (HiGHS, merged) | {t_pairs:.2f} | {t_solve:.2f} | {total:.2f} | {sol.objective:,.3f} | "
          f"{'optimal' if sol.optimal else 'time limit'}; {len(problem.row):,} pairs → {sol.n_merged:,} rows | "
          f"{peak_scgeo:.0f} |")
    print(f"| scgeo greedy | {t_pairs:.2f} | {t_greedy:.2f} | {t_pairs + t_greedy:.2f} | {greedy_value:,.3f} | "
          f"gap {100 * (sol.objective - greedy_value) / sol.objective:.3f}% | |")
    if spopt_limit <= 0:
        return
    t = time.perf_counter()
    cost = dense_cost(net, demand, existing, candidates)
    t_matrix = time.perf_counter() - t
    weights = demand.points["demand"].to_numpy()
    for name in ("HiGHS", "CBC"):
        try:
            value, status, t_build, t_spopt = spopt_run(cost, weights, len(existing), name, spopt_limit)
        except Exception as exc:  # report, do not hide: the run still prints scgeo's figures
            print(f"| spopt MCLP ({name}) | {t_matrix:.2f} | failed: {type(exc).__name__}: {exc} | | | | |")
            continue
        e2e = t_matrix + t_build + t_spopt
        same = "same" if abs(value - sol.objective) <= 1e-6 * max(1.0, sol.objective) else "DIFFERENT"
        print(f"| spopt MCLP ({name}) | {t_matrix:.2f} | {t_build + t_spopt:.2f} (build {t_build:.1f}) | {e2e:.2f} | "
              f"{value:,.3f} | {status}; objective {same}; scgeo {e2e / total:.0f}× faster | "
              f"{cost.nbytes / 2**20:.0f} (matrix) |")
        sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-sample", action="store_true")
    parser.add_argument("--skip-generated", action="store_true")
    parser.add_argument("--spopt-limit", type=float, default=1800.0, help="seconds per spopt solve (0: skip spopt)")
    args = parser.parse_args()
    if not args.skip_sample:
        bench("sample town さくら市", *sample_instance(), args.spopt_limit)
    if not args.skip_generated:
        bench("generated grid", *generated_instance(np.random.default_rng(7)), args.spopt_limit)
    print(f"\nprocess peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
