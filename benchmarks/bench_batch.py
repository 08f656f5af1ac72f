"""Batch speed: generated municipalities on a Dask LocalCluster, 1 worker against 2, side by side.

Run: ``.venv/bin/python benchmarks/bench_batch.py [--towns 30] [--town-nodes 50000] [--region DIR]``

Generates ``--towns`` neighbouring fictional municipalities (``scgeo sample --towns N
--town-nodes M``: the sample town's land and 50,000 people, with streets dense enough for about
``M`` walking-network junctions each — the issue's 50k by default, 3,000 with ``--town-nodes
3000``, the sample town's own streets — and one regional ``region.osm.pbf``), then runs ``scgeo batch``'s pipeline
(workspace from the inputs, network cut from the regional PBF, coverage + blank zones) on a
``distributed.LocalCluster`` of 1 worker and then of 2 workers (each from scratch, in its own
output folder). Prints the wall times, the speed-up, the per-municipality cost (mean and
slowest, with the stages) and the workers' peak memory, and the extrapolation to Japan's 1,741
municipalities at the measured per-municipality cost (municipalities of this size: a real
city's cost grows with its network, see ``bench_scale.py``). The regional PBF of all the
generated towns is cut once for all of them (``region cut once s``, which grows with
``--towns``); each municipality's network stage then reads only its own extract. The figures say
the machine's load (``os.getloadavg``, sampled every 10 s) during each run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

from scgeo.batch import read_manifest, run_batch
from scgeo.sample.region import TOWN_NODES_RANGE, generate_region

JAPAN_MUNICIPALITIES = 1741


class _Load:
    """The machine's 1-minute load average, sampled every 10 s while a run lasts (min–max)."""

    def __init__(self) -> None:
        self.samples = [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(10.0):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> _Load:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])

    def __str__(self) -> str:
        return f"{min(self.samples):.1f}–{max(self.samples):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--towns", type=int, default=30, help="how many municipalities (default 30)")
    parser.add_argument("--town-nodes", type=int, default=50_000,
                        help=f"about how many junctions per municipality ({TOWN_NODES_RANGE[0]:,}–"
                             f"{TOWN_NODES_RANGE[1]:,}; default 50,000)")
    parser.add_argument("--memory-limit", default="3GB", help="per worker (default 3GB)")
    parser.add_argument("--region", help="a folder `scgeo sample --towns N` wrote before: its towns, not new ones")
    args = parser.parse_args()
    load = {}
    with tempfile.TemporaryDirectory(prefix="scgeo-bench-batch-") as scratch:
        root = Path(scratch)
        t = time.perf_counter()
        with _Load() as load["generation"]:
            manifest = read_manifest(args.region or generate_region(root / "region", towns=args.towns,
                                                                    town_nodes=args.town_nodes))
        t_gen = time.perf_counter() - t
        n = len(manifest.municipalities)
        pbf_mb = manifest.region_pbf.stat().st_size / 1e6
        rows = {}
        for workers in (1, 2):
            t = time.perf_counter()
            with _Load() as load[workers]:
                result = run_batch(manifest, out_dir=root / f"out{workers}", workers=workers,
                                   memory_limit=args.memory_limit)
            rows[workers] = (time.perf_counter() - t, result)
            print(f"{workers} worker(s): {rows[workers][0]:.0f} s (load {load[workers]})", flush=True)
    runs = rows[1][1].runs
    print(f"{n} municipalities {'read' if args.region else 'generated'} in {t_gen:.0f} s ({t_gen / n:.0f} s each, "
          f"load {load['generation']}); "
          f"region.osm.pbf {pbf_mb:.1f} MB; {runs['nodes'].mean():,.0f} network junctions "
          f"({runs['nodes'].min():,}–{runs['nodes'].max():,}) and {runs['edges'].mean():,.0f} edges "
          "per municipality on average")
    print("| workers | wall s | speed-up | region cut once s (worker peak RSS MB) | s per municipality "
          "(mean / slowest) | build / network / coverage s (mean) | worker peak RSS MB | load avg (1 min, min–max) |")
    print("|---:|---:|---:|---:|---|---|---:|---|")
    for workers, (wall, result) in rows.items():
        r = result.runs
        print(f"| {workers} | {wall:.0f} | {rows[1][0] / wall:.2f}× | {result.split_s:.1f} "
              f"({result.split_rss_mb:.0f}) | "
              f"{r['seconds'].mean():.1f} / {r['seconds'].max():.1f} "
              f"| {r['build_s'].mean():.1f} / {r['network_s'].mean():.1f} / {r['coverage_s'].mean():.1f} "
              f"| {r['peak_rss_mb'].max():.0f} | {load[workers]} |")
    for workers, (wall, _) in rows.items():
        per = wall / n
        total = per * JAPAN_MUNICIPALITIES
        print(f"extrapolation, {workers} worker(s): {JAPAN_MUNICIPALITIES:,} municipalities × {per:.1f} s "
              f"= {total / 3600:.1f} h on this machine")
    assert rows[1][1].table.equals(rows[2][1].table), "1 and 2 workers must give the same table"


if __name__ == "__main__":
    main()
