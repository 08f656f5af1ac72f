"""Concurrent editors on both workspace backends: edits/s, conflict rate, p95 latency, lost updates.

The load of issue #17: 20 editors each changing their own resource and 5 changing the same one,
all at once (one thread and one ``Workspace`` object each, as app sessions have). An editor reads
the version, then saves with it; a ``WorkspaceConflictError`` is counted, the editor reads again
and retries (every conflict reported, nothing overwritten). Two ways of stating what was read:

- ``workspace``: ``expected_version=`` (any save by anyone since is a conflict);
- ``feature``: ``feature_version=`` (only a change of that feature since is a conflict).

Side by side in one run: the GeoPackage (file lock, copy-on-write) and PostgreSQL + PostGIS
(row lock on the version, database transaction) on the same workspace of 300 resources. After
each run the history is checked: one row per saved edit and every resource's value is its last
saved one (``lost`` counts the differences: must be 0).

    .venv/bin/python benchmarks/bench_backends.py                 # a throwaway PostgreSQL server
    .venv/bin/python benchmarks/bench_backends.py --url postgresql:///bench?host=/var/run/postgresql
    .venv/bin/python benchmarks/bench_backends.py --editors 20 --shared 5 --edits 5
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from scgeo import Workspace, get_settings, validate
from scgeo._errors import WorkspaceBusyError, WorkspaceConflictError

ROOT = Path(__file__).resolve().parents[1]


def _workspace(target) -> Workspace:
    ws = Workspace.create(target, muni_code="99201", muni_name="さくら市", overwrite=True)
    n = 300
    frame = gpd.GeoDataFrame({"resource_id": [f"R{i:03d}" for i in range(n)], "name": [f"サロン{i}" for i in range(n)],
                              "category": "salon"},
                             geometry=[shapely.Point(140.1 + i / 1e4, 35.1) for i in range(n)], crs=6668)
    ws.import_result("resources", validate(frame, "resources"), user="bench")
    return ws


def _run(target, *, editors: int, shared: int, edits: int, mode: str) -> dict:
    ws = _workspace(target)
    plan = [(f"E{e:02d}", f"R{e:03d}") for e in range(editors)] + [(f"S{s}", "R299") for s in range(shared)]
    barrier = threading.Barrier(len(plan))
    latencies, conflicts, busy, saved = [], {"own": 0, "shared": 0}, [0], []
    lock = threading.Lock()

    def editor(name: str, rid: str) -> None:
        mine = Workspace.open(target)
        barrier.wait()
        for k in range(edits):
            start = time.perf_counter()
            while True:
                seen = mine.version()
                keyword = {"expected_version": seen} if mode == "workspace" else {"feature_version": seen}
                try:
                    mine.update_feature("resources", rid, {"notes": f"{name}-{k}"}, user=name, **keyword)
                    break
                except WorkspaceConflictError:
                    with lock:
                        conflicts["shared" if name.startswith("S") else "own"] += 1
                except WorkspaceBusyError:
                    with lock:
                        busy[0] += 1
            with lock:
                latencies.append(time.perf_counter() - start)
                saved.append((name, rid, k))

    threads = [threading.Thread(target=editor, args=item) for item in plan]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    history = ws.edits()
    updates = history[history["action"] == "update"]
    last = updates.groupby("feature_id")["new_value"].last()
    current = ws.read("resources").set_index("resource_id")["notes"]
    lost = abs(len(updates) - len(saved)) + int((current[last.index] != last).sum())
    total = conflicts["own"] + conflicts["shared"]
    return {"edits": len(saved), "edits_s": len(saved) / wall, "conflicts": total, "own": conflicts["own"],
            "shared": conflicts["shared"], "conflict_rate": total / (len(saved) + total), "busy": busy[0],
            "p50_s": statistics.median(latencies), "p95_s": float(np.percentile(latencies, 95)), "lost": lost}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--editors", type=int, default=20, help="editors on resources of their own")
    parser.add_argument("--shared", type=int, default=5, help="editors on one shared resource")
    parser.add_argument("--edits", type=int, default=5, help="edits per editor")
    parser.add_argument("--url", help="an empty PostgreSQL database with PostGIS (default: a throwaway server)")
    parser.add_argument("--modes", default="feature,workspace")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.url:
            url = args.url
        else:
            sys.path.insert(0, str(ROOT / "tests"))
            import postgres_server

            reason = postgres_server.missing()
            if reason:
                raise SystemExit(f"no PostgreSQL server: {reason}")
            url = stack.enter_context(postgres_server.running_server()).new_database()
        _bench(args, url)


def _bench(args, url: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="scgeo-bench-"))
    print(f"{args.editors} editors on their own resource + {args.shared} on one shared resource, "
          f"{args.edits} edits each; workspace of 300 resources; busy = lock waits over "
          f"{get_settings().lock_timeout_s:g} s (retried)")
    print(f"{'backend':8} {'mode':10} {'edits':>5} {'edits/s':>8} {'conflicts (own/shared)':>22} {'rate':>6} "
          f"{'busy':>4} {'p50 s':>6} {'p95 s':>6} {'lost':>4}")
    for mode in args.modes.split(","):
        for backend, target in (("gpkg", folder / "bench.gpkg"), ("postgis", url)):
            r = _run(target, editors=args.editors, shared=args.shared, edits=args.edits, mode=mode)
            split = f"{r['conflicts']} ({r['own']}/{r['shared']})"
            print(f"{backend:8} {mode:10} {r['edits']:5d} {r['edits_s']:8.1f} {split:>22} "
                  f"{r['conflict_rate']:6.1%} {r['busy']:4d} {r['p50_s']:6.2f} {r['p95_s']:6.2f} {r['lost']:4d}")


if __name__ == "__main__":
    main()
