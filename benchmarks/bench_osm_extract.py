"""Benchmark of ``scgeo network --pbf``: cutting a regional extract to a town, time and memory.

Run: ``.venv/bin/python benchmarks/bench_osm_extract.py [--side 1000]``. Writes a synthetic
region (a ``side`` × ``side`` street grid, 0.001° apart: ``side``² nodes, 2 × ``side`` ways) as
.osm.pbf with pyosmium and cuts a town of 2 km × 2 km (+ 1 km buffer) out of it, each in its own
process so that peak memory (``ru_maxrss``) is per method, side by side with reading the whole
file with :func:`scgeo.io.osm.read_osm` (the floor that keeps everything).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_region(path: Path, side: int) -> None:
    import osmium

    with osmium.SimpleWriter(str(path)) as writer:
        for j in range(side):
            for i in range(side):
                writer.add_node(osmium.osm.mutable.Node(id=1 + j * side + i,
                                                        location=(140.0 + i * 0.001, 35.0 + j * 0.001)))
        for j in range(side):
            writer.add_way(osmium.osm.mutable.Way(id=1 + j, nodes=[1 + j * side + i for i in range(side)],
                                                  tags={"highway": "residential"}))
        for i in range(side):
            writer.add_way(osmium.osm.mutable.Way(id=1 + side + i, nodes=[1 + j * side + i for j in range(side)],
                                                  tags={"highway": "residential"}))


def run_one(method: str, path: str, side: int) -> dict:
    import shapely

    started = time.perf_counter()
    if method == "extract":
        from scgeo.io.osm_extract import extract_osm

        centre = (140.0 + side * 0.0005, 35.0 + side * 0.0005)
        area = shapely.box(centre[0] - 0.02, centre[1] - 0.02, centre[0] + 0.02, centre[1] + 0.02)
        data = extract_osm(path, area)
    else:
        from scgeo.io.osm import read_osm

        data = read_osm(path)
    seconds = time.perf_counter() - started
    return {"method": method, "seconds": round(seconds, 2), "edges": len(data.edges),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=1000)
    parser.add_argument("--one", nargs=2, metavar=("METHOD", "PATH"))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], args.one[1], args.side)))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "region.osm.pbf"
        write_region(path, args.side)
        print(f"region: {args.side ** 2:,} nodes, {2 * args.side:,} ways, {path.stat().st_size / 1e3:,.0f} kB")
        for method in ("extract", "read_osm"):
            out = subprocess.run([sys.executable, __file__, "--side", str(args.side), "--one", method, str(path)],
                                 capture_output=True, text=True, check=True, cwd=ROOT).stdout
            print(json.loads(out.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
